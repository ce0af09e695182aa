// The UCX backend across processes: the test forks one child per rank (before any thread or
// UCX state exists), the parent relays address/key blobs and barriers over socketpairs, and
// each child drives its backend with a plain progress loop. Every scenario runs with the
// default UCX_TLS and with UCX_TLS=tcp. A child exits 0 on success; anything else (or a UCX
// warning/error in its output) fails the test.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATOLL_TEST_LSAN 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define ATOLL_TEST_LSAN 1
#endif
#ifdef ATOLL_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "atoll/common/error.hpp"
#include "backend.hpp"

namespace atl::detail {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

#define CHILD_CHECK(cond, ...)                                                                   \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      throw std::runtime_error(                                                                  \
          ::atl::str_cat(__FILE__, ":", __LINE__, ": check failed: " #cond " ", ##__VA_ARGS__)); \
    }                                                                                            \
  } while (0)

// ---- byte-stream framing over the control sockets ------------------------------------

void write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(str_cat("control write failed: ", std::strerror(errno)));
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void read_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("control socket closed by the parent");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void write_u32(std::string& out, std::uint32_t v) {
  out.append(reinterpret_cast<char*>(&v), 4);
}

/// Splits length-prefixed strings (the format join() writes).
std::vector<std::string> split(std::string_view in) {
  std::vector<std::string> out;
  while (in.size() >= 4) {
    std::uint32_t len;
    std::memcpy(&len, in.data(), 4);
    out.emplace_back(in.substr(4, len));
    in.remove_prefix(4 + len);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    write_u32(out, static_cast<std::uint32_t>(p.size()));
    out += p;
  }
  return out;
}

// ---- deterministic message contents ----------------------------------------------------

std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void fill(std::span<std::byte> out, std::uint64_t seed) {
  std::size_t i = 0;
  for (std::uint64_t k = 0; i + 8 <= out.size(); i += 8, ++k) {
    const std::uint64_t v = mix(seed + k);
    std::memcpy(out.data() + i, &v, 8);
  }
  const std::uint64_t tail = mix(seed ^ 0xFFFF);
  if (i < out.size()) std::memcpy(out.data() + i, &tail, out.size() - i);
}

bool matches(std::span<const std::byte> got, std::uint64_t seed, std::vector<std::byte>& scratch) {
  if (got.empty()) return true;
  scratch.resize(got.size());
  fill(scratch, seed);
  return std::memcmp(got.data(), scratch.data(), got.size()) == 0;
}

// ---- one rank (runs in a child) ----------------------------------------------------------

struct Rank {
  int rank = 0;
  int size = 0;
  int ctl = -1;
  std::unique_ptr<Backend> backend;
  BackendOptions options;
  std::function<void(int, std::uint16_t, std::span<const std::byte>)> on_am;
  std::vector<std::pair<int, std::string>> failures;

  void start() {
    backend = make_ucx_backend(options);
    backend->set_callbacks(
        [this](int peer, std::uint16_t handler, std::span<const std::byte> bytes) {
          if (on_am) on_am(peer, handler, bytes);
        },
        [this](int peer, const std::string& why) { failures.emplace_back(peer, why); });
    const auto addresses = allgather(backend->address());
    backend->connect(rank, addresses);
  }

  /// Exchanges a blob with every live rank through the parent (progressing meanwhile).
  std::vector<std::string> allgather(const std::string& mine) {
    std::string frame;
    write_u32(frame, static_cast<std::uint32_t>(mine.size()));
    frame += mine;
    write_all(ctl, frame.data(), frame.size());
    for (;;) {
      pollfd p{ctl, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) break;
      if (backend) backend->progress();
    }
    std::uint32_t len;
    read_all(ctl, &len, 4);
    std::string all(len, '\0');
    read_all(ctl, all.data(), len);
    return split(all);
  }

  void barrier() { allgather(""); }

  template <typename Pred>
  void progress_until(Pred done, double seconds, const std::string& what) {
    const auto deadline = Clock::now() + Seconds(seconds);
    while (!done()) {
      backend->progress();
      CHILD_CHECK(Clock::now() < deadline, "timed out waiting for ", what);
    }
  }

  void wait(Completion& c, const std::string& what) {
    progress_until([&] { return c.done; }, 30, what);
    CHILD_CHECK(!c.failed, what, ": ", c.error);
  }

  void flush_all() {
    std::vector<Completion> done(size);
    for (int p = 0; p < size; ++p) backend->post_flush(p, &done[p]);
    for (int p = 0; p < size; ++p) wait(done[p], str_cat("flush to rank ", p));
  }

  void finish() {
    CHILD_CHECK(failures.empty(), "unexpected failure of rank ", failures[0].first, ": ",
                failures[0].second);
    flush_all();
    barrier();
    // Rank 0 leaves at once; the others keep progressing a while: a peer that closed
    // cleanly must not be reported as failed.
    if (rank != 0) {
      const auto until = Clock::now() + Seconds(0.3);
      while (Clock::now() < until) backend->progress();
    }
    CHILD_CHECK(failures.empty(), "rank ", failures[0].first, " reported failed after a clean ",
                "shutdown: ", failures[0].second);
    backend->disconnect();
    backend.reset();
  }
};

