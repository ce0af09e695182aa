// splitmix64's finalizer, the 64-bit mixing function of the generators, hash atoms and
// graph fingerprints.
#pragma once

#include <cstdint>

namespace atl::detail {

inline constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ull;  // odd: 2^64 / golden ratio

/// A bijection on 64 bits with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

/// Nearly uniform value in [0, n) from 64 random bits (multiply-high, no modulo).
constexpr std::uint64_t reduce64(std::uint64_t random, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(random) * n) >> 64);
}

}  // namespace atl::detail
