// k-core decomposition: the coreness of every vertex of the undirected simple view (reciprocal
// and repeated edges count once, self-loops are ignored): the largest k such that the vertex
// belongs to a subgraph in which every vertex has at least k neighbours.
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct KCoreResult : VertexValues<std::uint64_t> {
  std::uint64_t max_core = 0;  ///< the degeneracy of the graph (over all ranks)
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
KCoreResult kcore(Topology graph, const EngineOptions& engine, Cluster* cluster = nullptr);

}  // namespace atl
