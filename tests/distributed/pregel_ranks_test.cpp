// Pregel mode across ranks (real processes over UCX and TCP, started by the suite itself):
// pagerank, cc and sssp in Pregel form give the chromatic engine's answers on 1 to 4 ranks
// (computed in the same job; cc and sssp exactly, pagerank within 1e-9 in L1), kcore equals a
// serial peeling written here, combining sends fewer bytes for the same answer, tiny message
// buffers force several rounds per superstep with the same answer, a master hook stops at
// the same superstep on every rank count. (A rank killed mid-superstep: engine_ranks_test.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "../unit/reference_algorithms.hpp"
#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pagerank.hpp"
#include "atoll/apps/pregel_connected_components.hpp"
#include "atoll/apps/pregel_kcore.hpp"
#include "atoll/apps/pregel_pagerank.hpp"
#include "atoll/apps/pregel_sssp.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/pregel_engine.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/read_graph.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;
using test::TempDir;

// ---- rank side ------------------------------------------------------------------------

struct RankArgs {
  std::string graph, app, dump, transport = "ucx";
  bool symmetrize = false;
  bool combine = true;
  Gid source = 0;
  std::size_t buffer = std::size_t{8} << 20;
};

/// Halves a value per superstep; the master stops when the sum falls below 1% of the vertices.
struct HalvingStop {
  using VertexValue = double;
  using EdgeValue = EmptyData;
  using Message = std::uint32_t;
  double threshold = 0;
  PregelAggregator<double> sum = {};
  void compute(PregelVertex<HalvingStop>& vertex, std::span<const std::uint32_t>) const {
    vertex.value() = vertex.superstep() == 0 ? 1.0 : vertex.value() / 2;
    vertex.aggregate(sum, vertex.value());
  }
  void master(PregelMaster& m) const {
    if (m.aggregated(sum) < threshold) m.stop();
  }
};

template <typename T>
void dump_values(const std::string& path, const std::vector<Gid>& gids, const std::vector<T>& v) {
  std::ofstream out(path);
  char line[64];
  for (std::size_t i = 0; i < gids.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      std::snprintf(line, sizeof line, "%.17g", static_cast<double>(v[i]));
    } else {
      std::snprintf(line, sizeof line, "%llu", static_cast<unsigned long long>(v[i]));
    }
    out << gids[i] << '\t' << line << '\n';
  }
}

void dump_stats(const std::string& path, const PregelStats& s) {
  std::ofstream out(path);
  std::uint32_t rounds = 0;
  for (const SuperstepRecord& r : s.log) rounds = std::max(rounds, r.rounds);
  out << "supersteps " << s.supersteps << "\nbytes " << s.bytes_sent << "\nlower_bound "
      << s.lower_bound << "\nmax_rounds " << rounds << "\nstopped " << s.stopped_by_master << "\n";
}

int run_rank(const RankArgs& a) {
  TransportOptions options;
  options.kind = parse_transport(a.transport);
  Transport t(detect_job({}), options);
  Collectives coll(t);
  Exchange exchange(t);
  t.start();
  Cluster cluster{t, coll, exchange};
  PartLoadOptions load;
  load.build = {a.symmetrize, a.symmetrize};
  GraphPartLoad part = load_graph_part(a.graph, t, coll, exchange, load);
  EngineOptions po;
  po.engine = EngineKind::kPregel;
  po.threads = 1;
  po.combine = a.combine;
  po.message_buffer = a.buffer;
  po.progress = true;
  EngineOptions eo;
  eo.threads = 1;
  const std::string r = std::to_string(t.rank());
  const std::string pregel_file = a.dump + "/pregel-" + r;
  const std::string chromatic_file = a.dump + "/chromatic-" + r;
  const std::string stats_file = a.dump + "/stats-" + r;
  if (a.app == "pagerank") {
    PageRankOptions pr;
    pr.tolerance = 1e-12;
    auto c = pagerank(Topology(part.topology), pr, eo, &cluster);
    dump_values(chromatic_file, c.gids, c.values);
    auto p = pregel_pagerank(std::move(part.topology), pr, po, &cluster);
    dump_values(pregel_file, p.gids, p.values);
    dump_stats(stats_file, p.pregel);
  } else if (a.app == "cc") {
    auto c = connected_components(Topology(part.topology), eo, &cluster);
    dump_values(chromatic_file, c.gids, c.values);
    auto p = pregel_connected_components(std::move(part.topology), po, &cluster);
    dump_values(pregel_file, p.gids, p.values);
    dump_stats(stats_file, p.pregel);
  } else if (a.app == "sssp") {
    auto c = sssp(Topology(part.topology), a.source, eo, &cluster);
    dump_values(chromatic_file, c.gids, c.values);
    auto p = pregel_sssp(std::move(part.topology), a.source, po, &cluster);
    dump_values(pregel_file, p.gids, p.values);
    dump_stats(stats_file, p.pregel);
  } else if (a.app == "kcore") {
    auto p = pregel_kcore(std::move(part.topology), po, &cluster);
    dump_values(pregel_file, p.gids, p.values);
    dump_stats(stats_file, p.pregel);
  } else if (a.app == "halving") {
    const double n = static_cast<double>(part.global_vertices);
    LocalGraph<double, EmptyData> local(std::move(part.topology));
    HalvingStop program{n / 100};
    PregelEngine<HalvingStop> engine(local, program, po, &cluster);
    program.sum = engine.add_aggregator("sum", 0.0, AggregateOp::kSum);
    dump_stats(stats_file, engine.run());
  } else {
    fail("unknown app ", a.app);
  }
  t.stop();
  return 0;
}

