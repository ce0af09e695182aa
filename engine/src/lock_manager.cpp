// The lock manager: the owner's lock table (an atomic lock word and an intrusive FIFO of
// waiting groups per owned vertex, in two arrays: the words alone are what the common paths
// touch, four bytes a vertex) and the requester's scope state machine, under one mutex.
// A "group" is the part of a scope's locks owned by one rank. A scope whose locks are all here
// may skip the mutex: try_lock_local takes every lock word or none and never queues, so it
// cannot take part in a cycle of waits either (the invariant at kWaiters keeps it fair). A
// serial manager (a rank with one worker) takes the mutex there too, and then changes words
// with plain stores: every access is ordered by the mutex, and no atomic RMW is paid.
//
// Why no run can deadlock, and why a scope over k ranks costs one round trip. A scope first
// sends a *try* to each of its k owner ranks at once (one rank only: it queues directly). A
// try takes all of that rank's locks of the scope if every one is compatible and has an empty
// queue, else none, and answers at once; it never waits. (Its own rank's try is made first, on
// the spot: refused while its group is the lowest, the scope queues at once from there and
// sends no try, which is the case j = that group below.) If every try is granted, the scope
// holds its locks after one round trip. Otherwise, let j be the lowest refusing rank: the
// scope keeps its groups below j, releases those above j (which needs no lock, so it happens
// within one round trip of the refusal), and *queues* its groups from j upwards, one rank at a
// time, the next only once the previous is granted; at a rank, a queued group takes its locks
// one by one in lid order, waiting in a lock's FIFO when it is taken. So a scope waits only in
// a queue, and then all the locks it holds (or will hold without waiting: none above j remain)
// precede the awaited lock in the global order (owner rank, lid). A cycle of waits would need
// a scope waiting for a lock smaller than one it holds: none exists, so no deadlock. Waiters
// are not overtaken by tries (a try needs an empty queue) and FIFO order serves each in turn;
// priority groups (very high degree) are put before ordinary waiters but behind earlier
// priority ones, and as they are few they delay ordinary waiters only boundedly.
#include "atoll/engine/lock_manager.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>

#include "atoll/common/error.hpp"
#include "lock_batch.hpp"

