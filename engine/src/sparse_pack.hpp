// Packing and unpacking sparse ghost batches ((lid at the peer, data) for each changed vertex
// and replica) in parallel blocks. Packing: claim() takes each listed vertex once and counts
// its entries per peer and block, write() puts every block's entries at offsets from those
// counts; a batch holds its entries in list order, as a serial walk would (a vertex listed
// twice goes with one of its listings). Unpacking: scatter_entries() over checked entries.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "atoll/common/error.hpp"
#include "atoll/graph/topology.hpp"
#include "batch_decode.hpp"
#include "slot_gather.hpp"

namespace atl::detail {

class SparsePack {
 public:
  /// `lists` cut into blocks of at most kSlotBlockLids lids, for `peers` peers.
  SparsePack(std::span<const std::span<const Lid>> lists, std::size_t peers) : peers_(peers) {
    for (std::span<const Lid> list : lists) {
      for (std::size_t i = 0; i < list.size(); i += kSlotBlockLids) {
        blocks_.push_back({list.subspan(i, std::min(kSlotBlockLids, list.size() - i)), {}, {}});
      }
    }
  }

  /// Claims every listed lid whose mark is not `stamp` (marking it), and returns the entries
  /// for each peer: one per replica of a claimed lid. A lid that is not owned is an error.
  std::vector<std::uint64_t> claim(const Topology& graph, std::span<std::uint32_t> mark,
                                   std::uint32_t stamp) {
    const bool shared = blocks_.size() > 1 && tbb::this_task_arena::max_concurrency() > 1;
    over_blocks([&](Block& block) {
      block.count.assign(peers_, 0);
      block.claimed.reserve(block.lids.size());
      for (const Lid v : block.lids) {
        if (v >= mark.size()) fail("ghost push: lid ", v, " is not owned");
        bool listed_before = false;
        if (shared) {
          listed_before = std::atomic_ref<std::uint32_t>(mark[v]).exchange(
                              stamp, std::memory_order_relaxed) == stamp;
        } else {
          listed_before = mark[v] == stamp;
          mark[v] = stamp;
        }
        if (listed_before) continue;
        std::span<const Replica> reps = graph.replicas(v);
        if (reps.empty()) continue;
        block.claimed.push_back(v);
        for (const Replica& r : reps) ++block.count[static_cast<std::size_t>(r.rank)];
      }
    });
    std::vector<std::uint64_t> total(peers_, 0);
    for (const Block& block : blocks_) {
      for (std::size_t p = 0; p < peers_; ++p) total[p] += block.count[p];
    }
    return total;
  }

  /// Writes the claimed lids' entries for each peer p with out[p] set (the first byte of its
  /// entries; others are skipped): the replica's lid, then the `bytes` of data[v].
  void write(std::span<std::byte* const> out, const std::byte* data, std::size_t bytes,
             const Topology& graph) {
    const std::size_t entry = sizeof(Lid) + bytes;
    std::vector<std::byte*> next(out.begin(), out.end());
    for (Block& block : blocks_) {  // each block's counts become its first entry's places
      for (std::size_t p = 0; p < peers_; ++p) {
        const std::uint64_t n = block.count[p];
        block.count[p] = next[p] == nullptr ? 0 : static_cast<std::uint64_t>(next[p] - out[p]);
        if (next[p] != nullptr) next[p] += n * entry;
      }
    }
    over_blocks([&](Block& block) {
      for (const Lid v : block.claimed) {
        for (const Replica& r : graph.replicas(v)) {
          const std::size_t p = static_cast<std::size_t>(r.rank);
          if (out[p] == nullptr) continue;
          std::byte* const to = out[p] + block.count[p];
          std::memcpy(to, &r.lid, sizeof(Lid));
          std::memcpy(to + sizeof(Lid), data + std::size_t{v} * bytes, bytes);
          block.count[p] += entry;
        }
      }
    });
  }

 private:
  struct Block {
    std::span<const Lid> lids;
    std::vector<Lid> claimed;          ///< lids this block writes, in list order
    std::vector<std::uint64_t> count;  ///< per peer: entries, then write()'s byte offset
  };

  /// fn(block) for every block, in parallel when there are several (isolated: the caller may
  /// be a task that must not pick up outer work while it waits).
  template <typename Fn>
  void over_blocks(Fn&& fn) {
    if (blocks_.size() == 1) {
      fn(blocks_[0]);
      return;
    }
    if (blocks_.empty()) return;
    tbb::this_task_arena::isolate([&] {
      tbb::parallel_for(std::size_t{0}, blocks_.size(), [&](std::size_t b) { fn(blocks_[b]); });
    });
  }

  std::vector<Block> blocks_;
  std::size_t peers_;
};

/// Unpacks a sparse batch's checked entries: data(i) to the slot of lid(i) in `data` (and in
/// `mirror` when not null), and (when not null) appends the lids to `written` in entry order.
/// In blocks of kSlotBlockLids entries over the caller's arena (isolated). A sender never
/// names a lid twice in a batch (claim()). A faulty one that did would have two blocks write
/// that slot at once: a data race confined to the slot (its bytes a mix of the two values, as
/// if it had sent garbage), never a write outside the sender's ghost range.
inline void scatter_entries(const SparseEntries& entries, std::byte* data, std::byte* mirror,
                            std::size_t bytes, std::vector<Lid>* written) {
  const std::uint64_t n = entries.size();
  const std::size_t first = written != nullptr ? written->size() : 0;
  if (written != nullptr) written->resize(first + n);
  auto block = [&](std::uint64_t begin, std::uint64_t end) {
    for (std::uint64_t i = begin; i < end; ++i) {
      const Lid v = entries.lid(i);
      std::memcpy(data + std::size_t{v} * bytes, entries.data(i), bytes);
      if (mirror != nullptr) std::memcpy(mirror + std::size_t{v} * bytes, entries.data(i), bytes);
      if (written != nullptr) (*written)[first + i] = v;
    }
  };
  if (n <= kSlotBlockLids) {
    block(0, n);
    return;
  }
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(
        std::uint64_t{0}, (n + kSlotBlockLids - 1) / kSlotBlockLids, [&](std::uint64_t b) {
          block(b * kSlotBlockLids, std::min<std::uint64_t>(n, (b + 1) * kSlotBlockLids));
        });
  });
}

}  // namespace atl::detail
