// detect_job: who this process is (rank, size) and where its job meets (coordinator, token).
#include "atoll/transport/job.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"

namespace atl {
namespace {

/// Largest job detect_job accepts (bootstrap keeps one connection per rank on rank 0).
constexpr int kMaxJobSize = 65536;
/// Derived coordinator ports lie in [kDerivedPortBase, kDerivedPortBase + kDerivedPortSpan):
/// below Linux's default ephemeral range (32768-60999), where an outgoing connection of any
/// process may hold the port (seen: "Address already in use" under mpirun in CI).
constexpr std::uint32_t kDerivedPortBase = 10000;
constexpr std::uint32_t kDerivedPortSpan = 22000;
constexpr std::size_t kMaxTokenBytes = 1024;

/// A value and where it came from ("ATOLL_RANK", "--rank"), for error messages.
struct Sourced {
  std::string value;
  std::string source;
};

/// The variable's value; unset and empty are the same (an empty value is how shells clear).
std::optional<Sourced> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return Sourced{v, name};
}

/// Strict decimal: digits only (no sign, spaces or suffix), fits in int.
int parse_count(const Sourced& s) {
  int value = 0;
  const char* begin = s.value.data();
  const char* end = begin + s.value.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  bool digits_only =
      !s.value.empty() && s.value.find_first_not_of("0123456789") == std::string::npos;
  if (!digits_only || ec != std::errc() || ptr != end) {
    usage_fail(s.source, "=", quote_excerpt(s.value), " is not a non-negative integer");
  }
  return value;
}

void check_rank_size(int rank, const std::string& rank_src, int size, const std::string& size_src) {
  if (size < 1 || size > kMaxJobSize) {
    usage_fail(size_src, "=", size, ": the job size must be 1..", kMaxJobSize);
  }
  if (rank < 0 || rank >= size) {
    usage_fail(rank_src, "=", rank, " is not a rank of a job of ", size, " (", size_src, "=", size,
               "; ranks are 0..", size - 1, ")");
  }
}

/// Checks HOST:PORT (HOST may be [IPv6]); port 1..65535.
void check_coordinator(const Sourced& s) {
  auto bad = [&](const char* why) {
    usage_fail(s.source, "=", quote_excerpt(s.value), ": expected HOST:PORT (", why, ")");
  };
  std::size_t colon = s.value.rfind(':');
  if (colon == std::string::npos) bad("no ':PORT'");
  std::string_view host = std::string_view(s.value).substr(0, colon);
  std::string_view port = std::string_view(s.value).substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find_first_not_of("0123456789abcdefABCDEF:.%") != std::string_view::npos) {
      bad("bad IPv6 address");
    }
  } else if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-_") != std::string_view::npos) {
    bad("bad host name; write IPv6 addresses as [ADDR]:PORT");
  }
  if (host.empty()) bad("empty host");
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos ||
      ec != std::errc() || ptr != port.data() + port.size() || value < 1 || value > 65535) {
    bad("port must be 1..65535");
  }
}

void check_token(const Sourced& s) {
  if (s.value.size() > kMaxTokenBytes) {
    usage_fail(s.source, ": the job token is ", s.value.size(), " bytes (at most ", kMaxTokenBytes,
               ")");
  }
}

/// 64-bit FNV-1a, seeded; stable across hosts and builds (all ranks must agree).
std::uint64_t fnv1a(std::string_view text, std::uint64_t seed) {
  std::uint64_t h = 14695981039346656037ull ^ seed;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kDigits[v & 0xf];
  return out;
}

/// The launcher's id of this job run (the same on every rank), or "" when none is known.
std::string launcher_job_id(const std::string& launcher) {
  auto first_of = [](std::initializer_list<const char*> names) -> std::string {
    for (const char* n : names) {
      if (auto v = env(n)) return v->value;
    }
    return "";
  };
  if (launcher == "mpirun") {
    return first_of({"OMPI_MCA_orte_ess_jobid", "OMPI_MCA_ess_base_jobid", "PMIX_NAMESPACE"});
  }
  if (launcher == "srun") {
    std::string job = first_of({"SLURM_JOB_ID", "SLURM_JOBID"});
    if (job.empty()) return "";
    return job + "." + first_of({"SLURM_STEP_ID", "SLURM_STEPID"});
  }
  if (launcher == "pmi") {
    // PMIx namespace, a PMI-1 KVS name, or Hydra's per-job PMI_PORT (host:port of its proxy).
    return first_of({"PMIX_NAMESPACE", "PMI_KVSNAME", "PMI_PORT"});
  }
  return "";
}

/// The inherited listening socket named by ATOLL_COORDINATOR_FD, or -1 if it is not one (then
/// rank 0 binds the coordinator port itself, which is free once the socket is gone).
int inherited_listen_fd(const Sourced& s) {
  int fd = parse_count(s);
  struct stat st {};
  int listening = 0;
  socklen_t len = sizeof listening;
  if (fd < 3 || ::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
      ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) {
    log_debug(str_cat("job: ", s.source, "=", fd,
                      " is not a listening socket; rank 0 binds the coordinator port itself"));
    return -1;
  }
  // Programs rank 0 starts must not keep the job's rendezvous socket open.
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

}  // namespace