namespace atl {
namespace {

constexpr std::uint32_t kNone = UINT32_MAX;
/// A scope naming more locks at its own rank than this takes a free scope state with room for
/// them when there is one (LockManager::reserve), so that no request allocates.
constexpr std::size_t kSmallLocal = 256;

// A lock's state in one atomic word, so that a scope whose locks are all owned here can take
// and release them without the mutex (try_lock_local). The queue fields beside it are only
// touched under the mutex. Invariant: kWaiters is set exactly while the queue is non-empty.
// A lock-free take fails when it is set, and a lock-free release that sees it takes the mutex
// to wake the queue; a group sets it only by a CAS that also sees the lock still taken, so a
// release either comes first (and the group takes the lock) or sees the bit (and wakes it).
constexpr std::uint32_t kWriter = 1u << 31;
constexpr std::uint32_t kWaiters = 1u << 30;
constexpr std::uint32_t kReaders = kWaiters - 1;

bool compatible(std::uint32_t word, LockMode m) {
  return m == LockMode::kWrite ? (word & (kWriter | kReaders)) == 0 : (word & kWriter) == 0;
}

std::uint32_t taken(std::uint32_t word, LockMode m) {
  return m == LockMode::kWrite ? word | kWriter : word + 1;
}

using LockWord = std::atomic<std::uint32_t>;

/// A lock's queue of waiting groups (under the mutex; empty exactly when kWaiters is clear).
struct LockQueue {
  std::uint32_t head = kNone;           ///< first waiting group
  std::uint32_t tail = kNone;           ///< last waiting group
  std::uint32_t priority_tail = kNone;  ///< last waiting priority group (they come first)
};

// Serial managers (LockManager's `serial`) touch lock words only under the mutex, which
// orders every access: a word changes by a plain load and store there, with no atomic
// read-modify-write (each of which costs a store-buffer drain, a scope takes two per lock).

/// Sets l to `to` after it was seen as `w`: a store when serial, else a CAS that fails (and
/// updates w) when l changed meanwhile.
bool change(LockWord& l, std::uint32_t& w, std::uint32_t to, bool serial, std::memory_order order) {
  if (serial) {
    l.store(to, std::memory_order_relaxed);
    return true;
  }
  return l.compare_exchange_weak(w, to, order, std::memory_order_relaxed);
}

/// Takes l in mode m if it is compatible and nobody waits; never waits (no mutex needed unless
/// serial).
bool try_take(LockWord& l, LockMode m, bool serial) {
  std::uint32_t w = l.load(std::memory_order_relaxed);
  while ((w & kWaiters) == 0 && compatible(w, m)) {
    if (change(l, w, taken(w, m), serial, std::memory_order_acquire)) return true;
  }
  return false;
}

/// Drops a lock held in mode m; returns the word before, so the caller sees kWaiters.
std::uint32_t drop(LockWord& l, LockMode m, bool serial) {
  if (serial) {
    const std::uint32_t w = l.load(std::memory_order_relaxed);
    l.store(m == LockMode::kWrite ? w & ~kWriter : w - 1, std::memory_order_relaxed);
    return w;
  }
  return m == LockMode::kWrite ? l.fetch_and(~kWriter, std::memory_order_release)
                               : l.fetch_sub(1, std::memory_order_release);
}

/// A group's locks here: a list of the requester's own (each with its mode), or the lids an
/// expanded key named (all in one mode).
struct LockList {
  std::span<const LockItem> items;
  std::span<const Lid> lids;
  LockMode mode = LockMode::kRead;
  std::size_t size() const { return items.empty() ? lids.size() : items.size(); }
  Lid lid(std::size_t i) const { return items.empty() ? lids[i] : items[i].lid; }
  LockMode mode_of(std::size_t i) const { return items.empty() ? mode : items[i].mode; }
  LockList first(std::size_t n) const {
    return items.empty() ? LockList{{}, lids.first(n), mode} : LockList{items.first(n), {}, mode};
  }
};

/// Owner side: a queued group, taking its locks here one by one (waiting on one at a time).
struct Group {
  int requester = 0;
  ScopeId scope = 0;
  bool priority = false;
  std::uint32_t next_lock = 0;        ///< locks[0, next_lock) are held
  std::uint32_t next_waiter = kNone;  ///< in the queue of locks[next_lock]
  LockList locks;                     ///< the requester's own list, or the expansion's lids
};

enum class Phase : std::uint8_t { kFree, kTrying, kOrdered, kHeld };
enum class Reply : std::uint8_t { kPending, kGranted, kRefused };

/// Requester side: one scope. Its groups, one per owner rank in rank order: the remote ones
/// as requested, and this rank's (owner == rank, key unused) for `local`.
struct ScopeState {
  std::uint64_t tag = 0;
  bool priority = false;
  Phase phase = Phase::kFree;
  std::vector<LockItem> local;
  std::vector<RemoteGroup> groups;
  std::vector<Reply> replies;      ///< per group, during the tries
  std::uint32_t pending = 0;       ///< try replies still expected
  std::uint32_t ordered_next = 0;  ///< the group queued now, after the tries
  std::uint32_t count() const { return static_cast<std::uint32_t>(groups.size()); }
};

}  // namespace

struct LockManager::Impl {
  int rank;
  int ranks;
  Lid owned;
  bool serial;  ///< every word access under the mutex (plain loads and stores)
  LockHooks hooks;
  mutable std::mutex mutex;
  std::unique_ptr<LockWord[]> words;  ///< per owned vertex
  std::vector<LockQueue> queues;      ///< per owned vertex
  std::vector<Group> groups;
  std::vector<std::uint32_t> free_groups;
  std::vector<ScopeState> scopes;
  std::vector<ScopeId> free_scopes;
  std::vector<ScopeId> free_large;  ///< free scopes with room for more than kSmallLocal locks
  std::vector<std::vector<std::byte>> outbox;
  std::vector<std::pair<ScopeId, std::uint64_t>> ready;  ///< granted, callbacks not yet made
  std::vector<int> woken;                                ///< peers whose batch became non-empty
  LockStats stats;
  std::size_t active = 0;

