// Topology::without: a part with some vertices and edges dropped, by filtering the CSRs in
// one pass. Kept local ids are renumbered in order, which keeps owned vertices in gid order,
// ghosts grouped by owner in gid order, adjacency lists sorted by (neighbour, edge id), and
// in-edges by (source, edge id): the layout build_part would give.
#include <algorithm>

#include "atoll/common/error.hpp"
#include "atoll/graph/topology.hpp"

namespace atl {

Topology Topology::without(const Topology& g, std::span<const std::uint8_t> drop_vertex,
                           std::span<const std::uint8_t> drop_edge, std::vector<Lid>* new_lid) {
  const Lid n = g.num_vertices();
  if (drop_vertex.size() != n || drop_edge.size() != g.num_edges()) {
    fail("Topology::without: ", drop_vertex.size(), " vertex flags for ", n, " vertices and ",
         drop_edge.size(), " edge flags for ", g.num_edges(), " edges");
  }
  auto kept_edge = [&](Lid u, EdgeId e) {
    return drop_edge[e] == 0 && drop_vertex[u] == 0 && drop_vertex[g.out_targets_[e]] == 0;
  };
  // Which vertices stay: owned ones unless dropped, ghosts only with a kept edge.
  std::vector<std::uint8_t> keep(n, 0);
  for (Lid v = 0; v < g.num_owned_; ++v) keep[v] = drop_vertex[v] == 0;
  for (Lid u = 0; u < n; ++u) {
    for (EdgeId e = g.out_begin(u); e < g.out_end(u); ++e) {
      if (!kept_edge(u, e)) continue;
      keep[u] = 1;
      keep[g.out_targets_[e]] = 1;
    }
  }
  std::vector<Lid> map(n, kInvalidLid);
  Topology t;
  t.weighted_ = g.weighted_;
  t.lid_to_gid_.reserve(n);
  for (Lid v = 0; v < n; ++v) {
    if (keep[v] == 0) continue;
    map[v] = static_cast<Lid>(t.lid_to_gid_.size());
    t.lid_to_gid_.push_back(g.lid_to_gid_[v]);
    if (v < g.num_owned_) ++t.num_owned_;
  }
  const Lid o = t.num_owned_;
  t.gids_contiguous_ = o > 0 && t.lid_to_gid_[o - 1] - t.lid_to_gid_[0] == o - 1;
  if (!g.owned_by_gid_.empty()) {  // relabelled by_degree: the kept owned lids by gid
    t.gids_contiguous_ = false;
    for (Lid v : g.owned_by_gid_) {
      if (map[v] != kInvalidLid) t.owned_by_gid_.push_back(map[v]);
    }
  }
  for (const GhostRange& r : g.ghost_ranges_) {
    GhostRange nr{r.owner_rank, kInvalidLid, kInvalidLid};
    for (Lid v = r.begin; v < r.end; ++v) {
      if (map[v] == kInvalidLid) continue;
      if (nr.begin == kInvalidLid) nr.begin = map[v];
      nr.end = map[v] + 1;
    }
    if (nr.begin != kInvalidLid) t.ghost_ranges_.push_back(nr);
  }
  // Out-CSR in old edge order; edge_map takes old edge ids to new ones.
  std::vector<EdgeId> edge_map(g.num_edges(), ~EdgeId{0});
  t.out_offsets_.assign(1, 0);
  for (Lid u = 0; u < n; ++u) {
    if (keep[u] == 0) continue;
    for (EdgeId e = g.out_begin(u); e < g.out_end(u); ++e) {
      if (!kept_edge(u, e)) continue;
      edge_map[e] = t.out_targets_.size();
      t.out_targets_.push_back(map[g.out_targets_[e]]);
      if (t.weighted_) t.weights_.push_back(g.weights_[e]);
    }
    t.out_offsets_.push_back(t.out_targets_.size());
  }
  // A separate in-CSR (what remains need not be symmetric); its edge ids are derived on use.
  const auto in_offsets = g.in_offsets();
  const auto in_sources = g.in_sources();
  const auto in_ids = g.in_edge_ids();
  t.in_offsets_.assign(1, 0);
  for (Lid v = 0; v < n; ++v) {
    if (keep[v] == 0) continue;
    for (EdgeId i = in_offsets[v]; i < in_offsets[v + 1]; ++i) {
      if (edge_map[in_ids[i]] == ~EdgeId{0}) continue;
      t.in_sources_.push_back(map[in_sources[i]]);
    }
    t.in_offsets_.push_back(t.in_sources_.size());
  }
  if (new_lid != nullptr) *new_lid = std::move(map);
  return t;
}

}  // namespace atl
