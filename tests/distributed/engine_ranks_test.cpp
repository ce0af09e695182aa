// The distributed chromatic engine through the command line a user runs: every app on 1 to 4
// ranks over UCX and TCP gives the single-rank answer (cc and sssp exactly, PageRank within
// 1e-9 in L1), from plain files and atom directories; a rank killed mid-run stops the job.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "process_util.hpp"

namespace {

using atl::test::read_values;
using atl::test::Result;
using atl::test::run;
using atl::test::TempDir;

std::string atoll() {
  return ATOLL_BINARY;
}

/// Runs `app args` on one rank and on `ranks` ranks and compares the --out files.
void expect_same(const TempDir& dir, const std::string& app_args, int ranks,
                 const std::string& transport, bool exact, const std::string& how = "") {
  SCOPED_TRACE(app_args + " on " + std::to_string(ranks) + " ranks over " + transport + " " + how);
  const std::string one = dir.file("one.tsv");
  const std::string many = dir.file("many.tsv");
  Result a = run(atoll() + " run " + app_args + " --out " + one);
  ASSERT_EQ(a.code, 0) << a.output;
  std::string cmd = how == "launch"
                        ? atoll() + " launch -n " + std::to_string(ranks) + " -- " + atoll() +
                              " run " + app_args + " --transport " + transport + " --out " + many
                        : atoll() + " run " + app_args + " --ranks " + std::to_string(ranks) +
                              " --transport " + transport + " --out " + many;
  Result b = run(cmd);
  ASSERT_EQ(b.code, 0) << b.output;
  auto x = read_values(one);
  auto y = read_values(many);
  ASSERT_EQ(x.size(), y.size());
  ASSERT_FALSE(x.empty());
  double l1 = 0;
  for (const auto& [gid, value] : x) {
    auto it = y.find(gid);
    ASSERT_NE(it, y.end()) << "vertex " << gid << " missing";
    if (exact) {
      EXPECT_EQ(value, it->second) << "vertex " << gid;
    } else {
      l1 += std::abs(std::stod(value) - std::stod(it->second));
    }
  }
  if (!exact) {
    EXPECT_LE(l1, 1e-9);
  }
}

class EngineRanks : public testing::TestWithParam<std::string> {};

TEST_P(EngineRanks, AppsGiveTheSingleRankAnswer) {
  TempDir dir;
  const std::string kron = dir.file("kron.txt");
  const std::string uni = dir.file("uni.txt");
  const std::string grid = dir.file("grid.bin");
  ASSERT_EQ(run(atoll() + " generate kronecker --scale 11 --edge-factor 8 --out " + kron).code, 0);
  ASSERT_EQ(
      run(atoll() + " generate uniform --vertices 4000 --edges 6000 --weights 1:30 --out " + uni)
          .code,
      0);
  ASSERT_EQ(
      run(atoll() + " generate grid --rows 40 --cols 50 --weights 1:9 --format bin --out " + grid)
          .code,
      0);
  const std::string t = GetParam();
  for (int ranks : {1, 2, 3, 4}) {
    const std::string how = ranks == 1 ? "launch" : "";  // one rank of a launched job
    expect_same(dir, "pagerank --graph " + kron + " --tol 1e-12", ranks, t, false, how);
    expect_same(dir, "pagerank --dynamic --graph " + kron + " --tol 1e-13", ranks, t, false, how);
    expect_same(dir, "cc --graph " + uni, ranks, t, true, how);
    expect_same(dir, "sssp --graph " + uni + " --source 17", ranks, t, true, how);
    expect_same(dir, "sssp --graph " + grid + " --symmetrize --source 0", ranks, t, true, how);
  }
  // Edge consistency (a distance-1 colouring agreed across ranks) gives the same fixpoints.
  expect_same(dir, "cc --graph " + uni + " --consistency edge --scheduler fifo", 3, t, true);
  expect_same(dir, "cc --graph " + kron + " --consistency full", 2, t, true);
  // Edge data on the cut (sssp's weights) under edge consistency: both copies kept equal.
  expect_same(dir, "sssp --graph " + uni + " --source 17 --consistency edge --scheduler fifo", 2, t,
              true);
}

TEST_P(EngineRanks, AtomDirectoriesAndRealGraphs) {
  TempDir dir;
  const std::string t = GetParam();
  const std::string uni = dir.file("uni.txt");
  ASSERT_EQ(
      run(atoll() + " generate uniform --vertices 3000 --edges 12000 --weights 1:5 --out " + uni)
          .code,
      0);
  Result p =
      run(atoll() + " partition " + uni + " --atoms 24 --method metis --out " + dir.file("atoms"));
  ASSERT_EQ(p.code, 0) << p.output;
  // Same answers from the atom directory on 3 ranks as from the file on one.
  const std::string one = dir.file("a.tsv"), many = dir.file("b.tsv");
  ASSERT_EQ(run(atoll() + " run sssp --graph " + uni + " --source 3 --out " + one).code, 0);
  Result r = run(atoll() + " run sssp --graph " + dir.file("atoms") +
                 " --source 3 --ranks 3 --transport " + t + " --out " + many);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_values(one), read_values(many));

