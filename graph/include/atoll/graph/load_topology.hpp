// Reading a graph file straight into a Topology on one rank, at the lowest peak memory its
// format allows.
#pragma once

#include <string>

#include "atoll/graph/graph_format.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

/// The graph of path (a graph file or an atom directory) built with options: the same
/// Topology as Topology::build(read_edge_list(path, format, layout), options). A plain binary
/// edge list is built from its mapping without a copy, its pages dropped as each pass of the
/// build finishes with them; an unweighted atom directory (not by degree) is decoded twice
/// straight into rows (docs/atoms.md, "Loading"); other inputs are parsed, the file closed,
/// then built consuming the edge list.
Topology load_topology(const std::string& path, GraphFormat format = GraphFormat::kAuto,
                       MtxLayout layout = MtxLayout::kAuto, const BuildOptions& options = {});

}  // namespace atl
