// Independent serial references for the apps, computed from the raw EdgeList (never through
// Topology or the engine): power-iteration PageRank, union-find components, Dijkstra.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <vector>

#include "atoll/graph/edge_list.hpp"

namespace atl::test {

/// The vertex set of an edge list (declared range, else the ids that occur), ascending.
inline std::vector<Gid> reference_vertices(const EdgeList& list) {
  std::vector<Gid> ids;
  if (list.declared) {
    for (Gid g = 0; g < list.declared->count; ++g) ids.push_back(list.declared->first + g);
    return ids;
  }
  for (const Edge& e : list.edges) {
    ids.push_back(e.src);
    ids.push_back(e.dst);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

inline std::map<Gid, std::size_t> index_of(const std::vector<Gid>& ids) {
  std::map<Gid, std::size_t> index;
  for (std::size_t i = 0; i < ids.size(); ++i) index[ids[i]] = i;
  return index;
}

/// PageRank by power iteration until the L1 change is below tol (multi-edges counted).
inline std::vector<double> reference_pagerank(const EdgeList& list, double damping, double tol) {
  std::vector<Gid> ids = reference_vertices(list);
  auto index = index_of(ids);
  const std::size_t n = ids.size();
  std::vector<std::size_t> out(n, 0);
  std::vector<std::pair<std::size_t, std::size_t>> arcs;
  for (const Edge& e : list.edges) {
    arcs.emplace_back(index[e.src], index[e.dst]);
    ++out[index[e.src]];
  }
  std::vector<double> rank(n, 1.0 / n), next(n);
  for (int it = 0; it < 100000; ++it) {
    double dangling = 0;
    for (std::size_t v = 0; v < n; ++v) dangling += out[v] == 0 ? rank[v] : 0.0;
    std::fill(next.begin(), next.end(), (1 - damping) / n + damping * dangling / n);
    for (auto [u, v] : arcs) next[v] += damping * rank[u] / out[u];
    double change = 0;
    for (std::size_t v = 0; v < n; ++v) change += std::abs(next[v] - rank[v]);
    rank.swap(next);
    if (change < tol) break;
  }
  return rank;
}

/// Weakly connected components: the smallest gid of each vertex's component.
inline std::vector<Gid> reference_components(const EdgeList& list) {
  std::vector<Gid> ids = reference_vertices(list);
  auto index = index_of(ids);
  std::vector<std::size_t> parent(ids.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const Edge& e : list.edges) {
    std::size_t a = find(index[e.src]), b = find(index[e.dst]);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);  // roots stay the smallest index
  }
  std::vector<Gid> label(ids.size());
  for (std::size_t v = 0; v < ids.size(); ++v) label[v] = ids[find(v)];
  return label;
}

/// Dijkstra from source over the list's weights (1 when unweighted); unreachable = +inf.
inline std::vector<double> reference_sssp(const EdgeList& list, Gid source) {
  std::vector<Gid> ids = reference_vertices(list);
  auto index = index_of(ids);
  std::vector<std::vector<std::pair<std::size_t, double>>> adj(ids.size());
  for (std::size_t i = 0; i < list.edges.size(); ++i) {
    adj[index[list.edges[i].src]].emplace_back(index[list.edges[i].dst],
                                               list.weighted ? list.weights[i] : 1.0);
  }
  std::vector<double> dist(ids.size(), std::numeric_limits<double>::infinity());
  using Item = std::pair<double, std::size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  dist[index[source]] = 0;
  queue.emplace(0.0, index[source]);
  while (!queue.empty()) {
    auto [d, u] = queue.top();
    queue.pop();
    if (d > dist[u]) continue;
    for (auto [v, w] : adj[u]) {
      if (d + w < dist[v]) {
        dist[v] = d + w;
        queue.emplace(dist[v], v);
      }
    }
  }
  return dist;
}

/// Coreness by serial peeling over the undirected simple view (self-loops ignored): remove a
/// vertex of smallest remaining degree; its coreness is the largest such degree so far.
inline std::map<Gid, std::uint64_t> reference_coreness(const EdgeList& list) {
  std::map<Gid, std::set<Gid>> adj;
  for (const Edge& e : list.edges) {
    adj[e.src];
    adj[e.dst];
    if (e.src == e.dst) continue;
    adj[e.src].insert(e.dst);
    adj[e.dst].insert(e.src);
  }
  std::map<Gid, std::uint64_t> core;
  std::set<std::pair<std::size_t, Gid>> by_degree;
  for (const auto& [v, n] : adj) by_degree.insert({n.size(), v});
  std::uint64_t k = 0;
  while (!by_degree.empty()) {
    auto [degree, v] = *by_degree.begin();
    by_degree.erase(by_degree.begin());
    k = std::max<std::uint64_t>(k, degree);
    core[v] = k;
    for (Gid u : adj[v]) {
      by_degree.erase({adj[u].size(), u});
      adj[u].erase(v);
      by_degree.insert({adj[u].size(), u});
    }
    adj[v].clear();
  }
  return core;
}

}  // namespace atl::test
