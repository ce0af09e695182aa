// Community detection by label propagation (Raghavan, Albert and Kumara 2007) on the undirected
// simple view: every vertex starts with its gid as label and repeatedly takes the label most
// frequent among its neighbours, keeping its own when that is among the most frequent and
// breaking other ties pseudo-randomly from the seed. The result is each vertex's community
// label (a gid of the community).
#pragma once

#include <cstdint>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

struct LabelPropagationOptions {
  /// Tie-break seed: the same seed, graph, engine and rank count give the same labels.
  std::uint64_t seed = 1;
};

struct LabelPropagationResult : VertexValues<std::uint64_t> {
  std::uint64_t communities = 0;  ///< distinct labels (over all ranks)
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
LabelPropagationResult label_propagation(Topology graph, const LabelPropagationOptions& options,
                                         const EngineOptions& engine, Cluster* cluster = nullptr);

}  // namespace atl
