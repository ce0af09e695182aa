// CRC32C against a bit-at-a-time reference written from the polynomial: short and long
// buffers (the three-stream path), any starting value, and combining two CRCs.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "atoll/common/crc32c.hpp"

namespace {

std::uint32_t reference(std::uint32_t crc, const std::vector<unsigned char>& bytes,
                        std::size_t from, std::size_t to) {
  crc = ~crc;
  for (std::size_t i = from; i < to; ++i) {
    crc ^= bytes[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1u) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  return ~crc;
}

TEST(Crc32c, MatchesTheKnownCheckValue) {
  const char* text = "123456789";
  EXPECT_EQ(atl::crc32c(0, text, 9), 0xe3069283u);
}

TEST(Crc32c, MatchesABitwiseReferenceOnShortAndLongBuffers) {
  std::mt19937 rng(5);
  std::vector<unsigned char> bytes(300000);
  for (unsigned char& b : bytes) b = static_cast<unsigned char>(rng());
  for (std::size_t size :
       {0ul, 1ul, 7ul, 8ul, 100ul, 24575ul, 24576ul, 24577ul, 49160ul, 300000ul}) {
    for (std::size_t offset : {0ul, 3ul}) {
      if (offset + size > bytes.size()) continue;
      const std::uint32_t start = static_cast<std::uint32_t>(rng());
      EXPECT_EQ(atl::crc32c(start, bytes.data() + offset, size),
                reference(start, bytes, offset, offset + size))
          << size << " bytes at " << offset;
    }
  }
}

TEST(Crc32c, CombinesTheCrcsOfTwoPieces) {
  std::mt19937 rng(9);
  std::vector<unsigned char> bytes(70000);
  for (unsigned char& b : bytes) b = static_cast<unsigned char>(rng());
  for (std::size_t split : {0ul, 1ul, 13ul, 4096ul, 30000ul, 69999ul, 70000ul}) {
    const std::uint32_t a = atl::crc32c(0, bytes.data(), split);
    const std::uint32_t b = atl::crc32c(0, bytes.data() + split, bytes.size() - split);
    EXPECT_EQ(atl::crc32c_combine(a, b, bytes.size() - split),
              atl::crc32c(0, bytes.data(), bytes.size()))
        << "split at " << split;
  }
}

}  // namespace
