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

/// Whether `list` (lid order, ghosts of one owner contiguous and in gid order) holds a lid in
/// [begin, end) whose gid is below `gid`.
bool has_lower_in(const Topology& t, std::span<const Lid> list, Lid begin, Lid end, Gid gid) {
  const auto first = std::lower_bound(list.begin(), list.end(), begin);
  return first != list.end() && *first < end && t.gid(*first) < gid;
}

}  // namespace

ScopeLocks::ScopeLocks(const Topology& graph, int rank, Consistency c, bool oriented)
    : graph_(&graph), rank_(rank), consistency_(c), oriented_(oriented && c == Consistency::kEdge) {
  for (const GhostRange& r : graph.ghost_ranges()) {
    if (r.owner_rank < 0) fail("scope locks: a ghost range of rank ", r.owner_rank);
    if (ranges_.size() <= static_cast<std::size_t>(r.owner_rank)) {
      ranges_.resize(static_cast<std::size_t>(r.owner_rank) + 1, GhostRange{0, 0, 0});
    }
    ranges_[r.owner_rank] = r;
  }
  const Lid owned = graph.num_owned();
  const Lid n = graph.num_vertices();
  if (n > owned && oriented_ && !graph.by_gid_order()) {
    fail("scope locks: oriented locking needs owned lids in gid order");
  }
  // A ghost's neighbours here: its in-list when the graph is symmetric without repeats, else
  // in and out merged.
  bool merge = !graph.symmetric();
  for (Lid g = owned; g < n && !merge; ++g) {
    const std::span<const Lid> in = graph.in_neighbors(g);
    merge = std::adjacent_find(in.begin(), in.end()) != in.end();
  }
  if (merge) {
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
        if (merged_.size() == offsets_[g - owned] || merged_.back() != u) merged_.push_back(u);
        i += a == u;
        j += b == u;
      }
      offsets_[g - owned + 1] = merged_.size();
    }
  }
  if (!oriented_) return;
  // A ghost's neighbours here are owned, in lid order, which is gid order: the lower ones are
  // a prefix.
  lower_.resize(n - owned);
  for (Lid g = owned; g < n; ++g) {
    const std::span<const Lid> list = neighbours_of_ghost(g);
    const Gid gid = graph.gid(g);
    lower_[g - owned] = static_cast<Lid>(
        std::partition_point(list.begin(), list.end(), [&](Lid u) { return graph.gid(u) < gid; }) -
        list.begin());
  }
  // Whether an owned vertex has a lower neighbour at each of its replica ranks (else its scope
  // needs no group there).
  if (owned > 0) {
    const Replica* base = graph.replicas(0).data();
    const auto total = static_cast<std::size_t>(graph.replicas(owned - 1).data() +
                                                graph.replicas(owned - 1).size() - base);
    replica_lower_.assign(total, 0);
    for (Lid v = 0; v < owned; ++v) {
      const Gid gid = graph.gid(v);
      for (const Replica& r : graph.replicas(v)) {
        if (static_cast<std::size_t>(r.rank) >= ranges_.size()) continue;
        const GhostRange& range = ranges_[r.rank];
        const bool lower =
            has_lower_in(graph, graph.in_neighbors(v), range.begin, range.end, gid) ||
            (!graph.symmetric() &&
             has_lower_in(graph, graph.out_neighbors(v), range.begin, range.end, gid));
        replica_lower_[static_cast<std::size_t>(&r - base)] = lower ? 1 : 0;
      }
    }
  }
}

std::span<const Lid> ScopeLocks::neighbours_of_ghost(Lid g) const {
  if (offsets_.empty()) return graph_->in_neighbors(g);
  const Lid k = g - graph_->num_owned();
  return {merged_.data() + offsets_[k], offsets_[k + 1] - offsets_[k]};
}

void ScopeLocks::of(Lid v, std::vector<LockItem>& local, std::vector<RemoteGroup>& remote) const {
  local.clear();
  remote.clear();
  if (consistency_ == Consistency::kVertex) {
    local.push_back({rank_, v, LockMode::kWrite});
    return;
  }
  const Topology& graph = *graph_;
  // The owned neighbours (oriented: those below v, i.e. a prefix up to v).
  const Lid end = oriented_ ? v : graph.num_owned();
  const LockMode mode = consistency_ == Consistency::kFull ? LockMode::kWrite : LockMode::kRead;
  if (graph.symmetric()) {
    // One sorted list: copy its owned prefix (a scan, no search), the centre at its place.
    const std::span<const Lid> list = graph.in_neighbors(v);
    local.reserve(list.size() + 1);
    Lid last = kInvalidLid;
    bool centre = false;
    for (const Lid u : list) {
      if (u >= end) break;
      if (u == last) continue;  // a repeated edge
      last = u;
      if (u >= v && !centre) {
        local.push_back({rank_, v, LockMode::kWrite});
        centre = true;
        if (u == v) continue;  // a self-loop: the centre's write covers it
      }
      local.push_back({rank_, u, mode});
    }
    if (!centre) local.push_back({rank_, v, LockMode::kWrite});
    add_groups(v, mode, remote);
    return;
  }
  const std::span<const Lid> in = owned_part(graph.in_neighbors(v), end);
  const std::span<const Lid> out = owned_part(graph.out_neighbors(v), end);
  // Merge the centre and the two sorted lists, each vertex once with its stronger mode.
  auto add = [&](Lid u, LockMode m) {
    if (!local.empty() && local.back().lid == u) {
      local.back().mode = std::max(local.back().mode, m);
    } else {
      local.push_back({rank_, u, m});
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
  add_groups(v, mode, remote);
}

void ScopeLocks::add_groups(Lid v, LockMode mode, std::vector<RemoteGroup>& remote) const {
  // Every rank holding v as a ghost owns a neighbour of v, and every neighbour's owner holds v.
  const std::span<const Replica> replicas = graph_->replicas(v);
  for (const Replica& r : replicas) {
    if (oriented_ &&
        replica_lower_[static_cast<std::size_t>(&r - graph_->replicas(0).data())] == 0) {
      continue;
    }
    remote.push_back({r.rank, r.lid, mode});
  }
}

std::span<const Lid> ScopeLocks::group(int requester, Lid g) const {
  if (requester < 0 || static_cast<std::size_t>(requester) >= ranges_.size() ||
      g < ranges_[requester].begin || g >= ranges_[requester].end) {
    fail("rank ", requester, " named lid ", g, " as its vertex's lock group, not a ghost of it");
  }
  const std::span<const Lid> all = neighbours_of_ghost(g);
  return oriented_ ? all.first(lower_[g - graph_->num_owned()]) : all;
}

}  // namespace atl