JobInfo detect_job(const JobOverrides& overrides) {
  JobInfo job;
  std::optional<Sourced> rank, size, coordinator, token;

  if (overrides.rank || overrides.size) {
    if (!overrides.rank || !overrides.size) usage_fail("--rank and --size must be given together");
    if (*overrides.rank < 0) usage_fail("--rank ", *overrides.rank, ": must be >= 0");
    if (*overrides.size < 1) usage_fail("--size ", *overrides.size, ": must be >= 1");
    job.launcher = "manual";
    rank = Sourced{std::to_string(*overrides.rank), "--rank"};
    size = Sourced{std::to_string(*overrides.size), "--size"};
  } else {
    struct Launcher {
      const char* name;
      const char* rank_var;
      const char* size_var;
    };
    static constexpr Launcher kLaunchers[] = {
        {"atoll-launch", kEnvRank, kEnvSize},
        {"mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
        {"srun", "SLURM_PROCID", "SLURM_NTASKS"},
        {"pmi", "PMI_RANK", "PMI_SIZE"},
    };
    job.launcher = "single";
    for (const Launcher& l : kLaunchers) {
      auto r = env(l.rank_var);
      auto s = env(l.size_var);
      if (!r && !s) continue;
      if (!r || !s) {
        usage_fail(r ? l.rank_var : l.size_var, " is set but ", r ? l.size_var : l.rank_var,
                   " is not");
      }
      job.launcher = l.name;
      rank = std::move(r);
      size = std::move(s);
      break;
    }
  }
  if (rank) {
    job.rank = parse_count(*rank);
    job.size = parse_count(*size);
    check_rank_size(job.rank, rank->source, job.size, size->source);
  }

  // Coordinator and token: flags, then ATOLL_* (atoll launch sets them; users may export them
  // under mpirun/srun for a multi-host job), then derived from the launcher's job id.
  if (overrides.coordinator) {
    coordinator = Sourced{*overrides.coordinator, "--coordinator"};
  } else {
    coordinator = env(kEnvCoordinator);
  }
  if (overrides.token) {
    token = Sourced{*overrides.token, "--token"};
  } else {
    token = env(kEnvToken);
  }
  if (coordinator) {
    check_coordinator(*coordinator);
    job.coordinator = coordinator->value;
  }
  if (token) {
    check_token(*token);
    job.token = token->value;
  }

  bool from_launcher = job.launcher == "mpirun" || job.launcher == "srun" || job.launcher == "pmi";
  if (from_launcher && (job.coordinator.empty() || job.token.empty())) {
    std::string id = launcher_job_id(job.launcher);
    if (!id.empty()) {
      // Every rank sees the same job id, so every rank derives the same port and token. The
      // port is on 127.0.0.1: this only reaches rank 0 when all ranks share its host.
      std::string key = job.launcher + ":" + id;
      if (job.coordinator.empty()) {
        auto port =
            kDerivedPortBase + static_cast<std::uint32_t>(fnv1a(key, 0x5eed) % kDerivedPortSpan);
        job.coordinator = "127.0.0.1:" + std::to_string(port);
      }
      if (job.token.empty()) job.token = hex64(fnv1a(key, 1)) + hex64(fnv1a(key, 2));
    } else if (job.size > 1) {
      usage_fail("under ", job.launcher,
                 " no job id was found to derive the rendezvous from; give ",
                 "--coordinator HOST:PORT and --token (or ", kEnvCoordinator, " and ", kEnvToken,
                 ") to every rank");
    }
  }

  if (job.size > 1) {
    if (job.coordinator.empty()) {
      usage_fail(
          "a job of ", job.size, " ranks needs a coordinator: give --coordinator HOST:PORT",
          job.launcher == "atoll-launch" ? str_cat(" (", kEnvCoordinator, " is not set)") : "");
    }
    if (job.token.empty()) {
      usage_fail("a job of ", job.size, " ranks needs a job token: give --token or set ",
                 kEnvToken);
    }
  }

  if (job.launcher == "atoll-launch" && job.rank == 0) {
    if (auto fd = env(kEnvListenFd)) job.listen_fd = inherited_listen_fd(*fd);
  }
  return job;
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
    return CPU_COUNT(&set);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int rank_cores(const JobInfo& job) {
  const int machine = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int mine = usable_cpus();
  // atoll launch starts its ranks with the mask it was given, which they then share; srun and
  // mpirun bind each rank to its own CPUs.
  if (mine < machine && job.launcher != "atoll-launch") return mine;
  return std::max(1, mine / local_job_ranks(job));
}

int local_job_ranks(const JobInfo& job) {
  if (job.launcher == "atoll-launch") return job.size;
  for (const char* name :
       {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    const char* value = std::getenv(name);
    if (value == nullptr) continue;
    const int n = std::atoi(value);  // "2(x3)" reads as 2
    if (n > 0) return n;
  }
  return 1;
}

}  // namespace atl
