// Gathering fixed-size slots (vertex data moved as bytes) into a contiguous buffer, with the
// common sizes copied as whole words instead of one memcpy call per slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "atoll/graph/topology.hpp"

namespace atl::detail {

/// Copies the `bytes`-sized slot of each lid in `lids`, in order, from `data` to `out`;
/// returns the end of what was written.
inline std::byte* gather_slots(std::byte* out, const std::byte* data, std::size_t bytes,
                               std::span<const Lid> lids) {
  auto words = [&]<std::size_t kBytes>() {
    for (Lid v : lids) {
      std::memcpy(out, data + std::size_t{v} * kBytes, kBytes);  // a constant size: one move
      out += kBytes;
    }
  };
  switch (bytes) {
    case 4:
      words.template operator()<4>();
      break;
    case 8:
      words.template operator()<8>();
      break;
    case 16:
      words.template operator()<16>();
      break;
    default:
      for (Lid v : lids) {
        std::memcpy(out, data + std::size_t{v} * bytes, bytes);
        out += bytes;
      }
  }
  return out;
}

}  // namespace atl::detail
