// The graph apps (kcore, triangles, coloring, labelprop) on 1, 2 and 3 real ranks over UCX and
// TCP, each checked against the independent references of tests/unit (serial peeling, brute
// force triangles, colouring validity, planted communities), on generated inputs with repeats,
// both directions and self-loops, and on the real graphs of ../shared/data when present.
// Run plainly, this is a GoogleTest suite that starts itself as N ranks through `atoll launch`;
// run as a rank (--app given) it loads its part, runs the app and writes its owned values.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/undirected_reference.hpp"
#include "atoll/apps/graph_coloring.hpp"
#include "atoll/apps/kcore.hpp"
#include "atoll/apps/label_propagation.hpp"
#include "atoll/apps/triangles.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/write_graph.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;
using test::Result;
using test::run;
using test::self_path;
using test::TempDir;

// ---- one rank --------------------------------------------------------------------------------

struct RankArgs {
  std::string app, graph, out, transport = "ucx";
  std::uint64_t seed = 1;
};

/// Writes "summary S" (the app's global figure) and then "gid value" per owned vertex.
template <typename R>
void write_part(const std::string& path, const R& result, std::uint64_t summary) {
  std::ofstream out(path);
  out << "summary " << summary << "\n";
  for (std::size_t i = 0; i < result.gids.size(); ++i) {
    out << result.gids[i] << " " << result.values[i] << "\n";
  }
  if (!out) fail("cannot write ", path);
}

int run_rank(const RankArgs& args) {
  JobInfo job = detect_job({});
  TransportOptions options;
  options.kind = parse_transport(args.transport);
  Transport t(job, options);
  Collectives coll(t);
  Exchange exchange(t);
  t.start();
  Cluster cluster{t, coll, exchange};
  GraphPartLoad part = load_graph_part(args.graph, t, coll, exchange, {});
  EngineOptions eo;
  eo.threads = 1;
  eo.scheduler = SchedulerKind::kFifo;
  const std::string path = args.out + "/rank-" + std::to_string(t.rank());
  if (args.app == "kcore") {
    KCoreResult r = kcore(std::move(part.topology), eo, &cluster);
    write_part(path, r, r.max_core);
  } else if (args.app == "triangles") {
    TrianglesResult r = triangles(std::move(part.topology), eo, &cluster);
    write_part(path, r, r.total);
  } else if (args.app == "coloring") {
    GraphColoringResult r = graph_coloring(std::move(part.topology), eo, &cluster);
    write_part(path, r, r.conflicts);
  } else if (args.app == "labelprop") {
    LabelPropagationResult r =
        label_propagation(std::move(part.topology), {.seed = args.seed}, eo, &cluster);
    write_part(path, r, r.communities);
  } else {
    fail("unknown app ", args.app);
  }
  t.stop();
  return 0;
}

// ---- the checks ------------------------------------------------------------------------------

struct Gathered {
  std::vector<Gid> gids;  ///< ascending
  std::vector<std::uint64_t> values;
  std::vector<std::uint64_t> summaries;  ///< one per rank (all equal: a global figure)
};

/// Runs `app` on `ranks` ranks and merges their outputs by gid.
Gathered run_ranks(const std::string& app, const std::string& graph, int ranks,
                   const std::string& transport, std::uint64_t seed = 1) {
  TempDir out;
  Result r = run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
                 self_path() + " --app " + app + " --graph " + graph + " --out " + out.path() +
                 " --transport " + transport + " --seed " + std::to_string(seed));
  EXPECT_EQ(r.code, 0) << r.output;
  std::map<Gid, std::uint64_t> merged;
  Gathered g;
  for (int k = 0; k < ranks; ++k) {
    std::ifstream in(out.file("rank-" + std::to_string(k)));
    std::string word;
    std::uint64_t summary = 0;
    in >> word >> summary;
    EXPECT_EQ(word, "summary") << "rank " << k << " wrote nothing";
    g.summaries.push_back(summary);
    Gid gid;
    std::uint64_t value;
    while (in >> gid >> value) {
      EXPECT_TRUE(merged.emplace(gid, value).second) << "vertex " << gid << " twice";
    }
  }
  for (const auto& [gid, value] : merged) {
    g.gids.push_back(gid);
    g.values.push_back(value);
  }
  return g;
}

