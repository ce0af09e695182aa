// Reading a fuzz target's parameters from the front of its input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace atl::fuzz {

/// The next (up to) 4 bytes as a little-endian u32, consumed; zeros past the end.
inline std::uint32_t take_u32(const std::uint8_t*& data, std::size_t& size) {
  std::uint32_t v = 0;
  const std::size_t n = size < 4 ? size : 4;
  std::memcpy(&v, data, n);
  data += n;
  size -= n;
  return v;
}

}  // namespace atl::fuzz
