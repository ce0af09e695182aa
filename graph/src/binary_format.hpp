// Layout constants of Atoll's binary edge list, version 1 (docs/formats.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace atl::detail {

inline constexpr char kBinaryMagic[8] = {'A', 'T', 'O', 'L', 'L', 'E', 'L', '1'};
inline constexpr std::uint32_t kBinaryVersion = 1;
inline constexpr std::uint32_t kBinaryFlagWeighted = 1u << 0;
inline constexpr std::uint32_t kBinaryFlagDeclared = 1u << 1;
inline constexpr std::size_t kBinaryHeaderSize = 48;
inline constexpr std::size_t kBinaryTrailerSize = 8;
inline constexpr std::size_t kBinaryHeaderCrcOffset = 40;  // crc32c of bytes [0, 40)

}  // namespace atl::detail
