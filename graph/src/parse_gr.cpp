// DIMACS shortest-path files: 'c' comments, one "p sp N M" line, then M "a U V W" arcs with
// 1 <= U, V <= N. The vertex set is 1..N, isolated vertices included.
#include "atoll/graph/read_graph.hpp"
#include "line_scan.hpp"

namespace atl {
namespace {

struct GrHeader {
  std::uint64_t vertices = 0;
  std::uint64_t arcs = 0;
  std::size_t body_offset = 0;        ///< byte offset of the first line after the 'p' line
  std::uint64_t body_first_line = 0;  ///< its 1-based line number
};

bool is_comment_or_blank(std::string_view line) {
  std::size_t i = line.find_first_not_of(" \t");
  return i == std::string_view::npos || line[i] == 'c';
}

GrHeader parse_header(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  std::uint64_t line_no = 0;
  while (pos < text.size()) {
    std::string_view line = detail::next_line(text, pos);
    ++line_no;
    if (is_comment_or_blank(line)) continue;
    detail::LineCursor cur(line);
    try {
      cur.skip_blanks();
      if (cur.peek() != 'p') cur.expected("a 'p sp N M' line before any arc");
      cur.advance();
      if (cur.at_end() || (cur.peek() != ' ' && cur.peek() != '\t')) cur.expected("'p sp N M'");
      cur.skip_blanks();
      std::string_view kind = cur.token();
      if (kind != "sp") {
        throw detail::LineFailure{
            str_cat("expected problem type 'sp' (shortest paths), got ", quote_excerpt(kind))};
      }
      for (std::size_t i = 0; i < kind.size(); ++i) cur.advance();
      GrHeader header;
      header.vertices = cur.parse_u64("a vertex count N");
      header.arcs = cur.parse_u64("an arc count M");
      cur.expect_end();
      header.body_offset = pos;
      header.body_first_line = line_no + 1;
      return header;
    } catch (const detail::LineFailure& failure) {
      fail(name, ":", line_no, ": ", failure.message);
    }
  }
  fail(name, ": no 'p sp N M' line (is this a DIMACS .gr file?)");
}

}  // namespace

EdgeList parse_gr(std::string_view bytes, std::string_view name) {
  using detail::ChunkOutput;
  using detail::LineCursor;
  GrHeader header = parse_header(bytes, name);
  const std::uint64_t n = header.vertices;
  auto chunks = detail::parse_lines_parallel<char>(
      bytes.substr(header.body_offset),
      [n](std::string_view line, ChunkOutput<char>& out, std::uint64_t) {
        LineCursor cur(line);
        cur.skip_blanks();
        if (cur.at_end() || cur.peek() == 'c') return;
        if (cur.peek() == 'p') throw detail::LineFailure{"expected one 'p' line, got a second one"};
        if (cur.peek() != 'a') cur.expected("an arc line 'a U V W' or a 'c' comment");
        cur.advance();
        if (cur.at_end() || (cur.peek() != ' ' && cur.peek() != '\t')) cur.expected("'a U V W'");
        Gid src = cur.parse_u64("a tail vertex id U");
        if (src < 1 || src > n) {
          throw detail::LineFailure{
              str_cat("expected a tail vertex id in 1..", n, ", got '", src, "'")};
        }
        Gid dst = cur.parse_u64("a head vertex id V");
        if (dst < 1 || dst > n) {
          throw detail::LineFailure{
              str_cat("expected a head vertex id in 1..", n, ", got '", dst, "'")};
        }
        double weight = cur.parse_double("an arc weight W");
        cur.expect_end();
        out.edges.push_back({src, dst});
        out.weights.push_back(weight);
      });
  detail::throw_first_error(chunks, name, header.body_first_line);
  std::uint64_t total = 0;
  for (const auto& chunk : chunks) total += chunk.edges.size();
  if (total != header.arcs) {
    fail(name, ": the 'p' line declares ", header.arcs, " arcs but the file has ", total);
  }
  EdgeList list;
  detail::concat_chunks(chunks, list, true);
  list.declared = VertexRange{1, n};
  return list;
}

}  // namespace atl
