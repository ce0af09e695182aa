// Alternating least squares matrix factorisation for recommendation (Zhou et al. 2008, as in
// GraphLab's Netflix app): the graph is a users x items ratings matrix in the bipartite layout
// (users 1..m rate items m+1..m+n; edge weight = rating). Each vertex gets a factor of D values;
// an update solves its regularised least-squares problem against its neighbours' factors
// (weighted-lambda: lambda times its number of ratings). Prediction: p_u . q_i.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct AlsOptions {
  std::size_t rank = 10;          ///< D, 1..64
  double lambda = 0.065;          ///< >= 0
  std::uint64_t iterations = 10;  ///< sweeps (each updates every user and every item)
  std::string test;  ///< optional held-out ratings: a Matrix Market file of the same shape
};

struct AlsResult : VertexVectors {
  double train_rmse = std::numeric_limits<double>::quiet_NaN();  ///< after the last sweep
  double test_rmse = std::numeric_limits<double>::quiet_NaN();   ///< NaN without a test set
  std::vector<double> train_rmse_by_sweep;
  std::vector<double> test_rmse_by_sweep;  ///< empty without a test set
};

/// Factors of every vertex (users then items, by gid). With a cluster, graph is this rank's
/// part and the result holds its owned vertices; the RMSEs are global.
AlsResult als(Topology graph, const AlsOptions& options, const EngineOptions& engine,
              Cluster* cluster = nullptr);

}  // namespace atl
