// METIS k-way partitioning of a graph's vertices into atoms.
#pragma once

#include <cstdint>
#include <vector>

#include "atoll/graph/atoms.hpp"

namespace atl::detail {

/// The atom of every vertex (indexed like `vertices`) from METIS_PartGraphKway on the
/// symmetrized simple graph: edge weight = number of input edges between the two vertices
/// (either direction), vertex weight = 1 + out-degree, objective edge cut, seeded. Graphs
/// above options.metis_max_vertices/metis_max_edges are coarsened by rounds of heavy-edge
/// matching first. Deterministic for a given seed, whatever the thread count.
std::vector<std::uint32_t> metis_atoms(const EdgeList& graph, const std::vector<Gid>& vertices,
                                       const PartitionOptions& options);

}  // namespace atl::detail
