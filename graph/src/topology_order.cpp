// Topology::by_degree: a whole graph on one rank relabelled by descending out-degree. In a pull
// step (PageRank's gather), vertex u's share is read once per out-edge of u, at random. On a
// power-law graph most of those reads then land on a small prefix of the share array that stays
// in the core's cache, instead of being spread over the whole array.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <numeric>

#include "atoll/common/error.hpp"
#include "atoll/graph/topology.hpp"
#include "csr_transpose.hpp"

namespace atl {
namespace {

/// One CSR relabelled: new vertex i has old vertex order[i]'s list, with neighbours mapped by
/// new_lid and sorted (stably: repeated neighbours keep their old order). `weights` (by
/// position, may be empty) follow their edges.
void relabel_csr(const std::vector<EdgeId>& offsets, const std::vector<Lid>& neighbors,
                 const std::vector<double>& weights, const std::vector<Lid>& order,
                 const std::vector<Lid>& new_lid, std::vector<EdgeId>& new_offsets,
                 std::vector<Lid>& new_neighbors, std::vector<double>& new_weights) {
  const std::size_t n = order.size();
  new_offsets.assign(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    new_offsets[i + 1] = new_offsets[i] + (offsets[order[i] + 1] - offsets[order[i]]);
  }
  new_neighbors.resize(neighbors.size());
  new_weights.resize(weights.size());
  const bool weighted = !weights.empty();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1024), [&](const auto& r) {
    std::vector<std::pair<Lid, EdgeId>> list;  // (new neighbour, old position)
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      const EdgeId begin = offsets[order[i]];
      const EdgeId end = offsets[order[i] + 1];
      Lid* out = new_neighbors.data() + new_offsets[i];
      if (!weighted) {
        for (EdgeId e = begin; e < end; ++e) *out++ = new_lid[neighbors[e]];
        std::sort(new_neighbors.data() + new_offsets[i], out);
        continue;
      }
      list.clear();
      for (EdgeId e = begin; e < end; ++e) list.emplace_back(new_lid[neighbors[e]], e);
      std::sort(list.begin(), list.end());  // by neighbour, then old position
      double* w = new_weights.data() + new_offsets[i];
      for (const auto& [v, e] : list) {
        *out++ = v;
        *w++ = weights[e];
      }
    }
  });
}

/// The same for a symmetric unweighted CSR, without sorting: each new vertex y, in ascending
/// order, is appended to the list of every neighbour of its old vertex. By symmetry that makes
/// every new list exactly its vertex's neighbours, already sorted: a transpose by counting
/// (csr_transpose.hpp), whose result does not depend on the thread count.
void relabel_symmetric(const std::vector<EdgeId>& offsets, const std::vector<Lid>& neighbors,
                       const std::vector<Lid>& order, const std::vector<Lid>& new_lid,
                       std::vector<EdgeId>& new_offsets, std::vector<Lid>& new_neighbors) {
  const std::size_t n = order.size();
  new_offsets.assign(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    new_offsets[i + 1] = new_offsets[i] + (offsets[order[i] + 1] - offsets[order[i]]);
  }
  new_neighbors.resize(neighbors.size());
  std::vector<EdgeId> columns;  // by symmetry, new_offsets again
  detail::transpose_by_counting(
      new_offsets, n,
      [&](std::size_t y, auto&& visit) {
        for (EdgeId e = offsets[order[y]]; e < offsets[order[y] + 1]; ++e)
          visit(new_lid[neighbors[e]]);
      },
      columns, new_neighbors.data());
}

}  // namespace

Topology Topology::by_degree(Topology&& g, std::vector<Lid>* new_lid_out) {
  const Lid n = g.num_owned_;
  if (g.num_vertices() != n || !g.replicas_.empty()) {
    fail("Topology::by_degree: the graph has ", g.num_vertices() - n,
         " ghosts; only a whole graph on one rank can be relabelled");
  }
  std::vector<Lid> order(n);
  std::iota(order.begin(), order.end(), Lid{0});
  std::stable_sort(order.begin(), order.end(),
                   [&g](Lid a, Lid b) { return g.out_degree(a) > g.out_degree(b); });
  std::vector<Lid> new_lid(n);
  for (Lid i = 0; i < n; ++i) new_lid[order[i]] = i;

  Topology t;
  t.num_owned_ = n;
  t.weighted_ = g.weighted_;
  t.symmetric_ = g.symmetric_;
  t.lid_to_gid_.resize(n);
  for (Lid i = 0; i < n; ++i) t.lid_to_gid_[i] = g.lid_to_gid_[order[i]];
  if (g.symmetric_ && !g.weighted_) {
    relabel_symmetric(g.out_offsets_, g.out_targets_, order, new_lid, t.out_offsets_,
                      t.out_targets_);
  } else {
    relabel_csr(g.out_offsets_, g.out_targets_, g.weights_, order, new_lid, t.out_offsets_,
                t.out_targets_, t.weights_);
  }
  g.out_targets_ = {};
  g.weights_ = {};
  if (!g.symmetric_) {
    std::vector<double> none;
    relabel_csr(g.in_offsets_, g.in_sources_, {}, order, new_lid, t.in_offsets_, t.in_sources_,
                none);
  }
  // The owned lids by gid: the old order when it was by gid, else the old by-gid list mapped.
  t.owned_by_gid_.resize(n);
  for (Lid k = 0; k < n; ++k) {
    t.owned_by_gid_[k] = new_lid[g.owned_by_gid_.empty() ? k : g.owned_by_gid_[k]];
  }
  if (new_lid_out != nullptr) *new_lid_out = std::move(new_lid);
  g = Topology();
  return t;
}

}  // namespace atl
