// The bootstrap rendezvous: a star of plain TCP connections around rank 0.
//
// Wire format (all integers big-endian):
//   hello  (rank r -> 0):  "ATLBOOT1" u32 version u32 rank u32 size u16 token_len token
//   ack    (0 -> rank r):  "ATLBOOT1" u32 version u32 status u16 msg_len msg
//                          (status 0: every rank joined; otherwise msg says why the job failed)
//   gather (rank r -> 0):  u32 seq u32 len blob
//   reply  (0 -> rank r):  u32 seq u32 count, then count x (u32 len blob)
// seq numbers the collectives, so ranks calling different collectives fail loudly instead of
// mixing their blobs.
#include "atoll/transport/bootstrap.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/fd.hpp"
#include "atoll/common/log.hpp"
#include "wire.hpp"

namespace atl {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kMagic = "ATLBOOT1";
constexpr std::uint32_t kProtocolVersion = 1;
constexpr std::size_t kHelloHeaderBytes = 8 + 4 + 4 + 4 + 2;
constexpr std::size_t kAckHeaderBytes = 8 + 4 + 4 + 2;
constexpr std::size_t kMaxTokenBytes = 1024;
constexpr std::size_t kMaxBlobBytes = std::size_t{16} << 20;
/// Connections accepted but not yet identified; beyond this the oldest is dropped.
constexpr std::size_t kMaxPendingExtra = 64;

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string seconds_text(milliseconds t) {
  return str_cat(static_cast<double>(t.count()) / 1000.0);
}

/// Milliseconds until deadline for poll(): 0 when passed, never more than INT_MAX.
int poll_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    fail("bootstrap: fcntl(O_NONBLOCK) failed: ", errno_text(errno));
  }
}

void put_u16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}
void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::uint16_t get_u16(const char* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                    static_cast<unsigned char>(p[1]));
}

/// "IP:PORT" ("[IPv6]:PORT") of a socket address.
std::string address_text(const sockaddr* addr, socklen_t len) {
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (::getnameinfo(addr, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return addr->sa_family == AF_INET6 ? str_cat("[", host, "]:", port) : str_cat(host, ":", port);
}

struct HostPort {
  std::string host;
  std::string port;
};

/// Splits a coordinator "HOST:PORT" / "[IPv6]:PORT" (detect_job validated it; a hand-made
/// JobInfo is checked here again).
HostPort split_coordinator(const std::string& coordinator) {
  std::size_t colon = coordinator.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == coordinator.size()) {
    usage_fail("bootstrap: coordinator ", quote_excerpt(coordinator), " is not HOST:PORT");
  }
  HostPort hp{coordinator.substr(0, colon), coordinator.substr(colon + 1)};
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  return hp;
}

/// getaddrinfo as an owned list.
struct AddrInfo {
  addrinfo* list = nullptr;
  AddrInfo() = default;
  AddrInfo(const AddrInfo&) = delete;
  AddrInfo& operator=(const AddrInfo&) = delete;
  ~AddrInfo() {
    if (list != nullptr) ::freeaddrinfo(list);
  }
};

/// Resolves host:port; returns the getaddrinfo error code (0 on success).
int resolve(const HostPort& hp, int flags, AddrInfo& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | flags;
  return ::getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &out.list);
}

enum class Io { kOk, kClosed, kTimeout, kError };

/// Reads exactly n bytes (non-blocking fd) before deadline.
Io read_exact(int fd, char* p, std::size_t n, Clock::time_point deadline, int& err) {
  while (n > 0) {
    ssize_t got = ::recv(fd, p, n, 0);
    if (got > 0) {
      p += got;
      n -= static_cast<std::size_t>(got);
      continue;
    }
    if (got == 0) return Io::kClosed;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      err = errno;
      return err == ECONNRESET ? Io::kClosed : Io::kError;
    }
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, poll_ms(deadline));
    if (ready < 0 && errno != EINTR) {
      err = errno;
      return Io::kError;
    }
    if (ready == 0 && Clock::now() >= deadline) return Io::kTimeout;
  }
  return Io::kOk;
}

