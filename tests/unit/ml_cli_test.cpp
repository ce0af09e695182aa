// The machine-learning apps through `atoll` as a user runs them (the examples of docs/ml.md):
// generators, summaries, --out files, --metrics, `atoll info` on a ratings matrix, and the exit
// codes and messages of bad input (1) and options out of range (2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "atoll/apps/image.hpp"
#include "test_util.hpp"

namespace {

using atl::test::CommandResult;
using atl::test::run_command;
using atl::test::TempDir;
using atl::test::write_file;
using testing::HasSubstr;

CommandResult atoll(const std::string& args) {
  return run_command(std::string("'") + ATOLL_BINARY + "' " + args);
}

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

std::map<std::string, std::string> lines_of(const std::string& path) {
  std::map<std::string, std::string> m;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto tab = line.find('\t');
    m[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return m;
}

TEST(MlCli, JacobiSolvesTheDocsExample) {
  TempDir dir;
  write_file(dir.file("A.mtx"),
             "%%MatrixMarket matrix coordinate real general\n3 3 7\n1 1 4\n1 2 -1\n2 1 -1\n"
             "2 2 4\n2 3 -1\n3 2 -1\n3 3 4\n");
  write_file(dir.file("b.txt"), "1 2\n2 4\n3 10\n");
  CommandResult r = atoll("run jacobi --graph " + dir.file("A.mtx") + " --rhs " +
                          dir.file("b.txt") + " --tol 1e-12 --out " + dir.file("x.tsv"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("jacobi: 3 rows converged in"));
  auto x = lines_of(dir.file("x.tsv"));
  ASSERT_EQ(x.size(), 3u);
  EXPECT_NEAR(std::stod(x["1"]), 1, 1e-10);
  EXPECT_NEAR(std::stod(x["2"]), 2, 1e-10);
  EXPECT_NEAR(std::stod(x["3"]), 3, 1e-10);
  // A row without its diagonal entry; a run that cannot converge.
  write_file(dir.file("bad.mtx"),
             "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n1 2 2\n2 1 2\n");
  r = atoll("run jacobi --graph " + dir.file("bad.mtx"));
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("row 2: the diagonal entry is zero or missing"));
  write_file(dir.file("bad.mtx"),
             "%%MatrixMarket matrix coordinate real general\n2 2 4\n1 1 1\n1 2 2\n2 1 2\n2 2 1\n");
  write_file(dir.file("b2.txt"), "1 1\n2 0.5\n");
  r = atoll("run jacobi --graph " + dir.file("bad.mtx") + " --rhs " + dir.file("b2.txt") +
            " --iterations 20");
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("did not converge in 20 sweeps"));
  r = atoll("run jacobi --graph " + dir.file("A.mtx") + " --tol -1");
  EXPECT_EQ(r.exit_code, 2) << describe(r);
}

TEST(MlCli, CoemAndLbpWriteVectorsAndReportBadLines) {
  TempDir dir;
  ASSERT_EQ(atoll("generate grid --rows 10 --cols 10 --out " + dir.file("g.el")).exit_code, 0);
  write_file(dir.file("seeds"), "0 0\n99 1\n");
  CommandResult r = atoll("run coem --graph " + dir.file("g.el") + " --types 2 --seeds " +
                          dir.file("seeds") + " --out " + dir.file("s.tsv"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("coem: 100 of 100 vertices have a score"));
  auto s = lines_of(dir.file("s.tsv"));
  EXPECT_EQ(s["0"], "1 0");
  EXPECT_EQ(s["99"], "0 1");
  write_file(dir.file("seeds"), "0 0\n99 2\n");
  r = atoll("run coem --graph " + dir.file("g.el") + " --types 2 --seeds " + dir.file("seeds"));
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr(dir.file("seeds") + ":2: seed type 2 is not an integer in 0..1"));
  r = atoll("run coem --graph " + dir.file("g.el") + " --types 1 --seeds " + dir.file("seeds"));
  EXPECT_EQ(r.exit_code, 2) << describe(r);

  write_file(dir.file("priors"), "0 5 1\n99 1 5\n");
  r = atoll("run lbp --graph " + dir.file("g.el") + " --states 2 --priors " + dir.file("priors") +
            " --smoothing 0.8 --scheduler priority --out " + dir.file("b.tsv"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("lbp: 100 vertices, converged"));
  auto b = lines_of(dir.file("b.tsv"));
  ASSERT_EQ(b.size(), 100u);
  double p0, p1;
  std::istringstream(b["0"]) >> p0 >> p1;
  EXPECT_NEAR(p0 + p1, 1, 1e-12);
  EXPECT_GT(p0, 0.7);
  write_file(dir.file("priors"), "0 5 1\n99 -1 5\n");
  r = atoll("run lbp --graph " + dir.file("g.el") + " --states 2 --priors " + dir.file("priors"));
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr(dir.file("priors") + ":2: negative prior -1"));
  for (const char* bad : {"--states 1", "--smoothing -1", "--damping 1"}) {
    r = atoll("run lbp --graph " + dir.file("g.el") + " " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << describe(r);
  }
}

TEST(MlCli, DenoiseTheGeneratedPicture) {
  TempDir dir;
  CommandResult r = atoll("generate image --width 120 --height 90 --states 4 --noise 50 --out " +
                          dir.file("noisy.png") + " --clean " + dir.file("clean.pgm"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  r = atoll("run denoise --image " + dir.file("noisy.png") +
            " --states 4 --smoothing 2 --sigma 50 --out " + dir.file("out.pgm"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("denoise: 120 x 90 pixels, 4 levels, converged"));
  atl::Image clean = atl::read_image(dir.file("clean.pgm"));
  atl::Image out = atl::read_image(dir.file("out.pgm"));
  ASSERT_EQ(out.pixels.size(), clean.pixels.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < out.pixels.size(); ++i) wrong += out.pixels[i] != clean.pixels[i];
  EXPECT_LT(static_cast<double>(wrong) / static_cast<double>(out.pixels.size()), 0.04);
  for (const char* bad : {"--sigma -1", "--states 1"}) {
    r = atoll("run denoise --image " + dir.file("noisy.png") + " " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << describe(r);
  }
  write_file(dir.file("x.pgm"), "P5 4 4 255\n");
  r = atoll("run denoise --image " + dir.file("x.pgm"));
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr(dir.file("x.pgm") + ": PGM: truncated"));
}

TEST(MlCli, AlsOnGeneratedRatings) {
  TempDir dir;
  CommandResult r =
      atoll("generate ratings --users 300 --items 150 --rank 3 --noise 0.1 --density 0.3 --out " +
            dir.file("train.mtx") + " --test-out " + dir.file("test.mtx"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  r = atoll("info " + dir.file("train.mtx"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out,
              HasSubstr("bipartite       300 rows (vertices 1..300) x 150 columns (301..450)"));
  r = atoll("run als --graph " + dir.file("train.mtx") + " --test " + dir.file("test.mtx") +
            " --rank 3 --lambda 0.002 --iterations 10 --out " + dir.file("f.tsv") + " --metrics " +
            dir.file("m.json"));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  double train = 0, test = 0;
  auto at = r.out.find("train RMSE ");
  ASSERT_NE(at, std::string::npos) << describe(r);
  std::istringstream(r.out.substr(at + 11)) >> train;
  at = r.out.find("test RMSE ");
  ASSERT_NE(at, std::string::npos) << describe(r);
  std::istringstream(r.out.substr(at + 10)) >> test;
  EXPECT_LT(train, 0.1);
  EXPECT_LT(test, 0.125);
  auto f = lines_of(dir.file("f.tsv"));
  ASSERT_EQ(f.size(), 450u);
  EXPECT_EQ(std::count(f["1"].begin(), f["1"].end(), ' '), 2);  // three values
  std::string json = atl::test::read_file(dir.file("m.json"));
  EXPECT_THAT(json, HasSubstr("\"train_rmse\":["));
  EXPECT_THAT(json, HasSubstr("\"test_rmse\":["));
  for (const char* bad : {"--rank 0", "--lambda -1", "--rank 65"}) {
    r = atoll("run als --graph " + dir.file("train.mtx") + " " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << describe(r);
  }
  for (const char* bad :
       {"--users 0", "--users 9 --density 0", "--users 9 --density 1.5", "--users 9 --noise -1"}) {
    r = atoll(std::string("generate ratings --items 10 ") + bad + " --out " + dir.file("x.mtx"));
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << describe(r);
  }
}

}  // namespace
