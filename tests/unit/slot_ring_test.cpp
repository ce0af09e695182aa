// The granted-scope ring: slots come out oldest first, across the wrap-around, and an empty
// ring yields nothing.
#include "atoll/engine/slot_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>

namespace {

TEST(SlotRing, GivesSlotsOldestFirstAcrossTheWrap) {
  atl::SlotRing ring;
  ring.reset(5);
  std::deque<std::uint32_t> reference;
  std::uint32_t next = 0;
  std::uint32_t slot = 0;
  // Fill and drain by varying amounts so that head and tail wrap many times.
  for (int round = 0; round < 40; ++round) {
    const int pushes = 1 + round % 5;
    for (int i = 0; i < pushes && reference.size() < 5; ++i) {
      ring.push(next);
      reference.push_back(next++);
    }
    EXPECT_EQ(ring.size(), reference.size());
    const int pops = 1 + (round * 3) % 4;
    for (int i = 0; i < pops && !reference.empty(); ++i) {
      ASSERT_TRUE(ring.pop(slot));
      EXPECT_EQ(slot, reference.front());
      reference.pop_front();
    }
  }
  while (!reference.empty()) {
    ASSERT_TRUE(ring.pop(slot));
    EXPECT_EQ(slot, reference.front());
    reference.pop_front();
  }
  EXPECT_TRUE(ring.empty());
  EXPECT_FALSE(ring.pop(slot));
}

TEST(SlotRing, ResetEmptiesIt) {
  atl::SlotRing ring;
  ring.reset(2);
  ring.push(7);
  ring.reset(3);
  std::uint32_t slot = 0;
  EXPECT_FALSE(ring.pop(slot));
  for (std::uint32_t s : {1u, 2u, 3u}) ring.push(s);
  for (std::uint32_t s : {1u, 2u, 3u}) {
    ASSERT_TRUE(ring.pop(slot));
    EXPECT_EQ(slot, s);
  }
}

}  // namespace
