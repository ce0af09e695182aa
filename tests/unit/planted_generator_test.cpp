// The planted-partition generator: deterministic by seed for any thread count, edge counts
// and endpoints as documented (internal edges inside one community, external ones across),
// no self-loops, bad parameters refused as usage errors.
#include <gtest/gtest.h>

#include <limits>

#include "atoll/common/error.hpp"
#include "atoll/graph/generators.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

TEST(PlantedGenerator, EdgesAsDocumentedAndDeterministic) {
  PlantedParams p{.communities = 7,
                  .size = 30,
                  .internal_degree = 9,
                  .external_degree = 2.5,
                  .seed = 4,
                  .weights = {}};
  EdgeList a = test::with_threads(1, [&] { return generate_planted(p); });
  EdgeList b = test::with_threads(3, [&] { return generate_planted(p); });
  ASSERT_EQ(a.edges.size(), b.edges.size());
  for (std::size_t i = 0; i < a.edges.size(); ++i) {
    EXPECT_EQ(a.edges[i].src, b.edges[i].src);
    EXPECT_EQ(a.edges[i].dst, b.edges[i].dst);
  }
  ASSERT_TRUE(a.declared);
  EXPECT_EQ(a.declared->count, 210u);
  std::uint64_t internal = 0, external = 0;
  for (const Edge& e : a.edges) {
    EXPECT_LT(e.src, 210u);
    EXPECT_LT(e.dst, 210u);
    EXPECT_NE(e.src, e.dst);
    (e.src / 30 == e.dst / 30 ? internal : external) += 1;
  }
  EXPECT_EQ(internal, 945u);  // 210 * 9 / 2
  EXPECT_EQ(external, 263u);  // 210 * 2.5 / 2 = 262.5, rounded
  p.seed = 5;
  EdgeList c = generate_planted(p);
  bool differs = false;
  for (std::size_t i = 0; i < c.edges.size(); ++i) differs |= c.edges[i].src != a.edges[i].src;
  EXPECT_TRUE(differs);
}

TEST(PlantedGenerator, RefusesImpossibleParameters) {
  auto usage = [](std::uint64_t communities, std::uint64_t size, double internal, double external) {
    PlantedParams p;
    p.communities = communities;
    p.size = size;
    p.internal_degree = internal;
    p.external_degree = external;
    try {
      generate_planted(p);
    } catch (const Error& e) {
      return e.kind() == ErrorKind::kUsage;
    }
    return false;
  };
  EXPECT_TRUE(usage(0, 10, 2, 1));
  EXPECT_TRUE(usage(1, 10, 2, 1));  // external edges need two communities
  EXPECT_TRUE(usage(3, 1, 2, 0));   // internal edges need two members
  EXPECT_TRUE(usage(3, 5, -1, 0));
  EXPECT_TRUE(usage(3, 5, 2, std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(usage(1, 10, 2, 0));
}

}  // namespace
}  // namespace atl
