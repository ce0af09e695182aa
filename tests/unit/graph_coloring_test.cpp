// Greedy colouring checked for validity on the undirected view (a separate check in the test,
// not the app's own), for inputs with repeats, both directions and self-loops, under edge and
// full consistency with every scheduler; the colour count is at most max degree + 1.
#include "atoll/apps/graph_coloring.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "atoll/common/error.hpp"
#include "atoll/graph/read_graph.hpp"
#include "test_util.hpp"
#include "undirected_inputs.hpp"
#include "undirected_reference.hpp"

namespace atl {
namespace {

void expect_proper(const test::UndirectedGraph& g, const GraphColoringResult& r) {
  EXPECT_EQ(r.gids, g.gids);
  ASSERT_EQ(r.values.size(), g.gids.size());
  EXPECT_EQ(test::coloring_conflicts(g, r.values), 0u);
  EXPECT_EQ(r.conflicts, 0u);
  std::size_t max_degree = 0;
  for (const auto& a : g.adj) max_degree = std::max(max_degree, a.size());
  const std::uint64_t used = *std::max_element(r.values.begin(), r.values.end()) + 1;
  EXPECT_EQ(r.colors, used);
  EXPECT_LE(used, max_degree + 1);
}

TEST(GraphColoring, ProperForEveryBuildSchedulerAndModel) {
  for (const test::UndirectedInput& input : test::undirected_inputs()) {
    test::UndirectedGraph g = test::undirected_view(input.edges);
    for (const BuildOptions& build : test::undirected_builds()) {
      for (SchedulerKind s :
           {SchedulerKind::kFifo, SchedulerKind::kSweep, SchedulerKind::kPriority}) {
        for (std::optional<Consistency> c :
             {std::optional<Consistency>{}, std::optional<Consistency>{Consistency::kFull}}) {
          SCOPED_TRACE(input.name + " symmetrize " + std::to_string(build.symmetrize) + " dedup " +
                       std::to_string(build.dedup) + " " + std::string(scheduler_name(s)) +
                       (c ? " full" : " edge"));
          expect_proper(g, graph_coloring(Topology::build(input.edges, build),
                                          test::engine_options(s, c, 3)));
        }
      }
    }
  }
}

TEST(GraphColoring, CliqueNeedsAllColoursAndVertexConsistencyIsRefused) {
  EdgeList clique;
  for (Gid a = 0; a < 6; ++a) {
    for (Gid b = 0; b < 6; ++b) clique.edges.push_back({a, b});  // both ways, self-loops too
  }
  GraphColoringResult r =
      graph_coloring(Topology::build(clique), test::engine_options(SchedulerKind::kSweep));
  EXPECT_EQ(r.colors, 6u);
  EXPECT_EQ(r.conflicts, 0u);
  try {
    graph_coloring(Topology::build(clique),
                   test::engine_options(SchedulerKind::kSweep, Consistency::kVertex));
    FAIL() << "vertex consistency accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("needs edge consistency"), std::string::npos) << e.what();
  }
}

TEST(GraphColoring, RealGraphsAreColouredProperly) {
  int found = 0;
  for (const char* name :
       {"facebook_combined.txt.zst", "wiki-Vote.txt.zst", "email-Enron.txt.zst"}) {
    std::string path = test::shared_data(name);
    if (path.empty()) continue;
    ++found;
    SCOPED_TRACE(name);
    EdgeList raw = read_edge_list(path);
    expect_proper(test::undirected_view(raw),
                  graph_coloring(Topology::build(raw), test::engine_options(SchedulerKind::kFifo)));
  }
  if (found == 0) GTEST_SKIP() << "no real graphs in " << ATOLL_SHARED_DATA;
}

}  // namespace
}  // namespace atl
