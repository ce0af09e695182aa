// PageRank as NetworkX and igraph define it: damping d, rank of vertices without out-edges
// spread uniformly over all vertices, ranks summing to 1. Multi-edges count with their
// multiplicity (use --dedup for the simple-graph value); edge weights are ignored.
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct PageRankOptions {
  double damping = 0.85;
  /// Static: stop when the L1 change of a sweep falls below this. Dynamic: see `dynamic`.
  double tolerance = 1e-9;
  std::uint64_t iterations = 1000;  ///< at most this many sweeps
  /// GraphLab's delta-based dynamic PageRank: a vertex reschedules its out-neighbours only
  /// once its rank moved by more than tolerance x its rank since it last did, so the change
  /// left unpropagated sums to at most tolerance (x the sum of ranks).
  bool dynamic = false;
  /// Neighbours read rank shares as floats instead of doubles: half the bytes per gathered
  /// edge and per ghost sent; the ranks are then accurate to about 1e-7 (GraphLab engines).
  bool float_view = false;
};

struct PageRankResult : VertexValues<double> {
  double final_change = 0;  ///< L1 change of the last sweep (dynamic: unpropagated change)
};

/// Usage errors for out-of-range options (before anything is loaded).
void check_pagerank_options(const PageRankOptions& options);

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
PageRankResult pagerank(Topology graph, const PageRankOptions& options, const EngineOptions& engine,
                        Cluster* cluster = nullptr);

}  // namespace atl
