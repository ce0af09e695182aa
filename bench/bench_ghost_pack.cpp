// Packing a dense ghost batch: the 8-byte slots of a rank's boundary vertices (sorted lids,
// half of all local vertices) gathered into one buffer, as GhostSync does for every peer.
//   BM_PackSerial/SLOTS          gather_slots on the calling thread (before session 28)
//   BM_PackBlocks/SLOTS/THREADS  gather_slot_blocks: blocks of 16K lids over THREADS workers
//   BM_Unpack/SLOTS/THREADS      copy_bytes_parallel of the received batch into the ghosts
// Items are slots; compare medians: build/bench/bench_ghost_pack --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <cstdint>
#include <random>
#include <vector>

#include "slot_gather.hpp"

namespace {

using atl::Lid;

/// `slots` sorted distinct lids among 2 x slots values.
struct Batch {
  std::vector<double> data;
  std::vector<Lid> lids;
  std::vector<std::byte> out;
  explicit Batch(std::size_t slots) : data(2 * slots), out(slots * sizeof(double)) {
    std::mt19937_64 random(7);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<double>(random());
    for (Lid v = 0; v < data.size(); ++v) {
      if (lids.size() < slots && (random() & 1) != 0) lids.push_back(v);
    }
    while (lids.size() < slots) lids.push_back(static_cast<Lid>(lids.size()));  // rare
  }
  const std::byte* bytes() const { return reinterpret_cast<const std::byte*>(data.data()); }
};

void BM_PackSerial(benchmark::State& state) {
  Batch b(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(atl::detail::gather_slots(b.out.data(), b.bytes(), 8, b.lids));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_PackBlocks(benchmark::State& state) {
  Batch b(static_cast<std::size_t>(state.range(0)));
  const auto threads = static_cast<int>(state.range(1));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  std::vector<atl::detail::SlotBlock> blocks;
  for (auto _ : state) {
    arena.execute([&] {
      blocks.clear();
      atl::detail::add_slot_blocks(blocks, b.out.data(), 8, b.lids);
      atl::detail::gather_slot_blocks(blocks, b.bytes(), 8);
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_Unpack(benchmark::State& state) {
  Batch b(static_cast<std::size_t>(state.range(0)));
  const auto threads = static_cast<int>(state.range(1));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  std::byte* ghosts = reinterpret_cast<std::byte*>(b.data.data());
  for (auto _ : state) {
    arena.execute([&] { atl::detail::copy_bytes_parallel(ghosts, b.out.data(), b.out.size()); });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// 300K slots: a kron20 rank's boundary on 2 ranks; 4M: a scale-24 graph's.
BENCHMARK(BM_PackSerial)->Arg(300000)->Arg(4000000)->UseRealTime();
BENCHMARK(BM_PackBlocks)->ArgsProduct({{300000, 4000000}, {1, 2}})->UseRealTime();
BENCHMARK(BM_Unpack)->ArgsProduct({{300000, 4000000}, {1, 2}})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
