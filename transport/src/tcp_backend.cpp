// The plain-TCP backend: one stream socket per pair of ranks, length-prefixed frames on it.
//
// Addresses: each rank listens on BackendOptions::tcp_interface if given, else on the address
// its bootstrap connection uses (so peers on other hosts can reach it; loopback in a job on
// one host), IPv4 or IPv6, and advertises that address.
//
// Connection setup (connect()): rank i connects to every rank j < i and accepts from every
// j > i. Both sides exchange a hello (magic, protocol version, rank, job size, u32 each; u16
// token length, the job token); the acceptor checks the connector's hello (a bad or duplicate
// one, or one without the job token, only closes that socket and is logged; a legitimate peer
// still gets through) and answers with its own, which the connector checks.
//
// Wire format (little-endian, no padding), every frame starts with
//   u32 length (of the whole frame, these 4 bytes included), u8 type
// followed by, per type:
//   AM        u16 handler, payload
//   PUT       u32 window, u64 offset, payload
//   FLUSH_REQ u64 id          target answers FLUSH_ACK(id) once every earlier frame is applied
//   FLUSH_ACK u64 id
//   BYE       (nothing)       sender is leaving on purpose (disconnect()); its EOF is no failure
//
// Everything read from a peer is validated before use; a violation fails that peer only.
// Posting copies the bytes (what the kernel does not take at once goes to the peer's send
// queue), so post_am/post_put complete their Completion immediately. Nothing sleeps outside
// connect(), which waits at most BackendOptions::connect_timeout.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "atoll/common/error.hpp"
#include "atoll/common/fd.hpp"
#include "atoll/common/log.hpp"
#include "backend.hpp"
#include "wire.hpp"

namespace atl::detail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the TCP wire format is little-endian; add byte swaps for big-endian hosts");

using Clock = std::chrono::steady_clock;

// ---- wire format -----------------------------------------------------------------------

constexpr std::uint32_t kHelloMagic = 0x4c4f5441;  // "ATOL"
constexpr std::uint32_t kProtocolVersion = 2;
constexpr std::size_t kHelloHeader = 18;  // magic, version, rank, size (u32 each), token length
constexpr std::size_t kMaxToken = 1024;   // as the bootstrap's

enum FrameType : std::uint8_t { kAm = 1, kPut = 2, kFlushReq = 3, kFlushAck = 4, kBye = 5 };

constexpr std::size_t kPrefixSize = 5;                // u32 length + u8 type
constexpr std::size_t kAmHeader = kPrefixSize + 2;    // + u16 handler
constexpr std::size_t kPutHeader = kPrefixSize + 12;  // + u32 window + u64 offset
constexpr std::size_t kFlushFrame = kPrefixSize + 8;  // + u64 id
constexpr std::size_t kByeFrame = kPrefixSize;
constexpr std::size_t kMaxPayload = std::size_t{1} << 30;  // larger puts are split
constexpr std::size_t kMaxFrame = kPutHeader + kMaxPayload;

// PUT payloads above this are received straight into the window instead of being buffered.
constexpr std::size_t kStreamThreshold = 64 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
// Buffers that grew past this are released once empty.
constexpr std::size_t kKeepBuffer = 4 * 1024 * 1024;
constexpr int kMaxReadsPerEvent = 8;
constexpr std::size_t kMaxPendingAccepts = 1024;

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
std::byte* store(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

bool would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

// Writes a put's payload into window memory. All bytes but the final min(8, n) are copied
// first, then a release fence, then the final bytes: a poller that reads the final 8 bytes
// with an acquire load and sees the new value also sees everything before them (the rings
// put a trailing sequence number there). An 8-aligned tail is stored as one atomic word (with
// release order too, which costs nothing more and which ThreadSanitizer, blind to fences,
// understands).
void store_tail(std::byte* dst, const std::byte* src, std::size_t n) {
  std::atomic_thread_fence(std::memory_order_release);
  if (n == 8 && reinterpret_cast<std::uintptr_t>(dst) % alignof(std::uint64_t) == 0) {
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(dst))
        .store(load<std::uint64_t>(src), std::memory_order_release);
  } else {
    std::memcpy(dst, src, n);
  }
}
void apply_put(std::byte* dst, const std::byte* src, std::size_t n) {
  std::size_t body = n > 8 ? n - 8 : 0;
  if (body > 0) std::memcpy(dst, src, body);
  if (n > body) store_tail(dst + body, src + body, n - body);
}

// ---- RAII and buffers --------------------------------------------------------------------

/// A byte FIFO over one contiguous buffer: live bytes are [head, tail). Appending compacts or
/// grows geometrically, so steady-state traffic allocates nothing.
class ByteQueue {
 public:
  bool empty() const { return head_ == tail_; }
  std::size_t size() const { return tail_ - head_; }
  std::size_t capacity() const { return cap_; }
  const std::byte* front() const { return buf_.get() + head_; }
  std::size_t free_back() const { return cap_ - tail_; }

  void consume(std::size_t n) {
    head_ += n;
    if (head_ == tail_) head_ = tail_ = 0;
  }
  /// Makes at least n bytes free after the live bytes; returns where they start.
  std::byte* reserve_back(std::size_t n) {
    if (cap_ - tail_ >= n) return buf_.get() + tail_;
    std::size_t live = size();
    if (live + n <= cap_ && live <= cap_ / 2) {
      std::memmove(buf_.get(), buf_.get() + head_, live);
    } else {
      std::size_t new_cap = std::max({cap_ * 2, live + n, kReadChunk});
      auto fresh = std::make_unique_for_overwrite<std::byte[]>(new_cap);
      if (live > 0) std::memcpy(fresh.get(), buf_.get() + head_, live);
      buf_ = std::move(fresh);
      cap_ = new_cap;
    }
    head_ = 0;
    tail_ = live;
    return buf_.get() + tail_;
  }
  void commit_back(std::size_t n) { tail_ += n; }
  void append(const void* bytes, std::size_t n) {
    if (n == 0) return;
    std::memcpy(reserve_back(n), bytes, n);
    tail_ += n;
  }
  void clear() { head_ = tail_ = 0; }
  /// Releases a large buffer once it is empty.
  void trim() {
    if (empty() && cap_ > kKeepBuffer) {
      buf_.reset();
      cap_ = 0;
    }
  }

 private:
  std::unique_ptr<std::byte[]> buf_;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

struct AlignedFree {
  void operator()(std::byte* p) const noexcept { std::free(p); }
};
using AlignedPtr = std::unique_ptr<std::byte, AlignedFree>;

void complete(Completion* done, std::string error = {}) {
  if (done == nullptr) return;
  if (!error.empty()) {
    done->failed = true;
    done->error = std::move(error);
  }
  done->done = true;
}

// ---- sockets -----------------------------------------------------------------------------

void set_nodelay(int fd) {
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    fail("tcp: setsockopt(TCP_NODELAY): ", errno_text(errno));
  }
}