void info(const std::string& line) {
  const std::string text = "info: " + line + "\n";
  write_all(STDERR_FILENO, text.data(), text.size());
}

using Scenario = std::function<void(Rank&)>;

// ---- the parent: forks, relays, reaps -----------------------------------------------------

struct ChildResult {
  int status = 0;
  std::string output;
};

struct Child {
  pid_t pid = -1;
  int ctl = -1;  // socketpair end (parent side)
  int out = -1;  // pipe: child's stdout+stderr
  bool reaped = false;
  bool ctl_open = true;
  std::string inbox;                 // bytes read from ctl
  std::optional<std::string> frame;  // this round's blob
  ChildResult result;
};

std::vector<ChildResult> run_ranks(int n, const std::string& tls, const Scenario& scenario,
                                   double timeout_s = 40) {
  std::vector<Child> children(n);
  for (int r = 0; r < n; ++r) {
    int sv[2];
    int pipefd[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        ::pipe2(pipefd, O_CLOEXEC) != 0) {
      throw std::runtime_error("socketpair/pipe failed");
    }
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::close(sv[0]);
      ::close(pipefd[0]);
      ::dup2(pipefd[1], STDOUT_FILENO);
      ::dup2(pipefd[1], STDERR_FILENO);
      for (int k = 0; k < r; ++k) {  // siblings' parent-side ends
        ::close(children[k].ctl);
        ::close(children[k].out);
      }
      if (tls == "tcp") ::setenv("UCX_TLS", "tcp", 1);
      int code = 0;
      try {
        Rank self;
        self.rank = r;
        self.size = n;
        self.ctl = sv[1];
        scenario(self);
      } catch (const std::exception& e) {
        const std::string text = str_cat("rank ", r, ": ", e.what(), "\n");
        write_all(STDERR_FILENO, text.data(), text.size());
        code = 1;
      }
#ifdef ATOLL_TEST_LSAN
      // _exit skips LeakSanitizer's exit-time check: run it here (the backend is gone).
      if (__lsan_do_recoverable_leak_check() != 0 && code == 0) code = 3;
#endif
      std::fflush(nullptr);
      ::_exit(code);
    }
    ::close(sv[1]);
    ::close(pipefd[1]);
    children[r].pid = pid;
    children[r].ctl = sv[0];
    children[r].out = pipefd[0];
  }

  const auto deadline = Clock::now() + Seconds(timeout_s);
  bool timed_out = false;
  for (;;) {
    std::vector<pollfd> fds;
    for (auto& c : children) {
      if (c.out >= 0) fds.push_back({c.out, POLLIN, 0});
      if (c.ctl_open) fds.push_back({c.ctl, POLLIN, 0});
    }
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 20);
    char buf[65536];
    for (auto& c : children) {
      pollfd p{c.out, POLLIN, 0};
      while (c.out >= 0 && ::poll(&p, 1, 0) > 0) {
        const ssize_t got = ::read(c.out, buf, sizeof buf);
        if (got <= 0) {
          ::close(c.out);
          c.out = -1;
          break;
        }
        c.result.output.append(buf, static_cast<std::size_t>(got));
      }
      pollfd q{c.ctl, POLLIN, 0};
      while (c.ctl_open && ::poll(&q, 1, 0) > 0) {
        const ssize_t got = ::read(c.ctl, buf, sizeof buf);
        if (got <= 0) {
          c.ctl_open = false;
          break;
        }
        c.inbox.append(buf, static_cast<std::size_t>(got));
      }
      if (!c.frame && c.inbox.size() >= 4) {
        std::uint32_t len;
        std::memcpy(&len, c.inbox.data(), 4);
        if (c.inbox.size() >= 4 + len) {
          c.frame = c.inbox.substr(4, len);
          c.inbox.erase(0, 4 + len);
        }
      }
      if (!c.reaped && ::waitpid(c.pid, &c.result.status, WNOHANG) == c.pid) c.reaped = true;
    }
    // A round completes when every child still running has sent its blob.
    bool any_frame = false;
    bool round = true;
    for (auto& c : children) {
      any_frame = any_frame || c.frame.has_value();
      if (!c.reaped && !c.frame) round = false;
    }
    if (round && any_frame) {
      std::vector<std::string> blobs;
      for (auto& c : children) blobs.push_back(c.frame.value_or(""));
      std::string reply;
      const std::string all = join(blobs);
      write_u32(reply, static_cast<std::uint32_t>(all.size()));
      reply += all;
      for (auto& c : children) {
        if (c.frame && !c.reaped) write_all(c.ctl, reply.data(), reply.size());
        c.frame.reset();
      }
    }
    const bool all_done = std::all_of(children.begin(), children.end(),
                                      [](const Child& c) { return c.reaped && c.out < 0; });
    if (all_done) break;
    if (Clock::now() > deadline && !timed_out) {
      timed_out = true;
      for (auto& c : children) {
        if (!c.reaped) ::kill(c.pid, SIGKILL);
      }
    }
  }
  std::vector<ChildResult> results;
  for (auto& c : children) {
    if (c.ctl >= 0) ::close(c.ctl);
    results.push_back(std::move(c.result));
  }
  if (timed_out) {
    std::string all;
    for (std::size_t r = 0; r < results.size(); ++r) {
      all += str_cat("--- rank ", r, " ---\n", results[r].output);
    }
    ADD_FAILURE() << "timed out after " << timeout_s << " s\n" << all;
  }
  return results;
}

