// Triangles through u = edges among u's neighbours. Each such edge {v, w} is counted once, at
// its endpoint that comes first in the order (degree, gid): t(u) = sum over neighbours v of
// |up(v) & N(u)|, with up(v) the neighbours after v (UpwardLists; a ghost's list comes from
// its owner, since vertex data of fixed size cannot carry a neighbour set). The update marks
// N(u) in a per-thread array and scans up(v) for each neighbour v: work sum_v deg(v) |up(v)|,
// the same as the ordered merge of GAPBS tc. It writes only its own count and reads only
// structure: vertex consistency, one update per vertex, no iteration hook.
#include "atoll/apps/triangles.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"
#include "undirected_view.hpp"
#include "upward_lists.hpp"

namespace atl {
namespace {

using detail::for_each_undirected_neighbor;

struct TrianglesProgram {
  using VertexData = std::uint64_t;  ///< triangles through the vertex
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  const detail::UpwardLists* up;
  /// Per thread, by position (UpwardLists): the last vertex whose neighbourhood marked it.
  tbb::enumerable_thread_specific<std::vector<Lid>>* marks;

  void update(Scope<TrianglesProgram>& scope, Context&) const {
    const Topology& t = scope.topology();
    const Lid u = scope.lid();
    std::vector<Lid>& mark = marks->local();
    if (mark.size() != t.num_vertices()) mark.assign(t.num_vertices(), kInvalidLid);
    for_each_undirected_neighbor(t, u, [&](Lid w) { mark[up->position(w)] = u; });
    std::uint64_t count = 0;
    for_each_undirected_neighbor(t, u, [&](Lid v) {
      for (Lid w : up->of(v)) count += mark[w] == u ? 1 : 0;
    });
    scope.vertex() = count;
  }
};

}  // namespace

TrianglesResult triangles(Topology graph, const EngineOptions& eo, Cluster* cluster) {
  TrianglesResult result;
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  if (cluster == nullptr && n == 0) return result;
  LocalGraph<std::uint64_t, EmptyData> local(std::move(graph));
  const detail::UpwardLists up(local.topology(), cluster);
  tbb::enumerable_thread_specific<std::vector<Lid>> marks;
  TrianglesProgram program{&up, &marks};
  result.stats = run_graphlab(local, program, eo, cluster, [&](auto& engine) {
    engine.init_vertices([](Lid, std::uint64_t& count) { count = 0; });
    engine.schedule_all();
    return engine.run();
  });
  result.values.assign(local.vertex_data().begin(), local.vertex_data().begin() + n);
  std::uint64_t sum = 0;
  for (std::uint64_t c : result.values) sum += c;
  if (cluster != nullptr) sum = cluster->collectives.allreduce(sum, ReduceOp::kSum);
  result.total = sum / 3;  // each triangle is counted at its three vertices
  return result;
}

void register_triangles_app() {
  register_app({"triangles", "Triangles through every vertex of the undirected simple view",
                std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
                TrianglesProgram::kConsistency, [](CLI::App&) {
                  AppRunner runner;
                  runner.run = [](AppInput& in) {
                    TrianglesResult r = triangles(std::move(in.graph), in.options, in.cluster);
                    const std::uint64_t total = r.total;
                    AppOutput out = make_output(std::move(r));
                    out.summarize = [total](const AppOutput&) {
                      std::printf("triangles: %llu in all\n",
                                  static_cast<unsigned long long>(total));
                    };
                    return out;
                  };
                  return runner;
                }});
}

}  // namespace atl
