// CoEM on the chromatic engine under vertex consistency: each update averages its neighbours'
// scores as of the previous step (a Jacobi sweep of the harmonic equations). The program needs
// from the sweep hook only the global stop decision: after every sweep the max score change
// (an aggregate) decides whether every vertex runs again.
#include "atoll/apps/coem.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "collective_check.hpp"
#include "fixed_vector.hpp"
#include "vertex_file.hpp"

namespace atl {
namespace {

template <std::size_t N>
struct CoemVertex {
  std::array<double, N> score;
  double change;  ///< max |score change| of the last update
};

template <std::size_t N>
struct CoemProgram {
  using VertexData = CoemVertex<N>;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  std::size_t types;
  const char* is_seed;    ///< by owned lid
  const double* weights;  ///< by edge id; null when unweighted (all 1)

  void update(Scope<CoemProgram>& scope, Context&) const {
    VertexData& self = scope.vertex();
    if (is_seed[scope.lid()] != 0) {
      self.change = 0;
      return;
    }
    std::array<double, N> sum{};
    double total = 0;
    auto add = [&](auto edge) {
      const double w = weights != nullptr ? weights[edge.id()] : 1.0;
      const auto& s = edge.neighbor_data().score;
      for (std::size_t k = 0; k < types; ++k) sum[k] += w * s[k];
      total += w;
    };
    for (auto edge : scope.in_edges()) add(edge);
    for (auto edge : scope.out_edges()) add(edge);
    double change = 0;
    if (total > 0) {
      for (std::size_t k = 0; k < types; ++k) {
        const double s = sum[k] / total;
        change = std::max(change, std::abs(s - self.score[k]));
        self.score[k] = s;
      }
    }
    self.change = change;
  }
};

template <std::size_t N>
CoemResult run_coem(Topology graph, const CoemOptions& opt, const EngineOptions& eo,
                    Cluster* cluster) {
  const Lid n = graph.num_owned();
  CoemResult result;
  result.width = opt.types;
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  std::string bad_weight;
  if (graph.weighted()) {
    for (Lid v = 0; v < n && bad_weight.empty(); ++v) {
      for (EdgeId e = graph.out_begin(v); e < graph.out_end(v); ++e) {
        if (graph.weights()[e] < 0) {
          bad_weight = str_cat("coem: edge ", graph.gid(v), " -> ",
                               graph.gid(graph.out_targets()[e]), " has negative weight ",
                               graph.weights()[e], " (weights must be non-negative)");
          break;
        }
      }
    }
  }
  fail_on_any_rank(cluster, bad_weight);
  VertexFileSpec spec;
  spec.rule = VertexFileSpec::Rule::kIndexBelow;
  spec.bound = opt.types;
  spec.value_name = "seed type";
  VertexRows seeds = read_vertex_rows(opt.seeds, spec, graph, cluster);
  std::vector<char> is_seed(n, 0);
  for (Lid v : seeds.lids) is_seed[v] = 1;

  using Vertex = CoemVertex<N>;
  LocalGraph<Vertex, EmptyData> local(std::move(graph));
  const Topology& t = local.topology();
  CoemProgram<N> program{opt.types, is_seed.data(), t.weighted() ? t.weights().data() : nullptr};
  EngineOptions options = eo;
  options.max_iterations = std::min(options.max_iterations, opt.iterations);
  std::vector<std::size_t> seed_type(n, 0);
  for (std::size_t i = 0; i < seeds.lids.size(); ++i) {
    seed_type[seeds.lids[i]] = static_cast<std::size_t>(seeds.values[i]);
  }
  result.final_change = std::numeric_limits<double>::infinity();
  result.stats = run_graphlab(local, program, options, cluster, [&](auto& engine) {
    engine.init_vertices([&](Lid v, Vertex& d) {
      d.score.fill(0.0);
      if (is_seed[v] != 0) d.score[seed_type[v]] = 1.0;
      d.change = 0;
    });
    AggregatorHandle<double> max_change = engine.add_aggregator(
        "max_change", 0.0, [](const Vertex& d, const VertexInfo&) { return d.change; },
        [](double a, double c) { return std::max(a, c); }, [](double x) { return x; },
        SyncInterval::every_iteration());
    auto hook = [&](IterationRecord& record) {
      record.residual = result.final_change = engine.aggregate(max_change);
      if (record.residual <= opt.tolerance) return false;
      engine.schedule_all();
      return true;
    };
    engine.schedule_all();
    return engine.run(hook);
  });
  result.values.resize(static_cast<std::size_t>(n) * opt.types);
  for (Lid v = 0; v < n; ++v) {
    const Vertex& d = local.vertex_data()[v];
    std::copy_n(d.score.begin(), opt.types, result.values.begin() + std::size_t{v} * opt.types);
  }
  return result;
}

void check_options(const CoemOptions& opt) {
  if (opt.types < 2 || opt.types > kMaxWidth) {
    usage_fail("--types must be in 2..", kMaxWidth, ", got ", opt.types);
  }
  if (!(opt.tolerance >= 0)) usage_fail("--tol must be non-negative, got ", opt.tolerance);
  if (opt.seeds.empty()) usage_fail("coem needs --seeds FILE (lines 'gid type')");
}

}  // namespace

CoemResult coem(Topology graph, const CoemOptions& opt, const EngineOptions& eo, Cluster* cluster) {
  check_options(opt);
  return with_capacity(
      opt.types, [&]<std::size_t N>() { return run_coem<N>(std::move(graph), opt, eo, cluster); });
}

void register_coem_app() {
  register_app(
      {"coem", "CoEM label spreading from seed vertices (K scores per vertex)",
       std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
       Consistency::kVertex, [](CLI::App& cmd) {
         auto o = std::make_shared<CoemOptions>();
         cmd.add_option("--types", o->types, "Number of types K (2..64)")->capture_default_str();
         cmd.add_option("--seeds", o->seeds, "Seeds as 'gid type' lines")->required();
         cmd.add_option("--tol", o->tolerance, "Stop when no score moves more in a sweep")
             ->capture_default_str();
         cmd.add_option("--iterations", o->iterations, "At most this many sweeps")
             ->capture_default_str();
         AppRunner runner;
         runner.check = [o] { check_options(*o); };
         runner.run = [o](AppInput& in) {
           CoemResult r = coem(std::move(in.graph), *o, in.options, in.cluster);
           const double change = r.final_change;
           AppOutput out = make_output(std::move(r));
           out.summarize = [change, k = o->types](const AppOutput& all) {
             std::size_t scored = 0;
             for (std::size_t i = 0; i < all.size(); ++i) {
               double sum = 0;
               for (std::size_t t = 0; t < k; ++t) sum += all.value_at<double>(i, t);
               scored += sum > 0;
             }
             std::printf("coem: %zu of %zu vertices have a score (last change %.3g)\n", scored,
                         all.size(), change);
           };
           return out;
         };
         return runner;
       }});
}

}  // namespace atl