bool has_ucx_complaint(const std::string& output) {
  return output.find("UCX  WARN") != std::string::npos ||
         output.find("UCX  ERROR") != std::string::npos;
}

/// Every rank exited 0 and printed no UCX warning or error.
void expect_success(const std::vector<ChildResult>& results) {
  for (std::size_t r = 0; r < results.size(); ++r) {
    const auto& res = results[r];
    EXPECT_TRUE(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0)
        << "rank " << r << " status " << res.status << "\n"
        << res.output;
    EXPECT_FALSE(has_ucx_complaint(res.output)) << "rank " << r << " output:\n" << res.output;
    // Surface measurements and notes the ranks printed.
    std::size_t pos = 0;
    while ((pos = res.output.find("info: ", pos)) != std::string::npos) {
      const std::size_t end = res.output.find('\n', pos);
      std::printf("    [rank %zu] %s\n", r, res.output.substr(pos + 6, end - pos - 6).c_str());
      pos = end;
    }
  }
}

class UcxBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& tls() const { return GetParam(); }
};

// ---- scenario: active messages, per-pair order, 0 B .. 4 MiB --------------------------

std::size_t am_size(int src, int dst, std::uint64_t i) {
  if (i < 16) return i;  // 0..15 bytes first
  const std::uint64_t r = mix((std::uint64_t(src) << 40) ^ (std::uint64_t(dst) << 32) ^ i);
  if (r % 5000 == 0) return std::size_t{4} << 20;  // 4 MiB
  if (r % 1000 == 0) return (1 << 20) + r % 4096;  // ~1 MiB rendezvous
  if (r % 50 == 0) return 8000 + r % 60000;        // around the rndv thresholds
  if (r % 10 == 0) return 512 + r % 8000;          // eager bcopy
  return r % 128;                                  // eager short
}

std::uint64_t am_seed(int src, int dst, std::uint64_t i) {
  return (std::uint64_t(src) << 48) ^ (std::uint64_t(dst) << 40) ^ (i * 0x100000001B3ull);
}

void am_order(Rank& self, std::uint64_t total_messages) {
  const int n = self.size;
  const std::uint64_t per_pair = total_messages / (std::uint64_t(n) * n);
  std::vector<std::uint64_t> received(n, 0);
  std::string error;
  std::vector<std::byte> scratch;
  std::uint64_t received_bytes = 0;
  self.on_am = [&](int src, std::uint16_t handler, std::span<const std::byte> bytes) {
    if (!error.empty()) return;
    if (src < 0 || src >= n) {
      error = str_cat("message from unknown rank ", src);
      return;
    }
    const std::uint64_t i = received[src]++;
    const std::size_t want = am_size(src, self.rank, i);
    if (i >= per_pair || bytes.size() != want || handler != i % 1024 ||
        !matches(bytes, am_seed(src, self.rank, i), scratch)) {
      error = str_cat("message ", i, " from rank ", src, ": ", bytes.size(), " bytes (want ", want,
                      "), handler ", handler, ", content ",
                      matches(bytes, am_seed(src, self.rank, i), scratch) ? "ok" : "WRONG");
    }
    received_bytes += bytes.size();
  };
  self.start();

  struct Slot {
    std::vector<std::byte> bytes;
    Completion done;
    bool busy = false;
  };
  constexpr int kWindow = 64;
  std::vector<std::vector<Slot>> slots(n, std::vector<Slot>(kWindow));
  std::vector<std::uint64_t> sent(n, 0);
  const auto t0 = Clock::now();
  const auto deadline = t0 + Seconds(30);
  auto all_received = [&] {
    return std::all_of(received.begin(), received.end(),
                       [&](std::uint64_t c) { return c >= per_pair; });
  };
  for (;;) {
    bool sending = false;
    for (int dst = 0; dst < n; ++dst) {
      for (auto& slot : slots[dst]) {
        if (slot.busy) {
          if (!slot.done.done) {
            sending = true;
            continue;
          }
          CHILD_CHECK(!slot.done.failed, slot.done.error);
          slot.busy = false;
        }
        if (sent[dst] == per_pair) continue;
        const std::uint64_t i = sent[dst]++;
        slot.bytes.resize(am_size(self.rank, dst, i));
        fill(slot.bytes, am_seed(self.rank, dst, i));
        slot.done = Completion{};
        slot.busy = true;
        sending = true;
        self.backend->post_am(dst, static_cast<std::uint16_t>(i % 1024), slot.bytes, &slot.done);
      }
    }
    self.backend->progress();
    CHILD_CHECK(error.empty(), error);
    if (!sending && all_received()) break;
    CHILD_CHECK(Clock::now() < deadline, "timed out: received ",
                std::accumulate(received.begin(), received.end(), std::uint64_t{0}), " of ",
                per_pair * n);
  }
  const double s = Seconds(Clock::now() - t0).count();
  info(str_cat(per_pair * n, " messages (", received_bytes >> 20, " MiB) received in ", s, " s; ",
               self.backend->describe()));
  self.finish();
}

