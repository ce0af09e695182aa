// What a GraphLab program is: a type with VertexData, EdgeData, a consistency model and
//   void update(Scope<P>& scope, Context& context) const;
// Vertex and edge data are trivially copyable (moved by one-sided writes, checkpointed as
// bytes); use EmptyData when a program keeps nothing on its edges.
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

}  // namespace atl
