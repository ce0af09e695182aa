// Checkpoints through the command line a user runs: epochs written by one run are resumed by
// another on a different rank count and reach the uninterrupted answer (chromatic and Pregel
// engines, vertex and edge data, messages in flight); a rank killed with SIGKILL mid-run
// leaves epochs another job resumes from; damaged and mismatched epochs are named and skipped
// or refused, never loaded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include "process_util.hpp"

namespace {

namespace fs = std::filesystem;
using atl::test::read_values;
using atl::test::Result;
using atl::test::run;
using atl::test::TempDir;

std::string atoll() {
  return ATOLL_BINARY;
}

/// Exact comparison, or the L1 distance of numeric values within `tolerance`.
void expect_same_values(const std::string& a_path, const std::string& b_path, bool exact,
                        double tolerance = 1e-9) {
  auto a = read_values(a_path), b = read_values(b_path);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  double l1 = 0;
  for (const auto& [gid, value] : a) {
    auto it = b.find(gid);
    ASSERT_NE(it, b.end()) << "vertex " << gid;
    if (exact) {
      ASSERT_EQ(value, it->second) << "vertex " << gid;
    } else {
      l1 += std::abs(std::stod(value) - std::stod(it->second));
    }
  }
  EXPECT_LE(l1, tolerance);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// The epoch directories of a checkpoint directory, oldest first.
std::vector<std::string> epochs(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("epoch-", 0) == 0) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Waits up to `seconds` for a forked job; kills it if it is still running then. Returns
/// whether it ended by itself, with its wait status in `status`.
bool wait_for_job(pid_t job, int seconds, int& status) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (waitpid(job, &status, WNOHANG) == job) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(job, SIGKILL);
  waitpid(job, &status, 0);
  return false;
}

/// Whether a complete epoch (with its MANIFEST) exists in dir.
bool has_manifest(const std::string& dir) {
  for (const std::string& e : epochs(dir)) {
    if (fs::exists(e + "/MANIFEST")) return true;
  }
  return false;
}

/// "after iteration N" from a resumed run's summary.
long resumed_iteration(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex("resumed from \\S+ after iteration (\\d+)"))) {
    return -1;
  }
  return std::stol(m[1]);
}

class Checkpoints : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    graph_ = dir_.file("g.txt");
    ASSERT_EQ(run(atoll() + " generate kronecker --scale 11 --edge-factor 8 --weights 1:9 --out " +
                  graph_)
                  .code,
              0);
  }
  std::string ranks(int n) const {
    return " --ranks " + std::to_string(n) + " --transport " + GetParam();
  }
  TempDir dir_;
  std::string graph_;
};

