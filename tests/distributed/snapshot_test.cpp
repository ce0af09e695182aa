// The locking engine's asynchronous snapshot is consistent: a token-passing program conserves
// its total in every serial state (an update moves tokens between its vertex and its adjacent
// edges only), so every epoch a snapshot wrote while updates ran must hold exactly the total
// it started with. Any cut that is not a consistent one (an edge saved before an update that
// its other end's saved value already reflects, a vertex saved after a neighbour read its new
// value, a lost schedule) shows up as tokens gained or lost. A second program without edge
// data (whose snapshot updates lock their vertex alone) checks an invariant of levels. Each epoch
// is checked by resuming it, on another rank count, and one is run to the end. Ranks are real
// processes over UCX and TCP; the suite starts itself as the ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "atoll/engine/cluster.hpp"
#include "atoll/engine/locking_engine.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;
namespace fs = std::filesystem;

constexpr std::int64_t kStartTokens = 100;

struct TokenVertex {
  std::int64_t tokens;
  std::uint64_t runs;
};
struct TokenEdge {
  std::int64_t tokens;
};

/// Collects the tokens on its in-edges, then (for `rounds` runs) puts one token on each
/// out-edge while it has any and schedules that edge's target.
struct TokenProgram {
  using VertexData = TokenVertex;
  using EdgeData = TokenEdge;
  static constexpr Consistency kConsistency = Consistency::kEdge;
  std::uint64_t rounds = 0;

  void update(Scope<TokenProgram>& scope, Context& context) const {
    TokenVertex& v = scope.vertex();
    for (auto edge : scope.in_edges()) {
      v.tokens += edge.data().tokens;
      edge.data().tokens = 0;
    }
    if (v.runs >= rounds) return;
    ++v.runs;
    for (auto edge : scope.out_edges()) {
      if (v.tokens == 0) break;
      ++edge.data().tokens;
      --v.tokens;
      context.schedule(edge.neighbor());
    }
    context.schedule(scope.lid());
  }
};

/// No edge data (the snapshot update then locks its vertex alone): a level that rises to
/// 1 + the highest in-neighbour's, up to kCap. Levels only rise, so every serial state has
/// level(v) <= max(start(v), 1 + max over in-neighbours u of level(u)); a cut in which v's
/// saved level was computed from a neighbour's level newer than the neighbour's saved one
/// breaks it.
constexpr std::uint64_t kCap = 10000;  // long enough a run for several snapshots
std::uint64_t start_level(Gid g) {
  return (g * 0x9e3779b97f4a7c15ull >> 40) % 1000;
}
struct LevelProgram {
  using VertexData = std::uint64_t;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kEdge;

  void update(Scope<LevelProgram>& scope, Context& context) const {
    std::uint64_t level = scope.vertex();
    for (auto edge : scope.in_edges()) level = std::max(level, edge.neighbor_data() + 1);
    level = std::min(level, kCap);
    if (level == scope.vertex()) return;
    scope.vertex() = level;
    for (auto edge : scope.out_edges()) context.schedule(edge.neighbor());
  }
};

struct RankArgs {
  std::string graph, dir, dump, transport = "ucx";
  std::string resume;
  double snapshot_every = 0;
  std::uint64_t rounds = 0;
  bool stop_at_resume = false;  ///< load the epoch, run nothing, report it
  bool levels = false;          ///< LevelProgram instead of TokenProgram
};

EngineOptions engine_options(const RankArgs& a) {
  EngineOptions eo;
  eo.engine = EngineKind::kLocking;
  eo.threads = 2;
  eo.pipeline = 64;
  eo.scheduler = SchedulerKind::kFifo;
  eo.checkpoint.dir = a.dir;
  eo.checkpoint.snapshot_every = a.snapshot_every;
  eo.checkpoint.keep = 1000;
  eo.checkpoint.resume = a.resume;
  eo.checkpoint.run_identity = a.levels ? "levels" : "tokens";
  if (a.stop_at_resume) eo.max_iterations = 0;
  return eo;
}

