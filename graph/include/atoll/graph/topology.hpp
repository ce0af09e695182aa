// The local graph's structure on one rank: dense local ids, out- and in-CSR, gid <-> lid maps
// and ghost ranges. Owned vertices come first (in gid order, unless relabelled by_degree),
// then ghosts grouped by owner
// rank, each owner's ghosts contiguous. An edge's id is its position in the out-CSR; the
// in-CSR refers to edges by that id, so edge data is stored once. A symmetric structure (every
// arc u->v matched by v->u as often) keeps one CSR: the in-CSR is the out-CSR. In-edge ids
// are derived on first use, so programs that never ask for them never hold them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/ids.hpp"
#include "atoll/graph/once_vector.hpp"

namespace atl {

/// How an EdgeList becomes a graph. Default: keep the input as it is.
struct BuildOptions {
  bool symmetrize = false;  ///< add the reverse of every edge (a self-loop stays one edge)
  bool dedup = false;       ///< drop self-loops and repeated (src, dst) pairs (first one kept)
  /// Whole graphs only: lids by descending out-degree as counted in the input (before dedup),
  /// ties in gid order: by_degree's graph when the input has nothing for dedup to drop. A
  /// weighted input is relabelled after its build (by_degree: degrees after dedup).
  bool degree_order = false;
};

/// The ghosts owned by one remote rank: local ids [begin, end).
struct GhostRange {
  int owner_rank = 0;
  Lid begin = 0;
  Lid end = 0;
};

/// Where a copy of an owned vertex lives: a rank that holds it as a ghost, and its lid there.
struct Replica {
  int rank = 0;
  Lid lid = 0;
  friend bool operator==(const Replica&, const Replica&) = default;
};

/// One rank's share of a partitioned graph, the input of Topology::build_part. An edge on the
/// cut is held by both ranks; its data is owned by the rank that owns its source (there it is
/// an out-edge of an owned vertex), and pushed to the destination's rank when it changes.
struct GraphPart {
  EdgeList edges;                    ///< every edge with an owned endpoint, each once
  CompactEdges compact;              ///< the same, 8 bytes an edge, when `edges` is empty
  std::vector<Gid> owned;            ///< the owned vertices, ascending, isolated ones included
  std::function<int(Gid)> owner_of;  ///< the rank owning a vertex this rank does not own
  int rank = 0;                      ///< this rank
};

class Topology {
 public:
  /// Builds the graph of `edges` with every vertex owned by this (single) rank. Deterministic:
  /// adjacency lists are sorted by neighbour (ties by input order) for any thread count.
  static Topology build(const EdgeList& edges, const BuildOptions& options = {});
  /// The same graph, consuming `edges`: their memory is released as soon as they have been
  /// turned into local ids (weights once they are in the out-CSR), which lowers the peak
  /// memory of a load by 16 bytes an edge. `edges` is left empty.
  static Topology build(EdgeList&& edges, const BuildOptions& options = {});
  /// The same graph from borrowed edges (a mapped file); edges.release, when set, is told of
  /// the ranges each pass has finished with, so the mapping's pages can be dropped as it goes.
  static Topology build(const EdgeView& edges, const BuildOptions& options = {});
  /// Builds one rank's part: its owned vertices (lids 0..num_owned-1, in gid order), then the
  /// other endpoints of its edges as ghosts grouped by owner rank (ascending), each group in
  /// gid order. Every local edge is in both CSRs, so ghosts have the edges to owned vertices.
  static Topology build_part(const GraphPart& part, const BuildOptions& options = {});
  /// The same part, consuming part.edges as build(EdgeList&&) does (left empty).
  static Topology build_part(GraphPart&& part, const BuildOptions& options = {});
  /// This part without some vertices and edges (flags by lid and by edge id; an edge with a
  /// dropped endpoint is dropped too, and so is a ghost left without edges). Local ids keep
  /// their order, so the result is what build_part gives for what remains, in one linear
  /// pass with no sorting. new_lid (when given) maps old lids to new ones (kInvalidLid:
  /// dropped); new edge ids follow the old order. Replica lists are not carried over.
  static Topology without(const Topology& g, std::span<const std::uint8_t> drop_vertex,
                          std::span<const std::uint8_t> drop_edge,
                          std::vector<Lid>* new_lid = nullptr);
  /// A whole graph on one rank (no ghosts) with its vertices relabelled by descending
  /// out-degree, ties in the old order; adjacency lists stay sorted by neighbour (ties in the
  /// old edge order, weights carried along). A pull gather then reads the shares of the
  /// vertices it reads most from a few cache lines near the start of the array. Owned lids no
  /// longer follow gid order (by_gid_order() is false); gid() and lid() still map both ways.
  /// new_lid (when given) maps old lids to new ones.
  static Topology by_degree(Topology&& g, std::vector<Lid>* new_lid = nullptr);
  /// False after by_degree: owned lids are then not in gid order.
  bool by_gid_order() const { return owned_by_gid_.empty(); }