TEST_P(UcxBackendTest, AmOrderTwoRanks) {
  expect_success(run_ranks(2, tls(), [](Rank& r) { am_order(r, 100000); }));
}
TEST_P(UcxBackendTest, AmOrderThreeRanks) {
  expect_success(run_ranks(3, tls(), [](Rank& r) { am_order(r, 100000); }));
}
TEST_P(UcxBackendTest, AmOrderFourRanks) {
  expect_success(run_ranks(4, tls(), [](Rank& r) { am_order(r, 100000); }));
}

// ---- scenario: a flush covers earlier messages, rendezvous ones included ---------------

void flush_covers_messages(Rank& self) {
  constexpr int kMessages = 24;
  int received = 0;
  self.on_am = [&](int, std::uint16_t, std::span<const std::byte>) { ++received; };
  self.start();
  if (self.rank == 0) {
    std::vector<std::vector<std::byte>> bytes(kMessages);
    std::vector<Completion> sent(kMessages);
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < kMessages; ++i) {
        bytes[i].assign(i % 3 == 0 ? (std::size_t{4} << 20) : 64, std::byte{1});
        sent[i] = Completion{};
        self.backend->post_am(1, 0, bytes[i], &sent[i]);
      }
      Completion flushed;
      self.backend->post_flush(1, &flushed);
      self.wait(flushed, "flush");
      for (int i = 0; i < kMessages; ++i) {
        CHILD_CHECK(sent[i].done && !sent[i].failed, "message ", i, " of round ", round,
                    " not complete when the flush completed");
      }
    }
  } else {
    self.progress_until([&] { return received == 3 * kMessages; }, 30, "messages");
  }
  self.finish();
}

TEST_P(UcxBackendTest, FlushCoversMessages) {
  expect_success(run_ranks(2, tls(), flush_covers_messages));
}

// ---- scenario: an exception from a handler leaves progress() -------------------------------

void handler_exception(Rank& self) {
  // Round 1: a rendezvous message first, so 1 and 2 wait behind it and 1 throws while held
  // messages are delivered. Round 2: all arrive in one progress call and 4 throws.
  std::vector<std::uint16_t> seen;
  constexpr std::uint16_t kGo = 100;  // rank 1 has left the barrier: round 2 may start
  bool go = false;
  self.on_am = [&](int, std::uint16_t handler, std::span<const std::byte>) {
    if (handler == kGo) {
      go = true;
      return;
    }
    seen.push_back(handler);
    if (handler == 1 || handler == 4) throw std::runtime_error(str_cat("handler ", handler));
  };
  self.start();
  std::vector<std::byte> big(std::size_t{4} << 20);
  const std::byte small[16] = {};
  int thrown = 0;
  auto receive = [&](std::size_t count) {
    const auto deadline = Clock::now() + Seconds(20);
    while (seen.size() < count) {
      try {
        self.backend->progress();
      } catch (const std::runtime_error& e) {
        CHILD_CHECK(std::string(e.what()) == str_cat("handler ", thrown == 0 ? 1 : 4), e.what());
        ++thrown;
      }
      CHILD_CHECK(Clock::now() < deadline, "timed out: ", seen.size(), " delivered");
    }
  };
  for (std::uint16_t round = 0; round < 2; ++round) {
    if (self.rank == 0) {
      std::vector<Completion> sent(3);
      for (std::uint16_t i = 0; i < 3; ++i) {
        const std::uint16_t h = 3 * round + i;
        self.backend->post_am(1, h, h == 0 ? std::span<const std::byte>(big) : small, &sent[i]);
      }
      for (auto& c : sent) self.wait(c, "send");
    } else {
      if (round == 1) ::usleep(200000);  // let all three queue up
      receive(3 * (round + 1));
    }
    self.barrier();
    // The barrier's own progress must not deliver round 2 (a throw there would escape the
    // harness): rank 0 starts round 2 only once rank 1 is out of the barrier.
    if (round == 0 && self.rank == 1) {
      Completion c;
      self.backend->post_am(0, kGo, small, &c);
      self.wait(c, "go");
    } else if (round == 0) {
      self.progress_until([&] { return go; }, 20, "rank 1's go");
    }
  }
  if (self.rank == 1) {
    CHILD_CHECK(thrown == 2 && seen == std::vector<std::uint16_t>({0, 1, 2, 3, 4, 5}), thrown,
                " throws, ", seen.size(), " delivered");
  }
  self.finish();
}

