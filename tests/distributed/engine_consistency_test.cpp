// Serializability across ranks: a checker program logs (vertex, sweep) for every update on every
// rank, which with the vertex's colour names its colour step; no edge may have both ends updated
// in the same step under edge consistency.
// Under vertex consistency (one colour) the same check finds such pairs, which shows it can
// fail. Ranks are real processes over UCX and TCP, started by the suite itself.
#include <gtest/gtest.h>
#include <tbb/enumerable_thread_specific.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "atoll/engine/chromatic_engine.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/read_graph.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;

struct Logged {
  Gid gid;
  std::uint64_t sweep;
};

tbb::enumerable_thread_specific<std::vector<Logged>> update_log;

struct CheckerProgram {
  using VertexData = std::uint64_t;  ///< updates so far
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;

  void update(Scope<CheckerProgram>& scope, Context& context) const {
    ++scope.vertex();
    update_log.local().push_back({scope.gid(), context.iteration()});
    // Reschedule some neighbours (owned or ghosts) so later steps are sparse and cross ranks.
    const std::uint64_t h = (scope.gid() * 0x9e3779b97f4a7c15ull + context.iteration()) >> 33;
    if (h % 3 == 0) {
      for (auto edge : scope.out_edges()) context.schedule(edge.neighbor());
    }
  }
};

/// Every update adds 1 to each adjacent edge (a self-loop is adjacent twice) and runs again
/// until it has run kRounds times: every copy of every edge must end at 2 x kRounds, which
/// holds across ranks only if both copies of a cut edge see each other's writes.
constexpr std::uint64_t kRounds = 3;
struct EdgeCounterProgram {
  using VertexData = std::uint64_t;
  using EdgeData = std::uint64_t;
  static constexpr Consistency kConsistency = Consistency::kEdge;

  void update(Scope<EdgeCounterProgram>& scope, Context& context) const {
    for (auto edge : scope.out_edges()) ++edge.data();
    for (auto edge : scope.in_edges()) ++edge.data();
    if (++scope.vertex() < kRounds) context.schedule(scope.lid());
  }
};

/// Under full consistency an update may write its neighbours: every update adds 1 to the
/// `received` count of the vertex at the other end of each adjacent edge (a self-loop twice) and
/// runs kRounds times, so every vertex ends with kRounds x (in-degree + out-degree) received,
/// which holds across ranks only if writes into ghosts reach their owners and writes into owned
/// neighbours reach their replicas before the next step reads them.
struct NeighborCounter {
  std::uint64_t received;
  std::uint64_t runs;
};
struct NeighborWriterProgram {
  using VertexData = NeighborCounter;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kFull;

  void update(Scope<NeighborWriterProgram>& scope, Context& context) const {
    if (scope.vertex().runs >= kRounds) return;  // scheduled as a neighbour: nothing to do
    for (auto edge : scope.out_edges()) ++edge.neighbor_data().received;
    for (auto edge : scope.in_edges()) ++edge.neighbor_data().received;
    if (++scope.vertex().runs < kRounds) context.schedule(scope.lid());
    // Schedule a few neighbours too, so that later steps are sparse and cross ranks.
    if (scope.gid() % 5 == 0) context.schedule_neighbors(scope);
  }
};

int run_neighbor_writer(Transport& t, Cluster& cluster, GraphPartLoad& part,
                        const std::string& dump, const std::string& engine_name) {
  LocalGraph<NeighborCounter, EmptyData> local(std::move(part.topology));
  EngineOptions eo;
  eo.engine = parse_engine(engine_name);
  eo.threads = 2;  // two workers per rank: scopes of one rank run concurrently too
  eo.scheduler = SchedulerKind::kFifo;
  eo.pipeline = 64;
  // The locking engine also checks its history: neighbour writes are versioned writes.
  eo.check_serializable = eo.engine == EngineKind::kLocking;
  NeighborWriterProgram program;
  run_graphlab(local, program, eo, &cluster, [](auto& engine) {
    engine.init_vertices([](Lid, NeighborCounter& d) { d = {0, 0}; });
    engine.schedule_all();
    return engine.run();
  });
  std::ofstream out(dump + "/neighbors-" + std::to_string(t.rank()));
  const Topology& g = local.topology();
  for (Lid v = 0; v < g.num_owned(); ++v) {
    out << g.gid(v) << " " << local.vertex_data()[v].received << " " << local.vertex_data()[v].runs
        << "\n";
  }
  out.close();
  t.stop();
  return 0;
}

