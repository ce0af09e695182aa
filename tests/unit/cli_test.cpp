// Tests of the `atoll` command line, run as a separate process: exit codes (0 ok, 1 runtime
// error, 2 usage error), messages on stderr, `info` text and JSON output, `generate`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace {

using atl::test::CommandResult;
using atl::test::read_file;
using atl::test::run_command;
using atl::test::TempDir;
using atl::test::write_file;
using testing::HasSubstr;
using testing::Not;

/// Runs `atoll ARGS` (args are pasted into a shell command line).
CommandResult atoll(const std::string& args) {
  return run_command(std::string("'") + ATOLL_BINARY + "' " + args);
}

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

TEST(CliTest, NoArgumentsIsAUsageError) {
  CommandResult r = atoll("");
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("generate"));
  EXPECT_THAT(r.err, HasSubstr("info"));
  EXPECT_TRUE(r.out.empty()) << describe(r);
}

TEST(CliTest, UnknownSubcommand) {
  CommandResult r = atoll("frobnicate");
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("unknown subcommand 'frobnicate'")) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("valid here: help, generate, convert, info")) << describe(r);
}

TEST(CliTest, UnknownFlagListsValidOptions) {
  CommandResult r = atoll("info x --bogus");
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("--bogus"));
  EXPECT_THAT(r.err, HasSubstr("--json"));
  EXPECT_THAT(r.err, HasSubstr("--threads"));
  EXPECT_THAT(r.err, HasSubstr("--format"));
  EXPECT_THAT(r.err, Not(HasSubstr("cannot open")));  // rejected before reading anything
}

TEST(CliTest, MissingRequiredArguments) {
  CommandResult info = atoll("info");
  EXPECT_EQ(info.exit_code, 2) << describe(info);
  EXPECT_THAT(info.err, HasSubstr("graph"));
  CommandResult gen = atoll("generate");
  EXPECT_EQ(gen.exit_code, 2) << describe(gen);
  EXPECT_THAT(gen.err, HasSubstr("kronecker"));
  EXPECT_THAT(gen.err, HasSubstr("grid"));
  TempDir dir;
  CommandResult grid = atoll("generate grid --rows 3 --out '" + dir.file("g.txt") + "'");
  EXPECT_EQ(grid.exit_code, 2) << describe(grid);
  EXPECT_THAT(grid.err, HasSubstr("--cols"));
}

TEST(CliTest, Help) {
  CommandResult r = atoll("--help");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("generate"));
  EXPECT_THAT(r.out, HasSubstr("info"));
  CommandResult sub = atoll("info --help");
  EXPECT_EQ(sub.exit_code, 0) << describe(sub);
  EXPECT_THAT(sub.out, HasSubstr("--json"));
}

TEST(CliTest, InfoMissingFile) {
  CommandResult r = atoll("info /nonexistent/graph.txt");
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/graph.txt: cannot open"));
}

TEST(CliTest, InfoMalformedFileNamesFileAndLine) {
  TempDir dir;
  std::string path = dir.file("bad.txt");
  write_file(path, "1 2\n# comment\n3 x\n");
  CommandResult r = atoll("info '" + path + "'");
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr(path + ":3: expected a destination vertex id"));
}

TEST(CliTest, InfoText) {
  TempDir dir;
  std::string path = dir.file("g.txt");
  write_file(path, "1 2\n2 3\n3 3\n1 2\n");
  CommandResult r = atoll("info '" + path + "'");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("vertices        3\n"));
  EXPECT_THAT(r.out, HasSubstr("edges           4\n"));
  EXPECT_THAT(r.out, HasSubstr("self-loops      1\n"));
  EXPECT_THAT(r.out, HasSubstr("duplicate edges 1\n"));
  EXPECT_THAT(r.out, HasSubstr("weighted        no\n"));
  CommandResult d = atoll("info '" + path + "' --symmetrize --dedup");
  ASSERT_EQ(d.exit_code, 0) << describe(d);
  EXPECT_THAT(d.out, HasSubstr("edges           4 (input 4)\n"));  // 1-2, 2-1, 2-3, 3-2
  EXPECT_THAT(d.out, HasSubstr("self-loops      0\n"));
}

