// Placement of atoms over ranks. Each atom weighs its edges plus its vertices (a vertex costs
// an update, an edge a gather). Region growing gives each rank in turn a connected set of
// atoms worth its share of the remaining weight; then refinement passes move single atoms
// between ranks while that lowers the heaviest rank's load plus the edges cut, no rank ever
// above the capacity (mean load + 3%, at least the heaviest atom). Everything is in a fixed
// order: the same inputs, the same map.
#include "atoll/graph/placement.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <utility>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

/// Largest atoms x ranks for which placement tries swaps (their per-rank link counts).
constexpr std::size_t kMaxSwapTable = std::size_t{1} << 20;
/// Most (atom, partner) pairs the swaps weigh in all (about 0.1 s): a round weighs every atom
/// of the heaviest rank against every other, k^2 / ranks pairs.
constexpr std::size_t kSwapPairBudget = std::size_t{1} << 24;

/// Symmetric adjacency of the meta-graph: per atom, (neighbour atom, cut edges both ways).
struct MetaAdjacency {
  std::vector<std::size_t> offsets;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> links;
};

MetaAdjacency adjacency(std::size_t k, std::span<const AtomCut> cuts) {
  std::vector<std::vector<std::pair<std::uint32_t, std::uint64_t>>> lists(k);
  for (const AtomCut& c : cuts) {
    if (c.from >= k || c.to >= k)
      fail("placement: a cut names atom ", std::max(c.from, c.to), " of ", k);
    if (c.from == c.to || c.edges == 0) continue;
    lists[c.from].push_back({c.to, c.edges});
    lists[c.to].push_back({c.from, c.edges});
  }
  MetaAdjacency adj;
  adj.offsets.push_back(0);
  for (auto& list : lists) {
    std::sort(list.begin(), list.end());
    // Merge the two directions of a pair.
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!adj.links.empty() && adj.offsets.back() < adj.links.size() &&
          adj.links.back().first == list[i].first) {
        adj.links.back().second += list[i].second;
      } else {
        adj.links.push_back(list[i]);
      }
    }
    adj.offsets.push_back(adj.links.size());
  }
  return adj;
}

}  // namespace