// Each app stops early with a checkpoint on one rank, and a run on three ranks resumes it.
TEST_P(Checkpoints, ResumeOnAnotherRankCountGivesTheUninterruptedAnswer) {
  struct Case {
    std::string app;   ///< app and options
    std::string stop;  ///< how the first run stops early
    bool exact;
    double tolerance = 1e-9;  ///< L1, when not exact
  };
  const Case cases[] = {
      {"pagerank --tol 0 --iterations 12", "--max-sweeps 5", false},
      // Weights are edge data: cut edges too. From the source (from each rank's local phase,
      // kron11 on two ranks is done in a sweep or two).
      {"sssp --start source --source 0", "--max-sweeps 2", true},
      // From gids: labels take several sweeps and supersteps (from each rank's local components,
      // kron11 on two ranks is done in one, before a checkpoint is due).
      {"cc --start gids", "--max-sweeps 2", true},
      {"pagerank --engine pregel --tol 0 --iterations 12", "--max-supersteps 5", false},
      {"sssp --engine pregel --source 0", "--max-supersteps 3", true},  // messages in flight
      {"cc --engine pregel --start gids", "--max-supersteps 2", true},
      // Peeling by vertex removal: the epochs carry the shrunken graph and removed values.
      {"kcore --engine pregel", "--max-supersteps 7", true},
      // The locking engine between phases (a phase every 300 updates).
      {"pagerank --engine locking --tol 1e-10 --dynamic --sync-every 300", "--max-iterations 3",
       false, 1e-6},
      {"sssp --engine locking --consistency edge --start source --source 0 --sync-every 500",
       "--max-iterations 2", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.app);
    const std::string ck = dir_.file("ck");
    fs::remove_all(ck);
    const std::string base = atoll() + " run " + c.app + " --graph " + graph_;
    Result full = run(base + " --out " + dir_.file("full.tsv"));
    ASSERT_EQ(full.code, 0) << full.output;
    Result first =
        run(base + " " + c.stop + " --checkpoint-dir " + ck + " --checkpoint-every 1" + ranks(2));
    ASSERT_EQ(first.code, 0) << first.output;
    EXPECT_NE(first.output.find("checkpoint epochs written"), std::string::npos) << first.output;
    ASSERT_EQ(epochs(ck).size(), 2u) << "--checkpoint-keep defaults to 2";
    Result resumed =
        run(base + " --resume " + ck + " --out " + dir_.file("resumed.tsv") + ranks(3));
    ASSERT_EQ(resumed.code, 0) << resumed.output;
    EXPECT_GT(resumed_iteration(resumed.output), 0) << resumed.output;
    expect_same_values(dir_.file("full.tsv"), dir_.file("resumed.tsv"), c.exact, c.tolerance);
  }
}

// cc from each rank's local components (the default start) on long paths split over the ranks:
// propagation takes hundreds of sweeps; stopped after three with checkpoints on two ranks, a run
// on three ranks resumes it (from the epoch's labels, no local phase) to the same answer.
TEST_P(Checkpoints, ComponentsFromLocalLabelsResumeOnAnotherRankCount) {
  const std::string paths = dir_.file("paths.txt");
  {
    std::ofstream out(paths);
    for (int v = 600; v > 0; --v) out << v << ' ' << v - 1 << '\n';
  }
  for (const std::string engine : {"chromatic", "pregel"}) {
    SCOPED_TRACE(engine);
    const std::string ck = dir_.file("ck-paths-" + engine);
    const std::string base = atoll() + " run cc --engine " + engine + " --graph " + paths;
    Result full = run(base + " --out " + dir_.file("full.tsv"));
    ASSERT_EQ(full.code, 0) << full.output;
    Result first = run(base + (engine == "pregel" ? " --max-supersteps 3" : " --max-sweeps 3") +
                       " --checkpoint-dir " + ck + " --checkpoint-every 1" + ranks(2));
    ASSERT_EQ(first.code, 0) << first.output;
    ASSERT_EQ(epochs(ck).size(), 2u) << first.output;
    Result resumed =
        run(base + " --resume " + ck + " --out " + dir_.file("resumed.tsv") + ranks(3));
    ASSERT_EQ(resumed.code, 0) << resumed.output;
    EXPECT_GT(resumed_iteration(resumed.output), 0) << resumed.output;
    expect_same_values(dir_.file("full.tsv"), dir_.file("resumed.tsv"), true, 0);
  }
}

