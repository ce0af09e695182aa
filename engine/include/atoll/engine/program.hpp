// What a GraphLab program is: a type with VertexData, EdgeData, a consistency model and
//   void update(Scope<P>& scope, Context& context) const;
// Vertex and edge data are trivially copyable (moved by one-sided writes, checkpointed as
// bytes); use EmptyData when a program keeps nothing on its edges.
//
// Optionally, the part of the vertex data that neighbours read (GraphLab's gather type):
//   using NeighborView = T;  static T neighbor_view(const VertexData&);
// Neighbours then see only that (Scope's neighbor_data() returns it by value), and an engine
// that keeps copies of neighbours (the chromatic engine's snapshot, ghosts under vertex
// consistency) keeps and ships only the view: for PageRank 8 bytes instead of the whole record.
#pragma once

#include <concepts>
#include <type_traits>

#include "atoll/engine/consistency.hpp"

namespace atl {

/// Data for vertices or edges that carry none (takes no memory in the graph).
struct EmptyData {};

template <typename P>
concept GraphProgram = requires {
  typename P::VertexData;
  typename P::EdgeData;
  { P::kConsistency } -> std::convertible_to<Consistency>;
}
&&std::is_trivially_copyable_v<typename P::VertexData>&&
    std::is_trivially_copyable_v<typename P::EdgeData>;

/// A program that declares what its neighbours read (see above).
template <typename P>
concept HasNeighborView = GraphProgram<P> && requires(const typename P::VertexData& d) {
  typename P::NeighborView;
  { P::neighbor_view(d) } -> std::same_as<typename P::NeighborView>;
} && std::is_trivially_copyable_v<typename P::NeighborView>;

namespace detail {
template <typename P>
struct NeighborCopy {
  using type = typename P::VertexData;
};
template <HasNeighborView P>
struct NeighborCopy<P> {
  using type = typename P::NeighborView;
};
}  // namespace detail

/// What an engine keeps of a neighbour it copies: the program's view, or its whole data.
template <GraphProgram P>
using NeighborCopy = typename detail::NeighborCopy<P>::type;

/// The copy of vertex data d kept for its neighbours.
template <GraphProgram P>
NeighborCopy<P> neighbor_copy(const typename P::VertexData& d) {
  if constexpr (HasNeighborView<P>) {
    return P::neighbor_view(d);
  } else {
    return d;
  }
}

}  // namespace atl
