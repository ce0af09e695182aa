// Pregel mode on one rank: the lecture's maximum-value program against reachability, halting
// and waking by messages, aggregators (reset and persistent) and the master hook stopping at
// the right superstep, and the Pregel apps against their independent serial references and
// the chromatic engine's answers, with and without combiners, for 1 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pagerank.hpp"
#include "atoll/apps/pregel_connected_components.hpp"
#include "atoll/apps/pregel_kcore.hpp"
#include "atoll/apps/pregel_pagerank.hpp"
#include "atoll/apps/pregel_sssp.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/engine/pregel_engine.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/read_graph.hpp"
#include "reference_algorithms.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

EdgeList kronecker(int scale, std::uint64_t seed) {
  return generate_kronecker({.scale = scale, .edge_factor = 8, .seed = seed, .weights = {{1, 20}}});
}

EdgeList uniform(std::uint64_t n, std::uint64_t m, std::uint64_t seed) {
  return generate_uniform({.vertices = n, .edges = m, .seed = seed, .weights = {{1, 9}}});
}

EngineOptions pregel(int threads, bool combine = true) {
  EngineOptions o;
  o.engine = EngineKind::kPregel;
  o.threads = threads;
  o.combine = combine;
  return o;
}

/// The lecture's example: every vertex ends with the largest value among the vertices that
/// reach it (itself included); values start as a hash of the gid.
struct MaxValue {
  using VertexValue = std::uint64_t;
  using EdgeValue = EmptyData;
  using Message = std::uint64_t;

  static std::uint64_t start(Gid g) { return (g * 0x9e3779b97f4a7c15ull) >> 40; }

  void compute(PregelVertex<MaxValue>& vertex, std::span<const std::uint64_t> messages) const {
    std::uint64_t& value = vertex.value();
    bool changed = vertex.superstep() == 0;
    if (changed) value = start(vertex.gid());
    for (std::uint64_t m : messages) {
      if (m > value) {
        value = m;
        changed = true;
      }
    }
    if (changed) vertex.send_to_neighbors(value);
    vertex.vote_to_halt();
  }
};

std::map<Gid, std::uint64_t> max_value_reference(const EdgeList& list) {
  std::map<Gid, std::vector<Gid>> out;
  std::set<Gid> all;
  for (const Edge& e : list.edges) {
    out[e.src].push_back(e.dst);
    all.insert(e.src);
    all.insert(e.dst);
  }
  std::map<Gid, std::uint64_t> best;
  for (Gid g : all) best[g] = MaxValue::start(g);
  bool moved = true;
  while (moved) {  // relax to the fixpoint
    moved = false;
    for (const auto& [u, targets] : out) {
      for (Gid v : targets) {
        if (best[u] > best[v]) {
          best[v] = best[u];
          moved = true;
        }
      }
    }
  }
  return best;
}

template <typename Program>
std::map<Gid, typename Program::VertexValue> run_program(const EdgeList& list, Program& program,
                                                         const EngineOptions& options,
                                                         PregelStats* stats = nullptr) {
  using Value = typename Program::VertexValue;
  LocalGraph<Value, typename Program::EdgeValue> local(Topology::build(list));
  PregelEngine<Program> engine(local, program, options);
  PregelStats s = engine.run();
  if (stats != nullptr) *stats = s;
  std::map<Gid, Value> values;
  for (Lid v = 0; v < local.topology().num_owned(); ++v) {
    values[local.topology().gid(v)] = local.vertex_data()[v];
  }
  return values;
}

TEST(Pregel, MaximumValueReachesEveryVertexDownstream) {
  EdgeList list = kronecker(8, 7);
  std::map<Gid, std::uint64_t> expected = max_value_reference(list);
  for (int threads : {1, 3}) {
    MaxValue program;
    PregelStats stats;
    auto values = run_program(list, program, pregel(threads), &stats);
    EXPECT_EQ(values, expected);
    EXPECT_GT(stats.supersteps, 2u);
    EXPECT_EQ(stats.log.front().active, expected.size());  // superstep 0: all active
    EXPECT_LT(stats.log.back().active, expected.size());   // later: only the woken ones
    EXPECT_EQ(stats.log.back().messages_sent, 0u);
  }
}

