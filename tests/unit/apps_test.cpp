// Every app against its independent serial reference, on generated graphs with dangling
// vertices, self-loops, several components and unreachable vertices, for every scheduler and
// consistency model, and on ../shared/data/facebook_combined.txt.zst when present.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>

#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pagerank.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/read_graph.hpp"
#include "reference_algorithms.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

using test::reference_components;
using test::reference_pagerank;
using test::reference_sssp;
using test::reference_vertices;

EdgeList kronecker(int scale, std::uint64_t seed, bool weighted) {
  KroneckerParams p;
  p.scale = scale;
  p.edge_factor = 8;
  p.seed = seed;
  if (weighted) p.weights = WeightRange{1, 20};
  return generate_kronecker(p);
}

EdgeList uniform(std::uint64_t n, std::uint64_t m, std::uint64_t seed) {
  UniformParams p;
  p.vertices = n;
  p.edges = m;
  p.seed = seed;
  p.weights = WeightRange{1, 9};
  return generate_uniform(p);
}

EdgeList grid(std::uint64_t rows, std::uint64_t cols) {
  GridParams p;
  p.rows = rows;
  p.cols = cols;
  p.weights = WeightRange{1, 5};
  return generate_grid(p);
}

/// Dangling vertices, self-loops, a duplicate edge, three components, unreachable vertices.
EdgeList awkward() {
  EdgeList l;
  l.edges = {{10, 11}, {11, 12}, {12, 10}, {12, 13},  // cycle with a dangling exit (13)
             {13, 13},                                // self-loop on 13
             {20, 21}, {20, 21}, {22, 21},            // duplicate edge; 22 unreachable from 20
             {30, 31}};                               // a third component
  l.weighted = true;
  l.weights = {1, 2, 3, 4, 5, 1, 7, 2, 1};
  return l;
}

struct NamedGraph {
  std::string name;
  EdgeList edges;
  BuildOptions build;
};

std::vector<NamedGraph> graphs() {
  std::vector<NamedGraph> g;
  g.push_back({"kron9", kronecker(9, 3, true), {}});
  g.push_back({"kron9_sym", kronecker(9, 4, true), {true, true}});
  g.push_back({"uniform", uniform(300, 900, 5), {}});
  g.push_back({"grid", grid(12, 17), {true, false}});
  g.push_back({"awkward", awkward(), {}});
  return g;
}

/// The input the engine sees, as an EdgeList for the references.
EdgeList as_built(const NamedGraph& g) {
  return to_edge_list(Topology::build(g.edges, g.build));
}

EngineOptions engine(SchedulerKind kind, std::optional<Consistency> c = std::nullopt,
                     int threads = 3) {
  EngineOptions e;
  e.threads = threads;
  e.scheduler = kind;
  e.consistency = c;
  return e;
}

const SchedulerKind kSchedulers[] = {SchedulerKind::kFifo, SchedulerKind::kSweep,
                                     SchedulerKind::kPriority};
const Consistency kModels[] = {Consistency::kVertex, Consistency::kEdge, Consistency::kFull};

double l1(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) s += std::abs(a[i] - b[i]);
  return s;
}

TEST(Apps, ComponentsExactForEverySchedulerAndModel) {
  for (const NamedGraph& g : graphs()) {
    EdgeList built = as_built(g);
    std::vector<Gid> expected = reference_components(built);
    for (SchedulerKind s : kSchedulers) {
      for (Consistency c : kModels) {
        SCOPED_TRACE(g.name + " " + std::string(scheduler_name(s)) + " " +
                     std::string(consistency_name(c)));
        auto result = connected_components(Topology::build(g.edges, g.build), engine(s, c));
        EXPECT_EQ(result.gids, reference_vertices(built));
        EXPECT_EQ(result.values, expected);
      }
    }
  }
}

TEST(Apps, SsspExactForEverySchedulerAndModel) {
  for (const NamedGraph& g : graphs()) {
    EdgeList built = as_built(g);
    Gid source = built.edges.front().src;
    std::vector<double> expected = reference_sssp(built, source);
    ASSERT_TRUE(std::any_of(expected.begin(), expected.end(),
                            [](double d) { return d > 0 && std::isfinite(d); }));
    for (SchedulerKind s : kSchedulers) {
      for (Consistency c : kModels) {
        SCOPED_TRACE(g.name + " " + std::string(scheduler_name(s)) + " " +
                     std::string(consistency_name(c)));
        auto result = sssp(Topology::build(g.edges, g.build), source, engine(s, c));
        EXPECT_EQ(result.values, expected);
      }
    }
  }
}