// sssp from each rank's local phase on a weighted path split over the ranks: relaxation
// crosses the cut hundreds of times; stopped after three sweeps with checkpoints on two ranks,
// a run on three ranks resumes it (from the epoch's distances, no local phase) to the same
// answer.
TEST_P(Checkpoints, SsspFromTheLocalPhaseResumesOnAnotherRankCount) {
  const std::string path = dir_.file("wpath.txt");
  {
    std::ofstream out(path);
    for (int v = 600; v > 0; --v) out << v << ' ' << v - 1 << ' ' << 1 + v % 7 << '\n';
  }
  const std::string ck = dir_.file("ck-sssp");
  const std::string base = atoll() + " run sssp --source 600 --graph " + path;
  Result full = run(base + " --out " + dir_.file("full.tsv"));
  ASSERT_EQ(full.code, 0) << full.output;
  Result first =
      run(base + " --max-sweeps 3 --checkpoint-dir " + ck + " --checkpoint-every 1" + ranks(2));
  ASSERT_EQ(first.code, 0) << first.output;
  ASSERT_EQ(epochs(ck).size(), 2u) << first.output;
  Result resumed = run(base + " --resume " + ck + " --out " + dir_.file("resumed.tsv") + ranks(3));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_GT(resumed_iteration(resumed.output), 0) << resumed.output;
  expect_same_values(dir_.file("full.tsv"), dir_.file("resumed.tsv"), true, 0);
}

// SIGKILL a rank of a checkpointing job; a new job on more ranks resumes from its last epoch.
TEST_P(Checkpoints, AJobKilledMidRunResumesOnMoreRanks) {
  for (const std::string engine : {"chromatic", "pregel"}) {
    SCOPED_TRACE(engine);
    const std::string ck = dir_.file("killed-" + engine);
    const std::string log = dir_.file("log");
    const std::string app = atoll() + " run pagerank --engine " + engine + " --tol 0 --graph " +
                            graph_ + " --threads 1";
    const std::string cmd = app + " --iterations 1000000 --checkpoint-dir " + ck +
                            " --checkpoint-every 7" + ranks(2) + " > " + log + " 2>&1";
    pid_t job = fork();
    ASSERT_GE(job, 0);
    if (job == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Kill a rank (not the launcher) once two epochs are complete.
    bool killed = false;
    for (int i = 0; i < 600 && !killed; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!fs::exists(ck)) continue;
      int complete = 0;
      for (const std::string& e : epochs(ck)) complete += fs::exists(e + "/MANIFEST");
      if (complete < 2) continue;
      const pid_t victim = atl::test::find_rank("killed-" + engine, 1);
      killed = victim > 0 && kill(victim, SIGKILL) == 0;
    }
    int status = 0;
    if (!killed) {
      wait_for_job(job, 0, status);
      FAIL() << "no rank to kill: " << read_text(log);
    }
    ASSERT_TRUE(wait_for_job(job, 40, status)) << "the job did not stop after a rank was killed";
    EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    // Resume on three ranks for five more iterations; compare with a run of that length.
    Result probe = run(app + " --resume " + ck + " --iterations 1" + ranks(3));
    ASSERT_EQ(probe.code, 0) << probe.output;
    const long at = resumed_iteration(probe.output);
    ASSERT_GE(at, 14) << probe.output;
    const std::string total = " --iterations " + std::to_string(at + 5);
    Result resumed =
        run(app + " --resume " + ck + total + " --out " + dir_.file("r.tsv") + ranks(3));
    ASSERT_EQ(resumed.code, 0) << resumed.output;
    EXPECT_EQ(resumed_iteration(resumed.output), at);
    Result straight = run(app + total + " --out " + dir_.file("s.tsv"));
    ASSERT_EQ(straight.code, 0) << straight.output;
    expect_same_values(dir_.file("s.tsv"), dir_.file("r.tsv"), false);
  }
}

