// Which ranks' copies of each owned vertex are older than the owner's: a bit per (vertex,
// rank). An update sets its vertex's bits; a grant sends the data to a rank whose bit is set
// and clears it. Every access to a vertex's bits happens while that vertex is locked (an
// update under its write lock; grants and released writes under the lock manager's mutex with
// the vertex locked for the scope), so the lock orders them and relaxed atomics suffice.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "atoll/graph/ids.hpp"

namespace atl {

class StaleCopies {
 public:
  /// No copy stale, for `owned` vertices and `ranks` ranks.
  StaleCopies(Lid owned, int ranks)
      : words_((static_cast<std::size_t>(ranks) + 63) / 64),
        bits_(std::make_unique<std::atomic<std::uint64_t>[]>(owned * words_)) {}

  /// v changed: every copy is stale except (when >= 0) the one at `current_rank`.
  void changed(Lid v, int current_rank = -1) {
    std::atomic<std::uint64_t>* w = &bits_[v * words_];
    for (std::size_t i = 0; i < words_; ++i)
      w[i].store(~std::uint64_t{0}, std::memory_order_relaxed);
    if (current_rank >= 0) clear(v, current_rank);
  }
  /// Whether `rank`'s copy of v is stale; it is current from now on (the caller sends it).
  bool take(Lid v, int rank) {
    std::atomic<std::uint64_t>& w = bits_[v * words_ + static_cast<std::size_t>(rank) / 64];
    const std::uint64_t bit = std::uint64_t{1} << (rank % 64);
    const std::uint64_t word = w.load(std::memory_order_relaxed);
    if ((word & bit) == 0) return false;
    w.store(word & ~bit, std::memory_order_relaxed);
    return true;
  }

 private:
  void clear(Lid v, int rank) { take(v, rank); }

  std::size_t words_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;
};

}  // namespace atl
