// Vertex and edge data of K doubles (K up to kMaxWidth) as fixed-capacity arrays, which keeps
// them trivially copyable; a run picks the smallest capacity that holds K.
#pragma once

#include <array>
#include <cstddef>

namespace atl {

inline constexpr std::size_t kMaxWidth = 64;

/// Calls f.template operator()<N>() with the smallest N in {8, 16, 32, 64} that is >= k
/// (k <= kMaxWidth, checked by the caller).
template <typename F>
decltype(auto) with_capacity(std::size_t k, F&& f) {
  if (k <= 8) return f.template operator()<8>();
  if (k <= 16) return f.template operator()<16>();
  if (k <= 32) return f.template operator()<32>();
  return f.template operator()<64>();
}

}  // namespace atl
