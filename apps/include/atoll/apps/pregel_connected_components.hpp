// Weakly connected components in Pregel form (a min combiner): labels are the smallest gid
// of the component, as connected_components.hpp computes them.
#pragma once

#include <cstdint>

#include "atoll/apps/pregel_values.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

struct Cluster;

PregelVertexValues<std::uint64_t> pregel_connected_components(Topology graph,
                                                              const EngineOptions& engine,
                                                              Cluster* cluster = nullptr);

}  // namespace atl
