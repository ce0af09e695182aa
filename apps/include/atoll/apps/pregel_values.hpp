// What a Pregel-form app returns: a value per owned vertex (in gid order, written like the
// other engines' results), the engine-neutral stats and the Pregel run's own statistics.
#pragma once

#include <utility>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/pregel_stats.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

template <typename T>
struct PregelVertexValues : VertexValues<T> {
  PregelStats pregel;
};

/// The owned vertices' ids, and value(lid) for each, into result.
template <typename T, typename Value>
void collect_owned(const Topology& graph, PregelVertexValues<T>& result, Value&& value) {
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  result.values.resize(n);
  for (Lid v = 0; v < n; ++v) {
    result.gids[v] = graph.gid(v);
    result.values[v] = value(v);
  }
}

}  // namespace atl
