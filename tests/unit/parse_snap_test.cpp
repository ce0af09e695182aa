// Tests of the SNAP edge-list parser: accepted syntax, weights, every error with its
// FILE:LINE: prefix, line numbers deep inside large multi-chunk inputs for several thread
// counts, compressed inputs and the real SNAP data sets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
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
using atl::test::error_of;
using atl::test::with_threads;
using testing::HasSubstr;
using testing::StartsWith;

EdgeList snap(std::string_view text) {
  return atl::parse_snap(text, "g.txt");
}
std::string snap_error(std::string_view text) {
  return error_of([&] { atl::parse_snap(text, "g.txt"); });
}

// ---- accepted input --------------------------------------------------------------------------

TEST(ParseSnap, UnweightedBasic) {
  EdgeList g = snap("1 2\n2 3\n3 1\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {2, 3}, {3, 1}}));
  EXPECT_FALSE(g.weighted);
  EXPECT_TRUE(g.weights.empty());
  EXPECT_FALSE(g.declared.has_value());
}

TEST(ParseSnap, CommentsAndBlankLines) {
  EdgeList g = snap(
      "# a hash comment\n"
      "% a percent comment\n"
      "\n"
      "   \n"
      "\t\n"
      "  # an indented comment 9 9\n"
      "1 2\n"
      "\t% another 8 8 8\n"
      "\n"
      "5 6\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {5, 6}}));
  EXPECT_FALSE(g.weighted);
}

TEST(ParseSnap, CrlfLineEndings) {
  EdgeList g = snap("# Nodes: 3\r\n1\t2\r\n\r\n2\t3\r\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {2, 3}}));
  EdgeList w = snap("1 2 0.5\r\n2 3 7\r\n");
  EXPECT_EQ(w.weights, (std::vector<double>{0.5, 7}));
}

TEST(ParseSnap, TabsAndMultipleSpaces) {
  EdgeList g = snap("  1 \t  2  \t\n\t\t3\t\t4\t\n5     6\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {3, 4}, {5, 6}}));
  EdgeList w = snap("1\t2\t0.25\n  3   4 \t -8   \r\n");
  EXPECT_EQ(w.edges, (std::vector<Edge>{{1, 2}, {3, 4}}));
  EXPECT_EQ(w.weights, (std::vector<double>{0.25, -8}));
}

TEST(ParseSnap, CommaSeparated) {
  EdgeList g = snap("1,2\n3 ,4\n5, 6\n7\t8\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{1, 2}, {3, 4}, {5, 6}, {7, 8}}));
  EdgeList w = snap("1,2,0.5\r\n2, 3, -7\n");
  EXPECT_EQ(w.edges, (std::vector<Edge>{{1, 2}, {2, 3}}));
  EXPECT_EQ(w.weights, (std::vector<double>{0.5, -7}));
  // One comma between fields, not two; a header line is an error naming its line.
  EXPECT_THAT(snap_error("1,,2\n"), HasSubstr("g.txt:1: expected a destination vertex id"));
  EXPECT_THAT(snap_error("1,2\nsrc,dst\n"), HasSubstr("g.txt:2: expected a source vertex id"));
  EXPECT_THAT(snap_error("1;2\n"), HasSubstr("g.txt:1:"));
}

TEST(ParseSnap, LastLineWithoutNewline) {
  EXPECT_EQ(snap("1 2\n3 4").edges, (std::vector<Edge>{{1, 2}, {3, 4}}));
  EXPECT_EQ(snap("1 2\r\n3 4\r").edges, (std::vector<Edge>{{1, 2}, {3, 4}}));
  EdgeList w = snap("1 2 1.5\n3 4 -2");
  EXPECT_EQ(w.weights, (std::vector<double>{1.5, -2}));
}

TEST(ParseSnap, EmptyAndCommentOnlyInputs) {
  for (std::string_view text : {"", "\n", "# only a comment\n", "% c\r\n\r\n", "   "}) {
    EdgeList g = snap(text);
    EXPECT_TRUE(g.edges.empty()) << text;
    EXPECT_FALSE(g.weighted) << text;
    EXPECT_TRUE(g.weights.empty()) << text;
  }
}

TEST(ParseSnap, WeightsIntegersDecimalsExponentsNegative) {
  EdgeList g = snap(
      "1 2 3\n"
      "2 3 -1.5\n"
      "3 4 2.5e3\n"
      "4 5 1E-2\n"
      "5 6 +7\n"
      "6 7 .5\n"
      "7 8 -0\n"
      "8 9 1e+2\n"
      "9 1 -4.25E+1\n");
  ASSERT_TRUE(g.weighted);
  EXPECT_EQ(g.edges.size(), 9u);
  EXPECT_EQ(g.weights, (std::vector<double>{3, -1.5, 2500, 0.01, 7, 0.5, -0.0, 100, -42.5}));
}

TEST(ParseSnap, NonFiniteWeightsAreRejected) {
  for (const char* weight : {"nan", "inf", "-infinity", "1e999"}) {
    std::string msg = snap_error(std::string("1 2 3\n4 5 ") + weight + "\n");
    EXPECT_THAT(msg, HasSubstr("g.txt:2: ")) << weight;
    EXPECT_THAT(msg, HasSubstr(weight)) << msg;
  }
}

TEST(ParseSnap, IdLimits) {
  EdgeList g = snap("0 18446744073709551615\n18446744073709551615 0\n007 010\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{0, UINT64_MAX}, {UINT64_MAX, 0}, {7, 10}}));
}

TEST(ParseSnap, SelfLoopsAndDuplicatesAreKeptInInputOrder) {
  EdgeList g = snap("3 3\n1 2\n1 2\n3 3\n");
  EXPECT_EQ(g.edges, (std::vector<Edge>{{3, 3}, {1, 2}, {1, 2}, {3, 3}}));
}

TEST(ParseSnap, ParseEdgeListDispatch) {
  EdgeList a = atl::parse_edge_list("1 2\n", atl::GraphFormat::kAuto, "g.txt");
  EdgeList b = atl::parse_edge_list("1 2\n", atl::GraphFormat::kSnap, "g.txt");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.edges, (std::vector<Edge>{{1, 2}}));
}

TEST(ParseSnap, DetectFormat) {
  using atl::GraphFormat;
  EXPECT_EQ(atl::detect_format("1 2\n"), GraphFormat::kSnap);
  EXPECT_EQ(atl::detect_format("# FromNodeId ToNodeId\n1 2\n"), GraphFormat::kSnap);
  EXPECT_EQ(atl::detect_format("% comment\n1 2\n"), GraphFormat::kSnap);
  EXPECT_EQ(atl::detect_format("\r\n\n  \t1 2\n"), GraphFormat::kSnap);
  EXPECT_EQ(atl::detect_format(""), GraphFormat::kSnap);
}

// ---- errors ----------------------------------------------------------------------------------

TEST(ParseSnap, ErrorLettersInSource) {
  EXPECT_EQ(snap_error("1 2\nab 3\n"),
            "g.txt:2: expected a source vertex id (non-negative integer), got 'ab'");
}

TEST(ParseSnap, ErrorLettersInDestination) {
  std::string msg = snap_error("# c\n1 2\n3 x\n");
  EXPECT_THAT(msg, StartsWith("g.txt:3: "));
  EXPECT_THAT(msg, HasSubstr("expected a destination vertex id"));
  EXPECT_THAT(msg, HasSubstr("got 'x'"));
}

TEST(ParseSnap, ErrorDigitsFollowedByLetters) {
  EXPECT_EQ(snap_error("12abc 3\n"),
            "g.txt:1: expected a source vertex id (non-negative integer), got '12abc'");
  EXPECT_EQ(snap_error("1 2x\n"),
            "g.txt:1: expected a destination vertex id (non-negative integer), got '2x'");
}

TEST(ParseSnap, ErrorMissingDestination) {
  EXPECT_EQ(snap_error("1 2\n\n3\n"),
            "g.txt:3: expected a destination vertex id (non-negative integer), got end of line");
  EXPECT_EQ(snap_error("3   \t\r\n"),
            "g.txt:1: expected a destination vertex id (non-negative integer), got end of line");
}

TEST(ParseSnap, ErrorExtraFieldAfterWeight) {
  EXPECT_EQ(snap_error("1 2 3\n4 5 6 7\n"), "g.txt:2: expected end of line, got '7'");
}

TEST(ParseSnap, ErrorBadWeight) {
  EXPECT_EQ(snap_error("1 2 abc\n"), "g.txt:1: expected an edge weight (number), got 'abc'");
  EXPECT_EQ(snap_error("1 2 1.5x\n"), "g.txt:1: expected an edge weight (number), got '1.5x'");
  EXPECT_EQ(snap_error("1 2 +-1\n"), "g.txt:1: expected an edge weight (number), got '+-1'");
  EXPECT_EQ(snap_error("1 2 ++1\n"), "g.txt:1: expected an edge weight (number), got '++1'");
  EXPECT_EQ(snap_error("1 2 +\n"), "g.txt:1: expected an edge weight (number), got '+'");
  EXPECT_EQ(snap_error("1 2 1e999\n"),
            "g.txt:1: an edge weight (number) is out of range, got '1e999'");
}

TEST(ParseSnap, ErrorIdTooLarge) {
  EXPECT_EQ(snap_error("1 2\n18446744073709551616 1\n"),
            "g.txt:2: a source vertex id (non-negative integer) does not fit in 64 bits, got "
            "'18446744073709551616'");
  std::string msg = snap_error("5 99999999999999999999999\n");
  EXPECT_THAT(msg, StartsWith("g.txt:1: "));
  EXPECT_THAT(msg, HasSubstr("destination vertex id"));
  EXPECT_THAT(msg, HasSubstr("does not fit in 64 bits"));
}

TEST(ParseSnap, ErrorNegativeId) {
  EXPECT_EQ(snap_error("-1 2\n"),
            "g.txt:1: expected a source vertex id (non-negative integer), got '-1'");
  EXPECT_EQ(snap_error("1 -2\n"),
            "g.txt:1: expected a destination vertex id (non-negative integer), got '-2'");
}

TEST(ParseSnap, ErrorWeightedThenUnweighted) {
  EXPECT_EQ(snap_error("# c\n1 2 1.0\n\n3 4\n5 6\n"),
            "g.txt:4: expected an edge weight (line 2 has one), got end of line");
}

TEST(ParseSnap, ErrorUnweightedThenWeighted) {
  EXPECT_EQ(snap_error("1 2\n% c\n3 4 5\n6 7 8\n"),
            "g.txt:3: expected end of line (line 1 has no weight), got a weight");
}

TEST(ParseSnap, MixedLinesWithTabsAreAnError) {
  std::string msg = snap_error("  1 \t  2  \t\n\t\t3\t\t4\t\n5     6 \t 2.5   \n");
  EXPECT_EQ(msg, "g.txt:3: expected end of line (line 1 has no weight), got a weight");
}

TEST(ParseSnap, EarliestErrorWins) {
  EXPECT_THAT(snap_error("1 2\n1 x\ny 2\n"), StartsWith("g.txt:2: "));
  // A malformed line is reported even when a weighted/unweighted mix comes earlier.
  EXPECT_THAT(snap_error("1 2\n3 4 5\n6 q\n"), StartsWith("g.txt:3: expected a destination"));
}

TEST(ParseSnap, ErrorKindIsRuntime) {
  try {
    snap("x\n");
    FAIL() << "no throw";
  } catch (const atl::Error& e) {
    EXPECT_EQ(e.kind(), atl::ErrorKind::kRuntime);
  }
}

// ---- large inputs: many chunks, line numbers, thread-count independence ----------------------

// Line n (1-based) of a synthetic SNAP file: comments, blank and whitespace-only lines, tabs,
// runs of spaces and CRLF endings mixed in; the last line has no newline. `overrides` replaces
// the content of given lines.
struct BigSnap {
  std::string text;
  EdgeList expected;
};

BigSnap big_snap(std::uint64_t lines, bool weighted,
                 const std::map<std::uint64_t, std::string>& overrides = {}) {
  BigSnap out;
  out.text.reserve(lines * 24);
  out.expected.weighted = weighted;
  char buf[32];
  auto put_u64 = [&](std::uint64_t v) {
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.text.append(buf, r.ptr);
  };
  for (std::uint64_t n = 1; n <= lines; ++n) {
    auto it = overrides.find(n);
    if (it != overrides.end()) {
      out.text += it->second;
    } else if (n % 97 == 0) {
      out.text += "# comment 1 2 3";
    } else if (n % 101 == 0) {
      // blank line
    } else if (n % 103 == 0) {
      out.text += " \t ";
    } else {
      std::uint64_t src = (n * 2654435761u) % 1000003;
      std::uint64_t dst = (n * 40503u) % 999983;
      if (n % 7 == 0) out.text += "  ";
      put_u64(src);
      out.text += n % 3 == 0 ? "\t" : (n % 5 == 0 ? "   " : " ");
      put_u64(dst);
      out.expected.edges.push_back({src, dst});
      if (weighted) {
        double w = static_cast<double>(n) * 0.25 - 1000.0;
        out.text += ' ';
        auto r = std::to_chars(buf, buf + sizeof buf, w);
        out.text.append(buf, r.ptr);
        out.expected.weights.push_back(w);
      }
    }
    if (n != lines) out.text += n % 2 == 0 ? "\r\n" : "\n";
  }
  return out;
}

constexpr std::uint64_t kBigLines = 2'000'000;

TEST(ParseSnapLarge, SameResultWithOneAndFourThreads) {
  for (bool weighted : {false, true}) {
    BigSnap big = big_snap(kBigLines, weighted);
    EdgeList one = with_threads(1, [&] { return atl::parse_snap(big.text, "big.txt"); });
    EdgeList four = with_threads(4, [&] { return atl::parse_snap(big.text, "big.txt"); });
    EXPECT_TRUE(one == big.expected) << "weighted=" << weighted;
    EXPECT_TRUE(four == big.expected) << "weighted=" << weighted;
    EXPECT_EQ(one.size(), big.expected.size());
  }
}

TEST(ParseSnapLarge, ErrorLineDeepInFile) {
  // Each error alone, so the reported line is exactly the injected one.
  for (std::uint64_t line :
       {std::uint64_t{2}, std::uint64_t{1'234'567}, std::uint64_t{1'999'999}, kBigLines}) {
    BigSnap big = big_snap(kBigLines, false, {{line, "17 x"}});
    for (int threads : {1, 4}) {
      std::string msg = with_threads(
          threads, [&] { return error_of([&] { atl::parse_snap(big.text, "big.txt"); }); });
      EXPECT_EQ(msg, "big.txt:" + std::to_string(line) +
                         ": expected a destination vertex id (non-negative integer), got 'x'")
          << "threads=" << threads;
    }
  }
}

TEST(ParseSnapLarge, EarliestOfSeveralErrorsInDifferentChunks) {
  BigSnap big =
      big_snap(kBigLines, false, {{1'900'001, "1 2 3 4"}, {654'321, "-5 6"}, {1'500'000, "zz"}});
  for (int threads : {1, 4}) {
    std::string msg = with_threads(
        threads, [&] { return error_of([&] { atl::parse_snap(big.text, "big.txt"); }); });
    EXPECT_EQ(msg, "big.txt:654321: expected a source vertex id (non-negative integer), got '-5'")
        << "threads=" << threads;
  }
}

TEST(ParseSnapLarge, WeightMixDeepInFile) {
  BigSnap weighted = big_snap(kBigLines, true, {{1'888'888, "5 6"}, {1'999'990, "7 8"}});
  BigSnap unweighted = big_snap(kBigLines, false, {{1'777'777, "5 6 1.5"}});
  for (int threads : {1, 4}) {
    EXPECT_EQ(
        with_threads(threads,
                     [&] { return error_of([&] { atl::parse_snap(weighted.text, "w.txt"); }); }),
        "w.txt:1888888: expected an edge weight (line 1 has one), got end of line")
        << "threads=" << threads;
    EXPECT_EQ(
        with_threads(threads,
                     [&] { return error_of([&] { atl::parse_snap(unweighted.text, "u.txt"); }); }),
        "u.txt:1777777: expected end of line (line 1 has no weight), got a weight")
        << "threads=" << threads;
  }
  // The first edge line decides even when it is deep in the file (after many comments).
  std::string text(300'000, '\n');
  text += "1 2 3\n4 5\n";
  EXPECT_EQ(snap_error(text),
            "g.txt:300002: expected an edge weight (line 300001 has one), got end of line");
}

TEST(ParseSnapLarge, ErrorsAroundChunkBoundaries) {
  // ~300 KB: several 64 KiB chunks. Inject an error at every line near a multiple of 64 KiB,
  // where chunk cuts fall, and check the exact line for 1 and 4 threads.
  BigSnap big = big_snap(22'000, false);
  std::vector<std::uint64_t> targets;
  std::uint64_t line = 1;
  for (std::size_t i = 0; i < big.text.size(); ++i) {
    std::size_t mod = i % 65536;
    if ((i == 0 || big.text[i - 1] == '\n') && (mod < 200 || mod > 65536 - 200)) {
      targets.push_back(line);
    }
    if (big.text[i] == '\n') ++line;
  }
  ASSERT_GT(targets.size(), 40u);
  for (std::uint64_t target : targets) {
    BigSnap bad = big_snap(22'000, false, {{target, "1 2 3 4"}});
    BigSnap mixed = big_snap(22'000, false, {{target, "1 2 3"}});
    for (int threads : {1, 4}) {
      std::string msg = with_threads(
          threads, [&] { return error_of([&] { atl::parse_snap(bad.text, "b.txt"); }); });
      ASSERT_EQ(msg, "b.txt:" + std::to_string(target) + ": expected end of line, got '4'")
          << "threads=" << threads;
      if (target == 1) continue;  // a weighted first line makes the file weighted
      msg = with_threads(threads,
                         [&] { return error_of([&] { atl::parse_snap(mixed.text, "m.txt"); }); });
      ASSERT_EQ(msg, "m.txt:" + std::to_string(target) +
                         ": expected end of line (line 1 has no weight), got a weight")
          << "threads=" << threads;
    }
  }
}

// ---- compressed files through read_edge_list -------------------------------------------------

TEST(ParseSnap, CompressedFilesReadLikePlainOnes) {
  atl::test::TempDir dir;
  BigSnap big = big_snap(50'000, true);
  std::string half1 = big.text.substr(0, big.text.size() / 2);
  std::string half2 = big.text.substr(big.text.size() / 2);
  atl::test::write_file(dir.file("g.txt"), big.text);
  atl::test::write_file(dir.file("g.txt.zst"), atl::test::zstd_compress(big.text));
  atl::test::write_file(dir.file("g.txt.gz"), atl::test::gzip_compress(big.text));
  atl::test::write_file(dir.file("g2.txt.gz"),
                        atl::test::gzip_compress(half1) + atl::test::gzip_compress(half2));
  atl::test::write_file(dir.file("g2.txt.zst"),
                        atl::test::zstd_compress(half1) + atl::test::zstd_compress(half2));
  for (const char* name : {"g.txt", "g.txt.zst", "g.txt.gz", "g2.txt.gz", "g2.txt.zst"}) {
    EdgeList g = atl::read_edge_list(dir.file(name));
    EXPECT_TRUE(g == big.expected) << name;
  }
}

TEST(ParseSnap, CompressedFileErrorNamesPathAndDecompressedLine) {
  atl::test::TempDir dir;
  std::string path = dir.file("bad.txt.zst");
  atl::test::write_file(path, atl::test::zstd_compress("1 2\r\n# c\r\n3 4 5\r\n"));
  EXPECT_EQ(error_of([&] { atl::read_edge_list(path); }),
            path + ":3: expected end of line (line 1 has no weight), got a weight");
  std::string gz = dir.file("bad.txt.gz");
  atl::test::write_file(gz, atl::test::gzip_compress("1 2\n") + atl::test::gzip_compress("3\n"));
  EXPECT_EQ(error_of([&] { atl::read_edge_list(gz); }),
            gz + ":2: expected a destination vertex id (non-negative integer), got end of line");
}

// ---- real data sets --------------------------------------------------------------------------

struct SnapDataset {
  const char* file;
  std::uint64_t vertices;
  std::uint64_t edges;
  std::uint64_t self_loops;
};

class SnapSharedData : public testing::TestWithParam<SnapDataset> {};

TEST_P(SnapSharedData, CountsMatchPublishedOnes) {
  const SnapDataset& d = GetParam();
  std::string path = atl::test::shared_data(d.file);
  if (path.empty()) GTEST_SKIP() << d.file << " not found under " << ATOLL_SHARED_DATA;
  EXPECT_EQ(atl::detect_format(atl::test::file_bytes(path)), atl::GraphFormat::kSnap);
  EdgeList edges = atl::read_edge_list(path);
  EXPECT_FALSE(edges.weighted);
  EXPECT_EQ(edges.size(), d.edges);
  atl::GraphStats s = atl::compute_stats(atl::Topology::build(edges));
  EXPECT_EQ(s.vertices, d.vertices);
  EXPECT_EQ(s.edges, d.edges);
  EXPECT_EQ(s.self_loops, d.self_loops);
  EXPECT_EQ(s.duplicate_edges, 0u);
  EXPECT_EQ(s.isolated_vertices, 0u);
}

INSTANTIATE_TEST_SUITE_P(Snap, SnapSharedData,
                         testing::Values(SnapDataset{"facebook_combined.txt.zst", 4039, 88234, 0},
                                         SnapDataset{"wiki-Vote.txt.zst", 7115, 103689, 0},
                                         SnapDataset{"soc-Slashdot0902.txt.zst", 82168, 948464,
                                                     78303},
                                         SnapDataset{"email-Eu-core.txt.zst", 1005, 25571, 642}),
                         [](const testing::TestParamInfo<SnapDataset>& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find('.'));
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(SnapSharedDataCrlf, WikiVoteHasCrlfLineEndings) {
  std::string path = atl::test::shared_data("wiki-Vote.txt.zst");
  if (path.empty()) GTEST_SKIP() << "wiki-Vote.txt.zst not found under " << ATOLL_SHARED_DATA;
  std::string text = atl::test::file_bytes(path);
  EXPECT_NE(text.find("\r\n"), std::string::npos);
}

}  // namespace
