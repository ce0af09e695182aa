// Single-source shortest paths in Pregel form (a min combiner), the same distances as
// sssp.hpp: weights from the input (1 when unweighted), +infinity when unreachable.
#pragma once

#include "atoll/apps/pregel_values.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

struct Cluster;

/// start: kLocal (the default) runs each rank's part by delta-stepping first, so that
/// superstep 0 only sends across the cut; kSource starts from the source alone.
PregelVertexValues<double> pregel_sssp(Topology graph, Gid source, const EngineOptions& engine,
                                       Cluster* cluster = nullptr,
                                       SsspStart start = SsspStart::kLocal);

}  // namespace atl