TEST(CliTest, InfoJson) {
  TempDir dir;
  std::string path = dir.file("g.gr");
  write_file(path, "c x\np sp 4 3\na 1 2 5\na 2 3 1.5\na 3 3 2\n");
  CommandResult r = atoll("info '" + path + "' --json");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string& j = r.out;
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.substr(j.size() - 2), "}\n");
  EXPECT_EQ(std::count(j.begin(), j.end(), '\n'), 1);
  for (const char* want :
       {"\"graph\":\"", "\"format\":\"gr\"", "\"compression\":\"none\"", "\"input_edges\":3",
        "\"vertices\":4", "\"edges\":3", "\"self_loops\":1", "\"duplicate_edges\":0",
        "\"isolated_vertices\":1", "\"out_degree\":{\"min\":0,\"max\":1,\"mean\":0.75}",
        "\"in_degree\":{\"min\":0,\"max\":2,\"mean\":0.75}", "\"weighted\":true",
        "\"symmetrized\":false", "\"deduplicated\":false",
        "\"load_seconds\":", "\"read_seconds\":", "\"build_seconds\":", "\"graph_bytes\":"}) {
    EXPECT_THAT(j, HasSubstr(want)) << j;
  }
}

TEST(CliTest, InfoJsonCompressedSnap) {
  TempDir dir;
  std::string path = dir.file("g.txt.zst");
  write_file(path, atl::test::zstd_compress("1 2\n2 3\n"));
  CommandResult r = atoll("info '" + path + "' --json --threads 1");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("\"vertices\":3"));
  EXPECT_THAT(r.out, HasSubstr("\"edges\":2"));
  EXPECT_THAT(r.out, HasSubstr("\"format\":\"snap\""));
  EXPECT_THAT(r.out, HasSubstr("\"compression\":\"zstd\""));
  EXPECT_THAT(r.out, HasSubstr("\"weighted\":false"));
}

TEST(CliTest, InfoFormatFlag) {
  TempDir dir;
  std::string path = dir.file("g.gr");
  write_file(path, "p sp 2 1\na 1 2 1\n");
  CommandResult forced = atoll("info '" + path + "' --format snap");
  EXPECT_EQ(forced.exit_code, 1) << describe(forced);
  EXPECT_THAT(forced.err, HasSubstr(path + ":1: expected a source vertex id"));
  CommandResult bad = atoll("info '" + path + "' --format xml");
  EXPECT_EQ(bad.exit_code, 2) << describe(bad);
  EXPECT_THAT(bad.err, HasSubstr("unknown graph format 'xml'"));
}

TEST(CliTest, Threads) {
  TempDir dir;
  std::string path = dir.file("g.txt");
  write_file(path, "1 2\n");
  CommandResult zero = atoll("info '" + path + "' --threads 0");  // 0: TBB's default
  EXPECT_EQ(zero.exit_code, 0) << describe(zero);
  CommandResult two = atoll("info '" + path + "' --threads 2");
  EXPECT_EQ(two.exit_code, 0) << describe(two);
  CommandResult negative = atoll("info '" + path + "' --threads -1");
  EXPECT_EQ(negative.exit_code, 2) << describe(negative);
  EXPECT_THAT(negative.err, HasSubstr("--threads must be at least 1, got -1"));
  CommandResult text = atoll("info '" + path + "' --threads many");
  EXPECT_EQ(text.exit_code, 2) << describe(text);
}

TEST(CliTest, ThreadsFollowTheCpuAffinityMask) {
  // A process bound to one CPU (taskset, srun --cpu-bind) runs one worker by default, on one
  // rank and on each of two ranks, rather than one per CPU of the machine.
  if (std::thread::hardware_concurrency() < 2 || std::system("taskset -c 0 true") != 0) {
    GTEST_SKIP() << "needs 2 CPUs and taskset";
  }
  TempDir dir;
  const std::string path = dir.file("g.txt");
  write_file(path, "1 2\n2 3\n3 1\n");
  for (const char* ranks : {"1", "2"}) {
    SCOPED_TRACE(ranks);
    const std::string metrics = dir.file(std::string("m") + ranks + ".json");
    CommandResult r =
        run_command(std::string("taskset -c 0 '") + ATOLL_BINARY + "' run pagerank '" + path +
                    "' -q --ranks " + ranks + " --metrics '" + metrics + "'");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(read_file(metrics), HasSubstr("\"workers\":\"1 thread")) << read_file(metrics);
  }
}