// The locking engine's asynchronous snapshots (--snapshot-every): a rank killed mid-run leaves
// epochs taken while updates ran, and a job on more ranks resumes one to the uninterrupted
// answer (snapshot_test.cpp checks that each snapshot is a consistent cut).
TEST_P(Checkpoints, AsynchronousSnapshotsOfAKilledLockingJobResume) {
  const std::string ck = dir_.file("snapshots");
  const std::string log = dir_.file("snapshot-log");
  const std::string app = atoll() + " run pagerank --engine locking --consistency edge --dynamic " +
                          "--tol 1e-12 --threads 1 --graph " + graph_;
  const std::string cmd =
      app + " --checkpoint-dir " + ck + " --snapshot-every 0.02" + ranks(2) + " > " + log + " 2>&1";
  pid_t job = fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool killed = false;
  for (int i = 0; i < 3000 && !killed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!fs::exists(ck)) continue;
    int complete = 0;
    for (const std::string& e : epochs(ck)) complete += fs::exists(e + "/MANIFEST");
    if (complete < 2) continue;
    const pid_t victim = atl::test::find_rank("snapshots", 1);
    killed = victim > 0 && kill(victim, SIGKILL) == 0;
  }
  int status = 0;
  const bool ended = wait_for_job(job, 60, status);
  const std::string text = read_text(log);
  ASSERT_TRUE(killed) << "the job ended before a rank could be killed: " << text;
  ASSERT_TRUE(ended) << "the job did not stop after a rank was killed: " << text;
  EXPECT_NE(text.find("checkpoint: snapshot epoch"), std::string::npos) << text;
  Result resumed = run(app + " --resume " + ck + " --out " + dir_.file("r.tsv") + ranks(3));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_GE(resumed_iteration(resumed.output), 0) << resumed.output;
  Result straight = run(app + " --out " + dir_.file("s.tsv"));
  ASSERT_EQ(straight.code, 0) << straight.output;
  expect_same_values(dir_.file("s.tsv"), dir_.file("r.tsv"), false, 1e-6);
}

// --restarts: the launcher itself starts the job again from its last epoch.
TEST_P(Checkpoints, RestartsRecoverFromAKilledRankByThemselves) {
  const std::string ck = dir_.file("restarted");
  const std::string log = dir_.file("restart-log");
  const std::string app =
      atoll() + " run pagerank --tol 0 --iterations 300 --threads 1 --graph " + graph_;
  const std::string cmd = app + " --checkpoint-dir " + ck + " --checkpoint-every 2 --restarts 1" +
                          " --out " + dir_.file("r.tsv") + ranks(2) + " > " + log + " 2>&1";
  pid_t job = fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool killed = false;
  for (int i = 0; i < 3000 && !killed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!fs::exists(ck) || !has_manifest(ck)) continue;
    const pid_t victim = atl::test::find_rank("restarted", 1);
    killed = victim > 0 && kill(victim, SIGKILL) == 0;
  }
  int status = 0;
  const bool done = wait_for_job(job, 90, status);
  const std::string text = read_text(log);
  ASSERT_TRUE(killed) << text;
  ASSERT_TRUE(done) << "the job did not end: " << text;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  EXPECT_NE(text.find("restart 1 of 1"), std::string::npos) << text;
  EXPECT_NE(text.find("resuming from the last checkpoint"), std::string::npos) << text;
  EXPECT_GT(resumed_iteration(text), 0) << text;
  Result straight = run(app + " --out " + dir_.file("s.tsv"));
  ASSERT_EQ(straight.code, 0) << straight.output;
  expect_same_values(dir_.file("s.tsv"), dir_.file("r.tsv"), false);
}

// An epoch written after the last sweep: resuming runs no sweep, and still reports the last
// sweep's change (restored with the aggregators), not an unknown one.
TEST_P(Checkpoints, AResumeAfterTheLastSweepReportsItsChange) {
  const std::string ck = dir_.file("ck-last");
  const std::string base = atoll() + " run pagerank --tol 0 --iterations 6 --graph " + graph_;
  Result first = run(base + " --checkpoint-dir " + ck + " --checkpoint-every 3" + ranks(2));
  ASSERT_EQ(first.code, 0) << first.output;
  Result resumed = run(base + " --resume " + ck + ranks(1));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_EQ(resumed_iteration(resumed.output), 6) << resumed.output;
  const std::regex change("final L1 change (\\S+),");
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(first.output, a, change)) << first.output;
  ASSERT_TRUE(std::regex_search(resumed.output, b, change)) << resumed.output;
  EXPECT_NE(b[1].str(), "inf") << resumed.output;
  EXPECT_EQ(a[1].str(), b[1].str()) << resumed.output;
}