/// An IPv4 or IPv6 socket address.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  void set_port(std::uint16_t port) {
    if (family() == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
    } else {
      reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
    }
  }
  bool is_any() const {
    if (family() == AF_INET6) {
      return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
    }
    return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
};

SockAddr from_sockaddr(const sockaddr* addr, socklen_t length) {
  SockAddr out;
  length = std::min<socklen_t>(length, sizeof out.storage);
  std::memcpy(&out.storage, addr, length);
  out.length = length;
  return out;
}

/// "1.2.3.4:port", or "[v6]:port".
std::string format_address(const SockAddr& addr) {
  char host[NI_MAXHOST] = {};
  char port[NI_MAXSERV] = {};
  if (::getnameinfo(addr.get(), addr.length, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return addr.family() == AF_INET6 ? str_cat('[', host, "]:", port) : str_cat(host, ':', port);
}

/// Resolves host (numeric only, or also names) to its first IPv4 or IPv6 address, port 0.
std::optional<SockAddr> resolve_host(const std::string& host, bool numeric, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = numeric ? AI_NUMERICHOST : 0;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    error = ::gai_strerror(rc);
    return std::nullopt;
  }
  std::optional<SockAddr> out;
  for (const addrinfo* a = res; a != nullptr && !out; a = a->ai_next) {
    if (a->ai_family == AF_INET || a->ai_family == AF_INET6) {
      out = from_sockaddr(a->ai_addr, a->ai_addrlen);
    }
  }
  ::freeaddrinfo(res);
  if (!out) error = "no IPv4 or IPv6 address";
  return out;
}

/// The address to listen on (port 0): BackendOptions::tcp_interface (an IP address or the name
/// of a local interface) if given, else the address the job's bootstrap reaches this host on,
/// else loopback.
SockAddr listen_address(const BackendOptions& options) {
  const std::string& iface =
      !options.tcp_interface.empty() ? options.tcp_interface : options.local_address;
  std::string error;
  if (iface.empty()) return *resolve_host("127.0.0.1", true, error);
  if (auto addr = resolve_host(iface, true, error)) {
    if (addr->is_any()) {
      fail("tcp: ", iface,
           " is no address peers can reach; give the address or name of an interface");
    }
    return *addr;
  }
  ifaddrs* list = nullptr;
  std::optional<SockAddr> v4, v6;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
      if (it->ifa_addr == nullptr || iface != it->ifa_name) continue;
      if (it->ifa_addr->sa_family == AF_INET && !v4) {
        v4 = from_sockaddr(it->ifa_addr, sizeof(sockaddr_in));
      } else if (it->ifa_addr->sa_family == AF_INET6 && !v6) {
        v6 = from_sockaddr(it->ifa_addr, sizeof(sockaddr_in6));  // keeps a link-local scope
      }
    }
    ::freeifaddrs(list);
  }
  if (v4) return *v4;
  if (v6) return *v6;
  fail("tcp: interface ", quote_excerpt(iface),
       " is neither an IP address nor a local interface with an IP address");
}

/// Parses "host:port" or "[IPv6]:port" (host: an address or a name).
SockAddr parse_peer_address(int peer, const std::string& text) {
  auto colon = text.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0) {
    fail("tcp: address of rank ", peer, " is ", quote_excerpt(text), ", expected host:port");
  }
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || ptr != last || port <= 0 || port > 65535) {
    fail("tcp: address of rank ", peer, " is ", quote_excerpt(text), ", port is not 1..65535");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string error;
  auto addr = resolve_host(host, false, error);
  if (!addr) {
    fail("tcp: cannot resolve host of rank ", peer, " in ", quote_excerpt(text), ": ", error);
  }
  addr->set_port(static_cast<std::uint16_t>(port));
  return *addr;
}

/// magic, version, rank, size (u32 each), u16 token length, then the job token.
std::vector<std::byte> make_hello(int rank, int size, const std::string& token) {
  std::vector<std::byte> hello(kHelloHeader + token.size());
  std::byte* p = hello.data();
  p = store(p, kHelloMagic);
  p = store(p, kProtocolVersion);
  p = store(p, static_cast<std::uint32_t>(rank));
  p = store(p, static_cast<std::uint32_t>(size));
  p = store(p, static_cast<std::uint16_t>(token.size()));
  if (!token.empty()) std::memcpy(p, token.data(), token.size());
  return hello;
}

struct HelloFields {
  std::uint32_t magic, version, rank, size;
  std::uint16_t token_length;
};
HelloFields read_hello(const std::byte* p) {
  return {load<std::uint32_t>(p), load<std::uint32_t>(p + 4), load<std::uint32_t>(p + 8),
          load<std::uint32_t>(p + 12), load<std::uint16_t>(p + 16)};
}
/// Empty if the hello's fixed part is well formed for a job of `size` ranks; else what is
/// wrong.
std::string check_hello(const HelloFields& h, int size) {
  if (h.magic != kHelloMagic) return str_cat("wrong magic 0x", std::hex, h.magic);
  if (h.version != kProtocolVersion) {
    return str_cat("protocol version ", h.version, " (this build speaks ", kProtocolVersion, ")");
  }
  if (h.size != static_cast<std::uint32_t>(size)) {
    return str_cat("job size ", h.size, " (this job has ", size, " ranks)");
  }
  if (h.rank >= h.size) return str_cat("rank ", h.rank, " out of range");
  if (h.token_length > kMaxToken) return str_cat("a token of ", h.token_length, " bytes");
  return {};
}

/// The token a hello carries after its fixed part.
std::string_view hello_token(const std::vector<std::byte>& hello) {
  return {reinterpret_cast<const char*>(hello.data()) + kHelloHeader, hello.size() - kHelloHeader};
}

// ---- the backend ---------------------------------------------------------------------------

class TcpBackend final : public Backend {
 public:
  explicit TcpBackend(const BackendOptions& options) : options_(options) {}
  ~TcpBackend() override { close_all(); }  // abrupt: peers see EOF and report a failure

  std::string_view name() const override { return "tcp"; }
  int idle_polls() const override { return 64; }  // each poll is an epoll_wait

