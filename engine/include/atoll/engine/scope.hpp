// Scope: an update's view of its vertex, adjacent edges and neighbours. What may be written is
// fixed at compile time by the program's consistency model:
//   vertex: the vertex is writable; edges and neighbours are read-only (neighbours as of the
//           start of the step);
//   edge:   the vertex and adjacent edges are writable; neighbours read-only, fresh;
//   full:   everything in the scope is writable; the scope records which neighbours an update
//           took for writing (neighbor_data()), so that the engine can bring every copy of them
//           up to date before the next reader (read-only access: neighbor_value()).
// A program with a NeighborView (program.hpp) sees only that of its neighbours, by value: from
// the engine's copies when it keeps them, else computed from the neighbour's data.
#pragma once

#include <cstddef>
#include <iterator>
#include <span>
#include <type_traits>
#include <vector>

#include "atoll/engine/program.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

template <GraphProgram P>
class Scope {
 public:
  using VertexData = typename P::VertexData;
  using EdgeData = typename P::EdgeData;
  static constexpr Consistency kConsistency = P::kConsistency;
  /// Neighbour data: writable only under full consistency.
  using NeighborData =
      std::conditional_t<kConsistency == Consistency::kFull, VertexData, const VertexData>;
  /// Adjacent edge data: read-only under vertex consistency.
  using AdjacentEdgeData =
      std::conditional_t<kConsistency == Consistency::kVertex, const EdgeData, EdgeData>;
  /// What neighbour_data() and neighbor_value() return: the view by value, or a reference.
  using NeighborRead = std::conditional_t<HasNeighborView<P>, NeighborCopy<P>, const VertexData&>;
  using NeighborWrite = std::conditional_t<HasNeighborView<P>, NeighborCopy<P>, NeighborData&>;

  /// One adjacent edge seen from the scope's vertex.
  class Edge {
   public:
    /// `in`: `id` is a position in the in-CSR, resolved to the edge id only when asked for
    /// (programs without edge data never make the topology derive its in-edge ids).
    Edge(const Scope* scope, Lid neighbor, EdgeId id, bool in = false)
        : s_(scope), neighbor_(neighbor), id_(id), in_(in) {}
    /// The vertex at the other end (local id).
    Lid neighbor() const { return neighbor_; }
    Gid neighbor_gid() const { return s_->topology_->gid(neighbor_); }
    /// The neighbour's data; under full consistency, writable, and the neighbour counts as
    /// written by this update.
    NeighborWrite neighbor_data() const {
      if constexpr (HasNeighborView<P>) {
        return neighbor_value();
      } else {
        if constexpr (kConsistency == Consistency::kFull) {
          if (s_->written_ != nullptr) s_->written_->push_back(neighbor_);
        }
        return s_->neighbors_[neighbor_];
      }
    }
    /// The neighbour's data, read-only (never counts as a write).
    NeighborRead neighbor_value() const {
      if constexpr (HasNeighborView<P>) {
        return s_->copies_ != nullptr ? s_->copies_[neighbor_]
                                      : P::neighbor_view(s_->neighbors_[neighbor_]);
      } else {
        return s_->neighbors_[neighbor_];
      }
    }
    AdjacentEdgeData& data() const {
      if constexpr (std::is_empty_v<EdgeData>) {
        static EdgeData empty;  // no state: reads and writes are no-ops
        return empty;
      } else {
        return s_->edges_[id()];
      }
    }
    EdgeId id() const { return in_ ? s_->topology_->in_edge_ids()[id_] : id_; }
    /// The edge's weight in the graph, read in place (1 when the graph has none): a program
    /// whose edge state is only its weight needs no edge data.
    double weight() const { return s_->weights_ != nullptr ? s_->weights_[id()] : 1.0; }

   private:
    const Scope* s_;
    Lid neighbor_;
    EdgeId id_;
    bool in_;
  };

