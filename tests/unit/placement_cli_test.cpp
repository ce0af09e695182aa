// `atoll info DIR --ranks N`: the placement a load would use, per rank.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "test_util.hpp"

namespace atl {
namespace {

std::string atoll() {
  return ATOLL_BINARY;
}

TEST(PlacementCli, InfoShowsPerRankLoadAndMetisBeatsHashOnAGrid) {
  test::TempDir dir;
  ASSERT_EQ(test::run_command(atoll() + " generate grid --rows 60 --cols 60 --out " +
                              dir.file("grid.txt"))
                .exit_code,
            0);
  double replication[2] = {0, 0};
  int i = 0;
  for (const char* method : {"hash", "metis"}) {
    std::string atoms = dir.file(std::string("atoms-") + method);
    test::CommandResult p = test::run_command(atoll() + " partition " + dir.file("grid.txt") +
                                              " --atoms 32 --method " + method + " --out " + atoms);
    ASSERT_EQ(p.exit_code, 0) << p.err;
    test::CommandResult r = test::run_command(atoll() + " info " + atoms + " --ranks 3");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("replication factor ([0-9.]+)"))) << r.out;
    replication[i++] = std::stod(m[1]);
    // Three rank rows whose owned vertices add up to the grid's 3600.
    std::regex row("\n +([0-9]+) +([0-9]+) +([0-9]+) +([0-9]+) +([0-9]+)");
    unsigned long long vertices = 0;
    int rows = 0;
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), row);
         it != std::sregex_iterator(); ++it, ++rows) {
      vertices += std::stoull((*it)[3]);
    }
    EXPECT_EQ(rows, 3) << r.out;
    EXPECT_EQ(vertices, 3600u) << r.out;
    test::CommandResult j = test::run_command(atoll() + " info " + atoms + " --ranks 3 --json");
    ASSERT_EQ(j.exit_code, 0) << j.err;
    EXPECT_NE(j.out.find("\"replication_factor\""), std::string::npos) << j.out;
  }
  EXPECT_LT(replication[1], replication[0] / 4)
      << "metis " << replication[1] << " hash " << replication[0];
}

TEST(PlacementCli, RanksNeedsAnAtomDirectoryAndAPositiveCount) {
  test::TempDir dir;
  test::write_file(dir.file("g.txt"), "1 2\n2 3\n");
  EXPECT_EQ(test::run_command(atoll() + " info " + dir.file("g.txt") + " --ranks 2").exit_code, 2);
  ASSERT_EQ(test::run_command(atoll() + " partition " + dir.file("g.txt") + " --atoms 4 --out " +
                              dir.file("a"))
                .exit_code,
            0);
  EXPECT_EQ(test::run_command(atoll() + " info " + dir.file("a") + " --ranks 0").exit_code, 2);
  EXPECT_EQ(test::run_command(atoll() + " info " + dir.file("a") + " --ranks 2").exit_code, 0);
}

}  // namespace
}  // namespace atl