  std::string describe() const override {
    std::string out = str_cat("tcp: ", address_.empty() ? "(no address yet)" : address_);
    if (peers_.empty()) return out + ", not connected";
    int up = 0;
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (static_cast<int>(i) != rank_ && peers_[i].fd) ++up;
    }
    return str_cat(out, ", rank ", rank_, ", ", peers_.size() - 1, " peers (", up, " connected), ",
                   windows_.size(), " windows");
  }

  void set_callbacks(AmCallback on_am, FailureCallback on_failure) override {
    on_am_ = std::move(on_am);
    on_failure_ = std::move(on_failure);
  }

  std::string address() override {
    if (!address_.empty()) return address_;
    SockAddr addr = listen_address(options_);  // port 0: ephemeral
    Fd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) fail("tcp: socket(): ", errno_text(errno));
    if (::bind(fd.get(), addr.get(), addr.length) != 0) {
      fail("tcp: cannot listen on ", format_address(addr), ": bind(): ", errno_text(errno));
    }
    if (::listen(fd.get(), SOMAXCONN) != 0) fail("tcp: listen(): ", errno_text(errno));
    addr.length = sizeof addr.storage;
    if (::getsockname(fd.get(), addr.get(), &addr.length) != 0) {
      fail("tcp: getsockname(): ", errno_text(errno));
    }
    listener_ = std::move(fd);
    address_ = format_address(addr);
    return address_;
  }

  void connect(int rank, const std::vector<std::string>& addresses) override;

  std::string register_window(std::uint32_t id, std::span<std::byte> memory) override {
    if (id >= windows_.size()) windows_.resize(std::size_t{id} + 1);
    windows_[id] = memory;
    return {};  // TCP needs no remote key
  }

  AllocatedWindow allocate_window(std::uint32_t id, std::size_t bytes) override {
    std::span<std::byte> memory;
    if (bytes > 0) {
      const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
      if (bytes > std::numeric_limits<std::size_t>::max() - page) {
        fail("tcp: window ", id, " of ", bytes, " bytes is too large");
      }
      AlignedPtr block(
          static_cast<std::byte*>(std::aligned_alloc(page, (bytes + page - 1) / page * page)));
      if (block == nullptr) fail("tcp: cannot allocate window ", id, " (", bytes, " bytes)");
      memory = {block.get(), bytes};
      std::memset(memory.data(), 0, bytes);
      allocations_[id] = std::move(block);
    }
    return {memory, register_window(id, memory)};
  }

  void add_remote_window(int peer, std::uint32_t id, std::size_t size,
                         std::string_view /*blob*/) override {
    if (peer < 0) return;
    auto p = static_cast<std::size_t>(peer);
    if (p >= remote_sizes_.size()) remote_sizes_.resize(p + 1);
    auto& sizes = remote_sizes_[p];
    if (id >= sizes.size()) sizes.resize(std::size_t{id} + 1, kUnknownSize);
    sizes[id] = size;
  }

  void release_window(std::uint32_t id) override {
    if (id < windows_.size()) windows_[id].reset();  // a later put into it fails the sender
    allocations_.erase(id);
  }

  void remove_remote_window(int peer, std::uint32_t id) override {
    const auto p = static_cast<std::size_t>(peer);
    if (p < remote_sizes_.size() && id < remote_sizes_[p].size()) remote_sizes_[p][id] = 0;
  }

  std::byte* direct_window(int, std::uint32_t) override { return nullptr; }

  void post_am(int peer, std::uint16_t handler, std::span<const std::byte> bytes,
               Completion* done) override {
    check_peer_index(peer);
    if (bytes.size() > kMaxPayload) {
      complete(done, str_cat("tcp: active message of ", bytes.size(), " bytes to rank ", peer,
                             " exceeds the limit of ", kMaxPayload, " bytes"));
      return;
    }
    std::array<std::byte, kAmHeader> header;
    std::byte* p = store(header.data(), static_cast<std::uint32_t>(kAmHeader + bytes.size()));
    p = store(p, std::uint8_t{kAm});
    store(p, handler);
    if (peer == rank_) {  // delivered by the next progress()
      self_queue_.append(header.data(), header.size());
      self_queue_.append(bytes.data(), bytes.size());
      complete(done);
      return;
    }
    if (!usable(peer, done)) return;
    enqueue(peer, header.data(), header.size(), bytes);
    complete(done, failure_text(peer));
  }

  void post_put(int peer, std::uint32_t window, std::uint64_t offset,
                std::span<const std::byte> bytes, Completion* done) override {
    check_peer_index(peer);
    if (std::string bad = check_remote_bounds(peer, window, offset, bytes.size()); !bad.empty()) {
      complete(done, std::move(bad));
      return;
    }
    if (peer == rank_) {  // applied at once, so a flush to self has nothing to wait for
      if (window >= windows_.size() || !windows_[window]) {
        complete(done, str_cat("tcp: put to own window ", window, ", which is not registered"));
        return;
      }
      std::span<std::byte> mem = *windows_[window];
      if (offset > mem.size() || bytes.size() > mem.size() - offset) {
        complete(done, str_cat("tcp: put of ", bytes.size(), " bytes at offset ", offset,
                               " into own window ", window, " of ", mem.size(), " bytes"));
        return;
      }
      if (!bytes.empty()) apply_put(mem.data() + offset, bytes.data(), bytes.size());
      complete(done);
      return;
    }
    if (!usable(peer, done)) return;
    // Frames carry at most kMaxPayload bytes; a larger put goes out as consecutive frames.
    do {
      std::size_t n = std::min(bytes.size(), kMaxPayload);
      std::array<std::byte, kPutHeader> header;
      std::byte* p = store(header.data(), static_cast<std::uint32_t>(kPutHeader + n));
      p = store(p, std::uint8_t{kPut});
      p = store(p, window);
      store(p, offset);
      enqueue(peer, header.data(), header.size(), bytes.first(n));
      bytes = bytes.subspan(n);
      offset += n;
    } while (!bytes.empty() && failure_text(peer).empty());
    complete(done, failure_text(peer));
  }

  // A no-op: the target applies the frames of one connection strictly in the order they
  // were posted, so puts posted after this point already land after the earlier ones.
  void fence(int peer) override { check_peer_index(peer); }

  void post_flush(int peer, Completion* done) override {
    check_peer_index(peer);
    if (peer == rank_) {  // puts to self are applied inline; nothing is in flight
      complete(done);
      return;
    }
    if (!usable(peer, done)) return;
    std::uint64_t id = next_flush_id_++;
    Peer& p = peers_[static_cast<std::size_t>(peer)];
    p.flushes.emplace_back(id, done);
    std::array<std::byte, kFlushFrame> frame;
    encode_flush(frame.data(), kFlushReq, id);
    enqueue(peer, frame.data(), frame.size(), {});
    // If sending failed, the next progress() fails the peer and with it this flush.
  }

  bool progress() override;
  int event_fd() override { return closed_ || !epoll_ ? -1 : epoll_.get(); }
  /// Pending work outside the epoll set: messages to self, input left by a throwing
  /// callback, broken peers, output queued without EPOLLOUT.
  bool arm() override {
    return !closed_ && self_queue_.empty() && self_delivering_.empty() && reparse_.empty() &&
           broken_.empty() && dirty_.empty();
  }
  void disconnect() override;

 private:
  static constexpr std::size_t kUnknownSize = std::numeric_limits<std::size_t>::max();

  /// A large PUT being received straight into window memory.
  struct Stream {
    std::byte* body = nullptr;  ///< next byte of the window to write
    std::size_t body_left = 0;  ///< payload bytes before the tail still to come
    std::byte* tail_dst = nullptr;
    std::size_t tail_len = 0;  ///< min(8, payload)
    std::size_t tail_have = 0;
    std::array<std::byte, 8> tail{};
  };

  struct Peer {
    Fd fd;
    bool failed = false;     ///< reported through on_failure (or left with BYE); fd closed
    std::string failure;     ///< why, for operations posted later
    std::string send_error;  ///< sending failed; progress() reads what is left, then fails it
    bool want_out = false;   ///< EPOLLOUT armed (the kernel buffer was full)
    bool dirty = false;      ///< in dirty_: has queued output progress() must write
    ByteQueue out;           ///< frames the kernel has not taken yet
    ByteQueue in;            ///< received bytes not parsed yet
    std::size_t need = 0;    ///< bytes the next frame needs in `in` (0: unknown yet)
    bool streaming = false;
    Stream stream;
    std::deque<std::pair<std::uint64_t, Completion*>> flushes;  ///< awaiting FLUSH_ACK, by id
  };

  static void encode_flush(std::byte* frame, FrameType type, std::uint64_t id) {
    std::byte* p = store(frame, static_cast<std::uint32_t>(kFlushFrame));
    p = store(p, static_cast<std::uint8_t>(type));
    store(p, id);
  }

  void check_peer_index(int peer) const {
    if (peers_.empty()) fail("tcp: operation posted before connect()");
    if (peer < 0 || static_cast<std::size_t>(peer) >= peers_.size()) {
      fail("tcp: rank ", peer, " out of range 0..", peers_.size() - 1);
    }
  }

  /// False (and `done` completed as failed) if peer cannot take new operations.
  bool usable(int peer, Completion* done) {
    std::string why = failure_text(peer);
    if (why.empty()) return true;
    complete(done, std::move(why));
    return false;
  }
  /// Empty while peer takes operations; else why not.
  std::string failure_text(int peer) const {
    const Peer& p = peers_[static_cast<std::size_t>(peer)];
    if (p.failed) return str_cat("tcp: rank ", peer, " is unreachable: ", p.failure);
    if (!p.send_error.empty()) {
      return str_cat("tcp: rank ", peer, " is unreachable: ", p.send_error);
    }
    return {};
  }

  std::string check_remote_bounds(int peer, std::uint32_t window, std::uint64_t offset,
                                  std::size_t len) const {
    auto pi = static_cast<std::size_t>(peer);
    if (pi >= remote_sizes_.size() || window >= remote_sizes_[pi].size()) return {};
    std::size_t size = remote_sizes_[pi][window];
    if (size == kUnknownSize || (offset <= size && len <= size - offset)) return {};
    return str_cat("tcp: put of ", len, " bytes at offset ", offset, " is outside window ", window,
                   " of rank ", peer, " (", size, " bytes)");
  }

  void enqueue(int peer, const std::byte* header, std::size_t header_len,
               std::span<const std::byte> payload);
  void flush_output(int peer);
  void set_want_out(Peer& p, int peer, bool want);
  void mark_dirty(int peer) {
    Peer& p = peers_[static_cast<std::size_t>(peer)];
    if (p.dirty) return;
    p.dirty = true;
    dirty_.push_back(peer);
  }
  void read_peer(int peer);
  void parse_input(int peer);
  std::size_t feed_stream(Peer& p, const std::byte* src, std::size_t n);
  void fail_peer(int peer, std::string why, bool report = true);
  void break_send(int peer, std::string why);
  bool deliver_self();
  void close_all();

  BackendOptions options_;
  AmCallback on_am_;
  FailureCallback on_failure_;
  std::string address_;
  Fd listener_;
  Fd epoll_;
  int rank_ = -1;
  bool closed_ = false;       ///< disconnect() ran
  bool in_progress_ = false;  ///< guards against progress() re-entered from a callback
  std::vector<Peer> peers_;   ///< by rank; peers_[rank_] is unused
  std::vector<int> dirty_;    ///< peers with queued output and EPOLLOUT not armed
  std::vector<int> reparse_;  ///< peers whose input parsing an exception interrupted
  std::vector<int> broken_;   ///< peers with a send_error, failed by the next progress()
  std::vector<std::optional<std::span<std::byte>>> windows_;  ///< local windows by id
  std::map<std::uint32_t, AlignedPtr> allocations_;           ///< memory of allocate_window()
  std::vector<std::vector<std::size_t>> remote_sizes_;        ///< [peer][window]
  std::uint64_t next_flush_id_ = 1;
  ByteQueue self_queue_;       ///< AM frames to self, delivered by progress()
  ByteQueue self_delivering_;  ///< swapped with self_queue_ while delivering
  std::array<epoll_event, 64> events_{};
};

