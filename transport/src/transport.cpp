// The common transport layer: one lock serializes the backend; a progress thread drives it
// all the time; blocking waits help progress themselves (no thread hand-off on the latency
// path). Heartbeats detect silent peers; the first failure is broadcast to the survivors.
#include "atoll/transport/transport.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "atoll/common/log.hpp"
#include "atoll/common/spin_lock.hpp"
#include "atoll/transport/bootstrap.hpp"
#include "backend.hpp"
#include "system_handlers.hpp"
#include "wake_event.hpp"
#include "wire.hpp"

namespace atl {

using detail::Backend;
using detail::Completion;
using Clock = std::chrono::steady_clock;

TransportKind parse_transport(std::string_view name) {
  if (name == "ucx") return TransportKind::kUcx;
  if (name == "tcp") return TransportKind::kTcp;
  usage_fail("unknown transport '", name, "' (valid: ucx, tcp)");
}

std::string_view transport_name(TransportKind kind) {
  return kind == TransportKind::kUcx ? "ucx" : "tcp";
}

struct Transport::State {
  JobInfo job;
  TransportOptions options;
  std::unique_ptr<Bootstrap> bootstrap;
  std::vector<std::string> hosts;  ///< per rank: its bootstrap address (after start)
  std::unique_ptr<Backend> backend;

  // The backend lock. Posters announce themselves in `waiting` so the progress thread
  // steps aside between two progress() calls instead of starving them.
  SpinLock lock;
  std::atomic<int> waiting{0};

  std::vector<MessageHandler> handlers;  // by handler id (user, system, opened); lock
  // Handlers opened after start(): the next id, messages for ids not opened yet (per id, in
  // arrival order), ids closed, and per id being closed the peers done with it. Lock.
  HandlerId next_opened = detail::kFirstOpenedHandler;
  std::map<HandlerId, std::vector<std::pair<int, std::vector<std::byte>>>> early;
  // Early messages of handlers opened since, delivered first by the next round of progress
  // (not inside open_handler: the caller may not be ready for them before it returns).
  std::deque<std::tuple<int, HandlerId, std::vector<std::byte>>> replay;
  std::set<HandlerId> closed_handlers;
  std::map<HandlerId, std::set<int>> closed_by;
  std::vector<std::span<std::byte>> windows;
  std::vector<std::optional<std::string>> allocated_keys;  // by window: blob of an allocated one
  std::vector<std::shared_ptr<const void>> keep_alive;     // window memory owned for the user
  std::vector<std::vector<std::size_t>> remote_sizes;      // [peer][window]
  // Every table indexed by window is reserved to kMaxWindows up front, so a window added
  // after start() never moves what lock-free readers (put, window_size) index; they check
  // against window_count, raised once a window is usable everywhere.
  static constexpr std::size_t kMaxWindows = 4096;
  std::atomic<std::uint32_t> window_count{0};
  // Keys peers announced for windows created after start(), not yet taken up here: by
  // window id, per peer (size, blob). Guarded by the backend lock.
  std::map<std::uint32_t, std::map<int, std::pair<std::uint64_t, std::string>>> announced;

  // Per peer: windows mapped into this process, where a put is a plain store that bypasses
  // the backend and its lock, and the counts that keep such stores ordered after puts the
  // backend may still be moving. Counts grow under the backend lock; readers need no lock.
  struct PeerState {
    std::vector<bool> mapped;        // by window: peer's window mapped here
    std::vector<std::byte*> direct;  // by window: where put() stores into it, or null
    bool any_mapped = false;
    std::atomic<std::uint64_t> backend_puts{0};   // puts posted to the backend
    std::atomic<std::uint64_t> unmapped_puts{0};  // those into unmapped windows
    std::atomic<std::uint64_t> backend_ops{0};    // puts and messages posted to the backend
    std::atomic<std::uint64_t> flushed_puts{0};   // backend_puts known complete (by a flush)
    std::atomic<std::uint64_t> flushed_unmapped{0};
    std::atomic<std::uint64_t> flushed_ops{0};  // backend_ops known complete
    std::atomic<std::uint64_t> fenced_puts{0};  // backend_puts a fence ordered later puts after
  };
  std::vector<std::unique_ptr<PeerState>> peers;

  static void raise_to(std::atomic<std::uint64_t>& counter, std::uint64_t value) {
    std::uint64_t seen = counter.load(std::memory_order_relaxed);
    while (seen < value && !counter.compare_exchange_weak(seen, value, std::memory_order_release,
                                                          std::memory_order_relaxed)) {
    }
  }

  // Active messages in flight: their bytes live here until the backend completes them.
  struct PendingSend {
    Completion done;
    std::vector<std::byte> bytes;
  };
  std::deque<PendingSend> sends;  // guarded by lock
  static constexpr std::size_t kSpareBuffers = 64;
  static constexpr std::size_t kSpareBufferBytes = 64 << 10;
  std::vector<std::vector<std::byte>> spare_buffers;  // of completed sends; guarded by lock
  Completion put_sink;  // puts report completion through flush; guarded by lock
  // Flushes in flight. Owned here, not by the waiting caller: a wait may end early (another
  // peer failed) while the backend still holds the pointer. Guarded by lock.
  std::list<Completion> flushes;
  /// A flush posted to one peer, and what it covers (the peer's counts when it was posted).
  struct PostedFlush {
    int peer;
    std::list<Completion>::iterator done;
    std::uint64_t puts, unmapped, ops;
  };
  bool post_flush(int peer, PostedFlush& posted);
  void finish_flush(const PostedFlush& posted);

  // Messages to self, delivered by the progress thread in order.
  std::mutex self_mutex;
  std::deque<std::pair<HandlerId, std::vector<std::byte>>> self_queue;
  std::atomic<bool> self_pending{false};  // self_queue may be non-empty

  // Liveness.
  std::vector<std::atomic<std::int64_t>> last_heard;  // steady-clock ns, per peer
  Clock::time_point last_heartbeat{};
  std::atomic<bool> failed{false};
  std::mutex failure_mutex;
  std::string failure_reason;
  std::function<void(const std::string&)> failure_callback;
  std::atomic<bool> stopping{false};
  std::atomic<bool> abort_pending{false};
  std::atomic<int> failed_rank{-1};

