// SNAP parsing of a line range, shared by the whole-file parser and the per-rank part reader.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "atoll/graph/edge_list.hpp"

namespace atl::detail {

inline constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

struct SnapLines {
  EdgeList list;                           ///< the edges (empty when the lines mix kinds)
  std::uint64_t first_weighted = kNone;    ///< 1-based line of the first weighted edge line
  std::uint64_t first_unweighted = kNone;  ///< ... of the first edge line without a weight
};

/// Parses text whose first line is line first_line of file name; throws on a malformed line.
SnapLines parse_snap_lines(std::string_view text, std::string_view name, std::uint64_t first_line);
/// Throws the error the whole file deserves when both kinds of edge line occur.
void check_snap_weights(std::uint64_t first_weighted, std::uint64_t first_unweighted,
                        std::string_view name);

}  // namespace atl::detail
