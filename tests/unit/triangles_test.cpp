// Triangle counts against a brute-force count on the undirected simple view, for inputs with
// repeats, both directions and self-loops, every scheduler and consistency model; the real
// graphs of ../shared/data against the brute force and SNAP's published totals.
#include "atoll/apps/triangles.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "atoll/graph/read_graph.hpp"
#include "test_util.hpp"
#include "undirected_inputs.hpp"
#include "undirected_reference.hpp"

namespace atl {
namespace {

TEST(Triangles, MatchBruteForceForEveryBuildSchedulerAndModel) {
  for (const test::UndirectedInput& input : test::undirected_inputs()) {
    test::UndirectedGraph g = test::undirected_view(input.edges);
    std::vector<std::uint64_t> expected = test::reference_triangles(g);
    const std::uint64_t total = std::accumulate(expected.begin(), expected.end(), 0ull) / 3;
    for (const BuildOptions& build : test::undirected_builds()) {
      for (SchedulerKind s : {SchedulerKind::kFifo, SchedulerKind::kSweep}) {
        for (Consistency c : {Consistency::kVertex, Consistency::kEdge}) {
          SCOPED_TRACE(input.name + " symmetrize " + std::to_string(build.symmetrize) + " dedup " +
                       std::to_string(build.dedup) + " " + std::string(scheduler_name(s)) + " " +
                       std::string(consistency_name(c)));
          TrianglesResult r =
              triangles(Topology::build(input.edges, build), test::engine_options(s, c, 3));
          EXPECT_EQ(r.gids, g.gids);
          EXPECT_EQ(r.values, expected);
          EXPECT_EQ(r.total, total);
        }
      }
    }
  }
}

TEST(Triangles, KnownSmallAnswers) {
  TrianglesResult r = triangles(Topology::build(test::awkward_undirected()),
                                test::engine_options(SchedulerKind::kSweep));
  EXPECT_EQ(r.values, (std::vector<std::uint64_t>{3, 3, 3, 3, 1, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.total, 5u);  // four in the 4-clique, one more
}

TEST(Triangles, RealGraphsMatchBruteForceAndPublishedTotals) {
  int found = 0;
  std::string path = test::shared_data("facebook_combined.txt.zst");
  if (!path.empty()) {
    ++found;
    EdgeList raw = read_edge_list(path);
    TrianglesResult r =
        triangles(Topology::build(raw), test::engine_options(SchedulerKind::kSweep));
    EXPECT_EQ(r.values, test::reference_triangles(test::undirected_view(raw)));
    EXPECT_EQ(r.total, 1612010u);  // SNAP's ego-Facebook statistics
  }
  // SNAP's published totals (../shared/data/README.md checks them too).
  for (auto [name, total] : {std::pair<const char*, std::uint64_t>{"email-Enron.txt.zst", 727044},
                             {"cit-HepTh.relabeled.txt.zst", 1478735}}) {
    path = test::shared_data(name);
    if (path.empty()) continue;
    ++found;
    TrianglesResult r = triangles(Topology::build(read_edge_list(path)),
                                  test::engine_options(SchedulerKind::kFifo));
    EXPECT_EQ(r.total, total) << name;
  }
  if (found == 0) GTEST_SKIP() << "no real graphs in " << ATOLL_SHARED_DATA;
}

}  // namespace
}  // namespace atl
