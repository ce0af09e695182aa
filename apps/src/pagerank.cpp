// PageRank on the chromatic engine under vertex consistency: each update pulls its
// in-neighbours' contributions as of the previous step (the engine's snapshot), so static
// PageRank is exactly the power iteration; the dangling mass and the L1 change are sync
// aggregates computed after every sweep.
//
// Dynamic PageRank (GraphLab's delta-based variant) runs the same updates but schedules a
// vertex only when an in-neighbour's rank moved by more than the tolerance. Every rank also
// depends on one global value, the dangling mass spread over all vertices; while it still moves
// every vertex must be updated anyway, so the run starts with dense sweeps (all vertices, no
// per-edge scheduling: the power iteration itself) and turns sparse, with the global value
// frozen, once the vertices that propagate a change own less than kSparseEdges of the edges.
// It is frozen earlier when that feedback does not make the iteration converge faster (DAGs,
// citation graphs), so that vertices whose inputs settled stop changing. Freezing it is exact: the
// teleport and dangling distributions are both uniform, so the fixpoint for any fixed spread is
// proportional to PageRank, and the result is normalized at the end.
#include "atoll/apps/pagerank.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "atoll/apps/app.hpp"
#include "atoll/apps/pregel_pagerank.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"

namespace atl {
namespace {

/// Dynamic mode turns sparse when the vertices that propagated in a dense sweep own less than
/// this fraction of the edges: a sparse sweep pays a schedule request per such edge on top of
/// the updates, so beyond it a dense sweep of every vertex is cheaper.
constexpr double kSparseEdges = 0.5;
/// The dangling feedback is kept while its convergence rate is below this fraction of the
/// estimated rate without it.
constexpr double kFeedbackGain = 0.95;

/// A vertex is read by its out-neighbours only, so one field serves both uses: the rank
/// divided by the out-degree, or the rank itself for a vertex without out-edges (which no
/// update ever reads as a neighbour).
struct PageRankVertex {
  double value;
  /// Static: |rank change| of the vertex's last update. Dynamic: its signed rank change in a
  /// dense sweep; in the sparse phase the signed change not yet propagated to out-neighbours.
  double change;
};

double rank_of(const PageRankVertex& d, std::size_t out_degree) {
  return out_degree > 0 ? d.value * static_cast<double>(out_degree) : d.value;
}

enum class Phase : std::uint8_t {
  kDense,        ///< every vertex runs each sweep; nothing is scheduled by updates
  kFirstSparse,  ///< every vertex runs once more and schedules by the rule
  kSparse,       ///< only scheduled vertices run
};

/// View: what neighbours read of a vertex, its rank share as a double, or as a float (--float:
/// half the bytes gathered per edge and sent per ghost; the sums stay in double).
template <typename View>
struct PageRankProgram {
  using VertexData = PageRankVertex;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;
  /// Neighbours read only the rank share (the engine copies and ships only this per vertex).
  using NeighborView = View;
  static View neighbor_view(const PageRankVertex& d) { return static_cast<View>(d.value); }

  double damping;
  double inverse_n;
  double tolerance;  ///< dynamic: relative rank change that is propagated
  bool dynamic;
  Phase phase = Phase::kDense;  ///< dynamic only
  bool frozen = false;          ///< updates use frozen_spread instead of the dangling aggregate
  double frozen_spread = 0;
  AggregatorHandle<double> dangling = {};  ///< sum of ranks of vertices without out-edges

