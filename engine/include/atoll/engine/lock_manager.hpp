// Distributed reader-writer locks for the locking engine: one lock per owned vertex, held at
// its owner. A scope asks for all its locks at once and is told by a callback when it holds
// them; no thread ever waits. A scope names its locks at this rank one by one and its locks at
// each other rank by one key, which that rank expands (for the engine: the ghost whose scope it
// is), so a request or release costs a few bytes however many vertices it covers. Each lock is
// FIFO (readers at the head are granted together); scopes marked `priority` (very high degree)
// jump the queue. Requests, grants and releases for another rank are appended to that rank's
// batch, which the engine takes and sends; batches from a rank must be delivered in the order
// they were taken. docs/locking.md has the design.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "atoll/graph/ids.hpp"

namespace atl {

enum class LockMode : std::uint8_t { kRead = 0, kWrite = 1 };

/// One lock a scope needs at the requesting rank: the vertex's owner (this rank), lid, mode.
struct LockItem {
  int owner = 0;
  Lid lid = 0;
  LockMode mode = LockMode::kRead;
};

/// A scope's locks at another rank: `owner` expands `key` into lids there (LockHooks::expand),
/// each taken in `mode`.
struct RemoteGroup {
  int owner = 0;
  Lid key = 0;
  LockMode mode = LockMode::kRead;
};

/// The global lock order: (owner rank, lid at the owner). Owned lids follow gid order, so this
/// is the order of (owner rank, gid). A scope's locks must be strictly increasing in it.
inline bool lock_order_less(const LockItem& a, const LockItem& b) {
  return a.owner != b.owner ? a.owner < b.owner : a.lid < b.lid;
}

/// A scope's handle while it waits for or holds its locks (reused after release).
using ScopeId = std::uint32_t;

/// What the manager calls. `granted` and `outgoing` run on the thread whose call completed
/// them, outside the manager's mutex; `expand` and the data hooks run under it and must not
/// call the manager. `granted` is required, and `expand` with more than one rank.
struct LockHooks {
  /// The scope holds all its locks (possibly before request() has returned).
  std::function<void(ScopeId, std::uint64_t tag)> granted;
  /// `peer`'s outgoing batch went from empty to non-empty: take_batch(peer) soon.
  std::function<void(int peer)> outgoing;
  /// Owner: the lids here (strictly increasing) of the group `requester` names by `key`, the
  /// same each time it is asked; throws an Error for a key `requester` may not name.
  std::function<std::span<const Lid>(int requester, Lid key)> expand;
  /// Owner: append the data to send with the grant of `lids` (here) to `requester`.
  std::function<void(int requester, std::span<const Lid> lids, std::vector<std::byte>& out)>
      grant_data;
  /// Requester: the non-empty data `owner` sent with its grant to the scope `tag`.
  std::function<void(std::uint64_t tag, int owner, std::span<const std::byte> data)>
      receive_grant_data;
  /// Requester, at release: append the data to return to `owner` (ghosts the scope wrote).
  std::function<void(std::uint64_t tag, int owner, std::vector<std::byte>& out)> release_data;
  /// Owner: the non-empty data that came with a release, applied before the locks are freed.
  std::function<void(int requester, std::span<const std::byte> data)> receive_release_data;
};

/// Counters since construction.
struct LockStats {
  std::uint64_t scopes = 0;       ///< scopes requested
  std::uint64_t optimistic = 0;   ///< scopes over several ranks granted by the first try
  std::uint64_t fallbacks = 0;    ///< ... refused somewhere, then acquired rank by rank
  std::uint64_t waits = 0;        ///< times a lock request joined a queue
  std::uint64_t batch_bytes = 0;  ///< bytes taken for sending
};

class LockManager {
 public:
  /// This rank of `ranks`, owning the vertices with lids [0, num_owned). `serial` (a rank
  /// with one worker): try_lock_local and unlock_local take the mutex too, and lock words then
  /// change by plain stores instead of atomic read-modify-writes (faster when uncontended).
  LockManager(int rank, int ranks, Lid num_owned, LockHooks hooks, bool serial = false);
  ~LockManager();
  LockManager(const LockManager&) = delete;
  LockManager& operator=(const LockManager&) = delete;

  /// Asks for `local` (owned here, strictly increasing lids) and the `remote` groups (strictly
  /// increasing owners, none this rank); at least one lock or group. `tag` comes back with the
  /// grant. Throws an Error for a malformed request.
  ScopeId request(std::span<const LockItem> local, std::span<const RemoteGroup> remote,
                  std::uint64_t tag, bool priority = false);
  /// Releases every lock of a granted scope; its id may be reused afterwards.
  void release(ScopeId scope);
  /// Prepares `count` scope states, `large` of them with room for `large_locks` locks at this
  /// rank, so that requests allocate nothing during a run (memory touched for the first time
  /// can stall a worker for milliseconds while the kernel assembles a huge page).
  void reserve(std::size_t count, std::size_t large, std::size_t large_locks);

  /// Takes all of `locks` (each owned here) at once without the manager's mutex (unless
  /// serial), or none:
  /// never waits, and fails while any of them is taken in a conflicting mode or has waiters.
  /// The fast path for a scope with no remote vertex; such a scope has no ScopeId.
  bool try_lock_local(std::span<const LockItem> locks);
  /// Releases what try_lock_local took (waking the waiters it finds, under the mutex).
  void unlock_local(std::span<const LockItem> locks);

  /// Applies a batch from `source`; malformed bytes are an Error naming the source.
  void deliver(int source, std::span<const std::byte> batch);
  /// Moves `peer`'s pending batch into `out` (cleared first); false when there is none.
  bool take_batch(int peer, std::vector<std::byte>& out);
  /// Whether some peer's batch is waiting to be taken (a rank is passive only when none is).
  bool has_outgoing() const;

  LockStats stats() const;
  /// Scopes requested and not yet released (waiting or holding).
  std::size_t active_scopes() const;

 private:
  /// unlock_local with `lock` on the mutex: held (serial) or taken only if a waiter is woken.
  void unlock_local(std::span<const LockItem> locks, std::unique_lock<std::mutex>& lock);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace atl
