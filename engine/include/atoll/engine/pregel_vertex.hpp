// What compute() sees of its vertex: id, value, out-edges with their values, the superstep,
// sending, voting to halt, the aggregators and topology mutation requests. Its members are defined
// with the engine (pregel_engine.hpp), which programs include.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "atoll/engine/pregel_aggregators.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

template <typename P>
class PregelEngine;

template <typename P>
class PregelVertex {
 public:
  using VertexValue = typename P::VertexValue;
  using EdgeValue = typename P::EdgeValue;
  using Message = typename P::Message;

  /// One out-edge: its target and its value (read and write).
  class Edge {
   public:
    Gid target() const;
    EdgeValue& value();
    /// The edge's weight in the graph, read in place (1 when the graph has none; an added edge
    /// weighs 1): a program whose edge state is only its weight needs no EdgeValue.
    double weight() const;
    /// Sends m along the edge (to its target) for the next superstep.
    void send(const Message& m);

   private:
    friend class PregelVertex;
    Edge(PregelVertex& v, EdgeId e) : vertex_(v), edge_(e) {}
    PregelVertex& vertex_;
    EdgeId edge_;
  };
  class EdgeIterator {
   public:
    EdgeIterator(PregelVertex& v, EdgeId e) : vertex_(&v), edge_(e) {}
    Edge operator*() const { return Edge(*vertex_, edge_); }
    EdgeIterator& operator++();  ///< to the next edge still in the graph
    bool operator!=(const EdgeIterator& o) const { return edge_ != o.edge_; }

   private:
    PregelVertex* vertex_;
    EdgeId edge_;
  };
  struct Edges {
    PregelVertex& vertex;
    EdgeIterator begin() const;
    EdgeIterator end() const;
  };

  Gid gid() const;
  /// Its local id on this rank (owned vertices are 0..n-1 in gid order), to index arrays the
  /// program keeps per local vertex; valid until the next topology mutation.
  Lid lid() const { return lid_; }
  VertexValue& value();
  std::uint64_t superstep() const;
  std::size_t num_out_edges() const;
  Edges out_edges() { return {*this}; }

  /// Sends m to vertex target for the next superstep: any vertex (one this rank does not hold
  /// goes with the mutation requests; an absent one is created unless the program refuses).
  void send(Gid target, const Message& m);
  /// Sends m along every out-edge.
  void send_to_neighbors(const Message& m);
  /// In-edges (beyond Pregel's out-edges only, as GraphX's EdgeDirection.In): their number,
  /// their sources' ids in order, and m sent to each source once per edge.
  std::size_t num_in_edges() const;
  template <typename F>
  void for_each_in_neighbor(F&& f) const;
  void send_to_in_neighbors(const Message& m);
  /// Halts the vertex until a message arrives.
  void vote_to_halt() { halted_ = true; }

  /// Topology mutation: requests take effect before the next superstep, edge removals first,
  /// then vertex removals (with the vertex's edges), vertex additions, edge additions; any
  /// vertex or edge may be named (pregel_mutations.hpp has the conflict rules).
  void add_vertex(Gid g, const VertexValue& value);
  void remove_vertex(Gid g);
  /// Adds one edge src -> dst (absent endpoints are created).
  void add_edge(Gid src, Gid dst, const EdgeValue& value = {});
  /// Removes every edge src -> dst.
  void remove_edge(Gid src, Gid dst);

  /// An aggregator's value as of the end of the last superstep (or as the master set it).
  template <typename T>
  const T& aggregated(PregelAggregator<T> h) const;
  /// Contributes v to an aggregator; every vertex reads the result in the next superstep.
  template <typename T>
  void aggregate(PregelAggregator<T> h, const T& v);

 private:
  friend class PregelEngine<P>;
  PregelVertex(PregelEngine<P>& engine, Lid lid, std::byte* partial)
      : engine_(engine), lid_(lid), partial_(partial) {}
  /// The first out-edge from e on that mutations have not removed (or the end).
  EdgeId live_from(EdgeId e) const;
  PregelEngine<P>& engine_;
  Lid lid_;
  std::byte* partial_;  ///< this block's aggregator partials
  bool halted_ = false;
  std::uint64_t sent_ = 0;
  std::uint64_t cast_edges_ = 0;
  std::uint32_t casts_ = 0;  ///< 1 once a broadcast made this vertex a cast source
};

}  // namespace atl