  void update(Scope<PageRankProgram>& scope, Context& context) const {
    const double sum = scope.sum_in([](View share) { return static_cast<double>(share); });
    double spread = frozen ? frozen_spread : context.aggregate(dangling) * inverse_n;
    double rank = (1.0 - damping) * inverse_n + damping * (sum + spread);
    PageRankVertex& self = scope.vertex();
    const std::size_t out = scope.out_degree();
    double delta = rank - rank_of(self, out);
    self.value = out > 0 ? rank / static_cast<double>(out) : rank;
    if (!dynamic) {  // static: every vertex is rescheduled after each sweep (sweep hook)
      self.change = std::abs(delta);
      return;
    }
    if (phase == Phase::kDense) {  // the sweep hook reschedules every vertex
      self.change = delta;
      return;
    }
    // Propagate once the change accumulated since the last propagation exceeds tolerance x
    // rank: the change left unpropagated over all vertices stays below tolerance x (sum of
    // ranks). The first sparse sweep reads every vertex's latest value, so it starts afresh.
    self.change = phase == Phase::kFirstSparse ? delta : self.change + delta;
    if (std::abs(self.change) > tolerance * rank) {
      self.change = 0;
      context.schedule_out_neighbors(scope);
    }
  }
};

}  // namespace

void check_pagerank_options(const PageRankOptions& opt) {
  if (!(opt.damping >= 0 && opt.damping <= 1)) {
    usage_fail("--damping must be in [0, 1], got ", opt.damping);
  }
  if (!(opt.tolerance >= 0)) usage_fail("--tol must be non-negative, got ", opt.tolerance);
}

namespace {

template <typename View>
PageRankResult run_pagerank(Topology graph, const PageRankOptions& opt, const EngineOptions& eo,
                            Cluster* cluster) {
  PageRankResult result;
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  std::uint64_t global_n = n;
  double global_m = static_cast<double>(graph.owned_edges());
  if (cluster != nullptr) {
    global_n = cluster->collectives.allreduce<std::uint64_t>(n, ReduceOp::kSum);
    global_m = cluster->collectives.allreduce(global_m, ReduceOp::kSum);
  }
  if (global_n == 0) return result;

  LocalGraph<PageRankVertex, EmptyData> local(std::move(graph));
  PageRankProgram<View> program{opt.damping, 1.0 / static_cast<double>(global_n), opt.tolerance,
                                opt.dynamic};
  EngineOptions options = eo;
  options.max_iterations = std::min(options.max_iterations, opt.iterations);
  result.stats = run_graphlab(local, program, options, cluster, [&](auto& engine) {
    engine.init_vertices([&](Lid v, PageRankVertex& d) {
      std::size_t out = local.topology().out_degree(v);
      double rank = program.inverse_n;
      d = {out > 0 ? rank / static_cast<double>(out) : rank, 0.0};
    });
    auto sum = [](double a, double b) { return a + b; };
    auto same = [](double x) { return x; };
    program.dangling = engine.add_aggregator(
        "dangling", 0.0,
        [](const PageRankVertex& d, const VertexInfo& info) {
          return info.out_degree == 0 ? d.value : 0.0;
        },
        sum, same, SyncInterval::every_iteration());
    // Static: the L1 change of the sweep. Dynamic: the rank change not yet propagated.
    AggregatorHandle<double> l1 = engine.add_aggregator(
        "l1_change", 0.0,
        [](const PageRankVertex& d, const VertexInfo&) { return std::abs(d.change); }, sum, same,
        SyncInterval::every_iteration());
    // Dynamic, dense phase: the out-edges of the vertices whose change exceeds the tolerance.
    AggregatorHandle<double> propagating;
    if (opt.dynamic) {
      propagating = engine.add_aggregator(
          "propagating_edges", 0.0,
          [tol = opt.tolerance](const PageRankVertex& d, const VertexInfo& info) {
            bool moved = std::abs(d.change) > tol * rank_of(d, info.out_degree);
            return moved ? static_cast<double>(info.out_degree) : 0.0;
          },
          sum, same, SyncInterval::every_iteration());
    }
    double last_change = std::numeric_limits<double>::infinity();
    result.final_change = std::numeric_limits<double>::infinity();
    // What the hook changes between sweeps, saved with every checkpoint.
    engine.persist("pagerank.phase", program.phase);
    engine.persist("pagerank.frozen", program.frozen);
    engine.persist("pagerank.frozen_spread", program.frozen_spread);
    engine.persist("pagerank.last_change", last_change);
    auto hook = [&](IterationRecord& record) {
      record.residual = engine.aggregate(l1);
      result.final_change = record.residual;
      if (!opt.dynamic) {
        if (record.residual < opt.tolerance) return false;
        engine.schedule_all();
        return true;
      }
      if (program.phase != Phase::kDense) {  // the updates scheduled what has to run
        program.phase = Phase::kSparse;
        return true;
      }
      // After a dense sweep. Keep the dangling feedback only while it converges clearly faster
      // than the system without it, whose slowest mode shrinks by about damping x (1 - dangling
      // mass) per sweep: the rate with the feedback is the ratio of the last two sweeps'
      // changes. Frozen, vertices whose inputs settled stop changing at all (a DAG's sources
      // first), which is what lets the sparse phase skip them.
      const double dangling_mass = engine.aggregate(program.dangling);
      const double rate = record.residual / last_change;
      last_change = record.residual;
      if (!program.frozen && record.iteration >= 2 &&
          rate >= kFeedbackGain * opt.damping * (1 - dangling_mass)) {
        program.frozen = true;
        program.frozen_spread = dangling_mass * program.inverse_n;
      }
      // Every vertex runs next: all read the new spread, or some in-neighbour of theirs moved.
      // Sparse from then on when the vertices that moved own few edges.
      double edges = engine.aggregate(propagating);
      if (edges == 0) return false;  // no change to propagate anywhere
      if (edges < kSparseEdges * global_m) {
        program.phase = Phase::kFirstSparse;
        if (!program.frozen) {
          program.frozen = true;
          program.frozen_spread = dangling_mass * program.inverse_n;
        }
      }
      engine.schedule_all();
      return true;
    };
    engine.schedule_all(1.0);
    auto stats = engine.run(hook);
    // Resumed from an epoch written after the last sweep: no sweep ran, and the change to
    // report is the last one, restored with the aggregators.
    if (std::isinf(result.final_change) && !eo.checkpoint.resume.empty())
      result.final_change = engine.aggregate(l1);
    return stats;
  });
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

}  // namespace

PageRankResult pagerank(Topology graph, const PageRankOptions& opt, const EngineOptions& eo,
                        Cluster* cluster) {
  check_pagerank_options(opt);
  return opt.float_view ? run_pagerank<float>(std::move(graph), opt, eo, cluster)
                        : run_pagerank<double>(std::move(graph), opt, eo, cluster);
}

void register_pagerank_app() {
  struct Options {
    PageRankOptions pr;
    std::size_t top = 10;
  };
  register_app(
      {"pagerank", "PageRank (static power iteration or --dynamic)", graphlab_and_pregel_engines(),
       PageRankProgram<double>::kConsistency,
       [](CLI::App& cmd) {
         auto o = std::make_shared<Options>();
         cmd.add_option("--damping", o->pr.damping, "Damping factor")->capture_default_str();
         cmd.add_option("--tol", o->pr.tolerance,
                        "Static: stop when a sweep's L1 change is below this. Dynamic: a vertex "
                        "propagates once its rank moved by more than tol x rank")
             ->capture_default_str();
         cmd.add_option("--iterations", o->pr.iterations, "At most this many sweeps")
             ->capture_default_str();
         cmd.add_flag("--dynamic", o->pr.dynamic,
                      "GraphLab's delta-based dynamic PageRank: update only vertices whose "
                      "in-neighbours moved (see --tol)");
         cmd.add_flag("--float", o->pr.float_view,
                      "Neighbours read each rank share as a 4-byte float (half the memory "
                      "traffic of the gather and of the ghost pushes; ranks accurate to about "
                      "1e-7, so use --tol 1e-6 or above; chromatic and locking engines)");
         cmd.add_option("--top", o->top, "Print the top K vertices")->capture_default_str();
         AppRunner runner;
         runner.check = [o, command = &cmd] {
           check_pagerank_options(o->pr);
           const CLI::Option* engine = command->get_option_no_throw("--engine");
           if (o->pr.float_view && engine != nullptr && engine->count() > 0 &&
               engine->as<std::string>() == "pregel") {
             usage_fail(
                 "--float is for the chromatic and locking engines (Pregel messages "
                 "are doubles)");
           }
         };
         runner.run = [o](AppInput& in) {
           double final_change = 0;
           AppOutput out;
           if (in.options.engine == EngineKind::kPregel) {
             PregelPageRankResult r =
                 pregel_pagerank(std::move(in.graph), o->pr, in.options, in.cluster);
             final_change = r.final_change;
             out = make_output(std::move(r));
           } else {
             PageRankResult r = pagerank(std::move(in.graph), o->pr, in.options, in.cluster);
             final_change = r.final_change;
             out = make_output(std::move(r));
           }
           out.summarize = [o, final_change](const AppOutput& all) {
             std::vector<double> ranks(all.size());
             for (std::size_t i = 0; i < all.size(); ++i) ranks[i] = all.value<double>(i);
             std::printf("pagerank: final L1 change %.3g, rank sum %.15g\n", final_change,
                         std::accumulate(ranks.begin(), ranks.end(), 0.0));
             // Static: converged once a sweep changed less than --tol. Dynamic: once nothing
             // was left to propagate (no vertex still scheduled).
             const RunStats& s = all.stats;
             const bool converged = o->pr.dynamic ? s.still_scheduled == 0 && s.stopped_by.empty()
                                                  : final_change < o->pr.tolerance;
             if (!converged && o->pr.tolerance > 0) {
               const std::string why =
                   o->pr.dynamic
                       ? str_cat(s.still_scheduled, " vertices still scheduled")
                       : str_cat("L1 change ", final_change, ", above --tol ", o->pr.tolerance);
               std::printf(
                   "pagerank: did not converge: stopped after %llu iterations with %s "
                   "(%s)\n",
                   static_cast<unsigned long long>(s.iterations), why.c_str(),
                   s.stopped_by.empty() ? "an iteration limit: --iterations or --max-sweeps"
                                        : ("stopped by " + s.stopped_by).c_str());
             }
             std::vector<std::size_t> order(ranks.size());
             std::iota(order.begin(), order.end(), 0);
             const std::size_t k = std::min(o->top, order.size());
             std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k),
                               order.end(),
                               [&](std::size_t a, std::size_t b) { return ranks[a] > ranks[b]; });
             for (std::size_t i = 0; i < k; ++i) {
               std::printf("  #%zu  vertex %llu  rank %.6g\n", i + 1,
                           static_cast<unsigned long long>(all.gids[order[i]]), ranks[order[i]]);
             }
           };
           return out;
         };
         return runner;
       },
       /*needs_graph=*/true, /*writes_out=*/false, MtxLayout::kAuto, /*any_vertex_order=*/true});
}

}  // namespace atl
