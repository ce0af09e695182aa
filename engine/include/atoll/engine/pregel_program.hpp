// What a Pregel program is: a type with VertexValue, EdgeValue and Message (all trivially
// copyable; EmptyData for none) and
//   void compute(PregelVertex<P>& vertex, std::span<const Message> messages) const;
// Optional members:
//   Message combine(const Message& a, const Message& b) const;  // commutative, associative
//   void master(PregelMaster& master) const;  // on rank 0 between supersteps
// and the topology mutation conflict handlers of pregel_mutations.hpp.
#pragma once

#include <concepts>
#include <type_traits>

#include "atoll/engine/program.hpp"

namespace atl {

class PregelMaster;

template <typename P>
concept PregelProgram = requires {
  typename P::VertexValue;
  typename P::EdgeValue;
  typename P::Message;
}
&&std::is_trivially_copyable_v<typename P::VertexValue>&& std::is_trivially_copyable_v<
    typename P::EdgeValue>&& std::is_trivially_copyable_v<typename P::Message>;

/// The program combines messages to one vertex into one.
template <typename P>
concept PregelCombiner = requires(const P& p, const typename P::Message& m) {
  { p.combine(m, m) } -> std::convertible_to<typename P::Message>;
};

/// The program has a master hook.
template <typename P>
concept PregelMasterHook = requires(const P& p, PregelMaster& m) {
  p.master(m);
};

}  // namespace atl
