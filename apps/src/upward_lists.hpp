// Triangle counting's read-only structure: every local vertex's "upward" neighbours in the
// undirected simple view, those after it in the order (degree, gid). Hubs come last, so every
// list is short (at most sqrt(2m) long). Lists hold positions in that order, descending (hubs
// first), so the vertices they name, mostly hubs, are few and close together in memory. A ghost's
// list comes from its owner and keeps the neighbours this rank holds, which is all a triangle
// through an owned vertex can use.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/engine/cluster.hpp"
#include "atoll/graph/topology.hpp"

namespace atl::detail {

class UpwardLists {
 public:
  /// Collective when cluster is given (two all-to-all exchanges with the replica ranks).
  UpwardLists(const Topology& graph, Cluster* cluster);

  /// The upward neighbours of local vertex v (owned or ghost), as positions.
  std::span<const Lid> of(Lid v) const {
    return {targets_.data() + offsets_[v], offsets_[v + 1] - offsets_[v]};
  }
  /// Local vertex v's position in the order by (degree, gid), descending (0..num_vertices-1).
  Lid position(Lid v) const { return position_[v]; }

 private:
  std::vector<Lid> position_;
  std::vector<std::uint64_t> offsets_;
  std::vector<Lid> targets_;
};

}  // namespace atl::detail
