// Single-source shortest paths over the input's weights (1 per edge when unweighted);
// unreachable vertices get +infinity. Weights must be non-negative.
#pragma once

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
VertexValues<double> sssp(Topology graph, Gid source, const EngineOptions& engine,
                          Cluster* cluster = nullptr);

}  // namespace atl
