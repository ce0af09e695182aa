// Jacobi iteration for A x = b: A is the graph read as a square matrix (the edge i -> j of
// weight w is the entry A_ij = w; repeated entries add up), row i is vertex i, and
// x_i <- (b_i - sum_{j != i} A_ij x_j) / A_ii runs until no x_i moves by more than the
// tolerance in a sweep (converges for diagonally dominant A).
#pragma once

#include <cstdint>
#include <string>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct JacobiOptions {
  std::string rhs;          ///< "gid value" lines; a row without a line has b = 0; empty: b = 0
  double tolerance = 1e-9;  ///< max |change| of a sweep at which the run has converged
  std::uint64_t iterations = 10000;  ///< at most this many sweeps
};

struct JacobiResult : VertexValues<double> {
  double final_change = 0;  ///< max |change| of the last sweep
};

/// Throws (exit 1) on a zero or missing diagonal entry (naming the row), a matrix without
/// values, or a run that does not converge within the iterations. With a cluster, graph is this
/// rank's part and the result holds its owned rows.
JacobiResult jacobi(Topology graph, const JacobiOptions& options, const EngineOptions& engine,
                    Cluster* cluster = nullptr);

}  // namespace atl
