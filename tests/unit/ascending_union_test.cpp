// The union of a rank's ghost lists (graph/src/ascending_union.hpp) against std::set.
#include "ascending_union.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"

namespace atl::detail {
namespace {

using Lists = std::vector<std::vector<std::pair<Gid, int>>>;

/// `count` ascending lists of ids from base .. base + span - 1, owner id % 3 (or, for the ids
/// in `conflicts`, owner 7 in the odd lists).
Lists random_lists(std::size_t count, Gid base, Gid span, std::uint32_t seed,
                   const std::set<Gid>& conflicts = {}) {
  std::mt19937_64 rng(seed);
  Lists lists(count);
  for (std::size_t k = 0; k < count; ++k) {
    std::set<Gid> ids;
    const std::size_t n = rng() % 200;
    for (std::size_t i = 0; i < n; ++i) ids.insert(base + rng() % span);
    for (const Gid c : conflicts) ids.insert(c);
    for (const Gid id : ids) {
      const int owner = conflicts.count(id) != 0 && k % 2 == 1 ? 7 : static_cast<int>(id % 3);
      lists[k].emplace_back(id, owner);
    }
  }
  return lists;
}

std::vector<std::pair<Gid, int>> reference(const Lists& lists) {
  std::set<std::pair<Gid, int>> all;
  for (const auto& list : lists) all.insert(list.begin(), list.end());
  return {all.begin(), all.end()};
}

TEST(AscendingUnion, MarkingAndMergingGiveTheSortedUnion) {
  // Dense spans take the marking path, a span of 2^40 the merge; both must match the set.
  for (const Gid span : {Gid{1000}, Gid{50'000}, Gid{1} << 40}) {
    for (std::uint32_t seed = 1; seed <= 5; ++seed) {
      const Lists lists = random_lists(seed * 3, Gid{1} << 33, span, seed);
      Lists a = lists, b = lists;
      const auto want = reference(lists);
      EXPECT_EQ(union_ascending(a), want) << "span " << span << " seed " << seed;
      EXPECT_EQ(merge_ascending(b), want) << "span " << span << " seed " << seed;
      for (const auto& list : a) EXPECT_TRUE(list.empty());  // freed
    }
  }
}

TEST(AscendingUnion, AnIdWithTwoOwnersComesOutOncePerOwner) {
  const std::set<Gid> conflicts = {5, 17, 999};
  for (const Gid span : {Gid{1000}, Gid{1} << 40}) {
    const Lists lists = random_lists(6, 0, span, 11, conflicts);
    Lists a = lists;
    const auto got = union_ascending(a);
    EXPECT_EQ(got, reference(lists));
    for (const Gid c : conflicts) {
      const auto n =
          std::count_if(got.begin(), got.end(), [c](const auto& e) { return e.first == c; });
      EXPECT_EQ(n, 2) << "id " << c;  // owner c % 3 and owner 7
    }
  }
}

TEST(AscendingUnion, EmptyListsGiveNothing) {
  Lists none;
  EXPECT_TRUE(union_ascending(none).empty());
  Lists empty(4);
  EXPECT_TRUE(union_ascending(empty).empty());
}

TEST(AscendingUnion, IdsAtBothEndsOfTheRange) {
  // 0 and 2^64 - 1 span the whole range: the merge, not an array of 2^64 (or of 0) entries.
  Lists lists = {{{0, 1}, {5, 1}}, {{5, 1}, {~Gid{0}, 2}}};
  const std::vector<std::pair<Gid, int>> want = {{0, 1}, {5, 1}, {~Gid{0}, 2}};
  EXPECT_EQ(union_ascending(lists), want);
  Lists top = {{{~Gid{0} - 3, 0}, {~Gid{0}, 0}}, {{~Gid{0} - 1, 1}}};  // marked at the very top
  const std::vector<std::pair<Gid, int>> want_top = {
      {~Gid{0} - 3, 0}, {~Gid{0} - 1, 1}, {~Gid{0}, 0}};
  EXPECT_EQ(union_ascending(top), want_top);
}

TEST(AscendingUnion, ThreeOwnersOfOneIdComeOutThrice) {
  Lists lists = {{{7, 0}}, {{7, 1}, {9, 1}}, {{7, 2}}, {{7, 1}}};
  const std::vector<std::pair<Gid, int>> want = {{7, 0}, {7, 1}, {7, 2}, {9, 1}};
  EXPECT_EQ(union_ascending(lists), want);
}

TEST(AscendingUnion, AnEntryOutsideTheListsSpanIsAnErrorNotAWriteOutOfBounds) {
  Lists lists = {{{10, 0}, {20, 0}}, {{30, 1}, {5, 1}, {40, 1}}};
  EXPECT_THROW(union_ascending(lists), Error);
}

}  // namespace
}  // namespace atl::detail