  Lid num_owned() const { return num_owned_; }
  Lid num_vertices() const { return static_cast<Lid>(lid_to_gid_.size()); }  ///< owned+ghosts
  EdgeId num_edges() const { return out_targets_.size(); }
  bool weighted() const { return weighted_; }

  /// Out-edges of v are the edge ids [out_begin(v), out_end(v)).
  EdgeId out_begin(Lid v) const { return out_offsets_[v]; }
  EdgeId out_end(Lid v) const { return out_offsets_[v + 1]; }
  std::size_t out_degree(Lid v) const { return out_offsets_[v + 1] - out_offsets_[v]; }
  std::span<const Lid> out_neighbors(Lid v) const {
    return {out_targets_.data() + out_offsets_[v], out_degree(v)};
  }

  /// In-edges of v: neighbours and the ids of the edges (into the out-CSR) that reach v.
  std::size_t in_degree(Lid v) const { return in_off()[v + 1] - in_off()[v]; }
  std::span<const Lid> in_neighbors(Lid v) const {
    return {in_src().data() + in_off()[v], in_degree(v)};
  }
  std::span<const EdgeId> in_edges(Lid v) const {
    return {in_edge_ids().data() + in_off()[v], in_degree(v)};
  }
  /// True when the structure is symmetric and stored once (in_sources() is out_targets()).
  bool symmetric() const { return symmetric_; }

  Gid gid(Lid v) const { return lid_to_gid_[v]; }
  /// The local id of gid, or kInvalidLid when this rank does not hold it.
  Lid lid(Gid g) const;

  /// Input weights by edge id (empty when unweighted).
  std::span<const double> weights() const { return weights_; }
  std::span<const GhostRange> ghost_ranges() const { return ghost_ranges_; }
  /// Out-edges of owned vertices are the ids [0, owned_edges()); ghosts' follow.
  EdgeId owned_edges() const { return out_offsets_[num_owned_]; }

  /// The ranks holding owned vertex v as a ghost, with its lid there (ascending by rank).
  std::span<const Replica> replicas(Lid v) const {
    if (replica_offsets_.empty()) return {};
    return {replicas_.data() + replica_offsets_[v], replica_offsets_[v + 1] - replica_offsets_[v]};
  }
  /// Installs the replica lists (CSR over owned vertices: offsets has num_owned + 1 entries);
  /// the loader computes them with the ranks that hold the ghosts.
  void set_replicas(std::vector<std::uint64_t> offsets, std::vector<Replica> replicas);

  /// Raw CSR arrays, for engines that sweep them directly.
  std::span<const EdgeId> out_offsets() const { return out_offsets_; }
  std::span<const Lid> out_targets() const { return out_targets_; }
  std::span<const EdgeId> in_offsets() const { return in_off(); }
  std::span<const Lid> in_sources() const { return in_src(); }
  /// Made on the first call (thread-safe; 8 bytes an edge), then kept.
  std::span<const EdgeId> in_edge_ids() const;

  /// Bytes held by the arrays above (the in-edge ids only once made).
  std::size_t memory_bytes() const;

 private:
  Lid num_owned_ = 0;
  bool weighted_ = false;
  bool gids_contiguous_ = false;  ///< gid(v) == gid(0) + v for every owned v
  std::vector<Gid> lid_to_gid_;
  std::vector<EdgeId> out_offsets_{0};
  std::vector<Lid> out_targets_;
  bool symmetric_ = false;  ///< the in-CSR is the out-CSR; in_offsets_/in_sources_ are empty
  std::vector<EdgeId> in_offsets_{0};
  std::vector<Lid> in_sources_;
  OnceVector<EdgeId> in_edge_ids_;
  std::vector<double> weights_;
  std::vector<GhostRange> ghost_ranges_;
  std::vector<std::uint64_t> replica_offsets_;
  std::vector<Replica> replicas_;
  /// Empty when owned lids follow gid order; else the owned lids sorted by gid (by_degree).
  std::vector<Lid> owned_by_gid_;

  const std::vector<EdgeId>& in_off() const { return symmetric_ ? out_offsets_ : in_offsets_; }
  const std::vector<Lid>& in_src() const { return symmetric_ ? out_targets_ : in_sources_; }

  friend class TopologyBuilder;
};

/// The owned vertices' out-edges as an edge list in CSR order (gids, weights when weighted,
/// the vertex set declared so isolated vertices survive a round trip).
EdgeList to_edge_list(const Topology& graph);

}  // namespace atl
