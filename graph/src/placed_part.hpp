// A rank's part whose arcs a load already put in their final rows (the two-pass route of
// graph_part_load.cpp, arc_placer.hpp), and the builder step that finishes it.
#pragma once

#include <vector>

#include "atoll/graph/topology.hpp"

namespace atl::detail {

/// Lids as Topology::build_part numbers them; each row unsorted, repeats and self-loops kept.
struct PlacedPart {
  std::vector<Gid> lid_to_gid;  ///< owned vertices (ascending), then ghosts by (owner, gid)
  Lid num_owned = 0;
  std::vector<GhostRange> ghost_ranges;
  std::vector<EdgeId> out_offsets{0};  ///< lid_to_gid.size() + 1 entries
  std::vector<Lid> out_targets;
};

/// The Topology build_part gives for the same arcs (unweighted; not by degree): sorts each row,
/// applies dedup, derives the in-CSR. Consumes `part`. No replica lists.
Topology build_placed_part(PlacedPart&& part, const BuildOptions& options);

}  // namespace atl::detail
