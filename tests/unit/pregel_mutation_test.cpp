// Pregel topology mutation on one rank with no cluster (the path `atoll run` takes without
// --ranks): the partial order on a small graph worked out by hand from the documented rules,
// the final graph written by --out-graph, and the decoder of mutation batches from peers
// rejecting malformed bytes (truncated headers and records, unknown kinds, owner ranks out of
// range) while reading back what the encoder wrote. The multi-rank cases, against a serial
// simulation, are in tests/distributed/pregel_mutation_ranks_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/pregel_engine.hpp"
#include "atoll/engine/pregel_mutation_wire.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

/// Superstep 0 on 1 -> 2, 2 -> 3, 3 -> 1, 3 -> 4 (edge values 1): vertex 1 removes and re-adds
/// 1 -> 2 (value 5) and sends to absent vertex 10; 2 removes 3 and adds 20 (value 0x0201);
/// 4 sends to 3 (removed in the same superstep) and adds 20 (value 0x0102); every vertex
/// sends 1 along its out-edges. Superstep 1: value += 100 x messages + sum of out-edge values.
template <typename Self>
struct OrderBase {
  using VertexValue = std::uint64_t;
  using EdgeValue = std::uint64_t;
  using Message = std::uint64_t;

  void compute(PregelVertex<Self>& v, std::span<const std::uint64_t> messages) const {
    if (v.superstep() == 0) {
      for (auto e : v.out_edges()) e.send(1);
      if (v.gid() == 1) {
        v.remove_edge(1, 2);
        v.add_edge(1, 2, 5);
        v.send(10, 1);
      } else if (v.gid() == 2) {
        v.remove_vertex(3);
        v.add_vertex(20, 0x0201);
      } else if (v.gid() == 4) {
        v.send(3, 1);
        v.add_vertex(20, 0x0102);
      }
      v.value() = 0;
      return;
    }
    for (std::uint64_t m : messages) v.value() += 100 * m;
    for (auto e : v.out_edges()) v.value() += e.value();
    v.vote_to_halt();
  }
};

struct Order : OrderBase<Order> {};

/// The same, refusing vertices created by messages and taking the last added value in byte
/// order.
struct StrictOrder : OrderBase<StrictOrder> {
  std::uint64_t resolve_vertex_additions(Gid, std::span<const std::uint64_t> values) const {
    return values.back();
  }
  bool create_on_message(Gid, std::uint64_t&) const { return false; }
};

