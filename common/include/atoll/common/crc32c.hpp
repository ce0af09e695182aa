// CRC32C (Castagnoli), the checksum of every Atoll binary file block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace atl {

/// Extends crc (start with 0) over size bytes at data.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace atl
