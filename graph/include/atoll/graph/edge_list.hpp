// An edge list as read from a file or made by a generator, before it becomes a Topology.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
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

/// Edges whose ends all lie in [base, base + 2^32): each end kept as its 32-bit offset from
/// base, 8 bytes an edge where Edge takes 16 (how the loader gathers a rank's part).
struct CompactEdges {
  Gid base = 0;
  std::vector<std::uint32_t> src;  ///< edge i runs from base + src[i] to base + dst[i]
  std::vector<std::uint32_t> dst;
  std::vector<double> weights;  ///< weights[i] belongs to edge i when weighted
  bool weighted = false;

  std::size_t size() const { return src.size(); }
  Edge operator[](std::size_t i) const { return {base + src[i], base + dst[i]}; }
};

/// Edges borrowed from elsewhere (a mapped binary file), as Topology::build reads them.
struct EdgeView {
  std::span<const Edge> edges;
  std::span<const double> weights;  ///< weights[i] belongs to edges[i] when weighted
  bool weighted = false;
  std::optional<VertexRange> declared;
  /// Called (when set) with each range [begin, end) of edges a pass of the build has finished,
  /// so that their pages can be dropped (a mapping reads them again when a later pass needs
  /// them), and with [0, size) once the edges are no longer needed at all.
  std::function<void(std::size_t, std::size_t)> release;

  EdgeView() = default;
  explicit EdgeView(const EdgeList& list)
      : edges(list.edges),
        weights(list.weights),
        weighted(list.weighted),
        declared(list.declared) {}
};

}  // namespace atl