  std::thread progress_thread;
  std::atomic<bool> running{false};
  std::atomic<std::int64_t> activity{0};  // bumped by posters: keeps the progress thread awake
  std::atomic<int> drivers{0};            // threads in wait_for(), driving progress themselves
  // The progress thread's hand-over from the drivers (see driver_left): when the last driver
  // left, and how many waits in a row began soon after the previous one ended.
  std::atomic<Clock::rep> last_leave{0};
  std::atomic<int> quick_returns{0};
  std::atomic<bool> short_nap{false};  // the progress thread naps at most kDriverNap
  std::atomic<int> idle_polls{-1};     // set_idle_polls(); -1: the backend's
  std::atomic<bool> polled{false};     // set_polled(): this rank's threads drive the network
  // Idle threads sleep here; one of them at a time (the network sleeper) also on the
  // backend's events. Posters wake them.
  detail::WakeEvent wake_event;
  std::atomic<bool> network_sleeper{false};

  bool started = false;
  int stop_arrivals = 0;  // rank 0: ranks that reached stop(); guarded by the backend lock
  bool stop_released = false;

  /// steady_clock's time at the kernel's tick resolution (a few ms): what heartbeats and peer
  /// timeouts need, read per delivered message and per progress round, so it must be cheap.
  static std::int64_t now_ns() {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
  }

  /// Runs f with the backend lock held. Reentrant on one thread: handlers run inside
  /// progress() with the lock held and may send or put themselves.
  template <typename F>
  decltype(auto) with_backend(F&& f) {
    if (lock_holder == this) return f(*backend);
    BackendGuard guard(*this);
    return f(*backend);
  }

  /// Holds the backend lock and marks this thread as its holder. `announce`: tell the
  /// progress thread to step aside (waiters need not: it backs off while they drive).
  struct BackendGuard {
    State& s;
    explicit BackendGuard(State& state, bool announce = true) : s(state) {
      if (announce) s.waiting.fetch_add(1, std::memory_order_relaxed);
      s.lock.lock();
      if (announce) s.waiting.fetch_sub(1, std::memory_order_relaxed);
      lock_holder = &s;
    }
    ~BackendGuard() {
      lock_holder = nullptr;
      s.lock.unlock();
    }
  };
  static thread_local State* lock_holder;

  /// Records the first failure, tells the user and the other ranks. Any thread.
  void fail(const std::string& why, int culprit) {
    if (stopping.load()) return;
    {
      std::lock_guard guard(failure_mutex);
      if (failed.load()) return;
      failure_reason = why;
      failed.store(true);
    }
    // This rank's own error is reported by whoever catches it; a peer's failure is news.
    if (culprit == -1) {
      log_debug(str_cat("rank ", job.rank, ": ", why));
    } else {
      log_info(str_cat("rank ", job.rank, ": ", why));
    }
    failed_rank.store(culprit);
    abort_pending.store(true);  // the progress loop tells the survivors
    wake_all();
    if (failure_callback) failure_callback(why);
  }

  /// Tells the other survivors about the failure, so they stop now rather than at their own
  /// timeout. Progress thread, without the backend lock.
  void send_abort_notices() {
    if (!abort_pending.exchange(false)) return;
    std::string note;
    {
      std::lock_guard guard(failure_mutex);
      note = failure_reason;
    }
    for (int peer = 0; peer < job.size; ++peer) {
      if (peer == job.rank || peer == failed_rank.load()) continue;
      post_system(peer, detail::kAbortHandler, std::as_bytes(std::span(note)));
    }
  }

  /// Posts a message with the lock held by the caller or not (takes it). Copies bytes.
  void post_system(int peer, HandlerId handler, std::span<const std::byte> bytes) {
    with_backend([&](Backend& b) { post_locked(b, peer, handler, bytes); });
  }

  void post_locked(Backend& b, int peer, HandlerId handler, std::span<const std::byte> bytes) {
    peers[peer]->backend_ops.fetch_add(1, std::memory_order_relaxed);
    PendingSend& s = sends.emplace_back();
    if (!spare_buffers.empty()) {
      s.bytes = std::move(spare_buffers.back());
      spare_buffers.pop_back();
    }
    s.bytes.assign(bytes.begin(), bytes.end());
    b.post_am(peer, handler, s.bytes, &s.done);
    reap_sends();
  }

  /// Drops completed sends from the front (lock held). Order of completion per pair is FIFO
  /// in both backends, so the front completes first; a stuck front only delays freeing.
  void reap_sends() {
    while (!sends.empty() && sends.front().done.done) {
      std::vector<std::byte>& bytes = sends.front().bytes;
      if (spare_buffers.size() < kSpareBuffers && bytes.capacity() <= kSpareBufferBytes) {
        spare_buffers.push_back(std::move(bytes));  // reused: no allocation per message
      }
      sends.pop_front();
    }
  }

  void deliver(int peer, HandlerId handler, std::span<const std::byte> bytes) {
    if (peer >= 0 && peer < job.size) {
      last_heard[peer].store(now_ns(), std::memory_order_relaxed);
    }
    if (handler >= handlers.size() || !handlers[handler]) {
      if (handler >= next_opened && handler - next_opened < detail::kMaxOpenAhead) {
        early[handler].emplace_back(peer, std::vector<std::byte>(bytes.begin(), bytes.end()));
        return;  // delivered when this rank opens it
      }
      fail(str_cat("rank ", peer, " sent a message for ",
                   closed_handlers.contains(handler) ? "closed" : "unknown", " handler ", handler),
           peer);
      return;
    }
    if (!closed_by.empty() && handler >= detail::kFirstOpenedHandler) {
      if (auto it = closed_by.find(handler); it != closed_by.end() && it->second.contains(peer)) {
        fail(str_cat("rank ", peer, " sent a message for closed handler ", handler), peer);
        return;
      }
    }
    try {
      handlers[handler](peer, bytes);
    } catch (const std::exception& e) {  // a handler rejected what the peer sent
      fail(str_cat("bad message from rank ", peer, ": ", e.what()), peer);
    }
  }

  /// One round of progress with the backend lock held (progress thread and waiters alike):
  /// the network, then messages to self. Every handler runs under the lock, so handlers are
  /// serialized. Returns whether anything happened.
  bool drive_locked() {
    bool busy = false;
    if (!replay.empty()) {
      auto messages = std::move(replay);
      replay.clear();
      for (auto& [peer, handler, bytes] : messages) deliver(peer, handler, bytes);
      busy = true;
    }
    busy = backend->progress() || busy;
    reap_sends();
    if (!self_pending.load(std::memory_order_acquire)) return busy;
    self_pending.store(false, std::memory_order_relaxed);  // before taking the queue
    std::deque<std::pair<HandlerId, std::vector<std::byte>>> local;
    {
      std::lock_guard guard(self_mutex);
      local.swap(self_queue);
    }
    for (auto& [handler, bytes] : local) deliver(job.rank, handler, bytes);
    return busy || !local.empty();
  }