// ---- connection setup ------------------------------------------------------------------------

void TcpBackend::connect(int rank, const std::vector<std::string>& addresses) {
  const int size = static_cast<int>(addresses.size());
  if (!peers_.empty()) fail("tcp: connect() called twice");
  if (rank < 0 || rank >= size) fail("tcp: rank ", rank, " out of range for ", size, " addresses");
  if (size > 1 && !listener_) fail("tcp: connect() before address()");
  rank_ = rank;
  epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) fail("tcp: epoll_create1(): ", errno_text(errno));
  std::vector<Peer> peers(static_cast<std::size_t>(size));

  // Outgoing connections (to every lower rank) and incoming ones still in their handshake.
  enum class Stage { kIdle, kConnecting, kSendHello, kReadReply, kDone };
  struct Outgoing {
    int peer = 0;
    SockAddr addr;
    Stage stage = Stage::kIdle;
    Fd fd;
    std::size_t pos = 0;  // bytes of our hello sent, or of the reply received
    std::vector<std::byte> reply = std::vector<std::byte>(kHelloHeader);
    Clock::time_point retry_at{};
    std::string last_error = "no answer yet";
    std::string handshake_error;  // the last failure after the peer accepted us, kept
                                  // because a later "refused" (it gave up) says less
    std::size_t poll_index = 0;
  };
  struct Incoming {
    Fd fd;
    std::string from;
    int rank = -1;  // >= 0 once its hello passed; then we are sending our reply
    std::size_t pos = 0;
    std::vector<std::byte> hello = std::vector<std::byte>(kHelloHeader);
    std::size_t poll_index = 0;
  };
  const auto hello = make_hello(rank, size, options_.token);
  std::vector<Outgoing> outgoing;
  for (int j = 0; j < rank; ++j) {
    Outgoing o;
    o.peer = j;
    o.addr = parse_peer_address(j, addresses[static_cast<std::size_t>(j)]);
    outgoing.push_back(std::move(o));
  }
  std::vector<Incoming> incoming;
  std::vector<bool> claimed(static_cast<std::size_t>(size), false);  // ranks > rank accepted
  int accepted = 0;
  int outgoing_done = 0;
  const int to_accept = size - 1 - rank;
  std::size_t rejected = 0;
  std::string last_rejection;

  const auto timeout = options_.connect_timeout;
  const auto deadline = Clock::now() + timeout;
  constexpr auto kRetryDelay = std::chrono::milliseconds(20);
  // An outgoing attempt that failed in a way a retry may fix (refused, reset, closed).
  auto retry_later = [&](Outgoing& o, std::string why) {
    o.fd.reset();
    if (o.stage == Stage::kSendHello || o.stage == Stage::kReadReply) o.handshake_error = why;
    o.stage = Stage::kIdle;
    o.last_error = std::move(why);
    o.retry_at = Clock::now() + kRetryDelay;
  };
  auto ms_until = [](Clock::time_point t, Clock::time_point now) {
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(t - now).count());
  };

  std::vector<pollfd> fds;
  while (accepted < to_accept || outgoing_done < rank) {
    auto now = Clock::now();
    if (now >= deadline) {
      std::string missing;
      for (const Outgoing& o : outgoing) {
        if (o.stage == Stage::kDone) continue;
        const bool earlier = !o.handshake_error.empty() && o.handshake_error != o.last_error;
        missing +=
            str_cat(missing.empty() ? "" : "; ", "rank ", o.peer, " at ", format_address(o.addr),
                    " (", o.last_error, earlier ? "; before that: " + o.handshake_error : "", ")");
      }
      for (int j = rank + 1; j < size; ++j) {
        if (claimed[static_cast<std::size_t>(j)]) continue;
        missing += str_cat(missing.empty() ? "" : "; ", "rank ", j, " (never connected to us)");
      }
      std::string note;
      if (rejected > 0) {
        note = str_cat("; rejected ", rejected, " bad handshake(s), last: ", last_rejection);
      }
      fail("tcp: rank ", rank, " could not connect to every peer within ", timeout.count(),
           " ms; missing: ", missing, note);
    }
    // Start the attempts that are due.
    int wait_ms = ms_until(deadline, now);
    for (Outgoing& o : outgoing) {
      if (o.stage != Stage::kIdle) continue;
      if (o.retry_at > now) {
        wait_ms = std::min(wait_ms, ms_until(o.retry_at, now));
        continue;
      }
      o.fd = Fd(::socket(o.addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!o.fd) fail("tcp: socket(): ", errno_text(errno));
      set_nodelay(o.fd.get());
      o.pos = 0;
      o.reply.resize(kHelloHeader);
      if (::connect(o.fd.get(), o.addr.get(), o.addr.length) == 0) {
        o.stage = Stage::kSendHello;
      } else if (errno == EINPROGRESS || errno == EINTR) {
        o.stage = Stage::kConnecting;
      } else {
        retry_later(o, str_cat("connect(): ", errno_text(errno)));
        wait_ms = std::min(wait_ms, static_cast<int>(kRetryDelay.count()));
      }
    }
    fds.clear();
    const bool listening = accepted < to_accept;
    if (listening) fds.push_back({listener_.get(), POLLIN, 0});
    for (Outgoing& o : outgoing) {
      if (!o.fd) continue;
      o.poll_index = fds.size();
      fds.push_back(
          {o.fd.get(), static_cast<short>(o.stage == Stage::kReadReply ? POLLIN : POLLOUT), 0});
    }
    for (Incoming& in : incoming) {
      in.poll_index = fds.size();
      fds.push_back({in.fd.get(), static_cast<short>(in.rank >= 0 ? POLLOUT : POLLIN), 0});
    }
    int n = ::poll(fds.data(), fds.size(), std::max(wait_ms, 0));
    if (n < 0 && errno != EINTR) fail("tcp: poll(): ", errno_text(errno));
    if (n <= 0) continue;

    // Outgoing: finish connect, send our hello, read and check the reply.
    for (Outgoing& o : outgoing) {
      if (!o.fd || fds[o.poll_index].revents == 0) continue;
      if (o.stage == Stage::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(o.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) {
          retry_later(o, str_cat("connect(): ", errno_text(err)));
          continue;
        }
        o.stage = Stage::kSendHello;
      }
      if (o.stage == Stage::kSendHello) {
        ssize_t w = ::send(o.fd.get(), hello.data() + o.pos, hello.size() - o.pos, MSG_NOSIGNAL);
        if (w < 0) {
          if (!would_block(errno) && errno != EINTR) {
            retry_later(o, str_cat("send(): ", errno_text(errno)));
          }
          continue;
        }
        o.pos += static_cast<std::size_t>(w);
        if (o.pos == hello.size()) {
          o.stage = Stage::kReadReply;
          o.pos = 0;
        }
        continue;  // the reply comes with a later poll()
      }
      // Stage::kReadReply
      ssize_t r = ::recv(o.fd.get(), o.reply.data() + o.pos, o.reply.size() - o.pos, 0);
      if (r == 0) {
        retry_later(o, "closed during the handshake (was our hello rejected?)");
        continue;
      }
      if (r < 0) {
        if (!would_block(errno) && errno != EINTR) {
          retry_later(o, str_cat("recv(): ", errno_text(errno)));
        }
        continue;
      }
      o.pos += static_cast<std::size_t>(r);
      if (o.pos < o.reply.size()) continue;
      HelloFields h = read_hello(o.reply.data());
      if (o.reply.size() == kHelloHeader) {  // the fixed part: check it, then read the token
        std::string bad = check_hello(h, size);
        if (bad.empty() && h.rank != static_cast<std::uint32_t>(o.peer)) {
          bad = str_cat("it says it is rank ", h.rank);
        }
        if (!bad.empty()) {
          fail("tcp: rank ", rank, ": the process at ", format_address(o.addr),
               " (the address of rank ", o.peer, ") answered with a bad hello: ", bad);
        }
        o.reply.resize(kHelloHeader + h.token_length);
        if (o.pos < o.reply.size()) continue;
      }
      if (!equal_secret(hello_token(o.reply), options_.token)) {
        fail("tcp: rank ", rank, ": the process at ", format_address(o.addr),
             " (the address of rank ", o.peer, ") answered with the wrong job token");
      }
      peers[static_cast<std::size_t>(o.peer)].fd = std::move(o.fd);
      o.stage = Stage::kDone;
      ++outgoing_done;
    }

    // Incoming: read and check the hello, then send our reply.
    for (Incoming& in : incoming) {
      if (fds[in.poll_index].revents == 0) continue;
      auto reject = [&](std::string why) {
        ++rejected;
        last_rejection = str_cat(why, " from ", in.from);
        log_info(str_cat("tcp: rank ", rank, " rejected a connection from ", in.from, ": ", why));
        if (in.rank >= 0) claimed[static_cast<std::size_t>(in.rank)] = false;
        in.fd.reset();
      };
      if (in.rank < 0) {
        ssize_t r = ::recv(in.fd.get(), in.hello.data() + in.pos, in.hello.size() - in.pos, 0);
        if (r == 0) {
          reject("closed before completing its hello");
          continue;
        }
        if (r < 0) {
          if (!would_block(errno) && errno != EINTR) reject(str_cat("recv(): ", errno_text(errno)));
          continue;
        }
        in.pos += static_cast<std::size_t>(r);
        if (in.pos < in.hello.size()) continue;
        HelloFields h = read_hello(in.hello.data());
        std::string bad;
        if (in.hello.size() == kHelloHeader) {  // the fixed part: check it, then the token
          bad = check_hello(h, size);
          if (bad.empty() && static_cast<int>(h.rank) <= rank) {
            bad = str_cat("rank ", h.rank, " must not connect to rank ", rank,
                          " (higher ranks connect to lower ones)");
          }
          if (bad.empty()) in.hello.resize(kHelloHeader + h.token_length);
        }
        if (bad.empty() && in.pos < in.hello.size()) continue;
        if (bad.empty() && !equal_secret(hello_token(in.hello), options_.token)) {
          bad = str_cat("wrong job token (claimed rank ", h.rank, ")");
        }
        if (bad.empty() && claimed[h.rank]) bad = str_cat("duplicate hello from rank ", h.rank);
        if (!bad.empty()) {
          reject(bad);
          continue;
        }
        in.rank = static_cast<int>(h.rank);
        claimed[h.rank] = true;
        in.pos = 0;
      }
      ssize_t w = ::send(in.fd.get(), hello.data() + in.pos, hello.size() - in.pos, MSG_NOSIGNAL);
      if (w < 0) {
        if (!would_block(errno) && errno != EINTR) reject(str_cat("send(): ", errno_text(errno)));
        continue;
      }
      in.pos += static_cast<std::size_t>(w);
      if (in.pos == hello.size()) {
        set_nodelay(in.fd.get());
        peers[static_cast<std::size_t>(in.rank)].fd = std::move(in.fd);
        ++accepted;
      }
    }
    std::erase_if(incoming, [](const Incoming& in) { return !in.fd; });

    // Accept new connections (their hellos are read after the next poll()).
    if (listening && (fds[0].revents & POLLIN) != 0) {
      for (;;) {
        SockAddr from;
        from.length = sizeof from.storage;
        Fd fd(::accept4(listener_.get(), from.get(), &from.length, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          break;  // EAGAIN, or out of descriptors (retried after the next poll())
        }
        if (incoming.size() >= kMaxPendingAccepts) continue;  // closed: too many half-open
        Incoming in;
        in.fd = std::move(fd);
        in.from = format_address(from);
        incoming.push_back(std::move(in));
      }
    }
  }

  // Every peer is connected: register them, stop listening.
  for (int j = 0; j < size; ++j) {
    if (j == rank) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(j);
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, peers[static_cast<std::size_t>(j)].fd.get(),
                    &ev) != 0) {
      fail("tcp: epoll_ctl(ADD): ", errno_text(errno));
    }
  }
  listener_.reset();
  peers_ = std::move(peers);
}

