// Job detection, the bootstrap rendezvous (forked ranks, hostile connections, missing and dead
// ranks) and `atoll launch`.
//
// Run with --launch-child, this binary is a rank under `atoll launch` (see main()).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "atoll/common/error.hpp"
#include "atoll/transport/bootstrap.hpp"
#include "atoll/transport/job.hpp"

namespace atl {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- environment -------------------------------------------------------------------------

/// Every variable detect_job reads; cleared for a test and restored afterwards.
const char* const kJobVars[] = {
    "ATOLL_RANK",
    "ATOLL_SIZE",
    "ATOLL_COORDINATOR",
    "ATOLL_JOB_TOKEN",
    "ATOLL_COORDINATOR_FD",
    "OMPI_COMM_WORLD_RANK",
    "OMPI_COMM_WORLD_SIZE",
    "OMPI_MCA_orte_ess_jobid",
    "OMPI_MCA_ess_base_jobid",
    "PMIX_NAMESPACE",
    "SLURM_PROCID",
    "SLURM_NTASKS",
    "SLURM_JOB_ID",
    "SLURM_JOBID",
    "SLURM_STEP_ID",
    "SLURM_STEPID",
    "PMI_RANK",
    "PMI_SIZE",
    "PMI_KVSNAME",
    "PMI_PORT",
};

class CleanEnv {
 public:
  CleanEnv() {
    for (const char* name : kJobVars) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      ::unsetenv(name);
    }
  }
  ~CleanEnv() {
    for (const char* name : kJobVars) ::unsetenv(name);
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  CleanEnv(const CleanEnv&) = delete;
  CleanEnv& operator=(const CleanEnv&) = delete;
  void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

 private:
  std::map<std::string, std::string> saved_;
};

/// Runs detect_job and expects a usage Error whose message contains every part.
void expect_usage_error(const JobOverrides& o, const std::vector<std::string>& parts) {
  try {
    JobInfo job = detect_job(o);
    ADD_FAILURE() << "no error; got rank " << job.rank << " of " << job.size;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "'" << p << "' not in: " << e.what();
    }
  }
}

int coordinator_port(const JobInfo& job) {
  return std::stoi(job.coordinator.substr(job.coordinator.rfind(':') + 1));
}

// ---- sockets and processes --------------------------------------------------------------

/// A listening socket on 127.0.0.1 and a kernel-chosen port.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 128) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::abort();
    }
    port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
};

/// A port nobody listens on right now.
int free_port() {
  Listener l;
  return l.port;
}

/// A raw client connection to 127.0.0.1:port.
struct RawClient {
  int fd = -1;
  explicit RawClient(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  }
  ~RawClient() { ::close(fd); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  void send(const std::string& bytes) const {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  /// True once the peer closed (read returns 0 or a reset) within the limit.
  bool closed_by_peer(std::chrono::milliseconds limit) const {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(limit.count())) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
  }
};

std::string be32(std::uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
  return s;
}

/// A bootstrap hello as a rank sends it (see bootstrap.cpp).
std::string hello(std::uint32_t rank, std::uint32_t size, const std::string& token,
                  std::uint32_t version = 1) {
  std::string s = "ATLBOOT1" + be32(version) + be32(rank) + be32(size);
  s += static_cast<char>(token.size() >> 8);
  s += static_cast<char>(token.size() & 0xff);
  return s + token;
}

struct ChildResult {
  int code = -1;    ///< exit code, 128+S for signal S, -1 if it had to be killed
  std::string err;  ///< its stderr
};

/// Forks one process per body (each with its stderr captured) and waits for all, killing them
/// after limit. A body that throws makes its process print the error and exit 1.
std::vector<ChildResult> run_processes(const std::vector<std::function<void()>>& bodies,
                                       std::chrono::seconds limit = 60s) {
  std::fflush(nullptr);
  std::vector<pid_t> pids;
  std::vector<int> pipes;
  for (const auto& body : bodies) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) std::abort();
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(p[1], STDERR_FILENO);
      int code = 0;
      try {
        body();
      } catch (const std::exception& e) {
        std::string msg = std::string("ERROR: ") + e.what() + "\n";
        [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg.data(), msg.size());
        code = 1;
      }
      ::_exit(code);
    }
    ::close(p[1]);
    pids.push_back(pid);
    pipes.push_back(p[0]);
  }
  std::vector<ChildResult> results(bodies.size());
  auto deadline = Clock::now() + limit;
  std::vector<bool> open(pipes.size(), true);
  for (;;) {
    std::vector<pollfd> pfds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < pipes.size(); ++i) {
      if (open[i]) {
        pfds.push_back({pipes[i], POLLIN, 0});
        which.push_back(i);
      }
    }
    if (pfds.empty() || Clock::now() >= deadline) break;
    ::poll(pfds.data(), pfds.size(), 200);
    for (std::size_t k = 0; k < pfds.size(); ++k) {
      if (pfds[k].revents == 0) continue;
      char buf[4096];
      ssize_t n = ::read(pipes[which[k]], buf, sizeof buf);
      if (n > 0) {
        results[which[k]].err.append(buf, static_cast<std::size_t>(n));
      } else {
        open[which[k]] = false;
      }
    }
  }
  bool timed_out = Clock::now() >= deadline;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    if (timed_out) ::kill(pids[i], SIGKILL);
    int status = 0;
    ::waitpid(pids[i], &status, 0);
    ::close(pipes[i]);
    if (timed_out) continue;
    results[i].code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
  return results;
}

