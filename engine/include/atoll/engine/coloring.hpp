// Graph colouring for the chromatic engine: vertices of one colour can be updated together
// without violating the consistency model.
#pragma once

#include <cstdint>
#include <vector>

#include "atoll/engine/consistency.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Coloring {
  std::vector<std::uint32_t> color;  ///< colour of each owned vertex (by lid)
  std::uint32_t num_colors = 0;
};

/// Colours the owned vertices over the undirected view of the graph (in- and out-neighbours,
/// self-loops ignored): one colour for vertex consistency, distance-1 (adjacent vertices
/// differ) for edge, distance-2 (vertices within two hops differ) for full. Parallel
/// Jones-Plassmann with priorities from (degree, hash of gid): the result depends only on the
/// graph, never on the thread count.
Coloring color_graph(const Topology& graph, Consistency consistency);

class GhostSync;
struct Cluster;

/// The same colouring rules on a rank's part of a partitioned graph, consistent across ranks:
/// Jones-Plassmann rounds over owned vertices and ghosts, priorities from (undirected degree
/// at the owner, hash of gid, gid), each round followed by a push of the new colours to the
/// ghosts (for distance 2, also each neighbourhood's best uncoloured priority and colours).
/// Collective; num_colors is the same on every rank.
Coloring color_graph_across_ranks(const Topology& graph, Consistency consistency, Cluster& cluster,
                                  GhostSync& ghosts);

/// True when `coloring` satisfies the consistency's rule on graph (for tests and checks).
bool is_valid_coloring(const Topology& graph, const Coloring& coloring, Consistency consistency);

}  // namespace atl