TEST(Apps, SsspUnweightedCountsHopsAndMarksUnreachable) {
  EdgeList l;
  l.edges = {{1, 2}, {2, 3}, {1, 3}, {3, 4}, {5, 1}};  // 5 is unreachable from 1
  auto result = sssp(Topology::build(l), 1, engine(SchedulerKind::kFifo));
  std::vector<double> expected = {0, 1, 1, 2, std::numeric_limits<double>::infinity()};
  EXPECT_EQ(result.values, expected);
}

TEST(Apps, SsspRejectsBadSourceAndNegativeWeights) {
  EdgeList l;
  l.edges = {{1, 2}};
  l.weighted = true;
  l.weights = {-1};
  EXPECT_NE(test::error_of([&] {
              sssp(Topology::build(l), 1, engine(SchedulerKind::kSweep));
            }).find("non-negative"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] {
              sssp(Topology::build(l), 7, engine(SchedulerKind::kSweep));
            }).find("not a vertex"),
            std::string::npos);
}

TEST(Apps, PageRankStaticAndDynamicMatchPowerIteration) {
  for (const NamedGraph& g : graphs()) {
    EdgeList built = as_built(g);
    std::vector<double> expected = reference_pagerank(built, 0.85, 1e-12);
    for (bool dynamic : {false, true}) {
      for (SchedulerKind s : kSchedulers) {
        SCOPED_TRACE(g.name + (dynamic ? " dynamic " : " static ") +
                     std::string(scheduler_name(s)));
        PageRankOptions opt;
        opt.tolerance = 1e-10;
        opt.dynamic = dynamic;
        PageRankResult r = pagerank(Topology::build(g.edges, g.build), opt, engine(s));
        EXPECT_LE(l1(r.values, expected), 1e-6);
        double sum = 0;
        for (double x : r.values) sum += x;
        EXPECT_NEAR(sum, 1.0, 1e-9);
      }
    }
  }
}

TEST(Apps, PageRankOnAGraphRelabelledByDegreeMatchesPowerIteration) {
  for (const NamedGraph& g : graphs()) {
    EdgeList built = as_built(g);
    const std::vector<double> expected = reference_pagerank(built, 0.85, 1e-12);
    const Topology plain = Topology::build(g.edges, g.build);
    for (EngineKind kind : {EngineKind::kChromatic, EngineKind::kLocking}) {
      SCOPED_TRACE(g.name + (kind == EngineKind::kLocking ? " locking" : " chromatic"));
      EngineOptions e = engine(SchedulerKind::kSweep);
      e.engine = kind;
      PageRankOptions opt;
      opt.tolerance = 1e-10;
      PageRankResult r = pagerank(Topology::by_degree(Topology(plain)), opt, e);
      // The result is by relabelled lid: put it back in gid order (the reference's).
      ASSERT_EQ(r.gids.size(), expected.size());
      std::vector<double> by_gid(expected.size());
      for (std::size_t i = 0; i < r.gids.size(); ++i) by_gid[plain.lid(r.gids[i])] = r.values[i];
      EXPECT_LE(l1(by_gid, expected), 1e-6);
    }
  }
}

TEST(Apps, FloatViewPageRankIsWithinFloatPrecisionOnBothGraphLabEngines) {
  for (const NamedGraph& g : graphs()) {
    EdgeList built = as_built(g);
    std::vector<double> expected = reference_pagerank(built, 0.85, 1e-12);
    for (EngineKind kind : {EngineKind::kChromatic, EngineKind::kLocking}) {
      SCOPED_TRACE(g.name + (kind == EngineKind::kLocking ? " locking" : " chromatic"));
      EngineOptions e = engine(SchedulerKind::kSweep);
      e.engine = kind;
      PageRankOptions opt;
      opt.tolerance = 1e-6;
      PageRankResult exact = pagerank(Topology::build(g.edges, g.build), opt, e);
      opt.float_view = true;
      PageRankResult rounded = pagerank(Topology::build(g.edges, g.build), opt, e);
      // Neighbours read floats: close to the double run, but not the same bits.
      EXPECT_LE(l1(rounded.values, expected), 1e-5);
      EXPECT_LE(l1(rounded.values, exact.values), 1e-5);
      EXPECT_NE(rounded.values, exact.values);
    }
  }
}