JobInfo make_job(int rank, int size, int port, int listen_fd = -1) {
  JobInfo job;
  job.rank = rank;
  job.size = size;
  job.coordinator = "127.0.0.1:" + std::to_string(port);
  job.token = "0123456789abcdef-test-token";
  job.listen_fd = rank == 0 ? listen_fd : -1;
  job.launcher = "manual";
  return job;
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

/// 1 MiB that differs per rank.
std::string big_blob(int rank) {
  std::string s(std::size_t{1} << 20, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 131 + rank * 7) & 0xff);
  return s;
}

/// One rank of the full exercise: three allgathers (small, 1 MiB, varying incl. empty) and a
/// barrier, each result checked.
void exercise_rank(const JobInfo& job) {
  Bootstrap b(job, 20s);
  check(b.rank() == job.rank && b.size() == job.size, "rank/size");
  // The coordinator is on loopback, so that is where this host is reached.
  check(b.local_address() == "127.0.0.1", "local address " + b.local_address());
  auto small = b.allgather("rank-" + std::to_string(job.rank));
  check(small.size() == static_cast<std::size_t>(job.size), "small count");
  for (int r = 0; r < job.size; ++r) {
    check(small[static_cast<std::size_t>(r)] == "rank-" + std::to_string(r), "small blob");
  }
  auto big = b.allgather(big_blob(job.rank));
  for (int r = 0; r < job.size; ++r) {
    check(big[static_cast<std::size_t>(r)] == big_blob(r),
          "1 MiB blob of rank " + std::to_string(r));
  }
  auto varied = b.allgather(std::string(static_cast<std::size_t>(job.rank) * 1000, 'x'));
  for (int r = 0; r < job.size; ++r) {
    check(varied[static_cast<std::size_t>(r)].size() == static_cast<std::size_t>(r) * 1000,
          "varied blob");
  }
  b.barrier();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- detect_job -------------------------------------------------------------------------

TEST(DetectJob, SingleRankWithoutLauncher) {
  CleanEnv env;
  JobInfo job = detect_job({});
  EXPECT_EQ(job.rank, 0);
  EXPECT_EQ(job.size, 1);
  EXPECT_EQ(job.launcher, "single");
  EXPECT_EQ(job.listen_fd, -1);
}

TEST(DetectJob, AtollLaunch) {
  CleanEnv env;
  env.set("ATOLL_RANK", "2");
  env.set("ATOLL_SIZE", "3");
  env.set("ATOLL_COORDINATOR", "127.0.0.1:4567");
  env.set("ATOLL_JOB_TOKEN", "tok");
  env.set("ATOLL_COORDINATOR_FD", "7");  // ignored: only rank 0 listens
  env.set("OMPI_COMM_WORLD_RANK", "0");  // ATOLL_* wins
  env.set("OMPI_COMM_WORLD_SIZE", "5");
  JobInfo job = detect_job({});
  EXPECT_EQ(job.rank, 2);
  EXPECT_EQ(job.size, 3);
  EXPECT_EQ(job.coordinator, "127.0.0.1:4567");
  EXPECT_EQ(job.token, "tok");
  EXPECT_EQ(job.listen_fd, -1);
  EXPECT_EQ(job.launcher, "atoll-launch");
}

TEST(DetectJob, AtollLaunchRankZeroInheritsListeningSocket) {
  CleanEnv env;
  Listener l;
  env.set("ATOLL_RANK", "0");
  env.set("ATOLL_SIZE", "2");
  env.set("ATOLL_COORDINATOR", "127.0.0.1:" + std::to_string(l.port));
  env.set("ATOLL_JOB_TOKEN", "tok");
  env.set("ATOLL_COORDINATOR_FD", std::to_string(l.fd));
  EXPECT_EQ(detect_job({}).listen_fd, l.fd);

  // Not a listening socket (a pipe; a closed descriptor): rank 0 binds the port instead.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  env.set("ATOLL_COORDINATOR_FD", std::to_string(p[0]));
  EXPECT_EQ(detect_job({}).listen_fd, -1);
  ::close(p[0]);
  ::close(p[1]);
  EXPECT_EQ(detect_job({}).listen_fd, -1);

  env.set("ATOLL_COORDINATOR_FD", "x3");
  expect_usage_error({}, {"ATOLL_COORDINATOR_FD", "x3"});
}

TEST(DetectJob, AtollLaunchNeedsCoordinatorAndToken) {
  CleanEnv env;
  env.set("ATOLL_RANK", "1");
  env.set("ATOLL_SIZE", "2");
  env.set("ATOLL_JOB_TOKEN", "tok");
  expect_usage_error({}, {"coordinator"});
  env.set("ATOLL_COORDINATOR", "localhost:5000");
  ::unsetenv("ATOLL_JOB_TOKEN");
  expect_usage_error({}, {"token"});
}

TEST(DetectJob, MpirunDerivesTheSameRendezvousOnEveryRank) {
  CleanEnv env;
  env.set("OMPI_COMM_WORLD_SIZE", "4");
  env.set("OMPI_MCA_ess_base_jobid", "1977810945");
  std::vector<JobInfo> jobs;
  for (int r = 0; r < 4; ++r) {
    env.set("OMPI_COMM_WORLD_RANK", std::to_string(r));
    jobs.push_back(detect_job({}));
    EXPECT_EQ(jobs.back().rank, r);
    EXPECT_EQ(jobs.back().size, 4);
    EXPECT_EQ(jobs.back().launcher, "mpirun");
  }
  for (const JobInfo& j : jobs) {
    EXPECT_EQ(j.coordinator, jobs[0].coordinator);
    EXPECT_EQ(j.token, jobs[0].token);
  }
  EXPECT_EQ(jobs[0].coordinator.rfind("127.0.0.1:", 0), 0u) << jobs[0].coordinator;
  int port = coordinator_port(jobs[0]);
  EXPECT_GE(port, 10000);  // below the ephemeral range
  EXPECT_LE(port, 31999);
  EXPECT_GE(jobs[0].token.size(), 16u);

  // Another job run: another rendezvous.
  env.set("OMPI_MCA_ess_base_jobid", "1977810946");
  EXPECT_NE(detect_job({}).token, jobs[0].token);

  // Older Open MPI and PMIx name the job differently; each alone is enough.
  ::unsetenv("OMPI_MCA_ess_base_jobid");
  env.set("OMPI_MCA_orte_ess_jobid", "42");
  EXPECT_FALSE(detect_job({}).token.empty());
  ::unsetenv("OMPI_MCA_orte_ess_jobid");
  env.set("PMIX_NAMESPACE", "prterun-host-1234@1");
  EXPECT_FALSE(detect_job({}).token.empty());

  // Explicit values win over derived ones.
  JobOverrides o;
  o.coordinator = "node1:7000";
  o.token = "mine";
  JobInfo j = detect_job(o);
  EXPECT_EQ(j.coordinator, "node1:7000");
  EXPECT_EQ(j.token, "mine");
  EXPECT_EQ(j.launcher, "mpirun");

  // So do exported ATOLL_COORDINATOR / ATOLL_JOB_TOKEN (multi-host mpirun).
  env.set("ATOLL_COORDINATOR", "head:7001");
  env.set("ATOLL_JOB_TOKEN", "exported");
  j = detect_job({});
  EXPECT_EQ(j.coordinator, "head:7001");
  EXPECT_EQ(j.token, "exported");
}

TEST(DetectJob, MpirunWithoutJobIdNeedsCoordinator) {
  CleanEnv env;
  env.set("OMPI_COMM_WORLD_RANK", "1");
  env.set("OMPI_COMM_WORLD_SIZE", "2");
  expect_usage_error({}, {"mpirun", "--coordinator"});
  // One rank needs no rendezvous.
  env.set("OMPI_COMM_WORLD_RANK", "0");
  env.set("OMPI_COMM_WORLD_SIZE", "1");
  EXPECT_EQ(detect_job({}).size, 1);
}

TEST(DetectJob, Srun) {
  CleanEnv env;
  env.set("SLURM_PROCID", "3");
  env.set("SLURM_NTASKS", "8");
  env.set("SLURM_JOB_ID", "777");
  env.set("SLURM_STEPID", "0");
  JobInfo a = detect_job({});
  EXPECT_EQ(a.rank, 3);
  EXPECT_EQ(a.size, 8);
  EXPECT_EQ(a.launcher, "srun");
  EXPECT_FALSE(a.coordinator.empty());
  EXPECT_FALSE(a.token.empty());
  env.set("SLURM_STEPID", "1");  // the next step of the same allocation is another job
  EXPECT_NE(detect_job({}).token, a.token);
  ::unsetenv("SLURM_JOB_ID");
  expect_usage_error({}, {"srun", "--coordinator"});
}

TEST(DetectJob, Pmi) {
  CleanEnv env;
  env.set("PMI_RANK", "1");
  env.set("PMI_SIZE", "2");
  expect_usage_error({}, {"pmi", "--coordinator"});
  env.set("PMIX_NAMESPACE", "ns-5");
  JobInfo j = detect_job({});
  EXPECT_EQ(j.rank, 1);
  EXPECT_EQ(j.size, 2);
  EXPECT_EQ(j.launcher, "pmi");
  EXPECT_FALSE(j.token.empty());
  // SLURM_* wins over PMI_* (srun may set both).
  env.set("SLURM_PROCID", "0");
  env.set("SLURM_NTASKS", "2");
  env.set("SLURM_JOB_ID", "5");
  EXPECT_EQ(detect_job({}).launcher, "srun");
}

TEST(DetectJob, Manual) {
  CleanEnv env;
  env.set("ATOLL_RANK", "0");  // flags win over the environment
  env.set("ATOLL_SIZE", "9");
  JobOverrides o;
  o.rank = 1;
  o.size = 4;
  o.coordinator = "[::1]:5000";
  o.token = "t";
  JobInfo j = detect_job(o);
  EXPECT_EQ(j.rank, 1);
  EXPECT_EQ(j.size, 4);
  EXPECT_EQ(j.coordinator, "[::1]:5000");
  EXPECT_EQ(j.token, "t");
  EXPECT_EQ(j.launcher, "manual");

  JobOverrides one;
  one.rank = 0;
  one.size = 1;
  EXPECT_EQ(detect_job(one).size, 1);
}

TEST(DetectJob, ValidationErrors) {
  CleanEnv env;
  // Garbage, signs, spaces, overflow: the message names the variable and the value.
  for (const char* bad : {"1x", "+1", " 1", "-1", "0x1", "1.0", "99999999999"}) {
    env.set("OMPI_COMM_WORLD_RANK", bad);
    env.set("OMPI_COMM_WORLD_SIZE", "2");
    env.set("OMPI_MCA_ess_base_jobid", "1");
    expect_usage_error({}, {"OMPI_COMM_WORLD_RANK", bad});
  }
  env.set("OMPI_COMM_WORLD_RANK", "2");
  expect_usage_error({}, {"OMPI_COMM_WORLD_RANK=2", "0..1"});
  env.set("OMPI_COMM_WORLD_RANK", "0");
  env.set("OMPI_COMM_WORLD_SIZE", "0");
  expect_usage_error({}, {"OMPI_COMM_WORLD_SIZE=0"});
  env.set("OMPI_COMM_WORLD_SIZE", "abc");
  expect_usage_error({}, {"OMPI_COMM_WORLD_SIZE", "abc"});
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  expect_usage_error({}, {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"});
  ::unsetenv("OMPI_COMM_WORLD_RANK");

  env.set("SLURM_PROCID", "4");
  env.set("SLURM_NTASKS", "4");
  env.set("SLURM_JOB_ID", "1");
  expect_usage_error({}, {"SLURM_PROCID=4"});
  ::unsetenv("SLURM_PROCID");
  ::unsetenv("SLURM_NTASKS");

  env.set("PMI_RANK", "-3");
  env.set("PMI_SIZE", "4");
  expect_usage_error({}, {"PMI_RANK", "-3"});
  ::unsetenv("PMI_RANK");
  ::unsetenv("PMI_SIZE");

  env.set("ATOLL_RANK", "0");
  env.set("ATOLL_SIZE", "2");
  env.set("ATOLL_JOB_TOKEN", "t");
  for (const char* bad :
       {"nohost", "h:0", "h:65536", "h:abc", ":80", "bad host:80", "h:80x", "h:-1", "[zz]:80"}) {
    env.set("ATOLL_COORDINATOR", bad);
    expect_usage_error({}, {"ATOLL_COORDINATOR", bad});
  }
  env.set("ATOLL_COORDINATOR", "h:65535");
  EXPECT_EQ(detect_job({}).coordinator, "h:65535");
  env.set("ATOLL_JOB_TOKEN", std::string(2000, 't'));
  expect_usage_error({}, {"ATOLL_JOB_TOKEN", "2000"});
  ::unsetenv("ATOLL_JOB_TOKEN");

  // Flags.
  JobOverrides o;
  o.rank = -1;
  o.size = 2;
  expect_usage_error(o, {"--rank", "-1"});
  o.rank = 2;
  expect_usage_error(o, {"--rank=2", "0..1"});
  o.rank = 0;
  o.size = 0;
  expect_usage_error(o, {"--size", "0"});
  JobOverrides only_rank;
  only_rank.rank = 1;
  expect_usage_error(only_rank, {"--rank", "--size"});
  JobOverrides no_coordinator;
  no_coordinator.rank = 1;
  no_coordinator.size = 2;
  ::unsetenv("ATOLL_COORDINATOR");
  no_coordinator.token = "t";
  expect_usage_error(no_coordinator, {"--coordinator"});
  no_coordinator.coordinator = "host:99999";
  expect_usage_error(no_coordinator, {"--coordinator", "host:99999"});
  no_coordinator.coordinator = "host:9999";
  no_coordinator.token.reset();
  expect_usage_error(no_coordinator, {"token"});
}

// ---- bootstrap --------------------------------------------------------------------------

TEST(Bootstrap, SingleRankUsesNoSockets) {
  JobInfo job;  // rank 0 of 1, no coordinator
  Bootstrap b(job, 1s);
  EXPECT_EQ(b.local_address(), "127.0.0.1");
  EXPECT_EQ(b.allgather("x"), std::vector<std::string>{"x"});
  b.barrier();
  EXPECT_THROW(b.allgather(std::string((16u << 20) + 1, 'x')), Error);
}

class BootstrapRanks : public ::testing::TestWithParam<int> {};

TEST_P(BootstrapRanks, AllgatherAndBarrierWithInheritedListener) {
  int n = GetParam();
  Listener l;
  std::vector<std::function<void()>> ranks;
  for (int r = 0; r < n; ++r) {
    ranks.push_back([&, r] { exercise_rank(make_job(r, n, l.port, l.fd)); });
  }
  auto results = run_processes(ranks);
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(results[static_cast<std::size_t>(r)].code, 0)
        << "rank " << r << ": " << results[static_cast<std::size_t>(r)].err;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, BootstrapRanks, ::testing::Values(2, 3, 4));

TEST(Bootstrap, RankZeroBindsThePortAndLateStartIsRetried) {
  int port = free_port();
  std::vector<std::function<void()>> ranks;
  ranks.push_back([port] {
    std::this_thread::sleep_for(500ms);  // the others must retry until rank 0 listens
    exercise_rank(make_job(0, 3, port));
  });
  for (int r = 1; r < 3; ++r) ranks.push_back([port, r] { exercise_rank(make_job(r, 3, port)); });
  auto results = run_processes(ranks);
  for (const ChildResult& c : results) EXPECT_EQ(c.code, 0) << c.err;
}

TEST(Bootstrap, HostileConnectionsAreDroppedAndTheJobCompletes) {
  Listener l;
  JobInfo any = make_job(0, 3, l.port, l.fd);
  // Queued before any rank starts, so rank 0 sees them first.
  RawClient wrong_token(l.port);
  wrong_token.send(hello(1, 3, "not-the-token"));
  RawClient garbage(l.port);
  garbage.send("GET / HTTP/1.0\r\n\r\n");
  RawClient wrong_size(l.port);
  wrong_size.send(hello(1, 5, any.token));
  RawClient bad_rank(l.port);
  bad_rank.send(hello(0, 3, any.token));
  RawClient huge_token(l.port);
  huge_token.send(hello(2, 3, std::string(60000, 'a')).substr(0, 22));
  RawClient old_version(l.port);
  old_version.send(hello(1, 3, any.token, 7));
  RawClient idle(l.port);  // says nothing at all
  RawClient half(l.port);  // a partial hello, then gone
  half.send(hello(1, 3, any.token).substr(0, 10));
  ::shutdown(half.fd, SHUT_RDWR);

  std::vector<std::function<void()>> ranks;
  for (int r = 0; r < 3; ++r) {
    ranks.push_back([&, r] { exercise_rank(make_job(r, 3, l.port, l.fd)); });
  }
  auto results = run_processes(ranks);
  for (const ChildResult& c : results) EXPECT_EQ(c.code, 0) << c.err;
  const std::string& log = results[0].err;
  EXPECT_TRUE(contains(log, "bootstrap: dropped a connection from 127.0.0.1:")) << log;
  for (const char* reason :
       {"wrong job token", "not an Atoll bootstrap hello", "5 ranks", "rank 0 is not 1..2",
        "a token of 60000 bytes", "protocol version 7", "closed after 10 bytes"}) {
    EXPECT_TRUE(contains(log, reason)) << "'" << reason << "' not in:\n" << log;
  }
  EXPECT_TRUE(wrong_token.closed_by_peer(5s));
  EXPECT_TRUE(garbage.closed_by_peer(5s));
}

TEST(Bootstrap, MissingRankTimesOutNamingIt) {
  Listener l;
  std::vector<std::function<void()>> ranks;
  for (int r = 0; r < 2; ++r) {  // rank 2 of 3 never starts
    ranks.push_back([&, r] { Bootstrap b(make_job(r, 3, l.port, l.fd), 2s); });
  }
  auto start = Clock::now();
  auto results = run_processes(ranks);
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(results[0].code, 1);
  EXPECT_TRUE(
      contains(results[0].err, "bootstrap: only 2 of 3 ranks joined within 2 s (missing ranks: 2)"))
      << results[0].err;
  EXPECT_EQ(results[1].code, 1);
  EXPECT_TRUE(contains(results[1].err, "ranks joined within 2 s")) << results[1].err;
}

TEST(Bootstrap, NonZeroRankWithoutCoordinatorTimesOut) {
  int port = free_port();
  auto start = Clock::now();
  auto results = run_processes({[port] { Bootstrap b(make_job(1, 2, port), 1s); }});
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(results[0].code, 1);
  EXPECT_TRUE(contains(results[0].err, "could not reach rank 0")) << results[0].err;
}

TEST(Bootstrap, WrongTokenRankFailsAtOnce) {
  Listener l;
  std::vector<std::function<void()>> ranks;
  ranks.push_back([&] { Bootstrap b(make_job(0, 2, l.port, l.fd), 3s); });
  ranks.push_back([&] {
    JobInfo job = make_job(1, 2, l.port);
    job.token = "forged";
    Bootstrap b(job, 10s);
  });
  auto results = run_processes(ranks);
  EXPECT_EQ(results[0].code, 1);
  EXPECT_TRUE(contains(results[0].err, "wrong job token")) << results[0].err;
  EXPECT_EQ(results[1].code, 1);
  EXPECT_TRUE(contains(results[1].err, "closed the connection")) << results[1].err;
}

TEST(Bootstrap, DeadRankFailsTheCollectiveInsteadOfHanging) {
  Listener l;
  std::vector<std::function<void()>> ranks;
  for (int r = 0; r < 3; ++r) {
    ranks.push_back([&, r] {
      Bootstrap b(make_job(r, 3, l.port, l.fd), 20s);
      if (r == 2) return;  // leaves without taking part
      b.barrier();
    });
  }
  auto start = Clock::now();
  auto results = run_processes(ranks);
  EXPECT_LT(Clock::now() - start, 15s);
  EXPECT_EQ(results[2].code, 0);
  EXPECT_EQ(results[0].code, 1);
  EXPECT_TRUE(contains(results[0].err, "bootstrap: rank 2 closed its connection"))
      << results[0].err;
  EXPECT_EQ(results[1].code, 1);
  EXPECT_TRUE(contains(results[1].err, "bootstrap: rank 0 closed its connection"))
      << results[1].err;
}

TEST(Bootstrap, OversizedBlobFromAPeerIsRejected) {
  Listener l;
  std::vector<std::function<void()>> ranks;
  ranks.push_back([&] {
    Bootstrap b(make_job(0, 2, l.port, l.fd), 10s);
    b.barrier();
  });
  ranks.push_back([&] {
    // A rank that speaks the hello correctly, then announces a 1 GiB blob.
    RawClient c(l.port);
    c.send(hello(1, 2, make_job(1, 2, l.port).token));
    char ack[18];
    check(::recv(c.fd, ack, sizeof ack, MSG_WAITALL) == sizeof ack, "ack");
    c.send(be32(1) + be32(1u << 30));
    check(c.closed_by_peer(10s), "rank 0 should close");
  });
  auto results = run_processes(ranks);
  EXPECT_EQ(results[0].code, 1);
  EXPECT_TRUE(contains(results[0].err, "rank 1 sent a blob of 1073741824 bytes")) << results[0].err;
  EXPECT_EQ(results[1].code, 0) << results[1].err;
}

// ---- atoll launch -----------------------------------------------------------------------

struct Command {
  int code = -1;
  std::string out, err;
  Clock::duration elapsed{};
};

/// Runs argv with stdout/stderr captured; kill_after: send SIGTERM to it after that long.
Command run_command(const std::vector<std::string>& args,
                    std::optional<std::chrono::milliseconds> term_after = std::nullopt) {
  std::fflush(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) std::abort();
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(126);
  }
  ::close(out[1]);
  ::close(err[1]);
  Command c;
  pollfd pfds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&c.out, &c.err};
  int open = 2;
  bool termed = false;
  auto deadline = start + 60s;
  while (open > 0 && Clock::now() < deadline) {
    ::poll(pfds, 2, 100);
    if (term_after && !termed && Clock::now() - start >= *term_after) {
      ::kill(pid, SIGTERM);
      termed = true;
    }
    for (int i = 0; i < 2; ++i) {
      if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = ::read(pfds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else {
        ::close(pfds[i].fd);
        pfds[i].fd = -1;
        --open;
      }
    }
  }
  if (open > 0) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  c.elapsed = Clock::now() - start;
  c.code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  for (auto& p : pfds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  return c;
}

std::vector<std::string> launch(std::vector<std::string> tail) {
  std::vector<std::string> args = {ATOLL_BINARY, "launch"};
  args.insert(args.end(), tail.begin(), tail.end());
  return args;
}

TEST(Launch, PrefixesEveryRanksOutput) {
  Command c = run_command(launch({"-n", "3", "--", "sh", "-c", "echo hello $ATOLL_RANK"}));
  EXPECT_EQ(c.code, 0) << c.err;
  for (int r = 0; r < 3; ++r) {
    std::string line = "[" + std::to_string(r) + "] hello " + std::to_string(r) + "\n";
    EXPECT_TRUE(contains(c.out, line)) << c.out;
  }
}

TEST(Launch, ForwardsStderrAndPartialLines) {
  Command c =
      run_command(launch({"-n", "2", "--", "sh", "-c",
                          "echo oops $ATOLL_RANK >&2; printf 'no newline %s' $ATOLL_RANK"}));
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_TRUE(contains(c.err, "[0] oops 0\n")) << c.err;
  EXPECT_TRUE(contains(c.err, "[1] oops 1\n")) << c.err;
  EXPECT_TRUE(contains(c.out, "[1] no newline 1\n")) << c.out;
  EXPECT_FALSE(contains(c.out, "oops"));
}

TEST(Launch, GivesEachRankItsJob) {
  Command c = run_command(
      launch({"-n", "2", "--", "sh", "-c",
              "echo size=$ATOLL_SIZE coord=$ATOLL_COORDINATOR token=${#ATOLL_JOB_TOKEN} "
              "fd=${ATOLL_COORDINATOR_FD:-none}"}));
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_TRUE(contains(c.out, "[0] size=2 coord=127.0.0.1:")) << c.out;
  EXPECT_TRUE(contains(c.out, "token=32 fd=")) << c.out;
  EXPECT_TRUE(contains(c.out, "[1] size=2")) << c.out;
  EXPECT_TRUE(contains(c.out, "token=32 fd=none")) << c.out;
  EXPECT_FALSE(contains(c.out, "[0] size=2 coord=127.0.0.1:0 ")) << c.out;
}

TEST(Launch, RanksBootstrapThroughTheInheritedSocket) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  ASSERT_GT(n, 0);
  self[n] = '\0';
  Command c = run_command(launch({"-n", "4", "--", self, "--launch-child"}));
  EXPECT_EQ(c.code, 0) << c.out << c.err;
  for (int r = 0; r < 4; ++r) {
    EXPECT_TRUE(contains(c.out, "[" + std::to_string(r) + "] rank " + std::to_string(r) +
                                    " of 4 (atoll-launch): r0,r1,r2,r3"))
        << c.out << c.err;
  }
  EXPECT_TRUE(contains(c.out, "[0] rank 0 of 4 (atoll-launch): r0,r1,r2,r3 inherited")) << c.out;
}

TEST(Launch, FailingRankStopsTheOthers) {
  Command c = run_command(launch({"-n", "3", "--failure-notice", "0.5", "--", "sh", "-c",
                                  "if [ $ATOLL_RANK = 1 ]; then exit 3; fi; sleep 30"}));
  EXPECT_EQ(c.code, 3) << c.err;
  EXPECT_LT(c.elapsed, 10s);
  EXPECT_TRUE(contains(c.err, "atoll launch: rank 1 exited with code 3")) << c.err;
}

TEST(Launch, RankThatIgnoresSigtermIsKilledAfterTheGrace) {
  Command c = run_command(
      launch({"-n", "2", "--failure-notice", "0", "--timeout-grace", "0.5", "--", "sh", "-c",
              "if [ $ATOLL_RANK = 0 ]; then sleep 1; kill -9 $$; fi; "
              "trap '' TERM; sleep 30"}));
  EXPECT_EQ(c.code, 137) << c.err;
  EXPECT_LT(c.elapsed, 10s);
  EXPECT_TRUE(contains(c.err, "atoll launch: rank 0 killed by signal 9")) << c.err;
}

TEST(Launch, OthersThatStopOnTheirOwnDuringTheNoticeCount) {
  Command c = run_command(launch({"-n", "3", "--failure-notice", "5", "--", "sh", "-c",
                                  "if [ $ATOLL_RANK = 1 ]; then exit 3; fi; sleep 0.3; exit 4"}));
  EXPECT_EQ(c.code, 4) << c.err;
  EXPECT_LT(c.elapsed, 4s);
  EXPECT_TRUE(contains(c.err, "atoll launch: rank 0 exited with code 4")) << c.err;
  EXPECT_FALSE(contains(c.err, "stopping the other ranks")) << c.err;
}

TEST(Launch, ForwardsSigterm) {
  Command c = run_command(launch({"-n", "2", "--", "sleep", "30"}), 500ms);
  EXPECT_EQ(c.code, 128 + SIGTERM) << c.err;
  EXPECT_LT(c.elapsed, 10s);
}

TEST(Launch, ExecFailureExits127) {
  Command c = run_command(launch({"-n", "1", "--", "/nonexistent/program"}));
  EXPECT_EQ(c.code, 127);
  EXPECT_TRUE(contains(c.err, "[0] atoll launch: rank 0: cannot run '/nonexistent/program'"))
      << c.err;
}

TEST(Launch, UsageErrors) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"-n", "0", "--", "true"},
                                             {"-n", "1025", "--", "true"},
                                             {"-n", "x", "--", "true"},
                                             {"-n", "2"},
                                             {"--", "true"},
                                             {"-n", "2", "--timeout-grace", "-1", "--", "true"}}) {
    Command c = run_command(launch(args));
    EXPECT_EQ(c.code, 2) << c.err;
  }
}

}  // namespace
}  // namespace atl

/// `atoll launch -n N -- bootstrap_test --launch-child`: one rank of a real launched job.
int launch_child() {
  try {
    atl::JobInfo job = atl::detect_job({});
    bool inherited = job.listen_fd >= 0;
    atl::Bootstrap b(job, std::chrono::seconds(30));
    auto all = b.allgather("r" + std::to_string(job.rank));
    std::string joined;
    for (const std::string& s : all) joined += (joined.empty() ? "" : ",") + s;
    b.barrier();
    std::cout << "rank " << job.rank << " of " << job.size << " (" << job.launcher
              << "): " << joined << (inherited ? " inherited" : "") << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "launch child: " << e.what() << std::endl;
    return 1;
  }
}

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--launch-child") return launch_child();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
