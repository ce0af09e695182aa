// Tests of color_graph / is_valid_coloring: validity for edge (distance-1) and full (distance-2)
// consistency on grids, Kronecker, uniform and hand-made graphs (self-loops, duplicates,
// one-directional edges, stars, cliques, empty and single-vertex graphs), checked against an
// independent brute-force reference; the greedy colour bounds; determinism over thread
// counts; and that the checker rejects broken colourings.
#include "atoll/engine/coloring.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "atoll/graph/generators.hpp"
#include "test_util.hpp"

namespace {

using atl::BuildOptions;
using atl::Coloring;
using atl::Consistency;
using atl::Edge;
using atl::EdgeList;
using atl::Gid;
using atl::Lid;
using atl::Topology;
using atl::test::with_threads;

constexpr Lid kNone = atl::kInvalidLid;

// ---- graphs ------------------------------------------------------------------------------------

BuildOptions plain() {
  return BuildOptions{};
}
BuildOptions sym_dedup() {
  BuildOptions o;
  o.symmetrize = true;
  o.dedup = true;
  return o;
}

EdgeList edges_of(const std::vector<std::pair<Gid, Gid>>& pairs) {
  EdgeList el;
  for (auto [s, d] : pairs) el.edges.push_back(Edge{s, d});
  return el;
}

Topology graph_of(const std::vector<std::pair<Gid, Gid>>& pairs,
                  const BuildOptions& options = BuildOptions{}) {
  return Topology::build(edges_of(pairs), options);
}

EdgeList kron(int scale, std::uint64_t edge_factor, std::uint64_t seed = 1) {
  atl::KroneckerParams p;
  p.scale = scale;
  p.edge_factor = edge_factor;
  p.seed = seed;
  p.weights = std::nullopt;
  return atl::generate_kronecker(p);
}

EdgeList uniform(std::uint64_t vertices, std::uint64_t edges, std::uint64_t seed = 1) {
  atl::UniformParams p;
  p.vertices = vertices;
  p.edges = edges;
  p.seed = seed;
  p.weights = std::nullopt;
  return atl::generate_uniform(p);
}

EdgeList grid(std::uint64_t rows, std::uint64_t cols) {
  atl::GridParams p;
  p.rows = rows;
  p.cols = cols;
  p.seed = 1;
  p.weights = std::nullopt;
  return atl::generate_grid(p);
}

// ---- an independent reference ----------------------------------------------------------------

/// Undirected adjacency of the owned vertices: sorted, self-loops and duplicates dropped.
std::vector<std::vector<Lid>> undirected(const Topology& g) {
  const Lid n = g.num_owned();
  std::vector<std::vector<Lid>> adj(n);
  for (Lid v = 0; v < n; ++v) {
    for (Lid u : g.out_neighbors(v)) {
      if (u != v && u < n) {
        adj[v].push_back(u);
        adj[u].push_back(v);
      }
    }
  }
  for (auto& list : adj) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  return adj;
}

bool adjacent(const std::vector<std::vector<Lid>>& adj, Lid a, Lid b) {
  return std::binary_search(adj[a].begin(), adj[a].end(), b);
}

/// Checks the colouring by brute force, independently of is_valid_coloring, and that it is a
/// first-fit colouring (so at most max |neighbourhood| + 1 colours).
void expect_valid(const Topology& g, const Coloring& c, Consistency consistency) {
  const Lid n = g.num_owned();
  ASSERT_EQ(c.color.size(), n);
  EXPECT_TRUE(atl::is_valid_coloring(g, c, consistency));
  if (n == 0) {
    EXPECT_EQ(c.num_colors, 0u);
    return;
  }
  std::uint32_t max_color = *std::max_element(c.color.begin(), c.color.end());
  EXPECT_EQ(c.num_colors, max_color + 1) << "num_colors is not tight";
  if (consistency == Consistency::kVertex) {
    EXPECT_EQ(c.num_colors, 1u);
    return;
  }
  const bool distance2 = consistency == Consistency::kFull;
  auto adj = undirected(g);
  std::vector<Lid> seen(n, kNone);  // seen[u] == v: u is in v's neighbourhood
  std::vector<Lid> below(max_color + std::size_t{1},
                         kNone);  // below[k] == v: colour k < color[v] is around
  std::size_t max_hood = 0;
  for (Lid v = 0; v < n; ++v) {
    std::size_t hood = 0;
    std::uint32_t distinct_below = 0;
    auto visit = [&](Lid u) {
      if (u == v || seen[u] == v) return;
      seen[u] = v;
      ++hood;
      std::uint32_t k = c.color[u];
      if (k < c.color[v] && below[k] != v) {
        below[k] = v;
        ++distinct_below;
      }
      EXPECT_NE(k, c.color[v]) << "vertices " << v << " and " << u << " clash";
    };
    for (Lid x : adj[v]) {
      visit(x);
      if (distance2) {
        for (Lid w : adj[x]) visit(w);
      }
    }
    max_hood = std::max(max_hood, hood);
    // Greedy (first-fit): v took the smallest colour its neighbourhood left free.
    ASSERT_EQ(distinct_below, c.color[v]) << "vertex " << v << " could use a smaller colour";
  }
  EXPECT_LE(c.num_colors, max_hood + 1);
}

void expect_valid_all(const Topology& g) {
  for (Consistency cons : {Consistency::kVertex, Consistency::kEdge, Consistency::kFull}) {
    SCOPED_TRACE(std::string(atl::consistency_name(cons)));
    expect_valid(g, atl::color_graph(g, cons), cons);
  }
}

// ---- validity --------------------------------------------------------------------------------

TEST(Coloring, GridSymmetrized) {
  Topology g = Topology::build(grid(17, 23), sym_dedup());
  expect_valid_all(g);
  // Bipartite with maximum degree 4: largest-degree-first greedy stays small.
  EXPECT_LE(atl::color_graph(g, Consistency::kEdge).num_colors, 5u);
  // Distance-2 on a grid: every vertex with its 4 neighbours needs 5 colours at least.
  Coloring full = atl::color_graph(g, Consistency::kFull);
  EXPECT_GE(full.num_colors, 5u);
}

TEST(Coloring, GridOneDirection) {
  // The generator lists each grid edge once (small id -> large id): no reverse edges.
  Topology g = Topology::build(grid(12, 9), plain());
  expect_valid_all(g);
  EXPECT_LE(atl::color_graph(g, Consistency::kEdge).num_colors, 5u);
}

TEST(Coloring, Kronecker) {
  for (int scale : {10, 12}) {
    SCOPED_TRACE(scale);
    expect_valid_all(Topology::build(kron(scale, 8, 3), sym_dedup()));
  }
  // Raw input: directed, with duplicates and self-loops.
  expect_valid_all(Topology::build(kron(10, 16, 5), plain()));
}

TEST(Coloring, Uniform) {
  expect_valid_all(Topology::build(uniform(3000, 12000, 7), plain()));
  expect_valid_all(Topology::build(uniform(500, 20000, 9), sym_dedup()));  // dense
}

TEST(Coloring, SelfLoopsAndDuplicates) {
  Topology g = graph_of({{0, 0}, {0, 1}, {0, 1}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 2}, {2, 1}});
  expect_valid_all(g);
  // A path 0-1-2: two colours at distance 1, three at distance 2; self-loops never conflict.
  EXPECT_EQ(atl::color_graph(g, Consistency::kEdge).num_colors, 2u);
  EXPECT_EQ(atl::color_graph(g, Consistency::kFull).num_colors, 3u);

