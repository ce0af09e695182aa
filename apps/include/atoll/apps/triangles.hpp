// Triangle counting on the undirected simple view (reciprocal and repeated edges count once,
// self-loops are ignored): per vertex, the number of triangles through it.
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct TrianglesResult : VertexValues<std::uint64_t> {
  std::uint64_t total = 0;  ///< triangles in the whole graph (over all ranks)
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
TrianglesResult triangles(Topology graph, const EngineOptions& engine, Cluster* cluster = nullptr);

}  // namespace atl