/// Writes all n bytes (non-blocking fd) before deadline; never raises SIGPIPE.
Io write_all(int fd, const char* p, std::size_t n, Clock::time_point deadline, int& err) {
  while (n > 0) {
    ssize_t put = ::send(fd, p, n, MSG_NOSIGNAL);
    if (put >= 0) {
      p += put;
      n -= static_cast<std::size_t>(put);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      err = errno;
      return err == EPIPE || err == ECONNRESET ? Io::kClosed : Io::kError;
    }
    pollfd pfd{fd, POLLOUT, 0};
    int ready = ::poll(&pfd, 1, poll_ms(deadline));
    if (ready < 0 && errno != EINTR) {
      err = errno;
      return Io::kError;
    }
    if (ready == 0 && Clock::now() >= deadline) return Io::kTimeout;
  }
  return Io::kOk;
}

/// A joined connection to one peer rank; every failure throws naming that rank.
class Channel {
 public:
  Channel() = default;
  Channel(Fd fd, int peer) : fd_(std::move(fd)), peer_(peer) {}
  bool open() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }

  void read(char* p, std::size_t n, Clock::time_point deadline) const {
    int err = 0;
    check(read_exact(fd_.get(), p, n, deadline, err), err, "waiting for");
  }
  void write(std::string_view bytes, Clock::time_point deadline) const {
    int err = 0;
    check(write_all(fd_.get(), bytes.data(), bytes.size(), deadline, err), err, "sending to");
  }
  std::uint32_t read_u32(Clock::time_point deadline) const {
    char b[4];
    read(b, 4, deadline);
    return get_u32(b);
  }
  /// A length-prefixed blob, at most kMaxBlobBytes.
  std::string read_blob(Clock::time_point deadline) const {
    std::uint32_t len = read_u32(deadline);
    if (len > kMaxBlobBytes) {
      fail("bootstrap: rank ", peer_, " sent a blob of ", len, " bytes (at most ", kMaxBlobBytes,
           "); protocol error");
    }
    std::string blob(len, '\0');
    read(blob.data(), len, deadline);
    return blob;
  }

 private:
  void check(Io io, int err, const char* doing) const {
    switch (io) {
      case Io::kOk:
        return;
      case Io::kClosed:
        fail("bootstrap: rank ", peer_, " closed its connection");
      case Io::kTimeout:
        fail("bootstrap: timed out ", doing, " rank ", peer_);
      case Io::kError:
        break;
    }
    fail("bootstrap: connection to rank ", peer_, " failed: ", errno_text(err));
  }

  Fd fd_;
  int peer_ = -1;
};

std::string encode_hello(const JobInfo& job) {
  std::string out(kMagic);
  put_u32(out, kProtocolVersion);
  put_u32(out, static_cast<std::uint32_t>(job.rank));
  put_u32(out, static_cast<std::uint32_t>(job.size));
  put_u16(out, static_cast<std::uint16_t>(job.token.size()));
  out += job.token;
  return out;
}

std::string encode_ack(std::uint32_t status, std::string_view message) {
  message = message.substr(0, 4096);
  std::string out(kMagic);
  put_u32(out, kProtocolVersion);
  put_u32(out, status);
  put_u16(out, static_cast<std::uint16_t>(message.size()));
  out += message;
  return out;
}

/// A connection rank 0 accepted that has not yet presented a valid hello.
struct Pending {
  Fd fd;
  std::string from;  ///< IP:PORT
  std::string bytes;
};