/// Wakes by message: vertex 0 passes a token along the path 0 -> 1 -> ... -> 9, each vertex
/// counting the supersteps it ran; everyone else halts at once.
struct Token {
  using VertexValue = std::uint64_t;
  using EdgeValue = EmptyData;
  using Message = std::uint32_t;
  void compute(PregelVertex<Token>& vertex, std::span<const std::uint32_t> messages) const {
    if (vertex.superstep() == 0) vertex.value() = 0;
    ++vertex.value();
    if ((vertex.superstep() == 0 && vertex.gid() == 0) || !messages.empty()) {
      vertex.send_to_neighbors(1);
    }
    vertex.vote_to_halt();
  }
};

TEST(Pregel, HaltedVerticesWakeOnMessagesAndTheRunEndsWhenNoneIsInFlight) {
  EdgeList path;
  for (Gid g = 0; g < 9; ++g) path.edges.push_back({g, g + 1});
  Token program;
  PregelStats stats;
  auto values = run_program(path, program, pregel(2), &stats);
  EXPECT_EQ(stats.supersteps, 10u);  // 9 hops, then vertex 9 runs and sends nothing
  EXPECT_EQ(values[0], 1u);
  for (Gid g = 1; g < 10; ++g) EXPECT_EQ(values[g], 2u) << g;  // superstep 0, then woken once
  for (std::size_t s = 1; s < stats.log.size(); ++s) EXPECT_EQ(stats.log[s].active, 1u);
  EngineOptions limited = pregel(2);
  limited.max_iterations = 4;
  values = run_program(path, program, limited, &stats);
  EXPECT_EQ(stats.supersteps, 4u);
  EXPECT_EQ(values[3], 2u);
  EXPECT_EQ(values[4], 1u);  // would have woken in superstep 4
}

/// Broadcasts in every form the engine takes them: from every vertex (the gather that reads
/// no flags), from two thirds (the gather that checks them), twice from one vertex in a
/// superstep (both count), and from a few (pushed edge by edge). Each vertex sums what it
/// received; the combiner must give what delivering every message gives.
struct CastSums {
  using VertexValue = std::uint64_t;
  using EdgeValue = EmptyData;
  using Message = std::uint64_t;
  std::uint64_t combine(std::uint64_t a, std::uint64_t b) const { return a + b; }
  void compute(PregelVertex<CastSums>& vertex, std::span<const std::uint64_t> messages) const {
    const std::uint64_t s = vertex.superstep();
    const Gid g = vertex.gid();
    if (s == 0) vertex.value() = 0;
    for (std::uint64_t m : messages) vertex.value() += m;
    if (s < 4) {
      if (s % 2 == 1 || g % 3 != 0) vertex.send_to_neighbors(g + s);
      if (g % 5 == 0) vertex.send_to_neighbors(1000 * g);
    } else if (s == 4 && g % 50 == 0) {
      vertex.send_to_neighbors(g);
    } else if (s > 4) {
      vertex.vote_to_halt();
    }
  }
};

TEST(Pregel, BroadcastsCombineAsIfDeliveredOneByOne) {
  EdgeList list = kronecker(9, 3);
  CastSums program;
  std::map<Gid, std::uint64_t> expected = run_program(list, program, pregel(1, false));
  for (int threads : {1, 3}) {
    EXPECT_EQ(run_program(list, program, pregel(threads)), expected) << threads << " threads";
  }
}

