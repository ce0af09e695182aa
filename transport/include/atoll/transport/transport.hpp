// One interface over two backends (UCX, plain TCP): active messages, one-sided writes into
// registered windows, flushes, heartbeats. Built on top: channels (channel.hpp), rings
// (ring.hpp), mailboxes (mailboxes.hpp) and collectives (collectives.hpp). Nothing above this
// layer knows which backend runs.
//
// Threads: one progress thread per Transport drives the network (so peers' puts and flushes
// complete even while this rank's workers compute); while a thread blocks in wait_for() (or a
// flush, collective or ring wait) that thread drives it instead and the progress thread only
// keeps the heartbeats going, so the two never compete for a core. Both spin only briefly
// after the last event, then sleep on the backend's event descriptor (docs/transport.md,
// "Progress"). Any thread may send, put, fence and flush; posting never waits for the network.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "atoll/common/error.hpp"
#include "atoll/transport/job.hpp"

namespace atl {

enum class TransportKind { kUcx, kTcp };

/// "ucx" | "tcp" -> TransportKind; throws a usage Error otherwise.
TransportKind parse_transport(std::string_view name);
std::string_view transport_name(TransportKind kind);

struct TransportOptions {
  TransportKind kind = TransportKind::kUcx;
  /// A peer silent for this long (no message, no heartbeat) is declared dead.
  std::chrono::milliseconds peer_timeout{10000};
  /// How long the bootstrap waits for every rank to arrive, and the backend for every
  /// connection to come up.
  std::chrono::milliseconds bootstrap_timeout{60000};
};

/// Raised by blocking calls (flush, collectives, ring waits) once a peer has failed; the
/// message names the rank and what happened.
class PeerFailure : public Error {
 public:
  explicit PeerFailure(const std::string& what) : Error(ErrorKind::kRuntime, what) {}
};

using HandlerId = std::uint16_t;
/// Handler ids a program may use; ids above are the transport's own.
inline constexpr HandlerId kMaxUserHandler = 1023;
/// Runs on the progress thread for each message; must not block. `payload` is valid only
/// during the call.
using MessageHandler = std::function<void(int source, std::span<const std::byte> payload)>;

/// A registered memory region, by its index (the same on every rank).
struct WindowId {
  std::uint32_t index = 0;
};

class Bootstrap;

class Transport {
 public:
  /// Joins the job through its bootstrap and creates the backend; handlers and windows are
  /// added next, then start().
  Transport(const JobInfo& job, const TransportOptions& options);
  ~Transport();  ///< stop() if still running; during stack unwinding, close at once
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int rank() const;
  int size() const;
  /// This rank's cores (rank_cores in job.hpp: its affinity mask, or its share of the machine).
  int rank_cores() const;
  /// After start(): whether peer runs on this host (the same address on the bootstrap
  /// network), so that moving data to it takes this host's CPUs rather than a network.
  bool same_host(int peer) const;
  std::string_view backend_name() const;
  /// One line: backend, devices/transports it uses, ranks.
  std::string describe() const;

  /// Before start(): registers a handler for id (<= kMaxUserHandler). Handlers run on the
  /// progress thread (or in a thread blocked in wait_for); they may send and put, never wait.
  void add_handler(HandlerId id, MessageHandler handler);
  /// After start(), collective: every rank opens the same handlers in the same order (one
  /// thread per rank; not from a handler), so the returned id is the same everywhere. Does
  /// not wait for the peers: messages for this id that arrive before this rank opened it are
  /// kept, and delivered in order (before any later ones) by the next round of progress.
  HandlerId open_handler(MessageHandler handler);
  /// As above, for a handler that needs its own id: `make(id)` builds it before any message
  /// can reach it (a handler must not read an id the caller stores after this returns).
  HandlerId open_handler(const std::function<MessageHandler(HandlerId)>& make);
  /// After start(), collective (not from a handler): tells every peer this rank sends no more
  /// on `id`, and returns once every peer has done so and all they sent on it was delivered
  /// here. Then the handler is dropped; a later message for it fails its sender. Ids are
  /// never reused. A no-op once the transport stops.
  void close_handler(HandlerId id);
  /// Local, for an owner destroyed while unwinding after an error (close_handler is the
  /// orderly way): once this returns, messages for `id` are dropped here and its handler is
  /// never called again. Peers are not told; the error that is unwinding stops them. Not
  /// from a message handler (it would replace a handler that may be running).
  void abandon_handler(HandlerId id);
  /// The transport's own layers (collectives, rings) register above kMaxUserHandler: at a
  /// fixed id, or at the next free one (returned; every rank allocates in the same order).
  void add_system_handler(HandlerId id, MessageHandler handler);
  HandlerId add_system_handler(MessageHandler handler);
  /// Exposes local memory as the next window. Every rank adds the same number of windows in
  /// the same order (sizes may differ). Before start() the window is recorded and start()
  /// exchanges the keys; after start() the call is collective and returns once this rank can
  /// put into every peer's window (not from a handler). Peers
  /// write into the memory until the transport has stopped: it must outlive the Transport,
  /// or be owned by `keep_alive`, which the Transport holds until its progress has ended.
  WindowId add_window(std::span<std::byte> memory, std::shared_ptr<const void> keep_alive = {});
  /// Allocates `bytes` of zeroed, page-aligned memory as the next window (same numbering and
  /// same rules as add_window, collective after start()). The Transport owns it: local_window(id)
  /// is valid until the Transport is destroyed (after stop() too). Prefer this to add_window for
  /// memory that peers put into: the backend allocates it where one-sided writes are fastest
  /// (UCX: shared memory the peers on this host map, so their puts are plain stores).
  WindowId allocate_window(std::size_t bytes);