  Impl(int r, int n, Lid num_owned, LockHooks h, bool one_thread)
      : rank(r),
        ranks(n),
        owned(num_owned),
        serial(one_thread),
        hooks(std::move(h)),
        words(std::make_unique<LockWord[]>(num_owned)),
        queues(num_owned),
        outbox(n) {}

  std::vector<std::byte>& out_for(int peer) {
    if (outbox[peer].empty()) woken.push_back(peer);
    return outbox[peer];
  }

  // ---- owner side ----

  /// The locks `requester` names by `key` here, checked (the hook checks the key).
  LockList expand(int requester, Lid key, LockMode mode) {
    const std::span<const Lid> lids = hooks.expand(requester, key);
    if (!lids.empty() && lids.back() >= owned) {
      fail("lock manager: the group of key ", key, " names lid ", lids.back(), ", not owned");
    }
    return {{}, lids, mode};
  }

  /// Takes all of `locks` if each is free and has an empty queue, else none.
  bool try_locks(const LockList& locks) {
    for (std::size_t i = 0; i < locks.size(); ++i) {
      if (!try_take(words[locks.lid(i)], locks.mode_of(i), serial)) {
        release_locks(rank, locks.first(i));
        return false;
      }
    }
    return true;
  }

  /// Takes lid for group g unless a group it must not overtake waits (ordinary groups need an
  /// empty queue, priority groups no earlier priority group) or it is taken; then queues g.
  bool take_or_queue(Lid lid, std::uint32_t g) {
    LockWord& l = words[lid];
    const LockMode m = groups[g].locks.mode_of(groups[g].next_lock);
    std::uint32_t w = l.load(std::memory_order_relaxed);
    // kWaiters changes only under the mutex, held here: clear means the queue is empty.
    if ((w & kWaiters) == 0 || (groups[g].priority && queues[lid].priority_tail == kNone)) {
      for (;;) {
        if (compatible(w, m)) {
          if (change(l, w, taken(w, m), serial, std::memory_order_acquire)) return true;
        } else if ((w & kWaiters) != 0 ||
                   change(l, w, w | kWaiters, serial, std::memory_order_relaxed)) {
          break;
        }
      }
    }
    enqueue(lid, g);
    return false;
  }

  void enqueue(Lid lid, std::uint32_t g) {
    LockQueue& l = queues[lid];
    groups[g].next_waiter = kNone;
    ++stats.waits;
    if (groups[g].priority) {
      if (l.priority_tail == kNone) {
        groups[g].next_waiter = l.head;
        l.head = g;
      } else {
        groups[g].next_waiter = groups[l.priority_tail].next_waiter;
        groups[l.priority_tail].next_waiter = g;
      }
      if (l.tail == kNone || l.tail == l.priority_tail) l.tail = g;
      l.priority_tail = g;
    } else {
      if (l.tail == kNone) {
        l.head = g;
      } else {
        groups[l.tail].next_waiter = g;
      }
      l.tail = g;
    }
  }

  std::uint32_t new_group(int requester, ScopeId scope, bool priority, LockList locks) {
    std::uint32_t g;
    if (!free_groups.empty()) {
      g = free_groups.back();
      free_groups.pop_back();
    } else {
      g = static_cast<std::uint32_t>(groups.size());
      groups.emplace_back();
    }
    Group& gr = groups[g];
    gr.requester = requester;
    gr.scope = scope;
    gr.priority = priority;
    gr.next_lock = 0;
    gr.next_waiter = kNone;
    gr.locks = locks;
    return g;
  }

