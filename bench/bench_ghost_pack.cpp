// Packing a dense ghost batch: the 8-byte slots of a rank's boundary vertices (sorted lids,
// half of all local vertices) gathered into one buffer, as GhostSync does for every peer.
//   BM_PackSerial/SLOTS          gather_slots on the calling thread (before session 28)
//   BM_PackBlocks/SLOTS/THREADS  gather_slot_blocks: blocks of 16K lids over THREADS workers
//   BM_Unpack/SLOTS/THREADS      copy_bytes_parallel of the received batch into the ghosts
//   BM_PackSparse/CHANGED/THREADS  SparsePack: (lid, data) entries of CHANGED vertices (two
//                                workers' lists) for 3 peers, each vertex copied on 1-3 of them
//                                (THREADS 1: the blocks one after another, as the serial
//                                walk before session 29)
//   BM_UnpackSparse/CHANGED/THREADS  scatter_entries of a sparse batch of CHANGED entries
// Items are slots; compare medians: build/bench/bench_ghost_pack --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "atoll/graph/topology.hpp"
#include "slot_gather.hpp"
#include "sparse_pack.hpp"

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

/// 2 x CHANGED owned vertices (a path), each copied on peers 1..3 where v % (p + 1) == 0 (or
/// on peer 1), and two lists of CHANGED random distinct vertices between them.
struct SparseBatch {
  atl::Topology graph;
  std::vector<double> data;
  std::vector<Lid> lists[2];
  explicit SparseBatch(std::size_t changed) : data(2 * changed) {
    const Lid n = static_cast<Lid>(2 * changed);
    atl::EdgeList edges;
    for (Lid v = 0; v + 1 < n; ++v) edges.edges.push_back({v, v + 1});
    graph = atl::Topology::build(edges);
    std::vector<std::uint64_t> offsets(n + 1, 0);
    std::vector<atl::Replica> replicas;
    for (Lid v = 0; v < n; ++v) {
      for (int p = 1; p < 4; ++p) {
        if (v % static_cast<Lid>(p + 1) == 0 || (p == 1 && v % 2 != 0))
          replicas.push_back({p, v + static_cast<Lid>(p)});
      }
      offsets[v + 1] = replicas.size();
    }
    graph.set_replicas(std::move(offsets), std::move(replicas));
    std::mt19937_64 random(7);
    for (Lid v = 0; v < n; ++v) {
      if ((random() & 1) != 0) lists[v % 2].push_back(v);
    }
  }
};

void BM_PackSparse(benchmark::State& state) {
  SparseBatch b(static_cast<std::size_t>(state.range(0)));
  const auto threads = static_cast<int>(state.range(1));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  std::vector<std::uint32_t> mark(b.graph.num_owned(), 0);
  const std::span<const Lid> lists[2] = {b.lists[0], b.lists[1]};
  std::vector<std::vector<std::byte>> out(4);
  std::uint32_t stamp = 0;
  for (auto _ : state) {
    arena.execute([&] {
      atl::detail::SparsePack sparse(lists, 4);
      const std::vector<std::uint64_t> count = sparse.claim(b.graph, mark, ++stamp);
      std::vector<std::byte*> at(4, nullptr);
      for (std::size_t p = 1; p < 4; ++p) {
        out[p].resize(count[p] * (sizeof(Lid) + 8));
        at[p] = out[p].data();
      }
      sparse.write(at, reinterpret_cast<const std::byte*>(b.data.data()), 8, b.graph);
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * (b.lists[0].size() + b.lists[1].size()));
}

void BM_UnpackSparse(benchmark::State& state) {
  // CHANGED entries for random distinct ghosts among 2 x CHANGED, scattered into their slots.
  const auto changed = static_cast<std::size_t>(state.range(0));
  const auto threads = static_cast<int>(state.range(1));
  Batch b(changed);
  std::vector<std::byte> batch(changed * (sizeof(Lid) + 8));
  for (std::size_t i = 0; i < changed; ++i) {
    std::memcpy(batch.data() + i * (sizeof(Lid) + 8), &b.lids[i], sizeof(Lid));
    std::memcpy(batch.data() + i * (sizeof(Lid) + 8) + sizeof(Lid), &b.data[i], 8);
  }
  const atl::detail::SparseEntries entries(batch.data(), changed, 8);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  std::vector<Lid> written;
  for (auto _ : state) {
    written.clear();
    arena.execute([&] {
      atl::detail::scatter_entries(entries, reinterpret_cast<std::byte*>(b.data.data()), nullptr, 8,
                                   &written);
    });
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// 300K slots: a kron20 rank's boundary on 2 ranks; 4M: a scale-24 graph's.
BENCHMARK(BM_PackSerial)->Arg(300000)->Arg(4000000)->UseRealTime();
BENCHMARK(BM_PackBlocks)->ArgsProduct({{300000, 4000000}, {1, 2}})->UseRealTime();
BENCHMARK(BM_Unpack)->ArgsProduct({{300000, 4000000}, {1, 2}})->UseRealTime();
BENCHMARK(BM_PackSparse)->ArgsProduct({{100000, 1000000}, {1, 2}})->UseRealTime();
BENCHMARK(BM_UnpackSparse)->ArgsProduct({{100000, 1000000}, {1, 2}})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
