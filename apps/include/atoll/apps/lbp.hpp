// Loopy belief propagation on a pairwise Markov random field over the undirected graph (each
// edge line is one factor): K states, node potentials from a priors file (uniform for a vertex
// without a line), Potts edge potential psi(a, b) = 1 if a == b else exp(-smoothing * w) with w
// the edge weight (1 when unweighted), optional damping, run until no message moves by more
// than the tolerance. Returns the normalised beliefs (exact marginals on trees).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct LbpOptions {
  std::size_t states = 2;   ///< K, 2..64
  std::string priors;       ///< "gid p_0 ... p_{K-1}" lines (non-negative, not all 0); may be empty
  double smoothing = 1.0;   ///< S >= 0
  double damping = 0.0;     ///< in [0, 1)
  double tolerance = 1e-6;  ///< on the max-norm change of a message
  std::uint64_t iterations = 1000;  ///< at most this many sweeps
};

struct LbpResult : VertexVectors {
  bool converged = false;  ///< false: stopped at the sweep limit with messages still moving
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
LbpResult lbp(Topology graph, const LbpOptions& options, const EngineOptions& engine,
              Cluster* cluster = nullptr);

}  // namespace atl