  bool progress_once() {
    BackendGuard guard(*this);
    return drive_locked();
  }

  void heartbeat() {
    const Clock::time_point now{std::chrono::nanoseconds(now_ns())};
    if (now - last_heartbeat < heartbeat_interval()) return;
    last_heartbeat = now;
    if (failed.load() || stopping.load()) return;
    for (int peer = 0; peer < job.size; ++peer) {
      if (peer == job.rank) continue;
      post_system(peer, detail::kHeartbeatHandler, {});
      auto silent = std::chrono::nanoseconds(now_ns() - last_heard[peer].load());
      if (silent > options.peer_timeout) {
        fail(str_cat("rank ", peer, " sent nothing for ",
                     std::chrono::duration<double>(silent).count(),
                     " s (peer timeout); it is presumed dead"),
             peer);
        return;
      }
    }
  }

  /// A thread posted work or changed a condition: sleepers re-check (the progress thread
  /// picks up what needs driving).
  /// Only when no waiter drives: it progresses what was posted itself, and waking the
  /// progress thread per message would cost a context switch each (and the core on a small
  /// machine).
  /// Nor while it naps for at most kDriverNap in a run of quick waits (driver_left), nor in
  /// polled mode, where the poster's next poll() drives it.
  void posted() {
    activity.fetch_add(1, std::memory_order_seq_cst);
    if (drivers.load(std::memory_order_seq_cst) == 0 && !polled.load(std::memory_order_relaxed) &&
        !(short_nap.load(std::memory_order_seq_cst) && quick_waits())) {
      wake_event.wake();
    }
  }

  /// Wakes every sleeping thread (stop, failure).
  void wake_all() {
    activity.fetch_add(1, std::memory_order_seq_cst);
    wake_event.wake();
  }

  Clock::duration heartbeat_interval() const {
    return std::max<Clock::duration>(options.peer_timeout / 5, std::chrono::milliseconds(20));
  }

  /// Rounds a waiter drives the network after the last thing it saw happen (a message, a
  /// completion) before it naps: far above a round trip, so a ping-pong never sleeps between
  /// its messages. Its naps are kWaitNap: on a machine with more ranks and threads than cores
  /// a waiter that spins on takes the core from the very thread (often another local rank's)
  /// it waits for.
  static constexpr int kWaitSpins = 200;
  static constexpr std::chrono::microseconds kWaitNap{10};
  /// The longest the idle progress thread sleeps on the network in one go.
  static constexpr std::chrono::microseconds kIdleSleep{2000};
  /// Hand-over from waiters that come back at once (a ping-pong, a worker between batches of
  /// grants): a wait that begins within kQuickReturn of the previous one's end is quick; after
  /// kQuickStreak quick ones in a row the last waiter leaves without waking the progress
  /// thread (an eventfd write and a context switch per wait, a third of a shared-memory round
  /// trip), which then naps at most kDriverNap while waiters drive, so it still takes over
  /// within kDriverNap of the last wait.
  static constexpr std::chrono::microseconds kQuickReturn{20};
  static constexpr int kQuickStreak = 16;
  static constexpr std::chrono::microseconds kDriverNap{100};

  bool quick_waits() const { return quick_returns.load(std::memory_order_relaxed) >= kQuickStreak; }

  /// A thread begins to drive the network (wait_for); a kAtOnce wait ends any run of quick
  /// waits.
  void driver_entered(Transport::Handback handback) {
    if (handback == Transport::Handback::kAtOnce) quick_returns.store(0, std::memory_order_relaxed);
    if (drivers.fetch_add(1, std::memory_order_seq_cst) != 0) return;
    const Clock::rep now = Clock::now().time_since_epoch().count();
    const bool quick = now - last_leave.load(std::memory_order_relaxed) <
                       std::chrono::duration_cast<Clock::duration>(kQuickReturn).count();
    if (handback == Transport::Handback::kAtOnce) return;
    int streak = quick_returns.load(std::memory_order_relaxed);
    const int next = quick ? std::min(streak + 1, kQuickStreak) : 0;
    // A compare-exchange: a kAtOnce wait that reset the streak meanwhile wins (else this store
    // could restore a full streak unnoticed while the progress thread sleeps long).
    if (quick_returns.compare_exchange_strong(streak, next, std::memory_order_relaxed) &&
        streak < kQuickStreak && next == kQuickStreak && !polled.load(std::memory_order_relaxed)) {
      // Just became quick: the progress thread may sleep until the next heartbeat; wake it so
      // that it naps kDriverNap from now on.
      wake_event.wake();
    }
  }

  /// A thread stops driving; the last one hands the network back to the progress thread
  /// (work posted meanwhile did not wake it): at once, unless waits come back quickly.
  void driver_left(Transport::Handback handback) {
    if (drivers.fetch_sub(1, std::memory_order_seq_cst) != 1) return;
    last_leave.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    // Polled mode: the progress thread does not take the network back (the callers poll).
    if (polled.load(std::memory_order_relaxed)) return;
    if (handback == Transport::Handback::kAtOnce || !quick_waits()) wake_event.wake();
  }

  /// Sleeps until woken or for at most `timeout`, unless activity moved past `seen`. With
  /// `network`, the caller also wakes on the backend's events if no other thread sleeps on
  /// them (it drives the network after waking). Returns whether it was woken before the
  /// timeout.
  bool sleep(std::int64_t seen, Clock::duration timeout, bool network) {
    const bool on_network = network && !network_sleeper.exchange(true, std::memory_order_acq_rel);
    wake_event.enter();
    bool can_sleep = activity.load(std::memory_order_seq_cst) == seen &&
                     running.load(std::memory_order_acquire) && !abort_pending.load();
    int fd = -1;
    if (can_sleep && on_network) {
      BackendGuard guard(*this, /*announce=*/false);
      can_sleep = !self_pending.load(std::memory_order_acquire) && backend->arm();
      fd = backend->event_fd();
    }
    const bool woken = !can_sleep || wake_event.sleep(fd, timeout);
    wake_event.leave();
    if (on_network) network_sleeper.store(false, std::memory_order_release);
    return woken;
  }