// ---- test side ------------------------------------------------------------------------

std::string atoll() {
  return ATOLL_BINARY;
}

/// Starts `ranks` ranks of this executable in rank mode; returns the exit code and output.
test::Result launch(int ranks, const std::string& args) {
  return test::run(atoll() + " launch -n " + std::to_string(ranks) + " -- " + test::self_path() +
                   " --rank-mode " + args);
}

std::map<Gid, std::string> read_all(const std::string& dir, const std::string& prefix, int ranks) {
  std::map<Gid, std::string> values;
  for (int r = 0; r < ranks; ++r) {
    std::ifstream in(dir + "/" + prefix + "-" + std::to_string(r));
    std::string line;
    while (std::getline(in, line)) {
      const auto tab = line.find('\t');
      values[std::stoull(line.substr(0, tab))] = line.substr(tab + 1);
    }
  }
  return values;
}

std::map<std::string, double> read_stats(const std::string& dir, int rank) {
  std::map<std::string, double> stats;
  std::ifstream in(dir + "/stats-" + std::to_string(rank));
  std::string key;
  double value;
  while (in >> key >> value) stats[key] = value;
  return stats;
}

double l1(const std::map<Gid, std::string>& a, const std::map<Gid, std::string>& b) {
  double sum = 0;
  for (const auto& [gid, value] : a) sum += std::abs(std::stod(value) - std::stod(b.at(gid)));
  return sum;
}

/// Runs app on `ranks` ranks and checks the Pregel answer against the chromatic one.
void expect_as_chromatic(const TempDir& dir, const std::string& app, const std::string& args,
                         int ranks, const std::string& transport) {
  SCOPED_TRACE(app + " " + args + " on " + std::to_string(ranks) + " ranks over " + transport);
  const std::string dump = dir.file("dump");
  std::filesystem::remove_all(dump);
  std::filesystem::create_directories(dump);
  test::Result r =
      launch(ranks, "--app " + app + " " + args + " --dump " + dump + " --transport " + transport);
  ASSERT_EQ(r.code, 0) << r.output;
  auto pregel = read_all(dump, "pregel", ranks);
  auto chromatic = read_all(dump, "chromatic", ranks);
  ASSERT_FALSE(pregel.empty());
  ASSERT_EQ(pregel.size(), chromatic.size());
  if (app == "pagerank") {
    EXPECT_LT(l1(pregel, chromatic), 1e-9);
  } else {
    EXPECT_EQ(pregel, chromatic);
  }
}

class PregelRanks : public testing::TestWithParam<std::string> {};

TEST_P(PregelRanks, AppsGiveTheChromaticAnswer) {
  TempDir dir;
  const std::string kron = dir.file("kron.txt");
  const std::string uni = dir.file("uni.txt");
  ASSERT_EQ(
      test::run(atoll() + " generate kronecker --scale 11 --edge-factor 8 --out " + kron).code, 0);
  ASSERT_EQ(test::run(atoll() + " generate uniform --vertices 4000 --edges 6000 --weights 1:30 " +
                      "--out " + uni)
                .code,
            0);
  const std::string t = GetParam();
  for (int ranks : {1, 2, 3, 4}) {
    expect_as_chromatic(dir, "pagerank", "--graph " + kron, ranks, t);
    expect_as_chromatic(dir, "cc", "--graph " + uni, ranks, t);
    expect_as_chromatic(dir, "sssp", "--graph " + uni + " --source 17", ranks, t);
  }
  // Without combiners, and with buffers so small that a superstep takes several rounds.
  expect_as_chromatic(dir, "cc", "--graph " + kron + " --no-combine", 3, t);
  expect_as_chromatic(dir, "sssp", "--graph " + uni + " --source 17 --no-combine --buffer 1024", 3,
                      t);
  expect_as_chromatic(dir, "pagerank", "--graph " + kron + " --buffer 1024", 2, t);
  expect_as_chromatic(dir, "pagerank", "--graph " + kron + " --no-combine --buffer 2048", 2, t);
}

TEST_P(PregelRanks, RealGraphsGiveTheChromaticAnswer) {
  const std::string data = ATOLL_SHARED_DATA;
  const std::string t = GetParam();
  TempDir dir;
  int found = 0;
  if (std::filesystem::exists(data + "/facebook_combined.txt.zst")) {
    ++found;
    expect_as_chromatic(dir, "pagerank", "--graph " + data + "/facebook_combined.txt.zst", 3, t);
    expect_as_chromatic(dir, "cc", "--graph " + data + "/facebook_combined.txt.zst", 2, t);
  }
  if (std::filesystem::exists(data + "/rome99.gr.zst")) {
    ++found;
    expect_as_chromatic(dir, "sssp", "--graph " + data + "/rome99.gr.zst --source 1", 4, t);
  }
  if (found == 0) GTEST_SKIP() << "no shared data in " << data;
}

