// Coreness (k-core decomposition) in Pregel form (`atoll run kcore --engine pregel`), by
// peeling with vertex removal: at level k every vertex with at most k neighbours left gets
// coreness k and removes itself from the graph; the master raises k when a superstep removes
// nothing. Neighbours are the undirected simple view of the graph (in- and out-neighbours,
// each once, self-loops ignored). Returns every input vertex owned by this rank, by gid.
#pragma once

#include <cstdint>

#include "atoll/apps/pregel_values.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

struct Cluster;

PregelVertexValues<std::uint64_t> pregel_kcore(Topology graph, const EngineOptions& engine,
                                               Cluster* cluster = nullptr);

}  // namespace atl
