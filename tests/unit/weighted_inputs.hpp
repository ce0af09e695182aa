// Integer edge weights for SSSP's tests (tests/unit and tests/distributed): with integers every
// order of summation gives the same bits, so distances compare exactly.
#pragma once

#include <cstdint>
#include <random>

#include "atoll/graph/edge_list.hpp"

namespace atl::test {

/// `list` with integer weights drawn uniformly from [lo, hi].
inline EdgeList with_weights(EdgeList list, std::uint64_t lo, std::uint64_t hi,
                             std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  list.weighted = true;
  list.weights.resize(list.size());
  for (double& w : list.weights) w = static_cast<double>(lo + rng() % (hi - lo + 1));
  return list;
}

}  // namespace atl::test
