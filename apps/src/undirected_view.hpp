// The undirected simple view of a local graph, as the graph apps (kcore, triangles, coloring,
// labelprop) see it: a vertex's neighbours are the union of its out- and in-neighbours, each
// once, without itself. Both adjacency lists are sorted by lid, so one merge visits them.
#pragma once

#include <cstddef>

#include "atoll/engine/scope.hpp"
#include "atoll/graph/topology.hpp"

namespace atl::detail {

/// Calls f(w) once for every neighbour w != v of local vertex v in the undirected simple view
/// (repeated and reciprocal edges count once, self-loops are skipped), in ascending lid order.
template <typename F>
void for_each_undirected_neighbor(const Topology& t, Lid v, F&& f) {
  auto out = t.out_neighbors(v);
  auto in = t.in_neighbors(v);
  std::size_t i = 0, j = 0;
  Lid last = kInvalidLid;
  while (i < out.size() || j < in.size()) {
    Lid w;
    if (j == in.size() || (i < out.size() && out[i] <= in[j])) {
      w = out[i++];
    } else {
      w = in[j++];
    }
    if (w == v || w == last) continue;
    last = w;
    f(w);
  }
}

/// The number of neighbours of v in the undirected simple view.
inline std::size_t undirected_degree(const Topology& t, Lid v) {
  std::size_t d = 0;
  for_each_undirected_neighbor(t, v, [&](Lid) { ++d; });
  return d;
}

/// The data of local vertex w as the update of `scope` may read it (w must be in its scope).
template <typename P>
auto& neighbor_data(const Scope<P>& scope, Lid w) {
  return typename Scope<P>::Edge(&scope, w, 0).neighbor_data();
}

}  // namespace atl::detail
