// PageRank on the chromatic engine under vertex consistency: each update pulls its
// in-neighbours' contributions as of the previous step (the engine's snapshot), so static
// PageRank is exactly the power iteration; the dangling mass and the L1 change are sync
// aggregates computed after every sweep.
#include "atoll/apps/pagerank.hpp"

#include <cmath>
#include <limits>

#include "atoll/common/error.hpp"
#include "atoll/engine/chromatic_engine.hpp"

namespace atl {
namespace {

/// A vertex is read by its out-neighbours only, so one field serves both uses: the rank
/// divided by the out-degree, or the rank itself for a vertex without out-edges (which no
/// update ever reads as a neighbour).
struct PageRankVertex {
  double value;
  double change;  ///< |rank change| of the vertex's last update
};

double rank_of(const PageRankVertex& d, std::size_t out_degree) {
  return out_degree > 0 ? d.value * static_cast<double>(out_degree) : d.value;
}

struct PageRankProgram {
  using VertexData = PageRankVertex;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  double damping;
  double inverse_n;
  double tolerance;  ///< dynamic: relative change that is propagated
  bool dynamic;
  AggregatorHandle<double> dangling;  ///< sum of ranks of vertices without out-edges

  void update(Scope<PageRankProgram>& scope, Context& context) const {
    double sum = 0;
    for (auto edge : scope.in_edges()) sum += edge.neighbor_data().value;
    // Dynamic PageRank drops the dangling mass: the fixpoint of that local system is
    // proportional to PageRank (the teleport and dangling distributions are both uniform),
    // so no update depends on a global value and the result is normalized once at the end.
    double spread = dynamic ? 0.0 : context.aggregate(dangling) * inverse_n;
    double rank = (1.0 - damping) * inverse_n + damping * (sum + spread);
    PageRankVertex& self = scope.vertex();
    const std::size_t out = scope.out_degree();
    double change = std::abs(rank - rank_of(self, out));
    self.value = out > 0 ? rank / static_cast<double>(out) : rank;
    self.change = change;
    // Static PageRank reschedules every vertex after each sweep (in the sweep hook).
    // Dynamic: propagate a change only when it exceeds tolerance x rank, so the change left
    // unpropagated over all vertices stays below tolerance x (sum of ranks) = tolerance.
    if (dynamic && change > tolerance * rank) context.schedule_out_neighbors(scope, change);
  }
};

}  // namespace

PageRankResult pagerank(Topology graph, const PageRankOptions& opt, const EngineOptions& eo,
                        Cluster* cluster) {
  if (!(opt.damping >= 0 && opt.damping <= 1)) {
    usage_fail("--damping must be in [0, 1], got ", opt.damping);
  }
  if (!(opt.tolerance >= 0)) usage_fail("--tol must be non-negative, got ", opt.tolerance);
  PageRankResult result;
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  std::uint64_t global_n = n;
  if (cluster != nullptr) {
    global_n = cluster->collectives.allreduce<std::uint64_t>(n, ReduceOp::kSum);
  }
  if (global_n == 0) return result;

  LocalGraph<PageRankVertex, EmptyData> local(std::move(graph));
  PageRankProgram program{
      opt.damping, 1.0 / static_cast<double>(global_n), opt.tolerance, opt.dynamic, {}};
  EngineOptions options = eo;
  options.max_sweeps = std::min(options.max_sweeps, opt.iterations);
  ChromaticEngine<PageRankProgram> engine(local, program, options, cluster);
  engine.init_vertices([&](Lid v, PageRankVertex& d) {
    // Dynamic starts from the teleport term, a lower bound of its fixpoint everywhere, so
    // ranks only rise towards it; static starts from the uniform distribution.
    double rank = opt.dynamic ? (1.0 - opt.damping) * program.inverse_n : program.inverse_n;
    std::size_t out = local.topology().out_degree(v);
    d = {out > 0 ? rank / static_cast<double>(out) : rank, 0.0};
  });
  auto sum = [](double a, double b) { return a + b; };
  auto same = [](double x) { return x; };
  program.dangling = engine.add_aggregator(
      "dangling", 0.0,
      [](const PageRankVertex& d, const VertexInfo& info) {
        return info.out_degree == 0 ? d.value : 0.0;
      },
      sum, same, SyncInterval::every_sweep());
  AggregatorHandle<double> l1 = engine.add_aggregator(
      "l1_change", 0.0, [](const PageRankVertex& d, const VertexInfo&) { return d.change; }, sum,
      same, SyncInterval::every_sweep());
  result.final_change = std::numeric_limits<double>::infinity();
  auto hook = [&](SweepRecord& record) {
    record.residual = engine.aggregate(l1);
    result.final_change = record.residual;
    if (!opt.dynamic) {
      if (record.residual < opt.tolerance) return false;
      engine.schedule_all();
      return true;
    }
    // A sweep's change is that of the vertices it updated: clear the others' old values.
    engine.init_vertices([](Lid, PageRankVertex& d) { d.change = 0; });
    return true;
  };
  engine.schedule_all(1.0);
  result.stats = engine.run(hook);
  result.values.resize(n);
  double total = 0;
  for (Lid v = 0; v < n; ++v) {
    result.values[v] = rank_of(local.vertex_data()[v], local.topology().out_degree(v));
    total += result.values[v];
  }
  if (cluster != nullptr) total = cluster->collectives.allreduce(total, ReduceOp::kSum);
  if (opt.dynamic && total > 0) {
    for (double& x : result.values) x /= total;
  }
  return result;
}

}  // namespace atl
