// Coreness by peeling with vertex removal, as a Pregel program. At level k a vertex with at
// most k neighbours left (in and out, each once, self-loops ignored) records coreness k, wakes
// its neighbours with a message and removes itself (remove_vertex): from the next superstep on
// the graph no longer has it or its edges, so a woken vertex recounts its neighbours in the
// smaller graph. When a superstep removes nothing the master raises k to the smallest count
// left, as no vertex can be removed below it. The run ends with an empty graph; a vertex's
// coreness is in its value when it leaves, and the engine keeps removed vertices' values
// (keep_removed_values), which checkpoints carry too.
#include "atoll/apps/pregel_kcore.hpp"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "atoll/engine/pregel_engine.hpp"

namespace atl {
namespace {

struct CoreVertex {
  std::uint64_t left;  ///< neighbours in the graph as of the last count
  std::uint64_t core;  ///< set when the vertex leaves the graph
};

struct CorePregel {
  using VertexValue = CoreVertex;
  using EdgeValue = EmptyData;
  using Message = std::uint32_t;  ///< a neighbour left: recount

  PregelAggregator<std::uint64_t> level = {};    ///< k (set by the master)
  PregelAggregator<std::uint64_t> removed = {};  ///< removals in the superstep
  PregelAggregator<std::uint64_t> least = {};    ///< smallest count left among the others

  std::uint32_t combine(std::uint32_t a, std::uint32_t b) const { return a + b; }

  /// The vertex's distinct neighbours in the current graph (into a per-thread list).
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
    if (vertex.superstep() == 0 || !messages.empty()) v.left = neighbors(vertex).size();
    const std::uint64_t k = vertex.aggregated(level);
    if (v.left > k) {
      vertex.aggregate(least, v.left);
      return;  // stays active: a higher level may remove it
    }
    v.core = k;
    for (Gid u : neighbors(vertex)) vertex.send(u, 1);
    vertex.remove_vertex(vertex.gid());
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
  engine.keep_removed_values();
  program.level = engine.add_aggregator(
      "level", std::uint64_t{0}, [](std::uint64_t a, std::uint64_t b) { return std::max(a, b); },
      Persistence::kPersistent);
  program.removed = engine.add_aggregator("removed", std::uint64_t{0}, AggregateOp::kSum);
  program.least = engine.add_aggregator("least_left", std::numeric_limits<std::uint64_t>::max(),
                                        AggregateOp::kMin);
  result.pregel = engine.run();
  result.stats = to_run_stats(result.pregel);
  // Removed vertices with their coreness; a run cut short (--max-supersteps) leaves the others
  // in the graph, reported with the level reached.
  std::vector<std::pair<Gid, std::uint64_t>> all;
  for (const auto& [gid, value] : engine.removed_values()) all.emplace_back(gid, value.core);
  const Topology& left = local.topology();
  for (Lid v = 0; v < left.num_owned(); ++v) {
    all.emplace_back(left.gid(v), engine.aggregated(program.level));
  }
  std::sort(all.begin(), all.end());
  result.gids.reserve(all.size());
  result.values.reserve(all.size());
  for (const auto& [gid, core] : all) {
    result.gids.push_back(gid);
    result.values.push_back(core);
  }
  return result;
}

}  // namespace atl