  const std::string data = ATOLL_SHARED_DATA;
  int found = 0;
  if (std::filesystem::exists(data + "/facebook_combined.txt.zst")) {
    ++found;
    expect_same(dir, "pagerank --graph " + data + "/facebook_combined.txt.zst --tol 1e-12", 3, t,
                false);
    expect_same(dir, "cc --graph " + data + "/facebook_combined.txt.zst", 2, t, true);
  }
  if (std::filesystem::exists(data + "/rome99.gr.zst")) {
    ++found;
    expect_same(dir, "sssp --graph " + data + "/rome99.gr.zst --source 1", 4, t, true);
  }
  if (found == 0) GTEST_SKIP() << "no shared data in " << data;
}

TEST_P(EngineRanks, PerRankOutputAndMetrics) {
  TempDir dir;
  const std::string g = dir.file("g.txt");
  ASSERT_EQ(run(atoll() + " generate kronecker --scale 9 --out " + g).code, 0);
  Result r = run(atoll() + " run pagerank --graph " + g + " --ranks 2 --transport " + GetParam() +
                 " --out " + dir.file("pr") + " --out-per-rank --metrics " + dir.file("m.json"));
  ASSERT_EQ(r.code, 0) << r.output;
  auto all = read_values(dir.file("pr"));
  auto r0 = read_values(dir.file("pr.rank-0"));
  auto r1 = read_values(dir.file("pr.rank-1"));
  EXPECT_EQ(r0.size() + r1.size(), all.size());
  for (const auto& [gid, v] : r0) EXPECT_EQ(all.at(gid), v);
  for (const auto& [gid, v] : r1) EXPECT_EQ(all.at(gid), v);
  std::ifstream m(dir.file("m.json"));
  std::string json((std::istreambuf_iterator<char>(m)), {});
  EXPECT_NE(json.find("\"ranks\":2"), std::string::npos) << json.substr(0, 300);
  EXPECT_NE(json.find("\"per_rank\""), std::string::npos);
  EXPECT_NE(json.find("\"bytes_sent_rank0\""), std::string::npos);
  EXPECT_NE(r.output.find("rank 1:"), std::string::npos) << r.output;
}

TEST_P(EngineRanks, FloatViewPageRankSendsHalfTheGhostBytes) {
  TempDir dir;
  const std::string g = dir.file("g.txt");
  ASSERT_EQ(run(atoll() + " generate kronecker --scale 10 --symmetrize --out " + g).code, 0);
  auto bytes_sent = [&](const std::string& flag, const std::string& out) {
    const std::string m = dir.file("m" + flag + ".json");
    Result r = run(atoll() + " run pagerank " + g + " --tol 0 --iterations 8 --ranks 2 " + flag +
                   " --transport " + GetParam() + " --out " + out + " --metrics " + m);
    EXPECT_EQ(r.code, 0) << r.output;
    std::ifstream in(m);
    std::string json((std::istreambuf_iterator<char>(in)), {});
    const std::string key = "\"bytes_sent_rank0\":";
    const std::size_t at = json.find(key);
    EXPECT_NE(at, std::string::npos) << json.substr(0, 300);
    return at == std::string::npos ? 0.0 : std::stod(json.substr(at + key.size()));
  };
  const double exact = bytes_sent("", dir.file("a.tsv"));
  const double rounded = bytes_sent("--float", dir.file("b.tsv"));
  // The pushes carry 4-byte views instead of 8-byte ones (plus small batch headers).
  EXPECT_GT(exact, 0);
  EXPECT_LT(rounded, 0.55 * exact) << "double " << exact << " float " << rounded;
  auto a = read_values(dir.file("a.tsv"));
  auto b = read_values(dir.file("b.tsv"));
  ASSERT_EQ(a.size(), b.size());
  double l1 = 0;
  for (const auto& [gid, v] : a) l1 += std::abs(std::stod(v) - std::stod(b.at(gid)));
  EXPECT_LT(l1, 1e-5);
}

/// Sums a field over the step log of a --metrics file (0 without a step log).
std::uint64_t sum_step_field(const std::string& metrics, const std::string& field) {
  std::ifstream in(metrics);
  std::string json((std::istreambuf_iterator<char>(in)), {});
  std::string key = "\"";  // (one + chain trips a -Wrestrict false positive in GCC 12)
  key += field;
  key += "\":";
  std::uint64_t sum = 0;
  const std::size_t log = json.find("\"step_log\"");
  const std::size_t end = json.find(']', log);  // records hold no arrays
  if (log == std::string::npos || end == std::string::npos) return 0;
  for (std::size_t at = json.find(key, log); at < end; at = json.find(key, at + 1)) {
    sum += std::stoull(json.substr(at + key.size()));
  }
  return sum;
}

