// The versioned ghost cache rule of the locking engine. Every local vertex has a version: at
// its owner the version of the vertex's data, at a ghost the version of the cached copy
// (0: never received). The owner sends the data with a grant only when the requester's copy is
// stale (StaleCopies), and the requester installs what is newer than its copy. A scope that
// wrote a ghost (full consistency) bumps it and sends the data back with its release, which
// the owner applies before it frees the lock.
//
// The invariant that makes the engine serializable: while a scope holds a lock on v (read or
// write), the copy of v it reads has the owner's current version, and v's version changes
// only under a write lock, by one per update that changed v's data (one that left it as it
// was keeps the version: every copy stays as current as it was), at the copy that update
// wrote, which reaches the owner before that lock is released. So each update reads exactly the
// versions written by the updates that released v's lock before it acquired it; since every update
// takes all its locks before it runs and frees them after (two-phase locking), the order of lock
// acquisitions at each vertex is one serial order consistent with every read and write of the run.
// Under oriented edge consistency (scope_locks.hpp) a scope also reads higher neighbours it does
// not lock; such a neighbour w read-locks this scope's centre in its own updates, so none of them
// overlaps this one, and each pushed w's new copy here before it freed that lock (unless
// the copy here was current already): the copy read is again the one of the last update of w
// ordered before this one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "atoll/graph/ids.hpp"

namespace atl {

class VertexVersions {
 public:
  /// All versions 0 for lids [0, num_vertices) (owned then ghosts).
  explicit VertexVersions(Lid num_vertices)
      : size_(num_vertices), v_(std::make_unique<std::atomic<std::uint64_t>[]>(num_vertices)) {}

  Lid size() const { return size_; }
  /// The version of v's local copy (a hint when read without v's lock, as requests do).
  std::uint64_t get(Lid v) const { return v_[v].load(std::memory_order_acquire); }
  /// An update wrote v under its write lock: the new version. One writer at a time (the lock,
  /// or the scheduler's running state, orders them), so a load and a store, not an RMW.
  std::uint64_t bump(Lid v) {
    const std::uint64_t next = v_[v].load(std::memory_order_relaxed) + 1;
    v_[v].store(next, std::memory_order_release);
    return next;
  }
  /// Data of `version` arrived for v: true (and recorded) when newer than the copy here, so
  /// the caller must install the data; false: the copy is current, leave it (a reader may use
  /// it). Called under the lock manager's mutex, so never concurrently for one vertex.
  bool install(Lid v, std::uint64_t version) {
    if (version <= get(v)) return false;
    v_[v].store(version, std::memory_order_release);
    return true;
  }

 private:
  Lid size_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> v_;
};

}  // namespace atl