  /// After start(), collectively: registers (or allocates) this rank's window, announces its
  /// key to every peer and waits for theirs (see Transport::allocate_window).
  WindowId add_window_after_start(Transport& transport, std::span<std::byte> memory,
                                  std::size_t bytes, bool allocate) {
    if (lock_holder == this) atl::fail("creating a window inside a message handler");
    if (failed.load()) throw_failure();
    std::uint32_t id = 0;
    std::string blob;
    with_backend([&](Backend& b) {
      id = static_cast<std::uint32_t>(windows.size());
      if (id >= kMaxWindows) atl::fail("more than ", kMaxWindows, " windows");
      if (allocate) {
        auto [allocated, key] = b.allocate_window(id, bytes);
        memory = allocated;
        blob = std::move(key);
      } else {
        blob = b.register_window(id, memory);
      }
      windows.push_back(memory);
      allocated_keys.emplace_back();
    });
    detail::WireWriter key;
    key.u8(kWindowKey);
    key.u32(id);
    key.u64(memory.size());
    key.blob(blob);
    tell_peers(key.str());
    const auto expected = static_cast<std::size_t>(job.size - 1);
    transport.wait_for([&] {
      auto it = announced.find(id);
      return expected == 0 || (it != announced.end() && it->second.size() == expected);
    });
    with_backend([&](Backend& b) {
      std::map<int, std::pair<std::uint64_t, std::string>> keys;
      if (auto it = announced.find(id); it != announced.end()) {
        keys = std::move(it->second);
        announced.erase(it);
      }
      for (int peer = 0; peer < job.size; ++peer) {
        PeerState& p = *peers[peer];
        std::byte* mapped = nullptr;
        std::uint64_t size = memory.size();
        if (peer != job.rank) {
          const auto& [peer_size, peer_blob] = keys.at(peer);
          size = peer_size;
          b.add_remote_window(peer, id, size, peer_blob);
          mapped = b.direct_window(peer, id);
        }
        remote_sizes[peer].push_back(size);
        p.mapped.push_back(mapped != nullptr);
        p.any_mapped = p.any_mapped || mapped != nullptr;
        p.direct.push_back(direct_puts ? mapped : nullptr);
      }
    });
    window_count.store(id + 1, std::memory_order_release);
    return {id};
  }

  /// Sends a window message to every other rank.
  void tell_peers(std::string_view message) {
    for (int peer = 0; peer < job.size; ++peer) {
      if (peer != job.rank)
        post_system(peer, detail::kWindowHandler, std::as_bytes(std::span(message)));
    }
    posted();
  }

  /// Collectively: waits until no peer will put into window `id` any more, then drops it
  /// everywhere on this rank (see Transport::free_window).
  void free_window(Transport& transport, WindowId window) {
    if (lock_holder == this) atl::fail("freeing a window inside a message handler");
    const std::uint32_t id = window.index;
    if (id >= window_count.load(std::memory_order_acquire))
      atl::fail("free_window: no window ", id);
    if (stopping.load() || !running.load()) return;  // stopped: freed with the transport
    transport.flush_all();                           // this rank's puts into it have landed
    detail::WireWriter note;
    note.u8(kWindowFreed);
    note.u32(id);
    tell_peers(note.str());
    const auto expected = static_cast<std::size_t>(job.size - 1);
    transport.wait_for([&] { return freed_by[id].size() == expected; });
    with_backend([&](Backend& b) {
      freed_by.erase(id);
      for (int peer = 0; peer < job.size; ++peer) {
        if (peer != job.rank) b.remove_remote_window(peer, id);
        remote_sizes[peer][id] = 0;  // puts into it now fail their bounds check
        peers[peer]->direct[id] = nullptr;
      }
      b.release_window(id);
      windows[id] = {};
    });
  }

  /// kWindowHandler messages: a peer's key for a window created after start(), or a peer
  /// that is done with a window being freed.
  void on_window_message(int peer, std::span<const std::byte> bytes) {
    detail::WireReader in(bytes, str_cat("window message from rank ", peer));
    const std::uint8_t kind = in.u8();
    const std::uint32_t id = in.u32();
    if (kind == kWindowFreed) {
      in.expect_end();
      if (id >= window_count.load(std::memory_order_relaxed) || !freed_by[id].insert(peer).second) {
        atl::fail("rank ", peer, " freed window ", id, ", which is not being freed");
      }
      return;
    }
    if (kind != kWindowKey) atl::fail("rank ", peer, " sent a window message of kind ", kind);
    const std::uint64_t size = in.u64();
    std::string blob(in.blob());
    in.expect_end();
    if (id >= kMaxWindows || id < window_count.load(std::memory_order_relaxed)) {
      atl::fail("rank ", peer, " announced window ", id, ", which is not being created");
    }
    if (!announced[id].emplace(peer, std::pair{size, std::move(blob)}).second) {
      atl::fail("rank ", peer, " announced window ", id, " twice");
    }
  }

  bool direct_puts = true;  // ATOLL_DIRECT_PUT=0: every put goes through the backend
  static constexpr std::uint8_t kWindowKey = 1;
  static constexpr std::uint8_t kWindowFreed = 2;
  std::map<std::uint32_t, std::set<int>> freed_by;  // window -> peers done with it (lock)

