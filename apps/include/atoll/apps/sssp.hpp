// Single-source shortest paths over the input's weights (1 per edge when unweighted);
// unreachable vertices get +infinity. Weights must be non-negative.
#pragma once

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

/// How distances start before the engine's Bellman-Ford.
enum class SsspStart {
  /// Each rank first runs delta-stepping over the part it holds (apps/src/local_sssp.hpp; its
  /// time is part of the run's) and the engine starts from the owned vertices with a ghost
  /// in-neighbour: on one rank there is nothing left to relax.
  kLocal,
  /// Only the source is at 0; the engine starts from its out-neighbours.
  kSource,
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices. A run
/// resumed from a checkpoint starts from the epoch whatever `start` says.
VertexValues<double> sssp(Topology graph, Gid source, const EngineOptions& engine,
                          Cluster* cluster = nullptr, SsspStart start = SsspStart::kLocal);

}  // namespace atl
