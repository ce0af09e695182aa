// Triangle counting's read-only structure: every local vertex's "upward" neighbours in the
// undirected simple view, those after it in the order (degree, gid). Hubs come last, so every
// list is short (at most sqrt(2m) long). Vertices are named by their position in that order,
// descending (hubs first), and lists are stored by position, so the hubs that most
// neighbourhoods contain are few and close together in memory (GAPBS relabels for the same
// reason). Owned vertices' whole neighbourhoods are kept as positions too. A ghost's
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

  /// The upward neighbours of the vertex at position p, as positions.
  std::span<const Lid> up(Lid p) const {
    return {targets_.data() + offsets_[p], offsets_[p + 1] - offsets_[p]};
  }
  /// The neighbours of owned vertex v, as positions.
  std::span<const Lid> neighbors(Lid v) const {
    return {neighbor_positions_.data() + neighbor_offsets_[v],
            neighbor_offsets_[v + 1] - neighbor_offsets_[v]};
  }
  /// Positions run over 0..num_vertices-1 (owned and ghosts).
  std::size_t size() const { return offsets_.size() - 1; }

 private:
  std::vector<Lid> position_;  ///< by lid: the position in the order, descending (hubs first)
  std::vector<std::uint64_t> offsets_;  ///< by position
  std::vector<Lid> targets_;
  std::vector<std::uint64_t> neighbor_offsets_;  ///< by owned lid
  std::vector<Lid> neighbor_positions_;
};

}  // namespace atl::detail
