// Weakly connected components: each vertex's label is the smallest gid in its component.
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

VertexValues<std::uint64_t> connected_components(Topology graph, const EngineOptions& engine);

}  // namespace atl
