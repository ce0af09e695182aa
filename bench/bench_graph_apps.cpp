// Times the graph apps on one rank: bench_graph_apps GRAPH kcore|triangles|coloring|labelprop
// [--threads T] [--raw] (default: the graph symmetrized and deduplicated, as GAPBS tc runs).
// Prints load, build and app times (the app's own run, colouring and set-up included) and the
// app's CPU time over all threads (the figure to compare on a shared, loaded machine).
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "atoll/apps/graph_coloring.hpp"
#include "atoll/apps/kcore.hpp"
#include "atoll/apps/label_propagation.hpp"
#include "atoll/apps/triangles.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/read_graph.hpp"

int main(int argc, char** argv) {
  using namespace atl;
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_graph_apps GRAPH APP [--threads T] [--raw]\n");
    return 2;
  }
  const std::string app = argv[2];
  EngineOptions eo;
  BuildOptions build{true, true};
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) eo.threads = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--raw") == 0) build = {};
  }
  try {
    Timer timer;
    EdgeList edges = read_edge_list(argv[1]);
    const double read = timer.seconds();
    Topology graph = Topology::build(std::move(edges), build);
    const double built = timer.seconds() - read;
    std::printf("%s: %u vertices, %llu arcs; read %.2f s, build %.2f s\n", argv[1],
                graph.num_vertices(), static_cast<unsigned long long>(graph.num_edges()), read,
                built);
    Timer run;
    const std::clock_t cpu_start = std::clock();
    RunStats stats;
    unsigned long long figure = 0;
    if (app == "kcore") {
      KCoreResult r = kcore(std::move(graph), eo);
      stats = r.stats;
      figure = r.max_core;
    } else if (app == "triangles") {
      TrianglesResult r = triangles(std::move(graph), eo);
      stats = r.stats;
      figure = r.total;
    } else if (app == "coloring") {
      GraphColoringResult r = graph_coloring(std::move(graph), eo);
      stats = r.stats;
      figure = r.colors;
    } else if (app == "labelprop") {
      LabelPropagationResult r = label_propagation(std::move(graph), {}, eo);
      stats = r.stats;
      figure = r.communities;
    } else {
      std::fprintf(stderr, "unknown app %s\n", app.c_str());
      return 2;
    }
    const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    std::printf(
        "%s: %.3f s in all, %.3f s of CPU (engine set-up %.3f s, run %.3f s, %llu iterations, "
        "%llu updates); result %llu\n",
        app.c_str(), run.seconds(), cpu, stats.setup_seconds, stats.seconds,
        static_cast<unsigned long long>(stats.iterations),
        static_cast<unsigned long long>(stats.updates), figure);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
