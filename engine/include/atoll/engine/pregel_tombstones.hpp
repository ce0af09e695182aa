// Tombstones: the vertices and edges topology mutations removed from a Pregel part that is
// not compacted yet. Removing marks a flag (cost: the request, plus the removed vertex's
// degree for the count below); the part itself is rebuilt only when the removed share has
// grown past half of it, when something is added, or before the graph leaves the engine
// (checkpoints, --out-graph, the end of the run). Between compactions every walk over edges
// skips the dead ones, so compute() and the message layer see exactly the mutated graph.
//
// An edge u -> w is live when u, w and the edge itself are: a removed vertex's edges are not
// marked one by one. A vertex removed in the current mutation phase is marked kFresh until
// settle(), so the phase can tell it from one removed earlier (which no rank holds any more).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/graph/topology.hpp"

namespace atl {

class PregelTombstones {
 public:
  enum : std::uint8_t { kLive = 0, kGone = 1, kFresh = 2 };

  /// Nothing removed from `g` (after set-up and after every compaction).
  void reset(const Topology& g) {
    graph_ = &g;
    vertices_.assign(g.num_vertices(), kLive);
    edges_.clear();
    garbage_ = 0;
  }

  /// True while nothing is removed: walks then take the plain CSR loops.
  bool clean() const { return garbage_ == 0; }
  /// Vertex v was removed (in an earlier phase or this one).
  bool dead(Lid v) const { return vertices_[v] != kLive; }
  /// Vertex v was removed before the current mutation phase.
  bool gone_before(Lid v) const { return vertices_[v] == kGone; }
  /// Out-edge e of a live vertex, with target w, is in the graph.
  bool live_out(EdgeId e, Lid w) const {
    return vertices_[w] == kLive && (edges_.empty() || edges_[e] == 0);
  }

  /// Marks v removed in this phase (kFresh); false when it already was removed.
  bool remove_vertex(Lid v) {
    if (vertices_[v] != kLive) return false;
    vertices_[v] = kFresh;
    garbage_ += 1 + graph_->out_degree(v) + graph_->in_degree(v);
    return true;
  }
  /// Marks every live edge src -> dst removed (both live vertices of this part).
  void remove_edges(Lid src, Lid dst) {
    if (edges_.empty()) edges_.assign(graph_->num_edges(), 0);
    const std::span<const Lid> targets = graph_->out_targets();
    for (EdgeId e = graph_->out_begin(src); e < graph_->out_end(src); ++e) {
      if (targets[e] != dst || edges_[e] != 0) continue;
      edges_[e] = 1;
      garbage_ += 2;  // its out- and in-CSR entries
    }
  }
  /// Ends a mutation phase: the vertices it removed become kGone.
  void settle(std::span<const Lid> fresh) {
    for (Lid v : fresh) vertices_[v] = kGone;
  }

  /// More than half the part's entries (vertices, out- and in-edges) are removed ones.
  bool due() const { return garbage_ * 2 > graph_->num_vertices() + 2 * graph_->num_edges(); }

  /// Flags for Topology::without: by lid, and by edge id (all live when none was removed).
  std::span<const std::uint8_t> vertex_flags() const { return vertices_; }
  std::vector<std::uint8_t> edge_flags() const {
    return edges_.empty() ? std::vector<std::uint8_t>(graph_->num_edges(), 0) : edges_;
  }

  /// Calls f(edge id, target) for every live out-edge of live vertex v.
  template <typename F>
  void for_each_out(Lid v, F&& f) const {
    const std::span<const Lid> targets = graph_->out_targets();
    const EdgeId end = graph_->out_end(v);
    if (clean()) {
      for (EdgeId e = graph_->out_begin(v); e < end; ++e) f(e, targets[e]);
      return;
    }
    for (EdgeId e = graph_->out_begin(v); e < end; ++e) {
      if (live_out(e, targets[e])) f(e, targets[e]);
    }
  }
  /// Calls f(source) for every live in-edge of live vertex v, in in-CSR order.
  template <typename F>
  void for_each_in(Lid v, F&& f) const {
    const std::span<const Lid> sources = graph_->in_neighbors(v);
    if (clean()) {
      for (Lid u : sources) f(u);
      return;
    }
    if (edges_.empty()) {
      for (Lid u : sources) {
        if (vertices_[u] == kLive) f(u);
      }
      return;
    }
    const std::span<const EdgeId> ids = graph_->in_edges(v);
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (vertices_[sources[i]] == kLive && edges_[ids[i]] == 0) f(sources[i]);
    }
  }
  /// Live out- and in-degree of live vertex v.
  std::size_t out_degree(Lid v) const {
    if (clean()) return graph_->out_degree(v);
    std::size_t n = 0;
    for_each_out(v, [&](EdgeId, Lid) { ++n; });
    return n;
  }
  std::size_t in_degree(Lid v) const {
    if (clean()) return graph_->in_degree(v);
    std::size_t n = 0;
    for_each_in(v, [&](Lid) { ++n; });
    return n;
  }

 private:
  const Topology* graph_ = nullptr;
  std::vector<std::uint8_t> vertices_;  ///< by lid: kLive, kGone, kFresh
  std::vector<std::uint8_t> edges_;     ///< by edge id: 1 removed (empty: none was)
  std::uint64_t garbage_ = 0;           ///< removed entries counted so far
};

}  // namespace atl
