// Reading graph files into an EdgeList. Parsing runs in parallel over byte ranges (TBB) and
// gives the same EdgeList for any thread count. Errors name the file and line.
#pragma once

#include <string>
#include <string_view>

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/graph_format.hpp"

namespace atl {

/// Reads path (compressed or not) in the given format (kAuto detects it).
EdgeList read_edge_list(const std::string& path, GraphFormat format = GraphFormat::kAuto);

/// Parses already decompressed bytes in `format` (kAuto detects it); `name` prefixes errors.
EdgeList parse_edge_list(std::string_view bytes, GraphFormat format, std::string_view name);

/// Parsers over in-memory, already decompressed bytes; `name` prefixes error messages.
EdgeList parse_snap(std::string_view bytes, std::string_view name);
EdgeList parse_gr(std::string_view bytes, std::string_view name);
EdgeList parse_mtx(std::string_view bytes, std::string_view name);
EdgeList parse_binary(std::string_view bytes, std::string_view name);

}  // namespace atl
