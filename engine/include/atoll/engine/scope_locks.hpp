// The locks an update's scope needs: vertex consistency, a write lock on the centre; edge,
// write on the centre and read on every neighbour (in and out); full, write on all of them. A
// vertex appears once, with the stronger mode. The locks at the centre's rank are listed; those
// at each other rank are one group named by the centre's lid there (a ghost), which that rank
// expands into the centre's neighbours it owns.
//
// Oriented edge consistency (programs without edge data): a scope read-locks only the
// neighbours with a lower gid. Under edge consistency two updates conflict exactly when their
// centres are adjacent, and each such pair still shares a lock in conflicting modes (the higher
// one's read on the lower one's centre, which the lower one writes); with every lock taken
// before an update and freed after it, the order in which such shared locks are taken is a
// serial order of the run. A higher neighbour's data is not locked, so it is pushed: the
// higher scope's release carries its centre's new data to the ranks it held groups at.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/engine/consistency.hpp"
#include "atoll/engine/lock_manager.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

class ScopeLocks {
 public:
  /// For `graph` (this rank's part, replica lists installed), this rank, the run's consistency;
  /// `oriented`: under edge consistency lock only lower neighbours (see above).
  ScopeLocks(const Topology& graph, int rank, Consistency c, bool oriented);

  /// Replaces `local` with the locks of owned v's scope at this rank, in lid order, and
  /// `remote` with one group per other rank that holds some of them, in rank order.
  void of(Lid v, std::vector<LockItem>& local, std::vector<RemoteGroup>& remote) const;
  /// The owner's side: the lids here (in lid order) of the group `requester` names by its
  /// vertex's lid here, `ghost`; an Error unless `requester` owns that ghost.
  std::span<const Lid> group(int requester, Lid ghost) const;
  /// Whether a scope's release pushes its centre's data (oriented edge consistency).
  bool pushes_centre() const { return oriented_; }

 private:
  std::span<const Lid> neighbours_of_ghost(Lid g) const;
  /// Appends v's groups at its replica ranks.
  void add_groups(Lid v, LockMode mode, std::vector<RemoteGroup>& remote) const;

  const Topology* graph_;
  int rank_;
  Consistency consistency_;
  bool oriented_;
  std::vector<GhostRange> ranges_;      ///< by owner rank (empty range: no ghosts of it)
  std::vector<std::uint64_t> offsets_;  ///< directed or repeated lists: merged, by ghost
  std::vector<Lid> merged_;
  std::vector<Lid> lower_;                   ///< oriented: per ghost, its lower neighbours here
  std::vector<std::uint8_t> replica_lower_;  ///< oriented: per replica, a lower neighbour there
};

}  // namespace atl