TEST_P(PregelRanks, CombinersSendFewerBytesForTheSameAnswer) {
  TempDir dir;
  const std::string kron = dir.file("kron.txt");
  ASSERT_EQ(
      test::run(atoll() + " generate kronecker --scale 11 --edge-factor 8 --out " + kron).code, 0);
  std::map<bool, std::map<Gid, std::string>> values;
  std::map<bool, double> bytes;
  for (bool combine : {true, false}) {
    const std::string dump = dir.file(combine ? "with" : "without");
    std::filesystem::create_directories(dump);
    test::Result r = launch(2, "--app cc --graph " + kron + " --dump " + dump + " --transport " +
                                   GetParam() + (combine ? "" : " --no-combine"));
    ASSERT_EQ(r.code, 0) << r.output;
    values[combine] = read_all(dump, "pregel", 2);
    bytes[combine] = read_stats(dump, 0)["bytes"] + read_stats(dump, 1)["bytes"];
    if (combine) {  // against the bound: remote destination vertices x message size
      const double bound = read_stats(dump, 0)["lower_bound"] + read_stats(dump, 1)["lower_bound"];
      EXPECT_GT(bound, 0);
      EXPECT_LE(bytes[combine], 2 * bound + 4096);
    }
  }
  EXPECT_EQ(values[true], values[false]);
  EXPECT_LT(bytes[true], 0.8 * bytes[false]);
}

TEST_P(PregelRanks, SmallBuffersSendInSeveralRounds) {
  TempDir dir;
  const std::string kron = dir.file("kron.txt");
  ASSERT_EQ(
      test::run(atoll() + " generate kronecker --scale 11 --edge-factor 8 --out " + kron).code, 0);
  for (const char* combine : {"", " --no-combine"}) {
    const std::string dump = dir.file(*combine != 0 ? "uncombined" : "combined");
    std::filesystem::create_directories(dump);
    test::Result r = launch(3, "--app cc --graph " + kron + " --dump " + dump + " --transport " +
                                   GetParam() + " --buffer 1024" + combine);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_GT(read_stats(dump, 0)["max_rounds"], 3) << combine;
    EXPECT_EQ(read_all(dump, "pregel", 3), read_all(dump, "chromatic", 3)) << combine;
  }
}

TEST_P(PregelRanks, KcoreEqualsSerialPeeling) {
  TempDir dir;
  const std::string kron = dir.file("kron.txt");
  ASSERT_EQ(
      test::run(atoll() + " generate kronecker --scale 10 --edge-factor 8 --out " + kron).code, 0);
  std::map<Gid, std::string> expected;
  for (const auto& [v, k] : test::reference_coreness(read_edge_list(kron))) {
    expected[v] = std::to_string(k);
  }
  for (int ranks : {1, 2, 3}) {
    const std::string dump = dir.file("k" + std::to_string(ranks));
    std::filesystem::create_directories(dump);
    test::Result r = launch(
        ranks, "--app kcore --graph " + kron + " --dump " + dump + " --transport " + GetParam());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(read_all(dump, "pregel", ranks), expected) << ranks << " ranks";
  }
}

TEST_P(PregelRanks, MasterStopsAtTheSameSuperstepOnEveryRankCount) {
  TempDir dir;
  const std::string uni = dir.file("uni.txt");
  ASSERT_EQ(test::run(atoll() + " generate uniform --vertices 3000 --edges 9000 --out " + uni).code,
            0);
  for (int ranks : {1, 2, 3}) {
    const std::string dump = dir.file("h" + std::to_string(ranks));
    std::filesystem::create_directories(dump);
    test::Result r = launch(
        ranks, "--app halving --graph " + uni + " --dump " + dump + " --transport " + GetParam());
    ASSERT_EQ(r.code, 0) << r.output;
    for (int rank = 0; rank < ranks; ++rank) {
      auto stats = read_stats(dump, rank);
      EXPECT_EQ(stats["supersteps"], 8) << ranks << " ranks, rank " << rank;  // n/2^7 < n/100
      EXPECT_EQ(stats["stopped"], 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, PregelRanks, testing::Values("ucx", "tcp"));

}  // namespace

int main(int argc, char** argv) {
  RankArgs a;
  bool rank_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rank-mode") rank_mode = true;
    if (arg == "--symmetrize") a.symmetrize = true;
    if (arg == "--no-combine") a.combine = false;
    if (i + 1 >= argc) continue;
    if (arg == "--graph") a.graph = argv[++i];
    if (arg == "--app") a.app = argv[++i];
    if (arg == "--dump") a.dump = argv[++i];
    if (arg == "--transport") a.transport = argv[++i];
    if (arg == "--source") a.source = std::stoull(argv[++i]);
    if (arg == "--buffer") a.buffer = std::stoull(argv[++i]);
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
