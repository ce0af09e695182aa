// CoEM label spreading (Jones 2005) on a weighted undirected graph: seed vertices keep the
// one-hot vector of their type; every other vertex's scores become the edge-weighted average
// of its neighbours' scores (in- and out-edges alike, weight 1 when unweighted), from 0 until no
// score moves by more than the tolerance in a sweep. A vertex with no path to a seed stays 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct CoemOptions {
  std::size_t types = 2;             ///< K, 2..64
  std::string seeds;                 ///< "gid type" lines, type in 0..K-1 (required)
  double tolerance = 1e-6;           ///< max |score change| of a sweep at which the run stops
  std::uint64_t iterations = 10000;  ///< at most this many sweeps
};

struct CoemResult : VertexVectors {
  double final_change = 0;  ///< max |score change| of the last sweep
};

/// Scores per vertex (K values). Weights must be non-negative. With a cluster, graph is this
/// rank's part and the result holds its owned vertices.
CoemResult coem(Topology graph, const CoemOptions& options, const EngineOptions& engine,
                Cluster* cluster = nullptr);

}  // namespace atl
