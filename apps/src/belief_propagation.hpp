// Loopy belief propagation on a pairwise Markov random field (shared by lbp and denoise): K
// states per vertex, node potentials given as log-priors, and the Potts edge potential
// psi(a, b) = 1 if a == b else exp(-smoothing * w) on every edge (w its weight, 1 when
// unweighted; self-loops are constant and ignored). Each edge stores its two messages; an
// update of v recomputes v's outgoing messages from its incoming ones (sum-product, damped)
// and schedules, with the residual as priority, each neighbour whose message moved by more
// than the tolerance: residual scheduling as in GraphLab, on any engine that honours edge
// consistency (an update writes its adjacent edges). No sweep hook is needed: the run ends
// when nothing is scheduled. Beliefs are computed from the final messages after the run.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "fixed_vector.hpp"

namespace atl {

/// The run's parameters (validated by the apps).
struct BpParams {
  std::size_t states = 2;
  double smoothing = 1.0;
  double damping = 0.0;  ///< new message = (1 - damping) x computed + damping x old
  double tolerance = 1e-6;
  std::uint64_t iterations = 1000;  ///< at most this many sweeps
};

/// Usage errors (exit 2) for options out of range.
inline void check_bp_options(std::size_t states, double smoothing, double damping,
                             double tolerance) {
  if (states < 2 || states > kMaxWidth) {
    usage_fail("--states must be in 2..", kMaxWidth, ", got ", states);
  }
  if (!(smoothing >= 0) || std::isinf(smoothing)) {
    usage_fail("--smoothing must be finite and non-negative, got ", smoothing);
  }
  if (!(damping >= 0 && damping < 1)) usage_fail("--damping must be in [0, 1), got ", damping);
  if (!(tolerance >= 0)) usage_fail("--tol must be non-negative, got ", tolerance);
}

struct BpRun {
  std::vector<double> beliefs;  ///< owned vertices in lid order, `states` values each, sum 1
  RunStats stats;
  bool converged = false;  ///< ended with nothing scheduled before the sweep limit
};

namespace detail {

template <std::size_t N>
struct BpVertex {
  std::array<double, N> log_prior;  ///< -inf for a zero potential
};

/// The messages of edge src -> dst, each normalised to sum 1.
template <std::size_t N>
struct BpEdge {
  std::array<double, N> to_dst;
  std::array<double, N> to_src;
};

/// The product of a vertex's prior and incoming messages, in logs, with zero factors counted
/// apart so that one message can be divided out exactly.
template <std::size_t N>
struct BeliefProduct {
  std::array<double, N> log_sum;  ///< log prior + the logs of the non-zero message entries
  std::array<int, N> zeros;       ///< zero message entries

  void start(const std::array<double, N>& log_prior, std::size_t k) {
    for (std::size_t x = 0; x < k; ++x) {
      log_sum[x] = log_prior[x];
      zeros[x] = 0;
    }
  }
  void multiply(const std::array<double, N>& m, std::size_t k) {
    for (std::size_t x = 0; x < k; ++x) {
      if (m[x] > 0) {
        log_sum[x] += std::log(m[x]);
      } else {
        ++zeros[x];
      }
    }
  }
  /// exp(log of the product without message m) into out, scaled so its largest entry is 1
  /// (m null: the whole product); false when every entry is zero.
  bool without(const std::array<double, N>* m, std::size_t k, std::array<double, N>& out) const {
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t x = 0; x < k; ++x) {
      const bool excluded_zero = m != nullptr && (*m)[x] <= 0;
      double l = -std::numeric_limits<double>::infinity();
      if (zeros[x] == (excluded_zero ? 1 : 0)) {
        l = m != nullptr && !excluded_zero ? log_sum[x] - std::log((*m)[x]) : log_sum[x];
      }
      out[x] = l;
      top = std::max(top, l);
    }
    if (top == -std::numeric_limits<double>::infinity()) return false;
    for (std::size_t x = 0; x < k; ++x) out[x] = std::exp(out[x] - top);
    return true;
  }
};

template <std::size_t N>
struct BpProgram {
  using VertexData = BpVertex<N>;
  using EdgeData = BpEdge<N>;
  static constexpr Consistency kConsistency = Consistency::kEdge;

  BpParams params;
  const double* weights;  ///< by edge id; null when unweighted

