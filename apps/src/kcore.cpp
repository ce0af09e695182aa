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
#include "atoll/apps/pregel_kcore.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"
#include "undirected_view.hpp"

namespace atl {
namespace {

using detail::for_each_undirected_neighbor;
using detail::neighbor_data;

/// The largest h <= k with at least h neighbours of v valued h or more (value(w) reads a
/// neighbour's value); count is scratch.
template <typename Value>
std::uint32_t h_index(const Topology& t, Lid v, std::uint32_t k, Value&& value,
                      std::vector<std::uint32_t>& count) {
  if (k == 0) return 0;
  count.assign(std::size_t{k} + 1, 0);
  for_each_undirected_neighbor(t, v, [&](Lid w) { ++count[std::min(value(w), k)]; });
  std::uint32_t h = k;
  std::uint64_t at_least = count[k];
  while (at_least < h) at_least += count[--h];
  return h;
}

struct KCoreProgram {
  using VertexData = std::uint32_t;  ///< an upper bound of the coreness
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  /// Per thread: how many neighbours have each value (capped at the vertex's own).
  tbb::enumerable_thread_specific<std::vector<std::uint32_t>>* counts;

  void update(Scope<KCoreProgram>& scope, Context& context) const {
    const Topology& t = scope.topology();
    const std::uint32_t h = h_index(
        t, scope.lid(), scope.vertex(), [&](Lid w) { return neighbor_data(scope, w); },
        counts->local());
    if (h == scope.vertex()) return;
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
  // At the fixpoint every value is its neighbours' h-index (ghosts hold their owners' final
  // values); a run cut short by the iteration limit is not there yet.
  const std::uint32_t* value = local.vertex_data().data();
  std::vector<std::uint32_t> count;
  std::uint64_t unsettled = 0;
  for (Lid v = 0; v < n; ++v) {
    auto read = [&](Lid w) { return value[w]; };
    unsettled += h_index(local.topology(), v, value[v], read, count) != value[v] ? 1 : 0;
  }
  if (cluster != nullptr) {
    result.max_core = cluster->collectives.allreduce(result.max_core, ReduceOp::kMax);
    unsettled = cluster->collectives.allreduce(unsettled, ReduceOp::kSum);
  }
  result.converged = unsettled == 0;
  return result;
}

void register_kcore_app() {
  register_app({"kcore", "Coreness of every vertex of the undirected simple view",
                graphlab_and_pregel_engines(), KCoreProgram::kConsistency, [](CLI::App&) {
                  AppRunner runner;
                  runner.run = [](AppInput& in) {
                    if (in.options.engine == EngineKind::kPregel) {  // peeling in supersteps
                      AppOutput out =
                          make_output(pregel_kcore(std::move(in.graph), in.options, in.cluster));
                      out.summarize = [](const AppOutput& all) {
                        std::uint64_t max_core = 0;
                        for (std::size_t i = 0; i < all.size(); ++i) {
                          max_core = std::max(max_core, all.value<std::uint64_t>(i));
                        }
                        std::printf("kcore: largest coreness %llu\n",
                                    static_cast<unsigned long long>(max_core));
                      };
                      return out;
                    }
                    KCoreResult r = kcore(std::move(in.graph), in.options, in.cluster);
                    const std::uint64_t max_core = r.max_core;
                    const bool converged = r.converged;
                    AppOutput out = make_output(std::move(r));
                    out.summarize = [max_core, converged](const AppOutput&) {
                      std::printf("kcore: largest coreness %llu%s\n",
                                  static_cast<unsigned long long>(max_core),
                                  converged ? ""
                                            : " (not converged: the iteration limit "
                                              "stopped it; values are upper bounds)");
                    };
                    return out;
                  };
                  return runner;
                }});
}

}  // namespace atl
