// Connected components' local phase (apps/src/local_components.hpp) and the cc app from both
// starts on every engine, against the serial union-find of reference_algorithms.hpp: graphs
// with many components, isolated vertices, long paths whose gids run against the lid order,
// edges in one direction only, and parts of a graph split over three ranks (no transport: each
// part is built as its rank would build it).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pregel_connected_components.hpp"
#include "atoll/graph/generators.hpp"
#include "components_inputs.hpp"
#include "local_components.hpp"
#include "modulo_parts.hpp"
#include "reference_algorithms.hpp"

namespace atl {
namespace {

using test::many_components;
using test::one_directional;
using test::paths;
using test::reference_components;
using test::reference_vertices;

struct Named {
  std::string name;
  EdgeList list;
};

std::vector<Named> graphs() {
  KroneckerParams k;
  k.scale = 11;
  k.edge_factor = 4;
  k.seed = 5;
  UniformParams u;  // sparse: hundreds of components
  u.vertices = 5000;
  u.edges = 2500;
  u.seed = 9;
  return {{"many", many_components(400, 40, 1)},
          {"many_large", many_components(30, 3000, 2)},
          {"paths", paths(700)},
          {"one_directional", one_directional(500)},
          {"kron11", generate_kronecker(k)},
          {"uniform_sparse", generate_uniform(u)}};
}

TEST(LocalComponents, OneRankLabelsAreTheComponentsSmallestGids) {
  for (const Named& g : graphs()) {
    const std::vector<Gid> expected = reference_components(g.list);
    ASSERT_GT(std::set<Gid>(expected.begin(), expected.end()).size(), 1u) << g.name;
    const Topology t = Topology::build(g.list);
    ASSERT_EQ(t.num_vertices(), expected.size()) << g.name;
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(g.name + " on " + std::to_string(threads) + " threads");
      std::vector<Gid> labels(t.num_vertices(), ~Gid{0});
      detail::label_local_components(t, threads, labels);
      EXPECT_EQ(labels, expected);
      EXPECT_TRUE(detail::boundary_flags(t, threads).empty());
    }
  }
}

TEST(LocalComponents, PartsAreLabelledByTheirOwnComponents) {
  for (const Named& g : graphs()) {
    const std::vector<Gid> global_ids = reference_vertices(g.list);
    const std::vector<Gid> global = reference_components(g.list);
    std::map<Gid, Gid> global_label;
    for (std::size_t i = 0; i < global_ids.size(); ++i) global_label[global_ids[i]] = global[i];
    for (int rank = 0; rank < 3; ++rank) {
      SCOPED_TRACE(g.name + " rank " + std::to_string(rank));
      const GraphPart part = test::modulo_part(g.list, rank, 3);
      const Topology t = Topology::build_part(part);
      // The reference: components of the part's own edges (isolated owned vertices alone).
      std::map<Gid, Gid> expected;
      for (Gid v : part.owned) expected[v] = v;
      const std::vector<Gid> ids = reference_vertices(part.edges);
      const std::vector<Gid> local = reference_components(part.edges);
      for (std::size_t i = 0; i < ids.size(); ++i) expected[ids[i]] = local[i];
      std::vector<Gid> labels(t.num_vertices());
      detail::label_local_components(t, 2, labels);
      ASSERT_EQ(t.num_vertices(), expected.size());
      for (Lid v = 0; v < t.num_vertices(); ++v) {
        ASSERT_EQ(labels[v], expected.at(t.gid(v))) << "gid " << t.gid(v);
        ASSERT_GE(labels[v], global_label.at(t.gid(v)));
      }
      // Boundary: an owned vertex with an edge to a vertex of another rank.
      std::vector<std::uint8_t> boundary = detail::boundary_flags(t, 2);
      std::vector<std::uint8_t> want(t.num_owned(), 0);
      for (const Edge& e : part.edges.edges) {
        const bool src_mine = part.owner_of(e.src) == rank, dst_mine = part.owner_of(e.dst) == rank;
        if (src_mine && !dst_mine) want[t.lid(e.src)] = 1;
        if (dst_mine && !src_mine) want[t.lid(e.dst)] = 1;
      }
      if (t.num_vertices() == t.num_owned()) want.clear();
      EXPECT_EQ(boundary, want);
    }
  }
}

TEST(Components, EveryEngineFromBothStartsGivesTheReference) {
  const EngineKind engines[] = {EngineKind::kChromatic, EngineKind::kLocking, EngineKind::kPregel};
  const ComponentsStart starts[] = {ComponentsStart::kLocalComponents, ComponentsStart::kOwnGid};
  for (const Named& g : graphs()) {
    const std::vector<Gid> expected = reference_components(g.list);
    for (EngineKind engine : engines) {
      for (ComponentsStart start : starts) {
        SCOPED_TRACE(g.name + " " + std::string(engine_name(engine)) +
                     (start == ComponentsStart::kOwnGid ? " from gids" : " from local components"));
        EngineOptions eo;
        eo.engine = engine;
        eo.threads = 2;
        VertexValues<std::uint64_t> r;
        if (engine == EngineKind::kPregel) {
          r = pregel_connected_components(Topology::build(g.list), eo, nullptr, start);
        } else {
          r = connected_components(Topology::build(g.list), eo, nullptr, start);
        }
        EXPECT_EQ(r.gids, reference_vertices(g.list));
        EXPECT_EQ(r.values, expected);
        if (start == ComponentsStart::kLocalComponents && engine != EngineKind::kPregel) {
          EXPECT_EQ(r.stats.updates, 0u) << "one rank: nothing left to propagate";
        }
      }
    }
  }
}

}  // namespace
}  // namespace atl
