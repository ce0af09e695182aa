// Parallel stable LSD radix sort of records by an unsigned integer key.
//
// Each pass counts digits per chunk, turns the counts into bucket-major offsets (all of bucket
// 0 from chunk 0, then chunk 1, ..., then bucket 1, ...), and scatters each chunk in order.
// Equal keys therefore keep their input order, and the result is the same for any thread
// count. Passes whose digit is the same for every record are skipped.
#pragma once

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace atl::detail {

/// A buffer of n uninitialised records (no zero-fill: the sort writes every slot).
template <typename Rec>
struct RecordBuffer {
  std::unique_ptr<Rec[]> data;
  std::size_t size = 0;
  explicit RecordBuffer(std::size_t n = 0)
      : data(std::make_unique_for_overwrite<Rec[]>(n)), size(n) {}
  std::span<Rec> span() { return {data.get(), size}; }
  Rec& operator[](std::size_t i) { return data[i]; }
  const Rec& operator[](std::size_t i) const { return data[i]; }
};

/// Sorts records stably by key(rec) < 2^key_bits; scratch must have records.size entries.
template <typename Rec, typename KeyFn>
void radix_sort(RecordBuffer<Rec>& records, RecordBuffer<Rec>& scratch, unsigned key_bits,
                KeyFn key) {
  const std::size_t n = records.size;
  if (n < 2 || key_bits == 0) return;
  const unsigned passes = (key_bits + 10) / 11;
  const unsigned digit_bits = (key_bits + passes - 1) / passes;
  const std::size_t buckets = std::size_t{1} << digit_bits;
  const std::size_t threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  const std::size_t chunks = std::clamp<std::size_t>(n / (1u << 16), 1, 4 * threads);
  const std::size_t chunk_size = (n + chunks - 1) / chunks;
  std::vector<std::size_t> offsets(chunks * buckets);

  for (unsigned pass = 0; pass < passes; ++pass) {
    const unsigned shift = pass * digit_bits;
    const std::uint64_t mask = buckets - 1;
    const Rec* in = records.data.get();
    Rec* out = scratch.data.get();
    tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
      std::size_t* count = offsets.data() + c * buckets;
      std::fill(count, count + buckets, 0);
      for (std::size_t i = c * chunk_size, end = std::min(n, i + chunk_size); i < end; ++i) {
        ++count[(static_cast<std::uint64_t>(key(in[i])) >> shift) & mask];
      }
    });
    std::size_t running = 0;
    std::size_t nonempty = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      std::size_t before = running;
      for (std::size_t c = 0; c < chunks; ++c) {
        std::size_t count = offsets[c * buckets + b];
        offsets[c * buckets + b] = running;
        running += count;
      }
      nonempty += running != before;
    }
    if (nonempty <= 1) continue;  // every record has the same digit: nothing moves
    tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
      std::size_t* cursor = offsets.data() + c * buckets;
      for (std::size_t i = c * chunk_size, end = std::min(n, i + chunk_size); i < end; ++i) {
        out[cursor[(static_cast<std::uint64_t>(key(in[i])) >> shift) & mask]++] = in[i];
      }
    });
    std::swap(records.data, scratch.data);
  }
}

/// Sorts values[0, len), each below 2^bits (bits <= 32), serially by LSD passes of at most 11
/// bits (their counters stay in L1) through `scratch` and `counts`, a caller's buffers kept
/// from call to call. For a row of ids: a few passes over it, where a comparison sort of a
/// long row takes log2(len).
inline void radix_sort_ids(std::uint32_t* values, std::size_t len, unsigned bits,
                           std::vector<std::uint32_t>& scratch,
                           std::vector<std::uint32_t>& counts) {
  if (len < 2) return;
  if (len > std::uint64_t{0xffffffffu}) {  // counters are 32 bits
    std::sort(values, values + len);
    return;
  }
  if (scratch.size() < len) scratch.resize(len);
  const unsigned passes = std::max(1u, (bits + 10) / 11);
  const unsigned digit = (bits + passes - 1) / passes;
  const std::uint32_t mask = digit == 0 ? 0 : (std::uint32_t{1} << digit) - 1;
  counts.resize(std::size_t{mask} + 2);
  std::uint32_t* from = values;
  std::uint32_t* to = scratch.data();
  for (unsigned shift = 0; shift < bits; shift += digit) {
    std::fill(counts.begin(), counts.end(), 0);
    for (std::size_t i = 0; i < len; ++i) ++counts[((from[i] >> shift) & mask) + 1];
    for (std::size_t b = 0; b <= mask; ++b) counts[b + 1] += counts[b];
    for (std::size_t i = 0; i < len; ++i) to[counts[(from[i] >> shift) & mask]++] = from[i];
    std::swap(from, to);
  }
  if (from != values) std::copy(from, from + len, values);
}

}  // namespace atl::detail
