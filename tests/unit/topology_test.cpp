// Tests of Topology::build against a serial reference (std::map) on random graphs with dense,
// gapped, sparse (1e18-scale) and declared ids; symmetrize/dedup semantics; the empty graph;
// determinism over thread counts; and compute_stats on a hand-made graph.
#include "atoll/graph/topology.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/graph_stats.hpp"
#include "test_util.hpp"

namespace {

using atl::BuildOptions;
using atl::Edge;
using atl::EdgeId;
using atl::EdgeList;
using atl::Gid;
using atl::GraphPart;
using atl::kInvalidLid;
using atl::Lid;
using atl::Topology;
using atl::VertexRange;
using atl::test::error_of;
using atl::test::with_threads;

// ---- a tiny random generator -----------------------------------------------------------------

enum class Ids {
  kDenseContiguous,  ///< every id in [base, base + n) occurs
  kDenseGaps,        ///< ids drawn from [base, base + 3n): gaps, but a small span
  kSparse,           ///< ids drawn from a pool of random 64-bit values (1e18 scale), 0, 2^64-1
  kDeclared,         ///< ids inside a declared range [first, first + count), some isolated
};

const char* ids_name(Ids ids) {
  switch (ids) {
    case Ids::kDenseContiguous:
      return "dense-contiguous";
    case Ids::kDenseGaps:
      return "dense-gaps";
    case Ids::kSparse:
      return "sparse";
    case Ids::kDeclared:
      return "declared";
  }
  return "?";
}

/// m edges over about n vertices, with self-loops and repeated pairs; weights are distinct
/// (i + 0.5) so each one names its input edge.
EdgeList random_graph(std::uint64_t seed, std::size_t n, std::size_t m, Ids ids, bool weighted) {
  std::mt19937_64 rng(seed);
  EdgeList g;
  std::vector<Gid> pool;
  Gid base = seed % 2 == 0 ? 0 : 1'000'000'007ull * 1'000'000ull;  // also a large dense base
  switch (ids) {
    case Ids::kDenseContiguous:
    case Ids::kDenseGaps:
      break;
    case Ids::kSparse:
      pool = {0, UINT64_MAX, UINT64_MAX - 1};
      while (pool.size() < n) pool.push_back(rng() % 4'000'000'000'000'000'000ull + 17);
      break;
    case Ids::kDeclared:
      base = 1000 + seed;
      g.declared = VertexRange{base, n + 5};  // a few always-isolated vertices at the end
      break;
  }
  auto pick = [&]() -> Gid {
    switch (ids) {
      case Ids::kDenseContiguous:
      case Ids::kDeclared:
        return base + rng() % n;
      case Ids::kDenseGaps:
        return base + rng() % (3 * n);
      case Ids::kSparse:
        return pool[rng() % pool.size()];
    }
    return 0;
  };
  for (std::size_t i = 0; i < m; ++i) {
    Edge e{pick(), pick()};
    std::uint64_t r = rng() % 16;
    if (r == 0) e.dst = e.src;                    // self-loop
    if (r == 1 && i > 0) e = g.edges[rng() % i];  // exact repeat
    if (r == 2 && i > 0) {                        // the reverse of an earlier edge
      const Edge& f = g.edges[rng() % i];
      e = {f.dst, f.src};
    }
    g.edges.push_back(e);
  }
  if (ids == Ids::kDenseContiguous) {
    for (std::size_t v = 0; v < n; ++v) g.edges.push_back({base + v, base + (v * 7 + 1) % n});
  }
  if (weighted) {
    g.weighted = true;
    for (std::size_t i = 0; i < g.edges.size(); ++i) g.weights.push_back(double(i) + 0.5);
  }
  return g;
}

// ---- the serial reference --------------------------------------------------------------------

/// One arc of the reference: neighbour gid, tie-breaking order (input i, or m + i for the
/// reverse of input edge i) and weight.
struct RefArc {
  Gid nbr;
  std::uint64_t order;
  double weight;
  bool operator<(const RefArc& o) const { return std::tie(nbr, order) < std::tie(o.nbr, o.order); }
};

struct RefGraph {
  std::vector<Gid> gids;                   ///< sorted vertex set
  std::map<Gid, std::vector<RefArc>> out;  ///< per source, sorted by (nbr, order)
  std::map<Gid, std::multiset<Gid>> in;    ///< per target, the sources
  std::size_t arcs = 0;
};

RefGraph reference(const EdgeList& g, const BuildOptions& opt) {
  RefGraph ref;
  std::set<Gid> vertices;
  if (g.declared) {
    for (Gid k = 0; k < g.declared->count; ++k) vertices.insert(g.declared->first + k);
  }
  const std::uint64_t m = g.edges.size();
  for (std::uint64_t i = 0; i < m; ++i) {
    const Edge& e = g.edges[i];
    double w = g.weighted ? g.weights[i] : 0.0;
    vertices.insert(e.src);
    vertices.insert(e.dst);
    ref.out[e.src].push_back({e.dst, i, w});
    if (opt.symmetrize && e.src != e.dst) ref.out[e.dst].push_back({e.src, m + i, w});
  }
  ref.gids.assign(vertices.begin(), vertices.end());
  for (auto& [src, arcs] : ref.out) {
    std::sort(arcs.begin(), arcs.end());
    if (opt.dedup) {
      std::vector<RefArc> kept;
      for (const RefArc& a : arcs) {
        if (a.nbr == src) continue;
        if (!kept.empty() && kept.back().nbr == a.nbr) continue;
        kept.push_back(a);
      }
      arcs = kept;
    }
    for (const RefArc& a : arcs) ref.in[a.nbr].insert(src);
    ref.arcs += arcs.size();
  }
  return ref;
}

/// Checks every structural property of t against the reference; stops at the first mismatch.
/// How lids are numbered: in gid order; by descending out-degree, ties by gid (by_degree);
/// relabelled some other way (a build by degree counted before dedup).
enum class Lids { kByGid, kByDegree, kRelabelled };

/// Checks every structural property of t against the reference; stops at the first mismatch.
void expect_matches(const Topology& t, const EdgeList& g, const BuildOptions& opt,
                    Lids lids = Lids::kByGid) {
  const bool by_gid = lids == Lids::kByGid;
  RefGraph ref = reference(g, opt);
  const Lid n = t.num_vertices();
  ASSERT_EQ(n, ref.gids.size());
  ASSERT_EQ(t.num_owned(), n);
  ASSERT_TRUE(t.ghost_ranges().empty());
  ASSERT_EQ(t.num_edges(), ref.arcs);
  ASSERT_EQ(t.weighted(), g.weighted);
  ASSERT_EQ(t.weights().size(), g.weighted ? ref.arcs : 0u);
  ASSERT_EQ(t.out_offsets().size(), n + 1u);
  ASSERT_EQ(t.in_offsets().size(), n + 1u);
  ASSERT_EQ(t.out_offsets().front(), 0u);
  ASSERT_EQ(t.out_offsets().back(), t.num_edges());
  ASSERT_EQ(t.in_offsets().back(), t.num_edges());
  ASSERT_EQ(t.in_edge_ids().size(), t.num_edges());

  // Ids: lids in gid order (or by degree), both maps inverse to each other.
  ASSERT_EQ(t.by_gid_order(), by_gid);
  std::vector<Gid> gids;
  for (Lid v = 0; v < n; ++v) {
    gids.push_back(t.gid(v));
    if (by_gid) {
      ASSERT_EQ(t.gid(v), ref.gids[v]) << "lid " << v;
    } else if (v > 0 && lids == Lids::kByDegree) {
      auto degree = [&](Gid x) {
        auto it = ref.out.find(x);
        return it == ref.out.end() ? std::size_t{0} : it->second.size();
      };
      const Gid a = t.gid(v - 1), b = t.gid(v);
      ASSERT_TRUE(degree(a) > degree(b) || (degree(a) == degree(b) && a < b)) << "lid " << v;
    }
    ASSERT_EQ(t.lid(t.gid(v)), v) << "lid " << v;
  }
  std::sort(gids.begin(), gids.end());
  ASSERT_EQ(gids, ref.gids);
  // Unknown gids: just outside the set and inside its gaps.
  std::vector<Gid> probes;
  if (!ref.gids.empty()) {
    if (ref.gids.front() > 0) {
      probes.push_back(ref.gids.front() - 1);
      probes.push_back(0);
    }
    if (ref.gids.back() < UINT64_MAX) {
      probes.push_back(ref.gids.back() + 1);
      probes.push_back(UINT64_MAX);
    }
    for (std::size_t k = 1; k < ref.gids.size(); ++k) {
      if (ref.gids[k] - ref.gids[k - 1] > 1) probes.push_back(ref.gids[k - 1] + 1);
      if (ref.gids[k] - ref.gids[k - 1] > 2) probes.push_back(ref.gids[k] - 1);
    }
  } else {
    probes = {0, 1, UINT64_MAX};
  }
  for (Gid p : probes) ASSERT_EQ(t.lid(p), kInvalidLid) << "gid " << p;

  // Out-adjacency: exactly the reference sequence (sorted by neighbour, ties in input order,
  // reverse arcs after the input's own), with each weight following its edge.
  // Relabelled: the same arcs sorted by the neighbour's new lid.
  for (Lid v = 0; v < n; ++v) {
    auto it = ref.out.find(t.gid(v));
    std::vector<RefArc> want = it == ref.out.end() ? std::vector<RefArc>{} : it->second;
    if (!by_gid) {  // by neighbour lid, repeats still in input order
      std::stable_sort(want.begin(), want.end(), [&t](const RefArc& a, const RefArc& b) {
        return t.lid(a.nbr) < t.lid(b.nbr);
      });
    }
    ASSERT_EQ(t.out_degree(v), want.size()) << "gid " << t.gid(v);
    ASSERT_EQ(t.out_end(v) - t.out_begin(v), want.size());
    auto nbrs = t.out_neighbors(v);
    for (std::size_t k = 0; k < want.size(); ++k) {
      ASSERT_EQ(t.gid(nbrs[k]), want[k].nbr) << "gid " << t.gid(v) << " arc " << k;
      if (k > 0) {
        ASSERT_LE(nbrs[k - 1], nbrs[k]);
      }
      if (g.weighted) {
        ASSERT_EQ(t.weights()[t.out_begin(v) + k], want[k].weight)
            << "gid " << t.gid(v) << " arc " << k;
      }
    }
  }

  // In-adjacency: the reference multiset of sources; each in-edge id names an out-edge of that
  // source reaching v; lists sorted by (source, edge id); every edge id appears exactly once.
  std::vector<int> seen(t.num_edges(), 0);
  for (Lid v = 0; v < n; ++v) {
    auto it = ref.in.find(t.gid(v));
    std::multiset<Gid> want = it == ref.in.end() ? std::multiset<Gid>{} : it->second;
    ASSERT_EQ(t.in_degree(v), want.size()) << "gid " << t.gid(v);
    auto srcs = t.in_neighbors(v);
    auto ids = t.in_edges(v);
    std::multiset<Gid> got;
    for (std::size_t k = 0; k < srcs.size(); ++k) {
      got.insert(t.gid(srcs[k]));
      EdgeId e = ids[k];
      ASSERT_LT(e, t.num_edges());
      ASSERT_EQ(t.out_targets()[e], v);
      ASSERT_GE(e, t.out_begin(srcs[k]));
      ASSERT_LT(e, t.out_end(srcs[k]));
      if (k > 0) {
        ASSERT_TRUE(std::tie(srcs[k - 1], ids[k - 1]) < std::tie(srcs[k], ids[k]))
            << "in-list of gid " << t.gid(v) << " not sorted at " << k;
      }
      ++seen[e];
    }
    ASSERT_EQ(got, want) << "gid " << t.gid(v);
  }
  for (EdgeId e = 0; e < t.num_edges(); ++e) ASSERT_EQ(seen[e], 1) << "edge " << e;
}

// ---- random graphs against the reference -----------------------------------------------------

TEST(TopologyTest, RandomGraphsMatchReference) {
  const BuildOptions options[] = {{false, false}, {true, false}, {false, true}, {true, true}};
  for (Ids ids : {Ids::kDenseContiguous, Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    for (std::uint64_t seed : {1, 2, 3}) {
      for (bool weighted : {false, true}) {
        std::size_t n = seed == 3 ? 5 : 300;  // seed 3: tiny n, many repeats
        EdgeList g = random_graph(seed, n, 2000, ids, weighted);
        for (const BuildOptions& opt : options) {
          SCOPED_TRACE(testing::Message()
                       << ids_name(ids) << " seed " << seed << " weighted " << weighted
                       << " symmetrize " << opt.symmetrize << " dedup " << opt.dedup);
          Topology t = Topology::build(g, opt);
          expect_matches(t, g, opt);
          if (testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(TopologyTest, LargerRandomGraphsMatchReference) {
  for (Ids ids : {Ids::kDenseGaps, Ids::kSparse}) {
    EdgeList g = random_graph(7, 20'000, 150'000, ids, true);
    for (BuildOptions opt : {BuildOptions{false, false}, BuildOptions{true, true}}) {
      SCOPED_TRACE(testing::Message() << ids_name(ids) << " symmetrize " << opt.symmetrize);
      Topology t = with_threads(4, [&] { return Topology::build(g, opt); });
      expect_matches(t, g, opt);
      if (testing::Test::HasFatalFailure()) return;
    }
  }
}

// ---- hand-made semantics ---------------------------------------------------------------------

EdgeList weighted_list(std::vector<Edge> edges, std::vector<double> weights) {
  EdgeList g;
  g.edges = std::move(edges);
  g.weights = std::move(weights);
  g.weighted = true;
  return g;
}

/// (neighbour gid, weight) pairs of gid's out-list.
std::vector<std::pair<Gid, double>> out_of(const Topology& t, Gid gid) {
  std::vector<std::pair<Gid, double>> out;
  Lid v = t.lid(gid);
  for (EdgeId e = t.out_begin(v); e < t.out_end(v); ++e) {
    out.push_back({t.gid(t.out_targets()[e]), t.weighted() ? t.weights()[e] : 0.0});
  }
  return out;
}
using Arcs = std::vector<std::pair<Gid, double>>;

TEST(TopologyTest, DuplicatesKeepInputOrderWithTheirWeights) {
  Topology t = Topology::build(weighted_list({{1, 2}, {1, 3}, {1, 2}, {1, 2}}, {10, 20, 30, 5}));
  EXPECT_EQ(out_of(t, 1), (Arcs{{2, 10}, {2, 30}, {2, 5}, {3, 20}}));
  EXPECT_EQ(t.in_degree(t.lid(2)), 3u);
}

TEST(TopologyTest, SymmetrizeDoesNotDoubleSelfLoops) {
  Topology t =
      Topology::build(weighted_list({{1, 2}, {3, 3}, {2, 1}}, {5, 7, 9}), {.symmetrize = true});
  EXPECT_EQ(t.num_edges(), 5u);
  EXPECT_EQ(out_of(t, 1), (Arcs{{2, 5}, {2, 9}}));  // own edge first, then the reverse
  EXPECT_EQ(out_of(t, 2), (Arcs{{1, 9}, {1, 5}}));
  EXPECT_EQ(out_of(t, 3), (Arcs{{3, 7}}));
  EXPECT_EQ(t.in_degree(t.lid(3)), 1u);
}

TEST(TopologyTest, DedupKeepsFirstWeightAndDropsSelfLoops) {
  Topology t = Topology::build(
      weighted_list({{1, 2}, {2, 2}, {1, 2}, {2, 1}, {1, 3}, {2, 1}}, {5, 1, 6, 9, 4, 8}),
      {.dedup = true});
  EXPECT_EQ(out_of(t, 1), (Arcs{{2, 5}, {3, 4}}));
  EXPECT_EQ(out_of(t, 2), (Arcs{{1, 9}}));
  EXPECT_EQ(t.num_vertices(), 3u);  // vertex set is taken before dropping
  atl::GraphStats s = atl::compute_stats(t);
  EXPECT_EQ(s.self_loops, 0u);
  EXPECT_EQ(s.duplicate_edges, 0u);
  // A vertex whose only edges are self-loops stays, isolated.
  Topology loop =
      Topology::build(weighted_list({{4, 4}, {4, 4}, {5, 6}}, {1, 2, 3}), {.dedup = true});
  EXPECT_EQ(loop.num_vertices(), 3u);
  EXPECT_EQ(loop.out_degree(loop.lid(4)), 0u);
  EXPECT_EQ(atl::compute_stats(loop).isolated_vertices, 1u);
}

TEST(TopologyTest, SymmetrizeAndDedupPreferTheInputDirection) {
  Topology t = Topology::build(weighted_list({{1, 2}, {2, 1}, {2, 3}}, {5, 7, 6}),
                               {.symmetrize = true, .dedup = true});
  EXPECT_EQ(out_of(t, 1), (Arcs{{2, 5}}));
  EXPECT_EQ(out_of(t, 2), (Arcs{{1, 7}, {3, 6}}));
  EXPECT_EQ(out_of(t, 3), (Arcs{{2, 6}}));
  EXPECT_EQ(t.num_edges(), 4u);
}

TEST(TopologyTest, EmptyGraph) {
  for (bool weighted : {false, true}) {
    EdgeList g;
    g.weighted = weighted;
    Topology t = Topology::build(g, {.symmetrize = true, .dedup = true});
    EXPECT_EQ(t.num_vertices(), 0u);
    EXPECT_EQ(t.num_owned(), 0u);
    EXPECT_EQ(t.num_edges(), 0u);
    EXPECT_EQ(t.weighted(), weighted);
    EXPECT_EQ(t.out_offsets().size(), 1u);
    EXPECT_EQ(t.in_offsets().size(), 1u);
    EXPECT_EQ(t.lid(0), kInvalidLid);
    EXPECT_EQ(t.lid(UINT64_MAX), kInvalidLid);
    atl::GraphStats s = atl::compute_stats(t);
    EXPECT_EQ(s.vertices, 0u);
    EXPECT_EQ(s.edges, 0u);
    EXPECT_EQ(s.out_degree.mean, 0.0);
    EXPECT_EQ(s.in_degree.max, 0u);
  }
  EdgeList declared;
  declared.declared = VertexRange{5, 3};
  Topology t = Topology::build(declared);
  ASSERT_EQ(t.num_vertices(), 3u);
  EXPECT_EQ(t.gid(0), 5u);
  EXPECT_EQ(t.gid(2), 7u);
  EXPECT_EQ(t.lid(6), 1u);
  EXPECT_EQ(t.lid(4), kInvalidLid);
  EXPECT_EQ(t.lid(8), kInvalidLid);
  EXPECT_EQ(atl::compute_stats(t).isolated_vertices, 3u);
}

TEST(TopologyTest, ExtremeIds) {
  EdgeList g;
  g.edges = {{UINT64_MAX, 0}, {0, UINT64_MAX}, {UINT64_MAX - 1, UINT64_MAX}};
  Topology t = Topology::build(g);
  ASSERT_EQ(t.num_vertices(), 3u);
  EXPECT_EQ(t.gid(0), 0u);
  EXPECT_EQ(t.gid(2), UINT64_MAX);
  EXPECT_EQ(t.lid(UINT64_MAX), 2u);
  EXPECT_EQ(t.lid(UINT64_MAX - 2), kInvalidLid);
  EXPECT_EQ(t.lid(1), kInvalidLid);
  // Contiguous ids at the very top of the range.
  EdgeList top;
  top.edges = {{UINT64_MAX, UINT64_MAX - 1}, {UINT64_MAX - 2, UINT64_MAX}};
  Topology u = Topology::build(top);
  EXPECT_EQ(u.lid(UINT64_MAX - 2), 0u);
  EXPECT_EQ(u.lid(UINT64_MAX), 2u);
  EXPECT_EQ(u.lid(UINT64_MAX - 3), kInvalidLid);
  EXPECT_EQ(u.lid(0), kInvalidLid);
}

TEST(TopologyTest, BuildErrors) {
  EdgeList g;
  g.edges = {{1, 2}, {2, 3}};
  g.weights = {1.0};
  g.weighted = true;
  EXPECT_EQ(error_of([&] { Topology::build(g); }), "edge list has 2 edges but 1 weights");
  EdgeList d;
  d.edges = {{1, 2}, {9, 1}, {0, 1}};
  d.declared = VertexRange{1, 5};
  EXPECT_EQ(error_of([&] { Topology::build(d); }),
            "edge 1 (9 -> 1) lies outside the declared vertex range 1..5");
}

// ---- determinism -----------------------------------------------------------------------------

struct Arrays {
  std::vector<Gid> gids;
  std::vector<EdgeId> out_offsets, in_offsets, in_edge_ids;
  std::vector<Lid> out_targets, in_sources;
  std::vector<double> weights;
  bool operator==(const Arrays&) const = default;
};

Arrays arrays_of(const Topology& t) {
  Arrays a;
  for (Lid v = 0; v < t.num_vertices(); ++v) a.gids.push_back(t.gid(v));
  a.out_offsets.assign(t.out_offsets().begin(), t.out_offsets().end());
  a.in_offsets.assign(t.in_offsets().begin(), t.in_offsets().end());
  a.in_edge_ids.assign(t.in_edge_ids().begin(), t.in_edge_ids().end());
  a.out_targets.assign(t.out_targets().begin(), t.out_targets().end());
  a.in_sources.assign(t.in_sources().begin(), t.in_sources().end());
  a.weights.assign(t.weights().begin(), t.weights().end());
  return a;
}

TEST(TopologyTest, SameArraysWithOneTwoAndFourThreads) {
  for (Ids ids : {Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    // Few vertices and many edges: long adjacency lists full of repeats, where the order of
    // atomic placement differs between runs unless the build sorts it away.
    EdgeList g = random_graph(11, 2000, 400'000, ids, true);
    for (BuildOptions opt :
         {BuildOptions{false, false}, BuildOptions{true, false}, BuildOptions{true, true}}) {
      Arrays one = with_threads(1, [&] { return arrays_of(Topology::build(g, opt)); });
      Arrays two = with_threads(2, [&] { return arrays_of(Topology::build(g, opt)); });
      Arrays four = with_threads(4, [&] { return arrays_of(Topology::build(g, opt)); });
      EXPECT_TRUE(one == two) << ids_name(ids) << " sym " << opt.symmetrize;
      EXPECT_TRUE(one == four) << ids_name(ids) << " sym " << opt.symmetrize;
      EXPECT_EQ(one.out_targets.size(), Topology::build(g, opt).num_edges());
    }
  }
}

TEST(TopologyTest, BuildFromMovedInputIsTheSameAndEmptiesIt) {
  for (Ids ids : {Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    for (bool weighted : {false, true}) {
      EdgeList g = random_graph(5, 500, 20'000, ids, weighted);
      for (BuildOptions opt :
           {BuildOptions{false, false}, BuildOptions{false, true}, BuildOptions{true, true}}) {
        SCOPED_TRACE(testing::Message()
                     << ids_name(ids) << " weighted " << weighted << " symmetrize "
                     << opt.symmetrize << " dedup " << opt.dedup);
        EdgeList copy = g;
        Topology moved = Topology::build(std::move(copy), opt);
        EXPECT_TRUE(arrays_of(moved) == arrays_of(Topology::build(g, opt)));
        EXPECT_EQ(moved.weighted(), weighted);
        EXPECT_TRUE(copy.edges.empty() && copy.weights.empty() && !copy.weighted);
      }
    }
  }
}

TEST(TopologyTest, BuildPartFromMovedPartIsTheSameAndEmptiesIt) {
  for (Ids ids : {Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    for (bool weighted : {false, true}) {
      const EdgeList g = random_graph(7, 500, 20'000, ids, weighted);
      auto owner = [](Gid v) { return static_cast<int>((v * 0x9e3779b97f4a7c15ull >> 40) % 3); };
      GraphPart part;
      part.rank = 1;
      part.owner_of = owner;
      part.edges.weighted = weighted;
      std::set<Gid> owned;
      for (std::size_t i = 0; i < g.size(); ++i) {
        const Edge& e = g.edges[i];
        if (owner(e.src) != 1 && owner(e.dst) != 1) continue;
        part.edges.edges.push_back(e);
        if (weighted) part.edges.weights.push_back(g.weights[i]);
        for (Gid v : {e.src, e.dst}) {
          if (owner(v) == 1) owned.insert(v);
        }
      }
      part.owned.assign(owned.begin(), owned.end());
      for (BuildOptions opt : {BuildOptions{false, false}, BuildOptions{true, true}}) {
        SCOPED_TRACE(testing::Message() << ids_name(ids) << " weighted " << weighted
                                        << " symmetrize " << opt.symmetrize);
        GraphPart copy = part;
        const Topology moved = Topology::build_part(std::move(copy), opt);
        const Topology kept = Topology::build_part(part, opt);
        EXPECT_TRUE(arrays_of(moved) == arrays_of(kept));
        EXPECT_EQ(moved.num_owned(), kept.num_owned());
        ASSERT_EQ(moved.ghost_ranges().size(), kept.ghost_ranges().size());
        for (std::size_t r = 0; r < kept.ghost_ranges().size(); ++r) {
          EXPECT_EQ(moved.ghost_ranges()[r].owner_rank, kept.ghost_ranges()[r].owner_rank);
          EXPECT_EQ(moved.ghost_ranges()[r].end, kept.ghost_ranges()[r].end);
        }
        EXPECT_TRUE(copy.edges.edges.empty() && copy.edges.weights.empty());
        if (ids == Ids::kSparse) continue;  // ids span more than 2^32
        // The same edges kept compact (32-bit offsets from the smallest id), read or consumed.
        GraphPart compact = part;
        compact.edges = EdgeList{};
        compact.compact.weighted = weighted;
        compact.compact.weights = part.edges.weights;
        compact.compact.base = ~Gid{0};
        for (const Edge& e : part.edges.edges) {
          compact.compact.base = std::min({compact.compact.base, e.src, e.dst});
        }
        for (const Edge& e : part.edges.edges) {
          compact.compact.src.push_back(static_cast<std::uint32_t>(e.src - compact.compact.base));
          compact.compact.dst.push_back(static_cast<std::uint32_t>(e.dst - compact.compact.base));
        }
        EXPECT_TRUE(arrays_of(Topology::build_part(compact, opt)) == arrays_of(kept));
        const Topology from_compact = Topology::build_part(std::move(compact), opt);
        EXPECT_TRUE(arrays_of(from_compact) == arrays_of(kept));
        EXPECT_EQ(from_compact.weighted(), weighted);
        EXPECT_EQ(from_compact.ghost_ranges().size(), kept.ghost_ranges().size());
        EXPECT_TRUE(compact.compact.size() == 0 && compact.compact.weights.empty());
      }
    }
  }
}

// ---- statistics ------------------------------------------------------------------------------

TEST(GraphStatsTest, HandMadeGraph) {
  EdgeList g;
  // Vertices 0..6 declared; 4, 5, 6 isolated. Self-loops: 1->1, 3->3, 3->3. Repeats: the
  // second 0->1 and the second 3->3.
  g.edges = {{0, 1}, {0, 1}, {1, 1}, {1, 2}, {2, 0}, {3, 3}, {3, 3}};
  g.declared = VertexRange{0, 7};
  atl::GraphStats s = atl::compute_stats(Topology::build(g));
  EXPECT_EQ(s.vertices, 7u);
  EXPECT_EQ(s.edges, 7u);
  EXPECT_EQ(s.self_loops, 3u);
  EXPECT_EQ(s.duplicate_edges, 2u);
  EXPECT_EQ(s.isolated_vertices, 3u);
  EXPECT_EQ(s.out_degree.min, 0u);
  EXPECT_EQ(s.out_degree.max, 2u);
  EXPECT_DOUBLE_EQ(s.out_degree.mean, 1.0);
  EXPECT_EQ(s.in_degree.min, 0u);
  EXPECT_EQ(s.in_degree.max, 3u);  // 1 <- 0, 0, 1
  EXPECT_DOUBLE_EQ(s.in_degree.mean, 1.0);
  EXPECT_FALSE(s.weighted);

  g.declared.reset();  // vertex set 0..3 from the edges
  s = atl::compute_stats(Topology::build(g));
  EXPECT_EQ(s.vertices, 4u);
  EXPECT_EQ(s.isolated_vertices, 0u);
  EXPECT_EQ(s.out_degree.min, 1u);
  EXPECT_EQ(s.in_degree.min, 1u);
  EXPECT_DOUBLE_EQ(s.out_degree.mean, 7.0 / 4);

  g.weighted = true;
  g.weights.assign(g.edges.size(), 1.0);
  s = atl::compute_stats(Topology::build(g, {.symmetrize = true}));
  EXPECT_TRUE(s.weighted);
  EXPECT_EQ(s.edges, 7u + 4u);  // 4 non-loop edges gain a reverse
  EXPECT_EQ(s.self_loops, 3u);
  EXPECT_EQ(s.duplicate_edges, 3u);  // 0->1, its reverse 1->0, and 3->3 each appear twice
}

}  // namespace

// ---- memory: borrowed edges, one CSR for a symmetric structure --------------------------------

TEST(TopologyTest, BuildFromAViewReleasingAsItGoesIsTheSame) {
  for (Ids ids : {Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    for (bool weighted : {false, true}) {
      EdgeList g = random_graph(6, 500, 20'000, ids, weighted);
      for (BuildOptions opt : {BuildOptions{false, false}, BuildOptions{true, true}}) {
        SCOPED_TRACE(testing::Message() << ids_name(ids) << " weighted " << weighted
                                        << " symmetrize " << opt.symmetrize);
        atl::EdgeView view(g);
        std::size_t released = 0;
        bool whole = false;
        view.release = [&](std::size_t begin, std::size_t end) {
          ASSERT_LE(begin, end);
          ASSERT_LE(end, g.size());
          released += end - begin;
          whole = whole || (begin == 0 && end == g.size());
        };
        Topology t = Topology::build(view, opt);
        expect_matches(t, g, opt);
        EXPECT_TRUE(arrays_of(t) == arrays_of(Topology::build(g, opt)));
        EXPECT_TRUE(whole);  // told when the edges are no longer needed
        EXPECT_GE(released, g.size());
      }
    }
  }
}

/// g with the reverse of every edge added as input edges (self-loops once): symmetric.
EdgeList with_reverses(const EdgeList& g) {
  EdgeList s = g;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Edge& e = g.edges[i];
    if (e.src == e.dst) continue;
    s.edges.push_back({e.dst, e.src});
    if (g.weighted) s.weights.push_back(g.weights[i]);
  }
  return s;
}

TEST(TopologyTest, SymmetricStructureIsStoredOnceWithTheSameInEdges) {
  for (Ids ids : {Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    for (bool weighted : {false, true}) {
      const EdgeList g = random_graph(8, 300, 3000, ids, weighted);
      const EdgeList sym = with_reverses(g);
      SCOPED_TRACE(testing::Message() << ids_name(ids) << " weighted " << weighted);
      // Detected (both directions in the input) and made (--symmetrize): one CSR.
      Topology detected = Topology::build(sym);
      EXPECT_TRUE(detected.symmetric());
      expect_matches(detected, sym, {});
      EXPECT_EQ(detected.in_sources().data(), detected.out_targets().data());
      EXPECT_EQ(detected.in_offsets().data(), detected.out_offsets().data());
      Topology made = Topology::build(g, {.symmetrize = true});
      EXPECT_TRUE(made.symmetric());
      expect_matches(made, g, {.symmetrize = true});
      Topology simple = Topology::build(g, {.symmetrize = true, .dedup = true});
      EXPECT_TRUE(simple.symmetric());
      expect_matches(simple, g, {.symmetrize = true, .dedup = true});
      if (testing::Test::HasFatalFailure()) return;
      // The aliased in-CSR has the in-neighbours and in-edge ids a separate one would have.
      Topology separate =
          Topology::without(detected, std::vector<std::uint8_t>(detected.num_vertices(), 0),
                            std::vector<std::uint8_t>(detected.num_edges(), 0));
      EXPECT_FALSE(separate.symmetric());
      EXPECT_TRUE(arrays_of(separate) == arrays_of(detected));
    }
  }
}

TEST(TopologyTest, SymmetryIsFoundExactlyOnAnyThreadCount) {
  // Large enough for several chunks of the parallel check; repeats make multiplicities count.
  const EdgeList g = random_graph(13, 3000, 60'000, Ids::kDenseGaps, false);
  EdgeList sym = with_reverses(g);
  for (std::size_t i = 0; i < 500; ++i) sym.edges.push_back(sym.edges[i * 97 % g.size()]);
  sym = with_reverses(sym);  // every arc and its reverse, with repeats, in shuffled order
  for (int threads : {1, 2, 4, 7}) {
    SCOPED_TRACE(testing::Message() << threads << " threads");
    EXPECT_TRUE(with_threads(threads, [&] { return Topology::build(sym).symmetric(); }));
    // One arc more or less anywhere (first, middle or last vertices) breaks the symmetry.
    for (std::size_t at : {std::size_t{0}, sym.size() / 2, sym.size() - 1}) {
      EdgeList extra = sym;
      const Edge e = extra.edges[at];
      if (e.src == e.dst) continue;
      extra.edges.push_back(e);
      EXPECT_FALSE(with_threads(threads, [&] { return Topology::build(extra).symmetric(); })) << at;
      EdgeList fewer = sym;
      fewer.edges.erase(fewer.edges.begin() + static_cast<std::ptrdiff_t>(at));
      EXPECT_FALSE(with_threads(threads, [&] { return Topology::build(fewer).symmetric(); })) << at;
    }
    // Swapping the targets of two arcs (a->b, c->d become a->d, c->b) keeps every in- and
    // out-degree but not the symmetry.
    EdgeList moved = sym;
    Edge& first = moved.edges.front();
    Edge& last = moved.edges.back();
    ASSERT_TRUE(first.src != last.src && first.dst != last.dst && first.src != last.dst &&
                last.src != first.dst);
    std::swap(first.dst, last.dst);
    EXPECT_FALSE(with_threads(threads, [&] { return Topology::build(moved).symmetric(); }));
  }
}

TEST(TopologyTest, AlmostSymmetricStructureKeepsTwoCsrs) {
  // Every arc has its reverse except that 1 -> 2 occurs twice and 2 -> 1 once.
  EdgeList g;
  g.edges = {{1, 2}, {2, 1}, {1, 2}, {2, 3}, {3, 2}, {3, 3}};
  Topology t = Topology::build(g);
  EXPECT_FALSE(t.symmetric());
  expect_matches(t, g, {});
  g.edges.push_back({2, 1});
  Topology fixed = Topology::build(g);
  EXPECT_TRUE(fixed.symmetric());
  expect_matches(fixed, g, {});
  // Same degrees everywhere but not symmetric: a directed triangle.
  EdgeList cycle;
  cycle.edges = {{1, 2}, {2, 3}, {3, 1}};
  Topology c = Topology::build(cycle);
  EXPECT_FALSE(c.symmetric());
  expect_matches(c, cycle, {});
}

/// The reference for symmetry: the sorted arcs equal the sorted reversed arcs.
bool arcs_symmetric(const EdgeList& g) {
  std::vector<std::pair<Gid, Gid>> arcs, reversed;
  for (const Edge& e : g.edges) {
    arcs.emplace_back(e.src, e.dst);
    reversed.emplace_back(e.dst, e.src);
  }
  std::sort(arcs.begin(), arcs.end());
  std::sort(reversed.begin(), reversed.end());
  return arcs == reversed;
}

TEST(TopologyTest, SymmetryVerdictMatchesTheSortedArcsOnManySmallGraphs) {
  // Small graphs with self-loops and repeated arcs: random ones, symmetric ones, and symmetric
  // ones with one arc dropped, one extra copy of an arc, one arc redirected or a copy of an arc
  // pair reversed one way only.
  std::mt19937_64 rng(16);
  int symmetric = 0, asymmetric = 0;
  auto check = [&](const EdgeList& g, const char* what) {
    const bool expected = arcs_symmetric(g);
    (expected ? symmetric : asymmetric)++;
    ASSERT_EQ(Topology::build(g).symmetric(), expected) << what << " with " << g.size() << " arcs";
  };
  for (int trial = 0; trial < 3000; ++trial) {
    const Gid n = 1 + rng() % 12;
    const std::size_t m = rng() % 40;
    EdgeList g;
    for (std::size_t i = 0; i < m; ++i) g.edges.push_back({rng() % n, rng() % n});
    check(g, "random");
    EdgeList sym = with_reverses(g);
    for (std::size_t i = 0; i < m / 4; ++i) {  // repeats of pairs, both ways
      const Edge e = sym.edges[rng() % sym.size()];
      sym.edges.push_back(e);
      sym.edges.push_back({e.dst, e.src});
    }
    std::shuffle(sym.edges.begin(), sym.edges.end(), rng);
    check(sym, "symmetric");
    if (sym.edges.empty()) continue;
    const std::size_t at = rng() % sym.size();
    EdgeList fewer = sym;
    fewer.edges.erase(fewer.edges.begin() + static_cast<std::ptrdiff_t>(at));
    check(fewer, "one arc dropped");
    EdgeList extra = sym;
    extra.edges.push_back(sym.edges[at]);
    check(extra, "one arc repeated");
    EdgeList moved = sym;
    moved.edges[at].dst = rng() % n;
    check(moved, "one arc redirected");
    EdgeList turned = sym;
    turned.edges[at] = {sym.edges[at].dst, sym.edges[at].src};
    check(turned, "one arc reversed");
    if (testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(symmetric, 4000);  // 5672 and 11988 with this seed
  EXPECT_GT(asymmetric, 9000);
}

TEST(TopologyTest, ByDegreeRelabelsEveryVertexAndKeepsEveryEdge) {
  const BuildOptions options[] = {{false, false}, {true, false}, {true, true}};
  for (Ids ids : {Ids::kDenseContiguous, Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    for (bool weighted : {false, true}) {
      const EdgeList g = random_graph(21, 300, 3000, ids, weighted);
      for (const BuildOptions& opt : options) {
        SCOPED_TRACE(testing::Message() << ids_name(ids) << " weighted " << weighted
                                        << " symmetrize " << opt.symmetrize);
        const Topology built = Topology::build(g, opt);
        std::vector<Lid> new_lid;
        Topology t =
            with_threads(3, [&] { return Topology::by_degree(Topology(built), &new_lid); });
        EXPECT_EQ(t.symmetric(), built.symmetric());
        expect_matches(t, g, opt, Lids::kByDegree);
        if (testing::Test::HasFatalFailure()) return;
        ASSERT_EQ(new_lid.size(), built.num_vertices());
        for (Lid v = 0; v < built.num_vertices(); ++v) ASSERT_EQ(t.gid(new_lid[v]), built.gid(v));
        // Deterministic, and a relabelled graph relabels again (already in degree order).
        Topology again = Topology::by_degree(Topology(built));
        EXPECT_TRUE(arrays_of(again) == arrays_of(t));
        Topology twice = Topology::by_degree(Topology(t));
        EXPECT_TRUE(arrays_of(twice) == arrays_of(t));
        expect_matches(twice, g, opt, Lids::kByDegree);
        // without() keeps the gid lookup of a relabelled graph.
        Topology same = Topology::without(t, std::vector<std::uint8_t>(t.num_vertices(), 0),
                                          std::vector<std::uint8_t>(t.num_edges(), 0));
        expect_matches(same, g, opt, Lids::kByDegree);
        if (testing::Test::HasFatalFailure()) return;
      }
    }
  }
  // A part with ghosts is refused.
  GraphPart part;
  part.edges.edges = {{0, 1}, {1, 2}};
  part.owned = {0, 1};
  part.owner_of = [](Gid) { return 1; };
  EXPECT_NE(error_of([&] { Topology::by_degree(Topology::build_part(part)); }).find("ghosts"),
            std::string::npos);
}

// BuildOptions::degree_order numbers the vertices while the arcs are placed: without dedup
// the counted degrees are the final ones, so it is exactly by_degree of the plain build; with
// dedup it orders by the degrees before the repeats went, and still keeps every edge.
TEST(TopologyTest, DegreeOrderInTheBuildIsByDegreesGraph) {
  for (Ids ids : {Ids::kDenseContiguous, Ids::kDenseGaps, Ids::kSparse, Ids::kDeclared}) {
    for (bool weighted : {false, true}) {
      const EdgeList g = random_graph(23, 300, 3000, ids, weighted);
      for (BuildOptions opt : {BuildOptions{false, false}, BuildOptions{true, false},
                               BuildOptions{true, true}, BuildOptions{false, true}}) {
        SCOPED_TRACE(testing::Message()
                     << ids_name(ids) << " weighted " << weighted << " symmetrize "
                     << opt.symmetrize << " dedup " << opt.dedup);
        BuildOptions ordered = opt;
        ordered.degree_order = true;
        const Arrays one = with_threads(1, [&] { return arrays_of(Topology::build(g, ordered)); });
        for (int threads : {2, 4}) {
          EXPECT_TRUE(one == with_threads(threads, [&] {
                        return arrays_of(Topology::build(EdgeList(g), ordered));
                      }));
        }
        const Topology t = Topology::build(g, ordered);
        EXPECT_FALSE(t.by_gid_order());
        expect_matches(t, g, opt, opt.dedup ? Lids::kRelabelled : Lids::kByDegree);
        if (!opt.dedup) {
          EXPECT_TRUE(one == arrays_of(Topology::by_degree(Topology::build(g, opt))));
        }
        if (testing::Test::HasFatalFailure()) return;
      }
    }
  }
  GraphPart part;
  part.edges.edges = {{0, 1}, {1, 2}};
  part.owned = {0, 1, 2};
  part.owner_of = [](Gid) { return 0; };
  BuildOptions ordered;
  ordered.degree_order = true;
  EXPECT_NE(error_of([&] { Topology::build_part(part, ordered); }).find("whole graph"),
            std::string::npos);
}

TEST(TopologyTest, InEdgeIdsAreMadeOnlyWhenAskedFor) {
  EdgeList g = random_graph(9, 200, 4000, Ids::kDenseGaps, false);
  Topology t = Topology::build(g);
  const std::size_t before = t.memory_bytes();
  auto ids = t.in_edge_ids();
  EXPECT_EQ(ids.size(), t.num_edges());
  EXPECT_EQ(t.memory_bytes(), before + t.num_edges() * sizeof(EdgeId));
  Topology copy = t;  // a copy keeps them
  EXPECT_TRUE(arrays_of(copy) == arrays_of(t));
}