INSTANTIATE_TEST_SUITE_P(Transports, Checkpoints, testing::Values("ucx", "tcp"));

/// One rank: damaged and mismatched epochs.
class DamagedCheckpoints : public testing::Test {
 protected:
  void SetUp() override {
    graph_ = dir_.file("g.txt");
    ASSERT_EQ(run(atoll() + " generate kronecker --scale 10 --out " + graph_).code, 0);
    app_ = atoll() + " run pagerank --tol 0 --graph " + graph_;
    Result full = run(app_ + " --iterations 9 --out " + dir_.file("full.tsv"));
    ASSERT_EQ(full.code, 0) << full.output;
  }
  /// Epochs after iterations 3, 6 and 9 in a fresh directory.
  std::string write_epochs(const std::string& name) {
    const std::string ck = dir_.file(name);
    Result r = run(app_ + " --iterations 9 --checkpoint-dir " + ck +
                   " --checkpoint-every 3 --checkpoint-keep 3");
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(epochs(ck).size(), 3u);
    return ck;
  }
  /// Resumes from ck for 9 iterations in all; the answer must be the uninterrupted one.
  Result resume_and_check(const std::string& ck, long expect_iteration) {
    Result r = run(app_ + " --iterations 9 --resume " + ck + " --out " + dir_.file("r.tsv"));
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(resumed_iteration(r.output), expect_iteration) << r.output;
    expect_same_values(dir_.file("full.tsv"), dir_.file("r.tsv"), false, 1e-12);
    return r;
  }
  TempDir dir_;
  std::string graph_;
  std::string app_;
};

TEST_F(DamagedCheckpoints, ACorruptOrIncompleteEpochIsNamedAndAnOlderOneUsed) {
  // A flipped byte in the newest epoch's rank file.
  std::string ck = write_epochs("flip");
  std::string file = epochs(ck)[2] + "/rank-00000.ckpt";
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(100);
    f.write(&c, 1);
  }
  Result r = resume_and_check(ck, 6);
  EXPECT_NE(r.output.find("skipping epoch " + epochs(ck)[2]), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank-00000.ckpt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("corrupt"), std::string::npos) << r.output;

  // A truncated file.
  ck = write_epochs("truncated");
  file = epochs(ck)[2] + "/rank-00000.ckpt";
  fs::resize_file(file, fs::file_size(file) - 30);
  r = resume_and_check(ck, 6);
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;

  // No manifest (the job died before rank 0 wrote it), and a damaged manifest.
  ck = write_epochs("manifest");
  fs::remove(epochs(ck)[2] + "/MANIFEST");
  {
    std::string text = read_text(epochs(ck)[1] + "/MANIFEST");
    text[text.find("iteration 6") + 10] = '7';
    std::ofstream(epochs(ck)[1] + "/MANIFEST") << text;
  }
  r = resume_and_check(ck, 3);
  EXPECT_NE(r.output.find("no MANIFEST"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("MANIFEST': checksum mismatch"), std::string::npos) << r.output;

  // Nothing usable: exit 1 with every reason.
  fs::remove(epochs(ck)[0] + "/rank-00000.ckpt");
  r = run(app_ + " --iterations 9 --resume " + ck);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("no valid checkpoint epoch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot open"), std::string::npos) << r.output;
  r = run(app_ + " --resume " + dir_.file("nowhere"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("no such directory"), std::string::npos) << r.output;
}