  /// Drives the network while there is work and for idle_polls rounds after it; then
  /// sleeps on the backend's event descriptor and the wake event (at most kIdleSleep, or
  /// until the next heartbeat). While a waiter drives the network it only keeps the
  /// heartbeats going.
  void progress_loop() {
    ::prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us: short sleeps stay short
    int idle = 0;
    while (running.load(std::memory_order_acquire)) {
      if (polled.load(std::memory_order_acquire)) {
        // Polled mode: the rank's threads drive the network. Heartbeats, failure notices and
        // one round of progress per heartbeat (a peer's heartbeats arrive even while every
        // worker is busy), then sleep until the next heartbeat or set_polled(false).
        progress_once();
        heartbeat();
        send_abort_notices();
        wake_event.enter();
        if (polled.load(std::memory_order_seq_cst) && running.load(std::memory_order_acquire) &&
            !abort_pending.load()) {
          wake_event.sleep(-1, until_heartbeat());
        }
        wake_event.leave();
        idle = 0;
        continue;
      }
      if (drivers.load(std::memory_order_relaxed) > 0) {
        // A waiter drives the network: leave the lock and the core to it (on a machine with
        // few cores a second thread per rank that wakes costs the waiter, or the peer it
        // waits for, its core) until the next heartbeat, or until the last waiter leaves and
        // wakes it (entered before the re-check, so that wake-up is not lost); while waits
        // come back quickly, for kDriverNap at most (driver_left does not wake it then).
        heartbeat();
        send_abort_notices();
        wake_event.enter();
        if (drivers.load(std::memory_order_seq_cst) > 0 &&
            running.load(std::memory_order_acquire) && !abort_pending.load()) {
          const bool nap = quick_waits();
          short_nap.store(nap, std::memory_order_seq_cst);
          wake_event.sleep(
              -1, std::min<Clock::duration>(until_heartbeat(), nap ? kDriverNap : kIdleSleep));
          short_nap.store(false, std::memory_order_relaxed);
        }
        wake_event.leave();
        idle = 0;  // back to work at once when the wait ends
        continue;
      }
      const std::int64_t seen = activity.load(std::memory_order_seq_cst);
      bool busy = progress_once();
      heartbeat();
      send_abort_notices();
      if (busy || activity.load(std::memory_order_relaxed) != seen) {
        idle = 0;
      } else if (const int limit = idle_polls.load(std::memory_order_relaxed);
                 ++idle > (limit >= 0 ? limit : backend->idle_polls())) {
        // Idle: sleep until the network has an event or a thread of this rank posts (so
        // compute threads get the core, and an idle rank costs no core).
        sleep(seen, std::min<Clock::duration>(until_heartbeat(), kIdleSleep), true);
        progress_once();  // what woke us, even if a waiter has come meanwhile
        idle = 0;
      }
      if (waiting.load(std::memory_order_relaxed) > 0) std::this_thread::yield();
    }
  }

  Clock::duration until_heartbeat() const {
    return std::max<Clock::duration>(last_heartbeat + heartbeat_interval() - Clock::now(),
                                     std::chrono::microseconds(100));
  }