TEST_P(UcxBackendTest, HandlerExceptionLeavesProgress) {
  expect_success(run_ranks(2, tls(), handler_exception));
}

// ---- scenario: puts visible after flush ---------------------------------------------------

void put_scenario(Rank& self) {
  const int n = self.size;
  const int me = self.rank;
  constexpr std::size_t kSlice = 4096;
  constexpr std::size_t kBig = std::size_t{16} << 20;
  // Window 0: one slice per source plus one odd last byte; 1: 16 MiB; 2: empty.
  std::vector<std::byte> small(n * kSlice + 1, std::byte{0});
  std::vector<std::byte> big(kBig, std::byte{0});
  self.start();
  std::vector<std::string> mine = {self.backend->register_window(0, small),
                                   self.backend->register_window(1, big),
                                   self.backend->register_window(2, {})};
  const auto all = self.allgather(join(mine));
  for (int p = 0; p < n; ++p) {
    const auto blobs = split(all[p]);
    CHILD_CHECK(blobs.size() == 3);
    self.backend->add_remote_window(p, 0, n * kSlice + 1, blobs[0]);
    self.backend->add_remote_window(p, 1, kBig, blobs[1]);
    self.backend->add_remote_window(p, 2, 0, blobs[2]);
  }

  std::vector<std::vector<std::byte>> slices(n, std::vector<std::byte>(kSlice));
  std::vector<Completion> done(2 * n + 2);
  std::size_t next = 0;
  for (int p = 0; p < n; ++p) {
    fill(slices[p], am_seed(me, p, 7));
    self.backend->post_put(p, 0, me * kSlice, slices[p], &done[next++]);
    // Zero bytes into the empty window complete at once; one byte is refused.
    self.backend->post_put(p, 2, 0, {}, &done[next]);
    CHILD_CHECK(done[next].done && !done[next].failed);
    ++next;
    const std::byte one{1};
    bool refused = false;
    Completion never;
    try {
      self.backend->post_put(p, 2, 0, {&one, 1}, &never);
    } catch (const Error&) {
      refused = true;
    }
    CHILD_CHECK(refused, "a put into an empty window was accepted");
  }
  const int target = (me + 1) % n;  // the rank this one owns the big window and last byte of
  const std::byte last = static_cast<std::byte>(0xA5 ^ target);
  self.backend->post_put(target, 0, n * kSlice, {&last, 1}, &done[next++]);
  std::vector<std::byte> source(kBig);
  fill(source, am_seed(me, target, 99));
  self.backend->post_put(target, 1, 0, source, &done[next++]);
  self.flush_all();
  for (std::size_t i = 0; i < next; ++i) {
    CHILD_CHECK(done[i].done && !done[i].failed, "put ", i, ": ", done[i].error);
  }
  self.barrier();  // every rank's flushes done: all puts into this rank are visible

  std::vector<std::byte> scratch;
  for (int s = 0; s < n; ++s) {
    CHILD_CHECK(matches({small.data() + s * kSlice, kSlice}, am_seed(s, me, 7), scratch),
                "slice from rank ", s);
  }
  const int owner = (me + n - 1) % n;
  CHILD_CHECK(small.back() == static_cast<std::byte>(0xA5 ^ me), "last byte of window 0");
  CHILD_CHECK(matches(big, am_seed(owner, me, 99), scratch), "16 MiB window from rank ", owner);
  self.finish();
}

TEST_P(UcxBackendTest, PutsTwoRanks) {
  expect_success(run_ranks(2, tls(), put_scenario));
}
TEST_P(UcxBackendTest, PutsThreeRanks) {
  expect_success(run_ranks(3, tls(), put_scenario));
}
TEST_P(UcxBackendTest, PutsFourRanks) {
  expect_success(run_ranks(4, tls(), put_scenario));
}

// ---- scenario: fence orders puts -------------------------------------------------------

