// The engine's kernels on one rank, 1 and 2 threads (the 1-thread figure is the COST baseline):
//   BM_PageRankIteration/T  static PageRank, 10 sweeps with tolerance 0; time per sweep
//   BM_Components/T         cc (local union-find, then label propagation: none left on one rank)
//   BM_Sssp/T               sssp from the vertex of the first edge, integer weights 1..255
// on a Kronecker graph (edge factor 16, symmetrized, deduplicated; --scale N, default 16),
// built once. Times are the kernels' own (RunStats::seconds, as `atoll run --metrics` reports
// run_seconds: no load, no engine set-up), reported as manual time.
//   build/bench/bench_engine [--scale N] [--benchmark_repetitions=5 ...]
// Side by side with GAPBS on the same input: scripts/compare-gapbs.sh.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pagerank.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/graph/generators.hpp"

namespace {

using namespace atl;

int g_scale = 16;

/// The benchmark graph, built on first use.
const Topology& graph() {
  static const Topology topology = [] {
    KroneckerParams p;
    p.scale = g_scale;
    p.edge_factor = 16;
    p.seed = 1;
    p.weights = WeightRange{1, 255};
    return Topology::build(generate_kronecker(p), BuildOptions{true, true});
  }();
  return topology;
}

EngineOptions engine(const benchmark::State& state) {
  EngineOptions eo;
  eo.threads = static_cast<int>(state.range(0));
  return eo;
}

void count(benchmark::State& state, const RunStats& stats) {
  state.counters["arcs"] = static_cast<double>(graph().num_edges());
  state.counters["iterations"] = static_cast<double>(stats.iterations);
  state.counters["updates"] = static_cast<double>(stats.updates);
}

void BM_PageRankIteration(benchmark::State& state) {
  PageRankOptions options;
  options.iterations = 10;
  options.tolerance = 0;
  RunStats stats;
  for (auto _ : state) {
    stats = pagerank(graph(), options, engine(state)).stats;
    state.SetIterationTime(stats.seconds / static_cast<double>(stats.iterations));
  }
  count(state, stats);
}

void BM_Components(benchmark::State& state) {
  RunStats stats;
  for (auto _ : state) {
    stats = connected_components(graph(), engine(state)).stats;
    state.SetIterationTime(stats.seconds);
  }
  count(state, stats);
}

void BM_Sssp(benchmark::State& state) {
  const Gid source = graph().gid(0);
  RunStats stats;
  for (auto _ : state) {
    stats = sssp(graph(), source, engine(state)).stats;
    state.SetIterationTime(stats.seconds);
  }
  count(state, stats);
}

BENCHMARK(BM_PageRankIteration)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Components)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sssp)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // --scale N (or --scale=N) is ours; everything else goes to Google Benchmark.
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const char* value = nullptr;
    if (std::strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      value = argv[++i];
    } else if (std::strncmp(argv[i], "--scale=", 8) == 0) {
      value = argv[i] + 8;
    }
    if (value == nullptr) {
      rest.push_back(argv[i]);
      continue;
    }
    char* end = nullptr;
    const long scale = std::strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || scale < 1 || scale > 30) {
      std::fprintf(stderr, "bench_engine: --scale takes a number in 1..30, got '%s'\n", value);
      return 2;
    }
    g_scale = static_cast<int>(scale);
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  benchmark::AddCustomContext("graph", "kronecker scale " + std::to_string(g_scale) +
                                           ", edge factor 16, symmetrized, deduplicated");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
