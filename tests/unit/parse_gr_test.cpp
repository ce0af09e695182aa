// Tests of the DIMACS .gr parser: header and arc syntax, the declared vertex range 1..N,
// every error with its FILE:LINE: prefix, line numbers deep inside a large file, compressed
// inputs and the real rome99 network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <numeric>
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

EdgeList gr(std::string_view text) {
  return atl::parse_gr(text, "g.gr");
}
std::string gr_error(std::string_view text) {
  return error_of([&] { atl::parse_gr(text, "g.gr"); });
}

// ---- accepted input --------------------------------------------------------------------------

TEST(ParseGr, Basic) {
  EdgeList g =
      gr("c 9th DIMACS challenge\n"
         "c\n"
         "p sp 4 3\n"
         "c arcs follow\n"
         "a 1 2 10\n"
         "a 2 3 2.5\n"
         "\n"
         "a 3 1 1e2\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {2, 3}, {3, 1}}));
  EXPECT_TRUE(g.weighted);
  EXPECT_EQ(g.weights, (std::vector<double>{10, 2.5, 100}));
  ASSERT_TRUE(g.declared.has_value());
  EXPECT_EQ(*g.declared, (VertexRange{1, 4}));
}

TEST(ParseGr, WhitespaceCrlfAndLastLineWithoutNewline) {
  EdgeList g =
      gr("c comment\r\n"
         "\r\n"
         "  p \t sp   3\t2  \r\n"
         "\ta\t1 \t3   7\t\r\n"
         "   c indented comment\r\n"
         "a 3 2 -1.5E1");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 3}, {3, 2}}));
  EXPECT_EQ(g.weights, (std::vector<double>{7, -15}));
  EXPECT_EQ(*g.declared, (VertexRange{1, 3}));
}

TEST(ParseGr, DecimalAndExponentWeights) {
  EdgeList g = gr("p sp 2 4\na 1 2 0.125\na 2 1 3E3\na 1 1 +4\na 2 2 5e-1\n");
  EXPECT_EQ(g.weights, (std::vector<double>{0.125, 3000, 4, 0.5}));
}

TEST(ParseGr, NoArcsAndIsolatedVertices) {
  EdgeList g = gr("p sp 5 0\n");
  EXPECT_TRUE(g.edges.empty());
  EXPECT_TRUE(g.weighted);
  EXPECT_EQ(*g.declared, (VertexRange{1, 5}));
  atl::Topology t = atl::Topology::build(g);
  EXPECT_EQ(t.num_vertices(), 5u);
  EXPECT_EQ(t.gid(0), 1u);
  EXPECT_EQ(t.gid(4), 5u);
}

TEST(ParseGr, DeclaredRangeIncludesIsolatedVertices) {
  EdgeList g = gr("p sp 6 2\na 2 3 1\na 3 2 1\n");
  atl::GraphStats s = atl::compute_stats(atl::Topology::build(g));
  EXPECT_EQ(s.vertices, 6u);
  EXPECT_EQ(s.isolated_vertices, 4u);  // 1, 4, 5, 6
  EXPECT_EQ(s.edges, 2u);
  EXPECT_TRUE(s.weighted);
}

TEST(ParseGr, DetectFormat) {
  using atl::GraphFormat;
  EXPECT_EQ(atl::detect_format("c comment\np sp 1 0\n"), GraphFormat::kGr);
  EXPECT_EQ(atl::detect_format("p sp 1 0\n"), GraphFormat::kGr);
  EXPECT_EQ(atl::detect_format("\n\r\n \tc x\n"), GraphFormat::kGr);
  EdgeList a = atl::parse_edge_list("p sp 2 1\na 1 2 3\n", GraphFormat::kAuto, "g.gr");
  EXPECT_EQ(a, gr("p sp 2 1\na 1 2 3\n"));
}

// ---- errors ----------------------------------------------------------------------------------

TEST(ParseGr, ErrorArcCountDisagreesWithPLine) {
  EXPECT_EQ(gr_error("p sp 3 3\na 1 2 1\na 2 3 1\n"),
            "g.gr: the 'p' line declares 3 arcs but the file has 2");
  EXPECT_EQ(gr_error("p sp 3 1\na 1 2 1\na 2 3 1\n"),
            "g.gr: the 'p' line declares 1 arcs but the file has 2");
}