std::vector<std::uint64_t> all(const Gathered& g, std::uint64_t value) {
  return std::vector<std::uint64_t>(g.summaries.size(), value);
}

class GraphAppsRanks : public testing::TestWithParam<std::string> {
 protected:
  void check_kcore_and_triangles(const std::string& path, const EdgeList& input, int ranks) {
    SCOPED_TRACE(path + " on " + std::to_string(ranks) + " ranks over " + GetParam());
    test::UndirectedGraph g = test::undirected_view(input);
    std::vector<std::uint64_t> core = test::reference_kcore(g);
    Gathered k = run_ranks("kcore", path, ranks, GetParam());
    EXPECT_EQ(k.gids, g.gids);
    EXPECT_EQ(k.values, core);
    EXPECT_EQ(k.summaries, all(k, *std::max_element(core.begin(), core.end())));
    std::vector<std::uint64_t> tri = test::reference_triangles(g);
    Gathered t = run_ranks("triangles", path, ranks, GetParam());
    EXPECT_EQ(t.gids, g.gids);
    EXPECT_EQ(t.values, tri);
    EXPECT_EQ(t.summaries, all(t, std::accumulate(tri.begin(), tri.end(), 0ull) / 3));
  }

  void check_coloring(const std::string& path, const EdgeList& input, int ranks) {
    SCOPED_TRACE(path + " on " + std::to_string(ranks) + " ranks over " + GetParam());
    test::UndirectedGraph g = test::undirected_view(input);
    Gathered c = run_ranks("coloring", path, ranks, GetParam());
    EXPECT_EQ(c.gids, g.gids);
    ASSERT_EQ(c.values.size(), g.gids.size());
    EXPECT_EQ(test::coloring_conflicts(g, c.values), 0u);
    EXPECT_EQ(c.summaries, all(c, 0));  // the app's own check found no conflict either
  }
};

TEST_P(GraphAppsRanks, KCoreAndTrianglesMatchTheReferences) {
  TempDir dir;
  // Kronecker: repeats, both directions and self-loops in the raw list.
  EdgeList kron = generate_kronecker({.scale = 10, .edge_factor = 8, .seed = 6, .weights = {}});
  EdgeList planted = generate_planted({.communities = 6,
                                       .size = 50,
                                       .internal_degree = 12,
                                       .external_degree = 3,
                                       .seed = 2,
                                       .weights = {}});
  write_edge_list(kron, dir.file("kron.txt"));
  write_edge_list(planted, dir.file("planted.bin"));
  for (int ranks : {1, 2, 3}) {
    check_kcore_and_triangles(dir.file("kron.txt"), kron, ranks);
    check_kcore_and_triangles(dir.file("planted.bin"), planted, ranks);
  }
}

TEST_P(GraphAppsRanks, ColoringIsProper) {
  TempDir dir;
  EdgeList kron = generate_kronecker({.scale = 10, .edge_factor = 8, .seed = 7, .weights = {}});
  write_edge_list(kron, dir.file("kron.txt"));
  for (int ranks : {1, 2, 3}) check_coloring(dir.file("kron.txt"), kron, ranks);
}

TEST_P(GraphAppsRanks, LabelPropagationRecoversPlantedCommunities) {
  TempDir dir;
  EdgeList planted = generate_planted({.communities = 8,
                                       .size = 60,
                                       .internal_degree = 14,
                                       .external_degree = 1.5,
                                       .seed = 3,
                                       .weights = {}});
  write_edge_list(planted, dir.file("planted.txt"));
  for (int ranks : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks over " + GetParam());
    Gathered l = run_ranks("labelprop", dir.file("planted.txt"), ranks, GetParam(), 4);
    EXPECT_EQ(l.gids.size(), 480u);
    EXPECT_EQ(test::planted_errors(l.gids, l.values, 60), 0u);
    EXPECT_EQ(l.summaries, all(l, 8));
    // The same seed on the same ranks gives the same labels.
    EXPECT_EQ(run_ranks("labelprop", dir.file("planted.txt"), ranks, GetParam(), 4).values,
              l.values);
  }
}

