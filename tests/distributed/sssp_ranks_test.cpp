// SSSP through the command line on 1, 2 and 3 ranks over UCX and TCP, on each engine that runs
// sssp (chromatic, locking and pregel from both starts), against the serial Dijkstra of
// tests/unit/reference_algorithms.hpp: weighted long paths whose consecutive vertices sit on
// different ranks (distances must cross the cut hundreds of times after each rank's local
// phase), many components with zero weights (most vertices unreachable), and a weighted
// Kronecker graph. Weights are integers: every order of summation gives the same bits.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "../unit/components_inputs.hpp"
#include "../unit/reference_algorithms.hpp"
#include "../unit/weighted_inputs.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/write_graph.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;
using test::TempDir;

std::string atoll() {
  return ATOLL_BINARY;
}

/// gid -> distance from the reference.
std::map<unsigned long long, double> reference_distances(const std::string& path, Gid source) {
  const EdgeList list = read_edge_list(path);
  const std::vector<Gid> ids = test::reference_vertices(list);
  const std::vector<double> dist = test::reference_sssp(list, source);
  std::map<unsigned long long, double> out;
  for (std::size_t i = 0; i < ids.size(); ++i) out[ids[i]] = dist[i];
  return out;
}

/// gid -> distance, as `atoll run sssp --out` wrote it.
std::map<unsigned long long, double> read_distances(const std::string& path) {
  std::map<unsigned long long, double> out;
  for (const auto& [gid, text] : test::read_values(path)) out[gid] = std::stod(text);
  return out;
}

class SsspRanks : public testing::TestWithParam<std::string> {};

TEST_P(SsspRanks, EveryEngineFromBothStartsGivesTheReference) {
  TempDir dir;
  struct Input {
    std::string path;
    Gid source;
  };
  const std::vector<Input> inputs = {
      {dir.file("paths.txt"), 2 * 400 + 199}, {dir.file("many.txt"), 0}, {dir.file("kron.txt"), 0}};
  write_edge_list(test::with_weights(test::paths(400), 1, 100, 1), inputs[0].path);
  EdgeList many = test::with_weights(test::many_components(300, 30, 7), 0, 5, 2);
  many.declared.reset();
  write_edge_list(many, inputs[1].path);
  KroneckerParams k;
  k.scale = 10;
  k.edge_factor = 4;
  EdgeList kron = test::with_weights(generate_kronecker(k), 1, 255, 3);
  write_edge_list(kron, inputs[2].path);
  const std::vector<Input> sourced = {inputs[0],
                                      {inputs[1].path, many.edges.front().src},
                                      {inputs[2].path, kron.edges.front().src}};
  const std::string t = GetParam();
  for (const Input& in : sourced) {
    const auto expected = reference_distances(in.path, in.source);
    std::size_t reached = 0;
    for (const auto& [gid, d] : expected) reached += d < 1e308;
    ASSERT_GT(reached, 1u) << in.path;
    for (const char* engine :
         {"chromatic --start local", "chromatic --start source", "locking --start local",
          "locking --start source", "pregel --start local", "pregel --start source"}) {
      for (int ranks : {1, 2, 3}) {
        SCOPED_TRACE(in.path + " " + engine + " on " + std::to_string(ranks) + " ranks over " + t);
        const std::string out = dir.file("dist.tsv");
        test::Result r =
            test::run(atoll() + " run sssp --graph " + in.path + " --source " +
                      std::to_string(in.source) + " --engine " + engine + " --threads 2 --ranks " +
                      std::to_string(ranks) + " --transport " + t + " --out " + out);
        ASSERT_EQ(r.code, 0) << r.output;
        EXPECT_EQ(read_distances(out), expected);
      }
    }
  }
}

// The locking engine's priority window (--run-ahead): each rank runs only vertices near the
// best distance pending on any rank, so a grid whose every right edge crosses ranks is solved
// with about as many updates as on one rank. Without it each rank relaxes its columns far
// ahead of the frontier and redoes them (a 100x100 grid on 2-3 ranks: some 300k updates).
TEST_P(SsspRanks, RunAheadWindowKeepsRanksNearTheGlobalFrontier) {
  TempDir dir;
  const std::string grid = dir.file("grid.el");
  ASSERT_EQ(
      test::run(atoll() + " generate grid --rows 100 --cols 100 --weights 1:100 --out " + grid)
          .code,
      0);
  const auto expected = reference_distances(grid, 0);
  for (int ranks : {2, 3}) {
    for (const char* window : {"", " --run-ahead 0", " --run-ahead 30"}) {
      SCOPED_TRACE(std::to_string(ranks) + " ranks" + window);
      const std::string out = dir.file("d.tsv");
      test::Result r =
          test::run(atoll() + " run sssp " + grid +
                    " --source 0 --start source --engine locking --scheduler priority" +
                    " --threads 2 --ranks " + std::to_string(ranks) + " --transport " + GetParam() +
                    window + " --out " + out);
      ASSERT_EQ(r.code, 0) << r.output;
      EXPECT_EQ(read_distances(out), expected);
      const auto at = r.output.find(" iterations, ");
      ASSERT_NE(at, std::string::npos) << r.output;
      const auto updates = std::stoull(r.output.substr(at + std::string(" iterations, ").size()));
      if (std::string(window) != " --run-ahead 0") {
        EXPECT_LE(updates, 30000u) << r.output;
      }
    }
  }
  for (const char* bad : {" --run-ahead -1", " --run-ahead 5 --scheduler sweep",
                          " --run-ahead 5 --engine chromatic"}) {
    test::Result r = test::run(atoll() + " run sssp " + grid + " --source 0" + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("--run-ahead"), std::string::npos) << r.output;
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, SsspRanks, testing::Values("ucx", "tcp"));

}  // namespace
