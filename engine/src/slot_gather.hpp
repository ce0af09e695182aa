// Gathering fixed-size slots (vertex data moved as bytes) into a contiguous buffer, with the
// common sizes copied as whole words instead of one memcpy call per slot.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "atoll/graph/topology.hpp"

namespace atl::detail {

/// Copies the `bytes`-sized slot of each lid in `lids`, in order, from `data` to `out`;
/// returns the end of what was written.
inline std::byte* gather_slots(std::byte* out, const std::byte* data, std::size_t bytes,
                               std::span<const Lid> lids) {
  auto words = [&]<std::size_t kBytes>() {
    for (Lid v : lids) {
      std::memcpy(out, data + std::size_t{v} * kBytes, kBytes);  // a constant size: one move
      out += kBytes;
    }
  };
  switch (bytes) {
    case 4:
      words.template operator()<4>();
      break;
    case 8:
      words.template operator()<8>();
      break;
    case 16:
      words.template operator()<16>();
      break;
    default:
      for (Lid v : lids) {
        std::memcpy(out, data + std::size_t{v} * bytes, bytes);
        out += bytes;
      }
  }
  return out;
}

/// One run of slots to gather: `lids`' slots go to `out` onwards.
struct SlotBlock {
  std::byte* out;
  std::span<const Lid> lids;
};

/// Lids a task gathers (128 KB of 8-byte slots): large batches split over the workers, small
/// ones stay one task.
inline constexpr std::size_t kSlotBlockLids = std::size_t{1} << 14;

/// Appends `lids` to `blocks` in runs of kSlotBlockLids, the first slot going to `out`.
inline void add_slot_blocks(std::vector<SlotBlock>& blocks, std::byte* out, std::size_t bytes,
                            std::span<const Lid> lids) {
  for (std::size_t i = 0; i < lids.size(); i += kSlotBlockLids) {
    blocks.push_back({out + i * bytes, lids.subspan(i, std::min(kSlotBlockLids, lids.size() - i))});
  }
}

/// gather_slots for every block, in parallel (blocks write disjoint ranges). Isolated: a
/// caller inside a task never picks up outer work (a worker loop) while it waits here.
inline void gather_slot_blocks(std::span<const SlotBlock> blocks, const std::byte* data,
                               std::size_t bytes) {
  if (blocks.empty()) return;
  if (blocks.size() == 1) {
    gather_slots(blocks[0].out, data, bytes, blocks[0].lids);
    return;
  }
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(std::size_t{0}, blocks.size(), [&](std::size_t b) {
      gather_slots(blocks[b].out, data, bytes, blocks[b].lids);
    });
  });
}

/// memcpy in parallel pieces of 1 MB (one piece, on the caller, when smaller).
inline void copy_bytes_parallel(std::byte* to, const std::byte* from, std::size_t n) {
  constexpr std::size_t kPiece = std::size_t{1} << 20;
  if (n <= kPiece) {
    std::memcpy(to, from, n);
    return;
  }
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kPiece),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        std::memcpy(to + r.begin(), from + r.begin(), r.size());
                      });
  });
}

}  // namespace atl::detail
