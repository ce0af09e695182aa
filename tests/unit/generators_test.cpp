// Tests of the synthetic graph generators: determinism, shape and parameter validation.
#include "atoll/graph/generators.hpp"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "atoll/common/error.hpp"

namespace {

using atl::EdgeList;
using atl::Gid;
using Weights = std::optional<atl::WeightRange>;

// Parameter builders (designated initializers that skip fields trip -Wmissing-field-initializers).
atl::KroneckerParams kron(int scale, std::uint64_t edge_factor, std::uint64_t seed = 1,
                          Weights weights = std::nullopt) {
  atl::KroneckerParams p;
  p.scale = scale;
  p.edge_factor = edge_factor;
  p.seed = seed;
  p.weights = weights;
  return p;
}
atl::UniformParams uniform(std::uint64_t vertices, std::uint64_t edges, std::uint64_t seed = 1,
                           Weights weights = std::nullopt) {
  atl::UniformParams p;
  p.vertices = vertices;
  p.edges = edges;
  p.seed = seed;
  p.weights = weights;
  return p;
}
atl::GridParams grid(std::uint64_t rows, std::uint64_t cols, std::uint64_t seed = 1,
                     Weights weights = std::nullopt) {
  atl::GridParams p;
  p.rows = rows;
  p.cols = cols;
  p.seed = seed;
  p.weights = weights;
  return p;
}

/// Runs make() with TBB limited to `threads` workers.
EdgeList with_threads(int threads, const std::function<EdgeList()>& make) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  return make();
}

void expect_same_for_thread_counts(const std::function<EdgeList()>& make) {
  const EdgeList one = with_threads(1, make);
  EXPECT_EQ(one, with_threads(2, make));
  EXPECT_EQ(one, with_threads(4, make));
}

std::vector<std::uint64_t> out_degrees(const EdgeList& g, std::uint64_t n) {
  std::vector<std::uint64_t> deg(n, 0);
  for (const atl::Edge& e : g.edges) ++deg[e.src];
  return deg;
}

template <typename F>
void expect_usage_error(F&& f) {
  try {
    f();
    ADD_FAILURE() << "expected atl::Error";
  } catch (const atl::Error& e) {
    EXPECT_EQ(e.kind(), atl::ErrorKind::kUsage) << e.what();
    EXPECT_NE(std::string(e.what()), "");
  }
}

// ---- determinism ------------------------------------------------------------------------------

TEST(Generators, KroneckerDeterministicAcrossThreadCounts) {
  expect_same_for_thread_counts([] {
    return atl::generate_kronecker(kron(12, 8, 7, atl::WeightRange{1, 100}));
  });
}

TEST(Generators, UniformDeterministicAcrossThreadCounts) {
  expect_same_for_thread_counts([] {
    return atl::generate_uniform(uniform(5000, 200000, 3, atl::WeightRange{-5, 5}));
  });
}

TEST(Generators, GridDeterministicAcrossThreadCounts) {
  expect_same_for_thread_counts([] {
    return atl::generate_grid(grid(300, 170, 9, atl::WeightRange{1, 1000}));
  });
}

TEST(Generators, SameSeedSameGraph) {
  const atl::KroneckerParams p = kron(10, 4, 11);
  EXPECT_EQ(atl::generate_kronecker(p), atl::generate_kronecker(p));
}

TEST(Generators, DifferentSeedsGiveDifferentGraphs) {
  EXPECT_NE(atl::generate_kronecker(kron(10, 4, 1)), atl::generate_kronecker(kron(10, 4, 2)));
  EXPECT_NE(atl::generate_uniform(uniform(1000, 1000, 1)),
            atl::generate_uniform(uniform(1000, 1000, 2)));
  // A grid's edges are fixed; only its weights depend on the seed.
  const EdgeList g1 = atl::generate_grid(grid(10, 10, 1, atl::WeightRange{0, 1000000}));
  const EdgeList g2 = atl::generate_grid(grid(10, 10, 2, atl::WeightRange{0, 1000000}));
  EXPECT_EQ(g1.edges, g2.edges);
  EXPECT_NE(g1.weights, g2.weights);
}

TEST(Generators, UniformSourceAndDestinationStreamsDiffer) {
  const EdgeList g = atl::generate_uniform(uniform(1u << 20, 1000, 5));
  std::size_t loops = 0;
  for (const atl::Edge& e : g.edges) loops += e.src == e.dst;
  EXPECT_LT(loops, 5u);
}

// ---- kronecker --------------------------------------------------------------------------------

