// Weakly connected components in Pregel form (a min combiner): labels are the smallest gid
// of the component, as connected_components.hpp computes them.
#pragma once

#include <cstdint>

#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pregel_values.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

struct Cluster;

/// `start` as for connected_components(): from the local components, only vertices with a
/// ghost neighbour send in superstep 0.
PregelVertexValues<std::uint64_t> pregel_connected_components(
    Topology graph, const EngineOptions& engine, Cluster* cluster = nullptr,
    ComponentsStart start = ComponentsStart::kLocalComponents);

}  // namespace atl
