// Scope lock sets: on a graph split over three ranks (with a self-loop and a repeated edge),
// every owned vertex's locks under each consistency model, the remote groups expanded by
// their owners, match an independent computation from the edge list, one entry per vertex;
// oriented edge consistency locks the centre and the neighbours with a lower gid only.
#include "atoll/engine/scope_locks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

void expect_scopes_match(const EdgeList& all, bool symmetric, bool oriented) {
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
  // Replica lists, as the loader makes them: for each owned vertex, the ranks holding it as a
  // ghost and its lid there.
  for (int r = 0; r < kRanks; ++r) {
    std::vector<std::uint64_t> offsets{0};
    std::vector<Replica> replicas;
    for (Lid v = 0; v < parts[r].num_owned(); ++v) {
      for (int q = 0; q < kRanks; ++q) {
        const Lid there = q == r ? kInvalidLid : parts[q].lid(parts[r].gid(v));
        if (there != kInvalidLid) replicas.push_back({q, there});
      }
      offsets.push_back(replicas.size());
    }
    parts[r].set_replicas(std::move(offsets), std::move(replicas));
  }
  for (int r = 0; r < kRanks; ++r) {
    const Topology& t = parts[r];
    if (symmetric) {
      EXPECT_TRUE(t.symmetric()) << "rank " << r;
    }
    std::vector<LockItem> local;
    std::vector<RemoteGroup> remote;
    for (Lid v = 0; v < t.num_owned(); ++v) {
      const Gid centre = t.gid(v);
      std::set<Gid> neighbours;
      for (const Edge& e : all.edges) {
        if (e.src == centre) neighbours.insert(e.dst);
        if (e.dst == centre) neighbours.insert(e.src);
      }
      for (Consistency c : {Consistency::kVertex, Consistency::kEdge, Consistency::kFull}) {
        std::vector<ScopeLocks> sets;
        for (int q = 0; q < kRanks; ++q) sets.emplace_back(parts[q], q, c, oriented);
        // Reference: by (owner, gid), the centre written, neighbours by the model (oriented
        // edge consistency: only those below the centre).
        std::map<std::pair<int, Gid>, LockMode> expected;
        if (c != Consistency::kVertex) {
          for (Gid u : neighbours) {
            if (oriented && c == Consistency::kEdge && u > centre) continue;
            expected[{owner(u), u}] = c == Consistency::kFull ? LockMode::kWrite : LockMode::kRead;
          }
        }
        expected[{owner(centre), centre}] = LockMode::kWrite;
        sets[r].of(v, local, remote);
        EXPECT_EQ(sets[r].pushes_centre(), oriented && c == Consistency::kEdge);
        // The locks here in lid order; the groups in rank order, expanded by their owners.
        std::vector<LockItem> got = local;
        for (std::size_t i = 1; i < local.size(); ++i) EXPECT_LT(local[i - 1].lid, local[i].lid);
        for (std::size_t i = 1; i < remote.size(); ++i) {
          EXPECT_LT(remote[i - 1].owner, remote[i].owner);
        }
        for (const RemoteGroup& g : remote) {
          const std::span<const Lid> lids = sets[g.owner].group(r, g.key);
          EXPECT_FALSE(lids.empty()) << "a group with no locks";
          for (std::size_t i = 1; i < lids.size(); ++i) EXPECT_LT(lids[i - 1], lids[i]);
          for (Lid l : lids) got.push_back({g.owner, l, g.mode});
        }
        std::sort(got.begin(), got.end(), lock_order_less);
        ASSERT_EQ(got.size(), expected.size()) << "rank " << r << " gid " << centre;
        std::size_t i = 0;
        for (const auto& [key, mode] : expected) {
          const LockItem& l = got[i++];
          EXPECT_EQ(l.owner, key.first);
          EXPECT_EQ(l.lid, parts[key.first].lid(key.second));
          EXPECT_EQ(l.mode, mode);
        }
      }
    }
  }
}

TEST(ScopeLocks, MatchTheEdgeListOnEveryRank) {
  expect_scopes_match(example_edges(), false, false);
  expect_scopes_match(example_edges(), false, true);
}

// A symmetric part stores one adjacency list for in and out edges: the same scopes.
TEST(ScopeLocks, MatchTheEdgeListOnASymmetricGraph) {
  EdgeList all = example_edges();
  const std::size_t n = all.edges.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Edge e = all.edges[i];
    all.edges.push_back({e.dst, e.src});
  }
  expect_scopes_match(all, true, false);
  expect_scopes_match(all, true, true);
}

TEST(ScopeLocks, GroupKeysMustBeTheRequestersGhosts) {
  EdgeList all;
  all.edges = {{0, 1}, {2, 0}};
  GraphPart part;
  part.rank = 0;
  part.owner_of = [](Gid g) { return static_cast<int>(g); };  // 1 at rank 1, 2 at rank 2
  part.owned = {0};
  part.edges = all;
  const Topology t = Topology::build_part(part);
  const ScopeLocks scopes(t, 0, Consistency::kEdge, false);
  const Lid one = t.lid(1);
  EXPECT_EQ(std::vector<Lid>(scopes.group(1, one).begin(), scopes.group(1, one).end()),
            std::vector<Lid>{0});
  EXPECT_THROW(scopes.group(2, one), Error);  // rank 2 does not own gid 1
  EXPECT_THROW(scopes.group(1, 0), Error);    // an owned vertex, not a ghost
  EXPECT_THROW(scopes.group(1, 7), Error);    // no such lid
  EXPECT_THROW(scopes.group(-1, one), Error);
}

}  // namespace