TEST_P(GraphAppsRanks, RealGraphs) {
  int found = 0;
  const std::string data = ATOLL_SHARED_DATA;
  if (std::filesystem::exists(data + "/facebook_combined.txt.zst")) {
    ++found;
    const std::string path = data + "/facebook_combined.txt.zst";
    EdgeList raw = read_edge_list(path);
    check_kcore_and_triangles(path, raw, 3);
    check_coloring(path, raw, 2);
  }
  if (std::filesystem::exists(data + "/email-Enron.txt.zst")) {
    ++found;
    Gathered t = run_ranks("triangles", data + "/email-Enron.txt.zst", 2, GetParam());
    EXPECT_EQ(t.summaries, all(t, 727044));  // SNAP's published total
  }
  if (found == 0) GTEST_SKIP() << "no shared data in " << data;
}

/// `atoll run APP --ranks N` (the registry's path): the --out file's values in gid order.
std::vector<std::uint64_t> run_cli(const std::string& app_args, int ranks,
                                   const std::string& transport, std::string* summary) {
  TempDir out;
  Result r =
      run(std::string(ATOLL_BINARY) + " run " + app_args + " --ranks " + std::to_string(ranks) +
          " --transport " + transport + " --out " + out.file("values.tsv"));
  EXPECT_EQ(r.code, 0) << r.output;
  *summary = r.output;
  std::vector<std::uint64_t> values;
  std::ifstream in(out.file("values.tsv"));
  Gid gid;
  std::uint64_t value;
  while (in >> gid >> value) values.push_back(value);
  return values;
}

TEST_P(GraphAppsRanks, CommandLineOnSeveralRanks) {
  TempDir dir;
  EdgeList kron = generate_kronecker({.scale = 9, .edge_factor = 8, .seed = 8, .weights = {}});
  EdgeList planted = generate_planted({.communities = 8,
                                       .size = 60,
                                       .internal_degree = 14,
                                       .external_degree = 1.5,
                                       .seed = 5,
                                       .weights = {}});
  write_edge_list(kron, dir.file("kron.txt"));
  write_edge_list(planted, dir.file("planted.txt"));
  test::UndirectedGraph g = test::undirected_view(kron);
  test::UndirectedGraph p = test::undirected_view(planted);
  std::string summary;
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks over " + GetParam());
    EXPECT_EQ(run_cli("kcore --graph " + dir.file("kron.txt"), ranks, GetParam(), &summary),
              test::reference_kcore(g));
    EXPECT_EQ(run_cli("triangles --graph " + dir.file("kron.txt"), ranks, GetParam(), &summary),
              test::reference_triangles(g));
    EXPECT_EQ(test::coloring_conflicts(g, run_cli("coloring --graph " + dir.file("kron.txt"), ranks,
                                                  GetParam(), &summary)),
              0u);
    EXPECT_NE(summary.find(" colours, 0 conflicts"), std::string::npos) << summary;
    EXPECT_EQ(
        test::planted_errors(p.gids,
                             run_cli("labelprop --graph " + dir.file("planted.txt") + " --seed 3",
                                     ranks, GetParam(), &summary),
                             60),
        0u);
    EXPECT_NE(summary.find("labelprop: 8 communities"), std::string::npos) << summary;
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, GraphAppsRanks, testing::Values("ucx", "tcp"));

}  // namespace

int main(int argc, char** argv) {
  RankArgs args;
  for (int i = 1; i + 1 < argc; ++i) {
    std::string a = argv[i];
    if (a == "--app")
      args.app = argv[++i];
    else if (a == "--graph")
      args.graph = argv[++i];
    else if (a == "--out")
      args.out = argv[++i];
    else if (a == "--transport")
      args.transport = argv[++i];
    else if (a == "--seed")
      args.seed = std::stoull(argv[++i]);
  }
  if (!args.app.empty()) {
    try {
      return run_rank(args);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rank error: %s\n", e.what());
      return 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