/// Every update changes its vertex (a hash of the vertex and its runs so far) and runs again
/// until it has run kRounds times, and schedules some neighbours; once a phase has ended, every
/// ghost must hold its owner's value (the locking engine refreshes ghosts only with grants
/// during a phase, and must send the rest before the hooks, aggregators and output read them).
struct Changing {
  std::uint64_t value;
  std::uint64_t runs;
};
struct ChangingProgram {
  using VertexData = Changing;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kEdge;

  void update(Scope<ChangingProgram>& scope, Context& context) const {
    Changing& d = scope.vertex();
    if (d.runs >= kRounds) return;  // scheduled as a neighbour: nothing to do
    d.value = (d.value ^ scope.gid()) * 0x9e3779b97f4a7c15ull + ++d.runs;
    if (d.runs < kRounds) context.schedule(scope.lid());
    if ((d.value >> 40) % 3 == 0) context.schedule_neighbors(scope);
  }
};

int run_changing(Transport& t, Cluster& cluster, GraphPartLoad& part, const std::string& dump,
                 const std::string& consistency) {
  LocalGraph<Changing, EmptyData> local(std::move(part.topology));
  EngineOptions eo;
  eo.engine = EngineKind::kLocking;
  eo.threads = 2;
  eo.pipeline = 64;
  eo.consistency = parse_consistency(consistency);
  eo.sync_every = 150;  // several phases: each must leave every copy current
  ChangingProgram program;
  run_graphlab(local, program, eo, &cluster, [](auto& engine) {
    engine.init_vertices([](Lid, Changing& d) { d = {0, 0}; });
    engine.schedule_all();
    return engine.run();
  });
  std::ofstream out(dump + "/copies-" + std::to_string(t.rank()));
  const Topology& g = local.topology();
  for (Lid v = 0; v < g.num_vertices(); ++v) {  // owned first, then the ghosts
    out << (v < g.num_owned() ? "owned " : "ghost ") << g.gid(v) << " "
        << local.vertex_data()[v].value << "\n";
  }
  out.close();
  t.stop();
  return 0;
}

int run_edge_counter(Transport& t, Cluster& cluster, GraphPartLoad& part, const std::string& dump,
                     const std::string& consistency, const std::string& engine_name) {
  LocalGraph<std::uint64_t, std::uint64_t> local(std::move(part.topology));
  EngineOptions eo;
  eo.engine = parse_engine(engine_name);
  eo.threads = 2;
  eo.pipeline = 64;
  eo.consistency = parse_consistency(consistency);
  eo.check_serializable = eo.engine == EngineKind::kLocking;
  EdgeCounterProgram program;
  run_graphlab(local, program, eo, &cluster, [](auto& engine) {
    engine.init_vertices([](Lid, std::uint64_t& d) { d = 0; });
    engine.init_edges([](EdgeId, std::uint64_t& d) { d = 0; });
    engine.schedule_all();
    return engine.run();
  });
  std::ofstream out(dump + "/edges-" + std::to_string(t.rank()));
  for (std::uint64_t x : local.edge_data()) out << x << "\n";
  out.close();
  t.stop();
  return 0;
}

