// The locks an update's scope needs: vertex consistency, a write lock on the centre; edge,
// write on the centre and read on every neighbour (in and out); full, write on all of them. A
// vertex appears once, with the stronger mode. The locks at the centre's rank are listed; those
// at each other rank are one group named by the centre's lid there (a ghost), which that rank
// expands into the centre's neighbours it owns (GhostScopes).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/engine/consistency.hpp"
#include "atoll/engine/lock_manager.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

/// Replaces `local` with the locks of owned v's scope at this rank (`rank`), in lid order, and
/// `remote` with one group per other rank holding a neighbour of v, in rank order.
void scope_locks(const Topology& graph, Lid v, Consistency c, int rank,
                 std::vector<LockItem>& local, std::vector<RemoteGroup>& remote);

/// The owner's side of a group: the owned vertices in a ghost's scope, i.e. its neighbours
/// here (in and out, in lid order), for the rank that owns the ghost.
class GhostScopes {
 public:
  explicit GhostScopes(const Topology& graph);
  /// The owned neighbours of ghost `g` here; an Error unless `requester` owns g.
  std::span<const Lid> of(int requester, Lid g) const;

 private:
  const Topology* graph_;
  std::vector<GhostRange> ranges_;      ///< by owner rank (empty range: no ghosts of it)
  std::vector<std::uint64_t> offsets_;  ///< directed graphs: the merged lists, by ghost
  std::vector<Lid> merged_;
};

}  // namespace atl