std::vector<int> place_atoms(std::span<const AtomEntry> atoms, std::span<const AtomCut> cuts,
                             int ranks) {
  if (ranks < 1) fail("placement over ", ranks, " ranks");
  const std::size_t k = atoms.size();
  std::vector<int> rank_of(k, 0);
  if (ranks == 1 || k == 0) return rank_of;
  std::vector<std::uint64_t> weight(k);
  for (std::size_t a = 0; a < k; ++a) weight[a] = atoms[a].edges + atoms[a].vertices;
  const std::uint64_t total = std::accumulate(weight.begin(), weight.end(), std::uint64_t{0});
  const std::uint64_t heaviest = *std::max_element(weight.begin(), weight.end());
  const std::uint64_t capacity =
      std::max<std::uint64_t>(heaviest, total / static_cast<std::uint64_t>(ranks) +
                                            total / (33 * static_cast<std::uint64_t>(ranks)) + 1);
  MetaAdjacency adj = adjacency(k, cuts);

  // Region growing: rank r takes atoms until it holds its share of what is left, each next
  // atom the unplaced one most connected to the region (ties: lower id); a region starts at
  // the unplaced atom most connected to placed ones (a continuation), else the lowest id.
  std::vector<std::uint64_t> load(static_cast<std::size_t>(ranks), 0);
  std::vector<std::uint64_t> link(static_cast<std::size_t>(ranks), 0);
  std::vector<bool> placed(k, false);
  std::vector<std::uint64_t> to_region(k, 0), to_placed(k, 0);
  std::uint64_t left = total;
  std::size_t unplaced = k;
  auto place = [&](std::uint32_t a, int r) {
    rank_of[a] = r;
    placed[a] = true;
    load[static_cast<std::size_t>(r)] += weight[a];
    left -= weight[a];
    --unplaced;
    for (std::size_t i = adj.offsets[a]; i < adj.offsets[a + 1]; ++i) {
      to_region[adj.links[i].first] += adj.links[i].second;
      to_placed[adj.links[i].first] += adj.links[i].second;
    }
  };
  auto best_unplaced = [&](const std::vector<std::uint64_t>& score) {
    std::uint32_t best = 0;
    bool found = false;
    for (std::uint32_t a = 0; a < k; ++a) {
      if (placed[a]) continue;
      if (!found || score[a] > score[best]) best = a;
      found = true;
    }
    return best;
  };
  for (int r = 0; r < ranks && unplaced > 0; ++r) {
    const std::uint64_t target = left / static_cast<std::uint64_t>(ranks - r);
    std::fill(to_region.begin(), to_region.end(), 0);
    place(best_unplaced(to_placed), r);
    std::fill(to_region.begin(), to_region.end(), 0);
    for (std::size_t i = 0; i < k; ++i) {  // recompute links to this region only
      if (placed[i] && rank_of[i] == r) {
        for (std::size_t j = adj.offsets[i]; j < adj.offsets[i + 1]; ++j) {
          to_region[adj.links[j].first] += adj.links[j].second;
        }
      }
    }
    while (unplaced > 0) {
      std::uint32_t next = best_unplaced(to_region);
      const bool last = r == ranks - 1;
      if (!last && load[static_cast<std::size_t>(r)] + weight[next] / 2 > target) break;
      place(next, r);
    }
  }
  auto links_of = [&](std::uint32_t a) {
    std::fill(link.begin(), link.end(), 0);
    for (std::size_t i = adj.offsets[a]; i < adj.offsets[a + 1]; ++i) {
      auto [b, w] = adj.links[i];
      link[static_cast<std::size_t>(rank_of[b])] += w;
    }
  };
  // Refinement: local moves that lower the cost of a step, the heaviest rank's load plus the
  // edges cut (a cut edge costs about what an edge's work does: a ghost's push and its row).
  // A move that cuts fewer edges but loads the heaviest rank more must cut more than it adds
  // (hash atoms all link about evenly, so it would only unbalance them); one from the
  // heaviest rank may add cut edges while it lowers the max by more.
  // The three heaviest ranks (load, rank): the max load without any two ranks.
  std::vector<std::pair<std::uint64_t, int>> top;
  auto max_without = [&](int x, int y) {
    for (const auto& [l, r] : top) {
      if (r != x && r != y) return l;
    }
    return std::uint64_t{0};
  };
  auto find_top = [&] {
    top.clear();
    for (int r = 0; r < ranks; ++r) top.emplace_back(load[static_cast<std::size_t>(r)], r);
    const auto kept = static_cast<std::ptrdiff_t>(std::min<std::size_t>(3, top.size()));
    std::partial_sort(top.begin(), top.begin() + kept, top.end(), [](const auto& x, const auto& y) {
      return x.first > y.first || (x.first == y.first && x.second < y.second);
    });
    top.resize(static_cast<std::size_t>(kept));
  };
  for (int pass = 0; pass < 16; ++pass) {
    bool moved = false;
    for (std::uint32_t a = 0; a < k; ++a) {
      links_of(a);
      find_top();
      const std::uint64_t heaviest_load = top[0].first;
      const int from = rank_of[a];
      const auto f = static_cast<std::size_t>(from);
      int best = from;
      std::int64_t best_delta = 0;  // change of (max load + cut edges); moves need < 0
      for (int r = 0; r < ranks; ++r) {
        const auto t = static_cast<std::size_t>(r);
        if (r == from || load[t] + weight[a] > capacity) continue;
        const std::uint64_t after =
            std::max({max_without(from, r), load[f] - weight[a], load[t] + weight[a]});
        const std::int64_t delta =
            static_cast<std::int64_t>(after) - static_cast<std::int64_t>(heaviest_load) -
            (static_cast<std::int64_t>(link[t]) - static_cast<std::int64_t>(link[f]));
        if (delta < best_delta) {
          best = r;
          best_delta = delta;
        }
      }
      if (best != from) {
        load[f] -= weight[a];
        load[static_cast<std::size_t>(best)] += weight[a];
        rank_of[a] = best;
        moved = true;
      }
    }
    if (!moved) break;
  }
  // Swaps: a move off the heaviest rank may fit nowhere (every lighter rank would end above
  // it), while exchanging one of its atoms for a lighter one still lowers the max. Same cost
  // as above; per atom its edges to each rank, kept up to date (k x ranks counts, so only for
  // small enough meta-graphs), and a bounded number of swaps and pairs weighed.
  if (ranks > 1 && k * static_cast<std::size_t>(ranks) <= kMaxSwapTable) {
    const auto R = static_cast<std::size_t>(ranks);
    std::vector<std::uint64_t> to_rank(k * R, 0);  // [a * R + r]: a's cut edges to rank r
    for (std::uint32_t a = 0; a < k; ++a) {
      for (std::size_t i = adj.offsets[a]; i < adj.offsets[a + 1]; ++i) {
        to_rank[a * R + static_cast<std::size_t>(rank_of[adj.links[i].first])] +=
            adj.links[i].second;
      }
    }
    auto between = [&](std::uint32_t a, std::uint32_t b) {  // edges between a and b
      const auto first = adj.links.begin() + static_cast<std::ptrdiff_t>(adj.offsets[a]);
      const auto last = adj.links.begin() + static_cast<std::ptrdiff_t>(adj.offsets[a + 1]);
      auto it = std::lower_bound(first, last, b,
                                 [](const auto& l, std::uint32_t x) { return l.first < x; });
      return it != last && it->first == b ? static_cast<std::int64_t>(it->second) : 0;
    };
    auto signed_of = [](std::uint64_t x) { return static_cast<std::int64_t>(x); };
    std::size_t pairs = 0;
    for (int swap = 0; swap < 4 * ranks + 16; ++swap) {
      find_top();
      const int h = top[0].second;
      const auto hs = static_cast<std::size_t>(h);
      pairs += static_cast<std::size_t>(std::count(rank_of.begin(), rank_of.end(), h)) * k;
      if (pairs > kSwapPairBudget) break;
      std::int64_t best_delta = 0;
      std::uint32_t best_a = 0, best_b = 0;
      for (std::uint32_t a = 0; a < k; ++a) {
        if (rank_of[a] != h) continue;
        for (std::uint32_t b = 0; b < k; ++b) {
          if (rank_of[b] == h || weight[b] >= weight[a]) continue;
          const auto rs = static_cast<std::size_t>(rank_of[b]);
          const std::uint64_t to_r = load[rs] + weight[a] - weight[b];
          if (to_r > capacity) continue;
          const std::uint64_t after =
              std::max({max_without(h, rank_of[b]), load[hs] - weight[a] + weight[b], to_r});
          const std::int64_t cut_change =
              signed_of(to_rank[a * R + hs]) - signed_of(to_rank[a * R + rs]) +
              signed_of(to_rank[b * R + rs]) - signed_of(to_rank[b * R + hs]) + 2 * between(a, b);
          const std::int64_t delta = signed_of(after) - signed_of(top[0].first) + cut_change;
          if (delta < best_delta) {
            best_delta = delta;
            best_a = a;
            best_b = b;
          }
        }
      }
      if (best_delta >= 0) break;
      const int r = rank_of[best_b];
      for (auto [atom, to] : {std::pair{best_a, r}, std::pair{best_b, h}}) {
        const auto from = static_cast<std::size_t>(rank_of[atom]);
        for (std::size_t i = adj.offsets[atom]; i < adj.offsets[atom + 1]; ++i) {
          const std::size_t c = adj.links[i].first;
          to_rank[c * R + from] -= adj.links[i].second;
          to_rank[c * R + static_cast<std::size_t>(to)] += adj.links[i].second;
        }
        load[from] -= weight[atom];
        load[static_cast<std::size_t>(to)] += weight[atom];
        rank_of[atom] = to;
      }
    }
  }
  return rank_of;
}