int run_rank(const std::string& graph, const std::string& dump, const std::string& consistency,
             TransportKind kind, bool edges, bool neighbors, bool copies,
             const std::string& engine_name) {
  TransportOptions options;
  options.kind = kind;
  Transport t(detect_job({}), options);
  Collectives coll(t);
  Exchange exchange(t);
  t.start();
  Cluster cluster{t, coll, exchange};
  GraphPartLoad part = load_graph_part(graph, t, coll, exchange);
  if (edges) return run_edge_counter(t, cluster, part, dump, consistency, engine_name);
  if (neighbors) return run_neighbor_writer(t, cluster, part, dump, engine_name);
  if (copies) return run_changing(t, cluster, part, dump, consistency);
  LocalGraph<std::uint64_t, EmptyData> local(std::move(part.topology));
  EngineOptions eo;
  eo.consistency = parse_consistency(consistency);
  eo.max_iterations = 4;
  eo.scheduler = SchedulerKind::kFifo;
  CheckerProgram program;
  ChromaticEngine<CheckerProgram> engine(local, program, eo, &cluster);
  engine.init_vertices([](Lid, std::uint64_t& d) { d = 0; });
  engine.schedule_all();
  engine.run();
  std::ofstream out(dump + "/rank-" + std::to_string(t.rank()));
  // A colour step is (sweep, colour): the update ran in that step.
  const std::uint32_t colors = engine.coloring().num_colors;
  out << "colors " << colors << "\n";
  for (const auto& list : update_log) {
    for (const Logged& l : list) {
      const Lid lid = local.topology().lid(l.gid);
      out << l.gid << " " << l.sweep * colors + engine.coloring().color[lid] << "\n";
    }
  }
  out.close();
  t.stop();
  return 0;
}

using test::self_path;

int run(const std::string& command, std::string* output) {
  test::Result r = test::run(command);
  *output += r.output;
  return r.code;
}

struct Check {
  std::uint64_t updates = 0;
  std::uint64_t overlaps = 0;   ///< edges whose two ends were updated in the same step
  std::uint64_t overlaps2 = 0;  ///< vertices with two closed neighbours updated in one step
  std::uint32_t colors = 0;
  std::map<Gid, std::uint64_t> color;  ///< of every updated vertex
};

Check check(const std::string& graph, int ranks, const std::string& consistency,
            const std::string& transport) {
  std::string dir = "/tmp/atoll-consistency-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string output;
  int code = run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
                     self_path() + " --graph " + graph + " --dump " + dir + " --consistency " +
                     consistency + " --transport " + transport,
                 &output);
  EXPECT_EQ(code, 0) << output;
  std::map<std::uint64_t, std::set<Gid>> by_step;
  Check c;
  for (int r = 0; r < ranks; ++r) {
    std::ifstream in(dir + "/rank-" + std::to_string(r));
    std::string word;
    in >> word >> c.colors;
    Gid gid;
    std::uint64_t step;
    while (in >> gid >> step) {
      by_step[step].insert(gid);
      c.color[gid] = step % c.colors;
      ++c.updates;
    }
  }
  std::filesystem::remove_all(dir);
  EdgeList edges = read_edge_list(graph);
  std::map<Gid, std::set<Gid>> closed;  // undirected closed neighbourhoods
  for (const Edge& e : edges.edges) {
    closed[e.src].insert({e.src, e.dst});
    closed[e.dst].insert({e.src, e.dst});
    if (e.src == e.dst) continue;
    for (const auto& [step, gids] : by_step) {
      if (gids.count(e.src) != 0 && gids.count(e.dst) != 0) ++c.overlaps;
    }
  }
  for (const auto& [step, gids] : by_step) {
    for (const auto& [w, nbhd] : closed) {
      int hits = 0;
      for (Gid x : nbhd) hits += gids.count(x) != 0;
      if (hits > 1) ++c.overlaps2;
    }
  }
  return c;
}

class Consistency : public testing::TestWithParam<std::string> {};

