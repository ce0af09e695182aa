// Where a Pregel message to a local vertex goes. A message to an owned vertex stays here; one
// to a ghost goes to the ghost's owner, named by its position in this rank's ghost range for
// that owner (ranges are contiguous and in gid order, so both sides agree on positions
// without exchanging ids). The owner maps positions back to its own vertices through the
// replica lists of the topology.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/graph/topology.hpp"

namespace atl {

class PregelRoutes {
 public:
  /// graph is this rank's part of `ranks` ranks (replica lists installed when ranks > 1).
  PregelRoutes(const Topology& graph, int rank, int ranks);

  int ranks() const { return static_cast<int>(peers_.size()); }
  /// The rank owning ghost lid g (g >= num_owned).
  int owner(Lid ghost) const { return ghost_owner_[ghost - owned_]; }
  /// Ghost g's position in this rank's ghost range for its owner.
  std::uint32_t position(Lid ghost) const { return ghost - peers_[owner(ghost)].ghost_begin; }
  /// This rank's ghosts owned by peer: lids [begin, end).
  Lid ghost_begin(int peer) const { return peers_[static_cast<std::size_t>(peer)].ghost_begin; }
  Lid ghost_end(int peer) const { return peers_[static_cast<std::size_t>(peer)].ghost_end; }
  /// The owned vertices held as ghosts by peer, by their position in the peer's range.
  std::span<const Lid> positions_at(int peer) const {
    return peers_[static_cast<std::size_t>(peer)].positions;
  }
  /// Either side holds ghosts of the other: messages may flow between them.
  bool linked(int peer) const {
    const Peer& p = peers_[static_cast<std::size_t>(peer)];
    return p.ghost_end > p.ghost_begin || !p.positions.empty();
  }

 private:
  struct Peer {
    Lid ghost_begin = 0;
    Lid ghost_end = 0;
    std::vector<Lid> positions;
  };
  Lid owned_ = 0;
  std::vector<Peer> peers_;
  std::vector<std::int32_t> ghost_owner_;  ///< by ghost lid - num_owned
};

}  // namespace atl
