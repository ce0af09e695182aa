// The local phase of connected components: the components of the graph one rank holds (its
// owned vertices, its ghosts and the edges between them, either direction), found by a
// parallel union-find, and the owned vertices that label propagation still has to visit.
// Every label is the gid of a vertex of the same (global) component, never below that
// component's smallest gid, so label propagation started from these labels reaches the same
// fixpoint as from the vertices' own gids; on one rank there is nothing left to propagate.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/graph/topology.hpp"

namespace atl::detail {

/// Writes into labels[v] (one entry per local vertex, owned and ghosts) the smallest gid of
/// v's component in `graph`. Runs on `threads` threads (0: TBB's default). Lock-free: the only
/// memory besides `labels` is one 4-byte parent per vertex.
void label_local_components(const Topology& graph, int threads, std::span<Gid> labels);

/// By owned lid: 1 for the vertices with a ghost among their in- or out-neighbours, the only
/// ones whose label a neighbour on another rank can lower; 0 for the others. Empty (nothing to
/// visit) without ghosts.
std::vector<std::uint8_t> boundary_flags(const Topology& graph, int threads);

}  // namespace atl::detail