TEST_P(Consistency, NoAdjacentUpdatesShareAStepUnderEdgeConsistency) {
  std::string dir = "/tmp/atoll-consistency-graph-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string graph = dir + "/g.txt";
  std::string out;
  ASSERT_EQ(run(std::string(ATOLL_BINARY) + " generate kronecker --scale 9 --edge-factor 8 --out " +
                    graph,
                &out),
            0);
  // The colouring is the greedy one in priority order, whatever the number of ranks.
  std::map<Gid, std::uint64_t> edge_coloring;
  std::uint32_t edge_colors = 0;
  for (int ranks : {2, 3}) {
    Check edge = check(graph, ranks, "edge", GetParam());
    if (ranks == 2) edge_coloring = edge.color;
    EXPECT_EQ(edge.color, edge_coloring) << ranks << " ranks";
    edge_colors = edge.colors;
    EXPECT_GT(edge.overlaps2, 0u) << "edge consistency allows two-hop pairs in one step";
    EXPECT_GT(edge.updates, 512u);
    EXPECT_GT(edge.colors, 2u);
    EXPECT_EQ(edge.overlaps, 0u) << ranks << " ranks";
  }
  // Full consistency: not even two vertices two hops apart share a step.
  std::map<Gid, std::uint64_t> full_coloring;
  for (int ranks : {2, 4}) {
    Check full = check(graph, ranks, "full", GetParam());
    if (ranks == 2) full_coloring = full.color;
    EXPECT_EQ(full.color, full_coloring) << ranks << " ranks";
    EXPECT_GT(full.updates, 512u);
    EXPECT_GT(full.colors, edge_colors);
    EXPECT_EQ(full.overlaps2, 0u) << ranks << " ranks";
  }
  // The checker can fail: with one colour, adjacent vertices share steps.
  Check vertex = check(graph, 3, "vertex", GetParam());
  EXPECT_EQ(vertex.colors, 1u);
  EXPECT_GT(vertex.overlaps, 100u);
  std::filesystem::remove_all(dir);
}