/// How many bytes of the hello are still missing (0: complete); "" or a reason to drop it.
/// Validates each field as soon as it has arrived.
std::string check_hello(const Pending& p, const JobInfo& job, const std::vector<Channel>& joined,
                        std::size_t& missing, int& rank) {
  const std::string& b = p.bytes;
  std::size_t magic_seen = std::min(b.size(), kMagic.size());
  if (b.compare(0, magic_seen, kMagic.substr(0, magic_seen)) != 0) {
    return str_cat("not an Atoll bootstrap hello (starts with ", quote_excerpt(b.substr(0, 16)),
                   ")");
  }
  if (b.size() < kHelloHeaderBytes) {
    missing = kHelloHeaderBytes - b.size();
    return "";
  }
  std::uint32_t version = get_u32(&b[8]);
  std::uint32_t r = get_u32(&b[12]);
  std::uint32_t size = get_u32(&b[16]);
  std::size_t token_len = get_u16(&b[20]);
  if (version != kProtocolVersion) {
    return str_cat("protocol version ", version, " (this build speaks ", kProtocolVersion, ")");
  }
  if (size != static_cast<std::uint32_t>(job.size)) {
    return str_cat("it believes the job has ", size, " ranks, not ", job.size);
  }
  if (r < 1 || r >= static_cast<std::uint32_t>(job.size)) {
    return str_cat("rank ", r, " is not 1..", job.size - 1);
  }
  if (token_len > kMaxTokenBytes) return str_cat("a token of ", token_len, " bytes");
  if (b.size() < kHelloHeaderBytes + token_len) {
    missing = kHelloHeaderBytes + token_len - b.size();
    return "";
  }
  if (!detail::equal_secret(std::string_view(b).substr(kHelloHeaderBytes), job.token)) {
    return str_cat("wrong job token (claimed rank ", r, ")");
  }
  if (joined[r].open()) return str_cat("rank ", r, " has already joined");
  missing = 0;
  rank = static_cast<int>(r);
  return "";
}

void drop(const Pending& p, const std::string& reason) {
  log_info(str_cat("bootstrap: dropped a connection from ", p.from, ": ", reason));
}

/// Rank 0's listening socket bound to the coordinator's port: on its loopback address when
/// the coordinator is local-only, else on every interface of that address family.
Fd listen_on(const std::string& coordinator) {
  HostPort hp = split_coordinator(coordinator);
  AddrInfo ai;
  if (int rc = resolve(hp, AI_PASSIVE, ai); rc != 0) {
    fail("bootstrap: cannot resolve the coordinator host ", quote_excerpt(hp.host), ": ",
         ::gai_strerror(rc));
  }
  const addrinfo* a = ai.list;
  sockaddr_storage addr{};
  std::memcpy(&addr, a->ai_addr, a->ai_addrlen);
  bool loopback = false;
  if (a->ai_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    if (!loopback) in->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (a->ai_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    if (!loopback) in6->sin6_addr = in6addr_any;
  }
  Fd fd(::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) fail("bootstrap: socket() failed: ", errno_text(errno));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), a->ai_addrlen) != 0 ||
      ::listen(fd.get(), SOMAXCONN) != 0) {
    fail("bootstrap: rank 0 cannot listen on ",
         address_text(reinterpret_cast<sockaddr*>(&addr), a->ai_addrlen), " (coordinator ",
         coordinator, "): ", errno_text(errno), "; give a free port with --coordinator HOST:PORT");
  }
  return fd;
}

/// One attempt to connect to rank 0, bounded by deadline; returns the socket or sets err.
Fd try_connect(const addrinfo* a, Clock::time_point deadline, int& err) {
  Fd fd(::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    err = errno;
    return fd;
  }
  if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) {
    err = errno;
    return Fd();
  }
  pollfd pfd{fd.get(), POLLOUT, 0};
  int ready = ::poll(&pfd, 1, poll_ms(deadline));
  if (ready <= 0) {
    err = ready == 0 ? ETIMEDOUT : errno;
    return Fd();
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    err = so_error;
    return Fd();
  }
  return fd;
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// The numeric local IP address of a connected socket (an IPv4-mapped IPv6 address as IPv4).
std::string local_ip(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail("bootstrap: getsockname failed: ", errno_text(errno));
  }
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      ::inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
    } else {
      ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    }
  } else if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, host, sizeof host);
  } else {
    fail("bootstrap: the connection is not IPv4 or IPv6");
  }
  return host;
}

}  // namespace