template <typename P>
std::map<Gid, std::uint64_t> run(const std::string& out_graph, PregelStats* stats) {
  EdgeList list;
  list.edges = {{1, 2}, {2, 3}, {3, 1}, {3, 4}};
  LocalGraph<std::uint64_t, std::uint64_t> graph(Topology::build(list));
  P program;
  EngineOptions o;
  o.engine = EngineKind::kPregel;
  o.threads = 2;
  o.out_graph = out_graph;
  PregelEngine<P> engine(graph, program, o);
  engine.init_edges([](EdgeId, std::uint64_t& v) { v = 1; });
  *stats = engine.run();
  std::map<Gid, std::uint64_t> values;
  for (Lid v = 0; v < graph.topology().num_owned(); ++v) {
    values[graph.topology().gid(v)] = graph.vertex_data()[v];
  }
  return values;
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(PregelMutation, PartialOrderAndDefaultsOnOneRank) {
  test::TempDir dir;
  PregelStats stats;
  const auto values = run<Order>(dir.file("g.el"), &stats);
  // 3 is gone with its edges (2 -> 3, 3 -> 1, 3 -> 4) and the two messages sent to it (by 2
  // and 4); what 3 sent before it left (to 1 and 4) arrives. 1 -> 2 was removed and added
  // (value 5); 10 was created by 1's message; 20 got the value with the lowest bytes (0x0201:
  // first byte 01 < 02).
  const std::map<Gid, std::uint64_t> expected = {
      {1, 105}, {2, 100}, {4, 100}, {10, 100}, {20, 0x0201}};
  EXPECT_EQ(values, expected);
  EXPECT_EQ(stats.mutations, 6u);  // 5 requests, 1 message to a vertex not held
  EXPECT_EQ(stats.dropped, 2u);
  EXPECT_EQ(lines(dir.file("g.el")),
            (std::vector<std::string>{"# Atoll Pregel final graph: 5 vertices, 1 edges",
                                      "# vertex 4", "# vertex 10", "# vertex 20", "1\t2"}));
}

TEST(PregelMutation, HandlersDecideConflicts) {
  test::TempDir dir;
  PregelStats stats;
  const auto values = run<StrictOrder>(dir.file("g.el"), &stats);
  // 10 refused (its message dropped too); 20 takes the last value in byte order.
  const std::map<Gid, std::uint64_t> expected = {{1, 105}, {2, 100}, {4, 100}, {20, 0x0102}};
  EXPECT_EQ(values, expected);
  EXPECT_EQ(stats.dropped, 3u);
}

TEST(PregelMutation, DecoderRejectsMalformedBatches) {
  using Batch = PregelMutationBatch<Order>;
  Batch b;
  b.remove_edges.push_back({1, 2});
  b.remove_vertices.push_back(3);
  b.add_vertices.push_back({4, 44});
  b.add_edges.push_back({5, 6, 1, 2, 66});
  b.messages.push_back({7, 77});
  const std::vector<std::byte> bytes = b.encode();
  Batch back;
  back.decode(bytes, 1, 3);
  EXPECT_EQ(back.remove_edges.size(), 1u);
  EXPECT_EQ(back.remove_vertices, std::vector<Gid>{3});
  ASSERT_EQ(back.add_edges.size(), 1u);
  EXPECT_EQ(back.add_edges[0].dst_owner, 2u);
  EXPECT_EQ(back.add_edges[0].value, 66u);
  ASSERT_EQ(back.messages.size(), 1u);
  EXPECT_EQ(back.messages[0].message, 77u);
  auto rejects = [](std::vector<std::byte> in, int ranks) {
    Batch x;
    try {
      x.decode(in, 2, ranks);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("rank 2 sent a malformed Pregel mutation batch"),
                std::string::npos)
          << e.what();
      return true;
    }
    return false;
  };
  EXPECT_TRUE(rejects({bytes.begin(), bytes.end() - 1}, 3));    // truncated record
  EXPECT_TRUE(rejects({bytes.begin(), bytes.begin() + 5}, 3));  // truncated header
  std::vector<std::byte> kind = bytes;
  kind[0] = std::byte{9};
  EXPECT_TRUE(rejects(kind, 3));
  std::vector<std::byte> count = bytes;
  count[4] = std::byte{0xff};
  EXPECT_TRUE(rejects(count, 3));
  EXPECT_TRUE(rejects(bytes, 2));  // owner rank 2 of 2 ranks
  EXPECT_FALSE(rejects({}, 3));
}

// Batches cut into rounds: every round within the budget (or one record when a record alone
// is larger), and the rounds decode to exactly the records of the whole batch, in order.
TEST(PregelMutation, BatchesCutIntoBoundedRoundsDecodeToTheWholeBatch) {
  using Batch = PregelMutationBatch<Order>;
  Batch b;
  for (Gid g = 0; g < 100; ++g) {
    b.remove_edges.push_back({g, g + 1});
    if (g % 3 == 0) b.remove_vertices.push_back(g);
    if (g % 4 == 0) b.add_vertices.push_back({g, g * 11});
    b.add_edges.push_back({g, g + 2, 0, 1, g * 7});
    if (g % 5 == 0) b.messages.push_back({g, g + 9});
  }
  const std::vector<std::byte> whole = b.encode();
  for (std::size_t budget :
       {std::size_t{1}, std::size_t{40}, std::size_t{100}, std::size_t{1000}, whole.size()}) {
    SCOPED_TRACE(budget);
    Batch back;
    Batch::Cursor c;
    std::size_t rounds = 0;
    while (!b.done(c)) {
      std::vector<std::byte> round;
      const std::size_t bytes = b.encode_some(c, budget, &round);
      EXPECT_EQ(bytes, round.size());
      EXPECT_LE(round.size(), std::max<std::size_t>(budget, 8 + 40));
      back.decode(round, 1, 2);
      ++rounds;
    }
    EXPECT_EQ(back.encode(), whole);
    if (budget < whole.size()) {
      EXPECT_GT(rounds, 1u);
    }
  }
}

}  // namespace
}  // namespace atl
