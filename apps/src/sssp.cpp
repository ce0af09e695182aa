// Bellman-Ford by pulling: a scheduled vertex takes the best of its in-neighbours' distance
// plus the edge weight and, when its distance dropped, schedules its out-neighbours. With
// non-negative weights the fixpoint is the shortest-path distance. By default each rank first
// computes the distances through its own part by delta-stepping (local_sssp.hpp): every owned
// vertex is then at most one relaxation from the fixpoint over its owned in-neighbours, so the
// engine starts only from the vertices with a ghost in-neighbour (ghosts start as their
// owners' data) and relaxes on from whatever improves across the cut.
#include "atoll/apps/sssp.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "atoll/apps/app.hpp"
#include "atoll/apps/pregel_sssp.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"
#include "local_sssp.hpp"

namespace atl {
namespace {

constexpr double kUnreached = std::numeric_limits<double>::infinity();

struct SsspProgram {
  using VertexData = double;
  using EdgeData = EmptyData;  ///< the weights are read in place (Scope::Edge::weight)
  static constexpr Consistency kConsistency = Consistency::kVertex;

  void update(Scope<SsspProgram>& scope, Context& context) const {
    double best = scope.vertex();
    for (auto edge : scope.in_edges()) best = std::min(best, edge.neighbor_data() + edge.weight());
    if (best >= scope.vertex()) return;
    scope.vertex() = best;
    context.schedule_out_neighbors(scope, -best);  // priority: nearer first
  }
};

}  // namespace

VertexValues<double> sssp(Topology graph, Gid source, const EngineOptions& eo, Cluster* cluster,
                          SsspStart start) {
  VertexValues<double> result;
  const Lid n = graph.num_owned();
  Lid src = graph.lid(source);
  if (src != kInvalidLid && src >= n) src = kInvalidLid;  // a ghost here: its owner starts
  std::uint64_t owners = src != kInvalidLid ? 1 : 0;
  if (cluster != nullptr) owners = cluster->collectives.allreduce(owners, ReduceOp::kSum);
  if (owners != 1) fail("--source ", source, " is not a vertex of the graph");
  std::span<const double> w = graph.weights();
  std::size_t bad = w.size();
  for (std::size_t e = 0; e < w.size() && bad == w.size(); ++e) {
    if (!(w[e] >= 0)) bad = e;
  }
  std::string why;
  if (bad != w.size()) {
    auto offsets = graph.out_offsets();
    const Lid from = static_cast<Lid>(std::upper_bound(offsets.begin(), offsets.end(), bad) -
                                      offsets.begin() - 1);
    why = str_cat("sssp needs non-negative edge weights; edge ", graph.gid(from), " -> ",
                  graph.gid(graph.out_targets()[bad]), " has weight ", w[bad]);
  }
  if (cluster != nullptr) {
    for (const std::string& m : cluster->collectives.allgather(why)) {
      if (!m.empty()) fail(m);
    }
  }
  if (!why.empty()) fail(why);
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  LocalGraph<double, EmptyData> local(std::move(graph));
  SsspProgram program;
  // A resumed run's epoch replaces the start's distances and schedule.
  const bool local_phase = start == SsspStart::kLocal && eo.checkpoint.resume.empty();
  EngineOptions options = eo;
  if (options.run_ahead < 0 && options.engine == EngineKind::kLocking &&
      options.scheduler == SchedulerKind::kPriority) {
    // The locking engine's priority window: twice the mean weight lets a rank run a little
    // ahead of the global frontier without relaxing far-off vertices many times (a 2-D grid
    // with weights 1..100 on 2-3 ranks: about 1.1x the updates of one rank; unbounded, 40x).
    options.run_ahead = 2 * detail::positive_weights(local.topology()).mean;
  }

  result.stats = run_graphlab(local, program, options, cluster, [&](auto& engine) {
    Timer local_timer;
    engine.init_vertices([&](Lid v, double& d) { d = v == src ? 0.0 : kUnreached; });
    if (!local_phase) {
      if (src != kInvalidLid) {
        for (Lid u : local.topology().out_neighbors(src)) engine.schedule(u, 0.0);
      }
      return engine.run();
    }
    const Topology& t = local.topology();
    std::span<double> dist = local.vertex_data();
    std::fill(dist.begin() + n, dist.end(), kUnreached);  // ghosts: their owners' data at start
    if (src != kInvalidLid) {
      const Lid sources[] = {src};
      detail::relax_shortest_paths(t, sources, detail::default_delta(t), eo.threads, dist);
    }
    for (Lid v = 0; v < n; ++v) {
      std::span<const Lid> in = t.in_neighbors(v);
      if (std::ranges::any_of(in, [n](Lid u) { return u >= n; })) engine.schedule(v, -dist[v]);
    }
    const double local_seconds = local_timer.seconds();
    RunStats stats = engine.run();
    stats.seconds += local_seconds;  // the kernel is both phases
    return stats;
  });
  result.values.assign(local.vertex_data().begin(), local.vertex_data().begin() + n);
  return result;
}

void register_sssp_app() {
  register_app({"sssp", "Single-source shortest paths (weights, else 1)",
                graphlab_and_pregel_engines(), SsspProgram::kConsistency, [](CLI::App& cmd) {
                  auto source = std::make_shared<Gid>(0);
                  cmd.add_option("--source", *source, "Source vertex gid")->required();
                  auto start = std::make_shared<std::string>("local");
                  cmd.add_option("--start", *start,
                                 "Distances before the engine: local (each rank's part by "
                                 "delta-stepping) or source (plain Bellman-Ford from the "
                                 "source)")
                      ->check(CLI::IsMember({"local", "source"}))
                      ->capture_default_str();
                  AppRunner runner;
                  runner.run = [source, start](AppInput& in) {
                    const SsspStart how =
                        *start == "source" ? SsspStart::kSource : SsspStart::kLocal;
                    AppOutput out = make_output(
                        in.options.engine == EngineKind::kPregel
                            ? pregel_sssp(std::move(in.graph), *source, in.options, in.cluster, how)
                            : sssp(std::move(in.graph), *source, in.options, in.cluster, how));
                    out.summarize = [source](const AppOutput& all) {
                      std::size_t reached = 0;
                      for (std::size_t i = 0; i < all.size(); ++i)
                        reached += all.value<double>(i) < 1e308;
                      std::printf("sssp: %zu of %zu vertices reachable from %llu\n", reached,
                                  all.size(), static_cast<unsigned long long>(*source));
                    };
                    return out;
                  };
                  return runner;
                }});
}

}  // namespace atl