struct Bootstrap::State {
  JobInfo job;
  milliseconds timeout{0};
  std::uint32_t seq = 0;       ///< collectives done so far
  std::vector<Channel> peers;  ///< rank 0: peers[r] for r in 1..size-1
  Channel root;                ///< other ranks: the connection to rank 0
  std::string local_address = "127.0.0.1";

  void accept_all(Clock::time_point deadline);
  void join_root(Clock::time_point deadline);
};

void Bootstrap::State::accept_all(Clock::time_point deadline) {
  Fd own_listener;
  int listener = job.listen_fd;
  if (listener >= 0) {
    // Inherited from atoll launch: stays open (not ours) so a later Bootstrap can use it too.
    set_nonblocking(listener);
  } else {
    own_listener = listen_on(job.coordinator);
    listener = own_listener.get();
  }
  peers.resize(static_cast<std::size_t>(job.size));
  int joined_count = 0;
  std::deque<Pending> pending;
  std::vector<pollfd> pfds;

  while (joined_count < job.size - 1) {
    int wait = poll_ms(deadline);
    // Order: listener, pending connections, joined ranks (only to notice them closing).
    pfds.clear();
    pfds.push_back({listener, POLLIN, 0});
    for (const Pending& p : pending) pfds.push_back({p.fd.get(), POLLIN, 0});
    for (const Channel& c : peers) {
      if (c.open()) pfds.push_back({c.fd(), POLLIN, 0});
    }
    int ready = wait == 0 ? 0 : ::poll(pfds.data(), pfds.size(), wait);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail("bootstrap: poll failed: ", errno_text(errno));
    }
    // Checked even when something was ready: a stream of hostile connections must not
    // postpone the deadline.
    if (Clock::now() >= deadline) {
      std::string missing;
      for (int r = 1; r < job.size; ++r) {
        if (!peers[static_cast<std::size_t>(r)].open()) {
          missing += str_cat(missing.empty() ? "" : ", ", r);
        }
      }
      std::string why =
          str_cat("bootstrap: only ", joined_count + 1, " of ", job.size, " ranks joined within ",
                  seconds_text(timeout), " s (missing ranks: ", missing, ")");
      // Tell the ranks that did join, so they fail with the same message at once.
      std::string nack = encode_ack(1, why);
      auto soon = Clock::now() + milliseconds(500);
      for (const Channel& c : peers) {
        int err = 0;
        if (c.open()) write_all(c.fd(), nack.data(), nack.size(), soon, err);
      }
      fail(why);
    }

    // Joined ranks send nothing until the ack: readable means closed (or misbehaving).
    std::size_t idx = 1 + pending.size();
    for (Channel& c : peers) {
      if (!c.open()) continue;
      if (pfds[idx++].revents != 0) {
        int r = static_cast<int>(&c - peers.data());
        log_info(str_cat("bootstrap: rank ", r, " left before every rank had joined"));
        c = Channel();
        --joined_count;
      }
    }

    // Pending connections, newest last; erase while walking from the back keeps indices valid.
    for (std::size_t i = pending.size(); i-- > 0;) {
      if (pfds[1 + i].revents == 0) continue;
      Pending& p = pending[i];
      std::size_t missing = 0;
      int rank = -1;
      std::string why = check_hello(p, job, peers, missing, rank);
      char buf[kHelloHeaderBytes + kMaxTokenBytes];
      ssize_t got = why.empty() ? ::recv(p.fd.get(), buf, missing, 0) : 0;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (why.empty()) {
        if (got < 0) {
          why = str_cat("receive failed: ", errno_text(errno));
        } else if (got == 0) {
          why = str_cat("closed after ", p.bytes.size(), " bytes of its hello");
        } else {
          p.bytes.append(buf, static_cast<std::size_t>(got));
          why = check_hello(p, job, peers, missing, rank);
        }
      }
      if (!why.empty()) {
        drop(p, why);
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      if (missing == 0) {
        log_debug(str_cat("bootstrap: rank ", rank, " joined from ", p.from));
        set_nodelay(p.fd.get());
        peers[static_cast<std::size_t>(rank)] = Channel(std::move(p.fd), rank);
        ++joined_count;
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }

    if (pfds[0].revents != 0) {
      for (;;) {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        Fd fd(::accept4(listener, reinterpret_cast<sockaddr*>(&addr), &len,
                        SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
          fail("bootstrap: accept on ", job.coordinator, " failed: ", errno_text(errno));
        }
        pending.push_back(
            {std::move(fd), address_text(reinterpret_cast<sockaddr*>(&addr), len), ""});
        if (pending.size() > static_cast<std::size_t>(job.size) + kMaxPendingExtra) {
          drop(pending.front(), "too many unidentified connections; dropping the oldest");
          pending.pop_front();
        }
      }
    }
  }

  // Everyone is in: release every rank at once.
  std::string ack = encode_ack(0, "");
  auto ack_deadline = Clock::now() + timeout;
  for (const Channel& c : peers) {
    if (c.open()) c.write(ack, ack_deadline);
  }
}

void Bootstrap::State::join_root(Clock::time_point deadline) {
  HostPort hp = split_coordinator(job.coordinator);
  std::string last_error = "no attempt";
  auto backoff = milliseconds(20);
  Fd fd;
  while (!fd) {
    AddrInfo ai;
    int rc = resolve(hp, 0, ai);
    if (rc != 0 && rc != EAI_AGAIN) {
      fail("bootstrap: cannot resolve the coordinator host ", quote_excerpt(hp.host), ": ",
           ::gai_strerror(rc));
    }
    if (rc != 0) last_error = ::gai_strerror(rc);
    for (const addrinfo* a = ai.list; a != nullptr && !fd; a = a->ai_next) {
      int err = 0;
      fd = try_connect(a, std::min(deadline, Clock::now() + milliseconds(2000)), err);
      if (!fd) last_error = errno_text(err);
    }
    if (fd) break;
    if (Clock::now() >= deadline) {
      fail("bootstrap: rank ", job.rank, " could not reach rank 0 at ", job.coordinator, " within ",
           seconds_text(timeout), " s (last error: ", last_error, ")");
    }
    // Rank 0 may not be listening yet: back off and retry.
    std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - Clock::now()));
    backoff = std::min(backoff * 2, milliseconds(500));
  }
  set_nodelay(fd.get());
  root = Channel(std::move(fd), 0);
  root.write(encode_hello(job), deadline);

  // Rank 0 answers once every rank joined (or reports why not). Give it a moment past our own
  // deadline, so its report (naming the missing ranks) usually arrives before we give up.
  auto ack_deadline = deadline + std::max(milliseconds(1000), timeout / 10);
  char header[kAckHeaderBytes];
  int err = 0;
  switch (read_exact(root.fd(), header, sizeof header, ack_deadline, err)) {
    case Io::kOk:
      break;
    case Io::kClosed:
      fail("bootstrap: rank 0 at ", job.coordinator, " closed the connection before every rank ",
           "joined (rejected hello: wrong job token, duplicate rank or size? see rank 0's log)");
    case Io::kTimeout:
      fail("bootstrap: not all ", job.size, " ranks joined within ", seconds_text(timeout),
           " s (rank 0 at ", job.coordinator, " did not confirm)");
    case Io::kError:
      fail("bootstrap: connection to rank 0 failed: ", errno_text(err));
  }
  if (std::string_view(header, kMagic.size()) != kMagic ||
      get_u32(header + 8) != kProtocolVersion) {
    fail("bootstrap: the coordinator ", job.coordinator, " is not an Atoll bootstrap (got ",
         quote_excerpt(std::string_view(header, sizeof header)), ")");
  }
  std::uint32_t status = get_u32(header + 12);
  std::string message(get_u16(header + 16), '\0');
  root.read(message.data(), message.size(), ack_deadline);
  if (status != 0) {
    fail(message.empty() ? "bootstrap: rank 0 reported that the job failed to start" : message);
  }
}

