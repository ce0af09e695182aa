// Connected components through the command line on 1, 2 and 3 ranks over UCX and TCP, on each
// engine that runs cc (chromatic, locking, pregel), against the serial union-find of
// tests/unit/reference_algorithms.hpp: hundreds of components with isolated vertices (a Matrix
// Market file declares them), long paths whose consecutive vertices sit on different ranks
// (labels must cross the cut hundreds of times after each rank's local union-find), and a
// Kronecker graph.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "../unit/components_inputs.hpp"
#include "../unit/reference_algorithms.hpp"
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

/// gid -> label text, as `atoll run cc --out` writes it, from the reference.
std::map<unsigned long long, std::string> reference_labels(const std::string& path) {
  const EdgeList list = read_edge_list(path);
  const std::vector<Gid> ids = test::reference_vertices(list);
  const std::vector<Gid> labels = test::reference_components(list);
  std::map<unsigned long long, std::string> out;
  for (std::size_t i = 0; i < ids.size(); ++i) out[ids[i]] = std::to_string(labels[i]);
  return out;
}

class ComponentsRanks : public testing::TestWithParam<std::string> {};

TEST_P(ComponentsRanks, EveryEngineGivesTheReference) {
  TempDir dir;
  // Isolated vertices need a declared vertex set: Matrix Market numbers vertices from 1.
  EdgeList many = test::many_components(300, 30, 7);
  for (Edge& e : many.edges) e = {e.src + 1, e.dst + 1};
  many.declared = VertexRange{1, many.declared->count};
  std::vector<std::string> graphs = {dir.file("many.mtx"), dir.file("paths.txt"),
                                     dir.file("kron.txt")};
  write_edge_list(many, graphs[0]);
  write_edge_list(test::paths(400), graphs[1]);
  KroneckerParams k;
  k.scale = 10;
  k.edge_factor = 4;
  write_edge_list(generate_kronecker(k), graphs[2]);
  const std::string t = GetParam();
  for (const std::string& graph : graphs) {
    const auto expected = reference_labels(graph);
    ASSERT_GT(expected.size(), 500u);
    for (const char* engine : {"chromatic", "locking", "pregel"}) {
      for (int ranks : {1, 2, 3}) {
        SCOPED_TRACE(graph + " " + engine + " on " + std::to_string(ranks) + " ranks over " + t);
        const std::string out = dir.file("labels.tsv");
        test::Result r = test::run(atoll() + " run cc --graph " + graph + " --engine " + engine +
                                   " --threads 2 --ranks " + std::to_string(ranks) +
                                   " --transport " + t + " --out " + out);
        ASSERT_EQ(r.code, 0) << r.output;
        EXPECT_EQ(test::read_values(out), expected);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, ComponentsRanks, testing::Values("ucx", "tcp"));

}  // namespace
