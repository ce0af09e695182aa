// An edge list as read from a file or made by a generator, before it becomes a Topology.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "atoll/graph/ids.hpp"

namespace atl {

/// One directed edge of an input, by global ids.
struct Edge {
  Gid src;
  Gid dst;
  friend bool operator==(const Edge&, const Edge&) = default;
};

/// A contiguous range of vertex ids [first, first + count), isolated ones included.
struct VertexRange {
  Gid first = 0;
  Gid count = 0;
  friend bool operator==(const VertexRange&, const VertexRange&) = default;
};

/// Edges in input order, their weights (empty when unweighted) and the vertex set: the
/// declared range for .gr/.mtx inputs, otherwise the ids that occur in the edges.
struct EdgeList {
  std::vector<Edge> edges;
  std::vector<double> weights;          ///< weights[i] belongs to edges[i] when weighted
  bool weighted = false;                ///< invariant: weighted == (weights.size() == size())
  std::optional<VertexRange> declared;  ///< set for formats whose header declares 1..n
  /// A Matrix Market file read as bipartite (MtxLayout): its row count m (rows are vertices
  /// 1..m, columns m+1..m+n); 0 otherwise.
  std::uint64_t bipartite_rows = 0;

  std::size_t size() const { return edges.size(); }
  friend bool operator==(const EdgeList&, const EdgeList&) = default;
};

}  // namespace atl
