// GraphLab's greedy colouring: a vertex takes the smallest colour none of its neighbours has.
// Under edge consistency no two neighbours update at once and each reads the other's latest
// colour, so every run is equivalent to a sequential greedy pass: one update per vertex gives a
// proper colouring, and nothing is rescheduled. No iteration hook is needed. After the run every
// rank checks its owned vertices' edges (each edge at the owner of its smaller gid).
#include "atoll/apps/graph_coloring.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"
#include "undirected_view.hpp"

namespace atl {
namespace {

using detail::for_each_undirected_neighbor;
using detail::neighbor_data;

constexpr std::uint32_t kUncolored = std::numeric_limits<std::uint32_t>::max();

struct ColoringProgram {
  using VertexData = std::uint32_t;  ///< the colour, or kUncolored
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kEdge;

  /// Per thread: which of the colours 0..degree a neighbour has.
  tbb::enumerable_thread_specific<std::vector<char>>* used;

  void update(Scope<ColoringProgram>& scope, Context&) const {
    // in + out degree bounds the undirected degree: one of colours 0..bound is free.
    const std::size_t bound = scope.in_degree() + scope.out_degree();
    std::vector<char>& taken = used->local();
    taken.assign(bound + 1, 0);
    for_each_undirected_neighbor(scope.topology(), scope.lid(), [&](Lid w) {
      const std::uint32_t c = neighbor_data(scope, w);
      if (c <= bound) taken[c] = 1;
    });
    scope.vertex() =
        static_cast<std::uint32_t>(std::find(taken.begin(), taken.end(), 0) - taken.begin());
  }
};

}  // namespace

GraphColoringResult graph_coloring(Topology graph, const EngineOptions& eo, Cluster* cluster) {
  GraphColoringResult result;
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  if (cluster == nullptr && n == 0) return result;
  LocalGraph<std::uint32_t, EmptyData> local(std::move(graph));
  tbb::enumerable_thread_specific<std::vector<char>> used;
  ColoringProgram program{&used};
  result.stats = run_graphlab(local, program, eo, cluster, [&](auto& engine) {
    engine.init_vertices([](Lid, std::uint32_t& color) { color = kUncolored; });
    engine.schedule_all();
    return engine.run();
  });

  // The check: ghosts hold their owners' final colours (pushed after every step).
  const Topology& t = local.topology();
  const std::uint32_t* color = local.vertex_data().data();
  result.values.resize(n);
  std::uint64_t max_color = 0;
  for (Lid v = 0; v < n; ++v) {
    result.values[v] = color[v];
    if (color[v] == kUncolored) {
      ++result.conflicts;
      continue;
    }
    max_color = std::max<std::uint64_t>(max_color, std::uint64_t{color[v]} + 1);
    for_each_undirected_neighbor(t, v, [&](Lid w) {
      if (t.gid(w) > t.gid(v) && color[w] == color[v]) ++result.conflicts;
    });
  }
  result.colors = max_color;
  if (cluster != nullptr) {
    result.colors = cluster->collectives.allreduce(result.colors, ReduceOp::kMax);
    result.conflicts = cluster->collectives.allreduce(result.conflicts, ReduceOp::kSum);
  }
  return result;
}

void register_coloring_app() {
  register_app({"coloring", "Greedy proper colouring of the undirected view",
                std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
                ColoringProgram::kConsistency, [](CLI::App&) {
                  AppRunner runner;
                  runner.run = [](AppInput& in) {
                    GraphColoringResult r =
                        graph_coloring(std::move(in.graph), in.options, in.cluster);
                    const std::uint64_t colors = r.colors, conflicts = r.conflicts;
                    AppOutput out = make_output(std::move(r));
                    out.summarize = [colors, conflicts](const AppOutput&) {
                      std::printf("coloring: %llu colours, %llu conflicts\n",
                                  static_cast<unsigned long long>(colors),
                                  static_cast<unsigned long long>(conflicts));
                    };
                    return out;
                  };
                  return runner;
                }});
}

}  // namespace atl
