// Components as a Pregel program: every vertex starts with a label (the smallest gid of its
// component in its rank's part, or its own gid) and, in superstep 0, the vertices whose label a
// neighbour may not share (those with a ghost neighbour, or all of them when labels are gids)
// send it to their in- and out-neighbours; a vertex whose label drops takes the smallest label
// that arrived and sends it on; all vote to halt, so the run ends when no label moves.
#include "atoll/apps/pregel_connected_components.hpp"

#include <algorithm>

#include "atoll/common/timer.hpp"
#include "atoll/engine/pregel_engine.hpp"
#include "local_components.hpp"

namespace atl {
namespace {

struct ComponentsPregel {
  using VertexValue = Gid;  ///< the label
  using EdgeValue = EmptyData;
  using Message = Gid;

  bool own_gids = true;  ///< labels start as gids: every vertex sends in superstep 0
  std::span<const std::uint8_t> boundary;  ///< otherwise: by lid, 1 for those that send

  Gid combine(Gid a, Gid b) const { return std::min(a, b); }

  void compute(PregelVertex<ComponentsPregel>& vertex, std::span<const Gid> messages) const {
    Gid& label = vertex.value();
    bool changed = false;
    if (vertex.superstep() == 0) {
      changed = own_gids || (!boundary.empty() && boundary[vertex.lid()] != 0);
    }
    for (Gid m : messages) {
      if (m < label) {
        label = m;
        changed = true;
      }
    }
    if (changed) {
      vertex.send_to_neighbors(label);
      vertex.send_to_in_neighbors(label);
    }
    vertex.vote_to_halt();
  }
};

}  // namespace

PregelVertexValues<std::uint64_t> pregel_connected_components(Topology graph,
                                                              const EngineOptions& options,
                                                              Cluster* cluster,
                                                              ComponentsStart start) {
  PregelVertexValues<std::uint64_t> result;
  LocalGraph<Gid, EmptyData> local(std::move(graph));
  ComponentsPregel program;
  PregelEngine<ComponentsPregel> engine(local, program, options, cluster);
  Timer local_timer;
  engine.init_vertices([&](Lid v, Gid& label) { label = local.topology().gid(v); });
  // A resumed run's epoch replaces the start's labels.
  std::vector<std::uint8_t> boundary;
  if (start == ComponentsStart::kLocalComponents && options.checkpoint.resume.empty()) {
    detail::label_local_components(local.topology(), options.threads, local.vertex_data());
    boundary = detail::boundary_flags(local.topology(), options.threads);
    program.own_gids = false;
    program.boundary = boundary;
  }
  const double local_seconds = local_timer.seconds();
  result.pregel = engine.run();
  result.pregel.seconds += local_seconds;  // the kernel is both phases
  result.stats = to_run_stats(result.pregel);
  collect_owned(local.topology(), result, [&](Lid v) { return local.vertex_data()[v]; });
  return result;
}

}  // namespace atl
