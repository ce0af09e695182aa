// Greedy graph colouring of the undirected view (self-loops ignored): colours 0, 1, 2, ...
// with no edge between two vertices of one colour.
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct GraphColoringResult : VertexValues<std::uint64_t> {
  std::uint64_t colors = 0;  ///< colours used (over all ranks)
  /// Found by a check after the run (over all ranks): edges whose two ends share a colour,
  /// plus vertices left uncoloured (a run cut short by max_sweeps). 0 for a proper colouring.
  std::uint64_t conflicts = 0;
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
GraphColoringResult graph_coloring(Topology graph, const EngineOptions& engine,
                                   Cluster* cluster = nullptr);

}  // namespace atl