TEST_P(Consistency, BothCopiesOfACutEdgeSeeEveryWrite) {
  std::string dir = "/tmp/atoll-edges-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string graph = dir + "/g.txt";
  std::string out;
  ASSERT_EQ(run(std::string(ATOLL_BINARY) + " generate uniform --vertices 300 --edges 1500 --out " +
                    graph,
                &out),
            0);
  for (const std::string engine : {"chromatic", "locking"}) {
    for (const char* consistency : {"edge", "full"}) {
      for (int ranks : {1, 3}) {
        SCOPED_TRACE(engine + " engine");
        out.clear();
        ASSERT_EQ(run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
                          self_path() + " --edges --graph " + graph + " --dump " + dir +
                          " --consistency " + consistency + " --transport " + GetParam() +
                          " --engine " + engine,
                      &out),
                  0)
            << out;
        std::uint64_t edges = 0, wrong = 0;
        for (int r = 0; r < ranks; ++r) {
          std::ifstream in(dir + "/edges-" + std::to_string(r));
          std::uint64_t x;
          while (in >> x) {
            ++edges;
            wrong += x != 2 * kRounds;
          }
        }
        EXPECT_GE(edges, 1500u) << consistency << " on " << ranks;
        EXPECT_EQ(wrong, 0u) << consistency << " on " << ranks << " ranks";
      }
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_P(Consistency, NeighbourWritesUnderFullConsistencyReachEveryCopy) {
  test::TempDir dir;
  const std::string graph = dir.path() + "/g.txt";
  std::string out;
  ASSERT_EQ(
      run(std::string(ATOLL_BINARY) + " generate uniform --vertices 200 --edges 900 --out " + graph,
          &out),
      0);
  std::map<Gid, std::uint64_t> expected;  // kRounds x (in-degree + out-degree)
  for (const Edge& e : read_edge_list(graph).edges) {
    expected[e.src] += kRounds;
    expected[e.dst] += kRounds;
  }
  for (const std::string engine : {"chromatic", "locking"}) {
    for (int ranks : {1, 2, 3}) {
      SCOPED_TRACE(engine + " engine, " + std::to_string(ranks) + " ranks");
      out.clear();
      ASSERT_EQ(run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
                        self_path() + " --neighbors --graph " + graph + " --dump " + dir.path() +
                        " --transport " + GetParam() + " --engine " + engine,
                    &out),
                0)
          << out;
      std::map<Gid, std::uint64_t> got;
      std::uint64_t wrong_runs = 0;
      for (int r = 0; r < ranks; ++r) {
        std::ifstream in(dir.path() + "/neighbors-" + std::to_string(r));
        Gid gid;
        std::uint64_t received, runs;
        while (in >> gid >> received >> runs) {
          got[gid] = received;
          wrong_runs += runs != kRounds;
        }
      }
      EXPECT_EQ(wrong_runs, 0u) << ranks << " ranks";
      EXPECT_EQ(got.size(), expected.size()) << ranks << " ranks";
      std::uint64_t wrong = 0;
      for (const auto& [gid, total] : expected) wrong += got[gid] != total;
      EXPECT_EQ(wrong, 0u) << "vertices whose neighbour writes were lost, " << ranks << " ranks";
    }
  }
}

TEST_P(Consistency, EveryGhostHoldsItsOwnersValueAfterALockingPhase) {
  test::TempDir dir;
  const std::string graph = dir.path() + "/g.txt";
  std::string out;
  ASSERT_EQ(run(std::string(ATOLL_BINARY) + " generate kronecker --scale 9 --edge-factor 8 --out " +
                    graph,
                &out),
            0);
  for (const char* consistency : {"edge", "full"}) {
    for (int ranks : {2, 3}) {
      SCOPED_TRACE(std::string(consistency) + " consistency, " + std::to_string(ranks) + " ranks");
      out.clear();
      ASSERT_EQ(run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
                        self_path() + " --copies --graph " + graph + " --dump " + dir.path() +
                        " --consistency " + consistency + " --transport " + GetParam(),
                    &out),
                0)
          << out;
      std::map<Gid, std::uint64_t> owned;
      std::vector<std::pair<Gid, std::uint64_t>> ghosts;
      for (int r = 0; r < ranks; ++r) {
        std::ifstream in(dir.path() + "/copies-" + std::to_string(r));
        std::string kind;
        Gid gid;
        std::uint64_t value;
        while (in >> kind >> gid >> value) {
          if (kind == "owned") {
            owned[gid] = value;
          } else {
            ghosts.emplace_back(gid, value);
          }
        }
      }
      EXPECT_GT(ghosts.size(), 100u);
      std::uint64_t stale = 0;
      for (const auto& [gid, value] : ghosts) {
        const auto it = owned.find(gid);
        ASSERT_NE(it, owned.end()) << "ghost " << gid << " has no owner";
        stale += it->second != value;
      }
      EXPECT_EQ(stale, 0u) << "of " << ghosts.size() << " ghosts";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, Consistency, testing::Values("ucx", "tcp"));

}  // namespace

int main(int argc, char** argv) {
  std::string graph, dump, consistency = "edge", transport = "ucx", engine = "chromatic";
  bool edges = false, neighbors = false, copies = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--edges") edges = true;
    if (a == "--neighbors") neighbors = true;
    if (a == "--copies") copies = true;
    if (i + 1 >= argc) break;
    if (a == "--graph")
      graph = argv[++i];
    else if (a == "--dump")
      dump = argv[++i];
    else if (a == "--consistency")
      consistency = argv[++i];
    else if (a == "--transport")
      transport = argv[++i];
    else if (a == "--engine")
      engine = argv[++i];
  }
  if (!dump.empty()) {
    try {
      return run_rank(graph, dump, consistency, parse_transport(transport), edges, neighbors,
                      copies, engine);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rank error: %s\n", e.what());
      return 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