  [[noreturn]] void throw_failure() {
    std::lock_guard guard(failure_mutex);
    throw PeerFailure(failure_reason);
  }
};

thread_local Transport::State* Transport::State::lock_holder = nullptr;

Transport::Transport(const JobInfo& job, const TransportOptions& options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.job = job;
  s.options = options;
  if (options.peer_timeout.count() <= 0) usage_fail("--peer-timeout must be positive");
  s.bootstrap = std::make_unique<Bootstrap>(job, options.bootstrap_timeout);
  detail::BackendOptions backend_options;
  backend_options.local_address = s.bootstrap->local_address();
  backend_options.token = job.token;
  backend_options.connect_timeout = options.bootstrap_timeout;
  s.backend = options.kind == TransportKind::kUcx ? detail::make_ucx_backend(backend_options)
                                                  : detail::make_tcp_backend(backend_options);
  s.handlers.resize(detail::kHandlerCount);
  s.last_heard = std::vector<std::atomic<std::int64_t>>(static_cast<std::size_t>(job.size));
  for (int peer = 0; peer < job.size; ++peer)
    s.peers.push_back(std::make_unique<State::PeerState>());
  for (auto& p : s.peers) {
    p->mapped.reserve(State::kMaxWindows);
    p->direct.reserve(State::kMaxWindows);
  }
  s.windows.reserve(State::kMaxWindows);
  s.allocated_keys.reserve(State::kMaxWindows);
  s.backend->set_callbacks(
      [&s](int peer, std::uint16_t handler, std::span<const std::byte> bytes) {
        s.deliver(peer, handler, bytes);
      },
      [&s](int peer, const std::string& why) {
        s.fail(str_cat("lost rank ", peer, ": ", why), peer);
      });
  s.handlers[detail::kHeartbeatHandler] = [](int, std::span<const std::byte>) {};
  s.handlers[detail::kWindowHandler] = [&s](int source, std::span<const std::byte> bytes) {
    s.on_window_message(source, bytes);
  };
  // Shutdown barrier over the transport itself (ranks may reach stop() far apart; the
  // heartbeats keep watching while they wait).
  s.handlers[detail::kStopHandler] = [&s](int source, std::span<const std::byte>) {
    if (s.job.rank == 0) {
      ++s.stop_arrivals;
    } else if (source == 0) {
      s.stop_released = true;
    }
  };
  s.handlers[detail::kCloseHandler] = [&s](int source, std::span<const std::byte> bytes) {
    detail::WireReader in(bytes, str_cat("channel close from rank ", source));
    const auto id = static_cast<HandlerId>(in.u32());
    in.expect_end();
    if (id < detail::kFirstOpenedHandler || !s.closed_by[id].insert(source).second) {
      atl::fail("rank ", source, " closed handler ", id, " twice or out of range");
    }
  };
  s.handlers[detail::kAbortHandler] = [&s](int source, std::span<const std::byte> bytes) {
    std::string why(reinterpret_cast<const char*>(bytes.data()),
                    std::min<std::size_t>(bytes.size(), 4096));
    s.fail(str_cat("rank ", source, " reported a failure: ", why), source);
  };
}

Transport::~Transport() {
  if (std::uncaught_exceptions() > 0 && state_->started) {
    // Unwinding after an error: no flush, no barrier (peers may be gone); just close.
    state_->fail("this rank is stopping after an error", -1);
  }
  try {
    stop();
  } catch (const std::exception& e) {
    log_info(str_cat("transport shutdown: ", e.what()));
  }
}

void Transport::abort(const std::string& why) {
  if (state_->started) state_->fail(why, -1);
}

int Transport::rank() const {
  return state_->job.rank;
}
int Transport::size() const {
  return state_->job.size;
}

int Transport::rank_cores() const {
  return atl::rank_cores(state_->job);
}
bool Transport::same_host(int peer) const {
  const State& s = *state_;
  if (peer < 0 || static_cast<std::size_t>(peer) >= s.hosts.size()) {
    fail("same_host: rank ", peer, " of ", s.hosts.size(), " known ranks (before start()?)");
  }
  return s.hosts[static_cast<std::size_t>(peer)] == s.hosts[static_cast<std::size_t>(s.job.rank)];
}
std::string_view Transport::backend_name() const {
  return state_->backend->name();
}

std::string Transport::describe() const {
  return str_cat(state_->backend->describe(), "; ", size(), " rank", size() == 1 ? "" : "s", " (",
                 state_->job.launcher, ")");
}

void Transport::add_handler(HandlerId id, MessageHandler handler) {
  if (state_->started) fail("add_handler after start()");
  if (id > kMaxUserHandler) usage_fail("handler id ", id, " is above ", kMaxUserHandler);
  state_->handlers[id] = std::move(handler);
}

void Transport::add_system_handler(HandlerId id, MessageHandler handler) {
  if (state_->started) fail("add_system_handler after start()");
  if (id <= kMaxUserHandler || id >= detail::kHandlerCount) fail("bad system handler id ", id);
  state_->handlers[id] = std::move(handler);
}

HandlerId Transport::add_system_handler(MessageHandler handler) {
  if (state_->started) fail("add_system_handler after start()");
  for (HandlerId id = detail::kFirstDynamicHandler; id < detail::kHandlerCount; ++id) {
    if (!state_->handlers[id]) {
      state_->handlers[id] = std::move(handler);
      return id;
    }
  }
  fail("out of system handler ids");
}

HandlerId Transport::open_handler(MessageHandler handler) {
  if (!handler) fail("open_handler: empty handler");
  return open_handler([&handler](HandlerId) { return std::move(handler); });
}

HandlerId Transport::open_handler(const std::function<MessageHandler(HandlerId)>& make) {
  State& s = *state_;
  if (!s.started) fail("open_handler before start() (use add_handler)");
  if (State::lock_holder == &s) fail("opening a handler inside a message handler");
  // The handler is built and installed under the backend lock, which every delivery holds:
  // whatever make() stores happens before the handler's first call.
  const HandlerId opened = s.with_backend([&](Backend&) {
    if (s.next_opened == std::numeric_limits<HandlerId>::max()) fail("out of handler ids");
    const HandlerId id = s.next_opened;
    MessageHandler handler = make(id);
    if (!handler) fail("open_handler: empty handler");
    ++s.next_opened;
    if (s.handlers.size() <= id) s.handlers.resize(std::size_t{id} + 1);
    s.handlers[id] = std::move(handler);
    // Messages that came first, in arrival order, before any that arrive from now on.
    if (auto it = s.early.find(id); it != s.early.end()) {
      for (auto& [peer, bytes] : it->second) s.replay.emplace_back(peer, id, std::move(bytes));
      s.early.erase(it);
    }
    return id;
  });
  s.wake_all();  // the progress thread delivers the early messages
  return opened;
}

void Transport::close_handler(HandlerId id) {
  State& s = *state_;
  if (State::lock_holder == &s) fail("closing a handler inside a message handler");
  const bool open = s.with_backend([&](Backend&) {
    return id >= detail::kFirstOpenedHandler && id < s.next_opened &&
           !s.closed_handlers.contains(id);
  });
  if (!open) fail("close_handler: handler ", id, " is not open");
  if (!s.started || s.stopping.load() || !s.running.load()) return;
  // Messages between two ranks arrive in order: once a peer's notice is here, so is all it
  // sent on id. This rank's messages to itself are delivered by the first round below.
  detail::WireWriter note;
  note.u32(id);
  for (int peer = 0; peer < s.job.size; ++peer) {
    if (peer != s.job.rank) send(peer, detail::kCloseHandler, std::as_bytes(std::span(note.str())));
  }
  const auto expected = static_cast<std::size_t>(s.job.size - 1);
  bool drove = false;
  wait_for([&] {
    const bool done = drove && s.closed_by[id].size() == expected;
    drove = true;
    return done;
  });
  s.with_backend([&](Backend&) {
    s.closed_by.erase(id);
    s.handlers[id] = nullptr;
    s.closed_handlers.insert(id);
  });
}

void Transport::abandon_handler(HandlerId id) {
  State& s = *state_;
  // Under the backend lock, which every delivery holds: no call of the old handler is running
  // when this returns.
  s.with_backend([&](Backend&) {
    if (id < s.handlers.size() && s.handlers[id]) {
      s.handlers[id] = [](int, std::span<const std::byte>) {};
    }
  });
}

WindowId Transport::add_window(std::span<std::byte> memory,
                               std::shared_ptr<const void> keep_alive) {
  if (state_->started) {
    WindowId id = state_->add_window_after_start(*this, memory, 0, false);
    if (keep_alive) {
      state_->with_backend([&](Backend&) { state_->keep_alive.push_back(std::move(keep_alive)); });
    }
    return id;
  }
  if (state_->windows.size() >= State::kMaxWindows)
    fail("more than ", State::kMaxWindows, " windows");
  state_->windows.push_back(memory);
  state_->allocated_keys.emplace_back();
  if (keep_alive) state_->keep_alive.push_back(std::move(keep_alive));
  return {static_cast<std::uint32_t>(state_->windows.size() - 1)};
}

WindowId Transport::allocate_window(std::size_t bytes) {
  State& s = *state_;
  if (s.started) return s.add_window_after_start(*this, {}, bytes, true);
  if (s.windows.size() >= State::kMaxWindows) fail("more than ", State::kMaxWindows, " windows");
  const auto id = static_cast<std::uint32_t>(s.windows.size());
  auto [memory, blob] = s.backend->allocate_window(id, bytes);
  s.windows.push_back(memory);
  s.allocated_keys.emplace_back(std::move(blob));
  return {id};
}

void Transport::free_window(WindowId window) {
  if (!state_->started) fail("free_window before start()");
  state_->free_window(*this, window);
}

void Transport::start() {
  State& s = *state_;
  if (s.started) return;
  const int n = s.job.size;
  std::vector<std::string> addresses = s.bootstrap->allgather(s.backend->address());
  s.backend->connect(s.job.rank, addresses);
  s.hosts = s.bootstrap->allgather(s.bootstrap->local_address());

  // Window keys: [u32 count] then per window [u64 size][u32 length][blob].
  detail::WireWriter mine;
  mine.u32(static_cast<std::uint32_t>(s.windows.size()));
  for (std::uint32_t w = 0; w < s.windows.size(); ++w) {
    std::string blob = s.allocated_keys[w] ? std::move(*s.allocated_keys[w])
                                           : s.backend->register_window(w, s.windows[w]);
    mine.u64(s.windows[w].size());
    mine.blob(blob);
  }
  std::vector<std::string> all = s.bootstrap->allgather(mine.str());
  s.remote_sizes.assign(static_cast<std::size_t>(n), {});
  for (auto& sizes : s.remote_sizes) sizes.reserve(State::kMaxWindows);
  // ATOLL_DIRECT_PUT=0 sends every put through the backend (for comparisons).
  const char* direct_env = std::getenv("ATOLL_DIRECT_PUT");
  s.direct_puts = direct_env == nullptr || std::string_view(direct_env) != "0";
  const bool direct_puts = s.direct_puts;
  for (int peer = 0; peer < n; ++peer) {
    detail::WireReader in(all[peer], str_cat("window keys of rank ", peer));
    std::uint32_t count = in.u32();
    if (count != s.windows.size()) {
      fail("rank ", peer, " registered ", count, " windows, this rank ", s.windows.size(),
           " (every rank must add the same windows in the same order)");
    }
    for (std::uint32_t w = 0; w < count; ++w) {
      std::uint64_t size = in.u64();
      std::string_view blob = in.blob();
      s.remote_sizes[peer].push_back(size);
      State::PeerState& p = *s.peers[peer];
      std::byte* mapped = nullptr;  // puts to self are copied by put() itself
      if (peer != s.job.rank) {
        s.backend->add_remote_window(peer, w, size, blob);
        mapped = s.backend->direct_window(peer, w);
      }
      p.mapped.push_back(mapped != nullptr);
      p.any_mapped = p.any_mapped || mapped != nullptr;
      p.direct.push_back(direct_puts ? mapped : nullptr);
    }
    in.expect_end();
  }
  for (auto& t : s.last_heard) t.store(State::now_ns());
  s.window_count.store(static_cast<std::uint32_t>(s.windows.size()), std::memory_order_release);
  s.started = true;
  s.running.store(true, std::memory_order_release);
  s.progress_thread = std::thread([&s] { s.progress_loop(); });
  s.bootstrap->barrier();
}

bool Transport::started() const {
  return state_->started;
}

void Transport::send(int peer, HandlerId handler, std::span<const std::byte> bytes) {
  State& s = *state_;
  if (peer < 0 || peer >= s.job.size) fail("send to rank ", peer, " outside 0..", s.job.size - 1);
  if (s.failed.load()) s.throw_failure();
  if (peer == s.job.rank) {
    std::lock_guard guard(s.self_mutex);
    s.self_queue.emplace_back(handler, std::vector<std::byte>(bytes.begin(), bytes.end()));
    s.self_pending.store(true, std::memory_order_release);
  } else {
    s.with_backend([&](Backend& b) { s.post_locked(b, peer, handler, bytes); });
  }
  s.posted();
}

void Transport::put(int peer, WindowId window, std::uint64_t offset,
                    std::span<const std::byte> bytes) {
  State& s = *state_;
  if (peer < 0 || peer >= s.job.size) fail("put to rank ", peer, " outside 0..", s.job.size - 1);
  std::size_t limit = window_size(peer, window);
  if (offset > limit || bytes.size() > limit - offset) {
    fail("put of ", bytes.size(), " bytes at offset ", offset, " overruns window ", window.index,
         " of rank ", peer, " (", limit, " bytes)");
  }
  if (s.failed.load()) s.throw_failure();
  if (peer == s.job.rank) {
    detail::ordered_copy(s.windows[window.index].data() + offset, bytes);
    return;
  }
  State::PeerState& p = *s.peers[peer];
  // A window mapped here takes plain stores, unless a fence asked for order after backend
  // puts that no flush has shown complete yet: then the backend orders this one too.
  if (std::byte* direct = p.direct[window.index];
      direct != nullptr && p.fenced_puts.load(std::memory_order_relaxed) <=
                               p.flushed_puts.load(std::memory_order_acquire)) {
    detail::ordered_copy(direct + offset, bytes);
    return;
  }
  s.with_backend([&](Backend& b) {
    p.backend_puts.fetch_add(1, std::memory_order_relaxed);
    if (!p.mapped[window.index]) p.unmapped_puts.fetch_add(1, std::memory_order_relaxed);
    p.backend_ops.fetch_add(1, std::memory_order_relaxed);
    b.post_put(peer, window.index, offset, bytes, &s.put_sink);
  });
  s.posted();
}

void Transport::fence(int peer) {
  State& s = *state_;
  std::atomic_thread_fence(std::memory_order_seq_cst);  // orders this rank's own stores
  if (peer == s.job.rank) return;
  State::PeerState& p = *s.peers[peer];
  // Only puts still in the backend need the backend's fence (direct stores are done).
  const std::uint64_t puts = p.backend_puts.load(std::memory_order_acquire);
  if (puts == p.flushed_puts.load(std::memory_order_acquire)) return;
  if (p.any_mapped && p.unmapped_puts.load(std::memory_order_acquire) !=
                          p.flushed_unmapped.load(std::memory_order_acquire)) {
    // A later put into a mapped window (a store) could overtake the backend's puts into
    // unmapped ones (see Backend::direct_window): wait until those have landed.
    if (State::lock_holder == &s) {
      fail("fence to rank ", peer, " inside a message handler after puts into windows that are ",
           "not allocated by the transport: it would have to wait for them; flush instead");
    }
    flush(peer);
    return;
  }
  State::raise_to(p.fenced_puts, puts);
  s.with_backend([&](Backend& b) { b.fence(peer); });
}

/// Posts a flush to `peer` unless nothing went through the backend since its last one (direct
/// stores are then complete); returns whether it posted.
bool Transport::State::post_flush(int peer, PostedFlush& posted) {
  State& s = *this;
  PeerState& p = *s.peers[peer];
  if (p.backend_ops.load(std::memory_order_acquire) ==
      p.flushed_ops.load(std::memory_order_acquire)) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return false;
  }
  posted.peer = peer;
  posted.done = s.with_backend([&](Backend& b) {
    posted.puts = p.backend_puts.load(std::memory_order_relaxed);
    posted.unmapped = p.unmapped_puts.load(std::memory_order_relaxed);
    posted.ops = p.backend_ops.load(std::memory_order_relaxed);
    auto it = s.flushes.emplace(s.flushes.end());
    b.post_flush(peer, &*it);
    return it;
  });
  return true;
}