  /// Takes the group's remaining locks in order until one must wait; grants when all held.
  void advance(std::uint32_t g) {
    for (;;) {
      Group& gr = groups[g];
      if (gr.next_lock == gr.locks.size()) break;
      if (!take_or_queue(gr.locks.lid(gr.next_lock), g)) return;
      ++gr.next_lock;
    }
    const int requester = groups[g].requester;
    const ScopeId scope = groups[g].scope;
    free_groups.push_back(g);
    if (requester == rank) {
      on_reply(scope, rank, true, {});
    } else {
      send_grant(requester, scope, groups[g].locks.lids);
    }
  }

  void send_grant(int requester, ScopeId scope, std::span<const Lid> lids) {
    std::vector<std::byte>& out = out_for(requester);
    const std::size_t at = detail::begin_grant(out, scope);
    if (hooks.grant_data) hooks.grant_data(requester, lids, out);
    detail::finish_data(out, at);
  }

  /// Grants waiting groups at the head of lid's queue while they are compatible (so readers
  /// at the head go together); the last one out of the queue clears kWaiters.
  void wake(Lid lid) {
    LockWord& word = words[lid];
    // Under the mutex kWaiters is exact: clear, the queue is empty and need not be loaded
    // (a release wakes every lock of its group when one of them has waiters).
    if ((word.load(std::memory_order_relaxed) & kWaiters) == 0) return;
    LockQueue& l = queues[lid];
    for (std::uint32_t g = l.head; g != kNone; g = l.head) {
      const LockMode m = groups[g].locks.mode_of(groups[g].next_lock);
      const bool last = groups[g].next_waiter == kNone;
      std::uint32_t w = word.load(std::memory_order_relaxed);
      do {
        if (!compatible(w, m)) return;
      } while (!change(word, w, taken(w, m) & (last ? ~kWaiters : ~0u), serial,
                       std::memory_order_acquire));
      l.head = groups[g].next_waiter;
      if (l.head == kNone) l.tail = kNone;
      if (l.priority_tail == g) l.priority_tail = kNone;
      ++groups[g].next_lock;
      advance(g);
    }
  }

  void release_locks(int requester, const LockList& locks) {
    bool waiters = false;
    for (std::size_t i = 0; i < locks.size(); ++i) {
      LockWord& l = words[locks.lid(i)];
      const std::uint32_t w = l.load(std::memory_order_relaxed);
      if (locks.mode_of(i) == LockMode::kWrite ? (w & kWriter) == 0 : (w & kReaders) == 0) {
        fail("rank ", requester, " released lid ", locks.lid(i), ", not ",
             locks.mode_of(i) == LockMode::kWrite ? "write" : "read", "-locked");
      }
      waiters |= (drop(l, locks.mode_of(i), serial) & kWaiters) != 0;
    }
    if (!waiters) return;
    for (std::size_t i = 0; i < locks.size(); ++i) wake(locks.lid(i));
  }

  // ---- requester side ----

  void send_try(ScopeId s, std::uint32_t g) {
    const ScopeState& sc = scopes[s];
    const RemoteGroup& gr = sc.groups[g];
    if (gr.owner == rank) {
      on_reply(s, rank, try_locks(LockList{sc.local, {}, gr.mode}), {});
    } else {
      detail::append_lock_request(out_for(gr.owner), detail::LockRecord::kTry, s, sc.priority,
                                  gr.key, gr.mode);
    }
  }

  void send_queue(ScopeId s, std::uint32_t g) {
    const ScopeState& sc = scopes[s];
    const RemoteGroup& gr = sc.groups[g];
    if (gr.owner == rank) {
      advance(new_group(rank, s, sc.priority, LockList{sc.local, {}, gr.mode}));
    } else {
      detail::append_lock_request(out_for(gr.owner), detail::LockRecord::kQueue, s, sc.priority,
                                  gr.key, gr.mode);
    }
  }