  Topology loop_only = graph_of({{4, 4}, {4, 4}});
  ASSERT_EQ(loop_only.num_owned(), 1u);
  for (Consistency cons : {Consistency::kEdge, Consistency::kFull}) {
    Coloring c = atl::color_graph(loop_only, cons);
    EXPECT_EQ(c.color, std::vector<std::uint32_t>{0});
    EXPECT_EQ(c.num_colors, 1u);
  }
}

TEST(Coloring, OneDirectionStillConstrains) {
  // Only out-edges 0->1, 1->2, 3->2: each pair must still differ, and 0/2, 1/3 under full.
  Topology g = graph_of({{0, 1}, {1, 2}, {3, 2}});
  Coloring edge = atl::color_graph(g, Consistency::kEdge);
  expect_valid(g, edge, Consistency::kEdge);
  EXPECT_NE(edge.color[0], edge.color[1]);
  EXPECT_NE(edge.color[1], edge.color[2]);
  EXPECT_NE(edge.color[3], edge.color[2]);
  Coloring full = atl::color_graph(g, Consistency::kFull);
  expect_valid(g, full, Consistency::kFull);
  EXPECT_NE(full.color[0], full.color[2]);
  EXPECT_NE(full.color[1], full.color[3]);

  // The colouring sees the undirected view only: the same as for the symmetrized graph.
  EdgeList el = kron(10, 8, 2);
  Topology directed = Topology::build(el, plain());
  Topology symmetric = Topology::build(el, sym_dedup());
  ASSERT_EQ(directed.num_owned(), symmetric.num_owned());
  for (Consistency cons : {Consistency::kEdge, Consistency::kFull}) {
    Coloring a = atl::color_graph(directed, cons);
    Coloring b = atl::color_graph(symmetric, cons);
    EXPECT_EQ(a.color, b.color);
    EXPECT_EQ(a.num_colors, b.num_colors);
  }
}

