#include "atoll/engine/pregel_routes.hpp"

#include <algorithm>
#include <utility>

#include "atoll/common/error.hpp"

namespace atl {

PregelRoutes::PregelRoutes(const Topology& graph, int rank, int ranks)
    : owned_(graph.num_owned()), peers_(static_cast<std::size_t>(ranks)) {
  ghost_owner_.assign(graph.num_vertices() - owned_, -1);
  for (const GhostRange& range : graph.ghost_ranges()) {
    if (range.owner_rank < 0 || range.owner_rank >= ranks || range.owner_rank == rank) {
      fail("ghost range of rank ", range.owner_rank, " on rank ", rank, " of ", ranks);
    }
    Peer& peer = peers_[static_cast<std::size_t>(range.owner_rank)];
    peer.ghost_begin = range.begin;
    peer.ghost_end = range.end;
    for (Lid g = range.begin; g < range.end; ++g) ghost_owner_[g - owned_] = range.owner_rank;
  }
  if (std::find(ghost_owner_.begin(), ghost_owner_.end(), -1) != ghost_owner_.end()) {
    fail("a ghost on rank ", rank, " belongs to no ghost range");
  }
  // Our vertices at each peer: sorted by their lid there, which must form one range.
  std::vector<std::vector<std::pair<Lid, Lid>>> by_peer(peers_.size());
  for (Lid v = 0; v < owned_; ++v) {
    for (const Replica& r : graph.replicas(v)) {
      if (r.rank < 0 || r.rank >= ranks || r.rank == rank)
        fail("replica of ", v, " on rank ", r.rank);
      by_peer[static_cast<std::size_t>(r.rank)].emplace_back(r.lid, v);
    }
  }
  for (std::size_t p = 0; p < peers_.size(); ++p) {
    auto& list = by_peer[p];
    std::sort(list.begin(), list.end());
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i].first != list.front().first + i) {
        fail("rank ", p, "'s ghosts of rank ", rank, " are not one contiguous range");
      }
      peers_[p].positions.push_back(list[i].second);
    }
  }
}

}  // namespace atl
