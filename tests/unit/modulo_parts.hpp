// One rank's part of a graph as its rank would build it, without a transport: vertex g belongs
// to rank g % ranks, the part holds every edge with an owned endpoint (with its weight).
#pragma once

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/topology.hpp"
#include "reference_algorithms.hpp"

namespace atl::test {

/// Rank `rank`'s part of `list` on `ranks` ranks (owned vertices: those of the list's).
inline GraphPart modulo_part(const EdgeList& list, int rank, int ranks) {
  GraphPart part;
  part.rank = rank;
  part.owner_of = [ranks](Gid g) { return static_cast<int>(g % static_cast<Gid>(ranks)); };
  for (Gid g : reference_vertices(list)) {
    if (part.owner_of(g) == rank) part.owned.push_back(g);
  }
  part.edges.weighted = list.weighted;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Edge& e = list.edges[i];
    if (part.owner_of(e.src) == rank || part.owner_of(e.dst) == rank) {
      part.edges.edges.push_back(e);
      if (list.weighted) part.edges.weights.push_back(list.weights[i]);
    }
  }
  return part;
}

}  // namespace atl::test
