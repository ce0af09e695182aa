// SNAP-style edge lists: "src dst [weight]" per line (blanks or one comma between fields), '#' or
// '%' comment lines, blank lines. The first edge line decides whether the file is weighted; every
// edge line must agree.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
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
  std::uint64_t edges = 0;                 ///< edges parsed so far
};

/// Lines of text that are neither blank (spaces, tabs, a trailing '\r') nor comments.
std::uint64_t count_edge_lines(std::string_view text) {
  std::uint64_t count = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const char* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = nl != nullptr ? nl : end;
    if (line_end != p && line_end[-1] == '\r') --line_end;
    while (p != line_end && (*p == ' ' || *p == '\t')) ++p;
    if (p != line_end && *p != '#' && *p != '%') ++count;
    if (nl == nullptr) break;
    p = nl + 1;
  }
  return count;
}

}  // namespace

namespace detail {

SnapLines parse_snap_lines(std::string_view bytes, std::string_view name,
                           std::uint64_t first_line) {
  // Two passes, so edges are parsed straight into the final list (no per-chunk lists and no
  // concatenated copy: the peak is the list itself): count each chunk's edge lines, then
  // parse each chunk into its own range of the list. An edge line is any line that is not
  // blank and not a comment: it yields one edge or an error.
  const std::vector<std::size_t> cuts = detail::line_aligned_cuts(bytes);
  std::vector<std::uint64_t> first_edge(cuts.size(), 0);
  tbb::parallel_for(std::size_t{0}, cuts.size() - 1, [&](std::size_t c) {
    first_edge[c + 1] = count_edge_lines(bytes.substr(cuts[c], cuts[c + 1] - cuts[c]));
  });
  for (std::size_t c = 1; c < first_edge.size(); ++c) first_edge[c] += first_edge[c - 1];
  SnapLines result;
  result.list.edges.resize(first_edge.back());
  Edge* const edges = result.list.edges.data();
  auto chunks = detail::parse_lines_parallel<SnapExtra>(
      bytes,
      [&](std::string_view line, ChunkOutput<SnapExtra>& out, std::uint64_t line_no) {
        LineCursor cur(line);
        cur.allow_commas();  // "src,dst[,weight]" (CSV) as well as blanks
        cur.skip_blanks();
        if (cur.at_end() || cur.peek() == '#' || cur.peek() == '%') return;
        Gid src = cur.parse_u64("a source vertex id (non-negative integer)");
        cur.skip_separator();
        Gid dst = cur.parse_u64("a destination vertex id (non-negative integer)");
        cur.skip_blanks();
        if (!cur.at_end() && cur.peek() == ',') cur.skip_separator();  // before a weight
        const std::uint64_t at = first_edge[out.index] + out.extra.edges;
        if (at >= first_edge[out.index + 1]) throw detail::LineFailure{"edge count mismatch"};
        edges[at] = {src, dst};
        ++out.extra.edges;
        if (cur.at_end()) {
          if (out.extra.first_unweighted == kNone) out.extra.first_unweighted = line_no;
          return;
        }
        out.weights.push_back(cur.parse_double("an edge weight (number)"));
        cur.expect_end();
        if (out.extra.first_weighted == kNone) out.extra.first_weighted = line_no;
      },
      cuts, /*reserve=*/false);
  detail::throw_first_error(chunks, name, first_line);

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
  if (result.first_weighted != kNone && result.first_unweighted != kNone) {
    result.list = EdgeList{};  // mixed: the caller reports it
    return result;
  }
  if (result.first_weighted != kNone) {  // weights were collected per chunk, in line order
    result.list.weighted = true;
    result.list.weights.resize(result.list.edges.size());
    tbb::parallel_for(std::size_t{0}, chunks.size(), [&](std::size_t c) {
      std::copy(chunks[c].weights.begin(), chunks[c].weights.end(),
                result.list.weights.begin() + static_cast<std::ptrdiff_t>(first_edge[c]));
    });
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
