#include "atoll/engine/scope_locks.hpp"

#include <algorithm>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

/// The owned prefix of a sorted neighbour list (owned lids come before ghosts).
std::span<const Lid> owned_part(std::span<const Lid> list, Lid owned) {
  return list.first(
      static_cast<std::size_t>(std::lower_bound(list.begin(), list.end(), owned) - list.begin()));
}

}  // namespace

void scope_locks(const Topology& graph, Lid v, Consistency c, int rank,
                 std::vector<LockItem>& local, std::vector<RemoteGroup>& remote) {
  local.clear();
  remote.clear();
  if (c == Consistency::kVertex) {
    local.push_back({rank, v, LockMode::kWrite});
    return;
  }
  const Lid owned = graph.num_owned();
  const std::span<const Lid> in = owned_part(graph.in_neighbors(v), owned);
  const std::span<const Lid> out =
      graph.symmetric() ? std::span<const Lid>() : owned_part(graph.out_neighbors(v), owned);
  const LockMode mode = c == Consistency::kFull ? LockMode::kWrite : LockMode::kRead;
  // Merge the centre and the two sorted lists, each vertex once with its stronger mode.
  auto add = [&](Lid u, LockMode m) {
    if (!local.empty() && local.back().lid == u) {
      local.back().mode = std::max(local.back().mode, m);
    } else {
      local.push_back({rank, u, m});
    }
  };
  std::size_t i = 0;
  std::size_t j = 0;
  bool centre = false;
  for (;;) {
    const Lid a = i < in.size() ? in[i] : kInvalidLid;
    const Lid b = j < out.size() ? out[j] : kInvalidLid;
    const Lid n = std::min(a, b);
    if (!centre && v <= n) {
      add(v, LockMode::kWrite);
      centre = true;
    }
    if (n == kInvalidLid) break;
    add(n, mode);
    i += a == n;
    j += b == n;
  }
  // Every rank holding v as a ghost owns a neighbour of v, and every neighbour's owner holds v.
  for (const Replica& r : graph.replicas(v)) remote.push_back({r.rank, r.lid, mode});
}

GhostScopes::GhostScopes(const Topology& graph) : graph_(&graph) {
  for (const GhostRange& r : graph.ghost_ranges()) {
    if (r.owner_rank < 0) fail("ghost scopes: a ghost range of rank ", r.owner_rank);
    if (ranges_.size() <= static_cast<std::size_t>(r.owner_rank)) {
      ranges_.resize(static_cast<std::size_t>(r.owner_rank) + 1, GhostRange{0, 0, 0});
    }
    ranges_[r.owner_rank] = r;
  }
  const Lid owned = graph.num_owned();
  const Lid n = graph.num_vertices();
  if (graph.symmetric()) {  // a ghost's in-neighbours are its neighbours, unless repeated
    bool repeated = false;
    for (Lid g = owned; g < n && !repeated; ++g) {
      const std::span<const Lid> in = graph.in_neighbors(g);
      repeated = std::adjacent_find(in.begin(), in.end()) != in.end();
    }
    if (!repeated) return;
  }
  offsets_.assign(n - owned + 1, 0);
  for (Lid g = owned; g < n; ++g) {
    const std::span<const Lid> in = graph.in_neighbors(g);
    const std::span<const Lid> out =
        graph.symmetric() ? std::span<const Lid>() : graph.out_neighbors(g);
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < in.size() || j < out.size()) {
      const Lid a = i < in.size() ? in[i] : kInvalidLid;
      const Lid b = j < out.size() ? out[j] : kInvalidLid;
      const Lid u = std::min(a, b);
      if (merged_.empty() || merged_.size() == offsets_[g - owned] || merged_.back() != u) {
        merged_.push_back(u);
      }
      i += a == u;
      j += b == u;
    }
    offsets_[g - owned + 1] = merged_.size();
  }
}

std::span<const Lid> GhostScopes::of(int requester, Lid g) const {
  if (requester < 0 || static_cast<std::size_t>(requester) >= ranges_.size() ||
      g < ranges_[requester].begin || g >= ranges_[requester].end) {
    fail("rank ", requester, " named lid ", g, " as its vertex's lock group, not a ghost of it");
  }
  if (offsets_.empty()) return graph_->in_neighbors(g);
  const Lid k = g - graph_->num_owned();
  return {merged_.data() + offsets_[k], offsets_[k + 1] - offsets_[k]};
}

}  // namespace atl
