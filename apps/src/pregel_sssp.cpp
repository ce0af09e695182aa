// Shortest paths as a Pregel program: a vertex whose distance drops (the source to 0 in
// superstep 0) sends its distance plus the edge weight along every out-edge; all vote to
// halt, so the run ends when no distance moves. From the local start (the default), each rank
// first computes the distances through its own part by delta-stepping (local_sssp.hpp), so
// every edge between two of its vertices already holds; in superstep 0 only the vertices with
// an out-edge to another rank's vertex send, and messages carry on from what they improve.
#include "atoll/apps/pregel_sssp.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/pregel_engine.hpp"
#include "local_sssp.hpp"

namespace atl {
namespace {

constexpr double kUnreached = std::numeric_limits<double>::infinity();

struct SsspPregel {
  using VertexValue = double;   ///< distance
  using EdgeValue = EmptyData;  ///< the weights are read in place (Edge::weight)
  using Message = double;       ///< a distance through an in-neighbour

  Gid source;
  /// Local start: per owned lid, whether it has an out-edge to a ghost (null: plain start).
  const std::vector<char>* boundary = nullptr;

  double combine(double a, double b) const { return std::min(a, b); }

  void compute(PregelVertex<SsspPregel>& vertex, std::span<const double> messages) const {
    double& distance = vertex.value();
    double best = kUnreached;
    if (vertex.superstep() == 0) {
      if (boundary != nullptr) {  // local distances are in place: send across the cut
        if ((*boundary)[vertex.lid()] != 0 && distance < kUnreached) {
          for (auto edge : vertex.out_edges()) edge.send(distance + edge.weight());
        }
        vertex.vote_to_halt();
        return;
      }
      distance = kUnreached;
      if (vertex.gid() == source) best = 0;
    }
    for (double m : messages) best = std::min(best, m);
    if (best < distance) {
      distance = best;
      for (auto edge : vertex.out_edges()) edge.send(distance + edge.weight());
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
                                       Cluster* cluster, SsspStart start) {
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
  LocalGraph<double, EmptyData> local(std::move(graph));
  SsspPregel program{source};
  // A resumed run's epoch replaces the start's distances.
  const bool local_start = start == SsspStart::kLocal && options.checkpoint.resume.empty();
  std::vector<char> boundary;
  std::vector<double> dist;
  Timer local_timer;
  if (local_start) {
    const Topology& t = local.topology();
    const Lid n = t.num_owned();
    boundary.resize(n);
    for (Lid v = 0; v < n; ++v) {
      boundary[v] = std::ranges::any_of(t.out_neighbors(v), [n](Lid u) { return u >= n; });
    }
    dist.assign(t.num_vertices(), kUnreached);
    if (src != kInvalidLid && src < n) {
      dist[src] = 0;
      const Lid sources[] = {src};
      detail::relax_shortest_paths(t, sources, detail::default_delta(t), options.threads, dist);
    }
    program.boundary = &boundary;
  }
  const double local_seconds = local_timer.seconds();
  PregelEngine<SsspPregel> engine(local, program, options, cluster);
  if (local_start) engine.init_vertices([&](Lid v, double& d) { d = dist[v]; });
  result.pregel = engine.run();
  result.stats = to_run_stats(result.pregel);
  result.stats.seconds += local_seconds;  // the kernel is both phases
  collect_owned(local.topology(), result, [&](Lid v) { return local.vertex_data()[v]; });
  return result;
}

}  // namespace atl
