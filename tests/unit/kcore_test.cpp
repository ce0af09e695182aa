// k-core against serial peeling on the undirected simple view, whatever the input lists twice,
// in both directions or as self-loops, for every scheduler and consistency model; and on the
// real graphs of ../shared/data when present.
#include "atoll/apps/kcore.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "atoll/graph/read_graph.hpp"
#include "test_util.hpp"
#include "undirected_inputs.hpp"
#include "undirected_reference.hpp"

namespace atl {
namespace {

TEST(KCore, MatchesPeelingForEveryBuildSchedulerAndModel) {
  for (const test::UndirectedInput& input : test::undirected_inputs()) {
    test::UndirectedGraph g = test::undirected_view(input.edges);
    std::vector<std::uint64_t> expected = test::reference_kcore(g);
    for (const BuildOptions& build : test::undirected_builds()) {
      for (SchedulerKind s :
           {SchedulerKind::kFifo, SchedulerKind::kSweep, SchedulerKind::kPriority}) {
        for (Consistency c : {Consistency::kVertex, Consistency::kEdge, Consistency::kFull}) {
          SCOPED_TRACE(input.name + " symmetrize " + std::to_string(build.symmetrize) + " dedup " +
                       std::to_string(build.dedup) + " " + std::string(scheduler_name(s)) + " " +
                       std::string(consistency_name(c)));
          KCoreResult r = kcore(Topology::build(input.edges, build), test::engine_options(s, c));
          EXPECT_EQ(r.gids, g.gids);
          EXPECT_EQ(r.values, expected);
          EXPECT_EQ(r.max_core, *std::max_element(expected.begin(), expected.end()));
        }
      }
    }
  }
}

TEST(KCore, KnownSmallAnswers) {
  KCoreResult r = kcore(Topology::build(test::awkward_undirected()),
                        test::engine_options(SchedulerKind::kSweep));
  // 4-clique: 3; triangle 5,6,7: 2; the path 8, 9: 1; 10 (self-loop only), 11, 12: 0.
  EXPECT_EQ(r.values, (std::vector<std::uint64_t>{3, 3, 3, 3, 2, 2, 2, 1, 1, 0, 0, 0}));
  EXPECT_EQ(r.max_core, 3u);
}

TEST(KCore, RealGraphsMatchPeeling) {
  int found = 0;
  for (const char* name :
       {"facebook_combined.txt.zst", "email-Eu-core.txt.zst", "wiki-Vote.txt.zst"}) {
    std::string path = test::shared_data(name);
    if (path.empty()) continue;
    ++found;
    SCOPED_TRACE(name);
    EdgeList raw = read_edge_list(path);
    KCoreResult r = kcore(Topology::build(raw), test::engine_options(SchedulerKind::kFifo));
    EXPECT_EQ(r.values, test::reference_kcore(test::undirected_view(raw)));
  }
  if (found == 0) GTEST_SKIP() << "no real graphs in " << ATOLL_SHARED_DATA;
}

}  // namespace
}  // namespace atl