TEST(Coloring, Star) {
  constexpr Gid kLeaves = 40;
  std::vector<std::pair<Gid, Gid>> pairs;
  for (Gid leaf = 1; leaf <= kLeaves; ++leaf) {
    pairs.emplace_back(leaf % 2 == 0 ? 0 : leaf, leaf % 2 == 0 ? leaf : 0);  // both directions
  }
  Topology g = graph_of(pairs);
  expect_valid_all(g);
  EXPECT_EQ(atl::color_graph(g, Consistency::kEdge).num_colors, 2u);
  // Under full the leaves are pairwise two hops apart: all distinct, and apart from the centre.
  Coloring full = atl::color_graph(g, Consistency::kFull);
  EXPECT_EQ(full.num_colors, kLeaves + 1);
  std::set<std::uint32_t> distinct(full.color.begin(), full.color.end());
  EXPECT_EQ(distinct.size(), kLeaves + 1);
  // Largest degree first: the centre (lid 0) gets colour 0.
  EXPECT_EQ(full.color[0], 0u);
}

TEST(Coloring, Clique) {
  for (Gid n : {2, 3, 7, 16}) {
    SCOPED_TRACE(n);
    std::vector<std::pair<Gid, Gid>> pairs;
    for (Gid a = 0; a < n; ++a) {
      for (Gid b = a + 1; b < n; ++b) pairs.emplace_back(a, b);
    }
    Topology g = graph_of(pairs);
    expect_valid_all(g);
    EXPECT_EQ(atl::color_graph(g, Consistency::kEdge).num_colors, n);
    EXPECT_EQ(atl::color_graph(g, Consistency::kFull).num_colors, n);
  }
}

TEST(Coloring, EmptyGraph) {
  Topology g = Topology::build(EdgeList{}, plain());
  ASSERT_EQ(g.num_owned(), 0u);
  for (Consistency cons : {Consistency::kVertex, Consistency::kEdge, Consistency::kFull}) {
    Coloring c = atl::color_graph(g, cons);
    EXPECT_TRUE(c.color.empty());
    EXPECT_EQ(c.num_colors, 0u);
    EXPECT_TRUE(atl::is_valid_coloring(g, c, cons));
  }
}

TEST(Coloring, SingleAndIsolatedVertices) {
  EdgeList single;
  single.declared = atl::VertexRange{7, 1};
  Topology g = Topology::build(single, plain());
  ASSERT_EQ(g.num_owned(), 1u);
  for (Consistency cons : {Consistency::kVertex, Consistency::kEdge, Consistency::kFull}) {
    Coloring c = atl::color_graph(g, cons);
    EXPECT_EQ(c.color, std::vector<std::uint32_t>{0});
    EXPECT_EQ(c.num_colors, 1u);
    EXPECT_TRUE(atl::is_valid_coloring(g, c, cons));
  }

  // Isolated vertices next to an edge: they all fit in colour 0.
  EdgeList some = edges_of({{2, 3}});
  some.declared = atl::VertexRange{1, 6};
  Topology h = Topology::build(some, plain());
  ASSERT_EQ(h.num_owned(), 6u);
  expect_valid_all(h);
  EXPECT_EQ(atl::color_graph(h, Consistency::kFull).num_colors, 2u);
}

