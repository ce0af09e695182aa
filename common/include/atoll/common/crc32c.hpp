// CRC32C (Castagnoli), the checksum of every Atoll binary file block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace atl {

/// Extends crc (start with 0) over size bytes at data.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

/// The CRC of A followed by B from crc_a = crc32c(0, A), crc_b = crc32c(0, B) and B's length.
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::size_t size_b);

}  // namespace atl