  /// After start(), collective (every rank frees the same windows in the same order; not from
  /// a handler): flushes this rank's puts, waits until every peer has done the same, then
  /// releases the window here (an allocated one's memory is freed; add_window memory is the
  /// caller's again). Puts into it fail from then on; its id is not reused.
  void free_window(WindowId window);

  /// Connects every pair of ranks, exchanges window keys, starts the progress thread.
  void start();
  /// Between start() and stop().
  bool started() const;

  /// Sends bytes (copied) to peer's handler; per-pair order is preserved. peer may be rank().
  void send(int peer, HandlerId handler, std::span<const std::byte> bytes);
  /// One-sided write of bytes into peer's window at offset. The bytes must stay unchanged
  /// until the next flush(peer) or flush_all() returns. Bounds are checked here. Into an
  /// allocated window on the same host (UCX over shared memory) this is a plain store into
  /// the mapped window, without the backend lock, complete when put returns.
  void put(int peer, WindowId window, std::uint64_t offset, std::span<const std::byte> bytes);
  /// Puts to peer posted after this become visible after those posted before it. Does not
  /// wait, except in one case: after puts into add_window() memory of a peer whose allocated
  /// windows are mapped into this process (UCX over shared memory), where a later put may be
  /// a direct store that could overtake them, it waits for them like flush(peer) (and so must
  /// not be called from a handler then).
  void fence(int peer);
  /// Blocks until every earlier put and send to peer is complete at the target.
  void flush(int peer);
  void flush_all();

  /// Size of peer's window (as it registered it).
  std::size_t window_size(int peer, WindowId window) const;
  /// Local memory of one of this rank's windows.
  std::span<std::byte> local_window(WindowId window) const;

  /// Rounds the progress thread keeps polling after the last event or post before it sleeps
  /// on the network's event descriptor (default: the backend's; UCX 2000, TCP 64). Engines
  /// whose ranks receive mostly while they wait (and then drive the network themselves) set
  /// it low, so that polls do not take the cores from computation.
  void set_idle_polls(int polls);
  int idle_polls() const;

  /// Polled mode: while on, this rank's own threads drive the network by calling poll() often
  /// (an engine whose workers fill the cores), and the progress thread no longer wakes per
  /// message or post, which on such a machine costs a context switch and takes a worker's
  /// core. It still sends and checks the heartbeats, and drives the network at each one, so a
  /// worker busy for long is not mistaken for a dead rank. Off by default.
  void set_polled(bool on);
  bool polled() const;
  /// Drives the network once unless another thread is driving it (then returns at once);
  /// returns whether anything happened. Throws PeerFailure when a peer has failed.
  bool poll();

  /// Throws PeerFailure if a peer has failed (cheap; for polling loops).
  void check_peers() const;
  bool failed() const;
  /// After a wait_for, how soon the progress thread drives the network again. kAuto: at once,
  /// unless waits keep coming back within microseconds (a ping-pong), when it naps at most
  /// 100 us between them rather than waking per wait. kAtOnce: always at once, for a caller
  /// that goes on to compute while peers keep sending to it.
  enum class Handback : std::uint8_t { kAuto, kAtOnce };
  /// Blocks until ready() returns true, driving the network meanwhile; ready() runs with the
  /// transport's internal lock held, so it sees everything handlers did before. Throws
  /// PeerFailure when a peer fails first.
  void wait_for(const std::function<bool()>& ready, Handback handback = Handback::kAuto);
  /// This rank is stopping because of `why` (an error it raised): the peers fail at once
  /// with "rank R reported a failure: why" instead of waiting for a timeout. No-op after a
  /// failure was already recorded.
  void abort(const std::string& why);
  /// Called once (from the progress thread) when the first peer failure is detected.
  void on_failure(std::function<void(const std::string& why)> callback);

  /// The job's bootstrap (a control channel that works before start()).
  Bootstrap& bootstrap();

  /// Collective clean shutdown: waits for every rank, then closes endpoints and joins the
  /// progress thread. After a peer failure, closes without waiting.
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Polled mode for a scope (Transport::set_polled); restores the mode before it.
class ScopedPolled {
 public:
  ScopedPolled(Transport& transport, bool on) : transport_(transport), before_(transport.polled()) {
    transport.set_polled(on);
  }
  ~ScopedPolled() { transport_.set_polled(before_); }
  ScopedPolled(const ScopedPolled&) = delete;
  ScopedPolled& operator=(const ScopedPolled&) = delete;

 private:
  Transport& transport_;
  bool before_;
};

/// Sets a transport's idle polls (Transport::set_idle_polls) while it lives, at most `polls`.
class ScopedIdlePolls {
 public:
  ScopedIdlePolls(Transport& transport, int polls)
      : transport_(transport), before_(transport.idle_polls()) {
    transport.set_idle_polls(std::min(polls, before_));
  }
  ~ScopedIdlePolls() { transport_.set_idle_polls(before_); }
  ScopedIdlePolls(const ScopedIdlePolls&) = delete;
  ScopedIdlePolls& operator=(const ScopedIdlePolls&) = delete;

 private:
  Transport& transport_;
  int before_;
};

}  // namespace atl
