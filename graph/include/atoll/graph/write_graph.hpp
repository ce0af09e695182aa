// Writing an EdgeList as a SNAP text edge list or as Atoll's binary edge list.
#pragma once

#include <string>

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/graph_format.hpp"

namespace atl {

/// Writes edges to path in format kSnap or kBin (kAuto: kBin for a ".bin" name, else kSnap).
/// Writes to a temporary name and renames, so a failed write never leaves a partial file.
void write_edge_list(const EdgeList& edges, const std::string& path,
                     GraphFormat format = GraphFormat::kAuto);

}  // namespace atl
