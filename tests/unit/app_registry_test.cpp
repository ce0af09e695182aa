// An app written once (a GraphLab program, its options and its registration) runs through the
// registry like a built-in one: `atoll run NAME` in this process, with the engine picked at run
// time; engines that cannot run it are usage errors that name the valid ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "atoll/graph/read_graph.hpp"
#include "commands.hpp"
#include "test_util.hpp"

namespace {

using namespace atl;
using testing::HasSubstr;

/// Each vertex's value: offset + the sum of its in-neighbours' gids (one update per vertex).
struct InSumProgram {
  using VertexData = std::uint64_t;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kEdge;
  std::uint64_t offset;

  void update(Scope<InSumProgram>& scope, Context&) const {
    std::uint64_t sum = offset;
    for (auto edge : scope.in_edges()) sum += edge.neighbor_gid();
    scope.vertex() = sum;
  }
};

void register_in_sum_app() {
  register_app({"test-in-sum", "Sum of in-neighbour gids (a test app)",
                std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
                InSumProgram::kConsistency, [](CLI::App& cmd) {
                  auto offset = std::make_shared<std::uint64_t>(0);
                  cmd.add_option("--offset", *offset, "Added to every vertex");
                  AppRunner runner;
                  runner.check = [offset] {
                    if (*offset > 1000) usage_fail("--offset must be at most 1000");
                  };
                  runner.run = [offset](AppInput& in) {
                    VertexValues<std::uint64_t> r;
                    LocalGraph<std::uint64_t, EmptyData> local(std::move(in.graph));
                    InSumProgram program{*offset};
                    r.stats = run_graphlab(local, program, in.options, in.cluster, [](auto& e) {
                      e.init_vertices([](Lid, std::uint64_t& d) { d = 0; });
                      e.schedule_all();
                      return e.run();
                    });
                    const Topology& t = local.topology();
                    for (Lid v = 0; v < t.num_owned(); ++v) {
                      r.gids.push_back(t.gid(v));
                      r.values.push_back(local.vertex_data()[v]);
                    }
                    return make_output(std::move(r));
                  };
                  return runner;
                }});
}

int run_atoll(std::vector<std::string> args) {
  args.insert(args.begin(), "atoll");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return cli::run_cli(static_cast<int>(argv.size()), argv.data());
}

class AppRegistry : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (find_app("test-in-sum") == nullptr) register_in_sum_app();
  }
};

TEST_F(AppRegistry, ARegisteredProgramRunsThroughTheCommandLine) {
  test::TempDir dir;
  const std::string graph = dir.file("g.el");
  test::write_file(graph, "1 2\n3 2\n2 4\n4 1\n5 5\n");
  ASSERT_NE(find_app("test-in-sum"), nullptr);
  EXPECT_THAT(apps_for_engine(EngineKind::kChromatic), HasSubstr("test-in-sum"));
  const std::string out = dir.file("out.tsv");
  ASSERT_EQ(run_atoll({"run", "test-in-sum", "--graph", graph, "--offset", "7", "--engine",
                       "chromatic", "--threads", "2", "--out", out}),
            0);
  std::map<Gid, std::uint64_t> expected{{1, 7 + 4}, {2, 7 + 1 + 3}, {3, 7}, {4, 7 + 2}, {5, 7 + 5}};
  std::map<Gid, std::uint64_t> got;
  std::ifstream in(out);
  Gid gid;
  std::uint64_t value;
  while (in >> gid >> value) got[gid] = value;
  EXPECT_EQ(got, expected);
}

TEST_F(AppRegistry, EnginesAndOptionsAreCheckedBeforeLoading) {
  testing::internal::CaptureStderr();
  // The graph does not exist: these must fail on the options, before any load.
  EXPECT_EQ(run_atoll({"run", "test-in-sum", "--graph", "/nonexistent", "--engine", "warp"}), 2);
  EXPECT_EQ(run_atoll({"run", "test-in-sum", "--graph", "/nonexistent", "--offset", "5000"}), 2);
  EXPECT_EQ(run_atoll({"run", "test-in-sum", "--graph", "/nonexistent", "--consistency", "vertex"}),
            2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("unknown engine 'warp' (valid: chromatic"));
  EXPECT_THAT(err, HasSubstr("--offset must be at most 1000"));
  EXPECT_THAT(err, HasSubstr("needs edge consistency; --consistency vertex is weaker"));
  EXPECT_THAT(err, HasSubstr("needs edge consistency; --consistency vertex is weaker"));
}

TEST_F(AppRegistry, AnEngineWithoutGraphLabProgramsIsAUsageError) {
  LocalGraph<std::uint64_t, EmptyData> local(Topology::build(EdgeList{}));
  InSumProgram program{0};
  EngineOptions options;
  options.engine = EngineKind::kPregel;
  try {
    run_graphlab(local, program, options, nullptr, [](auto& e) { return e.run(); });
    FAIL() << "expected a usage error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(std::string(e.what()), HasSubstr("engine 'pregel' does not run GraphLab programs"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("chromatic"));
  }
}

}  // namespace