/// Each vertex's value halves every superstep; a reset aggregator sums them, a persistent one
/// counts computes; the master stops once the sum falls below a threshold. Vertices check
/// what they read against the closed forms and count mismatches.
struct Halving {
  using VertexValue = double;
  using EdgeValue = EmptyData;
  using Message = std::uint32_t;
  double threshold;
  double n;
  PregelAggregator<double> sum = {};
  PregelAggregator<std::uint64_t> computes = {};
  PregelAggregator<std::uint64_t> wrong = {};
  void compute(PregelVertex<Halving>& vertex, std::span<const std::uint32_t>) const {
    const std::uint64_t s = vertex.superstep();
    if (s == 0) {
      vertex.value() = 1;
    } else {
      vertex.value() /= 2;
      const bool sum_ok = vertex.aggregated(sum) == n / std::ldexp(1.0, static_cast<int>(s - 1));
      const bool count_ok = vertex.aggregated(computes) == static_cast<std::uint64_t>(n) * s;
      if (!sum_ok || !count_ok) vertex.aggregate(wrong, std::uint64_t{1});
    }
    vertex.aggregate(sum, vertex.value());
    vertex.aggregate(computes, std::uint64_t{1});
  }
  void master(PregelMaster& m) const {
    if (m.aggregated(sum) < threshold) m.stop();
  }
};

TEST(Pregel, MasterStopsWhenAnAggregateFallsBelowAThreshold) {
  EdgeList list = uniform(1000, 3000, 2);
  const double n = static_cast<double>(Topology::build(list).num_owned());
  for (int threads : {1, 3}) {
    Halving program{n / 100, n};
    LocalGraph<double, EmptyData> local(Topology::build(list));
    PregelEngine<Halving> engine(local, program, pregel(threads));
    program.sum = engine.add_aggregator("sum", 0.0, AggregateOp::kSum);
    program.computes = engine.add_aggregator("computes", std::uint64_t{0}, AggregateOp::kSum,
                                             Persistence::kPersistent);
    program.wrong = engine.add_aggregator("wrong", std::uint64_t{0}, AggregateOp::kSum,
                                          Persistence::kPersistent);
    PregelStats stats = engine.run();
    // sum after superstep s is n / 2^s: first below n / 100 at s = 7.
    EXPECT_EQ(stats.supersteps, 8u);
    EXPECT_TRUE(stats.stopped_by_master);
    EXPECT_EQ(engine.aggregated(program.wrong), 0u);
    EXPECT_EQ(engine.aggregated(program.computes), static_cast<std::uint64_t>(n) * 8);
  }
}

TEST(Pregel, AppsMatchTheReferencesAndTheChromaticEngine) {
  struct Case {
    std::string name;
    EdgeList edges;
    BuildOptions build;
  };
  std::vector<Case> cases = {{"kron9", kronecker(9, 3), {}},
                             {"kron9_sym", kronecker(9, 4), {true, true}},
                             {"uniform", uniform(400, 900, 5), {}}};
  for (const Case& c : cases) {
    const EdgeList built = to_edge_list(Topology::build(c.edges, c.build));
    const Gid source = built.edges.front().src;
    const std::vector<Gid> cc_expected = test::reference_components(built);
    const std::vector<double> sssp_expected = test::reference_sssp(built, source);
    const std::vector<double> pr_expected = test::reference_pagerank(built, 0.85, 1e-13);
    PageRankOptions pr;
    pr.tolerance = 1e-12;
    EngineOptions chromatic;
    chromatic.threads = 2;
    const auto pr_chromatic = pagerank(Topology::build(c.edges, c.build), pr, chromatic);
    for (int threads : {1, 3}) {
      for (bool combine : {true, false}) {
        SCOPED_TRACE(c.name + " threads " + std::to_string(threads) +
                     (combine ? " combined" : " uncombined"));
        auto cc = pregel_connected_components(Topology::build(c.edges, c.build),
                                              pregel(threads, combine));
        EXPECT_EQ(cc.gids, test::reference_vertices(built));
        EXPECT_EQ(cc.values, cc_expected);
        auto d = pregel_sssp(Topology::build(c.edges, c.build), source, pregel(threads, combine));
        EXPECT_EQ(d.values, sssp_expected);
        auto r = pregel_pagerank(Topology::build(c.edges, c.build), pr, pregel(threads, combine));
        double to_reference = 0, to_chromatic = 0;
        for (std::size_t i = 0; i < r.values.size(); ++i) {
          to_reference += std::abs(r.values[i] - pr_expected[i]);
          to_chromatic += std::abs(r.values[i] - pr_chromatic.values[i]);
        }
        EXPECT_LT(to_reference, 1e-10);
        EXPECT_LT(to_chromatic, 1e-10);
        // The same iterations as the chromatic engine's sweeps: one superstep more (the first).
        EXPECT_EQ(r.pregel.supersteps, pr_chromatic.stats.iterations + 1);
        EXPECT_LT(r.final_change, 1e-12);
        // Combining: at most one message per destination vertex and superstep.
        const auto& step = r.pregel.log[1];
        if (combine) {
          EXPECT_LE(step.messages_combined, cc.gids.size());
          EXPECT_LT(step.messages_combined, step.messages_sent);
        } else {
          EXPECT_EQ(step.messages_combined, step.messages_sent);
        }
      }
    }
  }
}

