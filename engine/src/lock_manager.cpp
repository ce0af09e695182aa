// The lock manager: the owner's lock table (an atomic lock word and an intrusive FIFO of
// waiting groups per owned vertex) and the requester's scope state machine, under one mutex.
// A "group" is the part of a scope's locks owned by one rank. A scope whose locks are all here
// may skip the mutex: try_lock_local takes every lock word or none and never queues, so it
// cannot take part in a cycle of waits either (the invariant at VertexLock keeps it fair).
//
// Why no run can deadlock, and why a scope over k ranks costs one round trip. A scope first
// sends a *try* to each of its k owner ranks at once (one rank only: it queues directly). A
// try takes all of that rank's locks of the scope if every one is compatible and has an empty
// queue, else none, and answers at once; it never waits. If every try is granted, the scope
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

struct VertexLock {
  std::atomic<std::uint32_t> word{0};
  std::uint32_t head = kNone;           ///< first waiting group
  std::uint32_t tail = kNone;           ///< last waiting group
  std::uint32_t priority_tail = kNone;  ///< last waiting priority group (they come first)
};

/// Takes l in mode m if it is compatible and nobody waits; never waits (no mutex needed).
bool try_take(VertexLock& l, LockMode m) {
  std::uint32_t w = l.word.load(std::memory_order_relaxed);
  while ((w & kWaiters) == 0 && compatible(w, m)) {
    if (l.word.compare_exchange_weak(w, taken(w, m), std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

/// Drops a lock held in mode m; returns the word before, so the caller sees kWaiters.
std::uint32_t drop(VertexLock& l, LockMode m) {
  return m == LockMode::kWrite ? l.word.fetch_and(~kWriter, std::memory_order_release)
                               : l.word.fetch_sub(1, std::memory_order_release);
}

/// Owner side: a queued group, taking its locks here one by one (waiting on one at a time).
struct Group {
  int requester = 0;
  ScopeId scope = 0;
  bool priority = false;
  std::uint32_t next_lock = 0;        ///< locks[0, next_lock) are held
  std::uint32_t next_waiter = kNone;  ///< in the queue of locks[next_lock]
  std::vector<LockItem> locks;
};

enum class Phase : std::uint8_t { kFree, kTrying, kOrdered, kHeld };
enum class Reply : std::uint8_t { kPending, kGranted, kRefused };

/// Requester side: one scope.
struct ScopeState {
  std::uint64_t tag = 0;
  bool priority = false;
  Phase phase = Phase::kFree;
  std::vector<LockItem> locks;
  std::vector<std::uint32_t> group_begin;  ///< per owner rank in the scope, then locks.size()
  std::vector<Reply> replies;              ///< per group, during the tries
  std::uint32_t pending = 0;               ///< try replies still expected
  std::uint32_t ordered_next = 0;          ///< the group queued now, after the tries
  std::uint32_t groups() const { return static_cast<std::uint32_t>(group_begin.size() - 1); }
  std::span<const LockItem> group(std::uint32_t g) const {
    return std::span<const LockItem>(locks).subspan(group_begin[g],
                                                    group_begin[g + 1] - group_begin[g]);
  }
  int owner(std::uint32_t g) const { return locks[group_begin[g]].owner; }
};

}  // namespace

struct LockManager::Impl {
  int rank;
  int ranks;
  Lid owned;
  LockHooks hooks;
  mutable std::mutex mutex;
  std::vector<VertexLock> table;
  std::vector<Group> groups;
  std::vector<std::uint32_t> free_groups;
  std::vector<ScopeState> scopes;
  std::vector<ScopeId> free_scopes;
  std::vector<std::vector<std::byte>> outbox;
  std::vector<std::pair<ScopeId, std::uint64_t>> ready;  ///< granted, callbacks not yet made
  std::vector<int> woken;                                ///< peers whose batch became non-empty
  std::vector<LockItem> scratch;
  LockStats stats;
  std::size_t active = 0;

  Impl(int r, int n, Lid num_owned, LockHooks h)
      : rank(r), ranks(n), owned(num_owned), hooks(std::move(h)), table(num_owned), outbox(n) {}

  std::vector<std::byte>& out_for(int peer) {
    if (outbox[peer].empty()) woken.push_back(peer);
    return outbox[peer];
  }

  // ---- owner side ----

  /// Takes all of `locks` (lids here) if each is free and has an empty queue, else none.
  bool try_locks(std::span<const LockItem> locks) {
    for (std::size_t i = 0; i < locks.size(); ++i) {
      if (!try_take(table[locks[i].lid], locks[i].mode)) {
        release_locks(rank, locks.first(i));
        return false;
      }
    }
    return true;
  }

  /// Takes lid for group g unless a group it must not overtake waits (ordinary groups need an
  /// empty queue, priority groups no earlier priority group) or it is taken; then queues g.
  bool take_or_queue(Lid lid, std::uint32_t g) {
    VertexLock& l = table[lid];
    const LockMode m = groups[g].locks[groups[g].next_lock].mode;
    if (groups[g].priority ? l.priority_tail == kNone : l.head == kNone) {
      std::uint32_t w = l.word.load(std::memory_order_relaxed);
      for (;;) {
        if (compatible(w, m)) {
          if (l.word.compare_exchange_weak(w, taken(w, m), std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return true;
          }
        } else if ((w & kWaiters) != 0 ||
                   l.word.compare_exchange_weak(w, w | kWaiters, std::memory_order_relaxed)) {
          break;
        }
      }
    }
    enqueue(lid, g);
    return false;
  }

  void enqueue(Lid lid, std::uint32_t g) {
    VertexLock& l = table[lid];
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

  std::uint32_t new_group(int requester, ScopeId scope, bool priority,
                          std::span<const LockItem> locks) {
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
    gr.locks.assign(locks.begin(), locks.end());
    return g;
  }

  /// Takes the group's remaining locks in order until one must wait; grants when all held.
  void advance(std::uint32_t g) {
    for (;;) {
      Group& gr = groups[g];
      if (gr.next_lock == gr.locks.size()) break;
      if (!take_or_queue(gr.locks[gr.next_lock].lid, g)) return;
      ++gr.next_lock;
    }
    const int requester = groups[g].requester;
    const ScopeId scope = groups[g].scope;
    if (requester == rank) {
      free_groups.push_back(g);
      on_reply(scope, rank, true, {});
    } else {
      send_grant(requester, scope, groups[g].locks);
      free_groups.push_back(g);
    }
  }

  void send_grant(int requester, ScopeId scope, std::span<const LockItem> locks) {
    std::vector<std::byte>& out = out_for(requester);
    const std::size_t at = detail::begin_grant(out, scope);
    if (hooks.grant_data) hooks.grant_data(requester, locks, out);
    detail::finish_data(out, at);
  }

  /// Grants waiting groups at the head of lid's queue while they are compatible (so readers
  /// at the head go together); the last one out of the queue clears kWaiters.
  void wake(Lid lid) {
    VertexLock& l = table[lid];
    for (std::uint32_t g = l.head; g != kNone; g = l.head) {
      const LockMode m = groups[g].locks[groups[g].next_lock].mode;
      const bool last = groups[g].next_waiter == kNone;
      std::uint32_t w = l.word.load(std::memory_order_relaxed);
      do {
        if (!compatible(w, m)) return;
      } while (!l.word.compare_exchange_weak(w, taken(w, m) & (last ? ~kWaiters : ~0u),
                                             std::memory_order_acquire, std::memory_order_relaxed));
      l.head = groups[g].next_waiter;
      if (l.head == kNone) l.tail = kNone;
      if (l.priority_tail == g) l.priority_tail = kNone;
      ++groups[g].next_lock;
      advance(g);
    }
  }

  void release_locks(int requester, std::span<const LockItem> locks) {
    for (const LockItem& it : locks) {
      VertexLock& l = table[it.lid];
      const std::uint32_t w = l.word.load(std::memory_order_relaxed);
      if (it.mode == LockMode::kWrite && (w & kWriter) == 0) {
        fail("rank ", requester, " released lid ", it.lid, ", not write-locked");
      }
      if (it.mode == LockMode::kRead && (w & kReaders) == 0) {
        fail("rank ", requester, " released lid ", it.lid, ", not read-locked");
      }
      drop(l, it.mode);
    }
    for (const LockItem& it : locks) wake(it.lid);
  }

  // ---- requester side ----

  void send_try(ScopeId s, std::uint32_t g) {
    const ScopeState& sc = scopes[s];
    const int owner = sc.owner(g);
    if (owner == rank) {
      on_reply(s, rank, try_locks(sc.group(g)), {});
    } else {
      detail::append_lock_request(out_for(owner), detail::LockRecord::kTry, s, sc.priority,
                                  sc.group(g));
    }
  }

  void send_queue(ScopeId s, std::uint32_t g) {
    const int owner = scopes[s].owner(g);
    if (owner == rank) {
      advance(new_group(rank, s, scopes[s].priority, scopes[s].group(g)));
    } else {
      detail::append_lock_request(out_for(owner), detail::LockRecord::kQueue, s, scopes[s].priority,
                                  scopes[s].group(g));
    }
  }

  /// Releases group g of scope s (at its owner, or by a release record with the scope's data).
  void send_release(ScopeId s, std::uint32_t g, bool with_data) {
    const ScopeState& sc = scopes[s];
    const int owner = sc.owner(g);
    if (owner == rank) {
      release_locks(rank, sc.group(g));
      return;
    }
    std::vector<std::byte>& out = out_for(owner);
    const std::size_t at = detail::begin_release(out, sc.group(g));
    if (with_data && hooks.release_data) hooks.release_data(sc.tag, owner, sc.group(g), out);
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
    while (g < sc.groups() && sc.owner(g) != owner) ++g;
    const bool expected =
        g < sc.groups() && (sc.phase == Phase::kTrying ? sc.replies[g] == Reply::kPending
                                                       : granted && g == sc.ordered_next);
    if (!expected) fail("rank ", owner, " sent an unexpected answer for lock scope ", s);
    if (!data.empty() && hooks.receive_grant_data) hooks.receive_grant_data(sc.tag, owner, data);
    if (sc.phase == Phase::kOrdered) {
      if (++sc.ordered_next == sc.groups()) {
        complete(s);
      } else {
        send_queue(s, sc.ordered_next);
      }
      return;
    }
    sc.replies[g] = granted ? Reply::kGranted : Reply::kRefused;
    if (--sc.pending > 0) return;
    std::uint32_t j = 0;
    while (j < sc.groups() && sc.replies[j] == Reply::kGranted) ++j;
    if (j == sc.groups()) {
      ++stats.optimistic;
      complete(s);
      return;
    }
    ++stats.fallbacks;
    sc.phase = Phase::kOrdered;
    sc.ordered_next = j;
    for (std::uint32_t h = j + 1; h < sc.groups(); ++h) {
      if (scopes[s].replies[h] == Reply::kGranted) send_release(s, h, false);
    }
    send_queue(s, j);
  }

  void complete(ScopeId s) {
    scopes[s].phase = Phase::kHeld;
    ready.emplace_back(s, scopes[s].tag);
  }

  ScopeId new_scope(std::span<const LockItem> locks, std::uint64_t tag, bool priority) {
    if (locks.empty()) fail("lock request with no locks");
    for (std::size_t i = 0; i < locks.size(); ++i) {
      const LockItem& it = locks[i];
      if (it.owner < 0 || it.owner >= ranks) fail("lock request for rank ", it.owner);
      if (it.owner == rank && it.lid >= owned) fail("lock request for lid ", it.lid, ", not owned");
      if (i > 0 && !lock_order_less(locks[i - 1], it)) {
        fail("lock request out of the global order at entry ", i);
      }
    }
    ScopeId s;
    if (!free_scopes.empty()) {
      s = free_scopes.back();
      free_scopes.pop_back();
    } else {
      s = static_cast<ScopeId>(scopes.size());
      scopes.emplace_back();
    }
    ScopeState& sc = scopes[s];
    sc.tag = tag;
    sc.priority = priority;
    sc.locks.assign(locks.begin(), locks.end());
    sc.group_begin.clear();
    for (std::uint32_t i = 0; i < locks.size(); ++i) {
      if (i == 0 || locks[i].owner != locks[i - 1].owner) sc.group_begin.push_back(i);
    }
    sc.group_begin.push_back(static_cast<std::uint32_t>(locks.size()));
    sc.replies.assign(sc.groups(), Reply::kPending);
    sc.pending = sc.groups();
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

LockManager::LockManager(int rank, int ranks, Lid num_owned, LockHooks hooks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) fail("lock manager: rank ", rank, " of ", ranks);
  if (!hooks.granted) fail("lock manager: no granted hook");
  impl_ = std::make_unique<Impl>(rank, ranks, num_owned, std::move(hooks));
}

LockManager::~LockManager() = default;

ScopeId LockManager::request(std::span<const LockItem> locks, std::uint64_t tag, bool priority) {
  std::unique_lock lock(impl_->mutex);
  Impl& m = *impl_;
  const ScopeId s = m.new_scope(locks, tag, priority);
  ScopeState& sc = m.scopes[s];
  if (sc.groups() == 1) {
    sc.phase = Phase::kOrdered;
    m.send_queue(s, 0);
  } else {
    sc.phase = Phase::kTrying;
    for (std::uint32_t g = 0, n = sc.groups(); g < n; ++g) m.send_try(s, g);
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
  for (std::uint32_t g = 0, n = m.scopes[s].groups(); g < n; ++g) m.send_release(s, g, true);
  m.scopes[s].phase = Phase::kFree;
  m.free_scopes.push_back(s);
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
    void request(bool is_try, ScopeId scope, bool priority, std::span<const LockItem> locks) {
      if (!is_try) {
        m.advance(m.new_group(source, scope, priority, locks));
      } else if (m.try_locks(locks)) {
        m.send_grant(source, scope, locks);
      } else {
        detail::append_refuse(m.out_for(source), scope);
      }
    }
    void grant(ScopeId scope, std::span<const std::byte> data) {
      m.on_reply(scope, source, true, data);
    }
    void refuse(ScopeId scope) { m.on_reply(scope, source, false, {}); }
    void release(std::span<const LockItem> locks, std::span<const std::byte> data) {
      if (!data.empty() && m.hooks.receive_release_data) m.hooks.receive_release_data(source, data);
      m.release_locks(source, locks);
    }
  };
  std::unique_lock lock(m.mutex);
  Visitor v{m, source};
  detail::decode_lock_batch(batch, source, m.rank, m.owned, m.scratch, v);
  m.notify(lock);
}

bool LockManager::try_lock_local(std::span<const LockItem> locks) {
  Impl& m = *impl_;
  for (std::size_t i = 0; i < locks.size(); ++i) {
    const LockItem& it = locks[i];
    if (it.owner != m.rank || it.lid >= m.owned) {
      fail("lock manager: local lock of rank ", it.owner, " lid ", it.lid);
    }
    if (!try_take(m.table[it.lid], it.mode)) {
      unlock_local(locks.first(i));
      return false;
    }
  }
  return true;
}

void LockManager::unlock_local(std::span<const LockItem> locks) {
  Impl& m = *impl_;
  bool waiters = false;
  for (const LockItem& it : locks) waiters |= (drop(m.table[it.lid], it.mode) & kWaiters) != 0;
  if (!waiters) return;
  std::unique_lock lock(m.mutex);
  for (const LockItem& it : locks) m.wake(it.lid);
  m.notify(lock);
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