  /// Releases group g of scope s (here, or by a release record with the scope's data).
  void send_release(ScopeId s, std::uint32_t g, bool with_data) {
    const ScopeState& sc = scopes[s];
    const RemoteGroup& gr = sc.groups[g];
    if (gr.owner == rank) {
      release_locks(rank, LockList{sc.local, {}, gr.mode});
      return;
    }
    std::vector<std::byte>& out = out_for(gr.owner);
    const std::size_t at = detail::begin_release(out, gr.key, gr.mode);
    if (with_data && hooks.release_data) hooks.release_data(sc.tag, gr.owner, out);
    detail::finish_data(out, at);
  }

  /// The group of scope s at `owner` was granted (or refused, during the tries).
  void on_reply(ScopeId s, int owner, bool granted, std::span<const std::byte> data) {
    if (s >= scopes.size() ||
        (scopes[s].phase != Phase::kTrying && scopes[s].phase != Phase::kOrdered)) {
      fail("rank ", owner, " answered lock scope ", s, ", which is not waiting");
    }
    ScopeState& sc = scopes[s];
    std::uint32_t g = 0;
    while (g < sc.count() && sc.groups[g].owner != owner) ++g;
    const bool expected =
        g < sc.count() && (sc.phase == Phase::kTrying ? sc.replies[g] == Reply::kPending
                                                      : granted && g == sc.ordered_next);
    if (!expected) fail("rank ", owner, " sent an unexpected answer for lock scope ", s);
    if (!data.empty() && hooks.receive_grant_data) hooks.receive_grant_data(sc.tag, owner, data);
    if (sc.phase == Phase::kOrdered) {
      if (++sc.ordered_next == sc.count()) {
        complete(s);
      } else {
        send_queue(s, sc.ordered_next);
      }
      return;
    }
    sc.replies[g] = granted ? Reply::kGranted : Reply::kRefused;
    if (--sc.pending > 0) return;
    std::uint32_t j = 0;
    while (j < sc.count() && sc.replies[j] == Reply::kGranted) ++j;
    if (j == sc.count()) {
      ++stats.optimistic;
      complete(s);
      return;
    }
    ++stats.fallbacks;
    sc.phase = Phase::kOrdered;
    sc.ordered_next = j;
    for (std::uint32_t h = j + 1; h < sc.count(); ++h) {
      if (scopes[s].replies[h] == Reply::kGranted) send_release(s, h, false);
    }
    send_queue(s, j);
  }

  void complete(ScopeId s) {
    scopes[s].phase = Phase::kHeld;
    ready.emplace_back(s, scopes[s].tag);
  }

  ScopeId new_scope(std::span<const LockItem> local, std::span<const RemoteGroup> remote,
                    std::uint64_t tag, bool priority) {
    if (local.empty() && remote.empty()) fail("lock request with no locks");
    for (std::size_t i = 0; i < local.size(); ++i) {
      const LockItem& it = local[i];
      if (it.owner != rank || it.lid >= owned) {
        fail("lock request for rank ", it.owner, " lid ", it.lid, " among this rank's locks");
      }
      if (i > 0 && local[i - 1].lid >= it.lid) fail("lock request out of order at entry ", i);
    }
    for (std::size_t i = 0; i < remote.size(); ++i) {
      const RemoteGroup& r = remote[i];
      if (r.owner < 0 || r.owner >= ranks || r.owner == rank) {
        fail("lock request for a group at rank ", r.owner);
      }
      if (i > 0 && remote[i - 1].owner >= r.owner) fail("lock groups out of order at ", i);
    }
    ScopeId s;
    std::vector<ScopeId>* from = local.size() > kSmallLocal && !free_large.empty()
                                     ? &free_large
                                     : (!free_scopes.empty() ? &free_scopes : &free_large);
    if (!from->empty()) {
      s = from->back();
      from->pop_back();
    } else {
      s = static_cast<ScopeId>(scopes.size());
      scopes.emplace_back();
    }
    ScopeState& sc = scopes[s];
    sc.tag = tag;
    sc.priority = priority;
    sc.local.assign(local.begin(), local.end());
    sc.groups.clear();
    bool local_placed = local.empty();
    for (const RemoteGroup& r : remote) {
      if (!local_placed && r.owner > rank) {
        sc.groups.push_back({rank, 0, LockMode::kWrite});
        local_placed = true;
      }
      sc.groups.push_back(r);
    }
    if (!local_placed) sc.groups.push_back({rank, 0, LockMode::kWrite});
    sc.replies.assign(sc.count(), Reply::kPending);
    sc.pending = sc.count();
    sc.ordered_next = 0;
    ++stats.scopes;
    ++active;
    return s;
  }

