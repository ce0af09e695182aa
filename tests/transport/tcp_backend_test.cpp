// Multi-process tests of the TCP backend. Each test forks its ranks (before any thread exists
// in them); the parent relays address exchanges over socketpairs, waits for the children with
// a timeout and asserts on how they exited. A child reports a failed check by throwing; its
// message comes back to the parent over the same socketpair.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "atoll/common/error.hpp"
#include "backend.hpp"

namespace atl::detail {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class CheckFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Fails the child (throws) with the condition, its location and a message.
#define REQUIRE(cond, ...)                                                                \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      throw CheckFailure(                                                                 \
          ::atl::str_cat(__FILE__, ":", __LINE__, ": REQUIRE(" #cond ") ", __VA_ARGS__)); \
    }                                                                                     \
  } while (0)

// ---- small helpers -------------------------------------------------------------------------

std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
std::uint64_t seed_of(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return mix(mix(mix(a) ^ b) ^ c);
}
/// Deterministic pseudo-random bytes: both ends regenerate the same content from the seed.
void fill(std::span<std::byte> out, std::uint64_t seed) {
  std::size_t i = 0;
  for (; i + 8 <= out.size(); i += 8) {
    std::uint64_t v = mix(seed + i);
    std::memcpy(out.data() + i, &v, 8);
  }
  if (i < out.size()) {
    std::uint64_t v = mix(seed + i);
    std::memcpy(out.data() + i, &v, out.size() - i);
  }
}
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

void write_all(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw CheckFailure(str_cat("send(): ", std::strerror(errno)));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}
/// Reads exactly n bytes; false on EOF, error or timeout.
bool read_exact(int fd, void* data, std::size_t n, std::chrono::milliseconds limit) {
  char* p = static_cast<char*>(data);
  auto deadline = Clock::now() + limit;
  while (n > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}
/// True once the other end closes (EOF or reset) within the limit; data before is discarded.
bool wait_closed(int fd, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  char sink[4096];
  while (Clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 10) <= 0) continue;
    ssize_t r = ::recv(fd, sink, sizeof sink, 0);
    if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

/// An owned socket for the raw clients and the plain-socket baseline.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

sockaddr_in parse_address(const std::string& address) {
  auto colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  REQUIRE(::inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) == 1, address);
  return addr;
}
/// A blocking TCP connection to "host:port", TCP_NODELAY set.
Socket dial(const std::string& address) {
  sockaddr_in addr = parse_address(address);
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(s.get() >= 0, std::strerror(errno));
  REQUIRE(::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect to ",
          address, ": ", std::strerror(errno));
  int one = 1;
  ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}
/// A blocking listening socket on 127.0.0.1 and its "host:port".
std::pair<Socket, std::string> listen_local() {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "bind");
  REQUIRE(::listen(s.get(), 16) == 0, "listen");
  socklen_t len = sizeof addr;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return {std::move(s), str_cat("127.0.0.1:", ntohs(addr.sin_port))};
}

// ---- the wire format, rebuilt independently for the raw clients ----------------------------

constexpr std::uint32_t kMagic = 0x4c4f5441;
constexpr std::uint32_t kVersion = 2;
constexpr std::size_t kHelloHeader = 18;  // magic, version, rank, size, u16 token length

struct Bytes {
  std::string data;
  template <typename T>
  Bytes& put(T v) {
    data.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Bytes& raw(const std::string& s) {
    data += s;
    return *this;
  }
};
std::string hello(std::uint32_t magic, std::uint32_t version, std::uint32_t rank,
                  std::uint32_t size, const std::string& token = "") {
  return Bytes()
      .put(magic)
      .put(version)
      .put(rank)
      .put(size)
      .put(static_cast<std::uint16_t>(token.size()))
      .raw(token)
      .data;
}

BackendOptions with_interface(std::string iface) {
  BackendOptions options;
  options.tcp_interface = std::move(iface);
  return options;
}
BackendOptions with_token(std::string token) {
  BackendOptions options;
  options.token = std::move(token);
  return options;
}
std::string am_frame(std::uint16_t handler, const std::string& payload) {
  return Bytes()
      .put(static_cast<std::uint32_t>(7 + payload.size()))
      .put(std::uint8_t{1})
      .put(handler)
      .raw(payload)
      .data;
}
std::string put_frame(std::uint32_t window, std::uint64_t offset, const std::string& payload) {
  return Bytes()
      .put(static_cast<std::uint32_t>(17 + payload.size()))
      .put(std::uint8_t{2})
      .put(window)
      .put(offset)
      .raw(payload)
      .data;
}
std::string flush_frame(std::uint8_t type, std::uint64_t id) {
  return Bytes().put(std::uint32_t{13}).put(type).put(id).data;
}

// ---- process harness -------------------------------------------------------------------------

/// A child's side of its channel to the parent.
class Ctx {
 public:
  Ctx(int rank, int size, int fd) : rank(rank), size(size), fd_(fd) {}
  const int rank;
  const int size;

  /// Every live child contributes a string; all get every contribution by rank ("" for ranks
  /// that died). Blocks: use Node::exchange while a backend must keep progressing.
  std::vector<std::string> exchange(const std::string& mine) {
    send_message('X', mine);
    std::vector<std::string> all;
    auto deadline = Clock::now() + 20s;
    while (!try_receive(all)) {
      REQUIRE(Clock::now() < deadline, "no answer from the parent to an exchange");
      pollfd pfd{fd_, POLLIN, 0};
      ::poll(&pfd, 1, 100);
    }
    return all;
  }
  void barrier() { exchange(""); }

  /// Non-blocking: true once the parent's answer to an exchange is complete (in `all`).
  bool try_receive(std::vector<std::string>& all) {
    char tmp[4096];
    ssize_t r;
    while ((r = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT)) > 0) {
      in_.append(tmp, static_cast<std::size_t>(r));
    }
    REQUIRE(r != 0, "the parent closed the channel");
    std::size_t pos = 0;
    auto take = [&](std::size_t n) -> const char* {
      if (in_.size() - pos < n) return nullptr;
      pos += n;
      return in_.data() + pos - n;
    };
    const char* p = take(4);
    if (p == nullptr) return false;
    std::uint32_t count;
    std::memcpy(&count, p, 4);
    std::vector<std::string> out(count);
    for (auto& s : out) {
      if ((p = take(4)) == nullptr) return false;
      std::uint32_t len;
      std::memcpy(&len, p, 4);
      if ((p = take(len)) == nullptr) return false;
      s.assign(p, len);
    }
    in_.erase(0, pos);
    all = std::move(out);
    return true;
  }
  void send_message(char kind, const std::string& body) {
    Bytes b;
    b.put(kind).put(static_cast<std::uint32_t>(body.size())).raw(body);
    write_all(fd_, b.data.data(), b.data.size());
  }

 private:
  int fd_;
  std::string in_;  // bytes of the parent's answer received so far
};

using Body = std::function<void(Ctx&)>;

struct ChildResult {
  pid_t pid = -1;
  bool reaped = false;
  int status = 0;
  std::string error;  // what a failing child reported

