// The local phase of SSSP: delta-stepping over the graph one rank holds (its owned vertices,
// its ghosts and the out-edges between them), in parallel, on one contiguous distance array.
// Every distance it writes is the length of a path of the local graph, so it never goes below
// the true distance; without ghosts (one rank) it is the true distance.
#pragma once

#include <span>

#include "atoll/graph/topology.hpp"

namespace atl::detail {

/// The mean and the smallest of `graph`'s positive edge weights (both 1 when it has none).
struct PositiveWeights {
  double mean = 1;
  double smallest = 1;
};
PositiveWeights positive_weights(const Topology& graph);

/// A bucket width for delta-stepping on `graph`: 1 unweighted, else 1/64 of the mean positive
/// weight but at least the smallest positive weight (1 when every weight is 0).
double default_delta(const Topology& graph);

/// Lowers dist (one entry per local vertex, +inf for unreached) to the shortest distances
/// through the local graph from `sources`, whose entries already hold their start distances;
/// weights are the topology's (1 when unweighted) and must be non-negative. Buckets of width
/// `delta`; runs on `threads` threads (0: TBB's default). Lock-free (an atomic minimum per
/// relaxation); memory besides dist is the buckets' vertex lists.
void relax_shortest_paths(const Topology& graph, std::span<const Lid> sources, double delta,
                          int threads, std::span<double> dist);

}  // namespace atl::detail
