// Loading text edge lists into the CSR (read + decompress + parse + build), the path that
// `atoll info` and every job's load take. Counters: MB/s of (decompressed) text, edges/s.
//   build/bench/bench_ingest --benchmark_counters_tabular=true
// Threads: TBB's default (all cores); set --threads via ATOLL_BENCH_THREADS=N.
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <tbb/global_control.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "atoll/graph/generators.hpp"
#include "atoll/graph/input_file.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/graph/write_graph.hpp"

namespace {

std::unique_ptr<tbb::global_control> g_threads;

std::string shared_file(const char* name) {
  std::string path = std::string(ATOLL_SHARED_DATA) + "/" + name;
  return std::filesystem::exists(path) ? path : std::string();
}

/// Writes the Kronecker scale-20 text edge list once (about 17M edges).
std::string kron20_text() {
  std::string dir = ATOLL_BENCH_DATA;
  std::filesystem::create_directories(dir);
  std::string path = dir + "/kron20.el";
  if (!std::filesystem::exists(path)) {
    atl::write_edge_list(atl::generate_kronecker({20, 16, 1, std::nullopt}), path,
                         atl::GraphFormat::kSnap);
  }
  return path;
}

/// The shape of the baselines' kron20.el: symmetrized, no self-loops or repeats (~31M arcs).
std::string kron20_symmetric_text() {
  std::string path = std::string(ATOLL_BENCH_DATA) + "/kron20-sym.el";
  if (!std::filesystem::exists(path)) {
    atl::EdgeList raw = atl::generate_kronecker({20, 16, 1, std::nullopt});
    atl::write_edge_list(atl::to_edge_list(atl::Topology::build(raw, {true, true})), path,
                         atl::GraphFormat::kSnap);
  }
  return path;
}

void report(benchmark::State& state, double bytes, double edges) {
  state.counters["MB/s"] =
      benchmark::Counter(bytes * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["Medges/s"] =
      benchmark::Counter(edges * 1e-6, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["edges"] = edges;
  state.counters["MB"] = bytes * 1e-6;
}

/// Whole load: open (mmap or decompress), parse, build out- and in-CSR.
void load(benchmark::State& state, const std::string& path, bool symmetrize) {
  if (path.empty()) {
    state.SkipWithError("input missing (../shared/data not present)");
    return;
  }
  double bytes = 0, edges = 0;
  for (auto _ : state) {
    atl::InputFile file = atl::InputFile::open(path);
    atl::EdgeList list = atl::parse_edge_list(file.bytes(), atl::GraphFormat::kAuto, path);
    atl::Topology graph = atl::Topology::build(list, {symmetrize, false});
    benchmark::DoNotOptimize(graph.num_edges());
    bytes = static_cast<double>(file.bytes().size());
    edges = static_cast<double>(list.size());
  }
  report(state, bytes, edges);
}

/// Parse only, from bytes already in memory.
void parse(benchmark::State& state, const std::string& path) {
  if (path.empty()) {
    state.SkipWithError("input missing");
    return;
  }
  atl::InputFile file = atl::InputFile::open(path);
  double edges = 0;
  for (auto _ : state) {
    atl::EdgeList list = atl::parse_snap(file.bytes(), path);
    edges = static_cast<double>(list.size());
    benchmark::DoNotOptimize(list.edges.data());
  }
  report(state, static_cast<double>(file.bytes().size()), edges);
}

/// CSR build only, from an EdgeList in memory.
void build(benchmark::State& state, const std::string& path, bool symmetrize) {
  if (path.empty()) {
    state.SkipWithError("input missing");
    return;
  }
  atl::EdgeList list = atl::read_edge_list(path);
  for (auto _ : state) {
    atl::Topology graph = atl::Topology::build(list, {symmetrize, false});
    benchmark::DoNotOptimize(graph.num_edges());
  }
  report(state, 0, static_cast<double>(list.size()));
}

void BM_LoadSlashdot(benchmark::State& s) {
  load(s, shared_file("soc-Slashdot0902.txt.zst"), false);
}
void BM_ParseSlashdot(benchmark::State& s) {
  // parse the decompressed text (the zstd step is measured in BM_LoadSlashdot)
  parse(s, shared_file("soc-Slashdot0902.txt.zst"));
}
void BM_LoadKron20Text(benchmark::State& s) {
  load(s, kron20_text(), false);
}
void BM_LoadKron20TextSymmetrize(benchmark::State& s) {
  load(s, kron20_text(), true);
}
void BM_LoadKron20SymmetricText(benchmark::State& s) {
  load(s, kron20_symmetric_text(), false);
}
void BM_LoadKron20SymmetricTextSymmetrize(benchmark::State& s) {
  load(s, kron20_symmetric_text(), true);
}
void BM_ParseKron20Text(benchmark::State& s) {
  parse(s, kron20_text());
}
void BM_BuildKron20(benchmark::State& s) {
  build(s, kron20_text(), false);
}
void BM_BuildKron20Symmetrize(benchmark::State& s) {
  build(s, kron20_text(), true);
}

BENCHMARK(BM_LoadSlashdot)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ParseSlashdot)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LoadKron20Text)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_LoadKron20TextSymmetrize)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_LoadKron20SymmetricText)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_LoadKron20SymmetricTextSymmetrize)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK(BM_ParseKron20Text)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_BuildKron20)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_BuildKron20Symmetrize)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  if (const char* t = std::getenv("ATOLL_BENCH_THREADS")) {
    g_threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      std::strtoul(t, nullptr, 10));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
