// The steal field of /proc/stat: parsed from real-shaped lines, and 0 (never garbage) for text
// that lacks it.
#include <gtest/gtest.h>

#include "atoll/common/stolen_time.hpp"

TEST(StolenTime, ReadsTheEighthNumberOfTheCpuLine) {
  EXPECT_DOUBLE_EQ(
      atl::steal_seconds_in("cpu  7503099 75559 2387792 3426041 15008 0 58598 582496 0 0\n", 100),
      5824.96);
  EXPECT_DOUBLE_EQ(atl::steal_seconds_in("cpu 1 2 3 4 5 6 7 250", 250), 1.0);
}

TEST(StolenTime, TextWithoutTheFieldGivesZero) {
  EXPECT_EQ(atl::steal_seconds_in("cpu  1 2 3 4 5 6 7\n", 100), 0);  // kernels before 2.6.11
  EXPECT_EQ(atl::steal_seconds_in("cpu0 1 2 3 4 5 6 7 8", 100), 0);  // a per-CPU line
  EXPECT_EQ(atl::steal_seconds_in("cpu  1 2 x 4 5 6 7 8", 100), 0);
  EXPECT_EQ(atl::steal_seconds_in("", 100), 0);
  EXPECT_EQ(atl::steal_seconds_in("cpu  1 2 3 4 5 6 7 8", 0), 0);
}

TEST(StolenTime, NeverNegative) {
  const atl::StolenTime stolen;
  EXPECT_GE(stolen.seconds(), 0);
}