Bootstrap::Bootstrap(const JobInfo& job, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  if (job.size < 1 || job.rank < 0 || job.rank >= job.size) {
    usage_fail("bootstrap: rank ", job.rank, " is not a rank of a job of ", job.size);
  }
  state_->job = job;
  state_->timeout = timeout;
  if (job.size == 1) return;
  if (job.token.empty() || job.token.size() > kMaxTokenBytes) {
    usage_fail("bootstrap: a job of ", job.size, " ranks needs a job token of 1..", kMaxTokenBytes,
               " bytes");
  }
  auto deadline = Clock::now() + timeout;
  if (job.rank == 0) {
    if (job.listen_fd < 0 && job.coordinator.empty()) {
      usage_fail("bootstrap: rank 0 of ", job.size, " ranks needs a coordinator address");
    }
    state_->accept_all(deadline);
    state_->local_address = local_ip(state_->peers[1].fd());
  } else {
    if (job.coordinator.empty()) {
      usage_fail("bootstrap: rank ", job.rank, " needs the coordinator address");
    }
    state_->join_root(deadline);
    state_->local_address = local_ip(state_->root.fd());
  }
  log_debug(str_cat("bootstrap: rank ", job.rank, " of ", job.size, " joined the job"));
}

Bootstrap::~Bootstrap() = default;

