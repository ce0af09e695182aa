// The locks an update's scope needs, in the global lock order: vertex consistency, a write
// lock on the centre; edge, write on the centre and read on every neighbour (in and out);
// full, write on all of them. A vertex appears once, with the stronger mode.
#pragma once

#include <span>
#include <vector>

#include "atoll/engine/consistency.hpp"
#include "atoll/engine/lock_manager.hpp"
#include "atoll/engine/vertex_versions.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

/// Where this rank's vertices are locked: owned ones here, each ghost at its owner rank under
/// its lid there (GhostSync learns those lids collectively).
class LockAddresses {
 public:
  /// `ghost_owner_lid[g]`: the lid at its owner of ghost num_owned + g.
  LockAddresses(const Topology& graph, int rank, std::vector<Lid> ghost_owner_lid);
  /// The lock of local vertex v (its cached version left 0).
  LockItem lock_of(Lid v, LockMode mode) const {
    if (v < owned_) return {rank_, v, mode, 0};
    return {ghost_owner_[v - owned_], ghost_owner_lid_[v - owned_], mode, 0};
  }
  /// The first ghost lid owned by a rank above this one (ghosts are grouped by owner rank).
  Lid higher_ghosts_begin() const { return higher_ghosts_begin_; }

 private:
  int rank_;
  Lid owned_;
  Lid higher_ghosts_begin_ = 0;
  std::vector<int> ghost_owner_;
  std::vector<Lid> ghost_owner_lid_;
};

/// Replaces `out` with the locks of v's scope under `c`; with `versions`, each ghost's lock
/// carries the version of its cached copy.
void scope_locks(const Topology& graph, Lid v, Consistency c, const LockAddresses& where,
                 const VertexVersions* versions, std::vector<LockItem>& out);

}  // namespace atl