TEST(Pregel, KcoreMatchesSerialPeeling) {
  EdgeList list = kronecker(10, 9);
  list.edges.push_back({5000, 5000});  // an isolated vertex with a self-loop: coreness 0
  list.edges.push_back({3, 3});
  list.weighted = false;
  list.weights.clear();
  std::map<Gid, std::uint64_t> expected = test::reference_coreness(list);
  std::uint64_t deepest = 0;
  for (const auto& [v, k] : expected) deepest = std::max(deepest, k);
  EXPECT_GT(deepest, 5u);
  for (int threads : {1, 3}) {
    for (bool combine : {true, false}) {
      auto r = pregel_kcore(Topology::build(list), pregel(threads, combine));
      std::map<Gid, std::uint64_t> got;
      for (std::size_t i = 0; i < r.gids.size(); ++i) got[r.gids[i]] = r.values[i];
      EXPECT_EQ(got, expected) << threads << " threads";
    }
  }
}

/// `atoll run APP --engine pregel`: the same --out as the chromatic engine; kcore's --out equals
/// the serial peeling; an app without a Pregel form (naming the apps that have one) and an unknown
/// engine are usage errors.
TEST(PregelCli, RunsThroughTheAppRegistry) {
  test::TempDir dir;
  const std::string atoll = ATOLL_BINARY;
  const std::string g = dir.file("g.txt");
  ASSERT_EQ(
      test::run_command(atoll + " generate uniform --vertices 500 --edges 2000 --weights 1:9 " +
                        "--out " + g)
          .exit_code,
      0);
  for (const std::string app : {"cc", "sssp --source 3"}) {
    auto a = test::run_command(atoll + " run " + app + " --graph " + g + " --out " + dir.file("a"));
    auto b = test::run_command(atoll + " run " + app + " --engine pregel --max-supersteps 1000 " +
                               "--graph " + g + " --out " + dir.file("b") + " --metrics " +
                               dir.file("m.json"));
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(test::read_file(dir.file("a")), test::read_file(dir.file("b"))) << app;
    EXPECT_NE(b.out.find("pregel engine"), std::string::npos) << b.out;
    const std::string metrics = test::read_file(dir.file("m.json"));
    EXPECT_NE(metrics.find("\"superstep_log\""), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("\"messages_combined\""), std::string::npos);
  }
  auto k = test::run_command(atoll + " run kcore --engine pregel --graph " + g + " --out " +
                             dir.file("k"));
  ASSERT_EQ(k.exit_code, 0) << k.err;
  std::string expected;
  for (const auto& [v, core] : test::reference_coreness(read_edge_list(g))) {
    expected += std::to_string(v) + "\t" + std::to_string(core) + "\n";
  }
  EXPECT_EQ(test::read_file(dir.file("k")), expected);
  auto wrong = test::run_command(atoll + " run triangles --engine pregel --graph " + g);
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("apps on pregel: pagerank, cc, sssp, kcore"), std::string::npos)
      << wrong.err;
  auto unknown = test::run_command(atoll + " run cc --engine bogus --graph " + g);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown engine 'bogus'"), std::string::npos) << unknown.err;
  auto dynamic = test::run_command(atoll + " run pagerank --dynamic --engine pregel --graph " + g);
  EXPECT_EQ(dynamic.exit_code, 2);
  EXPECT_NE(dynamic.err.find("--dynamic has no Pregel form"), std::string::npos) << dynamic.err;
}

}  // namespace
}  // namespace atl
