// Weakly connected components: each vertex's label is the smallest gid in its component.
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
VertexValues<std::uint64_t> connected_components(Topology graph, const EngineOptions& engine,
                                                 Cluster* cluster = nullptr);

}  // namespace atl
