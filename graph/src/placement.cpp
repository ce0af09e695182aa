// Placement of atoms over ranks. Each atom weighs its edges plus its vertices (a vertex costs
// an update, an edge a gather). Region growing gives each rank in turn a connected set of
// atoms worth its share of the remaining weight; then refinement passes move single atoms to
// the rank they are most connected to while no rank exceeds the capacity (mean load + 3%, at
// least the heaviest atom). Everything is in a fixed order: the same inputs, the same map.
#include "atoll/graph/placement.hpp"

#include <algorithm>
#include <numeric>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

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
  // Refinement: move an atom to the rank it links to most when that cuts fewer edges.
  for (int pass = 0; pass < 8; ++pass) {
    bool moved = false;
    for (std::uint32_t a = 0; a < k; ++a) {
      links_of(a);
      const int from = rank_of[a];
      int best = from;
      for (int r = 0; r < ranks; ++r) {
        if (r == from || load[r] + weight[a] > capacity) continue;
        if (link[r] > link[best]) best = r;
      }
      if (best != from) {
        load[from] -= weight[a];
        load[best] += weight[a];
        rank_of[a] = best;
        moved = true;
      }
    }
    if (!moved) break;
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