TEST(CliTest, GenerateGridThenInfo) {
  TempDir dir;
  std::string out = dir.file("grid.txt");
  CommandResult gen = atoll("generate grid --rows 3 --cols 4 --out '" + out + "'");
  ASSERT_EQ(gen.exit_code, 0) << describe(gen);
  EXPECT_THAT(gen.out, HasSubstr("wrote 17 edges"));
  CommandResult info = atoll("info '" + out + "' --json");
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_THAT(info.out, HasSubstr("\"vertices\":12"));
  EXPECT_THAT(info.out, HasSubstr("\"edges\":17"));
  EXPECT_THAT(info.out, HasSubstr("\"weighted\":false"));
  // Binary output, weighted, and the symmetrized view.
  std::string bin = dir.file("grid.bin");
  gen = atoll("generate grid --rows 3 --cols 4 --weights 1:9 --out '" + bin + "'");
  ASSERT_EQ(gen.exit_code, 0) << describe(gen);
  info = atoll("info '" + bin + "' --json --symmetrize");
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_THAT(info.out, HasSubstr("\"format\":\"bin\""));
  EXPECT_THAT(info.out, HasSubstr("\"vertices\":12"));
  EXPECT_THAT(info.out, HasSubstr("\"edges\":34"));
  EXPECT_THAT(info.out, HasSubstr("\"weighted\":true"));
}

TEST(CliTest, GenerateSymmetrizedAndDeduplicated) {
  TempDir dir;
  std::string out = dir.file("grid-sym.txt");
  CommandResult gen = atoll("generate grid --rows 3 --cols 4 --symmetrize --out '" + out + "'");
  ASSERT_EQ(gen.exit_code, 0) << describe(gen);
  EXPECT_THAT(gen.out, HasSubstr("wrote 34 edges"));
  CommandResult info = atoll("info '" + out + "' --json");
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_THAT(info.out, HasSubstr("\"vertices\":12"));
  EXPECT_THAT(info.out, HasSubstr("\"edges\":34"));
  EXPECT_THAT(info.out, HasSubstr("\"duplicate_edges\":0"));
  // 20 uniform edges over 3 vertices must repeat pairs; --dedup leaves a simple graph.
  std::string simple = dir.file("simple.bin");
  gen = atoll("generate uniform --vertices 3 --edges 20 --dedup --out '" + simple + "'");
  ASSERT_EQ(gen.exit_code, 0) << describe(gen);
  info = atoll("info '" + simple + "' --json");
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_THAT(info.out, HasSubstr("\"self_loops\":0"));
  EXPECT_THAT(info.out, HasSubstr("\"duplicate_edges\":0"));
}

TEST(CliTest, GenerateKroneckerAndUniform) {
  TempDir dir;
  CommandResult k = atoll("generate kronecker --scale 6 --edge-factor 4 --seed 3 --out '" +
                          dir.file("k.txt") + "'");
  ASSERT_EQ(k.exit_code, 0) << describe(k);
  EXPECT_THAT(k.out, HasSubstr("wrote 256 edges"));
  CommandResult u = atoll("generate uniform --vertices 10 --edges 30 --weights 2:2 --out '" +
                          dir.file("u.bin") + "'");
  ASSERT_EQ(u.exit_code, 0) << describe(u);
  EXPECT_THAT(u.out, HasSubstr("wrote 30 edges with weights"));
  CommandResult info = atoll("info '" + dir.file("u.bin") + "' --json");
  EXPECT_THAT(info.out, HasSubstr("\"input_edges\":30"));
}

/// The "gid<TAB>value" lines of an --out file.
std::vector<std::pair<std::string, double>> out_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::pair<std::string, double>> lines;
  std::string gid;
  double value = 0;
  while (in >> gid >> value) lines.emplace_back(gid, value);
  return lines;
}

