// als on generated low-rank ratings: the held-out RMSE approaches the generator's noise, the
// training RMSE recomputed here from the returned factors matches the reported one, and every
// input error it reports.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "atoll/apps/als.hpp"
#include "atoll/graph/generators.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

using test::TempDir;

/// The ratings as a users x items Matrix Market file.
std::string to_mtx(const EdgeList& l, std::uint64_t users, std::uint64_t items) {
  std::string s = "%%MatrixMarket matrix coordinate real general\n" + std::to_string(users) + " " +
                  std::to_string(items) + " " + std::to_string(l.size()) + "\n";
  char line[80];
  for (std::size_t e = 0; e < l.size(); ++e) {
    std::snprintf(line, sizeof line, "%llu %llu %.17g\n",
                  static_cast<unsigned long long>(l.edges[e].src),
                  static_cast<unsigned long long>(l.edges[e].dst - users), l.weights[e]);
    s += line;
  }
  return s;
}

double rmse_of(const AlsResult& r, const EdgeList& ratings) {
  std::map<Gid, std::size_t> row;
  for (std::size_t i = 0; i < r.gids.size(); ++i) row[r.gids[i]] = i;
  double sum = 0;
  for (std::size_t e = 0; e < ratings.size(); ++e) {
    auto p = r.row(row.at(ratings.edges[e].src));
    auto q = r.row(row.at(ratings.edges[e].dst));
    double x = 0;
    for (std::size_t k = 0; k < r.width; ++k) x += p[k] * q[k];
    sum += (ratings.weights[e] - x) * (ratings.weights[e] - x);
  }
  return std::sqrt(sum / static_cast<double>(ratings.size()));
}

TEST(Als, HeldOutErrorApproachesTheGeneratorsNoise) {
  RatingsParams p;
  p.users = 240;
  p.items = 160;
  p.rank = 3;
  p.noise = 0.1;
  p.density = 0.35;
  p.test_fraction = 0.1;
  p.seed = 5;
  Ratings data = generate_ratings(p);
  ASSERT_GT(data.test.size(), 1000u);
  TempDir dir;
  test::write_file(dir.file("test.mtx"), to_mtx(data.test, p.users, p.items));
  for (std::size_t rank : {3, 5}) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    AlsOptions o;
    o.rank = rank;
    o.lambda = 0.002;
    o.iterations = 12;
    o.test = dir.file("test.mtx");
    EngineOptions e;
    e.threads = 2;
    AlsResult r = als(Topology::build(data.train), o, e);
    ASSERT_EQ(r.gids.size(), p.users + p.items);
    ASSERT_EQ(r.width, rank);
    EXPECT_EQ(r.stats.iterations, 12u);
    ASSERT_EQ(r.train_rmse_by_sweep.size(), 12u);
    ASSERT_EQ(r.test_rmse_by_sweep.size(), 12u);
    // Independent recomputation from the factors.
    EXPECT_NEAR(rmse_of(r, data.train), r.train_rmse, 1e-12);
    EXPECT_NEAR(rmse_of(r, data.test), r.test_rmse, 1e-12);
    // The model fits down to the noise (never far below it: that would be overfitting) and
    // predicts held-out ratings nearly as well.
    EXPECT_LT(r.train_rmse, p.noise);
    EXPECT_GT(r.train_rmse, 0.8 * p.noise);
    EXPECT_LT(r.test_rmse, 1.2 * p.noise);
    EXPECT_LT(r.train_rmse_by_sweep.back(), 0.2 * r.train_rmse_by_sweep.front());
  }
}

TEST(Als, InputErrors) {
  RatingsParams p;
  p.users = 20;
  p.items = 10;
  p.density = 0.5;
  Ratings data = generate_ratings(p);
  auto error_of = [&](const AlsOptions& o, const EdgeList& g) {
    try {
      als(Topology::build(g), o, {});
    } catch (const Error& e) {
      return (e.kind() == ErrorKind::kUsage ? std::string("usage: ") : std::string()) + e.what();
    }
    return std::string("<no throw>");
  };
  AlsOptions o;
  o.rank = 0;
  EXPECT_EQ(error_of(o, data.train), "usage: --rank must be in 1..64, got 0");
  o.rank = 65;
  EXPECT_EQ(error_of(o, data.train), "usage: --rank must be in 1..64, got 65");
  o.rank = 2;
  o.lambda = -0.1;
  EXPECT_EQ(error_of(o, data.train), "usage: --lambda must be non-negative, got -0.1");
  o.lambda = 0.1;
  EdgeList square = data.train;  // a user that is also rated
  square.edges.push_back({25, 3});
  square.weights.push_back(1.0);
  EXPECT_EQ(error_of(o, square),
            "vertex 3 both rates and is rated: als needs the users x items layout (users 1..m, "
            "items m+1..m+n; a square ratings file must be read as bipartite)");
  TempDir dir;
  test::write_file(dir.file("t.mtx"),  // the wrong shape
                   "%%MatrixMarket matrix coordinate real general\n22 9 1\n1 1 2.5\n");
  o.test = dir.file("t.mtx");
  EXPECT_EQ(error_of(o, data.train), dir.file("t.mtx") +
                                         ": a 22 x 9 test matrix does not match the training "
                                         "ratings' 30 users and items together");
  test::write_file(dir.file("t.mtx"),
                   "%%MatrixMarket matrix coordinate real general\n20 10 1\n1 x 2\n");
  EXPECT_EQ(error_of(o, data.train), dir.file("t.mtx") + ":3: expected a column index, got 'x'");
}

}  // namespace
}  // namespace atl
