// Shortest paths as a Pregel program: a vertex whose distance drops (the source to 0 in
// superstep 0) sends its distance plus the edge weight along every out-edge; all vote to
// halt, so the run ends when no distance moves.
#include "atoll/apps/pregel_sssp.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "atoll/common/error.hpp"
#include "atoll/engine/pregel_engine.hpp"

namespace atl {
namespace {

constexpr double kUnreached = std::numeric_limits<double>::infinity();

struct SsspPregel {
  using VertexValue = double;  ///< distance
  using EdgeValue = double;    ///< weight
  using Message = double;      ///< a distance through an in-neighbour

  Gid source;

  double combine(double a, double b) const { return std::min(a, b); }

  void compute(PregelVertex<SsspPregel>& vertex, std::span<const double> messages) const {
    double& distance = vertex.value();
    double best = kUnreached;
    if (vertex.superstep() == 0) {
      distance = kUnreached;
      if (vertex.gid() == source) best = 0;
    }
    for (double m : messages) best = std::min(best, m);
    if (best < distance) {
      distance = best;
      for (auto edge : vertex.out_edges()) edge.send(distance + edge.value());
    }
    vertex.vote_to_halt();
  }
};

/// The first negative weight on this rank, as a message (empty: none).
std::string negative_weight(const Topology& graph) {
  std::span<const double> w = graph.weights();
  for (Lid v = 0; v < graph.num_owned(); ++v) {
    for (EdgeId e = graph.out_begin(v); e < graph.out_end(v) && e < w.size(); ++e) {
      if (!(w[e] >= 0)) {
        return str_cat("sssp needs non-negative edge weights; edge ", graph.gid(v), " -> ",
                       graph.gid(graph.out_targets()[e]), " has weight ", w[e]);
      }
    }
  }
  return {};
}

}  // namespace

PregelVertexValues<double> pregel_sssp(Topology graph, Gid source, const EngineOptions& options,
                                       Cluster* cluster) {
  const Lid src = graph.lid(source);
  std::uint64_t owners = src != kInvalidLid && src < graph.num_owned() ? 1 : 0;
  std::vector<std::string> problems = {negative_weight(graph)};
  if (cluster != nullptr) {
    owners = cluster->collectives.allreduce(owners, ReduceOp::kSum);
    problems = cluster->collectives.allgather(problems[0]);
  }
  if (owners != 1) fail("--source ", source, " is not a vertex of the graph");
  for (const std::string& p : problems) {
    if (!p.empty()) fail(p);
  }
  PregelVertexValues<double> result;
  const bool weighted = graph.weighted();
  LocalGraph<double, double> local(std::move(graph));
  SsspPregel program{source};
  PregelEngine<SsspPregel> engine(local, program, options, cluster);
  std::span<const double> weights = local.topology().weights();
  engine.init_edges([&](EdgeId e, double& w) { w = weighted ? weights[e] : 1.0; });
  result.pregel = engine.run();
  result.stats = to_run_stats(result.pregel);
  collect_owned(local.topology(), result, [&](Lid v) { return local.vertex_data()[v]; });
  return result;
}

}  // namespace atl
