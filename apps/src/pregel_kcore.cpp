// Coreness by peeling as a Pregel program. A vertex counts its distinct neighbours (in and
// out, self-loops ignored) in superstep 0; at level k a vertex with at most k neighbours left
// is removed with coreness k, tells each neighbour once and halts; the others subtract the
// removals that reach them. When a superstep removes nothing the master raises k to the
// smallest count left, as no vertex can be removed below it.
#include "atoll/apps/pregel_kcore.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "atoll/engine/pregel_engine.hpp"

namespace atl {
namespace {

struct CoreVertex {
  std::uint64_t left;  ///< neighbours not removed yet
  std::uint64_t core;
  bool removed;
};

struct CorePregel {
  using VertexValue = CoreVertex;
  using EdgeValue = EmptyData;
  using Message = std::uint32_t;  ///< neighbours removed

  PregelAggregator<std::uint64_t> level = {};    ///< k (set by the master)
  PregelAggregator<std::uint64_t> removed = {};  ///< removals in the superstep
  PregelAggregator<std::uint64_t> least = {};    ///< smallest count left among the others

  std::uint32_t combine(std::uint32_t a, std::uint32_t b) const { return a + b; }

  /// The vertex's distinct neighbours (into a per-thread list).
  static const std::vector<Gid>& neighbors(PregelVertex<CorePregel>& vertex) {
    thread_local std::vector<Gid> list;
    list.clear();
    for (auto edge : vertex.out_edges()) list.push_back(edge.target());
    vertex.for_each_in_neighbor([&](Gid u) { list.push_back(u); });
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    const auto self = std::lower_bound(list.begin(), list.end(), vertex.gid());
    if (self != list.end() && *self == vertex.gid()) list.erase(self);
    return list;
  }

  void compute(PregelVertex<CorePregel>& vertex, std::span<const std::uint32_t> messages) const {
    CoreVertex& v = vertex.value();
    if (vertex.superstep() == 0) v = {neighbors(vertex).size(), 0, false};
    if (v.removed) {
      vertex.vote_to_halt();
      return;
    }
    for (std::uint32_t m : messages) v.left -= std::min<std::uint64_t>(m, v.left);
    const std::uint64_t k = vertex.aggregated(level);
    if (v.left > k) {
      vertex.aggregate(least, v.left);
      return;  // stays active: a higher level may remove it
    }
    v.removed = true;
    v.core = k;
    for (Gid u : neighbors(vertex)) vertex.send(u, 1);
    vertex.aggregate(removed, std::uint64_t{1});
    vertex.vote_to_halt();
  }

  void master(PregelMaster& master) const {
    const std::uint64_t smallest = master.aggregated(least);
    if (master.aggregated(removed) == 0 && smallest != std::numeric_limits<std::uint64_t>::max()) {
      master.set(level, smallest);
    }
  }
};

}  // namespace

PregelVertexValues<std::uint64_t> pregel_kcore(Topology graph, const EngineOptions& options,
                                               Cluster* cluster) {
  PregelVertexValues<std::uint64_t> result;
  LocalGraph<CoreVertex, EmptyData> local(std::move(graph));
  CorePregel program;
  PregelEngine<CorePregel> engine(local, program, options, cluster);
  program.level = engine.add_aggregator(
      "level", std::uint64_t{0}, [](std::uint64_t a, std::uint64_t b) { return std::max(a, b); },
      Persistence::kPersistent);
  program.removed = engine.add_aggregator("removed", std::uint64_t{0}, AggregateOp::kSum);
  program.least = engine.add_aggregator("least_left", std::numeric_limits<std::uint64_t>::max(),
                                        AggregateOp::kMin);
  result.pregel = engine.run();
  result.stats = to_run_stats(result.pregel);
  collect_owned(local.topology(), result, [&](Lid v) { return local.vertex_data()[v].core; });
  return result;
}

}  // namespace atl
