// SNAP-style edge lists: "src dst [weight]" per line, '#' or '%' comment lines, blank lines.
// The first edge line decides whether the file is weighted; every edge line must agree.
#include <limits>

#include "atoll/graph/read_graph.hpp"
#include "line_scan.hpp"
#include "snap_lines.hpp"

namespace atl {
namespace {

using detail::ChunkOutput;
using detail::kNone;
using detail::LineCursor;

struct SnapExtra {
  std::uint64_t first_weighted = kNone;    ///< first line in the chunk with a weight
  std::uint64_t first_unweighted = kNone;  ///< first edge line in the chunk without one
};

}  // namespace

namespace detail {

SnapLines parse_snap_lines(std::string_view bytes, std::string_view name,
                           std::uint64_t first_line) {
  auto chunks = detail::parse_lines_parallel<SnapExtra>(
      bytes, [](std::string_view line, ChunkOutput<SnapExtra>& out, std::uint64_t line_no) {
        LineCursor cur(line);
        cur.skip_blanks();
        if (cur.at_end() || cur.peek() == '#' || cur.peek() == '%') return;
        Gid src = cur.parse_u64("a source vertex id (non-negative integer)");
        Gid dst = cur.parse_u64("a destination vertex id (non-negative integer)");
        cur.skip_blanks();
        out.edges.push_back({src, dst});
        if (cur.at_end()) {
          if (out.extra.first_unweighted == kNone) out.extra.first_unweighted = line_no;
          return;
        }
        out.weights.push_back(cur.parse_double("an edge weight (number)"));
        cur.expect_end();
        if (out.extra.first_weighted == kNone) out.extra.first_weighted = line_no;
      });
  detail::throw_first_error(chunks, name, first_line);

  SnapLines result;
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    std::uint64_t base = detail::chunk_first_line(chunks, c, first_line);
    const SnapExtra& x = chunks[c].extra;
    if (result.first_weighted == kNone && x.first_weighted != kNone) {
      result.first_weighted = base + x.first_weighted;
    }
    if (result.first_unweighted == kNone && x.first_unweighted != kNone) {
      result.first_unweighted = base + x.first_unweighted;
    }
  }
  // Mixed lines are an error the caller reports (it may see more of the file); concatenate
  // only a consistent range.
  if (result.first_weighted == kNone || result.first_unweighted == kNone) {
    detail::concat_chunks(chunks, result.list, result.first_weighted != kNone);
  }
  return result;
}

void check_snap_weights(std::uint64_t first_weighted, std::uint64_t first_unweighted,
                        std::string_view name) {
  bool weighted =
      first_weighted != kNone && (first_unweighted == kNone || first_weighted < first_unweighted);
  if (weighted && first_unweighted != kNone) {
    fail(name, ":", first_unweighted, ": expected an edge weight (line ", first_weighted,
         " has one), got end of line");
  }
  if (!weighted && first_weighted != kNone) {
    fail(name, ":", first_weighted, ": expected end of line (line ", first_unweighted,
         " has no weight), got a weight");
  }
}

}  // namespace detail

EdgeList parse_snap(std::string_view bytes, std::string_view name) {
  detail::SnapLines lines = detail::parse_snap_lines(bytes, name, 1);
  // The kind of the first edge line decides; the first line of the other kind is an error.
  detail::check_snap_weights(lines.first_weighted, lines.first_unweighted, name);
  return std::move(lines.list);
}

}  // namespace atl
