#include <cmath>
#include <random>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/common/mix64.hpp"

namespace atl {

Ratings generate_ratings(const RatingsParams& p) {
  if (p.users == 0 || p.items == 0) usage_fail("--users and --items must be at least 1");
  if (p.rank == 0) usage_fail("--rank must be at least 1");
  if (!(p.noise >= 0) || std::isinf(p.noise)) usage_fail("--noise must be non-negative");
  if (!(p.density > 0 && p.density <= 1))
    usage_fail("--density must be in (0, 1], got ", p.density);
  if (!(p.test_fraction >= 0 && p.test_fraction < 1)) {
    usage_fail("--test-fraction must be in [0, 1), got ", p.test_fraction);
  }
  const std::size_t d = p.rank;
  const double spread = std::pow(static_cast<double>(d), -0.25);  // entry std deviation
  std::mt19937_64 item_rng(detail::mix64(p.seed ^ 0x9e3779b97f4a7c15ULL));
  std::normal_distribution<double> factor(0.0, spread);
  std::vector<double> items(p.items * d);
  for (double& x : items) x = factor(item_rng);
  Ratings out;
  for (EdgeList* list : {&out.train, &out.test}) {
    list->weighted = true;
    list->declared = VertexRange{1, p.users + p.items};
    list->bipartite_rows = p.users;
  }
  std::vector<double> user(d);
  std::normal_distribution<double> noise(0.0, p.noise);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double log_miss = std::log1p(-p.density);  // -inf when density is 1
  for (std::uint64_t u = 0; u < p.users; ++u) {
    std::mt19937_64 rng(detail::mix64(p.seed * 0x100000001b3ULL + u));
    for (double& x : user) x = factor(rng);
    // Rated items: gaps between them are geometric with success probability density.
    for (std::uint64_t i = 0;; ++i) {
      if (p.density < 1) {
        const double gap = std::floor(std::log(1.0 - unit(rng)) / log_miss);
        if (gap >= static_cast<double>(p.items - i)) break;
        i += static_cast<std::uint64_t>(gap);
      }
      if (i >= p.items) break;
      double r = 0;
      for (std::size_t k = 0; k < d; ++k) r += user[k] * items[i * d + k];
      r += p.noise > 0 ? noise(rng) : 0.0;
      EdgeList& list = unit(rng) < p.test_fraction ? out.test : out.train;
      list.edges.push_back({u + 1, p.users + i + 1});
      list.weights.push_back(r);
    }
  }
  return out;
}

}  // namespace atl
