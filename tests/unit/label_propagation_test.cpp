// Label propagation: planted communities recovered exactly, the result a fixpoint of the rule
// (every label among the most frequent of the vertex's neighbours', checked on the undirected
// view in the test), the same labels for the same seed whatever the thread count, and the
// seed used for ties.
#include "atoll/apps/label_propagation.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "atoll/graph/read_graph.hpp"
#include "test_util.hpp"
#include "undirected_inputs.hpp"
#include "undirected_reference.hpp"

namespace atl {
namespace {

/// Vertices whose label is not among the most frequent of their neighbours' labels.
std::uint64_t unstable(const test::UndirectedGraph& g, const std::vector<std::uint64_t>& labels) {
  std::uint64_t bad = 0;
  for (std::size_t v = 0; v < g.gids.size(); ++v) {
    std::map<std::uint64_t, std::size_t> count;
    for (std::size_t w : g.adj[v]) ++count[labels[w]];
    std::size_t best = 0;
    for (const auto& [label, c] : count) best = std::max(best, c);
    if (!count.empty() && count[labels[v]] != best) ++bad;
    if (count.empty() && labels[v] != g.gids[v]) ++bad;  // alone: keeps its own gid
  }
  return bad;
}

TEST(LabelPropagation, RecoversPlantedCommunities) {
  for (std::uint64_t seed : {1, 2, 3}) {
    EdgeList planted = generate_planted({.communities = 8,
                                         .size = 60,
                                         .internal_degree = 14,
                                         .external_degree = 1.5,
                                         .seed = seed,
                                         .weights = {}});
    test::UndirectedGraph g = test::undirected_view(planted);
    for (const BuildOptions& build : test::undirected_builds()) {
      for (SchedulerKind s : {SchedulerKind::kFifo, SchedulerKind::kSweep}) {
        SCOPED_TRACE("graph seed " + std::to_string(seed) + " symmetrize " +
                     std::to_string(build.symmetrize) + " dedup " + std::to_string(build.dedup) +
                     " " + std::string(scheduler_name(s)));
        LabelPropagationResult r = label_propagation(Topology::build(planted, build),
                                                     {.seed = seed}, test::engine_options(s));
        EXPECT_EQ(r.gids, g.gids);
        EXPECT_EQ(test::planted_errors(r.gids, r.values, 60), 0u);
        EXPECT_EQ(r.communities, 8u);
        EXPECT_EQ(unstable(g, r.values), 0u);
      }
    }
  }
}

TEST(LabelPropagation, EndsAtAFixpointOnEveryInput) {
  for (const test::UndirectedInput& input : test::undirected_inputs()) {
    test::UndirectedGraph g = test::undirected_view(input.edges);
    for (Consistency c : {Consistency::kEdge, Consistency::kFull}) {
      SCOPED_TRACE(input.name + " " + std::string(consistency_name(c)));
      LabelPropagationResult r = label_propagation(Topology::build(input.edges), {},
                                                   test::engine_options(SchedulerKind::kFifo, c));
      EXPECT_EQ(unstable(g, r.values), 0u);
      std::set<std::uint64_t> distinct(r.values.begin(), r.values.end());
      EXPECT_EQ(r.communities, distinct.size());
      for (std::uint64_t label : distinct) {  // every label is some vertex's gid
        EXPECT_TRUE(std::binary_search(g.gids.begin(), g.gids.end(), label));
      }
    }
  }
}

TEST(LabelPropagation, SameSeedSameLabelsAndTheSeedBreaksTies) {
  EdgeList kron = generate_kronecker({.scale = 10, .edge_factor = 4, .seed = 9, .weights = {}});
  auto run = [&](std::uint64_t seed, int threads) {
    return label_propagation(Topology::build(kron), {.seed = seed},
                             test::engine_options(SchedulerKind::kSweep, {}, threads))
        .values;
  };
  std::vector<std::uint64_t> a = run(5, 1);
  EXPECT_EQ(a, run(5, 3));
  EXPECT_EQ(a, run(5, 2));
  EXPECT_NE(a, run(6, 2));
}

TEST(LabelPropagation, RealGraphsEndAtAFixpoint) {
  int found = 0;
  for (const char* name : {"facebook_combined.txt.zst", "email-Eu-core.txt.zst"}) {
    std::string path = test::shared_data(name);
    if (path.empty()) continue;
    ++found;
    SCOPED_TRACE(name);
    EdgeList raw = read_edge_list(path);
    LabelPropagationResult r =
        label_propagation(Topology::build(raw), {}, test::engine_options(SchedulerKind::kFifo));
    EXPECT_EQ(unstable(test::undirected_view(raw), r.values), 0u);
    EXPECT_GT(r.communities, 1u);  // ties are not broken towards one flooding label
  }
  if (found == 0) GTEST_SKIP() << "no real graphs in " << ATOLL_SHARED_DATA;
}

}  // namespace
}  // namespace atl
