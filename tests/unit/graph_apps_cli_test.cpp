// The graph apps and the planted generator through the command line, as docs/graph-apps.md
// shows them: summaries, --out files checked against the references of undirected_reference.hpp,
// and usage errors.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "atoll/graph/read_graph.hpp"
#include "test_util.hpp"
#include "undirected_reference.hpp"

namespace atl {
namespace {

test::CommandResult atoll(const std::string& args) {
  return test::run_command(std::string("'") + ATOLL_BINARY + "' " + args);
}

/// The values of an --out file, in its (gid) order, checking the gids are `gids`.
std::vector<std::uint64_t> read_out(const std::string& path, const std::vector<Gid>& gids) {
  std::ifstream in(path);
  std::vector<std::uint64_t> values;
  std::string line;
  std::size_t i = 0;
  while (std::getline(in, line)) {
    const std::size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string::npos) << line;
    EXPECT_LT(i, gids.size());
    if (i < gids.size()) {
      EXPECT_EQ(std::stoull(line.substr(0, tab)), gids[i]) << line;
    }
    values.push_back(std::stoull(line.substr(tab + 1)));
    ++i;
  }
  EXPECT_EQ(values.size(), gids.size());
  return values;
}

TEST(GraphAppsCli, DocumentedExamplesRunAndAreRight) {
  test::TempDir dir;
  const std::string g = dir.file("planted.txt");
  auto gen = atoll(
      "generate planted --communities 8 --size 500 --internal-degree 16 "
      "--external-degree 2 --seed 1 --out " +
      g);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  test::UndirectedGraph view = test::undirected_view(read_edge_list(g));
  ASSERT_EQ(view.gids.size(), 4000u);

  auto core = atoll("run kcore --graph " + g + " --out " + dir.file("core.tsv"));
  ASSERT_EQ(core.exit_code, 0) << core.err;
  std::vector<std::uint64_t> expected = test::reference_kcore(view);
  EXPECT_EQ(read_out(dir.file("core.tsv"), view.gids), expected);
  EXPECT_NE(core.out.find("kcore: largest coreness " +
                          std::to_string(*std::max_element(expected.begin(), expected.end()))),
            std::string::npos)
      << core.out;

  auto tri = atoll("run triangles --graph " + g + " --threads 2 --out " + dir.file("tri.tsv"));
  ASSERT_EQ(tri.exit_code, 0) << tri.err;
  std::vector<std::uint64_t> count = test::reference_triangles(view);
  EXPECT_EQ(read_out(dir.file("tri.tsv"), view.gids), count);
  std::uint64_t total = 0;
  for (std::uint64_t c : count) total += c;
  EXPECT_NE(tri.out.find("triangles: " + std::to_string(total / 3) + " in all"), std::string::npos)
      << tri.out;

  auto col = atoll("run coloring --graph " + g + " --out " + dir.file("colors.tsv"));
  ASSERT_EQ(col.exit_code, 0) << col.err;
  EXPECT_EQ(test::coloring_conflicts(view, read_out(dir.file("colors.tsv"), view.gids)), 0u);
  EXPECT_NE(col.out.find(" colours, 0 conflicts"), std::string::npos) << col.out;

  auto lp = atoll("run labelprop --graph " + g + " --seed 7 --out " + dir.file("labels.tsv"));
  ASSERT_EQ(lp.exit_code, 0) << lp.err;
  EXPECT_EQ(test::planted_errors(view.gids, read_out(dir.file("labels.tsv"), view.gids), 500), 0u);
  EXPECT_NE(lp.out.find("labelprop: 8 communities"), std::string::npos) << lp.out;
}

TEST(GraphAppsCli, UsageErrors) {
  test::TempDir dir;
  const std::string g = dir.file("g.txt");
  ASSERT_EQ(atoll("generate planted --communities 2 --size 5 --out " + g).exit_code, 0);
  auto vertex = atoll("run coloring --graph " + g + " --consistency vertex --out " + dir.file("o"));
  EXPECT_EQ(vertex.exit_code, 2);
  EXPECT_NE(vertex.err.find("needs edge consistency"), std::string::npos) << vertex.err;
  auto seed = atoll("run labelprop --graph " + g + " --seed x --out " + dir.file("o"));
  EXPECT_EQ(seed.exit_code, 2) << seed.err;
  auto bad = atoll("generate planted --communities 1 --size 5 --external-degree 1 --out " + g);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("external edges need 2 or more communities"), std::string::npos)
      << bad.err;
  auto missing = atoll("generate planted --size 5 --out " + g);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--communities"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace atl
