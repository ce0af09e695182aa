#include "atoll/common/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace atl {
namespace {

constexpr std::uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = make_table();

// The CRC register as a polynomial over GF(2), bit 31 the coefficient of x^0 (reflected).
// Appending n zero bytes multiplies the register by x^(8n) mod P: that is how CRCs combine.

/// a * b mod P.
constexpr std::uint32_t multiply(std::uint32_t a, std::uint32_t b) {
  std::uint32_t product = 0;
  for (std::uint32_t bit = 1u << 31; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    b = (b & 1u) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return product;
}

/// x^(2^k) mod P for k < 67 (enough for any 64-bit byte count).
constexpr std::array<std::uint32_t, 67> make_powers() {
  std::array<std::uint32_t, 67> p{};
  p[0] = 1u << 30;  // x^1
  for (std::size_t k = 1; k < p.size(); ++k) p[k] = multiply(p[k - 1], p[k - 1]);
  return p;
}
constexpr auto kPowers = make_powers();

/// x^(8 * bytes) mod P: the factor that moves a register past `bytes` zero bytes.
std::uint32_t shift_factor(std::size_t bytes) {
  std::uint32_t factor = 1u << 31;  // x^0
  for (std::size_t k = 3; bytes != 0; bytes >>= 1, ++k) {
    if (bytes & 1u) factor = multiply(kPowers[k], factor);
  }
  return factor;
}

std::uint32_t crc_portable(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc_sse42(std::uint32_t crc, const unsigned char* p,
                                                          std::size_t n) {
  // Three independent streams over thirds of a long buffer keep the CRC unit busy (one
  // instruction each cycle instead of one every three); their registers are combined after.
  constexpr std::size_t kStripe = 8192;
  if (n >= 3 * kStripe) {
    const std::uint32_t factor = shift_factor(kStripe);
    for (; n >= 3 * kStripe; n -= 3 * kStripe, p += 3 * kStripe) {
      std::uint64_t a = crc, b = 0, c = 0;
      for (std::size_t i = 0; i < kStripe; i += 8) {
        std::uint64_t wa, wb, wc;
        std::memcpy(&wa, p + i, 8);
        std::memcpy(&wb, p + kStripe + i, 8);
        std::memcpy(&wc, p + 2 * kStripe + i, 8);
        a = _mm_crc32_u64(a, wa);
        b = _mm_crc32_u64(b, wb);
        c = _mm_crc32_u64(c, wc);
      }
      crc = multiply(factor, multiply(factor, static_cast<std::uint32_t>(a)) ^
                                 static_cast<std::uint32_t>(b)) ^
            static_cast<std::uint32_t>(c);
    }
  }
  std::uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

bool have_sse42() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  return (c & bit_SSE4_2) != 0;
}
#endif

}  // namespace

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) {
  auto p = static_cast<const unsigned char*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hw = have_sse42();
  crc = hw ? crc_sse42(crc, p, size) : crc_portable(crc, p, size);
#else
  crc = crc_portable(crc, p, size);
#endif
  return ~crc;
}

std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::size_t size_b) {
  return multiply(shift_factor(size_b), crc_a) ^ crc_b;
}

}  // namespace atl
