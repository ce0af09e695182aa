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
  for (std::size_t g = 0; g < ghost_owner_.size(); ++g) {
    if (ghost_owner_[g] < 0) fail("lock addresses: ghost lid ", owned_ + g, " has no owner");
  }
}

void scope_locks(const Topology& graph, Lid v, Consistency c, const LockAddresses& where,
                 const VertexVersions* versions, std::vector<LockItem>& out) {
  out.clear();
  const Lid owned = graph.num_owned();
  auto add = [&](Lid u, LockMode mode) {
    LockItem item = where.lock_of(u, mode);
    if (versions != nullptr && u >= owned) item.cached_version = versions->get(u);
    out.push_back(item);
  };
  add(v, LockMode::kWrite);
  if (c != Consistency::kVertex) {
    const LockMode mode = c == Consistency::kFull ? LockMode::kWrite : LockMode::kRead;
    for (Lid u : graph.in_neighbors(v)) add(u, mode);
    for (Lid u : graph.out_neighbors(v)) add(u, mode);
  }
  std::sort(out.begin(), out.end(), [](const LockItem& a, const LockItem& b) {
    return lock_order_less(a, b) || (!lock_order_less(b, a) && a.mode > b.mode);
  });
  // Equal locks are adjacent with the write first: keep the first of each.
  out.erase(std::unique(out.begin(), out.end(),
                        [](const LockItem& a, const LockItem& b) {
                          return a.owner == b.owner && a.lid == b.lid;
                        }),
            out.end());
}

}  // namespace atl
