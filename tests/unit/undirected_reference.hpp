// Independent serial references for the graph apps on the undirected simple view, computed
// from the raw EdgeList with std::set adjacency (never through Topology or the engine):
// k-core by peeling, triangles by brute force, and the checks of a colouring and of a
// recovered planted partition.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "atoll/graph/edge_list.hpp"
#include "reference_algorithms.hpp"

namespace atl::test {

/// The undirected simple view: for every vertex (reference_vertices order) its neighbours.
struct UndirectedGraph {
  std::vector<Gid> gids;
  std::vector<std::set<std::size_t>> adj;  ///< by index into gids
};

inline UndirectedGraph undirected_view(const EdgeList& list) {
  UndirectedGraph g;
  g.gids = reference_vertices(list);
  auto index = index_of(g.gids);
  g.adj.resize(g.gids.size());
  for (const Edge& e : list.edges) {
    if (e.src == e.dst) continue;
    std::size_t a = index.at(e.src), b = index.at(e.dst);
    g.adj[a].insert(b);
    g.adj[b].insert(a);
  }
  return g;
}

/// Coreness by peeling: repeatedly remove a vertex of minimum remaining degree; a vertex's
/// coreness is the largest minimum seen up to its removal.
inline std::vector<std::uint64_t> reference_kcore(const UndirectedGraph& g) {
  const std::size_t n = g.gids.size();
  std::vector<std::size_t> degree(n);
  std::set<std::pair<std::size_t, std::size_t>> queue;  // (degree, vertex)
  for (std::size_t v = 0; v < n; ++v) {
    degree[v] = g.adj[v].size();
    queue.insert({degree[v], v});
  }
  std::vector<std::uint64_t> core(n, 0);
  std::vector<bool> removed(n, false);
  std::size_t k = 0;
  while (!queue.empty()) {
    auto [d, v] = *queue.begin();
    queue.erase(queue.begin());
    k = std::max(k, d);
    core[v] = k;
    removed[v] = true;
    for (std::size_t w : g.adj[v]) {
      if (removed[w]) continue;
      queue.erase({degree[w], w});
      queue.insert({--degree[w], w});
    }
  }
  return core;
}

/// Triangles through each vertex by checking every pair of its neighbours.
inline std::vector<std::uint64_t> reference_triangles(const UndirectedGraph& g) {
  std::vector<std::uint64_t> count(g.gids.size(), 0);
  for (std::size_t u = 0; u < g.gids.size(); ++u) {
    std::vector<std::size_t> nbrs(g.adj[u].begin(), g.adj[u].end());
    for (std::size_t i = 0; i < nbrs.size(); ++i) {
      for (std::size_t j = i + 1; j < nbrs.size(); ++j) {
        count[u] += g.adj[nbrs[i]].count(nbrs[j]);
      }
    }
  }
  return count;
}

/// Edges of the undirected view whose ends share a colour (0 for a proper colouring).
inline std::uint64_t coloring_conflicts(const UndirectedGraph& g,
                                        const std::vector<std::uint64_t>& color) {
  std::uint64_t conflicts = 0;
  for (std::size_t u = 0; u < g.gids.size(); ++u) {
    for (std::size_t w : g.adj[u]) conflicts += (u < w && color[u] == color[w]) ? 1 : 0;
  }
  return conflicts;
}

/// Vertices whose label differs from the majority label of their planted community (vertex
/// v in community v / size), plus the vertices of every community whose majority label is
/// also another community's: 0 when the planted partition is recovered exactly.
inline std::uint64_t planted_errors(const std::vector<Gid>& gids,
                                    const std::vector<std::uint64_t>& labels, std::uint64_t size) {
  std::map<std::uint64_t, std::map<std::uint64_t, std::uint64_t>> votes;  // community -> label
  for (std::size_t i = 0; i < gids.size(); ++i) ++votes[gids[i] / size][labels[i]];
  std::uint64_t errors = 0;
  std::map<std::uint64_t, std::uint64_t> owners;  // majority label -> communities using it
  std::map<std::uint64_t, std::uint64_t> members;
  for (const auto& [community, count] : votes) {
    auto best = std::max_element(count.begin(), count.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    std::uint64_t total = 0;
    for (const auto& [label, c] : count) total += c;
    errors += total - best->second;
    ++owners[best->first];
    members[best->first] += best->second;
  }
  for (const auto& [label, communities] : owners) {
    if (communities > 1) errors += members[label];
  }
  return errors;
}

}  // namespace atl::test
