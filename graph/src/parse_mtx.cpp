// Matrix Market coordinate files as graphs: entry (i, j[, v]) is the edge i -> j with weight
// v. Supported: field pattern|integer|real, symmetry general|symmetric (a symmetric file's
// off-diagonal entries also give j -> i). The vertex set is 1..n of the square size line.
// A non-square m x n matrix (or any, with MtxLayout::kBipartite) is bipartite: rows are
// vertices 1..m, columns m+1..m+n, entry (i, j) is the edge i -> m+j (general symmetry only).
#include <algorithm>
#include <cctype>

#include "atoll/graph/read_graph.hpp"
#include "line_scan.hpp"

namespace atl {
namespace {

struct MtxHeader {
  bool weighted = false;
  bool symmetric = false;
  bool bipartite = false;  ///< rows 1..rows, columns rows+1..rows+cols
  std::uint64_t rows = 0;
  std::uint64_t cols = 0;
  std::uint64_t entries = 0;
  std::size_t body_offset = 0;
  std::uint64_t body_first_line = 0;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

MtxHeader parse_header(std::string_view text, std::string_view name, MtxLayout layout) {
  std::size_t pos = 0;
  std::string_view banner = detail::next_line(text, pos);
  std::vector<std::string> words;
  for (std::size_t i = 0; i < banner.size();) {
    std::size_t j = banner.find_first_of(" \t", i);
    if (j == std::string_view::npos) j = banner.size();
    if (j > i) words.push_back(lower(banner.substr(i, j - i)));
    i = j + 1;
  }
  if (words.size() != 5 || words[0] != "%%matrixmarket") {
    fail(name, ":1: expected a '%%MatrixMarket matrix coordinate FIELD SYMMETRY' banner, got ",
         quote_excerpt(banner));
  }
  if (words[1] != "matrix") {
    fail(name, ":1: unsupported Matrix Market object '", words[1], "' (supported: matrix)");
  }
  if (words[2] != "coordinate") {
    fail(name, ":1: unsupported Matrix Market format '", words[2], "' (supported: coordinate)");
  }
  MtxHeader header;
  if (words[3] == "pattern") {
    header.weighted = false;
  } else if (words[3] == "integer" || words[3] == "real") {
    header.weighted = true;
  } else {
    fail(name, ":1: unsupported Matrix Market field '", words[3],
         "' (supported: pattern, integer, real)");
  }
  if (words[4] == "general") {
    header.symmetric = false;
  } else if (words[4] == "symmetric") {
    header.symmetric = true;
  } else {
    fail(name, ":1: unsupported Matrix Market symmetry '", words[4],
         "' (supported: general, symmetric)");
  }
  std::uint64_t line_no = 1;
  while (pos < text.size()) {
    std::string_view line = detail::next_line(text, pos);
    ++line_no;
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '%') continue;
    detail::LineCursor cur(line);
    try {
      header.rows = cur.parse_u64("a row count");
      header.cols = cur.parse_u64("a column count");
      header.entries = cur.parse_u64("an entry count");
      cur.expect_end();
      header.bipartite = layout == MtxLayout::kBipartite || header.rows != header.cols;
      if (header.bipartite && header.symmetric) {
        throw detail::LineFailure{str_cat("a ", header.rows, " x ", header.cols,
                                          " matrix read as bipartite cannot be symmetric")};
      }
      if (header.rows > (std::uint64_t{1} << 62) || header.cols > (std::uint64_t{1} << 62)) {
        throw detail::LineFailure{
            str_cat("matrix size ", header.rows, " x ", header.cols, " is too large")};
      }
    } catch (const detail::LineFailure& failure) {
      fail(name, ":", line_no, ": ", failure.message);
    }
    header.body_offset = pos;
    header.body_first_line = line_no + 1;
    return header;
  }
  fail(name, ": no size line 'rows cols entries' after the Matrix Market banner");
}

}  // namespace

EdgeList parse_mtx(std::string_view bytes, std::string_view name, MtxLayout layout) {
  using detail::ChunkOutput;
  using detail::LineCursor;
  const MtxHeader header = parse_header(bytes, name, layout);
  const std::uint64_t n = header.rows, m = header.cols;
  const std::uint64_t column_base = header.bipartite ? n : 0;
  auto chunks = detail::parse_lines_parallel<std::uint64_t>(
      bytes.substr(header.body_offset),
      [&header, n, m, column_base](std::string_view line, ChunkOutput<std::uint64_t>& out,
                                   std::uint64_t) {
        LineCursor cur(line);
        cur.skip_blanks();
        if (cur.at_end() || cur.peek() == '%') return;
        Gid i = cur.parse_u64("a row index");
        if (i < 1 || i > n) {
          throw detail::LineFailure{str_cat("expected a row index in 1..", n, ", got '", i, "'")};
        }
        Gid j = cur.parse_u64("a column index");
        if (j < 1 || j > m) {
          throw detail::LineFailure{
              str_cat("expected a column index in 1..", m, ", got '", j, "'")};
        }
        j += column_base;
        double value = 0;
        if (header.weighted) value = cur.parse_double("an entry value");
        cur.expect_end();
        ++out.extra;  // entries, before symmetric expansion
        out.edges.push_back({i, j});
        if (header.weighted) out.weights.push_back(value);
        if (header.symmetric && i != j) {
          out.edges.push_back({j, i});
          if (header.weighted) out.weights.push_back(value);
        }
      });
  detail::throw_first_error(chunks, name, header.body_first_line);
  std::uint64_t total = 0;
  for (const auto& chunk : chunks) total += chunk.extra;
  if (total != header.entries) {
    fail(name, ": the size line declares ", header.entries, " entries but the file has ", total);
  }
  EdgeList list;
  detail::concat_chunks(chunks, list, header.weighted);
  list.declared = VertexRange{1, header.bipartite ? n + m : n};
  if (header.bipartite) list.bipartite_rows = n;
  return list;
}

}  // namespace atl