TEST(Coloring, VertexConsistencyIsOneColour) {
  Topology g = Topology::build(kron(10, 8, 1), sym_dedup());
  Coloring c = atl::color_graph(g, Consistency::kVertex);
  EXPECT_EQ(c.num_colors, 1u);
  EXPECT_EQ(c.color, std::vector<std::uint32_t>(g.num_owned(), 0));
}

// ---- determinism -------------------------------------------------------------------------------

TEST(Coloring, SameResultForAnyThreadCount) {
  std::vector<Topology> graphs;
  graphs.push_back(Topology::build(kron(12, 8, 4), sym_dedup()));
  graphs.push_back(Topology::build(kron(10, 16, 6), plain()));
  graphs.push_back(Topology::build(uniform(4000, 30000, 3), plain()));
  graphs.push_back(Topology::build(grid(40, 40), sym_dedup()));
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    const Topology& g = graphs[i];
    for (Consistency cons : {Consistency::kEdge, Consistency::kFull}) {
      SCOPED_TRACE("graph " + std::to_string(i) + " " + std::string(atl::consistency_name(cons)));
      Coloring ref = with_threads(1, [&] { return atl::color_graph(g, cons); });
      expect_valid(g, ref, cons);
      for (int threads : {2, 4}) {
        for (int repeat = 0; repeat < 2; ++repeat) {
          Coloring c = with_threads(threads, [&] { return atl::color_graph(g, cons); });
          EXPECT_EQ(c.color, ref.color) << threads << " threads";
          EXPECT_EQ(c.num_colors, ref.num_colors) << threads << " threads";
        }
      }
    }
  }
}

// ---- the checker can fail ----------------------------------------------------------------------

TEST(Coloring, CheckerRejectsBrokenColourings) {
  Topology g = Topology::build(kron(10, 8, 8), sym_dedup());
  auto adj = undirected(g);

  // Edge: give a vertex its neighbour's colour.
  Coloring edge = atl::color_graph(g, Consistency::kEdge);
  ASSERT_TRUE(atl::is_valid_coloring(g, edge, Consistency::kEdge));
  Lid v = 0;
  while (adj[v].empty()) ++v;
  Coloring broken = edge;
  broken.color[v] = broken.color[*adj[v].begin()];
  EXPECT_FALSE(atl::is_valid_coloring(g, broken, Consistency::kEdge));
  EXPECT_FALSE(atl::is_valid_coloring(g, broken, Consistency::kFull));
  EXPECT_TRUE(atl::is_valid_coloring(g, broken, Consistency::kVertex));

  // Full: two vertices two hops apart (not adjacent) sharing a colour fail full, pass edge.
  Topology path = graph_of({{0, 1}, {1, 2}});
  Coloring two_hops{{0, 1, 0}, 2};
  EXPECT_TRUE(atl::is_valid_coloring(path, two_hops, Consistency::kEdge));
  EXPECT_FALSE(atl::is_valid_coloring(path, two_hops, Consistency::kFull));

  Coloring full = atl::color_graph(g, Consistency::kFull);
  ASSERT_TRUE(atl::is_valid_coloring(g, full, Consistency::kFull));
  bool found = false;
  for (Lid x = 0; x < g.num_owned() && !found; ++x) {
    for (Lid a : adj[x]) {
      for (Lid b : adj[x]) {
        if (a != b && !adjacent(adj, a, b)) {
          Coloring bad = full;
          bad.color[a] = bad.color[b];
          EXPECT_FALSE(atl::is_valid_coloring(g, bad, Consistency::kFull));
          found = true;
          break;
        }
      }
      if (found) break;
    }
  }
  EXPECT_TRUE(found);

  // Sizes and colour range.
  Coloring short_one = edge;
  short_one.color.pop_back();
  EXPECT_FALSE(atl::is_valid_coloring(g, short_one, Consistency::kVertex));
  Coloring out_of_range = edge;
  out_of_range.color[0] = out_of_range.num_colors;
  EXPECT_FALSE(atl::is_valid_coloring(g, out_of_range, Consistency::kVertex));
  Coloring no_colours = edge;
  no_colours.num_colors = 0;
  EXPECT_FALSE(atl::is_valid_coloring(g, no_colours, Consistency::kEdge));
}

}  // namespace