void fence_order(Rank& self) {
  const int n = self.size;
  constexpr std::size_t kWordsA = 8192;  // 64 KiB region A, then one word B
  constexpr std::uint64_t kRounds = 1000;
  constexpr int kSets = 16;
  std::vector<std::uint64_t> window(kWordsA + 1, 0);
  self.start();
  const std::string blob =
      self.backend->register_window(0, std::as_writable_bytes(std::span<std::uint64_t>(window)));
  const auto all = self.allgather(blob);
  const int target = (self.rank + 1) % n;
  self.backend->add_remote_window(target, 0, window.size() * 8, all[target]);

  std::vector<std::vector<std::uint64_t>> a(kSets, std::vector<std::uint64_t>(kWordsA));
  std::vector<std::uint64_t> b(kSets);
  std::vector<Completion> done(2 * kSets);
  std::uint64_t checks = 0;
  auto check_window = [&] {
    const std::uint64_t seen_b = std::atomic_ref<std::uint64_t>(window[kWordsA]).load();
    const std::uint64_t first = std::atomic_ref<std::uint64_t>(window[0]).load();
    const std::uint64_t last = std::atomic_ref<std::uint64_t>(window[kWordsA - 1]).load();
    CHILD_CHECK(first >= seen_b && last >= seen_b, "B=", seen_b, " visible before A (", first, ", ",
                last, ")");
    ++checks;
  };
  for (std::uint64_t k = 1; k <= kRounds; ++k) {
    const int set = static_cast<int>(k % kSets);
    std::fill(a[set].begin(), a[set].end(), k);
    b[set] = k;
    done[2 * set] = Completion{};
    done[2 * set + 1] = Completion{};
    self.backend->post_put(target, 0, 0, std::as_bytes(std::span(a[set])), &done[2 * set]);
    self.backend->fence(target);
    self.backend->post_put(target, 0, kWordsA * 8, std::as_bytes(std::span(&b[set], 1)),
                           &done[2 * set + 1]);
    self.backend->fence(target);
    self.backend->progress();
    check_window();
    if (set == kSets - 1) {  // buffers are reused next: complete this batch
      Completion flushed;
      self.backend->post_flush(target, &flushed);
      while (!flushed.done) {
        self.backend->progress();
        check_window();
      }
      CHILD_CHECK(!flushed.failed, flushed.error);
    }
  }
  self.flush_all();
  self.barrier();
  CHILD_CHECK(window[kWordsA] == kRounds && window[0] == kRounds && window[kWordsA - 1] == kRounds,
              "final values");
  info(str_cat(checks, " ordering checks"));
  self.finish();
}

TEST_P(UcxBackendTest, FenceOrderTwoRanks) {
  expect_success(run_ranks(2, tls(), fence_order));
}
TEST_P(UcxBackendTest, FenceOrderThreeRanks) {
  expect_success(run_ranks(3, tls(), fence_order));
}

// ---- scenario: a peer killed with SIGKILL -----------------------------------------------

void killed_peer(Rank& self) {
  const int n = self.size;
  const int victim = n - 1;
  self.start();
  self.barrier();
  if (self.rank == victim) ::raise(SIGKILL);
  self.barrier();  // completes once the parent has reaped the victim
  const auto t0 = Clock::now();
  self.progress_until([&] { return !self.failures.empty(); }, 15,
                      str_cat("the failure of rank ", victim));
  const double detect = Seconds(Clock::now() - t0).count();
  // Exactly once, for the victim only (give UCX a little longer to misbehave).
  const auto settle = Clock::now() + Seconds(0.5);
  while (Clock::now() < settle) self.backend->progress();
  CHILD_CHECK(self.failures.size() == 1 && self.failures[0].first == victim, self.failures.size(),
              " failures, first for rank ", self.failures[0].first, ": ", self.failures[0].second);
  CHILD_CHECK(self.failures[0].second.find(std::to_string(victim)) != std::string::npos,
              "message does not name the rank: ", self.failures[0].second);
  // Posting to the dead peer fails cleanly.
  const std::byte payload[8] = {};
  Completion am;
  self.backend->post_am(victim, 1, payload, &am);
  Completion flush;
  self.backend->post_flush(victim, &flush);
  self.progress_until([&] { return am.done && flush.done; }, 10, "posts to the dead rank");
  CHILD_CHECK(am.failed && flush.failed, "posts to a dead rank succeeded");
  // The survivors still talk to each other.
  if (n > 2) {
    std::vector<Completion> done(n - 1);
    for (int p = 0; p < n - 1; ++p) self.backend->post_am(p, 2, payload, &done[p]);
    for (int p = 0; p < n - 1; ++p) self.wait(done[p], "message to a survivor");
  }
  info(str_cat("rank ", self.rank, " saw rank ", victim, " fail after ", detect,
               " s: ", self.failures[0].second));
  self.failures.clear();
  std::vector<Completion> flushed(n - 1);
  for (int p = 0; p < n - 1; ++p) self.backend->post_flush(p, &flushed[p]);
  for (int p = 0; p < n - 1; ++p) self.wait(flushed[p], "flush");
  self.barrier();
  self.backend->disconnect();
}

void expect_victim_killed(const std::vector<ChildResult>& results) {
  const auto& victim = results.back();
  EXPECT_TRUE(WIFSIGNALED(victim.status) && WTERMSIG(victim.status) == SIGKILL)
      << "victim status " << victim.status << "\n"
      << victim.output;
  expect_success({results.begin(), results.end() - 1});
}

TEST_P(UcxBackendTest, KilledPeerTwoRanks) {
  expect_victim_killed(run_ranks(2, tls(), killed_peer));
}
TEST_P(UcxBackendTest, KilledPeerFourRanks) {
  expect_victim_killed(run_ranks(4, tls(), killed_peer));
}

// ---- scenario: allocated windows ------------------------------------------------------------

