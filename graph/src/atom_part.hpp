// The two-pass route of an atom directory (graph_part_load.cpp): a rank reads its
// atoms' vertex and ghost tables and numbers its vertices as build_part does, then decodes its
// atoms' edges twice straight into lids (atom_file.hpp), once to count each row's arcs and once
// to write every arc into its final slot (three reads of each atom in all). It never holds its
// edges as records, so the load peaks near the size of the part it builds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "atoll/graph/atoms.hpp"
#include "placed_part.hpp"

namespace atl::detail {

/// This rank's part of the atoms `mine` (ids of the index; atom_rank places every atom): the
/// out-edges of its atoms and the cut in-edges from atoms on other ranks, each one arc (two
/// with `symmetrize`, one for a self-loop), with their weights when the atoms have them
/// (`symmetrize` only without). Throws naming the atom file, or the vertex, that is wrong.
PlacedPart read_atom_part(const std::filesystem::path& dir, const AtomIndex& index,
                          std::span<const std::uint32_t> mine, std::span<const int> atom_rank,
                          int rank, bool symmetrize);

}  // namespace atl::detail
