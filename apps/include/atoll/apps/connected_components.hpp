// Weakly connected components: each vertex's label is the smallest gid in its component.
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

/// How labels start before label propagation.
enum class ComponentsStart {
  /// Each rank first labels the components of the part it holds (a parallel union-find; its
  /// time is part of the run's) and propagation starts from the vertices with a ghost
  /// neighbour: on one rank there is nothing left to propagate.
  kLocalComponents,
  /// Every vertex starts with its own gid and every vertex is scheduled (plain label
  /// propagation; for tests and to measure propagation alone).
  kOwnGid,
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices. A run
/// resumed from a checkpoint starts from the epoch whatever `start` says.
VertexValues<std::uint64_t> connected_components(
    Topology graph, const EngineOptions& engine, Cluster* cluster = nullptr,
    ComponentsStart start = ComponentsStart::kLocalComponents);

}  // namespace atl