// ---- sending --------------------------------------------------------------------------------

void TcpBackend::set_want_out(Peer& p, int peer, bool want) {
  if (p.want_out == want || !p.fd) return;
  epoll_event ev{};
  ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  ev.data.u32 = static_cast<std::uint32_t>(peer);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, p.fd.get(), &ev) != 0) {
    fail_peer(peer, str_cat("epoll_ctl(MOD) failed: ", errno_text(errno)));
    return;
  }
  p.want_out = want;
}

// Sends header + payload at once when nothing is queued before them (no copy of what the
// kernel takes); otherwise, or for the rest, appends to the send queue. Frames queued behind
// others go out coalesced with them.
void TcpBackend::enqueue(int peer, const std::byte* header, std::size_t header_len,
                         std::span<const std::byte> payload) {
  Peer& p = peers_[static_cast<std::size_t>(peer)];
  if (!p.send_error.empty()) return;  // dropped: the peer fails in the next progress()
  if (!p.out.empty()) {
    p.out.append(header, header_len);
    p.out.append(payload.data(), payload.size());
    if (!p.want_out) mark_dirty(peer);
    return;
  }
  iovec iov[2] = {{const_cast<std::byte*>(header), header_len},
                  {const_cast<std::byte*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  ssize_t n = ::sendmsg(p.fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  const int err = n < 0 ? errno : 0;
  std::size_t sent = 0;
  if (n >= 0) {
    sent = static_cast<std::size_t>(n);
  } else if (!would_block(err) && err != EINTR) {
    break_send(peer, str_cat("connection to rank ", peer, " failed on send: ", errno_text(err)));
    return;
  }
  if (sent == header_len + payload.size()) return;
  if (sent < header_len) {
    p.out.append(header + sent, header_len - sent);
    p.out.append(payload.data(), payload.size());
  } else {
    std::size_t skip = sent - header_len;
    p.out.append(payload.data() + skip, payload.size() - skip);
  }
  if (err == EINTR) {
    mark_dirty(peer);
  } else {
    set_want_out(p, peer, true);  // the kernel buffer is full
  }
}

void TcpBackend::flush_output(int peer) {
  Peer& p = peers_[static_cast<std::size_t>(peer)];
  if (!p.send_error.empty()) return;
  while (!p.out.empty()) {
    ssize_t n = ::send(p.fd.get(), p.out.front(), p.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      p.out.consume(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block(errno)) break;
    int err = n < 0 ? errno : EPIPE;
    break_send(peer, str_cat("connection to rank ", peer, " failed on send: ", errno_text(err)));
    return;
  }
  if (p.out.empty()) p.out.trim();
  set_want_out(p, peer, !p.out.empty());
}

// ---- receiving --------------------------------------------------------------------------------

// Consumes up to n bytes of the streaming put from src; ends the stream when complete.
std::size_t TcpBackend::feed_stream(Peer& p, const std::byte* src, std::size_t n) {
  Stream& s = p.stream;
  std::size_t used = std::min(n, s.body_left);
  if (used > 0) {
    std::memcpy(s.body, src, used);
    s.body += used;
    s.body_left -= used;
  }
  std::size_t t = std::min(n - used, s.tail_len - s.tail_have);
  if (t > 0) {
    std::memcpy(s.tail.data() + s.tail_have, src + used, t);
    s.tail_have += t;
    used += t;
  }
  if (s.body_left == 0 && s.tail_have == s.tail_len) {
    store_tail(s.tail_dst, s.tail.data(), s.tail_len);
    p.streaming = false;
  }
  return used;
}

void TcpBackend::read_peer(int peer) {
  Peer& p = peers_[static_cast<std::size_t>(peer)];
  for (int i = 0; i < kMaxReadsPerEvent && !p.failed; ++i) {
    ssize_t n;
    std::size_t asked;
    if (p.streaming && p.stream.body_left >= kStreamThreshold) {
      // The middle of a large put goes straight from the socket into the window.
      asked = p.stream.body_left;
      n = ::recv(p.fd.get(), p.stream.body, asked, MSG_DONTWAIT);
      if (n > 0) {
        p.stream.body += n;
        p.stream.body_left -= static_cast<std::size_t>(n);
      }
    } else {
      std::size_t want = kReadChunk;
      if (p.need > p.in.size()) {  // grow toward the pending frame as its bytes arrive
        want = std::max(want, std::min(p.need - p.in.size(), std::max(p.in.size(), kReadChunk)));
      }
      std::byte* dst = p.in.reserve_back(want);
      asked = p.in.free_back();
      n = ::recv(p.fd.get(), dst, asked, MSG_DONTWAIT);
      if (n > 0) {
        p.in.commit_back(static_cast<std::size_t>(n));
        parse_input(peer);
      }
    }
    if (n == 0) {
      fail_peer(peer, str_cat("connection to rank ", peer, " closed by the peer (EOF)"));
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) break;
      int err = errno;
      fail_peer(peer, str_cat("connection to rank ", peer,
                              err == ECONNRESET ? " reset: " : " failed: ", errno_text(err)));
      return;
    }
    if (static_cast<std::size_t>(n) < asked) break;  // drained for now
  }
  if (!p.failed && p.in.empty()) p.in.trim();
}

// Applies every complete frame in p.in (and feeds a streaming put). Stops at the first
// incomplete frame (setting p.need) or when the peer fails.
void TcpBackend::parse_input(int peer) {
  Peer& p = peers_[static_cast<std::size_t>(peer)];
  auto bad = [&](auto&&... what) {
    fail_peer(peer, str_cat("rank ", peer, " sent a bad frame: ", what...));
  };
  while (!p.failed) {
    if (p.streaming) {
      if (p.in.empty()) return;
      p.in.consume(feed_stream(p, p.in.front(), p.in.size()));
      continue;
    }
    p.need = kPrefixSize;
    if (p.in.size() < kPrefixSize) return;
    const std::byte* f = p.in.front();
    const std::size_t len = load<std::uint32_t>(f);
    const auto type = load<std::uint8_t>(f + 4);
    if (len < kPrefixSize || len > kMaxFrame) {
      return bad("length ", len, " outside ", kPrefixSize, "..", kMaxFrame);
    }
    switch (type) {
      case kAm: {
        if (len < kAmHeader)
          return bad("active message of length ", len, " < its header ", kAmHeader);
        p.need = len;
        if (p.in.size() < len) return;
        auto handler = load<std::uint16_t>(f + kPrefixSize);
        std::span<const std::byte> payload(f + kAmHeader, len - kAmHeader);
        // Consumed first, so a throwing callback leaves a consistent state. The bytes stay in
        // place during the call: only read_peer() writes into p.in, and never from a callback.
        p.in.consume(len);
        if (on_am_) {
          try {
            on_am_(peer, handler, payload);
          } catch (...) {
            reparse_.push_back(peer);  // the rest of p.in is parsed by the next progress()
            throw;
          }
        }
        if (closed_) return;  // the callback disconnected
        break;
      }
      case kPut: {
        if (len < kPutHeader) return bad("put of length ", len, " < its header ", kPutHeader);
        p.need = kPutHeader;
        if (p.in.size() < kPutHeader) return;
        auto window = load<std::uint32_t>(f + kPrefixSize);
        auto offset = load<std::uint64_t>(f + kPrefixSize + 4);
        std::size_t n = len - kPutHeader;
        if (window >= windows_.size() || !windows_[window]) {
          return bad("put into unknown window ", window);
        }
        std::span<std::byte> mem = *windows_[window];
        if (offset > mem.size() || n > mem.size() - offset) {
          return bad("put of ", n, " bytes at offset ", offset, " is outside window ", window, " (",
                     mem.size(), " bytes)");
        }
        std::byte* dst = mem.data() + offset;
        if (p.in.size() >= len) {
          if (n > 0) apply_put(dst, f + kPutHeader, n);
          p.in.consume(len);
        } else if (n > kStreamThreshold) {
          p.streaming = true;
          p.need = 0;
          p.stream.tail_len = std::min<std::size_t>(8, n);
          p.stream.tail_have = 0;
          p.stream.body = dst;
          p.stream.body_left = n - p.stream.tail_len;
          p.stream.tail_dst = dst + p.stream.body_left;
          p.in.consume(kPutHeader);
        } else {
          p.need = len;
          return;
        }
        break;
      }
      case kFlushReq:
      case kFlushAck: {
        if (len != kFlushFrame) {
          return bad("flush frame of length ", len, " (expected ", kFlushFrame, ")");
        }
        p.need = len;
        if (p.in.size() < len) return;
        auto id = load<std::uint64_t>(f + kPrefixSize);
        p.in.consume(len);
        if (type == kFlushReq) {
          // Every earlier frame of this peer is applied: acknowledge (written by this
          // progress(), together with whatever else is queued).
          if (p.send_error.empty()) {
            std::array<std::byte, kFlushFrame> ack;
            encode_flush(ack.data(), kFlushAck, id);
            p.out.append(ack.data(), ack.size());
            if (!p.want_out) mark_dirty(peer);
          }
        } else {
          if (p.flushes.empty()) return bad("acknowledgement of flush ", id, ", none is pending");
          if (p.flushes.front().first != id) {
            return bad("acknowledgement of flush ", id, ", expected ", p.flushes.front().first);
          }
          Completion* done = p.flushes.front().second;
          p.flushes.pop_front();
          complete(done);
        }
        break;
      }
      case kBye:
        if (len != kByeFrame) return bad("goodbye frame of length ", len);
        p.in.consume(len);
        fail_peer(peer, str_cat("rank ", peer, " disconnected"), /*report=*/false);
        return;
      default:
        return bad("unknown frame type ", static_cast<unsigned>(type));
    }
  }
}

// Closes the peer's connection and fails what waits on it; reports through on_failure
// (unless it left on purpose) exactly once. Keeps p.in: an on_am callback may still be
// reading from it.
void TcpBackend::fail_peer(int peer, std::string why, bool report) {
  Peer& p = peers_[static_cast<std::size_t>(peer)];
  if (p.failed) return;
  p.failed = true;
  p.failure = why;
  p.streaming = false;
  if (p.fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, p.fd.get(), nullptr);
    p.fd.reset();
  }
  p.want_out = false;
  p.out.clear();
  p.out.trim();
  auto flushes = std::move(p.flushes);
  p.flushes.clear();
  for (auto& [id, done] : flushes) complete(done, failure_text(peer));
  if (report && on_failure_) on_failure_(peer, why);
}

// A failed send does not fail the peer at once: a BYE (or data) it sent before closing may
// still be unread. progress() reads what is left, then fails the peer unless it departed.
void TcpBackend::break_send(int peer, std::string why) {
  Peer& p = peers_[static_cast<std::size_t>(peer)];
  if (p.failed || !p.send_error.empty()) return;
  p.send_error = std::move(why);
  p.out.clear();
  set_want_out(p, peer, false);
  broken_.push_back(peer);
}

// ---- progress and shutdown -----------------------------------------------------------------

bool TcpBackend::deliver_self() {
  if (self_queue_.empty() && self_delivering_.empty()) return false;
  // AMs posted to self from inside a handler land in the other queue. self_delivering_ is
  // only non-empty here if a callback threw; its frames go first.
  if (self_delivering_.empty()) {
    std::swap(self_queue_, self_delivering_);
  } else {
    self_delivering_.append(self_queue_.front(), self_queue_.size());
    self_queue_.clear();
  }
  while (self_delivering_.size() >= kAmHeader && !closed_) {
    const std::byte* f = self_delivering_.front();
    std::size_t len = load<std::uint32_t>(f);
    auto handler = load<std::uint16_t>(f + kPrefixSize);
    self_delivering_.consume(len);  // before the call: see parse_input()
    if (on_am_) on_am_(rank_, handler, {f + kAmHeader, len - kAmHeader});
  }
  self_delivering_.clear();
  self_delivering_.trim();
  return true;
}

bool TcpBackend::progress() {
  if (peers_.empty() || closed_ || in_progress_) return false;
  in_progress_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{in_progress_};

  bool did = deliver_self();
  while (!reparse_.empty() && !closed_) {  // left over by a callback that threw
    int peer = reparse_.back();
    reparse_.pop_back();  // parse_input() pushes it again if a callback throws again
    parse_input(peer);
    did = true;
  }
  int n = ::epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), 0);
  if (n < 0 && errno != EINTR) fail("tcp: epoll_wait(): ", errno_text(errno));
  for (int i = 0; i < n && !closed_; ++i) {
    int peer = static_cast<int>(events_[static_cast<std::size_t>(i)].data.u32);
    std::uint32_t ev = events_[static_cast<std::size_t>(i)].events;
    Peer& p = peers_[static_cast<std::size_t>(peer)];
    if (p.failed) continue;
    did = true;
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_peer(peer);
    if (!p.failed && !closed_ && (ev & EPOLLOUT)) flush_output(peer);
  }
  // Lists are popped only after their entry is handled, so a callback that throws leaves
  // the rest (and its own entry) for the next progress().
  while (!broken_.empty() && !closed_) {
    const int peer = broken_.back();
    Peer& p = peers_[static_cast<std::size_t>(peer)];
    if (!p.failed) read_peer(peer);
    if (!p.failed) fail_peer(peer, p.send_error);
    // Callbacks may have appended entries behind this one.
    broken_.erase(std::find(broken_.rbegin(), broken_.rend(), peer).base() - 1);
    did = true;
  }
  // Output queued without an armed EPOLLOUT (acks, frames posted behind others). Callbacks
  // may append to dirty_ meanwhile; it is walked by index.
  for (std::size_t i = 0; i < dirty_.size() && !closed_; ++i) {
    int peer = dirty_[i];
    Peer& p = peers_[static_cast<std::size_t>(peer)];
    p.dirty = false;
    if (p.failed || p.want_out || p.out.empty()) continue;
    flush_output(peer);
    did = true;
  }
  dirty_.clear();
  return did;
}