/// After posted.done completed: takes it off the list, fails on an error, else records what
/// the peer's flush covered.
void Transport::State::finish_flush(const PostedFlush& posted) {
  State& s = *this;
  Completion result = s.with_backend([&](Backend&) {
    Completion c = *posted.done;
    s.flushes.erase(posted.done);
    return c;
  });
  if (result.failed) {
    s.fail(str_cat("flush to rank ", posted.peer, " failed: ", result.error), posted.peer);
    s.throw_failure();
  }
  State::PeerState& p = *s.peers[posted.peer];
  State::raise_to(p.flushed_puts, posted.puts);
  State::raise_to(p.flushed_unmapped, posted.unmapped);
  State::raise_to(p.flushed_ops, posted.ops);
}

void Transport::flush(int peer) {
  State& s = *state_;
  if (peer == s.job.rank) return;  // puts to self are applied at once
  if (s.failed.load()) s.throw_failure();
  State::PostedFlush posted{};
  if (!s.post_flush(peer, posted)) return;
  wait_for([&] { return posted.done->done; });  // if this throws, the list keeps `done`
  s.finish_flush(posted);
}

void Transport::flush_all() {
  State& s = *state_;
  if (s.failed.load()) s.throw_failure();
  // Every peer's flush is posted before any is awaited: one round trip, not one per peer.
  std::vector<State::PostedFlush> posted;
  for (int peer = 0; peer < size(); ++peer) {
    if (peer == s.job.rank) continue;
    State::PostedFlush f{};
    if (s.post_flush(peer, f)) posted.push_back(f);
  }
  if (posted.empty()) return;
  wait_for([&] {
    return std::all_of(posted.begin(), posted.end(),
                       [](const State::PostedFlush& f) { return f.done->done; });
  });
  for (const State::PostedFlush& f : posted) s.finish_flush(f);
}

