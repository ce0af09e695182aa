// Tests of the Matrix Market parser: banner and size line, pattern/integer/real entries,
// symmetric expansion, the declared range 1..n, every error with its FILE:LINE: prefix, line
// numbers deep inside a large file, compressed inputs and the real SuiteSparse matrices.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/graph_format.hpp"
#include "atoll/graph/graph_stats.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/topology.hpp"
#include "test_util.hpp"

namespace {

using atl::Edge;
using atl::EdgeList;
using atl::VertexRange;
using atl::test::error_of;
using atl::test::with_threads;
using testing::HasSubstr;
using testing::StartsWith;

EdgeList mtx(std::string_view text) {
  return atl::parse_mtx(text, "m.mtx");
}
std::string mtx_error(std::string_view text) {
  return error_of([&] { atl::parse_mtx(text, "m.mtx"); });
}

// ---- accepted input --------------------------------------------------------------------------

TEST(ParseMtx, PatternGeneral) {
  EdgeList g =
      mtx("%%MatrixMarket matrix coordinate pattern general\n"
          "% a comment\n"
          "%\n"
          "3 3 3\n"
          "1 2\n"
          "3 1\n"
          "2 2\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {3, 1}, {2, 2}}));
  EXPECT_FALSE(g.weighted);
  EXPECT_TRUE(g.weights.empty());
  EXPECT_EQ(g.declared, (VertexRange{1, 3}));
}

TEST(ParseMtx, IntegerAndRealValues) {
  EdgeList i = mtx("%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 2 7\n2 1 -3\n");
  EXPECT_TRUE(i.weighted);
  EXPECT_EQ(i.weights, (std::vector<double>{7, -3}));
  EdgeList r =
      mtx("%%MatrixMarket matrix coordinate real general\n"
          "2 2 4\n"
          "1 2 0.5\n"
          "2 1 -2.5e-3\n"
          "1 1 1E3\n"
          "2 2 +4\n");
  EXPECT_EQ(r.edges, (std::vector<Edge>{{1, 2}, {2, 1}, {1, 1}, {2, 2}}));
  EXPECT_EQ(r.weights, (std::vector<double>{0.5, -0.0025, 1000, 4}));
}

TEST(ParseMtx, BannerIsCaseInsensitive) {
  EdgeList g = mtx("%%MatrixMarket MATRIX Coordinate Real GENERAL\n1 1 1\n1 1 2\n");
  EXPECT_EQ(g.weights, (std::vector<double>{2}));
  EXPECT_EQ(atl::detect_format("%%matrixmarket matrix coordinate pattern general\n1 1 0\n"),
            atl::GraphFormat::kMtx);
}

TEST(ParseMtx, WhitespaceCommentsCrlfAndLastLineWithoutNewline) {
  EdgeList g =
      mtx("%%MatrixMarket  matrix\tcoordinate   real general  \r\n"
          "% comment\r\n"
          "\r\n"
          "  4\t4   3 \r\n"
          "\t1  2\t1.5\r\n"
          "   % indented comment\r\n"
          "\r\n"
          "3 4 2 \r\n"
          "4\t1\t-1");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {3, 4}, {4, 1}}));
  EXPECT_EQ(g.weights, (std::vector<double>{1.5, 2, -1}));
  EXPECT_EQ(g.declared, (VertexRange{1, 4}));
}