// Window 0 is allocated by the backend (zeroed, page-aligned, mapped into the peers over
// shared memory), window 1 is caller memory; puts into both land; the allocated memory stays
// valid after disconnect().
void allocated_windows(Rank& self, bool shared_memory) {
  const int n = self.size;
  constexpr std::size_t kSize = (std::size_t{1} << 20) + 3;
  self.start();
  auto [mine, blob0] = self.backend->allocate_window(0, kSize);
  CHILD_CHECK(mine.size() == kSize && reinterpret_cast<std::uintptr_t>(mine.data()) % 4096 == 0,
              "allocated ", mine.size(), " bytes at ", static_cast<void*>(mine.data()));
  CHILD_CHECK(std::all_of(mine.begin(), mine.end(), [](std::byte b) { return b == std::byte{0}; }),
              "allocated window not zeroed");
  std::vector<std::byte> caller(4096 * n);
  const std::string blob1 = self.backend->register_window(1, caller);
  const auto all = self.allgather(join({blob0, blob1}));
  for (int p = 0; p < n; ++p) {
    if (p == self.rank) continue;
    const auto blobs = split(all[p]);
    self.backend->add_remote_window(p, 0, kSize, blobs[0]);
    self.backend->add_remote_window(p, 1, caller.size(), blobs[1]);
    CHILD_CHECK((self.backend->direct_window(p, 0) != nullptr) == shared_memory,
                "allocated window of rank ", p, " mapped: ", !shared_memory);
    CHILD_CHECK(self.backend->direct_window(p, 1) == nullptr, "caller memory mapped");
  }
  std::vector<std::vector<std::byte>> data(n, std::vector<std::byte>(4096));
  std::vector<Completion> done(2 * n);
  for (int p = 0; p < n; ++p) {
    if (p == self.rank) continue;
    fill(data[p], am_seed(self.rank, p, 5));
    self.backend->post_put(p, 0, kSize - 4096 * (n - self.rank), data[p], &done[2 * p]);
    self.backend->post_put(p, 1, 4096 * self.rank, data[p], &done[2 * p + 1]);
  }
  self.flush_all();
  self.barrier();
  std::vector<std::byte> scratch;
  for (int s = 0; s < n; ++s) {
    if (s == self.rank) continue;
    CHILD_CHECK(
        matches(mine.subspan(kSize - 4096 * (n - s), 4096), am_seed(s, self.rank, 5), scratch),
        "allocated window, from rank ", s);
    CHILD_CHECK(matches({caller.data() + 4096 * s, 4096}, am_seed(s, self.rank, 5), scratch),
                "caller window, from rank ", s);
  }
  self.flush_all();
  self.barrier();
  self.backend->disconnect();
  mine.back() = std::byte{7};  // still the backend's memory
  CHILD_CHECK(mine.back() == std::byte{7}, "allocated window after disconnect()");
  self.backend.reset();
}

TEST_P(UcxBackendTest, AllocatedWindows) {
  const bool shm = tls() != "tcp";
  expect_success(run_ranks(3, tls(), [shm](Rank& r) { allocated_windows(r, shm); }));
}

// ---- scenario: a rank of another job (wrong token) -------------------------------------------

// Rank 1 presents another job's token: neither rank connects, both fail well before the
// connect timeout would let them hang, and the token is named.
void wrong_token(Rank& self) {
  self.options.token = self.rank == 0 ? "token-of-job-a" : "token-of-job-b";
  self.options.connect_timeout = std::chrono::seconds(5);
  const auto t0 = Clock::now();
  try {
    self.start();
  } catch (const Error& e) {
    CHILD_CHECK(Clock::now() - t0 < Seconds(8), "took ", Seconds(Clock::now() - t0).count(), " s");
    info(str_cat("rank ", self.rank, ": ", e.what()));
    self.backend.reset();
    return;
  }
  CHILD_CHECK(false, "ranks of different jobs connected");
}

TEST_P(UcxBackendTest, WrongTokenIsRefused) {
  const auto results = run_ranks(2, tls(), wrong_token);
  bool named = false;
  for (std::size_t r = 0; r < results.size(); ++r) {
    EXPECT_TRUE(WIFEXITED(results[r].status) && WEXITSTATUS(results[r].status) == 0)
        << "rank " << r << "\n"
        << results[r].output;
    named = named || results[r].output.find("job's token") != std::string::npos;
    const std::size_t pos = results[r].output.find("info: ");
    if (pos != std::string::npos) std::printf("    %s", results[r].output.substr(pos).c_str());
  }
  EXPECT_TRUE(named) << results[0].output << results[1].output;
}

// ---- scenario: malformed blobs ------------------------------------------------------------