void Transport::wait_for(const std::function<bool()>& ready, Handback handback) {
  State& s = *state_;
  static thread_local bool slack_set = [] {
    ::prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us: short sleeps stay short
    return true;
  }();
  (void)slack_set;
  int spins = 0;
  s.driver_entered(handback);
  struct Leave {
    State& s;
    Handback handback;
    ~Leave() { s.driver_left(handback); }
  } leave{s, handback};
  while (true) {
    const std::int64_t seen = s.activity.load(std::memory_order_seq_cst);
    bool busy = false;
    {
      State::BackendGuard guard(s, /*announce=*/false);
      if (ready()) return;
      busy = s.drive_locked();
      if (ready()) return;
    }
    if (s.failed.load()) s.throw_failure();
    if (busy) {
      spins = 0;  // more may follow at once (a ping-pong): keep driving
    } else if (++spins > State::kWaitSpins) {
      // Nap, or less if a thread of this rank posts (conditions on memory that peers store
      // into directly raise no event, so waiters poll).
      s.sleep(seen, State::kWaitNap, false);
      continue;
    }
    // Let another thread that wants the lock (a sender, or the progress thread's heartbeat)
    // have it: this thread would otherwise take it again at once.
    if (s.waiting.load(std::memory_order_relaxed) > 0) std::this_thread::yield();
  }
}

std::size_t Transport::window_size(int peer, WindowId window) const {
  const State& s = *state_;
  if (!s.started) fail("window_size before start()");
  if (peer < 0 || peer >= s.job.size ||
      window.index >= s.window_count.load(std::memory_order_acquire)) {
    fail("no window ", window.index, " at rank ", peer);
  }
  return s.remote_sizes[peer][window.index];
}

std::span<std::byte> Transport::local_window(WindowId window) const {
  const std::size_t count = state_->started ? state_->window_count.load(std::memory_order_acquire)
                                            : state_->windows.size();
  if (window.index >= count) fail("no local window ", window.index);
  return state_->windows[window.index];
}

void Transport::set_polled(bool on) {
  if (state_->polled.exchange(on) != on) state_->wake_all();  // the progress thread's new mode
}

bool Transport::polled() const {
  return state_->polled.load(std::memory_order_relaxed);
}

bool Transport::poll() {
  State& s = *state_;
  if (!s.started) fail("poll before start()");
  bool busy = false;
  if (s.lock.try_lock()) {
    State::lock_holder = &s;
    struct Unlock {
      State& s;
      ~Unlock() {
        State::lock_holder = nullptr;
        s.lock.unlock();
      }
    } unlock{s};
    busy = s.drive_locked();
  }
  if (s.failed.load()) s.throw_failure();
  return busy;
}

void Transport::set_idle_polls(int polls) {
  if (polls < 0) fail("transport: idle polls must not be negative, not ", polls);
  state_->idle_polls.store(polls, std::memory_order_relaxed);
}

int Transport::idle_polls() const {
  const int polls = state_->idle_polls.load(std::memory_order_relaxed);
  return polls >= 0 ? polls : state_->backend->idle_polls();
}

void Transport::check_peers() const {
  if (state_->failed.load()) state_->throw_failure();
}

bool Transport::failed() const {
  return state_->failed.load();
}

void Transport::on_failure(std::function<void(const std::string&)> callback) {
  state_->failure_callback = std::move(callback);
}

Bootstrap& Transport::bootstrap() {
  return *state_->bootstrap;
}

void Transport::stop() {
  State& s = *state_;
  if (!s.started) return;
  s.started = false;
  bool clean = !s.failed.load();
  if (clean) {
    try {
      flush_all();
      // Nobody closes while others may still talk to it.
      if (s.job.rank == 0) {
        wait_for([&] { return s.stop_arrivals == s.job.size - 1; });
        s.stopping.store(true);  // released ranks close: their goodbyes are not failures
        for (int peer = 1; peer < s.job.size; ++peer) send(peer, detail::kStopHandler, {});
        for (int peer = 1; peer < s.job.size; ++peer) {
          auto done = s.with_backend([&](Backend& b) {
            auto it = s.flushes.emplace(s.flushes.end());
            b.post_flush(peer, &*it);
            return it;
          });
          auto deadline = Clock::now() + std::chrono::seconds(5);
          while (Clock::now() < deadline && !s.with_backend([&](Backend& b) {
            b.progress();
            return done->done;
          })) {
          }
        }
      } else {
        send(0, detail::kStopHandler, {});
        wait_for([&] { return s.stop_released; });
      }
    } catch (const std::exception& e) {
      clean = false;
      log_info(str_cat("transport: unclean shutdown: ", e.what()));
    }
  }
  s.stopping.store(true);
  s.running.store(false, std::memory_order_release);
  s.wake_all();  // a sleeping progress thread ends now
  if (s.progress_thread.joinable()) s.progress_thread.join();
  State::BackendGuard guard(s);
  for (auto& p : s.peers) std::fill(p->direct.begin(), p->direct.end(), nullptr);  // unmapped next
  s.backend->disconnect();  // drops pending operations: their completions can go now
  s.sends.clear();
  s.flushes.clear();
}

}  // namespace atl
