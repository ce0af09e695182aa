// Writing an EdgeList as a SNAP text edge list, a Matrix Market coordinate file or Atoll's
// binary edge list.
#pragma once

#include <string>

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/graph_format.hpp"

namespace atl {

/// The format write_edge_list writes to path: `format`, or for kAuto kBin for a ".bin" name,
/// kMtx for ".mtx", else kSnap. Throws a usage Error for a compressed name (.gz, .zst: atoll
/// writes no compressed files) and for gr. An explicit format wins over the name.
GraphFormat output_format(const std::string& path, GraphFormat format = GraphFormat::kAuto);

/// Writes edges to path in output_format(path, format). Matrix Market needs vertex ids from 1
/// (a bipartite list is written as rows x columns). Writes to a temporary name and renames,
/// so a failed write never leaves a partial file.
void write_edge_list(const EdgeList& edges, const std::string& path,
                     GraphFormat format = GraphFormat::kAuto);

}  // namespace atl
