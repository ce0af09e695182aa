// Jacobi on the chromatic engine under vertex consistency: a row reads its neighbours' x as of
// the previous step (the engine's snapshot), so a sweep is exactly one Jacobi iteration. The
// program needs one thing from the sweep hook: after every sweep, the max change (an
// aggregate) decides whether every row runs again. Under a stronger consistency (or an
// asynchronous engine) rows read fresher values: Gauss-Seidel-like, same fixpoint.
#include "atoll/apps/jacobi.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "collective_check.hpp"
#include "vertex_file.hpp"

namespace atl {
namespace {

struct JacobiVertex {
  double x;
  double change;  ///< |change| of the last update
};

struct JacobiProgram {
  using VertexData = JacobiVertex;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  const double* b;         ///< by owned lid
  const double* diagonal;  ///< A_ii by owned lid
  const double* weights;   ///< A_ij by edge id

  void update(Scope<JacobiProgram>& scope, Context&) const {
    const Lid v = scope.lid();
    double sum = 0;
    for (auto edge : scope.out_edges()) {
      if (edge.neighbor() != v) sum += weights[edge.id()] * edge.neighbor_data().x;
    }
    const double x = (b[v] - sum) / diagonal[v];
    scope.vertex().change = std::abs(x - scope.vertex().x);
    scope.vertex().x = x;
  }
};

void check_options(const JacobiOptions& opt) {
  if (!(opt.tolerance >= 0)) usage_fail("--tol must be non-negative, got ", opt.tolerance);
}

}  // namespace

JacobiResult jacobi(Topology graph, const JacobiOptions& opt, const EngineOptions& eo,
                    Cluster* cluster) {
  check_options(opt);
  if (!graph.weighted()) {
    fail(
        "jacobi needs a matrix with values (a pattern Matrix Market file or an edge list "
        "without weights has none)");
  }
  const Lid n = graph.num_owned();
  JacobiResult result;
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  std::vector<double> diagonal(n, 0.0);
  for (Lid v = 0; v < n; ++v) {
    for (EdgeId e = graph.out_begin(v); e < graph.out_end(v); ++e) {
      if (graph.out_targets()[e] == v) diagonal[v] += graph.weights()[e];
    }
  }
  auto zero = std::find(diagonal.begin(), diagonal.end(), 0.0);
  fail_on_any_rank(cluster,
                   zero == diagonal.end()
                       ? std::string()
                       : str_cat("row ", graph.gid(static_cast<Lid>(zero - diagonal.begin())),
                                 ": the diagonal entry is zero or missing (Jacobi divides by it)"));
  std::vector<double> b(n, 0.0);
  if (!opt.rhs.empty()) {
    VertexFileSpec spec;
    spec.value_name = "right-hand side value";
    VertexRows rows = read_vertex_rows(opt.rhs, spec, graph, cluster);
    for (std::size_t i = 0; i < rows.lids.size(); ++i) b[rows.lids[i]] = rows.values[i];
  }

  LocalGraph<JacobiVertex, EmptyData> local(std::move(graph));
  JacobiProgram program{b.data(), diagonal.data(), local.topology().weights().data()};
  EngineOptions options = eo;
  options.max_iterations = std::min(options.max_iterations, opt.iterations);
  bool converged = false;
  result.final_change = std::numeric_limits<double>::infinity();
  result.stats = run_graphlab(local, program, options, cluster, [&](auto& engine) {
    engine.init_vertices([](Lid, JacobiVertex& d) { d = {0.0, 0.0}; });
    AggregatorHandle<double> max_change = engine.add_aggregator(
        "max_change", 0.0, [](const JacobiVertex& d, const VertexInfo&) { return d.change; },
        [](double a, double c) { return std::isnan(a) || a > c ? a : c; },
        [](double x) { return x; }, SyncInterval::every_iteration());
    auto hook = [&](IterationRecord& record) {
      record.residual = result.final_change = engine.aggregate(max_change);
      if (!std::isfinite(record.residual)) return false;  // diverged: reported below
      converged = record.residual <= opt.tolerance;
      if (converged) return false;
      engine.schedule_all();
      return true;
    };
    engine.schedule_all();
    return engine.run(hook);
  });
  if (!std::isfinite(result.final_change)) {
    fail("jacobi diverged after ", result.stats.iterations,
         " sweeps (the largest change is not finite; is A diagonally dominant?)");
  }
  if (!converged) {
    fail("jacobi did not converge in ", result.stats.iterations,
         " sweeps: the last sweep changed x by ", result.final_change, " > --tol ", opt.tolerance);
  }
  result.values.resize(n);
  for (Lid v = 0; v < n; ++v) result.values[v] = local.vertex_data()[v].x;
  return result;
}

void register_jacobi_app() {
  register_app({"jacobi", "Solve A x = b by Jacobi iteration (A: a square Matrix Market file)",
                std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
                JacobiProgram::kConsistency, [](CLI::App& cmd) {
                  auto o = std::make_shared<JacobiOptions>();
                  cmd.add_option("--rhs", o->rhs, "b as 'gid value' lines (missing rows: 0)");
                  cmd.add_option("--tol", o->tolerance, "Stop when no x_i moves more in a sweep")
                      ->capture_default_str();
                  cmd.add_option("--iterations", o->iterations, "At most this many sweeps")
                      ->capture_default_str();
                  AppRunner runner;
                  runner.check = [o] { check_options(*o); };
                  runner.run = [o](AppInput& in) {
                    JacobiResult r = jacobi(std::move(in.graph), *o, in.options, in.cluster);
                    const double change = r.final_change;
                    const std::uint64_t sweeps = r.stats.iterations;
                    AppOutput out = make_output(std::move(r));
                    out.summarize = [change, sweeps](const AppOutput& all) {
                      std::printf("jacobi: %zu rows converged in %llu sweeps (last change %.3g)\n",
                                  all.size(), static_cast<unsigned long long>(sweeps), change);
                    };
                    return out;
                  };
                  return runner;
                }});
}

}  // namespace atl