  /// Calls the hooks for what the last operation granted and woke, outside the mutex.
  void notify(std::unique_lock<std::mutex>& lock) {
    std::vector<std::pair<ScopeId, std::uint64_t>> granted;
    std::vector<int> peers;
    granted.swap(ready);
    peers.swap(woken);
    lock.unlock();
    if (hooks.outgoing) {
      for (int p : peers) hooks.outgoing(p);
    }
    for (const auto& [s, tag] : granted) hooks.granted(s, tag);
  }
};

LockManager::LockManager(int rank, int ranks, Lid num_owned, LockHooks hooks, bool serial) {
  if (ranks < 1 || rank < 0 || rank >= ranks) fail("lock manager: rank ", rank, " of ", ranks);
  if (!hooks.granted) fail("lock manager: no granted hook");
  if (ranks > 1 && !hooks.expand) fail("lock manager: no expand hook for ", ranks, " ranks");
  impl_ = std::make_unique<Impl>(rank, ranks, num_owned, std::move(hooks), serial);
}

LockManager::~LockManager() = default;

ScopeId LockManager::request(std::span<const LockItem> local, std::span<const RemoteGroup> remote,
                             std::uint64_t tag, bool priority) {
  std::unique_lock lock(impl_->mutex);
  Impl& m = *impl_;
  const ScopeId s = m.new_scope(local, remote, tag, priority);
  ScopeState& sc = m.scopes[s];
  if (sc.count() == 1) {
    sc.phase = Phase::kOrdered;
    m.send_queue(s, 0);
  } else if (sc.groups[0].owner == m.rank &&
             !m.try_locks(LockList{sc.local, {}, sc.groups[0].mode})) {
    // The local group comes first in the order and is refused: the scope falls back from it
    // whatever the other ranks would answer, so it sends them no try (each granted one would
    // only be released again).
    ++m.stats.fallbacks;
    sc.phase = Phase::kOrdered;
    sc.ordered_next = 0;
    m.send_queue(s, 0);
  } else {
    sc.phase = Phase::kTrying;
    std::uint32_t g = 0;
    if (sc.groups[0].owner == m.rank) {  // taken just above
      sc.replies[0] = Reply::kGranted;
      --sc.pending;
      g = 1;
    }
    for (const std::uint32_t n = sc.count(); g < n; ++g) m.send_try(s, g);
  }
  m.notify(lock);
  return s;
}

void LockManager::release(ScopeId s) {
  std::unique_lock lock(impl_->mutex);
  Impl& m = *impl_;
  if (s >= m.scopes.size() || m.scopes[s].phase != Phase::kHeld) {
    fail("lock manager: release of scope ", s, ", which holds no locks");
  }
  for (std::uint32_t g = 0, n = m.scopes[s].count(); g < n; ++g) m.send_release(s, g, true);
  m.scopes[s].phase = Phase::kFree;
  (m.scopes[s].local.capacity() > kSmallLocal ? m.free_large : m.free_scopes).push_back(s);
  --m.active;
  m.notify(lock);
}

void LockManager::deliver(int source, std::span<const std::byte> batch) {
  Impl& m = *impl_;
  if (source < 0 || source >= m.ranks || source == m.rank) {
    fail("lock manager: a batch from rank ", source, " (this is rank ", m.rank, " of ", m.ranks,
         ")");
  }
  struct Visitor {
    Impl& m;
    int source;
    void request(bool is_try, ScopeId scope, bool priority, Lid key, LockMode mode) {
      const LockList locks = m.expand(source, key, mode);
      if (!is_try) {
        m.advance(m.new_group(source, scope, priority, locks));
      } else if (m.try_locks(locks)) {
        m.send_grant(source, scope, locks.lids);
      } else {
        detail::append_refuse(m.out_for(source), scope);
      }
    }
    void grant(ScopeId scope, std::span<const std::byte> data) {
      m.on_reply(scope, source, true, data);
    }
    void refuse(ScopeId scope) { m.on_reply(scope, source, false, {}); }
    void release(Lid key, LockMode mode, std::span<const std::byte> data) {
      const LockList locks = m.expand(source, key, mode);
      if (!data.empty() && m.hooks.receive_release_data) m.hooks.receive_release_data(source, data);
      m.release_locks(source, locks);
    }
  };
  std::unique_lock lock(m.mutex);
  Visitor v{m, source};
  detail::decode_lock_batch(batch, source, v);
  m.notify(lock);
}

bool LockManager::try_lock_local(std::span<const LockItem> locks) {
  Impl& m = *impl_;
  std::unique_lock lock(m.mutex, std::defer_lock);
  if (m.serial) lock.lock();
  for (std::size_t i = 0; i < locks.size(); ++i) {
    const LockItem& it = locks[i];
    if (it.owner != m.rank || it.lid >= m.owned) {
      unlock_local(locks.first(i), lock);  // all or none, an error too
      fail("lock manager: local lock of rank ", it.owner, " lid ", it.lid);
    }
    if (!try_take(m.words[it.lid], it.mode, m.serial)) {
      unlock_local(locks.first(i), lock);
      return false;
    }
  }
  return true;
}

void LockManager::unlock_local(std::span<const LockItem> locks) {
  std::unique_lock lock(impl_->mutex, std::defer_lock);
  if (impl_->serial) lock.lock();
  unlock_local(locks, lock);
}

void LockManager::unlock_local(std::span<const LockItem> locks,
                               std::unique_lock<std::mutex>& lock) {
  Impl& m = *impl_;
  bool waiters = false;
  for (const LockItem& it : locks) {
    waiters |= (drop(m.words[it.lid], it.mode, m.serial) & kWaiters) != 0;
  }
  if (!waiters) return;
  if (!lock.owns_lock()) lock.lock();
  for (const LockItem& it : locks) m.wake(it.lid);
  m.notify(lock);
}

void LockManager::reserve(std::size_t count, std::size_t large, std::size_t large_locks) {
  std::lock_guard lock(impl_->mutex);
  Impl& m = *impl_;
  if (m.scopes.size() >= count) return;
  const std::size_t first = m.scopes.size();
  m.scopes.resize(count);
  for (std::size_t i = count; i-- > first;) {  // the lowest ids are handed out first
    ScopeState& sc = m.scopes[i];
    const bool is_large = i - first < large;
    // Written once here: memory first written while a run goes is what stalls.
    sc.local.resize(is_large ? std::max(large_locks, kSmallLocal + 1) : kSmallLocal);
    sc.local.clear();
    sc.groups.reserve(static_cast<std::size_t>(m.ranks));
    sc.replies.reserve(static_cast<std::size_t>(m.ranks));
    (is_large ? m.free_large : m.free_scopes).push_back(static_cast<ScopeId>(i));
  }
}

bool LockManager::take_batch(int peer, std::vector<std::byte>& out) {
  std::lock_guard lock(impl_->mutex);
  if (peer < 0 || peer >= impl_->ranks) fail("lock manager: no rank ", peer);
  out.clear();
  out.swap(impl_->outbox[peer]);
  impl_->stats.batch_bytes += out.size();
  return !out.empty();
}

bool LockManager::has_outgoing() const {
  std::lock_guard lock(impl_->mutex);
  return std::any_of(impl_->outbox.begin(), impl_->outbox.end(),
                     [](const std::vector<std::byte>& b) { return !b.empty(); });
}

LockStats LockManager::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

std::size_t LockManager::active_scopes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->active;
}

}  // namespace atl