  /// The in- or out-edges of the scope's vertex, iterable with range-for.
  template <bool kIn>
  class EdgeRange {
   public:
    class iterator {
     public:
      using value_type = Edge;
      using difference_type = std::ptrdiff_t;
      iterator(const Scope* s, EdgeId i) : s_(s), i_(i) {}
      Edge operator*() const {
        const Topology& t = *s_->topology_;
        if constexpr (kIn) {
          return Edge(s_, t.in_sources()[i_], i_, true);
        } else {
          return Edge(s_, t.out_targets()[i_], i_);
        }
      }
      iterator& operator++() {
        ++i_;
        return *this;
      }
      iterator operator++(int) {
        iterator old = *this;
        ++i_;
        return old;
      }
      bool operator==(const iterator& o) const { return i_ == o.i_; }

     private:
      const Scope* s_;
      EdgeId i_;
    };
    EdgeRange(const Scope* s, EdgeId begin, EdgeId end) : s_(s), begin_(begin), end_(end) {}
    iterator begin() const { return {s_, begin_}; }
    iterator end() const { return {s_, end_}; }
    std::size_t size() const { return end_ - begin_; }

   private:
    const Scope* s_;
    EdgeId begin_;
    EdgeId end_;
  };

  /// `written` (full consistency; may be null) collects the neighbours taken for writing;
  /// `copies` (may be null) are the engine's copies of neighbours' views, read instead of
  /// `neighbors` by a program with a NeighborView.
  Scope(const Topology& topology, VertexData* vertices, NeighborData* neighbors,
        AdjacentEdgeData* edges, Lid v, std::vector<Lid>* written = nullptr,
        const NeighborCopy<P>* copies = nullptr)
      : topology_(&topology),
        vertices_(vertices),
        neighbors_(neighbors),
        edges_(edges),
        weights_(topology.weighted() ? topology.weights().data() : nullptr),
        v_(v),
        written_(written),
        copies_(copies) {}

  Lid lid() const { return v_; }
  Gid gid() const { return topology_->gid(v_); }
  VertexData& vertex() { return vertices_[v_]; }
  const VertexData& vertex() const { return vertices_[v_]; }
  std::size_t in_degree() const { return topology_->in_degree(v_); }
  std::size_t out_degree() const { return topology_->out_degree(v_); }
  EdgeRange<true> in_edges() const {
    return {this, topology_->in_offsets()[v_], topology_->in_offsets()[v_ + 1]};
  }
  EdgeRange<false> out_edges() const {
    return {this, topology_->out_begin(v_), topology_->out_end(v_)};
  }
  const Topology& topology() const { return *topology_; }
  /// True when in_edges() lists the same neighbours as out_edges() (a symmetric graph, stored
  /// once): a program over the undirected view reads one of them, not both.
  bool symmetric() const { return topology_->symmetric(); }

  /// The sum of fn(neighbour value) over the in-edges (a gather), read as neighbor_value()
  /// reads. Four partial sums interleaved by position break the chain of dependent adds; the
  /// order is fixed per vertex, so the result does not depend on the thread count.
  template <typename Fn>
  double sum_in(Fn&& fn) const {
    const EdgeId begin = topology_->in_offsets()[v_], end = topology_->in_offsets()[v_ + 1];
    const Lid* sources = topology_->in_sources().data();
    auto value = [&](Lid u) -> double {
      if constexpr (HasNeighborView<P>) {
        return fn(copies_ != nullptr ? copies_[u] : P::neighbor_view(neighbors_[u]));
      } else {
        return fn(static_cast<const VertexData&>(neighbors_[u]));
      }
    };
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    EdgeId e = begin;
    for (; e + 4 <= end; e += 4) {
      s0 += value(sources[e]);
      s1 += value(sources[e + 1]);
      s2 += value(sources[e + 2]);
      s3 += value(sources[e + 3]);
    }
    for (; e < end; ++e) s0 += value(sources[e]);
    return (s0 + s1) + (s2 + s3);
  }

 private:
  const Topology* topology_;
  VertexData* vertices_;
  NeighborData* neighbors_;
  AdjacentEdgeData* edges_;
  const double* weights_;  ///< the topology's weights (null when it has none)
  Lid v_;
  std::vector<Lid>* written_;
  const NeighborCopy<P>* copies_;
};

}  // namespace atl
