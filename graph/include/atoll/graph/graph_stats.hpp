// Summary statistics of a Topology (what `atoll info` prints).
#pragma once

#include <cstdint>

#include "atoll/graph/topology.hpp"

namespace atl {

struct DegreeStats {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  double mean = 0.0;
};

struct GraphStats {
  std::uint64_t vertices = 0;
  std::uint64_t edges = 0;
  std::uint64_t self_loops = 0;
  std::uint64_t duplicate_edges = 0;  ///< edges repeating an earlier (src, dst) pair
  std::uint64_t isolated_vertices = 0;
  DegreeStats out_degree;
  DegreeStats in_degree;
  bool weighted = false;
};

/// Computes the statistics over the owned vertices, in parallel.
GraphStats compute_stats(const Topology& graph);

}  // namespace atl
