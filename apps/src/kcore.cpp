// k-core by the h-index iteration (Lue et al. 2016; Montresor et al. 2013): every vertex
// starts at its degree and repeatedly lowers its value to the h-index of its neighbours'
// values (the largest h with at least h neighbours at h or more). Values only fall and never
// below the coreness, and the fixpoint is the coreness, in any update order with any
// staleness: vertex consistency is enough, and nothing global is needed (no iteration hook).
// A vertex that fell to h reschedules the neighbours whose value is above h: only their
// h-index can change.
#include "atoll/apps/kcore.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"
#include "undirected_view.hpp"

namespace atl {
namespace {

using detail::for_each_undirected_neighbor;
using detail::neighbor_data;

struct KCoreProgram {
  using VertexData = std::uint32_t;  ///< an upper bound of the coreness
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  /// Per thread: how many neighbours have each value (capped at the vertex's own).
  tbb::enumerable_thread_specific<std::vector<std::uint32_t>>* counts;

  void update(Scope<KCoreProgram>& scope, Context& context) const {
    const std::uint32_t k = scope.vertex();
    if (k == 0) return;
    const Topology& t = scope.topology();
    std::vector<std::uint32_t>& count = counts->local();
    count.assign(std::size_t{k} + 1, 0);
    for_each_undirected_neighbor(t, scope.lid(),
                                 [&](Lid w) { ++count[std::min(neighbor_data(scope, w), k)]; });
    // The largest h <= k with at least h neighbours valued h or more.
    std::uint32_t h = k;
    std::uint64_t at_least = count[k];
    while (at_least < h) at_least += count[--h];
    if (h == k) return;
    scope.vertex() = h;
    for_each_undirected_neighbor(t, scope.lid(), [&](Lid w) {
      if (neighbor_data(scope, w) > h) context.schedule(w);
    });
  }
};

}  // namespace

KCoreResult kcore(Topology graph, const EngineOptions& eo, Cluster* cluster) {
  KCoreResult result;
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  if (cluster == nullptr && n == 0) return result;
  LocalGraph<std::uint32_t, EmptyData> local(std::move(graph));
  tbb::enumerable_thread_specific<std::vector<std::uint32_t>> counts;
  KCoreProgram program{&counts};
  result.stats = run_graphlab(local, program, eo, cluster, [&](auto& engine) {
    engine.init_vertices([&](Lid v, std::uint32_t& value) {
      value = static_cast<std::uint32_t>(detail::undirected_degree(local.topology(), v));
    });
    engine.schedule_all();
    return engine.run();
  });
  result.values.assign(local.vertex_data().begin(), local.vertex_data().begin() + n);
  for (std::uint64_t c : result.values) result.max_core = std::max(result.max_core, c);
  if (cluster != nullptr) {
    result.max_core = cluster->collectives.allreduce(result.max_core, ReduceOp::kMax);
  }
  return result;
}

void register_kcore_app() {
  register_app({"kcore", "Coreness of every vertex of the undirected simple view",
                std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
                KCoreProgram::kConsistency, [](CLI::App&) {
                  AppRunner runner;
                  runner.run = [](AppInput& in) {
                    KCoreResult r = kcore(std::move(in.graph), in.options, in.cluster);
                    const std::uint64_t max_core = r.max_core;
                    AppOutput out = make_output(std::move(r));
                    out.summarize = [max_core](const AppOutput&) {
                      std::printf("kcore: largest coreness %llu\n",
                                  static_cast<unsigned long long>(max_core));
                    };
                    return out;
                  };
                  return runner;
                }});
}

}  // namespace atl
