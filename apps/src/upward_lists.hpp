// Triangle counting's read-only structure: every local vertex's "upward" neighbours in the
// undirected simple view, those after it in the order (degree, gid). Hubs come last, so every
// list is short (at most sqrt(2m) long). A ghost's list comes from its owner and keeps the
// neighbours this rank holds, which is all a triangle through an owned vertex can use.
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

  /// The upward neighbours of local vertex v (owned or ghost), as local ids.
  std::span<const Lid> of(Lid v) const {
    return {targets_.data() + offsets_[v], offsets_[v + 1] - offsets_[v]};
  }

 private:
  std::vector<std::uint64_t> offsets_;
  std::vector<Lid> targets_;
};

}  // namespace atl::detail