  bool ok() const { return reaped && WIFEXITED(status) && WEXITSTATUS(status) == 0; }
  bool killed_by(int sig) const { return reaped && WIFSIGNALED(status) && WTERMSIG(status) == sig; }
  std::string describe() const {
    if (!reaped) return "not reaped";
    if (WIFSIGNALED(status)) return str_cat("killed by signal ", WTERMSIG(status), " ", error);
    return str_cat("exit code ", WEXITSTATUS(status), " ", error);
  }
};
struct RunResult {
  std::vector<ChildResult> ranks;
  bool timed_out = false;
};

[[noreturn]] void child_main(int rank, int size, int fd, const Body& body) {
  int code = 0;
  try {
    Ctx ctx(rank, size, fd);
    body(ctx);
  } catch (const std::exception& e) {
    std::string msg = str_cat("rank ", rank, ": ", e.what());
    std::fprintf(stderr, "%s\n", msg.c_str());
    try {
      Ctx(rank, size, fd).send_message('E', msg);
    } catch (...) {
    }
    code = 1;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(code);
}

/// Forks n children running body, relays their exchanges, waits for all of them (killing the
/// rest after `limit`).
RunResult run_ranks(int n, const Body& body, std::chrono::seconds limit = 25s) {
  std::vector<std::array<int, 2>> pairs(static_cast<std::size_t>(n));
  for (auto& p : pairs) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p.data()) != 0) {
      throw std::runtime_error("socketpair failed");
    }
  }
  std::fflush(stdout);
  std::fflush(stderr);
  RunResult result;
  result.ranks.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      for (int j = 0; j < n; ++j) {
        ::close(pairs[static_cast<std::size_t>(j)][0]);
        if (j != i) ::close(pairs[static_cast<std::size_t>(j)][1]);
      }
      child_main(i, n, pairs[static_cast<std::size_t>(i)][1], body);
    }
    result.ranks[static_cast<std::size_t>(i)].pid = pid;
  }
  struct Channel {
    int fd = -1;
    std::string buf;
    std::optional<std::string> round;
  };
  std::vector<Channel> chans(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ::close(pairs[static_cast<std::size_t>(i)][1]);
    chans[static_cast<std::size_t>(i)].fd = pairs[static_cast<std::size_t>(i)][0];
  }
  const auto deadline = Clock::now() + limit;
  auto all_done = [&] {
    return std::all_of(result.ranks.begin(), result.ranks.end(),
                       [](const ChildResult& c) { return c.reaped; }) &&
           std::all_of(chans.begin(), chans.end(), [](const Channel& c) { return c.fd < 0; });
  };
  while (!all_done()) {
    if (Clock::now() > deadline) {
      result.timed_out = true;
      for (auto& c : result.ranks) {
        if (!c.reaped) ::kill(c.pid, SIGKILL);
      }
      for (auto& c : result.ranks) {
        if (!c.reaped && ::waitpid(c.pid, &c.status, 0) == c.pid) c.reaped = true;
      }
      break;
    }
    std::vector<pollfd> fds;
    for (auto& c : chans) {
      if (c.fd >= 0) fds.push_back({c.fd, POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 5);
    for (std::size_t i = 0; i < chans.size(); ++i) {
      Channel& c = chans[i];
      if (c.fd < 0) continue;
      pollfd pfd{c.fd, POLLIN, 0};
      if (::poll(&pfd, 1, 0) <= 0) continue;
      char tmp[65536];
      ssize_t r = ::recv(c.fd, tmp, sizeof tmp, 0);
      if (r <= 0) {
        ::close(c.fd);
        c.fd = -1;
        c.round.reset();
        continue;
      }
      c.buf.append(tmp, static_cast<std::size_t>(r));
      while (c.buf.size() >= 5) {
        std::uint32_t len;
        std::memcpy(&len, c.buf.data() + 1, 4);
        if (c.buf.size() < 5 + len) break;
        std::string body_text = c.buf.substr(5, len);
        if (c.buf[0] == 'E') {
          result.ranks[i].error = body_text;
        } else {
          c.round = body_text;
        }
        c.buf.erase(0, 5 + len);
      }
    }
    // A round completes when every child still connected has contributed.
    bool any = false, all = true;
    for (auto& c : chans) {
      if (c.fd < 0) continue;
      any = any || c.round.has_value();
      all = all && c.round.has_value();
    }
    if (any && all) {
      Bytes reply;
      reply.put(static_cast<std::uint32_t>(n));
      for (auto& c : chans) {
        std::string v = c.round.value_or("");
        reply.put(static_cast<std::uint32_t>(v.size())).raw(v);
      }
      for (auto& c : chans) {
        if (c.fd < 0) continue;
        c.round.reset();
        try {
          write_all(c.fd, reply.data.data(), reply.data.size());
        } catch (const std::exception&) {
        }
      }
    }
    for (auto& c : result.ranks) {
      if (!c.reaped && ::waitpid(c.pid, &c.status, WNOHANG) == c.pid) c.reaped = true;
    }
  }
  for (auto& c : chans) {
    if (c.fd >= 0) ::close(c.fd);
  }
  return result;
}

void expect_all_ok(const RunResult& r) {
  EXPECT_FALSE(r.timed_out) << "children timed out and were killed";
  for (std::size_t i = 0; i < r.ranks.size(); ++i) {
    EXPECT_TRUE(r.ranks[i].ok()) << "child " << i << ": " << r.ranks[i].describe();
  }
}

// ---- a backend inside a child ------------------------------------------------------------

using AmHandler = std::function<void(int peer, std::uint16_t handler, std::span<const std::byte>)>;

/// One rank: its backend, the failures it reported, and a test-supplied AM handler.
class Node {
 public:
  explicit Node(Ctx& ctx, BackendOptions options = {})
      : ctx_(ctx),
        failures(static_cast<std::size_t>(ctx.size), 0),
        why(static_cast<std::size_t>(ctx.size)) {
    backend = make_tcp_backend(options);
    backend->set_callbacks(
        [this](int peer, std::uint16_t handler, std::span<const std::byte> bytes) {
          REQUIRE(on_am, "unexpected active message from rank ", peer);
          on_am(peer, handler, bytes);
        },
        [this](int peer, const std::string& text) {
          REQUIRE(peer >= 0 && peer < ctx_.size, "failure of rank ", peer, ": ", text);
          ++failures[static_cast<std::size_t>(peer)];
          why[static_cast<std::size_t>(peer)] = text;
        });
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Exchanges addresses through the parent and connects every pair.
  void connect() {
    auto addresses = ctx_.exchange(backend->address());
    backend->connect(ctx_.rank, addresses);
  }

  /// Calls progress() until ready() (throws after limit). Yields the CPU after a long idle
  /// stretch unless `yield_when_idle` is off: the test machine may have fewer cores than
  /// spinning ranks.
  template <typename F>
  void spin_until(F&& ready, const std::string& what, std::chrono::milliseconds limit = 20s) {
    auto deadline = Clock::now() + limit;
    std::uint32_t n = 0, idle = 0;
    while (!ready()) {
      idle = backend->progress() ? 0 : idle + 1;
      if (fail_fast) require_no_failures();
      if (yield_when_idle && idle >= 64) {
        std::this_thread::yield();
        idle = 0;
      }
      if ((++n & 1023) == 0 && Clock::now() > deadline) {
        throw CheckFailure(str_cat("rank ", ctx_.rank, ": timed out waiting for ", what));
      }
    }
  }
  /// An exchange through the parent while the backend keeps progressing (peers may still
  /// need this rank to answer their flushes).
  std::vector<std::string> exchange(const std::string& mine) {
    ctx_.send_message('X', mine);
    std::vector<std::string> all;
    spin_until([&] { return ctx_.try_receive(all); }, "an exchange through the parent");
    return all;
  }
  void barrier() { exchange(""); }
  void flush(int peer) {
    Completion done;
    backend->post_flush(peer, &done);
    spin_until([&] { return done.done; }, str_cat("flush to rank ", peer));
    REQUIRE(!done.failed, "flush to rank ", peer, ": ", done.error);
  }
  void send(int peer, std::uint16_t handler, std::span<const std::byte> bytes) {
    Completion done;
    backend->post_am(peer, handler, bytes, &done);
    spin_until([&] { return done.done; }, "an active message to complete");
    REQUIRE(!done.failed, done.error);
  }
  void put(int peer, std::uint32_t window, std::uint64_t offset, std::span<const std::byte> bytes) {
    Completion done;
    backend->post_put(peer, window, offset, bytes, &done);
    spin_until([&] { return done.done; }, "a put to complete");
    REQUIRE(!done.failed, done.error);
  }
  void require_no_failures() {
    for (std::size_t i = 0; i < failures.size(); ++i) {
      REQUIRE(failures[i] == 0, "rank ", i, " failed: ", why[i]);
    }
  }

  Ctx& ctx_;  // declared first: the vectors below are sized from it
  std::unique_ptr<Backend> backend;
  AmHandler on_am;
  std::vector<int> failures;  // on_failure calls per peer
  std::vector<std::string> why;
  bool yield_when_idle = true;
  bool fail_fast = true;  ///< spin_until throws at the first peer failure
};

// ---- active messages: per-pair order and integrity ---------------------------------------------

constexpr int kMessagesPerRank = 100000;

std::size_t am_size(int src, int dst, std::uint64_t seq) {
  std::uint64_t h = seed_of(static_cast<std::uint64_t>(src), static_cast<std::uint64_t>(dst), seq);
  unsigned r = static_cast<unsigned>(h % 1000);
  std::uint64_t v = h >> 12;
  if (r < 5) return 0;
  if (r < 900) return 1 + v % 256;
  if (r < 990) return 257 + v % 3840;
  if (r < 998) return 4097 + v % 61440;
  return 65536;
}
std::uint16_t am_handler(std::uint64_t seq) {
  return static_cast<std::uint16_t>(seq * 7919);
}
std::uint64_t am_seed(int src, int dst, std::uint64_t seq) {
  return seed_of(static_cast<std::uint64_t>(src) + 100, static_cast<std::uint64_t>(dst), seq);
}

void am_order_scenario(Ctx& ctx) {
  const int n = ctx.size, me = ctx.rank;
  Node node(ctx);
  std::vector<int> peers;
  for (int p = 0; p < n; ++p) {
    if (p != me) peers.push_back(p);
  }
  // What each peer sends to me: messages are dealt round-robin over its peers.
  std::vector<std::uint64_t> expected(static_cast<std::size_t>(n), 0);
  for (int src = 0; src < n; ++src) {
    if (src == me) continue;
    int my_index = me < src ? me : me - 1;
    int fan = n - 1;
    expected[static_cast<std::size_t>(src)] =
        static_cast<std::uint64_t>(kMessagesPerRank / fan + (my_index < kMessagesPerRank % fan));
  }
  constexpr std::uint64_t kSelfMessages = 100;
  expected[static_cast<std::size_t>(me)] = kSelfMessages;

  std::vector<std::uint64_t> received(static_cast<std::size_t>(n), 0);
  std::vector<std::byte> check(65536);
  node.on_am = [&](int src, std::uint16_t handler, std::span<const std::byte> bytes) {
    std::uint64_t seq = received[static_cast<std::size_t>(src)]++;
    REQUIRE(handler == am_handler(seq), "from rank ", src, " message ", seq, ": handler ", handler);
    std::size_t size = am_size(src, me, seq);
    REQUIRE(bytes.size() == size, "from rank ", src, " message ", seq, ": ", bytes.size(),
            " bytes, expected ", size, " (lost or reordered)");
    fill(std::span(check).first(size), am_seed(src, me, seq));
    REQUIRE(std::memcmp(bytes.data(), check.data(), size) == 0, "from rank ", src, " message ", seq,
            ": corrupted payload");
  };
  node.connect();

  std::vector<std::uint64_t> sent(static_cast<std::size_t>(n), 0);
  std::vector<std::byte> buf(65536);
  for (std::uint64_t s = 0; s < kSelfMessages; ++s) {  // to self: delivered by progress()
    std::size_t size = am_size(me, me, s);
    fill(std::span(buf).first(size), am_seed(me, me, s));
    node.send(me, am_handler(s), std::span(buf).first(size));
  }
  for (int i = 0; i < kMessagesPerRank; ++i) {
    int dst = peers[static_cast<std::size_t>(i) % peers.size()];
    std::uint64_t seq = sent[static_cast<std::size_t>(dst)]++;
    std::size_t size = am_size(me, dst, seq);
    fill(std::span(buf).first(size), am_seed(me, dst, seq));
    node.send(dst, am_handler(seq), std::span(buf).first(size));
    if ((i & 15) == 0) node.backend->progress();
  }
  node.spin_until([&] { return received == expected; }, "every message");
  for (int p : peers) node.flush(p);
  node.require_no_failures();
  node.barrier();  // nobody disconnects while a peer may still need its flush answered
  node.backend->disconnect();
}

class TcpAmOrder : public testing::TestWithParam<int> {};

TEST_P(TcpAmOrder, DeliversEveryMessageInOrderIntact) {
  expect_all_ok(run_ranks(GetParam(), am_order_scenario));
}
INSTANTIATE_TEST_SUITE_P(Ranks, TcpAmOrder, testing::Values(2, 3, 4));

// ---- puts ------------------------------------------------------------------------------------

constexpr std::size_t kSlot = 256 * 1024;
constexpr std::size_t kBig = 16 << 20;
constexpr std::size_t kPutSizes[] = {1, 7, 8, 9, 15, 16, 17, 31, 100, 1000, 4096, 65537, 100000};

std::size_t window0_size(int rank, int n) {
  return kBig + kSlot * static_cast<std::size_t>(n) + 4096 * static_cast<std::size_t>(rank) + 13;
}
std::size_t window1_size(int rank) {
  return 100 + static_cast<std::size_t>(rank);
}

void puts_scenario(Ctx& ctx) {
  const int n = ctx.size, me = ctx.rank;
  const int next = (me + 1) % n, prev = (me + n - 1) % n;
  constexpr std::size_t kCanary = 64;
  // Windows live inside larger zeroed buffers: the bytes after them must stay zero.
  std::vector<std::uint64_t> mem0((window0_size(me, n) + kCanary) / 8 + 1, 0);
  std::vector<std::uint64_t> mem1((window1_size(me) + kCanary) / 8 + 1, 0);
  std::span<std::byte> w0(reinterpret_cast<std::byte*>(mem0.data()), window0_size(me, n));
  std::span<std::byte> w1(reinterpret_cast<std::byte*>(mem1.data()), window1_size(me));
  auto canary_clean = [](std::span<std::byte> w, std::size_t total) {
    const std::byte* end = w.data() + w.size();
    return std::all_of(end, end + (total - w.size()),
                       [](std::byte b) { return b == std::byte{0}; });
  };

  Node node(ctx);
  int verified = 0;
  std::vector<std::byte> expect(std::max(kBig, kSlot));
  constexpr std::size_t kLargeAm = 3 << 20;  // larger than any receive buffer starts out
  node.on_am = [&](int src, std::uint16_t handler, std::span<const std::byte> payload) {
    REQUIRE(handler == 2, "unexpected handler ", handler);
    REQUIRE(payload.size() == kLargeAm, "large AM of ", payload.size(), " bytes");
    fill(std::span(expect).first(kLargeAm), seed_of(static_cast<std::uint64_t>(src), 3, 3));
    REQUIRE(std::memcmp(payload.data(), expect.data(), kLargeAm) == 0, "large AM corrupted");
    std::size_t off = static_cast<std::size_t>(src) * kSlot;
    for (std::size_t i = 0; i < std::size(kPutSizes); ++i) {
      std::size_t len = kPutSizes[i];
      fill(std::span(expect).first(len),
           seed_of(static_cast<std::uint64_t>(src), static_cast<std::uint64_t>(me), i));
      REQUIRE(std::memcmp(w0.data() + off, expect.data(), len) == 0, "put ", i, " (", len,
              " bytes) from rank ", src, " not visible after its flush");
      off += len;
    }
    REQUIRE(w1[static_cast<std::size_t>(src)] == std::byte(src + 1), "1-byte put from ", src);
    if (src == prev) {
      fill(std::span(expect).first(kBig),
           seed_of(static_cast<std::uint64_t>(src), static_cast<std::uint64_t>(me), 999));
      REQUIRE(std::memcmp(w0.data() + w0.size() - kBig, expect.data(), kBig - 1) == 0,
              "16 MiB put from rank ", src);
      REQUIRE(w0.back() == std::byte{0xA5}, "the put after the fence did not land last");
      REQUIRE(w1.back() == std::byte{0x5A}, "last byte of window 1");
    }
    REQUIRE(canary_clean(w0, mem0.size() * 8), "bytes after window 0 were written");
    REQUIRE(canary_clean(w1, mem1.size() * 8), "bytes after window 1 were written");
    ++verified;
  };
  node.connect();
  node.backend->register_window(0, w0);
  node.backend->register_window(1, w1);
  for (int p = 0; p < n; ++p) {
    if (p == me) continue;
    node.backend->add_remote_window(p, 0, window0_size(p, n), "");
    node.backend->add_remote_window(p, 1, window1_size(p), "");
  }
  node.barrier();  // every window is registered before anyone puts

  std::vector<std::byte> src(kSlot);
  std::vector<std::byte> big(kBig);
  for (int p = 0; p < n; ++p) {
    if (p == me) continue;
    std::size_t off = static_cast<std::size_t>(me) * kSlot;
    for (std::size_t i = 0; i < std::size(kPutSizes); ++i) {
      std::size_t len = kPutSizes[i];
      fill(std::span(src).first(len),
           seed_of(static_cast<std::uint64_t>(me), static_cast<std::uint64_t>(p), i));
      node.put(p, 0, off, std::span(src).first(len));
      off += len;
    }
    node.put(p, 0, off, {});  // empty put
    std::byte mark{static_cast<unsigned char>(me + 1)};
    node.put(p, 1, static_cast<std::uint64_t>(me), std::span(&mark, 1));
    if (p == next) {
      fill(big, seed_of(static_cast<std::uint64_t>(me), static_cast<std::uint64_t>(p), 999));
      std::size_t size = window0_size(p, n);
      node.put(p, 0, size - kBig, big);  // ends at the very last byte of the window
      node.backend->fence(p);
      std::byte last{0xA5};
      node.put(p, 0, size - 1, std::span(&last, 1));
      std::byte last1{0x5A};
      node.put(p, 1, window1_size(p) - 1, std::span(&last1, 1));
    }
    node.backend->progress();
  }
  // A put outside the remote window (as add_remote_window gave it) fails locally.
  Completion outside;
  std::byte one{1};
  node.backend->post_put(next, 1, window1_size(next), std::span(&one, 1), &outside);
  REQUIRE(outside.done && outside.failed, "a put beyond the remote window was accepted");
  // Puts to self are applied at once; so is a flush to self.
  std::byte self_mark{0x77};
  node.put(me, 1, w1.size() - 1, std::span(&self_mark, 1));
  REQUIRE(w1.back() == self_mark, "put to self not applied at once");
  Completion self_flush;
  node.backend->post_flush(me, &self_flush);
  REQUIRE(self_flush.done && !self_flush.failed, "flush to self did not complete at once");
  w1.back() = std::byte{0};

  for (int p = 0; p < n; ++p) {
    if (p == me) continue;
    node.flush(p);
    std::vector<std::byte> large(kLargeAm);
    fill(large, seed_of(static_cast<std::uint64_t>(me), 3, 3));
    node.send(p, 2, large);  // "check my puts"
  }
  node.spin_until([&] { return verified == n - 1; }, "every peer's puts");
  node.require_no_failures();
  REQUIRE(contains(node.backend->describe(), "tcp: 127.0.0.1:"), node.backend->describe());
  node.barrier();
  node.backend->disconnect();
}

class TcpPuts : public testing::TestWithParam<int> {};

TEST_P(TcpPuts, VisibleAfterFlushUpToTheLastByte) {
  expect_all_ok(run_ranks(GetParam(), puts_scenario));
}
INSTANTIATE_TEST_SUITE_P(Ranks, TcpPuts, testing::Values(2, 3, 4));

// ---- the final 8 bytes are written last ------------------------------------------------------

// Rank 0 puts records into rank 1's window; each ends in an 8-byte sequence number. A poller
// thread on rank 1 spins on that word (acquire) and, once it changes, checks the record body.
// The next record is only put after rank 1 acknowledged the previous one.
TEST(TcpPuts, FinalEightBytesPublishTheRest) {
  constexpr int kRounds = 600;
  constexpr std::size_t kWindow = 1 << 20;
  auto record = [](int k) {
    std::uint64_t h = mix(static_cast<std::uint64_t>(k));
    std::size_t len = k % 3 == 0   ? 8 * (1 + (h >> 8) % 64)               // up to 512 B
                      : k % 3 == 1 ? 8 * (512 + (h >> 8) % 7680)           // 4..64 KiB
                                   : 8 * (8192 + (h >> 8) % (48 * 1024));  // 64..448 KiB
    std::size_t off = 8 * ((h >> 32) % 512);
    return std::pair{off, len};
  };
  auto body_seed = [](int k) { return seed_of(7, 7, static_cast<std::uint64_t>(k)); };
  expect_all_ok(run_ranks(2, [&](Ctx& ctx) {
    std::vector<std::uint64_t> mem(kWindow / 8, 0);
    std::span<std::byte> window(reinterpret_cast<std::byte*>(mem.data()), kWindow);
    Node node(ctx);
    int acked = 0;
    node.on_am = [&](int, std::uint16_t handler, std::span<const std::byte>) {
      REQUIRE(handler == 3, "handler ", handler);
      ++acked;
    };
    node.connect();
    node.backend->register_window(0, window);
    node.barrier();
    if (ctx.rank == 0) {
      std::vector<std::byte> buf(kWindow);
      for (int k = 0; k < kRounds; ++k) {
        auto [off, len] = record(k);
        fill(std::span(buf).first(len - 8), body_seed(k));
        std::uint64_t seq = static_cast<std::uint64_t>(k) + 1;
        std::memcpy(buf.data() + len - 8, &seq, 8);
        node.put(1, 0, off, std::span(buf).first(len));
        node.spin_until([&] { return acked == k + 1; }, str_cat("ack of record ", k));
      }
      node.flush(1);
    } else {
      std::atomic<int> checked{0};
      std::atomic<bool> stop{false};
      std::string error;
      std::thread poller([&] {
        std::vector<std::byte> expect(kWindow);
        for (int k = 0; k < kRounds && !stop.load(); ++k) {
          auto [off, len] = record(k);
          auto* word = reinterpret_cast<std::uint64_t*>(window.data() + off + len - 8);
          std::uint64_t seq = static_cast<std::uint64_t>(k) + 1;
          const std::size_t body = len - 8;
          fill(std::span(expect).first(body), body_seed(k));  // ready before the tail lands
          for (unsigned spins = 1;
               std::atomic_ref<std::uint64_t>(*word).load(std::memory_order_acquire) != seq;
               ++spins) {
            if (stop.load(std::memory_order_relaxed)) return;
            if (spins % 64 == 0) std::this_thread::yield();  // fewer cores than spinners
          }
          // The bytes just before the tail first: a writer that stored the tail early would
          // most likely still be short of them.
          const std::size_t near = std::min<std::size_t>(body, 64);
          if (std::memcmp(window.data() + off + body - near, expect.data() + body - near, near) !=
                  0 ||
              std::memcmp(window.data() + off, expect.data(), body) != 0) {
            error = str_cat("record ", k, " (", len,
                            " bytes): body incomplete when its final 8 bytes were visible");
            checked.store(-1, std::memory_order_release);
            return;
          }
          checked.store(k + 1, std::memory_order_release);
        }
      });
      int done = 0;
      try {
        node.spin_until(
            [&] {
              int c = checked.load(std::memory_order_acquire);
              if (c < 0) return true;
              while (done < c) {
                ++done;
                Completion ack;
                node.backend->post_am(0, 3, {}, &ack);  // completes at once: nothing to keep
              }
              return done == kRounds;
            },
            "the poller");
      } catch (...) {
        stop.store(true);
        poller.join();
        throw;
      }
      poller.join();
      REQUIRE(error.empty(), error);
    }
    node.require_no_failures();
    node.barrier();
    node.backend->disconnect();
  }));
}

// ---- untrusted input: handshakes and frames --------------------------------------------------

// Rank 0 of a 3-rank job is a real backend; child 1 plays ranks 1 and 2 with raw sockets,
// trying bad hellos first (wrong tokens among them). Then it checks the frames rank 0 sends
// and sends its own.
TEST(TcpUntrusted, BadHellosAreRejectedAndLegitimatePeersGetThrough) {
  const std::string token = "job-secret";
  expect_all_ok(run_ranks(2, [&](Ctx& ctx) {
    if (ctx.rank == 0) {
      Ctx job(0, 3, -1);  // the backend believes in a 3-rank job
      Node node(job, with_token(token));
      node.fail_fast = false;  // this test expects a peer failure
      std::string got;
      node.on_am = [&](int peer, std::uint16_t handler, std::span<const std::byte> bytes) {
        REQUIRE(peer == 2 && handler == 5, "AM from ", peer, " handler ", handler);
        got.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      };
      auto addresses = ctx.exchange(node.backend->address());
      node.backend->connect(0, {addresses[0], "", ""});
      node.send(1, 77, as_bytes(std::string("hello-1")));
      node.send(2, 77, as_bytes(std::string("hello-2")));
      node.spin_until([&] { return !got.empty() && node.failures[1] > 0; },
                      "the AM from rank 2 and rank 1's close");
      REQUIRE(got == "abc", "payload ", quote_excerpt(got));
      REQUIRE(contains(node.why[1], "rank 1") && contains(node.why[1], "closed"), node.why[1]);
      REQUIRE(node.failures[2] == 0, node.why[2]);
      ctx.barrier();
      return;
    }
    auto addresses = ctx.exchange("");
    const std::string target = addresses[0];
    struct Bad {
      std::string bytes;
      const char* what;
    };
    const Bad bad[] = {
        {hello(0xdeadbeef, kVersion, 1, 3), "wrong magic"},
        {hello(kMagic, kVersion + 1, 1, 3), "wrong version"},
        {hello(kMagic, kVersion, 7, 3), "rank out of range"},
        {hello(kMagic, kVersion, 0, 3), "rank 0 itself"},
        {hello(kMagic, kVersion, 1, 5), "wrong job size"},
        {std::string(kHelloHeader, '\0'), "zeros"},
        {hello(kMagic, kVersion, 1, 3), "no token"},
        {hello(kMagic, kVersion, 1, 3, "job-secreT"), "a wrong token"},
        {hello(kMagic, kVersion, 1, 3, token + "x"), "a longer token"},
        {hello(kMagic, kVersion, 1, 3, std::string(2000, 'x')), "a 2000-byte token"},
    };
    for (const Bad& b : bad) {
      Socket s = dial(target);
      write_all(s.get(), b.bytes.data(), b.bytes.size());
      REQUIRE(wait_closed(s.get(), 5s), "a hello with ", b.what, " was not rejected");
    }
    {
      Socket s = dial(target);  // half a hello, then gone
      write_all(s.get(), hello(kMagic, kVersion, 1, 3, token).data(), 8);
    }
    auto check_reply = [&](Socket& s) {
      std::string reply(kHelloHeader + token.size(), '\0');
      REQUIRE(read_exact(s.get(), reply.data(), reply.size(), 5s), "no hello reply");
      REQUIRE(reply == hello(kMagic, kVersion, 0, 3, token), "bad reply hello");
    };
    Socket one = dial(target);
    std::string h1 = hello(kMagic, kVersion, 1, 3, token);
    write_all(one.get(), h1.data(), h1.size());
    check_reply(one);
    {
      Socket dup = dial(target);
      write_all(dup.get(), h1.data(), h1.size());
      REQUIRE(wait_closed(dup.get(), 5s), "a duplicate rank 1 was accepted");
    }
    Socket two = dial(target);
    for (char c : hello(kMagic, kVersion, 2, 3, token)) {  // byte by byte
      write_all(two.get(), &c, 1);
      std::this_thread::sleep_for(1ms);
    }
    check_reply(two);
    // What rank 0 sends, read against the documented wire format.
    for (auto* s : {&one, &two}) {
      std::string expect = am_frame(77, s == &one ? "hello-1" : "hello-2");
      std::string frame(expect.size(), '\0');
      REQUIRE(read_exact(s->get(), frame.data(), frame.size(), 5s), "no AM from rank 0");
      REQUIRE(frame == expect, "AM frame ", quote_excerpt(frame));
    }
    std::string am = am_frame(5, "abc") + flush_frame(3, 42);
    for (char c : am) {  // split over many reads
      write_all(two.get(), &c, 1);
    }
    std::string ack(13, '\0');
    REQUIRE(read_exact(two.get(), ack.data(), ack.size(), 5s), "no FLUSH_ACK");
    REQUIRE(ack == flush_frame(4, 42), "bad FLUSH_ACK ", quote_excerpt(ack));
    one.close();
    ctx.barrier();
  }));
}

struct Garbage {
  const char* name;
  std::string bytes;   // sent after a valid hello as rank 1
  const char* expect;  // in the failure message
};

std::vector<Garbage> garbage_cases() {
  const auto u64max = std::numeric_limits<std::uint64_t>::max();
  std::string junk(4096, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(mix(i) | 0x80);
  return {
      {"LengthBelowHeader", Bytes().put(std::uint32_t{3}).put(std::uint8_t{1}).data, "length 3"},
      {"LengthHuge", Bytes().put(std::uint32_t{0xffffffff}).put(std::uint8_t{1}).data,
       "length 4294967295"},
      {"UnknownType", Bytes().put(std::uint32_t{5}).put(std::uint8_t{99}).data,
       "unknown frame type 99"},
      {"AmShorterThanHeader", Bytes().put(std::uint32_t{6}).put(std::uint8_t{1}).raw("x").data,
       "active message of length 6"},
      {"PutShorterThanHeader",
       Bytes().put(std::uint32_t{12}).put(std::uint8_t{2}).raw("1234567").data, "put of length 12"},
      {"PutUnknownWindow", put_frame(9, 0, "abc"), "unknown window 9"},
      {"PutPastWindowEnd", put_frame(0, 4090, "0123456789"), "outside window 0"},
      {"PutOffsetPastEnd", put_frame(0, 4097, ""), "outside window 0"},
      {"PutOffsetOverflow", put_frame(0, u64max - 3, "0123456789"), "outside window 0"},
      {"PutHugePastEnd",
       Bytes()
           .put(std::uint32_t{17 + (1u << 20)})
           .put(std::uint8_t{2})
           .put(std::uint32_t{0})
           .put(std::uint64_t{0})
           .raw("partial")
           .data,
       "outside window 0"},
      {"FlushWrongLength", Bytes().put(std::uint32_t{12}).put(std::uint8_t{3}).raw("1234567").data,
       "flush frame of length 12"},
      {"UnexpectedFlushAck", flush_frame(4, 1234), "acknowledgement of flush 1234"},
      {"RandomJunk", junk, "bad frame"},
      {"TruncatedThenClosed", am_frame(1, "full").substr(0, 8), "closed"},
      {"ValidThenBad", am_frame(1, "ok") + put_frame(0, 0, "ab") + put_frame(0, 4095, "ab"),
       "outside window 0"},
  };
}

class TcpGarbage : public testing::TestWithParam<Garbage> {};

// Rank 0 is a real backend; child 1 completes a valid hello as rank 1 and sends garbage.
TEST_P(TcpGarbage, FailsThatPeerOnlyAndNeverWritesOutOfBounds) {
  const Garbage g = GetParam();
  expect_all_ok(run_ranks(2, [&](Ctx& ctx) {
    if (ctx.rank == 0) {
      Node node(ctx);
      node.fail_fast = false;                       // this test expects a peer failure
      std::vector<std::uint64_t> mem(8192 / 8, 0);  // window: the first 4096 bytes
      std::span<std::byte> window(reinterpret_cast<std::byte*>(mem.data()), 4096);
      int ams = 0;
      node.on_am = [&](int, std::uint16_t, std::span<const std::byte>) { ++ams; };
      auto addresses = ctx.exchange(node.backend->address());
      node.backend->register_window(0, window);
      node.backend->connect(0, {addresses[0], ""});
      node.spin_until([&] { return node.failures[1] > 0; }, "the failure of rank 1", 10s);
      REQUIRE(contains(node.why[1], g.expect) && contains(node.why[1], "rank 1"),
              "failure message ", quote_excerpt(node.why[1], 200), " lacks '", g.expect, "'");
      for (int i = 0; i < 1000; ++i) node.backend->progress();
      REQUIRE(node.failures[1] == 1, "rank 1 reported ", node.failures[1], " times");
      Completion flush, am;
      node.backend->post_flush(1, &flush);
      node.backend->post_am(1, 1, {}, &am);
      REQUIRE(flush.done && flush.failed && contains(flush.error, "rank 1"), flush.error);
      REQUIRE(am.done && am.failed, "AM to a failed peer did not fail");
      std::string_view name = g.name;
      if (name == "ValidThenBad") {
        REQUIRE(ams == 1 && window[0] == std::byte{'a'} && window[1] == std::byte{'b'},
                "frames before the bad one were not applied");
        window[0] = window[1] = std::byte{0};
      }
      auto* bytes = reinterpret_cast<const std::byte*>(mem.data());
      REQUIRE(std::all_of(bytes, bytes + 8192, [](std::byte b) { return b == std::byte{0}; }),
              "a rejected put wrote into memory");
      ctx.barrier();
      return;
    }
    auto addresses = ctx.exchange("");
    Socket s = dial(addresses[0]);
    std::string h = hello(kMagic, kVersion, 1, 2);
    write_all(s.get(), h.data(), h.size());
    std::array<std::byte, kHelloHeader> reply;
    REQUIRE(read_exact(s.get(), reply.data(), reply.size(), 5s), "no hello reply");
    write_all(s.get(), g.bytes.data(), g.bytes.size());
    if (std::string_view(g.name) == "TruncatedThenClosed") s.close();
    if (s.get() >= 0) REQUIRE(wait_closed(s.get(), 10s), "rank 0 kept the connection open");
    ctx.barrier();
  }));
}
INSTANTIATE_TEST_SUITE_P(Frames, TcpGarbage, testing::ValuesIn(garbage_cases()),
                         [](const testing::TestParamInfo<Garbage>& info) {
                           return std::string(info.param.name);
                         });

// ---- peer death, connect errors ----------------------------------------------------------------

// Rank 2 is SIGKILLed while ranks 0 and 1 have flushes to it outstanding.
TEST(TcpFailure, KilledPeerIsReportedOnceAndItsFlushFails) {
  RunResult r = run_ranks(3, [](Ctx& ctx) {
    Node node(ctx);
    node.fail_fast = false;  // this test expects a peer failure
    int pings = 0;
    node.on_am = [&](int peer, std::uint16_t, std::span<const std::byte>) {
      REQUIRE(peer != 2, "message from rank 2");
      ++pings;
    };
    node.connect();
    node.barrier();
    if (ctx.rank == 2) {
      ctx.barrier();  // the others posted their flushes (this rank never answers)
      ::raise(SIGKILL);
    }
    Completion pending;
    node.backend->post_flush(2, &pending);
    for (int i = 0; i < 100; ++i) node.backend->progress();
    REQUIRE(!pending.done, "flush to a rank that never progresses completed");
    node.barrier();
    node.spin_until([&] { return node.failures[2] > 0 && pending.done; }, "rank 2's death", 10s);
    REQUIRE(contains(node.why[2], "rank 2"), node.why[2]);
    REQUIRE(pending.failed && contains(pending.error, "rank 2"), pending.error);
    Completion later;
    node.backend->post_flush(2, &later);
    REQUIRE(later.done && later.failed, "flush to a dead rank did not fail at once");
    std::byte b{1};
    Completion put;
    node.backend->post_put(2, 0, 0, std::span(&b, 1), &put);
    REQUIRE(put.done && put.failed, "put to a dead rank did not fail");
    // The survivors still talk to each other.
    int other = 1 - ctx.rank;
    node.send(other, 9, {});
    node.spin_until([&] { return pings == 1; }, "the other survivor's message");
    node.flush(other);
    for (int i = 0; i < 1000; ++i) node.backend->progress();
    REQUIRE(node.failures[2] == 1, "rank 2 reported ", node.failures[2], " times");
    REQUIRE(node.failures[other] == 0, node.why[other]);
    node.barrier();
    node.backend->disconnect();
  });
  EXPECT_FALSE(r.timed_out);
  EXPECT_TRUE(r.ranks[0].ok()) << r.ranks[0].describe();
  EXPECT_TRUE(r.ranks[1].ok()) << r.ranks[1].describe();
  EXPECT_TRUE(r.ranks[2].killed_by(SIGKILL)) << r.ranks[2].describe();
}

// A clean disconnect() is not a failure for the peers that are still running.
TEST(TcpFailure, DisconnectIsNotReportedAsFailure) {
  expect_all_ok(run_ranks(2, [](Ctx& ctx) {
    Node node(ctx);
    node.connect();
    if (ctx.rank == 0) {
      node.backend->disconnect();
      ctx.barrier();
      return;
    }
    ctx.barrier();  // rank 0 has disconnected
    Completion flush;
    node.backend->post_flush(0, &flush);
    node.spin_until([&] { return flush.done; }, "the flush to the departed rank");
    REQUIRE(flush.failed && contains(flush.error, "disconnected"), flush.error);
    REQUIRE(node.failures[0] == 0, "clean disconnect reported: ", node.why[0]);
  }));
}

// Rank 0 destroys its backend without disconnect() (no BYE) while rank 1 keeps sending:
// whether rank 1 first sees the EOF or a failed send, it reports rank 0 exactly once.
TEST(TcpFailure, AbruptCloseWhileSendingIsReportedOnce) {
  expect_all_ok(run_ranks(2, [](Ctx& ctx) {
    Node node(ctx);
    node.fail_fast = false;  // this test expects a peer failure
    node.on_am = [](int, std::uint16_t, std::span<const std::byte>) {};
    node.connect();
    node.barrier();
    // Rank 1 may still be driving progress() in node.barrier() when rank 0 has left it: it
    // would read the EOF there. The harness barrier (no progress) keeps the close after it.
    ctx.barrier();
    if (ctx.rank == 0) {
      node.backend.reset();
      ctx.barrier();
      return;
    }
    ctx.barrier();
    std::vector<std::byte> chunk(64 * 1024);
    Completion flush;
    node.backend->post_flush(0, &flush);
    // Without progress() first: the sends themselves run into the closed connection.
    for (int i = 0; i < 1000; ++i) {
      Completion c;
      node.backend->post_am(0, 1, chunk, &c);
      if (c.failed) break;  // a send failed: the peer is failed by the next progress()
    }
    REQUIRE(node.failures[0] == 0, "reported from inside a post: ", node.why[0]);
    node.spin_until([&] { return node.failures[0] > 0; }, "the failure of rank 0", 10s);
    REQUIRE(flush.done && flush.failed, "the pending flush did not fail");
    for (int i = 0; i < 100; ++i) {
      Completion c;
      node.backend->post_am(0, 1, chunk, &c);
      REQUIRE(c.done && c.failed, "an AM to a failed peer did not fail");
      node.backend->progress();
    }
    REQUIRE(node.failures[0] == 1, "reported ", node.failures[0], " times");
    REQUIRE(contains(node.why[0], "rank 0"), node.why[0]);
  }));
}

TEST(TcpFailure, ConnectTimeoutNamesTheMissingRanks) {
  expect_all_ok(run_ranks(1, [](Ctx&) {
    auto [closed, closed_address] = listen_local();
    closed.close();  // nobody listens there now: connection refused
    Ctx job(1, 3, -1);
    BackendOptions options;
    options.connect_timeout = 300ms;
    Node node(job, options);
    std::string mine = node.backend->address();
    auto start = Clock::now();
    try {
      node.backend->connect(1, {closed_address, mine, "127.0.0.1:1"});
    } catch (const Error& e) {
      std::string what = e.what();
      REQUIRE(Clock::now() - start < 5s, "took too long");
      REQUIRE(contains(what, "rank 0 at " + closed_address) && contains(what, "refused") &&
                  contains(what, "rank 2 (never connected to us)"),
              quote_excerpt(what, 400));
      return;
    }
    REQUIRE(false, "connect() succeeded");
  }));
}

// Two real ranks of different jobs (different tokens) meet: rank 0 drops rank 1's hello and
// logs it; both give up at the connect timeout, each naming the other, and neither hangs.
TEST(TcpUntrusted, PeerWithAnotherTokenIsRejectedAndBothFailCleanly) {
  expect_all_ok(run_ranks(2, [](Ctx& ctx) {
    BackendOptions options = with_token(ctx.rank == 0 ? "token-of-job-a" : "token-of-job-b");
    options.connect_timeout = 1000ms;
    Node node(ctx, options);
    const auto start = Clock::now();
    try {
      node.connect();
    } catch (const Error& e) {
      const std::string what = e.what();
      REQUIRE(Clock::now() - start < 5s, "took too long: ", what);
      if (ctx.rank == 0) {
        REQUIRE(contains(what, "rank 1 (never connected to us)") &&
                    contains(what, "wrong job token (claimed rank 1)"),
                quote_excerpt(what, 400));
      } else {
        // Rank 0 closes the connection after the hello: rank 1 reads either the close
        // ("rejected") or, when the close races its own writes, a reset. Its last attempt may
        // be refused (rank 0 gave up first), so the handshake failure is named as well.
        REQUIRE(contains(what, "rank 0 at") &&
                    (contains(what, "rejected") || contains(what, "Connection reset")),
                quote_excerpt(what, 400));
      }
      return;
    }
    REQUIRE(false, "ranks with different tokens connected");
  }));
}

/// A local, up, non-loopback IPv4 address of this machine ("" if there is none).
std::string own_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* it = list; it != nullptr && found.empty(); it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    if ((it->ifa_flags & IFF_UP) == 0 || (it->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char host[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr, host,
                sizeof host);
    found = host;
  }
  ::freeifaddrs(list);
  return found;
}

bool ipv6_loopback_works() {
  Socket s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  return s.get() >= 0 && ::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// Without an explicit interface, a backend listens on (and advertises) the address the job's
// bootstrap uses, so ranks on other hosts can reach it; ranks connect over it, IPv4 or IPv6.
TEST(TcpConfig, ListensOnTheBootstrapAddress) {
  std::vector<std::string> hosts;
  if (std::string own = own_address(); !own.empty()) hosts.push_back(own);
  if (ipv6_loopback_works()) hosts.push_back("::1");
  if (hosts.empty()) GTEST_SKIP() << "no non-loopback IPv4 address and no IPv6 loopback";
  for (const std::string& host : hosts) {
    SCOPED_TRACE(host);
    const std::string prefix = host.find(':') == std::string::npos ? host + ":" : "[" + host + "]:";
    BackendOptions options = with_token("t");
    options.local_address = host;
    EXPECT_EQ(make_tcp_backend(options)->address().rfind(prefix, 0), 0u);
    options.tcp_interface = "127.0.0.1";  // an explicit interface wins
    EXPECT_EQ(make_tcp_backend(options)->address().rfind("127.0.0.1:", 0), 0u);
    options.tcp_interface.clear();
    expect_all_ok(run_ranks(3, [&](Ctx& ctx) {
      Node node(ctx, options);
      const std::string mine = node.backend->address();
      REQUIRE(mine.rfind(prefix, 0) == 0, "listening on ", mine);
      int got = 0;
      node.on_am = [&](int, std::uint16_t handler, std::span<const std::byte>) {
        REQUIRE(handler == 3, "handler ", handler);
        ++got;
      };
      node.connect();
      for (int peer = 0; peer < ctx.size; ++peer) {
        if (peer != ctx.rank) node.send(peer, 3, as_bytes(std::string("over ") + host));
      }
      node.spin_until([&] { return got == ctx.size - 1; }, "a message from every peer");
      for (int peer = 0; peer < ctx.size; ++peer) {
        if (peer != ctx.rank) node.flush(peer);
      }
      node.barrier();
      node.backend->disconnect();
    }));
  }
}

TEST(TcpConfig, AddressesAndInterfaces) {
  auto loop = make_tcp_backend({});
  EXPECT_EQ(loop->name(), "tcp");
  std::string a = loop->address();
  EXPECT_EQ(a.rfind("127.0.0.1:", 0), 0u) << a;
  EXPECT_EQ(loop->address(), a);  // stable
  EXPECT_TRUE(contains(loop->describe(), a)) << loop->describe();

  auto by_name = make_tcp_backend(with_interface("lo"));
  EXPECT_EQ(by_name->address().rfind("127.0.0.1:", 0), 0u);
  auto literal = make_tcp_backend(with_interface("127.0.0.1"));
  EXPECT_EQ(literal->address().rfind("127.0.0.1:", 0), 0u);

  auto bad = make_tcp_backend(with_interface("no-such-if0"));
  try {
    bad->address();
    ADD_FAILURE() << "an unknown interface was accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "no-such-if0")) << e.what();
  }
  auto any = make_tcp_backend(with_interface("0.0.0.0"));
  EXPECT_THROW(any->address(), Error);

  auto b = make_tcp_backend({});
  std::string mine = b->address();
  try {
    b->connect(1, {"nonsense", mine});
    ADD_FAILURE() << "a malformed address was accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "address of rank 0")) << e.what();
  }
  auto single = make_tcp_backend({});
  single->address();
  single->connect(0, {single->address()});  // a job of one: nothing to connect
  Completion self_flush;
  single->post_flush(0, &self_flush);
  EXPECT_TRUE(self_flush.done && !self_flush.failed);
  EXPECT_THROW(single->post_flush(1, &self_flush), Error);
}

// ---- latency: 8-byte AM ping-pong vs a plain TCP socket ----------------------------------------

// Three measurements, interleaved and repeated (the machine may be shared): the backend's
// AM ping-pong (reply posted from inside the handler), a blocking socket, and the same socket
// busy-polled with MSG_DONTWAIT. Prints the best round-trip time of each; asserts nothing.
// Disabled by default (timing on a shared machine is noise); run it with
//   tcp_backend_test --gtest_also_run_disabled_tests --gtest_filter='*PingPong*'

TEST(TcpLatency, DISABLED_PingPongAgainstPlainSocket) {
  constexpr int kWarmup = 500, kRounds = 5000, kRepeats = 3;
  expect_all_ok(run_ranks(2, [](Ctx& ctx) {
    std::uint64_t word = 0;
    auto payload = std::as_bytes(std::span(&word, 1));
    if (std::getenv("ATOLL_TEST_PIN") != nullptr) {  // one rank per CPU: cross-core numbers
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      CPU_SET(static_cast<unsigned>(ctx.rank) % std::thread::hardware_concurrency(), &cpus);
      ::sched_setaffinity(0, sizeof cpus, &cpus);
    }
    Node node(ctx);
    node.yield_when_idle = false;
    int got = 0;
    Completion reply;
    node.on_am = [&](int peer, std::uint16_t, std::span<const std::byte> bytes) {
      REQUIRE(bytes.size() == 8, "size ", bytes.size());
      ++got;
      if (ctx.rank == 1) node.backend->post_am(peer, 1, payload, &reply);
    };
    node.connect();
    // The baseline connection.
    Socket listener;
    std::string address;
    if (ctx.rank == 1) std::tie(listener, address) = listen_local();
    auto all = node.exchange(address);
    Socket s;
    if (ctx.rank == 0) {
      s = dial(all[1]);
    } else {
      s = Socket(::accept(listener.get(), nullptr, nullptr));
      int one = 1;
      ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    auto recv8 = [&](bool spin) {
      std::size_t have = 0;
      char buf[8];
      while (have < 8) {
        ssize_t r = ::recv(s.get(), buf + have, 8 - have, spin ? MSG_DONTWAIT : 0);
        if (r > 0) have += static_cast<std::size_t>(r);
        REQUIRE(r != 0, "closed");
        REQUIRE(r > 0 || errno == EAGAIN || errno == EINTR, std::strerror(errno));
      }
    };
    double best[3] = {1e30, 1e30, 1e30};
    for (int rep = 0; rep < kRepeats; ++rep) {
      for (int kind = 0; kind < 3; ++kind) {
        ctx.barrier();  // nobody is inside a measurement
        Clock::time_point start;
        got = 0;
        for (int i = 0; i < kWarmup + kRounds; ++i) {
          if (i == kWarmup) start = Clock::now();
          if (kind == 0) {
            if (ctx.rank == 0) {
              Completion c;
              node.backend->post_am(1, 1, payload, &c);
            }
            node.spin_until([&] { return got == i + 1; }, "ping-pong");
          } else if (ctx.rank == 0) {
            write_all(s.get(), &word, 8);
            recv8(kind == 2);
          } else {
            recv8(kind == 2);
            write_all(s.get(), &word, 8);
          }
        }
        double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        best[kind] = std::min(best[kind], us / kRounds);
      }
    }
    if (ctx.rank == 0) {
      std::printf(
          "[ latency  ] 8-byte round trip, best of %d x %d: tcp backend AM %.2f us, "
          "plain socket blocking %.2f us, plain socket busy-polled %.2f us\n",
          kRepeats, kRounds, best[0], best[1], best[2]);
    }
    node.barrier();
    node.backend->disconnect();
  }));
}

}  // namespace
}  // namespace atl::detail

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