TEST_F(DamagedCheckpoints, SnapshotFlagsNeedTheLockingEngineWithEdgeConsistency) {
  const std::string ck = " --checkpoint-dir " + dir_.file("flags");
  Result r = run(app_ + ck + " --snapshot-every 1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--snapshot-every is the locking engine's"), std::string::npos)
      << r.output;
  r = run(app_ + " --engine locking --dynamic --consistency vertex" + ck + " --snapshot-every 1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--snapshot-every needs edge consistency"), std::string::npos)
      << r.output;
  r = run(app_ + " --engine locking --snapshot-every 1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("need --checkpoint-dir"), std::string::npos) << r.output;
  r = run(app_ + " --engine locking" + ck + " --snapshot-every -1");
  EXPECT_EQ(r.code, 2) << r.output;
  // A run that ends before its first snapshot is due ends as usual, with no epoch.
  r = run(atoll() + " run pagerank --tol 1e-6 --graph " + graph_ +
          " --engine locking --dynamic --consistency edge" + ck + " --snapshot-every 1000");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(fs::exists(dir_.file("flags")) && has_manifest(dir_.file("flags")));
}

TEST_F(DamagedCheckpoints, AnEpochOfAnotherGraphAppOrOptionIsRefused) {
  const std::string ck = write_epochs("mismatch");
  const std::string other = dir_.file("other.txt");
  ASSERT_EQ(run(atoll() + " generate kronecker --scale 10 --seed 7 --out " + other).code, 0);
  Result r = run(atoll() + " run pagerank --tol 0 --graph " + other + " --resume " + ck);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("belongs to another graph"), std::string::npos) << r.output;
  r = run(app_ + " --damping 0.5 --resume " + ck);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("another app or options"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--damping=0.5"), std::string::npos) << r.output;
  r = run(atoll() + " run cc --graph " + graph_ + " --resume " + ck);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("app=pagerank"), std::string::npos) << r.output;
  r = run(app_ + " --engine pregel --resume " + ck);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("another engine"), std::string::npos) << r.output;
  // A fresh run does not write over an earlier run's epochs.
  r = run(app_ + " --checkpoint-dir " + ck + " --checkpoint-every 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("already holds epochs"), std::string::npos) << r.output;
  // The epochs are untouched by all of that.
  resume_and_check(ck, 9);
}

