// PageRank as a Pregel program: superstep 0 sends every vertex's initial share; superstep k
// sums the shares that arrived into iteration k's rank and sends the new shares. Vertices
// without out-edges contribute their rank to the dangling aggregator instead, which every
// vertex reads in the next superstep; the L1 change is another aggregator, which the master
// compares with the tolerance.
#include "atoll/apps/pregel_pagerank.hpp"

#include <algorithm>
#include <cmath>

#include "atoll/common/error.hpp"
#include "atoll/engine/pregel_engine.hpp"

namespace atl {
namespace {

struct PageRankPregel {
  using VertexValue = double;  ///< the rank
  using EdgeValue = EmptyData;
  using Message = double;  ///< a share of an in-neighbour's rank

  double damping;
  double inverse_n;
  double tolerance;
  PregelAggregator<double> dangling = {};  ///< rank of vertices without out-edges
  PregelAggregator<double> change = {};    ///< L1 change of the iteration

  double combine(double a, double b) const { return a + b; }

  void compute(PregelVertex<PageRankPregel>& vertex, std::span<const double> messages) const {
    double& rank = vertex.value();
    if (vertex.superstep() > 0) {
      double sum = 0;
      for (double m : messages) sum += m;
      const double next =
          (1.0 - damping) * inverse_n + damping * (sum + vertex.aggregated(dangling) * inverse_n);
      vertex.aggregate(change, std::abs(next - rank));
      rank = next;
    }
    const std::size_t out = vertex.num_out_edges();
    if (out > 0) {
      vertex.send_to_neighbors(rank / static_cast<double>(out));
    } else {
      vertex.aggregate(dangling, rank);
    }
  }

  void master(PregelMaster& master) const {
    if (master.superstep() > 0 && master.aggregated(change) < tolerance) master.stop();
  }
};

}  // namespace

PregelPageRankResult pregel_pagerank(Topology graph, const PageRankOptions& opt,
                                     const EngineOptions& po, Cluster* cluster) {
  check_pagerank_options(opt);
  if (opt.dynamic) usage_fail("--dynamic has no Pregel form (use --engine chromatic)");
  std::uint64_t global_n = graph.num_owned();
  if (cluster != nullptr) {
    global_n = cluster->collectives.allreduce<std::uint64_t>(global_n, ReduceOp::kSum);
  }
  PregelPageRankResult result;
  if (global_n == 0) return result;
  LocalGraph<double, EmptyData> local(std::move(graph));
  PageRankPregel program{opt.damping, 1.0 / static_cast<double>(global_n), opt.tolerance};
  EngineOptions options = po;
  // Superstep 0 starts; superstep k computes iteration k.
  if (opt.iterations < options.max_iterations) options.max_iterations = opt.iterations + 1;
  PregelEngine<PageRankPregel> engine(local, program, options, cluster);
  program.dangling = engine.add_aggregator("dangling", 0.0, AggregateOp::kSum);
  program.change = engine.add_aggregator("l1_change", 0.0, AggregateOp::kSum);
  engine.init_vertices([&](Lid, double& rank) { rank = program.inverse_n; });
  result.pregel = engine.run();
  result.stats = to_run_stats(result.pregel);
  result.final_change = engine.aggregated(program.change);
  collect_owned(local.topology(), result, [&](Lid v) { return local.vertex_data()[v]; });
  return result;
}

}  // namespace atl
