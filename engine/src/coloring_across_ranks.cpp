// Distance-1 colouring of a partitioned graph (see coloring.hpp). In a round, an uncoloured
// owned vertex whose higher-priority neighbours (owned or ghost) are all coloured takes the
// smallest colour none of its coloured neighbours has. Two vertices ready in the same round
// are never adjacent (the lower-priority one waits for the other), so a round's choices are
// independent and the result is the sequential greedy colouring in priority order.
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/coloring.hpp"
#include "atoll/engine/ghost_sync.hpp"

namespace atl {
namespace {

constexpr std::uint32_t kNoColor = UINT32_MAX;

std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// Calls f(u) for every distinct undirected neighbour u != v of owned vertex v (owned or ghost).
template <typename F>
void for_each_neighbor(const Topology& g, Lid v, F&& f) {
  std::span<const Lid> out = g.out_neighbors(v);
  std::span<const Lid> in = g.in_neighbors(v);
  std::size_t i = 0, j = 0;
  Lid last = kInvalidLid;
  while (i < out.size() || j < in.size()) {
    Lid u = (j == in.size() || (i < out.size() && out[i] <= in[j])) ? out[i++] : in[j++];
    if (u == last || u == v) continue;
    last = u;
    f(u);
  }
}

}  // namespace

Coloring color_graph_across_ranks(const Topology& g, Consistency consistency, Cluster& cluster,
                                  GhostSync& ghosts) {
  Coloring result;
  const Lid owned = g.num_owned();
  if (consistency == Consistency::kVertex) {
    result.color.assign(owned, 0);
    result.num_colors = 1;
    return result;
  }
  if (consistency == Consistency::kFull && cluster.size() > 1) {
    usage_fail(
        "full consistency on several ranks needs distance-2 colouring across ranks, "
        "which is not implemented yet; run it on one rank or use --consistency edge");
  }
  // Priorities: the owner's undirected degree (pushed to the ghosts), then hash, then gid.
  std::vector<std::uint32_t> degree(g.num_vertices(), 0);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, owned, 1024), [&](const auto& r) {
    for (Lid v = r.begin(); v < r.end(); ++v) {
      std::uint32_t d = 0;
      for_each_neighbor(g, v, [&](Lid) { ++d; });
      degree[v] = d;
    }
  });
  (void)ghosts.push_all(
      {reinterpret_cast<std::byte*>(degree.data()), nullptr, sizeof(std::uint32_t)});
  auto key = [&](Lid v) { return std::make_tuple(~degree[v], mix(g.gid(v)), g.gid(v)); };

  std::vector<std::uint32_t> color(g.num_vertices(), kNoColor);
  std::vector<Lid> pending(owned);
  for (Lid v = 0; v < owned; ++v) pending[v] = v;
  tbb::enumerable_thread_specific<std::vector<std::uint32_t>> stamps;
  std::uint32_t max_color = 0;
  for (std::uint64_t round = 0;; ++round) {
    // Ready vertices and their colours, from the colours at the start of the round.
    std::vector<std::uint32_t> chosen(pending.size(), kNoColor);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, pending.size(), 256), [&](const auto& r) {
      std::vector<std::uint32_t>& used = stamps.local();
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        const Lid v = pending[i];
        const auto kv = key(v);
        bool ready = true;
        for_each_neighbor(g, v, [&](Lid u) {
          if (ready && color[u] == kNoColor && key(u) < kv) ready = false;
        });
        if (!ready) continue;
        used.clear();
        for_each_neighbor(g, v, [&](Lid u) {
          if (color[u] != kNoColor) used.push_back(color[u]);
        });
        std::sort(used.begin(), used.end());
        std::uint32_t c = 0;
        for (std::uint32_t x : used) {
          if (x == c)
            ++c;
          else if (x > c)
            break;
        }
        chosen[i] = c;
      }
    });
    std::vector<Lid> coloured, still;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (chosen[i] == kNoColor) {
        still.push_back(pending[i]);
      } else {
        color[pending[i]] = chosen[i];
        max_color = std::max(max_color, chosen[i] + 1);
        coloured.push_back(pending[i]);
      }
    }
    pending = std::move(still);
    const std::span<const Lid> lists[1] = {coloured};
    (void)ghosts.push({reinterpret_cast<std::byte*>(color.data()), nullptr, sizeof(std::uint32_t)},
                      lists, {});
    const auto left = cluster.collectives.allreduce<std::uint64_t>(pending.size(), ReduceOp::kSum);
    if (left == 0) break;
    if (round > 4 * std::uint64_t{g.num_vertices()} + 1000) fail("colouring did not converge");
  }
  result.num_colors = cluster.collectives.allreduce<std::uint32_t>(
      std::max<std::uint32_t>(max_color, 1), ReduceOp::kMax);
  result.color.assign(color.begin(), color.begin() + owned);
  return result;
}

}  // namespace atl