TEST(CliTest, DegreeOrderGivesTheSamePageRankInGidOrder) {
  TempDir dir;
  const std::string g = dir.file("k.el");  // a mkdtemp path: no quotes needed
  ASSERT_EQ(atoll("generate kronecker --scale 9 --edge-factor 8 --seed 5 --symmetrize --dedup "
                  "--out " +
                  g)
                .exit_code,
            0);
  const std::string run = "run pagerank " + g + " --iterations 30 --tol 0 --threads 2 --top 3 ";
  CommandResult plain = atoll(run + "--out " + dir.file("plain.tsv"));
  ASSERT_EQ(plain.exit_code, 0) << describe(plain);
  CommandResult relabelled = atoll(run + "--degree-order --out " + dir.file("deg.tsv"));
  ASSERT_EQ(relabelled.exit_code, 0) << describe(relabelled);
  EXPECT_THAT(relabelled.err, HasSubstr("(by degree)"));
  const auto a = out_lines(dir.file("plain.tsv"));
  const auto b = out_lines(dir.file("deg.tsv"));
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 100u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first) << "line " << i;  // both in gid order
    ASSERT_NEAR(a[i].second, b[i].second, 1e-12 * a[i].second) << "gid " << a[i].first;
  }
  // The top list names the same vertices.
  auto top = [](const std::string& out) { return out.substr(out.find("  #1 ")); };
  EXPECT_EQ(top(plain.out), top(relabelled.out));
  // Apps that number labels by lid order refuse it; so do several ranks and checkpoints.
  CommandResult cc = atoll("run cc " + g + " --degree-order");
  EXPECT_EQ(cc.exit_code, 2) << describe(cc);
  EXPECT_THAT(cc.err, HasSubstr("relies on vertices numbered in gid order"));
  CommandResult ranks = atoll(run + "--degree-order --ranks 2");
  EXPECT_EQ(ranks.exit_code, 2) << describe(ranks);
  EXPECT_THAT(ranks.err, HasSubstr("--degree-order is for one rank"));
  CommandResult ck =
      atoll(run + "--degree-order --checkpoint-dir '" + dir.file("ck") + "' --checkpoint-every 5");
  EXPECT_EQ(ck.exit_code, 2) << describe(ck);
  EXPECT_THAT(ck.err, HasSubstr("does not combine with checkpoints"));
}

TEST(CliTest, GenerateBadWeights) {
  TempDir dir;
  std::string out = dir.file("k.txt");
  CommandResult reversed = atoll("generate kronecker --scale 4 --weights 5:1 --out '" + out + "'");
  EXPECT_EQ(reversed.exit_code, 2) << describe(reversed);
  EXPECT_THAT(reversed.err, HasSubstr("--weights MIN:MAX needs MIN <= MAX, got '5:1'"));
  CommandResult text = atoll("generate kronecker --scale 4 --weights abc --out '" + out + "'");
  EXPECT_EQ(text.exit_code, 2) << describe(text);
  EXPECT_THAT(text.err, HasSubstr("--weights expects MIN:MAX with integers, got 'abc'"));
  CommandResult trailing =
      atoll("generate grid --rows 2 --cols 2 --weights 1:2x --out '" + out + "'");
  EXPECT_EQ(trailing.exit_code, 2) << describe(trailing);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(CliTest, GenerateUnwritablePath) {
  CommandResult r = atoll("generate grid --rows 2 --cols 2 --out /nonexistent-dir/g.txt");
  EXPECT_EQ(r.exit_code, 2) << describe(r);  // refused before generating
  EXPECT_THAT(r.err, HasSubstr("--out /nonexistent-dir/g.txt: directory /nonexistent-dir does "
                               "not exist"));
}

TEST(CliTest, GenerateRejectsInputOnlyFormats) {
  TempDir dir;
  std::string out = dir.file("g.gr");
  CommandResult r = atoll("generate grid --rows 2 --cols 2 --format gr --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("--format for generate must be snap, bin or mtx, got 'gr'"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace

namespace atl {
namespace {

// Writing results to something that is not a regular file (a FIFO here, /dev/null for users)
// writes into it; it must never be replaced by a renamed temporary file.
TEST(CliOutput, ANonRegularOutputIsWrittenNotReplaced) {
  test::TempDir dir;
  test::write_file(dir.file("g.txt"), "1 2\n2 3\n5 6\n");
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& cmd :
       {std::string(ATOLL_BINARY) + " run cc --graph " + dir.file("g.txt") + " --out " + fifo,
        std::string(ATOLL_BINARY) + " generate grid --rows 3 --cols 3 --out " + fifo}) {
    const std::string sink = dir.file("sink");
    test::CommandResult r =
        test::run_command("timeout 20 cat '" + fifo + "' > '" + sink + "' & " + cmd + "; wait");
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
    struct stat st;
    ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << cmd << " replaced the FIFO";
    EXPECT_FALSE(test::read_file(sink).empty()) << cmd;
  }
}

}  // namespace
}  // namespace atl
