// Inputs for connected components' tests (tests/unit and tests/distributed): many components
// with isolated vertices and shuffled gids, long paths whose gids run against the lid order, and
// edges in one direction only.
#pragma once

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "atoll/graph/edge_list.hpp"

namespace atl::test {

/// `count` components of random shapes and sizes 1..max_size (single vertices are isolated:
/// the vertex set is declared), edges in random directions, gids shuffled over 0..n-1 so that
/// no component is a range of ids.
inline EdgeList many_components(std::size_t count, std::size_t max_size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> sizes(count);
  for (std::size_t& s : sizes) s = 1 + rng() % max_size;
  const std::size_t n = std::accumulate(sizes.begin(), sizes.end(), std::size_t{0});
  std::vector<Gid> gid(n);
  std::iota(gid.begin(), gid.end(), Gid{0});
  std::shuffle(gid.begin(), gid.end(), rng);
  EdgeList list;
  list.declared = VertexRange{0, n};
  std::size_t first = 0;
  for (std::size_t size : sizes) {
    for (std::size_t i = 1; i < size; ++i) {  // a random tree, then a few extra edges
      Gid a = gid[first + i], b = gid[first + rng() % i];
      if (rng() % 2 != 0) std::swap(a, b);
      list.edges.push_back({a, b});
    }
    for (std::size_t k = 0; k < size / 3; ++k) {
      list.edges.push_back({gid[first + rng() % size], gid[first + rng() % size]});
    }
    first += size;
  }
  std::shuffle(list.edges.begin(), list.edges.end(), rng);
  return list;
}

/// A path n-1 -> n-2 -> ... -> 0 (each edge from the larger id), plus a second path whose gids
/// alternate between its two ends: label propagation from gids needs about n sweeps.
inline EdgeList paths(Gid n) {
  EdgeList list;
  for (Gid v = n - 1; v > 0; --v) list.edges.push_back({v, v - 1});
  for (Gid i = 0; i + 1 < n; ++i) {
    auto at = [n](Gid k) { return k % 2 == 0 ? 2 * n + k / 2 : 3 * n - 1 - k / 2; };
    list.edges.push_back({at(i + 1), at(i)});
  }
  return list;
}

/// Every edge points into one hub or out of one sink chain: out-lists are mostly empty, so
/// the local phase has to use the in-lists.
inline EdgeList one_directional(Gid n) {
  EdgeList list;
  for (Gid v = 1; v < n; ++v) list.edges.push_back({v, 0});
  for (Gid v = n; v + 1 < 2 * n; ++v) list.edges.push_back({v + 1, v});
  list.edges.push_back({5 * n, 4 * n});  // a third component, far off
  return list;
}

}  // namespace atl::test
