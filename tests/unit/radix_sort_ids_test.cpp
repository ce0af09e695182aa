// radix_sort_ids (graph/src/radix_sort.hpp), which sorts the long rows of a build, against
// std::sort.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "radix_sort.hpp"

namespace atl::detail {
namespace {

TEST(RadixSortIds, MatchesStdSortForEveryWidthOfIds) {
  std::mt19937_64 rng(42);
  std::vector<std::uint32_t> scratch, counts;  // kept from call to call, as the build does
  for (const unsigned bits : {0u, 1u, 2u, 10u, 11u, 12u, 21u, 22u, 23u, 31u, 32u}) {
    const std::uint64_t top = bits == 32 ? 0xffffffffu : (std::uint64_t{1} << bits) - 1;
    for (const std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{47},
                                  std::size_t{48}, std::size_t{1000}, std::size_t{70000}}) {
      std::vector<std::uint32_t> values(len);
      for (std::uint32_t& v : values) {
        // The extremes often, repeats always (a few distinct values when bits is small).
        const std::uint64_t r = rng();
        v = static_cast<std::uint32_t>(r % 8 == 0 ? top : r % 8 == 1 ? 0 : (r >> 3) % (top + 1));
      }
      std::vector<std::uint32_t> want = values;
      std::sort(want.begin(), want.end());
      radix_sort_ids(values.data(), values.size(), bits, scratch, counts);
      EXPECT_EQ(values, want) << bits << " bits, " << len << " values";
    }
  }
}

TEST(RadixSortIds, SortedAndReversedRows) {
  std::vector<std::uint32_t> scratch, counts;
  std::vector<std::uint32_t> up(5000), down(5000);
  for (std::uint32_t i = 0; i < 5000; ++i) {
    up[i] = i * 97;
    down[i] = (4999 - i) * 97;
  }
  radix_sort_ids(down.data(), down.size(), 19, scratch, counts);
  EXPECT_EQ(down, up);
  std::vector<std::uint32_t> again = up;
  radix_sort_ids(again.data(), again.size(), 19, scratch, counts);
  EXPECT_EQ(again, up);
}

}  // namespace
}  // namespace atl::detail
