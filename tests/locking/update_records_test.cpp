// Update records of the locking engine (locking_records.hpp): a repeated schedule request for a
// ghost within one record raises the first entry's priority instead of adding an entry.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "atoll/engine/locking_records.hpp"

namespace {

using namespace atl;

std::vector<std::pair<Lid, double>> schedules(const std::vector<std::byte>& record) {
  std::vector<std::pair<Lid, double>> out;
  locking::read_update_entries(
      record, 8, 1, [](Lid, std::uint64_t, std::span<const std::byte>) { FAIL(); },
      [&](Lid lid, double priority) { out.emplace_back(lid, priority); },
      [](std::uint64_t, double) { FAIL(); });
  return out;
}

TEST(UpdateRecords, RaisedScheduleKeepsTheHigherPriority) {
  std::vector<std::byte> record;
  locking::append_schedule(record, 7, 1.0);
  const std::size_t second = record.size();
  locking::append_schedule(record, 9, std::numeric_limits<double>::quiet_NaN());
  locking::raise_schedule(record, 0, 0.5);  // lower: unchanged
  EXPECT_EQ(schedules(record)[0], std::make_pair(Lid{7}, 1.0));
  locking::raise_schedule(record, 0, 3.0);
  EXPECT_EQ(schedules(record)[0], std::make_pair(Lid{7}, 3.0));
  locking::raise_schedule(record, second, -5.0);  // NaN counts as -infinity
  EXPECT_EQ(schedules(record)[1], std::make_pair(Lid{9}, -5.0));
  locking::raise_schedule(record, second, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(schedules(record)[1], std::make_pair(Lid{9}, -5.0));
  EXPECT_EQ(schedules(record).size(), 2u);
}

}  // namespace
