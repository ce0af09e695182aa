// Phase 2 of two-phase partitioning: atoms placed over the ranks at load time. Rank 0 runs
// this on the atom index (the meta-graph) and broadcasts the result.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/graph/atoms.hpp"

namespace atl {

/// The rank of every atom: balances work (edges plus vertices) within a few percent, then
/// moves atoms while that lowers the heaviest rank's work plus the edges cut between ranks.
/// Deterministic for the same inputs.
std::vector<int> place_atoms(std::span<const AtomEntry> atoms, std::span<const AtomCut> cuts,
                             int ranks);

/// What a placement costs: per-rank load and the edges cut between ranks.
struct PlacementCost {
  std::vector<std::uint64_t> rank_edges;     ///< edges whose source a rank owns
  std::vector<std::uint64_t> rank_vertices;  ///< vertices a rank owns
  std::uint64_t cut_edges = 0;               ///< edges whose endpoints are on different ranks
  double imbalance = 0;                      ///< max rank edges / mean rank edges
};
PlacementCost placement_cost(std::span<const AtomEntry> atoms, std::span<const AtomCut> cuts,
                             std::span<const int> atom_rank, int ranks);

}  // namespace atl