int Bootstrap::rank() const {
  return state_->job.rank;
}
int Bootstrap::size() const {
  return state_->job.size;
}
const std::string& Bootstrap::local_address() const {
  return state_->local_address;
}

std::vector<std::string> Bootstrap::allgather(const std::string& blob) {
  State& s = *state_;
  if (blob.size() > kMaxBlobBytes) {
    fail("bootstrap: allgather blob of ", blob.size(), " bytes (at most ", kMaxBlobBytes, ")");
  }
  std::uint32_t seq = ++s.seq;
  if (s.job.size == 1) return {blob};
  // Ranks may arrive far apart (one still loading while others wait); the construction
  // timeout bounds each collective.
  auto deadline = Clock::now() + s.timeout;
  auto check_seq = [&](std::uint32_t got, int peer) {
    if (got != seq) {
      fail("bootstrap: rank ", peer, " is in collective #", got, " while rank ", s.job.rank,
           " is in #", seq, " (the ranks called different collectives)");
    }
  };

  std::vector<std::string> all(static_cast<std::size_t>(s.job.size));
  if (s.job.rank == 0) {
    all[0] = blob;
    for (int r = 1; r < s.job.size; ++r) {
      const Channel& c = s.peers[static_cast<std::size_t>(r)];
      check_seq(c.read_u32(deadline), r);
      all[static_cast<std::size_t>(r)] = c.read_blob(deadline);
    }
    std::string header;
    put_u32(header, seq);
    put_u32(header, static_cast<std::uint32_t>(s.job.size));
    for (int r = 1; r < s.job.size; ++r) {
      const Channel& c = s.peers[static_cast<std::size_t>(r)];
      c.write(header, deadline);
      for (const std::string& b : all) {
        std::string len;
        put_u32(len, static_cast<std::uint32_t>(b.size()));
        c.write(len, deadline);
        c.write(b, deadline);
      }
    }
    return all;
  }

  std::string frame;
  put_u32(frame, seq);
  put_u32(frame, static_cast<std::uint32_t>(blob.size()));
  s.root.write(frame, deadline);
  s.root.write(blob, deadline);
  check_seq(s.root.read_u32(deadline), 0);
  std::uint32_t count = s.root.read_u32(deadline);
  if (count != static_cast<std::uint32_t>(s.job.size)) {
    fail("bootstrap: rank 0 sent ", count, " blobs for a job of ", s.job.size, " ranks");
  }
  for (std::string& b : all) b = s.root.read_blob(deadline);
  return all;
}

void Bootstrap::barrier() {
  allgather(std::string());
}

}  // namespace atl
