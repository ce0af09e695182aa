// Scheduler throughput per kind (fifo, sweep, priority) on 1 and 2 threads.
//   BM_Round/KIND/DENSE/BATCH  one round: every thread schedules a contiguous share of the
//                              round's vertices, one thread begins the round, every thread
//                              pops until it is exhausted. DENSE=1: all kSize vertices;
//                              DENSE=0: 1% of them (random, distinct). BATCH=1 pops with
//                              pop_batch() (64 at a time), BATCH=0 with pop().
//                              Items are the vertices of a round (scheduled once, popped once).
//   BM_Continuous/KIND/BATCH   continuous mode: every thread repeatedly pops up to BATCH
//                              vertices and, for each, schedules one random vertex and
//                              finishes it (1% of the vertices pending at the start; an
//                              empty pop schedules 64). Items are updates (pop + schedule +
//                              finish).
// Compare runs by their medians: build/bench/bench_scheduler --benchmark_repetitions=5
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
  std::unique_ptr<atl::ContinuousScheduler> continuous;
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
      while (std::size_t k = s.pop_batch(buffer)) popped += k;
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
      for (int batch : {0, 1}) b->Args({static_cast<std::int64_t>(kind), dense, batch});
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

void setup_continuous(const benchmark::State& state) {
  setup_round(state);
  g.continuous =
      atl::make_continuous_scheduler(kind_of(state), kSize, static_cast<unsigned>(state.threads()));
  for (std::uint32_t i : g.sparse) g.continuous->schedule(i, priority_of(i));
}

void BM_Continuous(benchmark::State& state) {
  atl::ContinuousScheduler& s = *g.continuous;
  std::vector<atl::PendingVertex> buffer(static_cast<std::size_t>(state.range(1)));
  std::uint64_t random =
      0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(state.thread_index() + 1);
  auto next_index = [&random] {  // xorshift64
    random ^= random << 13;
    random ^= random >> 7;
    random ^= random << 17;
    return static_cast<std::uint32_t>(random % kSize);
  };
  constexpr int kUpdates = 1024;
  for (auto _ : state) {
    for (int done = 0; done < kUpdates;) {
      std::size_t k = s.pop(buffer);
      if (k == 0) {
        for (int j = 0; j < 64; ++j) s.schedule(next_index(), 1.0);
        continue;
      }
      for (std::size_t j = 0; j < k; ++j) {
        std::uint32_t i = next_index();
        s.schedule(i, priority_of(i));
        s.finish(buffer[j].index);
      }
      done += static_cast<int>(k);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kUpdates);
}

void continuous_args(benchmark::internal::Benchmark* b) {
  for (auto kind : {SchedulerKind::kFifo, SchedulerKind::kSweep, SchedulerKind::kPriority}) {
    for (int batch : {1, 64}) b->Args({static_cast<std::int64_t>(kind), batch});
  }
  b->ArgNames({"kind", "batch"});
}

BENCHMARK(BM_Continuous)
    ->Apply(continuous_args)
    ->Setup(setup_continuous)
    ->Teardown(teardown)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
