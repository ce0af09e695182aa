// Scope lock sets: on a graph split over three ranks (with a self-loop and a repeated edge),
// every owned vertex's locks under each consistency model match an independent computation
// from the edge list, in the global order (owner rank, gid), one entry per vertex.
#include "atoll/engine/scope_locks.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "atoll/common/error.hpp"

namespace {

using namespace atl;

constexpr int kRanks = 3;
int owner(Gid g) {
  return static_cast<int>(g % kRanks);
}

EdgeList example_edges() {
  EdgeList all;
  all.edges = {{0, 1}, {1, 2}, {2, 0}, {3, 4}, {4, 5}, {5, 6}, {6, 0}, {0, 4},
               {7, 7}, {7, 1}, {1, 7}, {2, 5}, {2, 5}, {8, 3}, {3, 6}, {9, 9}};
  return all;
}

void expect_scopes_match(const EdgeList& all, bool symmetric) {
  std::set<Gid> vertices;
  for (const Edge& e : all.edges) vertices.insert({e.src, e.dst});
  std::vector<Topology> parts;
  for (int r = 0; r < kRanks; ++r) {
    GraphPart part;
    part.rank = r;
    part.owner_of = owner;
    for (Gid g : vertices) {
      if (owner(g) == r) part.owned.push_back(g);
    }
    for (const Edge& e : all.edges) {
      if (owner(e.src) == r || owner(e.dst) == r) part.edges.edges.push_back(e);
    }
    parts.push_back(Topology::build_part(part));
  }
  for (int r = 0; r < kRanks; ++r) {
    const Topology& t = parts[r];
    std::vector<Lid> ghost_owner_lid;
    for (Lid g = t.num_owned(); g < t.num_vertices(); ++g) {
      ghost_owner_lid.push_back(parts[owner(t.gid(g))].lid(t.gid(g)));
    }
    VertexVersions versions(t.num_vertices());
    for (Lid g = t.num_owned(); g < t.num_vertices(); ++g) {
      for (Lid i = 0; i < g; ++i) versions.bump(g);  // ghost g's cached version is g
    }
    if (symmetric) {
      EXPECT_TRUE(t.symmetric()) << "rank " << r;
    }
    const LockAddresses where(t, r, ghost_owner_lid);
    std::vector<LockItem> got;
    for (Lid v = 0; v < t.num_owned(); ++v) {
      const Gid centre = t.gid(v);
      std::set<Gid> neighbours;
      for (const Edge& e : all.edges) {
        if (e.src == centre) neighbours.insert(e.dst);
        if (e.dst == centre) neighbours.insert(e.src);
      }
      for (Consistency c : {Consistency::kVertex, Consistency::kEdge, Consistency::kFull}) {
        // Reference: by (owner, gid), the centre written, neighbours by the model.
        std::map<std::pair<int, Gid>, LockMode> expected;
        if (c != Consistency::kVertex) {
          for (Gid u : neighbours) {
            expected[{owner(u), u}] = c == Consistency::kFull ? LockMode::kWrite : LockMode::kRead;
          }
        }
        expected[{owner(centre), centre}] = LockMode::kWrite;
        scope_locks(t, v, c, where, &versions, got);
        ASSERT_EQ(got.size(), expected.size()) << "rank " << r << " gid " << centre;
        std::size_t i = 0;
        for (const auto& [key, mode] : expected) {
          const LockItem& l = got[i++];
          EXPECT_EQ(l.owner, key.first);
          EXPECT_EQ(l.lid, parts[key.first].lid(key.second));
          EXPECT_EQ(l.mode, mode);
          const Lid local = t.lid(key.second);
          EXPECT_EQ(l.cached_version, local >= t.num_owned() ? local : 0u);
        }
      }
    }
  }
}

TEST(ScopeLocks, MatchTheEdgeListOnEveryRank) {
  expect_scopes_match(example_edges(), false);
}

// A symmetric part stores one adjacency list for in and out edges: the same scopes.
TEST(ScopeLocks, MatchTheEdgeListOnASymmetricGraph) {
  EdgeList all = example_edges();
  const std::size_t n = all.edges.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Edge e = all.edges[i];
    all.edges.push_back({e.dst, e.src});
  }
  expect_scopes_match(all, true);
}

TEST(ScopeLocks, AddressesNeedOneOwnerLidPerGhost) {
  EdgeList all;
  all.edges = {{0, 1}};
  GraphPart part;
  part.rank = 0;
  part.owner_of = [](Gid) { return 1; };
  part.owned = {0};
  part.edges = all;
  const Topology t = Topology::build_part(part);
  EXPECT_THROW(LockAddresses(t, 0, {}), Error);
  EXPECT_EQ(LockAddresses(t, 0, {5}).lock_of(1, LockMode::kRead).lid, 5u);
  EXPECT_EQ(LockAddresses(t, 0, {5}).lock_of(1, LockMode::kRead).owner, 1);
}

}  // namespace
