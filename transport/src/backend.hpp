// The contract between Transport (the common layer) and a network backend (UCX or TCP).
//
// A Backend is a single-threaded state machine: Transport serializes every call with one
// lock, so a backend never needs locks of its own. Posting never blocks on the network: it
// starts the operation or queues it, and progress() moves everything forward. Nothing in
// here knows what a vertex is.
//
// Invariants a backend must keep:
//  - Active messages between one pair of ranks are delivered in the order they were posted.
//  - A put's bytes are visible in the target's window when its flush completes. Puts to one
//    peer posted after a fence() become visible only after the puts posted before it.
//  - Every length, offset, window id and handler id read from the network is validated
//    before use; a malformed frame or out-of-range put fails that peer (on_failure), never
//    crashes or writes out of bounds.
//  - A peer whose connection breaks is reported through on_failure exactly once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atl::detail {

/// Completion of a posted operation: the backend sets `done` (from progress(), or at once
/// when the operation completed inline) and `error` when it failed.
struct Completion {
  bool done = false;
  bool failed = false;
  std::string error;
};

/// Called by progress() for every active message that arrives. `bytes` is valid only during
/// the call. handler ids are validated by Transport against its table.
using AmCallback = std::function<void(int peer, std::uint16_t handler, std::span<const std::byte>)>;
/// Called by progress() (or a post) when a peer's connection breaks or it sent garbage.
using FailureCallback = std::function<void(int peer, const std::string& why)>;

class Backend {
 public:
  virtual ~Backend() = default;

  /// "ucx" or "tcp".
  virtual std::string_view name() const = 0;
  /// A human-readable line on what the backend uses (UCX transports/devices, TCP interface).
  virtual std::string describe() const = 0;

  /// Callbacks, set once before connect().
  virtual void set_callbacks(AmCallback on_am, FailureCallback on_failure) = 0;

  /// This rank's address blob, exchanged through the bootstrap before connect().
  virtual std::string address() = 0;
  /// Creates endpoints to every other rank from their address blobs (addresses[rank]).
  /// May block until every connection is up (bounded by the caller's bootstrap timeout).
  virtual void connect(int rank, const std::vector<std::string>& addresses) = 0;

  /// Registers caller memory as window `id` (ids are dense, 0, 1, ...). Returns the blob a
  /// peer needs to put into it (UCX: packed rkey; TCP: empty).
  virtual std::string register_window(std::uint32_t id, std::span<std::byte> memory) = 0;
  /// Allocates `bytes` of zeroed, page-aligned memory as window `id`, in the form peers write
  /// into fastest (UCX: allocated by UCX, so shared-memory transports map it into the peers
  /// and a put is a plain store). The backend owns the memory until it is destroyed
  /// (disconnect() does not free it). Returns the memory and the blob, as register_window.
  struct AllocatedWindow {
    std::span<std::byte> memory;
    std::string blob;
  };
  virtual AllocatedWindow allocate_window(std::uint32_t id, std::size_t bytes) = 0;
  /// Records peer's window `id`: its size and the blob its register_window returned.
  virtual void add_remote_window(int peer, std::uint32_t id, std::size_t size,
                                 std::string_view blob) = 0;

  /// Drops window `id`: this rank's registration (an allocated window's memory is freed), or
  /// what this rank knew of peer's. Called when no put into it is in flight any more.
  virtual void release_window(std::uint32_t id) = 0;
  virtual void remove_remote_window(int peer, std::uint32_t id) = 0;

  /// Where peer's window `id` is mapped into this process (UCX: shared memory, and the peer
  /// allocated the window), else null; valid until disconnect(). A put into a mapped window
  /// may be done as plain stores there, visible to the peer once done; the backend's own puts
  /// into it are such stores too. The backend's fence() orders puts into mapped windows among
  /// themselves, and puts into unmapped ones among themselves, but not a put into a mapped
  /// window after one into an unmapped window (UCX emulates that one through the target's
  /// progress): the caller waits for a flush there.
  virtual std::byte* direct_window(int peer, std::uint32_t id) = 0;

  /// Posts an active message. `bytes` must stay valid until `done` is set.
  virtual void post_am(int peer, std::uint16_t handler, std::span<const std::byte> bytes,
                       Completion* done) = 0;
  /// Posts a one-sided write into peer's window at offset (the caller checked the bounds
  /// against the size given to add_remote_window). `bytes` must stay valid until `done`.
  virtual void post_put(int peer, std::uint32_t window, std::uint64_t offset,
                        std::span<const std::byte> bytes, Completion* done) = 0;
  /// Orders puts to peer: those posted later become visible after those posted earlier.
  virtual void fence(int peer) = 0;
  /// Completes when every put and active message posted to peer before it is complete at
  /// the target (puts visible in its window).
  virtual void post_flush(int peer, Completion* done) = 0;

  /// Drives the network once without blocking: sends, receives, delivers active messages,
  /// applies incoming puts (TCP), completes operations. Returns true if it did anything.
  virtual bool progress() = 0;

  /// A descriptor that becomes readable when the network has something for progress() (UCX:
  /// the worker's event fd; TCP: the epoll set of its sockets), or -1 before connect().
  /// Puts that land as direct stores in mapped windows raise no event.
  virtual int event_fd() = 0;
  /// Before blocking on event_fd(): true when nothing is pending, so the next event makes it
  /// readable; false when progress() has work now (call it, then arm again).
  virtual bool arm() = 0;
  /// Rounds the progress thread polls an idle network before it sleeps on event_fd(): long
  /// when a poll is a memory read (UCX shared memory, verbs), short when it is a system call.
  virtual int idle_polls() const { return 2000; }

  /// Closes every endpoint (after the last flush; pending operations are dropped).
  virtual void disconnect() = 0;
};

struct BackendOptions {
  /// TCP: the address (or interface name) to listen on and advertise; "" = local_address.
  std::string tcp_interface;
  /// This host's address on the job's network (Bootstrap::local_address()); "" = loopback.
  std::string local_address;
  /// The job token: every backend connection presents it, one without it is dropped.
  std::string token;
  /// How long connect() waits for every peer (TransportOptions::bootstrap_timeout).
  std::chrono::milliseconds connect_timeout{60000};
};

std::unique_ptr<Backend> make_tcp_backend(const BackendOptions& options);
std::unique_ptr<Backend> make_ucx_backend(const BackendOptions& options);

}  // namespace atl::detail
