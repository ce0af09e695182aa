#include "atoll/engine/scope_locks.hpp"

#include <algorithm>

#include "atoll/common/error.hpp"

namespace atl {

LockAddresses::LockAddresses(const Topology& graph, int rank, std::vector<Lid> ghost_owner_lid)
    : rank_(rank),
      owned_(graph.num_owned()),
      ghost_owner_(graph.num_vertices() - graph.num_owned(), -1),
      ghost_owner_lid_(std::move(ghost_owner_lid)) {
  if (ghost_owner_lid_.size() != ghost_owner_.size()) {
    fail("lock addresses: ", ghost_owner_lid_.size(), " owner lids for ", ghost_owner_.size(),
         " ghosts");
  }
  for (const GhostRange& r : graph.ghost_ranges()) {
    for (Lid g = r.begin; g < r.end; ++g) ghost_owner_[g - owned_] = r.owner_rank;
  }
  higher_ghosts_begin_ = graph.num_vertices();
  for (const GhostRange& r : graph.ghost_ranges()) {
    if (r.owner_rank > rank && r.begin < higher_ghosts_begin_) higher_ghosts_begin_ = r.begin;
  }
  for (std::size_t g = 0; g < ghost_owner_.size(); ++g) {
    if (ghost_owner_[g] < 0) fail("lock addresses: ghost lid ", owned_ + g, " has no owner");
  }
}

void scope_locks(const Topology& graph, Lid v, Consistency c, const LockAddresses& where,
                 const VertexVersions* versions, std::vector<LockItem>& out) {
  out.clear();
  std::span<const Lid> in;
  std::span<const Lid> outn;
  if (c != Consistency::kVertex) {
    in = graph.in_neighbors(v);
    if (!graph.symmetric()) outn = graph.out_neighbors(v);  // else the same list
  }
  const LockMode mode = c == Consistency::kFull ? LockMode::kWrite : LockMode::kRead;
  // Merge the centre and the two sorted neighbour lists in local-lid order, each vertex once
  // with its stronger mode. Local order is the global lock order except that the owned lids
  // come first: they belong after the ghosts of lower ranks, which one rotation fixes.
  const Lid owned = graph.num_owned();
  const Lid split = where.higher_ghosts_begin();
  std::size_t first_ghost = SIZE_MAX;
  std::size_t first_higher = SIZE_MAX;
  Lid last = kInvalidLid;
  auto add = [&](Lid u, LockMode m) {
    if (u == last) {
      out.back().mode = std::max(out.back().mode, m);
      return;
    }
    if (u >= owned && first_ghost == SIZE_MAX) first_ghost = out.size();
    if (u >= split && first_higher == SIZE_MAX) first_higher = out.size();
    LockItem item = where.lock_of(u, m);
    if (versions != nullptr && u >= owned) item.cached_version = versions->get(u);
    out.push_back(item);
    last = u;
  };
  std::size_t i = 0;
  std::size_t j = 0;
  bool centre = false;
  for (;;) {
    const Lid a = i < in.size() ? in[i] : kInvalidLid;
    const Lid b = j < outn.size() ? outn[j] : kInvalidLid;
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
  const std::size_t q = std::min(first_ghost, out.size());
  const std::size_t r = std::min(first_higher, out.size());
  std::rotate(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(q),
              out.begin() + static_cast<std::ptrdiff_t>(r));
}

}  // namespace atl
