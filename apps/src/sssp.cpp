// Bellman-Ford by pulling: a scheduled vertex takes the best of its in-neighbours' distance
// plus the edge weight and, when its distance dropped, schedules its out-neighbours. With
// non-negative weights the fixpoint is the shortest-path distance.
#include "atoll/apps/sssp.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"

namespace atl {
namespace {

constexpr double kUnreached = std::numeric_limits<double>::infinity();

struct SsspProgram {
  using VertexData = double;
  using EdgeData = double;  ///< weight
  static constexpr Consistency kConsistency = Consistency::kVertex;

  void update(Scope<SsspProgram>& scope, Context& context) const {
    double best = scope.vertex();
    for (auto edge : scope.in_edges()) best = std::min(best, edge.neighbor_data() + edge.data());
    if (best >= scope.vertex()) return;
    scope.vertex() = best;
    context.schedule_out_neighbors(scope, -best);  // priority: nearer first
  }
};

}  // namespace

VertexValues<double> sssp(Topology graph, Gid source, const EngineOptions& eo, Cluster* cluster) {
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
  const bool weighted = graph.weighted();
  LocalGraph<double, double> local(std::move(graph));
  SsspProgram program;
  result.stats = run_graphlab(local, program, eo, cluster, [&](auto& engine) {
    engine.init_vertices([&](Lid v, double& d) { d = v == src ? 0.0 : kUnreached; });
    std::span<const double> weights = local.topology().weights();
    engine.init_edges([&](EdgeId e, double& weight) { weight = weighted ? weights[e] : 1.0; });
    if (src != kInvalidLid) {
      for (Lid u : local.topology().out_neighbors(src)) engine.schedule(u, 0.0);
    }
    return engine.run();
  });
  result.values.assign(local.vertex_data().begin(), local.vertex_data().begin() + n);
  return result;
}

void register_sssp_app() {
  register_app({"sssp", "Single-source shortest paths (weights, else 1)",
                std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
                SsspProgram::kConsistency, [](CLI::App& cmd) {
                  auto source = std::make_shared<Gid>(0);
                  cmd.add_option("--source", *source, "Source vertex gid")->required();
                  AppRunner runner;
                  runner.run = [source](AppInput& in) {
                    AppOutput out =
                        make_output(sssp(std::move(in.graph), *source, in.options, in.cluster));
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