void bad_blobs(Rank& self) {
  std::vector<std::byte> memory(4096);
  self.start();
  const std::string good = self.backend->register_window(0, memory);
  const auto all = self.allgather(good);
  const int peer = (self.rank + 1) % self.size;
  const std::string& theirs = all[peer];

  std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"short", theirs.substr(0, 5)},
      {"header only", theirs.substr(0, 32)},
      {"one byte short", theirs.substr(0, theirs.size() - 1)},
      {"one byte long", theirs + "x"},
  };
  std::string flipped = theirs;
  flipped[flipped.size() / 2 + 16] ^= 0x40;
  cases.emplace_back("flipped rkey byte", flipped);
  std::string garbage(theirs.size(), '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(mix(i));
  cases.emplace_back("garbage", garbage);
  std::string wrong_magic = theirs;
  wrong_magic[0] ^= 1;
  cases.emplace_back("wrong magic", wrong_magic);
  for (const auto& [what, blob] : cases) {
    bool rejected = false;
    try {
      self.backend->add_remote_window(peer, 0, memory.size(), blob);
    } catch (const Error& e) {
      rejected = true;
    }
    CHILD_CHECK(rejected, "accepted a blob: ", what);
  }
  bool rejected = false;
  try {  // size disagreeing with the blob
    self.backend->add_remote_window(peer, 0, memory.size() + 1, theirs);
  } catch (const Error&) {
    rejected = true;
  }
  CHILD_CHECK(rejected, "accepted a wrong window size");

  // The real blob still works afterwards.
  self.backend->add_remote_window(peer, 0, memory.size(), theirs);
  const std::uint64_t word = 0x1122334455667788ull + self.rank;
  Completion done;
  self.backend->post_put(peer, 0, memory.size() - 8, std::as_bytes(std::span(&word, 1)), &done);
  self.flush_all();
  CHILD_CHECK(done.done && !done.failed);
  self.barrier();
  std::uint64_t got;
  std::memcpy(&got, memory.data() + memory.size() - 8, 8);
  CHILD_CHECK(got == 0x1122334455667788ull + peer, "put after rejected blobs");

  // A malformed address is refused by connect().
  auto other = make_ucx_backend({});
  const std::string mine = other->address();
  bool refused = false;
  try {
    other->connect(0, {mine, mine.substr(0, mine.size() / 2)});
  } catch (const Error& e) {
    refused = std::string(e.what()).find("rank 1") != std::string::npos;
  }
  CHILD_CHECK(refused, "connect() accepted a truncated address");
  other.reset();
  self.finish();
}

TEST_P(UcxBackendTest, MalformedBlobs) {
  expect_success(run_ranks(2, tls(), bad_blobs));
}

// ---- latency (manual: --gtest_also_run_disabled_tests) ------------------------------------

void latency(Rank& self) {
  constexpr int kWarmup = 2000;
  constexpr int kIters = 20000;
  std::vector<std::uint64_t> window(8, 0);
  std::uint64_t pongs = 0;
  Completion reply_done;  // rank 1 replies from inside on_am
  const std::uint64_t word = 42;
  self.on_am = [&](int src, std::uint16_t, std::span<const std::byte>) {
    if (self.rank == 1) {
      reply_done = Completion{};
      self.backend->post_am(src, 0, std::as_bytes(std::span(&word, 1)), &reply_done);
    } else {
      ++pongs;
    }
  };
  self.start();
  const auto all =
      self.allgather(self.backend->register_window(0, std::as_writable_bytes(std::span(window))));
  const int other = 1 - self.rank;
  self.backend->add_remote_window(other, 0, window.size() * 8, all[other]);
  self.barrier();
  if (self.rank == 0) {
    std::vector<double> put_us;
    for (int i = 0; i < kWarmup + kIters; ++i) {
      const auto t = Clock::now();
      Completion put;
      Completion flush;
      self.backend->post_put(other, 0, 0, std::as_bytes(std::span(&word, 1)), &put);
      self.backend->post_flush(other, &flush);
      while (!flush.done) self.backend->progress();
      if (i >= kWarmup) put_us.push_back(Seconds(Clock::now() - t).count() * 1e6);
    }
    std::vector<double> am_us;
    for (int i = 0; i < kWarmup + kIters; ++i) {
      const auto t = Clock::now();
      Completion sent;
      const std::uint64_t before = pongs;
      self.backend->post_am(other, 0, std::as_bytes(std::span(&word, 1)), &sent);
      while (pongs == before) self.backend->progress();
      if (i >= kWarmup) am_us.push_back(Seconds(Clock::now() - t).count() * 1e6 / 2);
    }
    auto report = [](const char* what, std::vector<double>& v) {
      std::sort(v.begin(), v.end());
      const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
      info(str_cat(what, ": median ", v[v.size() / 2], " us, mean ", mean, " us"));
    };
    report("8-byte put+flush", put_us);
    report("8-byte AM round trip / 2", am_us);
    info(self.backend->describe());
  }
  self.finish();
}

TEST_P(UcxBackendTest, DISABLED_Latency) {
  expect_success(run_ranks(2, tls(), latency, 120));
}

INSTANTIATE_TEST_SUITE_P(Tls, UcxBackendTest, ::testing::Values("default", "tcp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace atl::detail

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}
