// The lbp app: priors from a file, then belief propagation (belief_propagation.hpp).
#include "atoll/apps/lbp.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "belief_propagation.hpp"
#include "fixed_vector.hpp"
#include "vertex_file.hpp"

namespace atl {

LbpResult lbp(Topology graph, const LbpOptions& opt, const EngineOptions& eo, Cluster* cluster) {
  check_bp_options(opt.states, opt.smoothing, opt.damping, opt.tolerance);
  const std::size_t k = opt.states;
  const Lid n = graph.num_owned();
  LbpResult result;
  result.width = k;
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  std::vector<double> log_prior(std::size_t{n} * k, 0.0);  // uniform without a line
  if (!opt.priors.empty()) {
    VertexFileSpec spec;
    spec.width = k;
    spec.rule = VertexFileSpec::Rule::kNonNegative;
    spec.some_positive = true;
    spec.value_name = "prior";
    const std::string flag = str_cat("--states ", k);
    spec.width_flag = flag.c_str();
    VertexRows rows = read_vertex_rows(opt.priors, spec, graph, cluster);
    for (std::size_t i = 0; i < rows.lids.size(); ++i) {
      const double* p = rows.values.data() + i * k;
      double* out = log_prior.data() + std::size_t{rows.lids[i]} * k;
      for (std::size_t x = 0; x < k; ++x) {
        out[x] = p[x] > 0 ? std::log(p[x]) : -std::numeric_limits<double>::infinity();
      }
    }
  }
  BpParams params{k, opt.smoothing, opt.damping, opt.tolerance, opt.iterations};
  BpRun run = with_capacity(k, [&]<std::size_t N>() {
    return run_belief_propagation<N>(
        std::move(graph), params, eo, cluster, [&](Lid v, std::array<double, N>& out) {
          std::copy_n(log_prior.data() + std::size_t{v} * k, k, out.begin());
        });
  });
  result.values = std::move(run.beliefs);
  result.stats = std::move(run.stats);
  result.converged = run.converged;
  return result;
}

void register_lbp_app() {
  register_app(
      {"lbp", "Loopy belief propagation on a Potts MRF (K beliefs per vertex)",
       std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
       Consistency::kEdge, [](CLI::App& cmd) {
         auto o = std::make_shared<LbpOptions>();
         cmd.add_option("--states", o->states, "States K (2..64)")->capture_default_str();
         cmd.add_option("--priors", o->priors, "Node potentials as 'gid p_0 ... p_K-1' lines");
         cmd.add_option("--smoothing", o->smoothing, "S: psi(a, b) = exp(-S w) when a != b")
             ->capture_default_str();
         cmd.add_option("--damping", o->damping, "Message damping in [0, 1)")
             ->capture_default_str();
         cmd.add_option("--tol", o->tolerance, "Stop when no message moves more than this")
             ->capture_default_str();
         cmd.add_option("--iterations", o->iterations, "At most this many sweeps")
             ->capture_default_str();
         AppRunner runner;
         runner.check = [o] {
           check_bp_options(o->states, o->smoothing, o->damping, o->tolerance);
         };
         runner.run = [o](AppInput& in) {
           LbpResult r = lbp(std::move(in.graph), *o, in.options, in.cluster);
           const bool converged = r.converged;
           const std::uint64_t sweeps = r.stats.iterations;
           AppOutput out = make_output(std::move(r));
           out.summarize = [converged, sweeps](const AppOutput& all) {
             std::printf("lbp: %zu vertices, %s after %llu sweeps\n", all.size(),
                         converged ? "converged" : "NOT converged (stopped at --iterations)",
                         static_cast<unsigned long long>(sweeps));
           };
           return out;
         };
         return runner;
       }});
}

}  // namespace atl
