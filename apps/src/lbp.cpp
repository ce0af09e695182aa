// The lbp app: priors from a file, then belief propagation (belief_propagation.hpp).
#include "atoll/apps/lbp.hpp"

#include <cmath>
#include <limits>
#include <vector>

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

}  // namespace atl
