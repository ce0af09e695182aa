// Synthetic graphs. Every generator is a pure function of its parameters and seed: the same
// edges in the same order for any thread count.
#pragma once

#include <cstdint>
#include <optional>

#include "atoll/graph/edge_list.hpp"

namespace atl {

/// Integer edge weights drawn uniformly from [min, max].
struct WeightRange {
  std::int64_t min = 1;
  std::int64_t max = 1;
};

/// Graph500 Kronecker (R-MAT) graph: 2^scale vertex ids, edge_factor * 2^scale directed edges,
/// quadrant probabilities A=0.57, B=0.19, C=0.19, vertex ids scrambled by a seeded bijection.
struct KroneckerParams {
  int scale = 16;
  std::uint64_t edge_factor = 16;
  std::uint64_t seed = 1;
  std::optional<WeightRange> weights;
};
EdgeList generate_kronecker(const KroneckerParams& params);

/// `edges` directed edges with endpoints uniform over ids 0..vertices-1 (Erdos-Renyi G(n, m)
/// with replacement; self-loops and duplicates possible).
struct UniformParams {
  std::uint64_t vertices = 1024;
  std::uint64_t edges = 16384;
  std::uint64_t seed = 1;
  std::optional<WeightRange> weights;
};
EdgeList generate_uniform(const UniformParams& params);

/// rows x cols 2-D grid; vertex (r, c) has id r*cols + c; each undirected grid edge is listed
/// once, from the smaller id to the larger (use --symmetrize for both directions).
struct GridParams {
  std::uint64_t rows = 32;
  std::uint64_t cols = 32;
  std::uint64_t seed = 1;
  std::optional<WeightRange> weights;
};
EdgeList generate_grid(const GridParams& params);

/// A low-rank ratings matrix for matrix factorisation: user u and item i get latent factors
/// with entries drawn from N(0, 1/sqrt(rank)) (so p_u . q_i has variance 1), each (user, item)
/// pair is rated with probability `density`, the rating is p_u . q_i + N(0, noise^2), and a
/// rating goes to the test set with probability test_fraction. Both lists use the bipartite
/// Matrix Market layout: users are vertices 1..users, items users+1..users+items.
struct RatingsParams {
  std::uint64_t users = 1000;
  std::uint64_t items = 500;
  std::uint32_t rank = 5;
  double noise = 0.1;
  double density = 0.05;
  double test_fraction = 0.1;
  std::uint64_t seed = 1;
};
struct Ratings {
  EdgeList train;  ///< weighted, declared 1..users+items, bipartite_rows = users
  EdgeList test;
};
Ratings generate_ratings(const RatingsParams& params);

/// Planted partition (a stochastic block model with fixed edge counts): `communities` blocks
/// of `size` vertices, vertex v in community v / size. About communities*size*internal_degree/2
/// undirected edges join two distinct vertices of one community and
/// communities*size*external_degree/2 join vertices of different communities, endpoints
/// uniform (repeats possible); each edge is listed once.
struct PlantedParams {
  std::uint64_t communities = 4;
  std::uint64_t size = 32;
  double internal_degree = 8;
  double external_degree = 1;
  std::uint64_t seed = 1;
  std::optional<WeightRange> weights;
};
EdgeList generate_planted(const PlantedParams& params);

}  // namespace atl
