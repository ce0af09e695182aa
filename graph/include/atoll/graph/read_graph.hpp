// Reading graph files into an EdgeList. Parsing runs in parallel over byte ranges (TBB) and
// gives the same EdgeList for any thread count. Errors name the file and line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/graph_format.hpp"

namespace atl {

/// Reads path (compressed or not) in the given format (kAuto detects it). An atom directory
/// (format kAuto) is read whole with read_atom_graph.
EdgeList read_edge_list(const std::string& path, GraphFormat format = GraphFormat::kAuto,
                        MtxLayout layout = MtxLayout::kAuto);

/// Parses already decompressed bytes in `format` (kAuto detects it); `name` prefixes errors.
EdgeList parse_edge_list(std::string_view bytes, GraphFormat format, std::string_view name,
                         MtxLayout layout = MtxLayout::kAuto);

/// One part of a file read by `parts` ranks together: part p parses the p-th line-aligned
/// byte range (SNAP text) or edge range (binary); .gr and .mtx files are parsed whole and
/// sliced by edge. Concatenating parts 0..parts-1 gives the whole file's edges in order.
struct EdgeListPart {
  EdgeList list;  ///< this part's edges in file order; `declared` as the header says
  /// 1-based lines of this part's first weighted and first unweighted edge lines (0 = the
  /// format fixes it for the whole file; max = none). Combine across parts with
  /// check_part_weights before trusting list.weighted.
  std::uint64_t first_weighted_line = ~std::uint64_t{0};
  std::uint64_t first_unweighted_line = ~std::uint64_t{0};
};
EdgeListPart parse_edge_list_part(std::string_view bytes, GraphFormat format, std::string_view name,
                                  int part, int parts, MtxLayout layout = MtxLayout::kAuto);
/// Given the minimum first_weighted_line and first_unweighted_line over all parts: throws
/// the whole file's error when both kinds of edge line occur; returns whether it is weighted.
bool check_part_weights(std::uint64_t first_weighted_line, std::uint64_t first_unweighted_line,
                        std::string_view name);

/// Parsers over in-memory, already decompressed bytes; `name` prefixes error messages.
EdgeList parse_snap(std::string_view bytes, std::string_view name);
EdgeList parse_gr(std::string_view bytes, std::string_view name);
EdgeList parse_mtx(std::string_view bytes, std::string_view name,
                   MtxLayout layout = MtxLayout::kAuto);
EdgeList parse_binary(std::string_view bytes, std::string_view name);

}  // namespace atl