TEST(Generators, KroneckerShapeAndSkew) {
  constexpr int kScale = 14;
  constexpr std::uint64_t kFactor = 16;
  constexpr std::uint64_t kN = std::uint64_t{1} << kScale;
  const EdgeList g = atl::generate_kronecker(kron(kScale, kFactor, 1));
  ASSERT_EQ(g.size(), kFactor * kN);
  EXPECT_FALSE(g.weighted);
  EXPECT_TRUE(g.weights.empty());
  EXPECT_FALSE(g.declared.has_value());
  for (const atl::Edge& e : g.edges) {
    ASSERT_LT(e.src, kN);
    ASSERT_LT(e.dst, kN);
  }
  const std::vector<std::uint64_t> deg = out_degrees(g, kN);
  const auto max_it = std::max_element(deg.begin(), deg.end());
  const double mean = static_cast<double>(g.size()) / kN;
  EXPECT_GT(static_cast<double>(*max_it), 20 * mean);
  // The scrambling moves the hub away from id 0 (where the unscrambled R-MAT puts it).
  EXPECT_NE(max_it - deg.begin(), 0);
  // Many ids never occur as a source in a skewed graph.
  EXPECT_GT(std::count(deg.begin(), deg.end(), 0u), static_cast<std::ptrdiff_t>(kN / 10));
}

TEST(Generators, KroneckerQuadrantProbabilitiesAtScaleOne) {
  // At scale 1 each edge is one quadrant draw; the scramble is a bijection on {0, 1}.
  const EdgeList g = atl::generate_kronecker(kron(1, 200000, 4));
  ASSERT_EQ(g.size(), 400000u);
  std::map<std::pair<Gid, Gid>, double> freq;
  for (const atl::Edge& e : g.edges) {
    ASSERT_LT(e.src, 2u);
    ASSERT_LT(e.dst, 2u);
    freq[{e.src, e.dst}] += 1.0 / static_cast<double>(g.size());
  }
  std::vector<double> p;
  for (const auto& [k, f] : freq) p.push_back(f);
  std::sort(p.begin(), p.end());
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NEAR(p[0], 0.05, 0.005);
  EXPECT_NEAR(p[1], 0.19, 0.005);
  EXPECT_NEAR(p[2], 0.19, 0.005);
  EXPECT_NEAR(p[3], 0.57, 0.005);
}

TEST(Generators, KroneckerBadParamsThrow) {
  expect_usage_error([] { atl::generate_kronecker(kron(0, 16, 1)); });
  expect_usage_error([] { atl::generate_kronecker(kron(-3, 16, 1)); });
  expect_usage_error([] { atl::generate_kronecker(kron(41, 16, 1)); });
  expect_usage_error([] { atl::generate_kronecker(kron(4, 0, 1)); });
  expect_usage_error([] { atl::generate_kronecker(kron(40, std::uint64_t{1} << 30, 1)); });
  expect_usage_error([] { atl::generate_kronecker(kron(4, 16, 1, atl::WeightRange{5, 4})); });
}

// ---- uniform ----------------------------------------------------------------------------------

TEST(Generators, UniformShape) {
  constexpr std::uint64_t kN = 1000, kM = 64000;
  const EdgeList g = atl::generate_uniform(uniform(kN, kM, 2));
  ASSERT_EQ(g.size(), kM);
  EXPECT_FALSE(g.weighted);
  ASSERT_TRUE(g.declared.has_value());
  EXPECT_EQ(*g.declared, (atl::VertexRange{0, kN}));
  for (const atl::Edge& e : g.edges) {
    ASSERT_LT(e.src, kN);
    ASSERT_LT(e.dst, kN);
  }
  const std::vector<std::uint64_t> deg = out_degrees(g, kN);
  std::uint64_t sum = 0;
  for (std::uint64_t d : deg) sum += d;
  EXPECT_EQ(sum, kM);  // mean out-degree exactly m / n = 64
  // Binomial(64000, 1/1000): sd ~ 8; max over 1000 vertices stays far below 2x the mean.
  EXPECT_LT(*std::max_element(deg.begin(), deg.end()), 2 * kM / kN);
  EXPECT_GT(*std::min_element(deg.begin(), deg.end()), kM / kN / 4);
}

TEST(Generators, UniformSingleVertexAndNoEdges) {
  const EdgeList one = atl::generate_uniform(uniform(1, 10, 1));
  for (const atl::Edge& e : one.edges) EXPECT_EQ(e, (atl::Edge{0, 0}));
  const EdgeList none = atl::generate_uniform(uniform(5, 0, 1));
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(*none.declared, (atl::VertexRange{0, 5}));
}

TEST(Generators, UniformBadParamsThrow) {
  expect_usage_error([] { atl::generate_uniform(uniform(0, 16384, 1)); });
  expect_usage_error([] { atl::generate_uniform(uniform(4, 16384, 1, atl::WeightRange{2, 1})); });
}

// ---- grid -------------------------------------------------------------------------------------

TEST(Generators, GridExactEdgesInOrder) {
  const EdgeList g = atl::generate_grid(grid(2, 3, 1));
  // Ids: 0 1 2 / 3 4 5. Per vertex in id order: right neighbour, then down neighbour.
  const std::vector<atl::Edge> expected = {{0, 1}, {0, 3}, {1, 2}, {1, 4}, {2, 5}, {3, 4}, {4, 5}};
  EXPECT_EQ(g.edges, expected);
  EXPECT_EQ(*g.declared, (atl::VertexRange{0, 6}));
  EXPECT_FALSE(g.weighted);
}

