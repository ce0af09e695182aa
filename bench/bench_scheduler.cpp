// Scheduler throughput: schedule + pop per kind (fifo, sweep, priority) on 1 and 2 threads.
//   BM_Round/KIND/DENSE/BATCH  one round: every thread schedules its share of the round's
//                              vertices, one thread begins the round, every thread pops until
//                              it is exhausted (each thread schedules a contiguous share). DENSE=1:
//                              all kSize vertices; DENSE=0: 1% of them (random, distinct). BATCH=1
//                              pops with pop_batch().
// Items are the vertices of a round (each scheduled once and popped once). Compare runs by
// their medians: build/bench/bench_scheduler --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <barrier>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "atoll/engine/scheduler.hpp"

namespace {

using atl::Scheduler;
using atl::SchedulerKind;

constexpr std::uint32_t kSize = 1u << 20;
constexpr std::uint32_t kSparse = kSize / 100;

/// What the threads of one benchmark run share; built by setup() before they start.
struct Shared {
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<std::barrier<>> sync;
  std::vector<std::uint32_t> sparse;  // kSparse distinct random indices
};
Shared g;

SchedulerKind kind_of(const benchmark::State& state) {
  return static_cast<SchedulerKind>(state.range(0));
}

double priority_of(std::uint32_t i) {
  return static_cast<double>((i * 2654435761u) % 1000);
}

void setup_round(const benchmark::State& state) {
  g.scheduler = atl::make_scheduler(kind_of(state), kSize, static_cast<unsigned>(state.threads()));
  g.sync = std::make_unique<std::barrier<>>(state.threads());
  std::vector<std::uint32_t> all(kSize);
  std::iota(all.begin(), all.end(), 0u);
  std::shuffle(all.begin(), all.end(), std::mt19937(42));
  g.sparse.assign(all.begin(), all.begin() + kSparse);
}

void teardown(const benchmark::State&) {
  g = Shared{};
}

void BM_Round(benchmark::State& state) {
  Scheduler& s = *g.scheduler;
  const bool dense = state.range(1) != 0;
  const bool batch = state.range(2) != 0;
  const auto t = static_cast<std::uint32_t>(state.thread_index());
  const auto threads = static_cast<std::uint32_t>(state.threads());
  const std::uint32_t count = dense ? kSize : kSparse;
  std::vector<std::uint32_t> buffer(64);
  std::uint64_t popped = 0;
  for (auto _ : state) {
    for (std::uint32_t k = count * t / threads; k < count * (t + 1) / threads; ++k) {
      const std::uint32_t i = dense ? k : g.sparse[k];
      s.schedule(i, priority_of(i));
    }
    g.sync->arrive_and_wait();
    if (t == 0) s.begin_round();
    g.sync->arrive_and_wait();
    if (batch) {
      (void)buffer;
    } else {
      std::uint32_t i = 0;
      while (s.pop(i)) ++popped;
    }
    g.sync->arrive_and_wait();
  }
  benchmark::DoNotOptimize(popped);
  if (t == 0) state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * count);
}

void round_args(benchmark::internal::Benchmark* b) {
  for (auto kind : {SchedulerKind::kFifo, SchedulerKind::kSweep, SchedulerKind::kPriority}) {
    for (int dense : {1, 0}) {
      for (int batch : {0}) b->Args({static_cast<std::int64_t>(kind), dense, batch});
    }
  }
  b->ArgNames({"kind", "dense", "batch"});
}

BENCHMARK(BM_Round)
    ->Apply(round_args)
    ->Setup(setup_round)
    ->Teardown(teardown)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
