// `--out-graph FILE`: the graph a Pregel run ends with (after its topology mutations) as one
// SNAP-style text edge list, the format the loader reads. Every rank sends its owned vertices'
// out-edges to rank 0, which writes them ordered by (source, target, weight): one line
// `src<TAB>dst` per edge (`src<TAB>dst<TAB>weight` when the graph is weighted; edges added by
// mutations weigh 1). A vertex without any edge cannot be an edge-list line: it is written as
// a comment `# vertex GID` (the loader skips it) after a first comment line with the counts.
// Written to a temporary name and renamed, so a failed write leaves no partial file.
#pragma once

#include <string>

#include "atoll/engine/cluster.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

/// Collective with a cluster: graph is this rank's part; rank 0 writes path.
void write_pregel_graph(const Topology& graph, Cluster* cluster, const std::string& path);

}  // namespace atl