TEST(ParseMtx, SymmetricExpansion) {
  // Off-diagonal entries give both directions with the same weight; the diagonal stays once.
  EdgeList g =
      mtx("%%MatrixMarket matrix coordinate real symmetric\n"
          "3 3 3\n"
          "1 1 5\n"
          "2 1 2.5\n"
          "3 2 -1\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 1}, {2, 1}, {1, 2}, {3, 2}, {2, 3}}));
  EXPECT_EQ(g.weights, (std::vector<double>{5, 2.5, 2.5, -1, -1}));
  EdgeList p = mtx("%%MatrixMarket matrix coordinate pattern symmetric\n4 4 2\n3 1\n4 4\n");
  EXPECT_EQ(p.edges, (std::vector<Edge>{{3, 1}, {1, 3}, {4, 4}}));
  EXPECT_FALSE(p.weighted);
  EXPECT_EQ(p.declared, (VertexRange{1, 4}));
}

TEST(ParseMtx, DeclaredRangeIncludesIsolatedVertices) {
  EdgeList g = mtx("%%MatrixMarket matrix coordinate pattern general\n7 7 2\n2 3\n3 2\n");
  atl::Topology t = atl::Topology::build(g);
  atl::GraphStats s = atl::compute_stats(t);
  EXPECT_EQ(s.vertices, 7u);
  EXPECT_EQ(s.isolated_vertices, 5u);
  EXPECT_EQ(t.gid(0), 1u);
  EXPECT_EQ(t.gid(6), 7u);
  EXPECT_EQ(t.lid(7), 6u);
  EXPECT_EQ(t.lid(0), atl::kInvalidLid);
  EXPECT_EQ(t.lid(8), atl::kInvalidLid);
  EdgeList empty = mtx("%%MatrixMarket matrix coordinate pattern general\n3 3 0\n");
  EXPECT_TRUE(empty.edges.empty());
  EXPECT_EQ(atl::Topology::build(empty).num_vertices(), 3u);
}

TEST(ParseMtx, DetectFormat) {
  const char* text = "%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 2\n";
  EXPECT_EQ(atl::detect_format(text), atl::GraphFormat::kMtx);
  EXPECT_EQ(atl::parse_edge_list(text, atl::GraphFormat::kAuto, "m.mtx"), mtx(text));
  // A lone '%' comment is SNAP, not Matrix Market.
  EXPECT_EQ(atl::detect_format("% comment\n1 2\n"), atl::GraphFormat::kSnap);
}

// ---- errors ----------------------------------------------------------------------------------

TEST(ParseMtx, ErrorNoBanner) {
  EXPECT_EQ(mtx_error("3 3 1\n1 1\n"),
            "m.mtx:1: expected a '%%MatrixMarket matrix coordinate FIELD SYMMETRY' banner, got "
            "'3 3 1'");
  EXPECT_THAT(mtx_error("%%MatrixMarket matrix coordinate real\n1 1 0\n"),
              StartsWith("m.mtx:1: expected a '%%MatrixMarket matrix coordinate FIELD SYMMETRY' "
                         "banner"));
  EXPECT_THAT(mtx_error(""), StartsWith("m.mtx:1: expected a '%%MatrixMarket"));
}

TEST(ParseMtx, ErrorUnsupportedHeaders) {
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n"),
            "m.mtx:1: unsupported Matrix Market format 'array' (supported: coordinate)");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n"),
            "m.mtx:1: unsupported Matrix Market field 'complex' (supported: pattern, integer, "
            "real)");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate complex hermitian\n1 1 0\n"),
            "m.mtx:1: unsupported Matrix Market field 'complex' (supported: pattern, integer, "
            "real)");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate real hermitian\n1 1 0\n"),
            "m.mtx:1: unsupported Matrix Market symmetry 'hermitian' (supported: general, "
            "symmetric)");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 1\n"),
            "m.mtx:1: unsupported Matrix Market symmetry 'skew-symmetric' (supported: general, "
            "symmetric)");
  EXPECT_EQ(mtx_error("%%MatrixMarket vector coordinate real general\n3 1\n1 1\n"),
            "m.mtx:1: unsupported Matrix Market object 'vector' (supported: matrix)");
}

TEST(ParseMtx, NonSquareIsBipartiteRowsThenColumns) {
  // 2 users x 3 items: rows are vertices 1..2, columns 3..5.
  EdgeList l = atl::parse_mtx(
      "%%MatrixMarket matrix coordinate real general\n% c\n2 3 3\n1 1 5\n2 3 1.5\n1 2 -2\n",
      "m.mtx");
  EXPECT_EQ(l.edges, (std::vector<Edge>{{1, 3}, {2, 5}, {1, 4}}));
  EXPECT_EQ(l.weights, (std::vector<double>{5, 1.5, -2}));
  EXPECT_EQ(l.declared, (VertexRange{1, 5}));
  EXPECT_EQ(l.bipartite_rows, 2u);
  // A square matrix is a graph's adjacency unless the bipartite layout is asked for.
  const std::string square = "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 1\n2 1\n";
  EdgeList adjacency = atl::parse_mtx(square, "s.mtx");
  EXPECT_EQ(adjacency.edges, (std::vector<Edge>{{1, 1}, {2, 1}}));
  EXPECT_EQ(adjacency.bipartite_rows, 0u);
  EdgeList bipartite = atl::parse_mtx(square, "s.mtx", atl::MtxLayout::kBipartite);
  EXPECT_EQ(bipartite.edges, (std::vector<Edge>{{1, 3}, {2, 3}}));
  EXPECT_EQ(bipartite.declared, (VertexRange{1, 4}));
  EXPECT_EQ(bipartite.bipartite_rows, 2u);
}