TEST(ParseGr, ErrorIdOutsideOneToN) {
  EXPECT_EQ(gr_error("c\np sp 3 1\na 0 1 1\n"),
            "g.gr:3: expected a tail vertex id in 1..3, got '0'");
  EXPECT_EQ(gr_error("p sp 3 2\na 1 2 1\na 4 1 1\n"),
            "g.gr:3: expected a tail vertex id in 1..3, got '4'");
  EXPECT_EQ(gr_error("p sp 3 1\n\na 1 0 1\n"),
            "g.gr:3: expected a head vertex id in 1..3, got '0'");
  EXPECT_EQ(gr_error("p sp 3 1\na 1 4 1\n"), "g.gr:2: expected a head vertex id in 1..3, got '4'");
}

TEST(ParseGr, ErrorMissingPLine) {
  EXPECT_EQ(gr_error("c only comments\n\nc\n"),
            "g.gr: no 'p sp N M' line (is this a DIMACS .gr file?)");
  EXPECT_EQ(gr_error(""), "g.gr: no 'p sp N M' line (is this a DIMACS .gr file?)");
  EXPECT_EQ(gr_error("c\na 1 2 3\np sp 2 1\n"),
            "g.gr:2: expected a 'p sp N M' line before any arc, got 'a'");
}

TEST(ParseGr, ErrorSecondPLine) {
  EXPECT_EQ(gr_error("p sp 2 1\na 1 2 1\np sp 2 1\n"),
            "g.gr:3: expected one 'p' line, got a second one");
}

TEST(ParseGr, ErrorProblemTypeNotSp) {
  EXPECT_EQ(gr_error("c\np max 3 2\n"),
            "g.gr:2: expected problem type 'sp' (shortest paths), got 'max'");
  EXPECT_EQ(gr_error("p spx 3 2\n"),
            "g.gr:1: expected problem type 'sp' (shortest paths), got 'spx'");
  EXPECT_THAT(gr_error("p\n"), StartsWith("g.gr:1: expected 'p sp N M', got end of line"));
}

TEST(ParseGr, ErrorMalformedPLine) {
  EXPECT_EQ(gr_error("p sp 3\n"), "g.gr:1: expected an arc count M, got end of line");
  EXPECT_EQ(gr_error("p sp x 3\n"), "g.gr:1: expected a vertex count N, got 'x'");
  EXPECT_EQ(gr_error("p sp 3 2 9\n"), "g.gr:1: expected end of line, got '9'");
}

TEST(ParseGr, ErrorMalformedArcLine) {
  EXPECT_EQ(gr_error("p sp 3 1\na 1 2\n"), "g.gr:2: expected an arc weight W, got end of line");
  EXPECT_EQ(gr_error("p sp 3 1\na 1 2 3 4\n"), "g.gr:2: expected end of line, got '4'");
  EXPECT_EQ(gr_error("p sp 3 1\na 1 x 3\n"), "g.gr:2: expected a head vertex id V, got 'x'");
  EXPECT_EQ(gr_error("p sp 3 1\na -1 2 3\n"), "g.gr:2: expected a tail vertex id U, got '-1'");
  EXPECT_EQ(gr_error("p sp 3 1\nb 1 2 3\n"),
            "g.gr:2: expected an arc line 'a U V W' or a 'c' comment, got 'b'");
  EXPECT_EQ(gr_error("p sp 3 1\na 1 2 w\n"), "g.gr:2: expected an arc weight W, got 'w'");
  EXPECT_THAT(gr_error("p sp 3 1\na 99999999999999999999 2 1\n"),
              StartsWith("g.gr:2: a tail vertex id U does not fit in 64 bits"));
}

// ---- large input -----------------------------------------------------------------------------

struct BigGr {
  std::string text;
  EdgeList expected;
};

// Header: 3 comment lines, the p line (line 4); then arcs with a comment every 89 lines and
// CRLF on every third line. Lines are 1-based file lines.
BigGr big_gr(std::uint64_t arcs, const std::map<std::uint64_t, std::string>& overrides = {}) {
  const std::uint64_t n = 1'000'000;
  BigGr out;
  out.expected.weighted = true;
  out.expected.declared = VertexRange{1, n};
  std::uint64_t declared_arcs = arcs;
  out.text = "c big\nc test\nc file\np sp " + std::to_string(n) + " ";
  std::size_t arcs_pos = out.text.size();
  out.text += "\n";
  std::uint64_t line = 4;
  std::uint64_t made = 0;
  char buf[64];
  while (made < arcs) {
    ++line;
    auto it = overrides.find(line);
    if (it != overrides.end()) {
      out.text += it->second;
    } else if (line % 89 == 0) {
      out.text += "c comment";
    } else {
      std::uint64_t u = (line * 2654435761u) % n + 1;
      std::uint64_t v = (line * 40503u) % n + 1;
      double w = static_cast<double>(line % 10007);
      auto r = std::to_chars(buf, buf + sizeof buf, line % 10007);
      out.text += "a " + std::to_string(u) + " " + std::to_string(v) + " ";
      out.text.append(buf, r.ptr);
      out.expected.edges.push_back({u, v});
      out.expected.weights.push_back(w);
      ++made;
    }
    out.text += line % 3 == 0 ? "\r\n" : "\n";
  }
  out.text.insert(arcs_pos, std::to_string(declared_arcs));
  return out;
}