/// One rank of the level program: writes "violations levels-at-cap epochs" (vertices whose
/// level breaks the invariant, counted with the ghosts' levels as pushed at the start).
int run_levels(const RankArgs& a, Transport& t, Cluster& cluster, GraphPartLoad& part) {
  LocalGraph<std::uint64_t, EmptyData> local(std::move(part.topology));
  const Topology& g = local.topology();
  LevelProgram program;
  RunStats stats;
  {
    LockingEngine<LevelProgram> engine(local, program, engine_options(a), &cluster);
    engine.init_vertices([&](Lid v, std::uint64_t& d) { d = start_level(g.gid(v)); });
    engine.schedule_all();
    stats = engine.run();
  }
  std::uint64_t violations = 0, capped = 0;
  for (Lid v = 0; v < g.num_owned(); ++v) {
    std::uint64_t bound = start_level(g.gid(v));
    for (Lid u : g.in_neighbors(v)) bound = std::max(bound, local.vertex_data()[u] + 1);
    violations += local.vertex_data()[v] > std::min(bound, kCap);
    capped += local.vertex_data()[v] == kCap;
  }
  std::ofstream out(a.dump + "-" + std::to_string(t.rank()));
  out << violations << " " << capped << " " << stats.checkpoints.written.size() << "\n";
  out.close();
  t.stop();
  return 0;
}

/// One rank: runs (or resumes) the token program and writes "tokens runs" of its owned
/// vertices and of the out-edges of its owned vertices (each edge once over all ranks).
int run_rank(const RankArgs& a) {
  TransportOptions options;
  options.kind = parse_transport(a.transport);
  Transport t(detect_job({}), options);
  Collectives coll(t);
  Exchange exchange(t);
  t.start();
  Cluster cluster{t, coll, exchange};
  GraphPartLoad part = load_graph_part(a.graph, t, coll, exchange);
  if (a.levels) return run_levels(a, t, cluster, part);
  LocalGraph<TokenVertex, TokenEdge> local(std::move(part.topology));
  const EngineOptions eo = engine_options(a);
  TokenProgram program;
  program.rounds = a.rounds;
  RunStats stats;
  {
    LockingEngine<TokenProgram> engine(local, program, eo, &cluster);
    engine.init_vertices([](Lid, TokenVertex& d) { d = {kStartTokens, 0}; });
    engine.init_edges([](EdgeId, TokenEdge& d) { d = {0}; });
    engine.schedule_all();
    stats = engine.run();
  }
  std::int64_t tokens = 0;
  std::uint64_t runs = 0;
  const Topology& g = local.topology();
  for (Lid v = 0; v < g.num_owned(); ++v) {
    tokens += local.vertex_data()[v].tokens;
    runs += local.vertex_data()[v].runs;
  }
  for (EdgeId e = 0; e < g.owned_edges(); ++e) tokens += local.edge_data()[e].tokens;
  std::ofstream out(a.dump + "-" + std::to_string(t.rank()));
  out << tokens << " " << runs << " " << stats.checkpoints.written.size() << "\n";
  out.close();
  t.stop();
  return 0;
}

struct Totals {
  std::int64_t tokens = 0;
  std::uint64_t runs = 0;
  std::uint64_t epochs = 0;  ///< epochs rank 0 recorded
};

class Snapshots : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    graph_ = dir_.file("g.el");
    const std::string command = std::string(ATOLL_BINARY) +
                                " generate uniform --vertices 3000 --edges 15000 --seed 7 --out " +
                                graph_;
    ASSERT_EQ(test::run(command).code, 0);
  }

  /// Runs the suite's ranks with `args`; their totals.
  Totals job(int ranks, const std::string& args) {
    const std::string dump = dir_.file("dump");
    for (int r = 0; r < 8; ++r) fs::remove(dump + "-" + std::to_string(r));
    test::Result result =
        test::run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
                  test::self_path() + " --rank-mode --graph " + graph_ + " --dump " + dump +
                  " --transport " + GetParam() + " " + args);
    EXPECT_EQ(result.code, 0) << result.output;
    Totals totals;
    for (int r = 0; r < ranks; ++r) {
      std::ifstream in(dump + "-" + std::to_string(r));
      std::int64_t tokens = 0;
      std::uint64_t runs = 0, epochs = 0;
      EXPECT_TRUE(in >> tokens >> runs >> epochs) << "rank " << r << ": " << result.output;
      totals.tokens += tokens;
      totals.runs += runs;
      if (r == 0) totals.epochs = epochs;
    }
    return totals;
  }

  test::TempDir dir_;
  std::string graph_;
};