TEST(ParseMtx, ErrorBipartiteIndexOutOfRangeOrSymmetric) {
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n% c\n3 4 1\n1 5\n"),
            "m.mtx:4: expected a column index in 1..4, got '5'");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n3 4 1\n4 1\n"),
            "m.mtx:3: expected a row index in 1..3, got '4'");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern symmetric\n3 4 1\n1 1\n"),
            "m.mtx:2: a 3 x 4 matrix read as bipartite cannot be symmetric");
}

TEST(ParseMtx, ErrorMalformedOrMissingSizeLine) {
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n% only comments\n"),
            "m.mtx: no size line 'rows cols entries' after the Matrix Market banner");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n3 3\n"),
            "m.mtx:2: expected an entry count, got end of line");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n3 3 1 1\n"),
            "m.mtx:2: expected end of line, got '1'");
}

TEST(ParseMtx, ErrorEntryCountMismatch) {
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n3 3 3\n1 2\n2 3\n"),
            "m.mtx: the size line declares 3 entries but the file has 2");
  // Symmetric files count entries, not expanded edges.
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern symmetric\n3 3 3\n2 1\n3 1\n"),
            "m.mtx: the size line declares 3 entries but the file has 2");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n3 3 1\n1 2\n2 3\n"),
            "m.mtx: the size line declares 1 entries but the file has 2");
}

TEST(ParseMtx, ErrorIndexOutOfRange) {
  const std::string head = "%%MatrixMarket matrix coordinate pattern general\n3 3 2\n";
  EXPECT_EQ(mtx_error(head + "1 2\n4 1\n"), "m.mtx:4: expected a row index in 1..3, got '4'");
  EXPECT_EQ(mtx_error(head + "0 1\n1 1\n"), "m.mtx:3: expected a row index in 1..3, got '0'");
  EXPECT_EQ(mtx_error(head + "1 2\n2 5\n"), "m.mtx:4: expected a column index in 1..3, got '5'");
  EXPECT_EQ(mtx_error(head + "1 0\n1 1\n"), "m.mtx:3: expected a column index in 1..3, got '0'");
}

TEST(ParseMtx, ErrorMissingOrExtraValue) {
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 2 1.5\n2 1\n"),
            "m.mtx:4: expected an entry value, got end of line");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 2 x\n"),
            "m.mtx:3: expected an entry value, got 'x'");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1 1\n"),
            "m.mtx:4: expected end of line, got '1'");
  EXPECT_EQ(mtx_error("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 1 2\n"),
            "m.mtx:3: expected end of line, got '2'");
}

TEST(ParseMtx, ErrorMalformedEntry) {
  const std::string head = "%%MatrixMarket matrix coordinate pattern general\n3 3 1\n";
  EXPECT_EQ(mtx_error(head + "a 1\n"), "m.mtx:3: expected a row index, got 'a'");
  EXPECT_EQ(mtx_error(head + "1\n"), "m.mtx:3: expected a column index, got end of line");
  EXPECT_EQ(mtx_error(head + "-1 1\n"), "m.mtx:3: expected a row index, got '-1'");
  EXPECT_THAT(mtx_error(head + "1 18446744073709551616\n"),
              StartsWith("m.mtx:3: a column index does not fit in 64 bits"));
}

// ---- large input -----------------------------------------------------------------------------

struct BigMtx {
  std::string text;
  EdgeList expected;
};

// Banner, 2 comment lines, size line (line 4), then entries (integer, symmetric) with a
// comment every 83 lines and CRLF on every other line.
BigMtx big_mtx(std::uint64_t entries, const std::map<std::uint64_t, std::string>& overrides = {}) {
  const std::uint64_t n = 500'000;
  BigMtx out;
  out.expected.weighted = true;
  out.expected.declared = VertexRange{1, n};
  out.text = "%%MatrixMarket matrix coordinate integer symmetric\n% big\n% test\n" +
             std::to_string(n) + " " + std::to_string(n) + " " + std::to_string(entries) + "\n";
  std::uint64_t line = 4;
  std::uint64_t made = 0;
  while (made < entries) {
    ++line;
    auto it = overrides.find(line);
    if (it != overrides.end()) {
      out.text += it->second;
    } else if (line % 83 == 0) {
      out.text += "% comment";
    } else {
      std::uint64_t i = (line * 2654435761u) % n + 1;
      std::uint64_t j = (line * 40503u) % n + 1;
      std::uint64_t v = line % 1000;
      out.text += std::to_string(i) + " " + std::to_string(j) + " " + std::to_string(v);
      out.expected.edges.push_back({i, j});
      out.expected.weights.push_back(static_cast<double>(v));
      if (i != j) {
        out.expected.edges.push_back({j, i});
        out.expected.weights.push_back(static_cast<double>(v));
      }
      ++made;
    }
    out.text += line % 2 == 0 ? "\r\n" : "\n";
  }
  return out;
}