  void update(Scope<BpProgram>& scope, Context& context) const {
    const std::size_t k = params.states;
    const Lid v = scope.lid();
    BeliefProduct<N> product;
    product.start(scope.vertex().log_prior, k);
    for (auto edge : scope.in_edges()) {
      if (edge.neighbor() != v) product.multiply(edge.data().to_dst, k);
    }
    for (auto edge : scope.out_edges()) {
      if (edge.neighbor() != v) product.multiply(edge.data().to_src, k);
    }
    auto send = [&](auto edge, const std::array<double, N>& incoming,
                    std::array<double, N>& outgoing) {
      std::array<double, N> cavity;
      std::array<double, N> message;
      const double w = weights != nullptr ? weights[edge.id()] : 1.0;
      const double off = std::exp(-params.smoothing * w);  // psi(a, b) for a != b
      double total = 0;
      if (product.without(&incoming, k, cavity)) {
        for (std::size_t x = 0; x < k; ++x) total += cavity[x];
      }
      if (total > 0) {  // sum_a cavity(a) psi(a, b) = off * total + (1 - off) * cavity(b)
        double norm = 0;
        for (std::size_t y = 0; y < k; ++y)
          norm += message[y] = off * total + (1 - off) * cavity[y];
        for (std::size_t y = 0; y < k; ++y) message[y] /= norm;
      } else {
        message.fill(1.0 / static_cast<double>(k));
      }
      double residual = 0;
      for (std::size_t y = 0; y < k; ++y) {
        const double m = (1 - params.damping) * message[y] + params.damping * outgoing[y];
        residual = std::max(residual, std::abs(m - outgoing[y]));
        outgoing[y] = m;
      }
      if (residual > params.tolerance) context.schedule(edge.neighbor(), residual);
      // Damped, the message moved only part of the way: v runs again while the rest of the
      // way (residual x damping / (1 - damping) for unchanged inputs) exceeds the tolerance.
      if (residual * params.damping > params.tolerance * (1 - params.damping)) {
        context.schedule(v, residual);
      }
    };
    for (auto edge : scope.in_edges()) {
      if (edge.neighbor() != v) send(edge, edge.data().to_dst, edge.data().to_src);
    }
    for (auto edge : scope.out_edges()) {
      if (edge.neighbor() != v) send(edge, edge.data().to_src, edge.data().to_dst);
    }
  }
};

}  // namespace detail

/// Runs BP on graph with capacity N >= params.states; log_prior(lid, std::array<double, N>&)
/// fills an owned vertex's log node potentials. With a cluster: collective, graph is this
/// rank's part.
template <std::size_t N, typename LogPrior>
BpRun run_belief_propagation(Topology graph, const BpParams& params, const EngineOptions& eo,
                             Cluster* cluster, LogPrior&& log_prior) {
  using Program = detail::BpProgram<N>;
  using Vertex = detail::BpVertex<N>;
  using EdgeData = detail::BpEdge<N>;
  const std::size_t k = params.states;
  LocalGraph<Vertex, EdgeData> local(std::move(graph));
  const Topology& t = local.topology();
  Program program{params, t.weighted() ? t.weights().data() : nullptr};
  EngineOptions options = eo;
  options.max_iterations = std::min(options.max_iterations, params.iterations);
  BpRun run;
  run.stats = run_graphlab(local, program, options, cluster, [&](auto& engine) {
    engine.init_vertices([&](Lid v, Vertex& d) {
      d.log_prior.fill(0.0);
      log_prior(v, d.log_prior);
    });
    engine.init_edges([&](EdgeId, EdgeData& e) {
      e.to_dst.fill(0.0);
      e.to_src.fill(0.0);
      std::fill_n(e.to_dst.begin(), k, 1.0 / static_cast<double>(k));
      std::fill_n(e.to_src.begin(), k, 1.0 / static_cast<double>(k));
    });
    engine.schedule_all(1.0);
    return engine.run();
  });
  run.converged = run.stats.iterations < options.max_iterations && run.stats.stopped_by.empty();
  // Beliefs from the final messages (every local edge copy is current after the run).
  const Lid n = t.num_owned();
  run.beliefs.resize(std::size_t{n} * k);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, 1024), [&](const tbb::blocked_range<Lid>& r) {
    for (Lid v = r.begin(); v < r.end(); ++v) {
      detail::BeliefProduct<N> product;
      product.start(local.vertex_data()[v].log_prior, k);
      for (std::size_t i = t.in_offsets()[v]; i < t.in_offsets()[v + 1]; ++i) {
        if (t.in_sources()[i] != v)
          product.multiply(local.edge_data()[t.in_edge_ids()[i]].to_dst, k);
      }
      for (EdgeId e = t.out_begin(v); e < t.out_end(v); ++e) {
        if (t.out_targets()[e] != v) product.multiply(local.edge_data()[e].to_src, k);
      }
      std::array<double, N> belief;
      double* out = run.beliefs.data() + std::size_t{v} * k;
      if (!product.without(nullptr, k, belief)) belief.fill(1.0);
      double sum = 0;
      for (std::size_t x = 0; x < k; ++x) sum += belief[x];
      for (std::size_t x = 0; x < k; ++x) out[x] = belief[x] / sum;
    }
  });
  return run;
}

}  // namespace atl
