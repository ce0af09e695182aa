// The engines' own concurrency under ThreadSanitizer: `atoll run` from the TSan build with
// several worker threads on several real ranks over UCX and TCP. The build runs the workers on
// std::threads and TBB on its caller (worker_pool.hpp), so a race between workers, grants
// delivered on the progress thread, termination and the channels halts the rank
// (TSAN_OPTIONS=halt_on_error=1 from scripts/test.sh) and the run fails. Each run must also give
// the chromatic engine's single-thread answer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "../distributed/process_util.hpp"

namespace {

using namespace atl;
using test::TempDir;

const std::string kAtoll = ATOLL_BINARY;

class EngineThreads : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    kron_ = dir_.file("kron.el");
    uni_ = dir_.file("uni.el");
    ASSERT_EQ(
        test::run(kAtoll + " generate kronecker --scale 9 --edge-factor 4 --out " + kron_).code, 0);
    ASSERT_EQ(test::run(kAtoll + " generate uniform --vertices 800 --edges 2400 --weights 1:30" +
                        " --out " + uni_)
                  .code,
              0);
  }

  /// Runs `atoll run APP ARGS OPTIONS` and returns its values; the run must succeed.
  std::map<unsigned long long, std::string> run(const std::string& app, const std::string& args,
                                                const std::string& options) {
    const std::string out = dir_.file("out.tsv");
    std::filesystem::remove(out);
    test::Result r =
        test::run(kAtoll + " run " + app + " " + args + " " + options + " --out " + out);
    EXPECT_EQ(r.code, 0) << app << " " << options << "\n" << r.output;
    last_output_ = r.output;
    return test::read_values(out);
  }

  /// The run on several threads and ranks gives the chromatic single-thread answer.
  void expect_reference(const std::string& app, const std::string& args, const std::string& options,
                        double tolerance = 0) {
    SCOPED_TRACE(app + " " + options);
    const auto expected = run(app, args, "--threads 1");
    const auto got = run(app, args, options + " --transport " + GetParam());
    ASSERT_FALSE(expected.empty());
    ASSERT_EQ(got.size(), expected.size()) << last_output_;
    if (tolerance == 0) {
      EXPECT_EQ(got, expected) << last_output_;
      return;
    }
    double l1 = 0;
    for (const auto& [gid, value] : expected)
      l1 += std::abs(std::stod(value) - std::stod(got.at(gid)));
    EXPECT_LT(l1, tolerance) << last_output_;
  }

  TempDir dir_;
  std::string kron_, uni_, last_output_;
};

TEST_P(EngineThreads, LockingEngineUnderEveryModel) {
  const std::string cc = "--graph " + kron_ + " --symmetrize --start gids";
  const std::string sssp = "--graph " + uni_ + " --source 0";
  // Not vertex consistency: there an update reads its neighbours while their owners' updates
  // write them (the model's unsynchronised read, which TSan rightly reports as a race).
  // The workers drive the network, and the progress thread does.
  for (const char* model : {"edge", "full"}) {
    for (const char* progress : {"workers", "thread"}) {
      expect_reference("cc", cc,
                       std::string("--engine locking --threads 2 --ranks 2 --consistency ") +
                           model + " --network-progress " + progress);
    }
  }
  expect_reference(
      "sssp", sssp,
      "--engine locking --threads 2 --ranks 2 --scheduler priority --consistency edge");
  // A narrow priority window on 3 ranks: frontier publications cross every rank while ranks go
  // passive and wake (a rank that published after going passive once broke termination).
  expect_reference("sssp", sssp,
                   "--engine locking --threads 2 --ranks 3 --scheduler priority --run-ahead 5 "
                   "--consistency edge");
  // One rank: every scope takes the lock-free local path, several threads on the same words.
  expect_reference("cc", cc, "--engine locking --threads 3 --ranks 1 --consistency edge");
}

TEST_P(EngineThreads, LockingEngineChecksItselfSerializable) {
  const std::string cc = "--graph " + kron_ + " --symmetrize --start gids";
  expect_reference("cc", cc,
                   "--engine locking --threads 2 --ranks 2 --consistency edge "
                   "--scheduler fifo --pipeline 64 --check-serializable");
  EXPECT_NE(last_output_.find("serializability: OK"), std::string::npos) << last_output_;
}

TEST_P(EngineThreads, DynamicPageRankOnTheLockingEngine) {
  const std::string pagerank = "--graph " + kron_ + " --tol 1e-10 --iterations 400";
  const std::string locking =
      "--engine locking --dynamic --threads 2 --ranks 2 --scheduler priority --consistency edge";
  expect_reference("pagerank", pagerank, locking, 1e-6);
  // Asynchronous snapshots taken while the workers update (markers, captures, epoch files).
  expect_reference("pagerank", pagerank,
                   locking + " --checkpoint-dir " + dir_.file("ck") + " --snapshot-every 0.01",
                   1e-6);
  EXPECT_NE(last_output_.find("checkpoint: snapshot epoch"), std::string::npos) << last_output_;
}

TEST_P(EngineThreads, ChromaticAndPregelEnginesAcrossRanks) {
  const std::string sssp = "--graph " + uni_ + " --source 0";
  expect_reference("sssp", sssp, "--threads 2 --ranks 2");
  expect_reference("sssp", sssp, "--engine pregel --threads 2 --ranks 2");
  // Ghost data put while the sweep runs (from the workers, beside the progress thread): a
  // graph large enough for the batches to leave in several parts.
  const std::string big = dir_.file("big.el");
  ASSERT_EQ(test::run(kAtoll + " generate kronecker --scale 14 --symmetrize --out " + big).code, 0);
  expect_reference("pagerank", "--graph " + big + " --tol 1e-12",
                   "--threads 2 --ranks 2 --overlap on", 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Transports, EngineThreads, testing::Values("ucx", "tcp"));

}  // namespace