TEST(ParseMtxLarge, SameResultWithOneAndFourThreads) {
  BigMtx big = big_mtx(1'000'000);
  EdgeList one = with_threads(1, [&] { return atl::parse_mtx(big.text, "big.mtx"); });
  EdgeList four = with_threads(4, [&] { return atl::parse_mtx(big.text, "big.mtx"); });
  EXPECT_TRUE(one == big.expected);
  EXPECT_TRUE(four == big.expected);
}

TEST(ParseMtxLarge, ErrorLineDeepInFile) {
  for (std::uint64_t line : {std::uint64_t{5}, std::uint64_t{765'432}, std::uint64_t{1'000'003}}) {
    BigMtx big = big_mtx(1'000'000, {{line, "500001 1 1"}});
    for (int threads : {1, 4}) {
      std::string msg = with_threads(
          threads, [&] { return error_of([&] { atl::parse_mtx(big.text, "big.mtx"); }); });
      EXPECT_EQ(msg, "big.mtx:" + std::to_string(line) +
                         ": expected a row index in 1..500000, got '500001'")
          << "threads=" << threads;
    }
  }
}

// ---- compressed and real files ---------------------------------------------------------------

TEST(ParseMtx, CompressedFilesReadLikePlainOnes) {
  atl::test::TempDir dir;
  BigMtx big = big_mtx(20'000);
  std::string part1 = big.text.substr(0, 10);  // cut inside the banner
  std::string part2 = big.text.substr(10);
  atl::test::write_file(dir.file("g.mtx"), big.text);
  atl::test::write_file(dir.file("g.mtx.zst"), atl::test::zstd_compress(big.text));
  atl::test::write_file(dir.file("g.mtx.gz"), atl::test::gzip_compress(big.text));
  atl::test::write_file(dir.file("g2.mtx.gz"),
                        atl::test::gzip_compress(part1) + atl::test::gzip_compress(part2));
  for (const char* name : {"g.mtx", "g.mtx.zst", "g.mtx.gz", "g2.mtx.gz"}) {
    EXPECT_TRUE(atl::read_edge_list(dir.file(name)) == big.expected) << name;
  }
}

TEST(MtxSharedData, WbCsStanford) {
  std::string path = atl::test::shared_data("wb-cs-stanford.mtx.zst");
  if (path.empty()) GTEST_SKIP() << "wb-cs-stanford.mtx.zst not found under " << ATOLL_SHARED_DATA;
  EXPECT_EQ(atl::detect_format(atl::test::file_bytes(path)), atl::GraphFormat::kMtx);
  EdgeList edges = atl::read_edge_list(path);
  EXPECT_FALSE(edges.weighted);
  EXPECT_EQ(edges.declared, (VertexRange{1, 9914}));
  atl::GraphStats s = atl::compute_stats(atl::Topology::build(edges));
  EXPECT_EQ(s.vertices, 9914u);
  EXPECT_EQ(s.edges, 36854u);
  EXPECT_EQ(s.self_loops, 1299u);
  EXPECT_EQ(s.isolated_vertices, 479u);
  EXPECT_EQ(s.duplicate_edges, 0u);
}

TEST(MtxSharedData, Lederberg) {
  std::string path = atl::test::shared_data("Lederberg.mtx.zst");
  if (path.empty()) GTEST_SKIP() << "Lederberg.mtx.zst not found under " << ATOLL_SHARED_DATA;
  EdgeList edges = atl::read_edge_list(path);
  ASSERT_TRUE(edges.weighted);
  EXPECT_EQ(edges.declared, (VertexRange{1, 8843}));
  EXPECT_EQ(std::count(edges.weights.begin(), edges.weights.end(), 1.0), 41593);
  EXPECT_EQ(std::count(edges.weights.begin(), edges.weights.end(), 2.0), 8);
  atl::GraphStats s = atl::compute_stats(atl::Topology::build(edges));
  EXPECT_EQ(s.vertices, 8843u);
  EXPECT_EQ(s.edges, 41601u);
  EXPECT_EQ(s.self_loops, 6u);
  EXPECT_EQ(s.isolated_vertices, 8843u - 8324u);
  EXPECT_TRUE(s.weighted);
}

}  // namespace
