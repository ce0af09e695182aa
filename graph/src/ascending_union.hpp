// The union of ascending lists of (id, owner rank) pairs: a rank's ghosts, gathered from the
// ghost tables of its atoms (atom_part.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/ids.hpp"

namespace atl::detail {

/// The union of ascending lists, ascending and without repeats (a k-way merge: no copy of all
/// the lists, no sort). Frees the lists.
inline std::vector<std::pair<Gid, int>> merge_ascending(
    std::vector<std::vector<std::pair<Gid, int>>>& lists) {
  using Head = std::pair<std::pair<Gid, int>, std::size_t>;  // an entry and its list
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  std::vector<std::size_t> next(lists.size(), 1);
  for (std::size_t k = 0; k < lists.size(); ++k) {
    if (!lists[k].empty()) heads.push({lists[k][0], k});
  }
  std::vector<std::pair<Gid, int>> out;
  while (!heads.empty()) {
    const auto [entry, k] = heads.top();
    heads.pop();
    if (out.empty() || out.back() != entry) out.push_back(entry);
    if (next[k] < lists[k].size()) {
      heads.push({lists[k][next[k]++], k});
    } else {
      std::vector<std::pair<Gid, int>>().swap(lists[k]);
    }
  }
  return out;
}

/// The same union by marking an array over the lists' id span, when that span is under 4 ids
/// an entry plus 2^20 (else by merging); the lists hold (id, owner rank) pairs, and an id
/// listed with two owners comes out twice (once per owner), as from merge_ascending. Frees the
/// lists. An entry outside [first front, last back] (a list out of order) is an error; other
/// disorder still gives the union.
inline std::vector<std::pair<Gid, int>> union_ascending(
    std::vector<std::vector<std::pair<Gid, int>>>& lists) {
  std::size_t entries = 0;
  Gid lo = ~Gid{0}, hi = 0;
  for (const auto& list : lists) {
    if (list.empty()) continue;
    entries += list.size();
    lo = std::min(lo, list.front().first);
    hi = std::max(hi, list.back().first);
  }
  if (entries == 0) return {};
  // hi - lo, not hi - lo + 1: ids 0 and 2^64 - 1 together would wrap the span to 0.
  if (hi - lo >= 4 * std::uint64_t{entries} + (std::uint64_t{1} << 20)) {
    return merge_ascending(lists);
  }
  const std::uint64_t span = hi - lo + 1;
  // owner + 1 of each id of the span (0: not listed); an id with two owners is kept aside.
  std::vector<std::uint32_t> owner(span, 0);
  std::vector<std::pair<Gid, int>> second;
  for (auto& list : lists) {
    for (const auto& [id, rank] : list) {
      if (id - lo >= span) fail("ghost list of ", list.size(), " ids is not ascending");
      std::uint32_t& o = owner[id - lo];
      const auto mark = static_cast<std::uint32_t>(rank) + 1;
      if (o == 0) {
        o = mark;
      } else if (o != mark) {
        second.emplace_back(id, rank);
      }
    }
    std::vector<std::pair<Gid, int>>().swap(list);
  }
  std::vector<std::pair<Gid, int>> out;
  for (std::uint64_t x = 0; x < span; ++x) {
    if (owner[x] != 0) out.emplace_back(lo + x, static_cast<int>(owner[x] - 1));
  }
  if (!second.empty()) {  // rare (a malformed directory): the pairs in order, as a merge gives
    out.insert(out.end(), second.begin(), second.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  return out;
}

}  // namespace atl::detail