// A sweep's ghost data put while the sweep runs (segments of each batch as soon as their
// blocks are final) gives the same bytes as one batch after it: 2 and 3 ranks, 2 threads
// (blocks finish out of order). On the small graph every segment spreads over too many
// blocks and waits for the end of the sweep.
TEST_P(EngineRanks, OverlappedSweepsGiveTheSameRanksAsUnoverlapped) {
  TempDir dir;
  for (int scale : {16, 12}) {
    const std::string g = dir.file(std::to_string(scale) + "g.txt");
    ASSERT_EQ(run(atoll() + " generate kronecker --symmetrize --scale " + std::to_string(scale) +
                  " --out " + g)
                  .code,
              0);
    for (int ranks : {2, 3}) {
      SCOPED_TRACE("scale " + std::to_string(scale) + ", " + std::to_string(ranks) + " ranks");
      auto pagerank = [&](const std::string& flag, const std::string& name) {
        Result r =
            run(atoll() + " run pagerank " + g + " --tol 0 --iterations 5 --threads 2 " + flag +
                " --ranks " + std::to_string(ranks) + " --transport " + GetParam() + " --out " +
                dir.file(name + ".tsv") + " --metrics " + dir.file(name + ".json"));
        EXPECT_EQ(r.code, 0) << r.output;
        return read_values(dir.file(name + ".tsv"));
      };
      const auto streamed = pagerank("--overlap on", "a");
      const auto batched = pagerank("", "b");  // auto: off, the ranks share a host
      ASSERT_FALSE(streamed.empty());
      EXPECT_EQ(streamed, batched);
      const std::uint64_t overlapped = sum_step_field(dir.file("a.json"), "bytes_overlapped");
      if (scale == 16) {
        EXPECT_GT(overlapped, sum_step_field(dir.file("a.json"), "bytes_sent") / 2);
      } else {  // most segments wait
        EXPECT_LT(overlapped, sum_step_field(dir.file("a.json"), "bytes_sent") / 2);
      }
      EXPECT_EQ(sum_step_field(dir.file("b.json"), "bytes_overlapped"), 0u);
      for (const char* field : {"bytes_sent", "lower_bound"}) {  // the same batches
        EXPECT_EQ(sum_step_field(dir.file("a.json"), field),
                  sum_step_field(dir.file("b.json"), field))
            << field;
      }
    }
  }
}

TEST_P(EngineRanks, AKilledRankStopsTheJobNamingIt) {
  TempDir dir;
  const std::string g = dir.file("victim-graph.txt");
  ASSERT_EQ(run(atoll() + " generate kronecker --scale 14 --out " + g).code, 0);
  const std::string log = dir.file("log");
  for (const std::string engine : {"chromatic", "pregel", "locking"}) {
    SCOPED_TRACE(engine);
    // Static PageRank with --tol 0 runs until its iteration limit: long enough to be killed.
    // On the locking engine under edge consistency, so that ranks hold each other's locks.
    const std::string model = engine == "locking" ? " --consistency edge" : "";
    std::string cmd = atoll() + " run pagerank --engine " + engine + model + " --graph " + g +
                      " --tol 0 --iterations 1000000 --ranks 3 --transport " + GetParam() + " > " +
                      log + " 2>&1";
    auto start = std::chrono::steady_clock::now();
    pid_t job = fork();
    ASSERT_GE(job, 0);
    if (job == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const std::string going = engine == "pregel"    ? "superstep 3:"
                              : engine == "locking" ? "phase 3:"
                                                    : "sweep 3:";
    pid_t victim = -1;
    for (int i = 0; i < 300 && victim < 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      if (text.find(going) != std::string::npos) victim = atl::test::find_rank("victim-graph", 1);
    }
    ASSERT_GT(victim, 0) << "the job never got going";
    kill(victim, SIGKILL);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 400 && done == 0; ++i) {  // at most 40 s: the peer timeout is 10 s
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      done = waitpid(job, &status, WNOHANG);
    }
    if (done == 0) {
      kill(job, SIGKILL);
      waitpid(job, &status, 0);
      FAIL() << "the job did not stop after rank 1 was killed";
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    // A survivor's own error names the dead rank (not only the launcher's report).
    EXPECT_NE(text.find("lost rank 1"), std::string::npos) << text;
    EXPECT_LT(seconds, 60);
  }
}

TEST_P(EngineRanks, RunsAsRanksOfAnMpirunJob) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  const std::string g = dir.file("g.txt");
  ASSERT_EQ(run(atoll() + " generate uniform --vertices 2000 --edges 5000 --out " + g).code, 0);
  ASSERT_EQ(run(atoll() + " run cc --graph " + g + " --out " + dir.file("one")).code, 0);
  Result r = run("mpirun --allow-run-as-root --oversubscribe -n 3 " + atoll() + " run cc --graph " +
                 g + " --transport " + GetParam() + " --out " + dir.file("many"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("3 ranks"), std::string::npos) << r.output;
  EXPECT_EQ(read_values(dir.file("one")), read_values(dir.file("many")));
}

INSTANTIATE_TEST_SUITE_P(Transports, EngineRanks, testing::Values("ucx", "tcp"));

}  // namespace