TEST(ParseGrLarge, SameResultWithOneAndFourThreads) {
  BigGr big = big_gr(1'000'000);
  EdgeList one = with_threads(1, [&] { return atl::parse_gr(big.text, "big.gr"); });
  EdgeList four = with_threads(4, [&] { return atl::parse_gr(big.text, "big.gr"); });
  EXPECT_TRUE(one == big.expected);
  EXPECT_TRUE(four == big.expected);
}

TEST(ParseGrLarge, ErrorLineDeepInFile) {
  for (std::uint64_t line : {std::uint64_t{5}, std::uint64_t{876'543}, std::uint64_t{1'000'001}}) {
    BigGr big = big_gr(1'000'000, {{line, "a 1 1000001 5"}});
    for (int threads : {1, 4}) {
      std::string msg = with_threads(
          threads, [&] { return error_of([&] { atl::parse_gr(big.text, "big.gr"); }); });
      EXPECT_EQ(msg, "big.gr:" + std::to_string(line) +
                         ": expected a head vertex id in 1..1000000, got '1000001'")
          << "threads=" << threads;
    }
  }
  BigGr twice = big_gr(1'000'000, {{900'000, "a 1 2 3 4"}, {345'678, "p sp 1 1"}});
  for (int threads : {1, 4}) {
    std::string msg = with_threads(
        threads, [&] { return error_of([&] { atl::parse_gr(twice.text, "big.gr"); }); });
    EXPECT_EQ(msg, "big.gr:345678: expected one 'p' line, got a second one");
  }
}

// ---- compressed and real files ---------------------------------------------------------------

TEST(ParseGr, CompressedFilesReadLikePlainOnes) {
  atl::test::TempDir dir;
  BigGr big = big_gr(20'000);
  std::string half1 = big.text.substr(0, big.text.size() / 3);
  std::string half2 = big.text.substr(big.text.size() / 3);
  atl::test::write_file(dir.file("g.gr"), big.text);
  atl::test::write_file(dir.file("g.gr.zst"), atl::test::zstd_compress(big.text));
  atl::test::write_file(dir.file("g.gr.gz"), atl::test::gzip_compress(big.text));
  atl::test::write_file(dir.file("g2.gr.gz"),
                        atl::test::gzip_compress(half1) + atl::test::gzip_compress(half2));
  for (const char* name : {"g.gr", "g.gr.zst", "g.gr.gz", "g2.gr.gz"}) {
    EXPECT_TRUE(atl::read_edge_list(dir.file(name)) == big.expected) << name;
    EXPECT_TRUE(atl::read_edge_list(dir.file(name), atl::GraphFormat::kGr) == big.expected) << name;
  }
}

TEST(GrSharedData, Rome99) {
  std::string path = atl::test::shared_data("rome99.gr.zst");
  if (path.empty()) GTEST_SKIP() << "rome99.gr.zst not found under " << ATOLL_SHARED_DATA;
  EXPECT_EQ(atl::detect_format(atl::test::file_bytes(path)), atl::GraphFormat::kGr);
  EdgeList edges = atl::read_edge_list(path);
  EXPECT_TRUE(edges.weighted);
  ASSERT_EQ(edges.size(), 8870u);
  EXPECT_EQ(edges.declared, (VertexRange{1, 3353}));
  EXPECT_EQ(std::accumulate(edges.weights.begin(), edges.weights.end(), 0.0), 4721692.0);

  atl::Topology t = atl::Topology::build(edges);
  atl::GraphStats s = atl::compute_stats(t);
  EXPECT_EQ(s.vertices, 3353u);
  EXPECT_EQ(s.edges, 8870u);
  EXPECT_EQ(s.duplicate_edges, 11u);
  EXPECT_EQ(s.self_loops, 0u);
  EXPECT_TRUE(s.weighted);
  EXPECT_EQ(std::accumulate(t.weights().begin(), t.weights().end(), 0.0), 4721692.0);

  atl::Topology simple = atl::Topology::build(edges, {.symmetrize = true, .dedup = true});
  EXPECT_EQ(simple.num_edges(), 9662u);
  atl::GraphStats ss = atl::compute_stats(simple);
  EXPECT_EQ(ss.duplicate_edges, 0u);
  EXPECT_EQ(ss.self_loops, 0u);
}

}  // namespace