TEST_F(DamagedCheckpoints, AnEpochThatCannotBeWrittenStopsTheRunAndLeavesTheLastOneValid) {
  const std::string ck = dir_.file("blocked");
  Result r = run(app_ + " --iterations 4 --checkpoint-dir " + ck + " --checkpoint-every 2");
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_EQ(epochs(ck).size(), 2u);
  // Where the next epoch's directory would go there is a file: the write fails.
  std::ofstream(ck + "/epoch-00000003") << "in the way";
  r = run(app_ + " --iterations 9 --resume " + ck + " --checkpoint-dir " + ck +
          " --checkpoint-every 2");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("checkpoint epoch 3 not written"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("epoch-00000003"), std::string::npos) << r.output;
  fs::remove(ck + "/epoch-00000003");
  resume_and_check(ck, 4);
  // A directory that cannot be created at all.
  r = run(app_ + " --checkpoint-dir " + graph_ + "/sub --checkpoint-every 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("cannot create checkpoint directory"), std::string::npos) << r.output;
}

// A full disk, simulated: no file may grow past 4 KiB (RLIMIT_FSIZE; with SIGXFSZ ignored a
// write fails with EFBIG where a full disk fails it with ENOSPC). Two ranks over TCP.
TEST_F(DamagedCheckpoints, AFullDiskStopsTheRunNamingTheFileAndTheLastEpochStaysValid) {
  const std::string ck = dir_.file("full");
  const std::string ranks = " --ranks 2 --transport tcp";
  Result r = run(app_ + " --iterations 4 --checkpoint-dir " + ck + " --checkpoint-every 2" + ranks);
  ASSERT_EQ(r.code, 0) << r.output;
  r = run("trap '' XFSZ; ulimit -f 8; exec " + app_ + " --iterations 9 --resume " + ck +
          " --checkpoint-dir " + ck + " --checkpoint-every 2" + ranks);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("checkpoint epoch 3 not written"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("epoch-00000003/rank-0000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::strerror(EFBIG)), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(ck + "/epoch-00000003/MANIFEST"));
  resume_and_check(ck, 4);
}

// A real full, then read-only, file system: a tmpfs sized for one epoch, mounted in a private
// mount namespace (needs unshare and mount, so root; skipped otherwise).
TEST_F(DamagedCheckpoints, AFullOrReadOnlyFileSystemStopsTheRunAndTheLastEpochStaysValid) {
  // How big an epoch is: the tmpfs gets room for one and a half.
  const std::string sized = dir_.file("sized");
  ASSERT_EQ(run(app_ + " --iterations 2 --checkpoint-dir " + sized + " --checkpoint-every 2").code,
            0);
  std::uintmax_t epoch_bytes = 0;
  for (const auto& f : fs::directory_iterator(epochs(sized).at(0))) epoch_bytes += f.file_size();
  const std::string mnt = dir_.file("mnt");
  fs::create_directories(mnt);
  const std::string mount =
      "mount -t tmpfs -o size=" + std::to_string(epoch_bytes * 3 / 2048) + "k tmpfs " + mnt;
  Result probe = run("unshare --mount --propagation private sh -c '" + mount + "'");
  if (probe.code != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs in a private mount namespace: " << probe.output;
  }
  const std::string ck = mnt + "/ck", out = dir_.file("fs-");
  // One script in one namespace: the tmpfs lives as long as it does.
  const std::string script =
      mount + "\n" + app_ + " --iterations 4 --checkpoint-dir " + ck + " --checkpoint-every 2 > " +
      out + "full.log 2>&1; echo $? > " + out + "full.rc\n" + app_ + " --iterations 9 --resume " +
      ck + " --out " + out + "r.tsv > " + out + "r.log 2>&1\n" + "mount -o remount,ro " + mnt +
      "\n" + app_ + " --iterations 9 --resume " + ck + " --checkpoint-dir " + ck +
      " --checkpoint-every 2 > " + out + "ro.log 2>&1; echo $? > " + out + "ro.rc\n";
  std::ofstream(out + "script.sh") << script;
  Result r = run("unshare --mount --propagation private sh " + out + "script.sh");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string full = read_text(out + "full.log");
  EXPECT_EQ(read_text(out + "full.rc"), "1\n") << full;
  EXPECT_NE(full.find("checkpoint epoch 2 not written"), std::string::npos) << full;
  EXPECT_NE(full.find(ck + "/epoch-00000002/rank-00000.ckpt"), std::string::npos) << full;
  EXPECT_NE(full.find(std::strerror(ENOSPC)), std::string::npos) << full;
  const std::string resumed = read_text(out + "r.log");
  EXPECT_EQ(resumed_iteration(resumed), 2) << resumed;
  expect_same_values(dir_.file("full.tsv"), out + "r.tsv", false, 1e-12);
  const std::string ro = read_text(out + "ro.log");
  EXPECT_EQ(read_text(out + "ro.rc"), "1\n") << ro;
  EXPECT_NE(ro.find("epoch-00000003"), std::string::npos) << ro;
  EXPECT_NE(ro.find(std::strerror(EROFS)), std::string::npos) << ro;
}

TEST_F(DamagedCheckpoints, CheckpointFlagsAreChecked) {
  const std::string d = " --checkpoint-dir " + dir_.file("flags");
  for (const std::string& bad :
       {std::string("--checkpoint-every 2"), d, d + " --checkpoint-every 2 --checkpoint-keep 0",
        d + " --checkpoint-interval -1", std::string("--restarts 1")}) {
    Result r = run(app_ + " " + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("checkpoint"), std::string::npos) << bad << ": " << r.output;
  }
  EXPECT_FALSE(fs::exists(dir_.file("flags")));
}

}  // namespace
