// Single-source shortest paths over the input's weights (1 per edge when unweighted);
// unreachable vertices get +infinity. Weights must be non-negative.
#pragma once

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

VertexValues<double> sssp(Topology graph, Gid source, const EngineOptions& engine);

}  // namespace atl