PlacementCost placement_cost(std::span<const AtomEntry> atoms, std::span<const AtomCut> cuts,
                             std::span<const int> atom_rank, int ranks) {
  if (atom_rank.size() != atoms.size())
    fail("placement: ", atom_rank.size(), " ranks for ", atoms.size(), " atoms");
  PlacementCost cost;
  cost.rank_edges.assign(static_cast<std::size_t>(ranks), 0);
  cost.rank_vertices.assign(static_cast<std::size_t>(ranks), 0);
  for (std::size_t a = 0; a < atoms.size(); ++a) {
    cost.rank_edges[atom_rank[a]] += atoms[a].edges;
    cost.rank_vertices[atom_rank[a]] += atoms[a].vertices;
  }
  for (const AtomCut& c : cuts) {
    if (c.from < atoms.size() && c.to < atoms.size() && atom_rank[c.from] != atom_rank[c.to]) {
      cost.cut_edges += c.edges;
    }
  }
  std::uint64_t total =
      std::accumulate(cost.rank_edges.begin(), cost.rank_edges.end(), std::uint64_t{0});
  std::uint64_t most = *std::max_element(cost.rank_edges.begin(), cost.rank_edges.end());
  cost.imbalance =
      total == 0 ? 1.0 : static_cast<double>(most) * ranks / static_cast<double>(total);
  return cost;
}

}  // namespace atl
