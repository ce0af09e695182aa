// Components as a Pregel program: every vertex starts with its gid as label and sends it to
// its in- and out-neighbours; a vertex whose label drops takes the smallest label that
// arrived and sends it on; all vote to halt, so the run ends when no label moves.
#include "atoll/apps/pregel_connected_components.hpp"

#include <algorithm>

#include "atoll/engine/pregel_engine.hpp"

namespace atl {
namespace {

struct ComponentsPregel {
  using VertexValue = Gid;  ///< the label
  using EdgeValue = EmptyData;
  using Message = Gid;

  Gid combine(Gid a, Gid b) const { return std::min(a, b); }

  void compute(PregelVertex<ComponentsPregel>& vertex, std::span<const Gid> messages) const {
    Gid& label = vertex.value();
    bool changed = vertex.superstep() == 0;
    if (changed) label = vertex.gid();
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
                                                              Cluster* cluster) {
  PregelVertexValues<std::uint64_t> result;
  LocalGraph<Gid, EmptyData> local(std::move(graph));
  ComponentsPregel program;
  PregelEngine<ComponentsPregel> engine(local, program, options, cluster);
  result.pregel = engine.run();
  result.stats = to_run_stats(result.pregel);
  collect_owned(local.topology(), result, [&](Lid v) { return local.vertex_data()[v]; });
  return result;
}

}  // namespace atl
