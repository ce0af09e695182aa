// Single-source shortest paths in Pregel form (a min combiner), the same distances as
// sssp.hpp: weights from the input (1 when unweighted), +infinity when unreachable.
#pragma once

#include "atoll/apps/pregel_values.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

struct Cluster;

PregelVertexValues<double> pregel_sssp(Topology graph, Gid source, const EngineOptions& engine,
                                       Cluster* cluster = nullptr);

}  // namespace atl
