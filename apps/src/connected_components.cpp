// Label propagation over the undirected view: a vertex takes the smallest label among itself
// and its in- and out-neighbours and, when its label dropped, schedules the neighbours whose
// label is larger. Labels start as the smallest gid of the vertex's component in its rank's
// part (local_components.hpp), or as gids; either way the fixpoint labels each component
// with its smallest gid.
#include "atoll/apps/connected_components.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "atoll/apps/app.hpp"
#include "atoll/apps/pregel_connected_components.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"
#include "local_components.hpp"

namespace atl {
namespace {

struct ComponentsProgram {
  using VertexData = Gid;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  // On a symmetric graph the in-list is the out-list: one of them is the undirected view.
  void update(Scope<ComponentsProgram>& scope, Context& context) const {
    const bool both = !scope.symmetric();
    Gid label = scope.vertex();
    for (auto edge : scope.out_edges()) label = std::min(label, edge.neighbor_data());
    if (both) {
      for (auto edge : scope.in_edges()) label = std::min(label, edge.neighbor_data());
    }
    if (label == scope.vertex()) return;
    scope.vertex() = label;
    for (auto edge : scope.out_edges()) {
      if (edge.neighbor_data() > label) context.schedule(edge.neighbor());
    }
    if (both) {
      for (auto edge : scope.in_edges()) {
        if (edge.neighbor_data() > label) context.schedule(edge.neighbor());
      }
    }
  }
};

}  // namespace

VertexValues<std::uint64_t> connected_components(Topology graph, const EngineOptions& eo,
                                                 Cluster* cluster, ComponentsStart start) {
  VertexValues<std::uint64_t> result;
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  if (cluster == nullptr && n == 0) return result;
  LocalGraph<Gid, EmptyData> local(std::move(graph));
  ComponentsProgram program;
  // A resumed run's epoch replaces the start's labels and schedule.
  const bool local_phase =
      start == ComponentsStart::kLocalComponents && eo.checkpoint.resume.empty();
  result.stats = run_graphlab(local, program, eo, cluster, [&](auto& engine) {
    Timer local_timer;
    engine.init_vertices([&](Lid v, Gid& label) { label = local.topology().gid(v); });
    if (!local_phase) {
      engine.schedule_all();
      return engine.run();
    }
    detail::label_local_components(local.topology(), eo.threads, local.vertex_data());
    const std::vector<std::uint8_t> boundary = detail::boundary_flags(local.topology(), eo.threads);
    for (Lid v = 0; v < boundary.size(); ++v) {
      if (boundary[v] != 0) engine.schedule(v);
    }
    const double local_seconds = local_timer.seconds();
    RunStats stats = engine.run();
    stats.seconds += local_seconds;  // the kernel is both phases
    return stats;
  });
  result.values.assign(local.vertex_data().begin(), local.vertex_data().begin() + n);
  return result;
}

void register_cc_app() {
  register_app(
      {"cc", "Weakly connected components (label = smallest gid)", graphlab_and_pregel_engines(),
       ComponentsProgram::kConsistency, [](CLI::App& cmd) {
         auto start = std::make_shared<std::string>("local");
         cmd.add_option("--start", *start,
                        "Labels before propagation: local (each rank's components, by "
                        "union-find) or gids (plain label propagation)")
             ->check(CLI::IsMember({"local", "gids"}))
             ->capture_default_str();
         AppRunner runner;
         runner.run = [start](AppInput& in) {
           const ComponentsStart how =
               *start == "gids" ? ComponentsStart::kOwnGid : ComponentsStart::kLocalComponents;
           AppOutput out = make_output(
               in.options.engine == EngineKind::kPregel
                   ? pregel_connected_components(std::move(in.graph), in.options, in.cluster, how)
                   : connected_components(std::move(in.graph), in.options, in.cluster, how));
           out.summarize = [](const AppOutput& all) {
             std::vector<std::uint64_t> labels(all.size());
             for (std::size_t i = 0; i < all.size(); ++i) {
               labels[i] = all.value<std::uint64_t>(i);
             }
             std::sort(labels.begin(), labels.end());
             std::printf("cc: %zu components\n",
                         static_cast<std::size_t>(std::unique(labels.begin(), labels.end()) -
                                                  labels.begin()));
           };
           return out;
         };
         return runner;
       }});
}

}  // namespace atl