TEST_P(Snapshots, EverySnapshotTakenWhileTokensMoveHoldsTheirTotal) {
  constexpr std::uint64_t kRounds = 100;  // 40 ended within one snapshot now and then (1 of ~20)
  constexpr std::int64_t kTotal = 3000 * kStartTokens;
  const std::string ck = dir_.file("ck");
  const Totals run =
      job(3, "--dir " + ck + " --snapshot-every 0.01 --rounds " + std::to_string(kRounds));
  ASSERT_EQ(run.tokens, kTotal);
  ASSERT_EQ(run.runs, 3000 * kRounds);
  std::vector<std::string> epochs;
  for (const auto& e : fs::directory_iterator(ck)) {
    if (e.path().filename().string().rfind("epoch-", 0) == 0) epochs.push_back(e.path().string());
  }
  std::sort(epochs.begin(), epochs.end());
  ASSERT_GE(epochs.size(), 2u) << "the run should have outlasted several snapshot intervals";
  EXPECT_EQ(run.epochs, epochs.size());
  // Check the first, a middle and the last epoch: each resumed on 2 ranks, nothing run.
  bool mid_run = false;
  std::vector<std::size_t> checked = {0, epochs.size() / 2, epochs.size() - 1};
  checked.erase(std::unique(checked.begin(), checked.end()), checked.end());
  for (std::size_t i : checked) {
    SCOPED_TRACE(epochs[i]);
    ASSERT_TRUE(fs::exists(epochs[i] + "/MANIFEST"));
    const std::string one = dir_.file("one-" + std::to_string(i));
    fs::create_directories(one);
    fs::copy(epochs[i], one + "/" + fs::path(epochs[i]).filename().string(),
             fs::copy_options::recursive);
    const Totals saved =
        job(2, "--resume " + one + " --stop-at-resume --rounds " + std::to_string(kRounds));
    EXPECT_EQ(saved.tokens, kTotal) << "the snapshot is not a consistent cut";
    if (saved.runs < 3000 * kRounds) mid_run = true;
    if (i == epochs.size() / 2) {  // and it runs on to the end from there
      const Totals rest = job(4, "--resume " + one + " --rounds " + std::to_string(kRounds));
      EXPECT_EQ(rest.tokens, kTotal);
      EXPECT_EQ(rest.runs, 3000 * kRounds) << "the saved schedule lost work";
    }
  }
  EXPECT_TRUE(mid_run) << "no snapshot was taken while updates ran";
}

// No edge data: the snapshot update locks only its vertex. The invariant of LevelProgram
// holds in every epoch, and one resumed epoch runs on to every level at the cap.
TEST_P(Snapshots, SnapshotsWithoutEdgeDataAreConsistentCutsToo) {
  const std::string ck = dir_.file("levels");
  const Totals run = job(3, "--levels --dir " + ck + " --snapshot-every 0.003");
  ASSERT_EQ(run.tokens, 0) << "the run's own end state breaks the invariant";
  ASSERT_GT(run.runs, 2900u) << "levels on cycles and what they reach end at the cap";
  std::vector<std::string> epochs;
  for (const auto& e : fs::directory_iterator(ck)) {  // not `recycle`, an old epoch's files
    if (e.path().filename().string().rfind("epoch-", 0) == 0) epochs.push_back(e.path().string());
  }
  std::sort(epochs.begin(), epochs.end());
  ASSERT_GE(epochs.size(), 2u) << "the run ended before a second snapshot";
  bool mid_run = false;
  for (std::size_t i = 0; i < epochs.size(); i += std::max<std::size_t>(1, epochs.size() / 4)) {
    SCOPED_TRACE(epochs[i]);
    const std::string one = dir_.file("lv-" + std::to_string(i));
    fs::create_directories(one);
    fs::copy(epochs[i], one + "/" + fs::path(epochs[i]).filename().string(),
             fs::copy_options::recursive);
    const Totals saved = job(2, "--levels --resume " + one + " --stop-at-resume");
    EXPECT_EQ(saved.tokens, 0) << "vertices whose saved level is above its bound";
    if (saved.runs < run.runs) mid_run = true;
    if (i == 0) {
      const Totals rest = job(2, "--levels --resume " + one);
      EXPECT_EQ(rest.runs, run.runs);
      EXPECT_EQ(rest.tokens, 0);
    }
  }
  EXPECT_TRUE(mid_run) << "no snapshot was taken while updates ran";
}

INSTANTIATE_TEST_SUITE_P(Transports, Snapshots, testing::Values("ucx", "tcp"));

}  // namespace

int main(int argc, char** argv) {
  RankArgs a;
  bool rank_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rank-mode") rank_mode = true;
    if (arg == "--stop-at-resume") a.stop_at_resume = true;
    if (arg == "--levels") a.levels = true;
    if (i + 1 >= argc) continue;
    if (arg == "--graph") a.graph = argv[++i];
    if (arg == "--dir") a.dir = argv[++i];
    if (arg == "--dump") a.dump = argv[++i];
    if (arg == "--transport") a.transport = argv[++i];
    if (arg == "--resume") a.resume = argv[++i];
    if (arg == "--snapshot-every") a.snapshot_every = std::stod(argv[++i]);
    if (arg == "--rounds") a.rounds = std::stoull(argv[++i]);
  }
  if (rank_mode) {
    try {
      return run_rank(a);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rank error: %s\n", e.what());
      return 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