TEST(Apps, DynamicPageRankNeedsFewerUpdatesForTheSameAccuracy) {
  // A directed grid is a DAG: a vertex settles once its ancestors have, so the dynamic
  // variant skips work that static sweeps repeat.
  GridParams p;
  p.rows = 30;
  p.cols = 40;
  EdgeList g = generate_grid(p);
  std::vector<double> expected = reference_pagerank(g, 0.85, 1e-14);
  PageRankOptions opt;
  opt.tolerance = 1e-9;
  PageRankResult fixed = pagerank(Topology::build(g), opt, engine(SchedulerKind::kSweep));
  opt.dynamic = true;
  PageRankResult dyn = pagerank(Topology::build(g), opt, engine(SchedulerKind::kFifo));
  EXPECT_LE(l1(dyn.values, expected), l1(fixed.values, expected) * 2);
  EXPECT_LE(l1(dyn.values, expected), 1e-7);
  EXPECT_LT(dyn.stats.updates * 3, fixed.stats.updates * 2)
      << "dynamic " << dyn.stats.updates << " static " << fixed.stats.updates;
}

TEST(Apps, DynamicPageRankNeedsFewerUpdatesOnAPowerLawGraph) {
  // Symmetric Kronecker graph: dynamic is compared with the static power iteration stopped
  // after the fewest sweeps that are at least as accurate (L1 distance to the converged
  // reference), so neither side gains from how its --tol translates into accuracy.
  const BuildOptions build{true, true};
  EdgeList g = kronecker(14, 4, false);
  std::vector<double> expected =
      reference_pagerank(to_edge_list(Topology::build(g, build)), 0.85, 1e-13);
  PageRankOptions opt;
  opt.dynamic = true;
  opt.tolerance = 1e-5;
  PageRankResult dyn = pagerank(Topology::build(g, build), opt, engine(SchedulerKind::kSweep));
  const double error = l1(dyn.values, expected);
  EXPECT_LE(error, 1e-6);
  opt.dynamic = false;
  opt.tolerance = 0;
  std::uint64_t static_updates = 0;
  for (opt.iterations = 1; opt.iterations <= 200; ++opt.iterations) {
    PageRankResult fixed = pagerank(Topology::build(g, build), opt, engine(SchedulerKind::kSweep));
    static_updates = fixed.stats.updates;
    if (l1(fixed.values, expected) <= error) break;
  }
  EXPECT_LT(dyn.stats.updates * 4, static_updates * 3)
      << "dynamic " << dyn.stats.updates << " (L1 " << error << ") static " << static_updates;
}

TEST(Apps, PageRankIterationLimitAndResult) {
  EdgeList g = kronecker(8, 2, false);
  PageRankOptions opt;
  opt.iterations = 3;
  opt.tolerance = 0;
  PageRankResult r = pagerank(Topology::build(g), opt, engine(SchedulerKind::kSweep));
  EXPECT_EQ(r.stats.iterations, 3u);
  ASSERT_EQ(r.stats.iteration_log.size(), 3u);
  EXPECT_GT(r.stats.iteration_log[0].residual, r.stats.iteration_log[2].residual);
}

TEST(Apps, FacebookGraphMatchesReferences) {
  std::string path = test::shared_data("facebook_combined.txt.zst");
  if (path.empty()) GTEST_SKIP() << "../shared/data not present";
  EdgeList raw = read_edge_list(path);
  EdgeList built = to_edge_list(Topology::build(raw, {true, false}));
  auto cc =
      connected_components(Topology::build(raw, {true, false}), engine(SchedulerKind::kSweep));
  EXPECT_EQ(cc.values, reference_components(built));
  auto dist = sssp(Topology::build(raw, {true, false}), 0, engine(SchedulerKind::kPriority));
  EXPECT_EQ(dist.values, reference_sssp(built, 0));
  PageRankOptions opt;
  opt.tolerance = 1e-10;
  std::vector<double> expected = reference_pagerank(built, 0.85, 1e-12);
  EXPECT_LE(
      l1(pagerank(Topology::build(raw, {true, false}), opt, engine(SchedulerKind::kSweep)).values,
         expected),
      1e-6);
  opt.dynamic = true;
  EXPECT_LE(
      l1(pagerank(Topology::build(raw, {true, false}), opt, engine(SchedulerKind::kFifo)).values,
         expected),
      1e-6);
}

}  // namespace
}  // namespace atl