TEST(Generators, GridDegreesAndAdjacency) {
  constexpr std::uint64_t kRows = 37, kCols = 23, kN = kRows * kCols;
  const EdgeList g = atl::generate_grid(grid(kRows, kCols, 1));
  ASSERT_EQ(g.size(), kRows * (kCols - 1) + (kRows - 1) * kCols);
  std::vector<int> deg(kN, 0);  // in + out
  std::set<std::pair<Gid, Gid>> seen;
  for (const atl::Edge& e : g.edges) {
    ASSERT_LT(e.src, kN);
    ASSERT_LT(e.dst, kN);
    const Gid r = e.src / kCols, c = e.src % kCols;
    const bool right = c + 1 < kCols && e.dst == e.src + 1;
    const bool down = r + 1 < kRows && e.dst == e.src + kCols;
    EXPECT_TRUE(right || down) << e.src << " -> " << e.dst;
    EXPECT_TRUE(seen.insert({e.src, e.dst}).second) << "duplicate " << e.src << " " << e.dst;
    ++deg[e.src];
    ++deg[e.dst];
  }
  std::map<int, std::uint64_t> count;
  for (int d : deg) ++count[d];
  EXPECT_EQ(count[2], 4u);                                 // corners
  EXPECT_EQ(count[3], 2 * (kRows - 2) + 2 * (kCols - 2));  // border, not corner
  EXPECT_EQ(count[4], (kRows - 2) * (kCols - 2));          // interior
  EXPECT_EQ(count.size(), 3u);
}

TEST(Generators, GridDegenerateShapes) {
  const EdgeList single = atl::generate_grid(grid(1, 1, 1));
  EXPECT_EQ(single.size(), 0u);
  EXPECT_EQ(*single.declared, (atl::VertexRange{0, 1}));

  const EdgeList row = atl::generate_grid(grid(1, 5, 1));
  EXPECT_EQ(row.edges, (std::vector<atl::Edge>{{0, 1}, {1, 2}, {2, 3}, {3, 4}}));

  const EdgeList column = atl::generate_grid(grid(4, 1, 1));
  EXPECT_EQ(column.edges, (std::vector<atl::Edge>{{0, 1}, {1, 2}, {2, 3}}));
}

TEST(Generators, GridBadParamsThrow) {
  expect_usage_error([] { atl::generate_grid(grid(0, 3, 1)); });
  expect_usage_error([] { atl::generate_grid(grid(3, 0, 1)); });
  expect_usage_error(
      [] { atl::generate_grid(grid(std::uint64_t{1} << 33, std::uint64_t{1} << 33, 1)); });
  expect_usage_error([] { atl::generate_grid(grid(2, 2, 1, atl::WeightRange{0, -1})); });
}

// ---- weights ----------------------------------------------------------------------------------

TEST(Generators, WeightsInRangeAndExtremesHit) {
  const EdgeList g = atl::generate_uniform(uniform(100, 100000, 8, atl::WeightRange{-3, 3}));
  ASSERT_TRUE(g.weighted);
  ASSERT_EQ(g.weights.size(), g.size());
  std::map<double, std::uint64_t> hist;
  for (double w : g.weights) {
    ASSERT_GE(w, -3.0);
    ASSERT_LE(w, 3.0);
    ASSERT_EQ(w, std::trunc(w));
    ++hist[w];
  }
  EXPECT_EQ(hist.size(), 7u);  // every value in [-3, 3], extremes included
  for (const auto& [w, n] : hist) EXPECT_GT(n, 100000u / 7 / 2) << w;
}

TEST(Generators, WeightsForEveryGenerator) {
  const atl::WeightRange range{10, 20};
  const EdgeList k = atl::generate_kronecker(kron(12, 4, 1, range));
  const EdgeList g = atl::generate_grid(grid(50, 50, 1, range));
  for (const EdgeList* list : {&k, &g}) {
    ASSERT_TRUE(list->weighted);
    ASSERT_EQ(list->weights.size(), list->size());
    EXPECT_EQ(*std::min_element(list->weights.begin(), list->weights.end()), 10.0);
    EXPECT_EQ(*std::max_element(list->weights.begin(), list->weights.end()), 20.0);
  }
}

TEST(Generators, WeightsSingleValueAndFullRange) {
  const EdgeList fixed = atl::generate_grid(grid(4, 4, 1, atl::WeightRange{42, 42}));
  for (double w : fixed.weights) EXPECT_EQ(w, 42.0);

  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  const EdgeList full = atl::generate_uniform(uniform(10, 1000, 1, atl::WeightRange{kMin, kMax}));
  bool negative = false, positive = false;
  for (double w : full.weights) {
    negative |= w < 0;
    positive |= w > 0;
  }
  EXPECT_TRUE(negative);
  EXPECT_TRUE(positive);
}

}  // namespace