void TcpBackend::disconnect() {
  if (closed_) return;
  // Best effort, without blocking: write what is queued, then BYE, so peers know this
  // close is on purpose and do not report it as a failure.
  for (std::size_t j = 0; j < peers_.size(); ++j) {
    Peer& p = peers_[j];
    if (p.failed || !p.fd || !p.send_error.empty()) continue;
    int peer = static_cast<int>(j);
    std::array<std::byte, kByeFrame> bye;
    std::byte* b = store(bye.data(), static_cast<std::uint32_t>(kByeFrame));
    store(b, std::uint8_t{kBye});
    p.out.append(bye.data(), bye.size());
    flush_output(peer);
    if (p.failed || !p.send_error.empty()) continue;
    ::shutdown(p.fd.get(), SHUT_WR);
    // Unread input at close() would make the kernel answer with a reset instead of a FIN.
    std::array<std::byte, 4096> sink;
    for (int k = 0; k < 64; ++k) {
      if (::recv(p.fd.get(), sink.data(), sink.size(), MSG_DONTWAIT) <= 0) break;
    }
  }
  close_all();
}

void TcpBackend::close_all() {
  closed_ = true;
  for (std::size_t j = 0; j < peers_.size(); ++j) {
    Peer& p = peers_[j];
    p.fd.reset();
    p.want_out = false;
    p.out.clear();
    if (!p.failed) {
      p.failed = true;
      p.failure = "the transport was disconnected";
    }
    // Dropped, not completed: their owners may be gone by now (see disconnect() contract).
    p.flushes.clear();
  }
  dirty_.clear();
  listener_.reset();
  epoll_.reset();
}

}  // namespace

std::unique_ptr<Backend> make_tcp_backend(const BackendOptions& options) {
  return std::make_unique<TcpBackend>(options);
}

}  // namespace atl::detail
