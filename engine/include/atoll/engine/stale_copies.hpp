// Which ranks' copies of each owned vertex are older than the owner's: a bitmap per rank, one
// bit a vertex (a rank's bits stay in cache while grants test them at random: 40 KB for 320k
// vertices). An update sets its vertex's bits at the ranks holding a copy; a grant sends the
// data to a rank whose bit is set and clears it. Every access to a vertex's bit happens while
// that vertex is locked (an update under its write lock; grants and released writes under the
// lock manager's mutex with the vertex locked for the scope), so the lock orders them and
// relaxed atomics suffice; a word holds 64 vertices' bits, so bits change by atomic or/and.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "atoll/graph/ids.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

class StaleCopies {
 public:
  /// No copy stale, for `owned` vertices and `ranks` ranks.
  StaleCopies(Lid owned, int ranks)
      : words_((static_cast<std::size_t>(owned) + 63) / 64),
        ranks_(ranks),
        bits_(std::make_unique<std::atomic<std::uint64_t>[]>(words_ *
                                                             static_cast<std::size_t>(ranks))) {}

  /// v changed: the copies at its replicas are stale, except (when >= 0) the one at
  /// `current_rank`. Only a rank holding a copy of v ever takes v's bit.
  void changed(Lid v, std::span<const Replica> replicas, int current_rank = -1) {
    for (const Replica& r : replicas) {
      if (r.rank != current_rank) set(v, r.rank);
    }
  }
  /// v changed: every rank's copy is stale except (when >= 0) the one at `current_rank`.
  void changed(Lid v, int current_rank = -1) {
    for (int r = 0; r < ranks_; ++r) {
      if (r != current_rank) set(v, r);
    }
  }
  /// Whether `rank`'s copy of v is stale; it is current from now on (the caller sends it).
  bool take(Lid v, int rank) {
    std::atomic<std::uint64_t>& w = word(v, rank);
    const std::uint64_t bit = std::uint64_t{1} << (v % 64);
    if ((w.load(std::memory_order_relaxed) & bit) == 0) return false;
    w.fetch_and(~bit, std::memory_order_relaxed);
    return true;
  }

  /// Appends every vertex whose copy is stale at some rank, in lid order. The bits stay set:
  /// a caller that sends the data alone (a ghost push, with no version) leaves the version to
  /// the next grant. Not concurrent with changes (between phases).
  void list(std::vector<Lid>& out) const {
    for (std::size_t i = 0; i < words_; ++i) {
      std::uint64_t any = 0;
      for (int r = 0; r < ranks_; ++r) {
        any |= bits_[static_cast<std::size_t>(r) * words_ + i].load(std::memory_order_relaxed);
      }
      for (; any != 0; any &= any - 1) {
        out.push_back(static_cast<Lid>(i * 64 + static_cast<std::size_t>(std::countr_zero(any))));
      }
    }
  }

 private:
  std::atomic<std::uint64_t>& word(Lid v, int rank) {
    return bits_[static_cast<std::size_t>(rank) * words_ + v / 64];
  }
  void set(Lid v, int rank) {
    std::atomic<std::uint64_t>& w = word(v, rank);
    const std::uint64_t bit = std::uint64_t{1} << (v % 64);
    if ((w.load(std::memory_order_relaxed) & bit) == 0) w.fetch_or(bit, std::memory_order_relaxed);
  }

  std::size_t words_;  ///< per rank
  int ranks_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;
};

}  // namespace atl
