// LEB128 variable-length unsigned integers (7 bits a byte, low bits first, the high bit set on
// every byte but the last) and zigzag coding of signed differences, as atom files store them.
// The reader never reads past its end and rejects an encoding longer than 10 bytes or wider
// than 64 bits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace atl::detail {

/// Bytes a varint takes at most.
inline constexpr std::size_t kMaxVarintBytes = 10;

/// Writes value at dst; returns the byte after it.
inline unsigned char* put_varint(unsigned char* dst, std::uint64_t value) {
  while (value >= 0x80) {
    *dst++ = static_cast<unsigned char>(value | 0x80);
    value >>= 7;
  }
  *dst++ = static_cast<unsigned char>(value);
  return dst;
}

/// Maps a signed difference (taken modulo 2^64) to an unsigned value that is small when the
/// difference is small in either direction: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
inline std::uint64_t zigzag(std::uint64_t difference) {
  return (difference << 1) ^ (0 - (difference >> 63));
}

/// The inverse of zigzag (a difference modulo 2^64).
inline std::uint64_t unzigzag(std::uint64_t value) {
  return (value >> 1) ^ (0 - (value & 1));
}

/// Reads varints from [at, end).
class VarintReader {
 public:
  VarintReader(const unsigned char* at, const unsigned char* end) : at_(at), end_(end) {}

  /// Reads one varint into *value; false (and *value unset) when the bytes end first, the
  /// encoding is longer than 10 bytes, or the value does not fit in 64 bits.
  bool next(std::uint64_t* value) {
    if (at_ != end_ && *at_ < 0x80) {  // the common one-byte case
      *value = *at_++;
      return true;
    }
    std::uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (at_ == end_) return false;
      const std::uint64_t byte = *at_++;
      if (shift == 63 && byte > 1) return false;  // bits beyond 64
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        *value = result;
        return true;
      }
    }
    return false;  // an 11th byte would follow
  }

  bool done() const { return at_ == end_; }
  const unsigned char* at() const { return at_; }

 private:
  const unsigned char* at_;
  const unsigned char* end_;
};

}  // namespace atl::detail
