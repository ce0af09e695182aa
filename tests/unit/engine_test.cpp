// The chromatic engine: serializability (checked by a program that watches for adjacent
// updates overlapping in time), compile-time access rules, aggregators, rounds and limits.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <type_traits>

#include "atoll/engine/chromatic_engine.hpp"
#include "atoll/engine/locking_engine.hpp"
#include "atoll/graph/generators.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

/// Marks its vertex "in update" while it runs and counts every neighbour it sees in update
/// at the same time. Under edge and full consistency that count must stay zero.
template <Consistency C>
struct OverlapChecker {
  using VertexData = std::uint32_t;  ///< updates done
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = C;

  std::atomic<std::uint8_t>* in_update;
  std::atomic<std::uint64_t>* overlaps;
  std::uint64_t sweeps;
  int spins = 400;  ///< how long an update looks for overlapping neighbours

  void update(Scope<OverlapChecker>& scope, Context& context) const {
    const Lid v = scope.lid();
    in_update[v].store(1);
    for (int spin = 0; spin < spins; ++spin) {  // widen the window, look repeatedly
      for (auto e : scope.in_edges()) {
        if (e.neighbor() != v && in_update[e.neighbor()].load()) overlaps->fetch_add(1);
      }
      for (auto e : scope.out_edges()) {
        if (e.neighbor() != v && in_update[e.neighbor()].load()) overlaps->fetch_add(1);
      }
    }
    ++scope.vertex();
    in_update[v].store(0);
    if (context.iteration() + 1 < sweeps) context.schedule(v);
  }
};

template <Consistency C>
std::uint64_t count_overlaps(const EdgeList& edges, SchedulerKind kind, int threads,
                             std::optional<Consistency> run_as = std::nullopt, int spins = 400) {
  LocalGraph<std::uint32_t, EmptyData> graph(Topology::build(edges));
  const Lid n = graph.topology().num_owned();
  auto flags = std::make_unique<std::atomic<std::uint8_t>[]>(n);
  std::atomic<std::uint64_t> overlaps{0};
  OverlapChecker<C> program{flags.get(), &overlaps, 20, spins};
  EngineOptions options;
  options.threads = threads;
  options.scheduler = kind;
  options.consistency = run_as;
  ChromaticEngine<OverlapChecker<C>> engine(graph, program, options);
  engine.init_vertices([](Lid, std::uint32_t& d) { d = 0; });
  engine.schedule_all();
  RunStats stats = engine.run();
  EXPECT_EQ(stats.updates, std::uint64_t{n} * 20);
  for (Lid v = 0; v < n; ++v) EXPECT_EQ(graph.vertex_data()[v], 20u);
  return overlaps.load();
}

EdgeList dense_graph() {
  UniformParams p;
  p.vertices = 48;
  p.edges = 600;
  p.seed = 7;
  return generate_uniform(p);
}

TEST(ChromaticEngine, EdgeAndFullConsistencyNeverOverlap) {
  EdgeList dense = dense_graph();
  KroneckerParams k;
  k.scale = 9;
  k.edge_factor = 8;
  EdgeList kron = generate_kronecker(k);
  for (SchedulerKind kind :
       {SchedulerKind::kFifo, SchedulerKind::kSweep, SchedulerKind::kPriority}) {
    SCOPED_TRACE(std::string(scheduler_name(kind)));
    EXPECT_EQ(count_overlaps<Consistency::kEdge>(dense, kind, 4), 0u);
    EXPECT_EQ(count_overlaps<Consistency::kFull>(dense, kind, 4), 0u);
    EXPECT_EQ(count_overlaps<Consistency::kEdge>(kron, kind, 4), 0u);
    // A vertex-consistency program run under a stronger model is protected too.
    EXPECT_EQ(count_overlaps<Consistency::kVertex>(dense, kind, 4, Consistency::kEdge), 0u);
  }
}

TEST(ChromaticEngine, CheckerDetectsOverlapsUnderVertexConsistency) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs two hardware threads";
  EdgeList dense = dense_graph();
  std::uint64_t total = 0;
  // Overlaps need two threads on two cores at once; on a loaded machine that can take a
  // while, so updates look longer (the run stops at the first attempt that sees one).
  for (int attempt = 0; attempt < 50 && total == 0; ++attempt) {
    total += count_overlaps<Consistency::kVertex>(dense, SchedulerKind::kSweep, 4, std::nullopt,
                                                  attempt < 5 ? 400 : 5000);
  }
  EXPECT_GT(total, 0u) << "the checker never saw two adjacent updates at once";
}

struct AccessProgram {
  using VertexData = double;
  using EdgeData = int;
  static constexpr Consistency kConsistency = Consistency::kVertex;
  void update(Scope<AccessProgram>&, Context&) const {}
};
struct EdgeAccessProgram : AccessProgram {
  static constexpr Consistency kConsistency = Consistency::kEdge;
  void update(Scope<EdgeAccessProgram>&, Context&) const {}
};
struct FullAccessProgram : AccessProgram {
  static constexpr Consistency kConsistency = Consistency::kFull;
  void update(Scope<FullAccessProgram>&, Context&) const {}
};

template <typename P>
using NeighborRef = decltype(std::declval<typename Scope<P>::Edge>().neighbor_data());
template <typename P>
using EdgeRef = decltype(std::declval<typename Scope<P>::Edge>().data());

TEST(ChromaticEngine, ScopeWritesFollowTheConsistencyModel) {
  static_assert(!std::is_assignable_v<NeighborRef<AccessProgram>, double>);
  static_assert(!std::is_assignable_v<EdgeRef<AccessProgram>, int>);
  static_assert(!std::is_assignable_v<NeighborRef<EdgeAccessProgram>, double>);
  static_assert(std::is_assignable_v<EdgeRef<EdgeAccessProgram>, int>);
  static_assert(std::is_assignable_v<NeighborRef<FullAccessProgram>, double>);
  static_assert(std::is_assignable_v<EdgeRef<FullAccessProgram>, int>);
  SUCCEED();
}

struct ViewAccessProgram : AccessProgram {
  using NeighborView = float;
  static float neighbor_view(const double& d) { return static_cast<float>(d) * 2; }
  void update(Scope<ViewAccessProgram>&, Context&) const {}
};

// Scope::sum_in: the same sum as a loop over in_edges up to rounding, in its documented order
// exactly (four partial sums by position), through the data, a view, or the engine's copies.
TEST(ChromaticEngine, SumInIsTheGatherInAFixedOrder) {
  EdgeList g;
  for (Gid d : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) g.edges.push_back({d + 1, 0});  // 11 in-edges
  g.edges.push_back({0, 1});
  const Topology t = Topology::build(g);
  std::vector<double> data(t.num_vertices());
  std::vector<float> copies(t.num_vertices());
  for (Lid v = 0; v < t.num_vertices(); ++v) {
    data[v] = 1.0 / (3.0 + v) + 1e-3 * v;
    copies[v] = static_cast<float>(v) + 0.25f;
  }
  auto in_order = [&](Lid v, auto read) {  // the documented order, by hand
    double part[4] = {0, 0, 0, 0};
    const auto in = t.in_sources().subspan(t.in_offsets()[v], t.in_degree(v));
    const std::size_t full = in.size() / 4 * 4;
    for (std::size_t k = 0; k < full; ++k) part[k % 4] += read(in[k]);
    for (std::size_t k = full; k < in.size(); ++k) part[0] += read(in[k]);
    return (part[0] + part[1]) + (part[2] + part[3]);
  };
  for (Lid v = 0; v < t.num_vertices(); ++v) {
    Scope<AccessProgram> whole(t, data.data(), data.data(), nullptr, v);
    double loop = 0;
    for (auto e : whole.in_edges()) loop += e.neighbor_data() * 3;
    const double sum = whole.sum_in([](const double& d) { return d * 3; });
    EXPECT_NEAR(sum, loop, 1e-12) << "lid " << v;
    EXPECT_EQ(sum, in_order(v, [&](Lid u) { return data[u] * 3; })) << "lid " << v;
    Scope<ViewAccessProgram> viewed(t, data.data(), data.data(), nullptr, v);
    EXPECT_EQ(
        viewed.sum_in([](float f) { return static_cast<double>(f); }),
        in_order(v, [&](Lid u) { return static_cast<double>(static_cast<float>(data[u]) * 2); }));
    Scope<ViewAccessProgram> copied(t, data.data(), data.data(), nullptr, v, nullptr,
                                    copies.data());
    EXPECT_EQ(copied.sum_in([](float f) { return static_cast<double>(f); }),
              in_order(v, [&](Lid u) { return static_cast<double>(copies[u]); }));
  }
}

TEST(ChromaticEngine, RejectsAWeakerConsistencyThanTheProgramNeeds) {
  LocalGraph<double, int> graph(Topology::build(dense_graph()));
  EdgeAccessProgram program;
  EngineOptions options;
  options.consistency = Consistency::kVertex;
  std::string msg =
      test::error_of([&] { ChromaticEngine<EdgeAccessProgram> e(graph, program, options); });
  EXPECT_NE(msg.find("weaker"), std::string::npos) << msg;
}

/// Adds one to its vertex; reads an aggregate of all vertices and remembers what it saw.
struct Counter {
  struct VertexData {
    std::uint64_t count;
    std::uint64_t seen_total;
  };
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;
  AggregatorHandle<std::uint64_t> total;
  std::uint64_t sweeps;
  void update(Scope<Counter>& scope, Context& context) const {
    scope.vertex().count += 1;
    scope.vertex().seen_total = context.aggregate(total);
    if (context.iteration() + 1 < sweeps) context.schedule(scope.lid());
  }
};

TEST(ChromaticEngine, SweepAggregatorIsReadByTheNextSweep) {
  LocalGraph<Counter::VertexData, EmptyData> graph(Topology::build(dense_graph()));
  const Lid n = graph.topology().num_owned();
  Counter program{{}, 5};
  EngineOptions options;
  options.threads = 2;
  ChromaticEngine<Counter> engine(graph, program, options);
  engine.init_vertices([](Lid, Counter::VertexData& d) { d = {0, 0}; });
  auto plus = [](std::uint64_t a, std::uint64_t b) { return a + b; };
  program.total = engine.add_aggregator(
      "total", std::uint64_t{0},
      [](const Counter::VertexData& d, const VertexInfo&) { return d.count; }, plus,
      [](std::uint64_t x) { return x * 10; }, SyncInterval::every_iteration());
  engine.schedule_all();
  RunStats stats = engine.run();
  EXPECT_EQ(stats.iterations, 5u);
  // In sweep k (0-based) every vertex sees the total after k sweeps, finalized (x10).
  for (Lid v = 0; v < n; ++v) {
    EXPECT_EQ(graph.vertex_data()[v].count, 5u);
    EXPECT_EQ(graph.vertex_data()[v].seen_total, std::uint64_t{n} * 4 * 10);
  }
  EXPECT_EQ(engine.aggregate(program.total), std::uint64_t{n} * 5 * 10);
}

/// A Jacobi diffusion step: the vertex takes the mean of itself and its in-neighbours as of the
/// last sweep. DiffuseView declares that neighbours read only `value` (a NeighborView).
struct DiffuseVertex {
  double value;
  double updates;  ///< not read by neighbours
};
template <typename ScopeT, typename Read>
void diffuse(ScopeT& scope, Read read) {
  double sum = scope.vertex().value;
  for (auto e : scope.in_edges()) sum += read(e);
  scope.vertex().value = sum / static_cast<double>(1 + scope.in_degree());
  scope.vertex().updates += 1;
}
struct DiffuseWhole {
  using VertexData = DiffuseVertex;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;
  void update(Scope<DiffuseWhole>& scope, Context&) const {
    diffuse(scope, [](const auto& e) { return e.neighbor_data().value; });
  }
};
struct DiffuseView {
  using VertexData = DiffuseVertex;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;
  using NeighborView = double;
  static double neighbor_view(const DiffuseVertex& d) { return d.value; }
  void update(Scope<DiffuseView>& scope, Context&) const {
    diffuse(scope, [](const auto& e) { return e.neighbor_data(); });
  }
};
static_assert(HasNeighborView<DiffuseView> && !HasNeighborView<DiffuseWhole>);

struct DiffuseRun {
  std::vector<double> values;
  std::vector<double> sums;  ///< the "sum" aggregator after each sweep (folded in the pass)
  double recomputed = 0;     ///< the same aggregator by a pass of its own after the run
};
template <typename P>
DiffuseRun run_diffusion(const EdgeList& edges, int threads) {
  LocalGraph<DiffuseVertex, EmptyData> graph(Topology::build(edges));
  P program;
  EngineOptions options;
  options.threads = threads;
  options.max_iterations = 6;
  ChromaticEngine<P> engine(graph, program, options);
  engine.init_vertices([&](Lid v, DiffuseVertex& d) {
    d = {static_cast<double>(graph.topology().gid(v) % 17) / 7.0, 0};
  });
  auto sum = engine.add_aggregator(
      "sum", 0.0, [](const DiffuseVertex& d, const VertexInfo&) { return d.value; },
      [](double a, double b) { return a + b; }, [](double x) { return x; },
      SyncInterval::every_iteration());
  DiffuseRun out;
  engine.schedule_all();
  engine.run([&](IterationRecord&) {
    out.sums.push_back(engine.aggregate(sum));
    engine.schedule_all();
    return true;
  });
  engine.sync_all();
  out.recomputed = engine.aggregate(sum);
  for (Lid v = 0; v < graph.topology().num_owned(); ++v) {
    out.values.push_back(graph.vertex_data()[v].value);
    EXPECT_EQ(graph.vertex_data()[v].updates, 6.0);
  }
  return out;
}

TEST(ChromaticEngine, NeighborViewGivesTheSameStepsAndFoldedAggregatorsMatchAPass) {
  KroneckerParams k;
  k.scale = 13;  // several fold blocks
  k.edge_factor = 8;
  const EdgeList edges = generate_kronecker(k);
  const DiffuseRun whole = run_diffusion<DiffuseWhole>(edges, 1);
  ASSERT_EQ(whole.sums.size(), 6u);
  for (int threads : {1, 3}) {
    SCOPED_TRACE(threads);
    const DiffuseRun view = run_diffusion<DiffuseView>(edges, threads);
    // Bit for bit: the view holds exactly what the whole record held, and the aggregator's
    // blocks do not depend on the thread count or on who folds them.
    EXPECT_EQ(view.values, whole.values);
    EXPECT_EQ(view.sums, whole.sums);
    EXPECT_EQ(view.recomputed, view.sums.back());
  }
  // And both are the Jacobi iteration: every step reads the values of the step before.
  const Topology t = Topology::build(edges);
  std::vector<double> x(t.num_owned()), next(t.num_owned());
  for (Lid v = 0; v < t.num_owned(); ++v) x[v] = static_cast<double>(t.gid(v) % 17) / 7.0;
  for (int step = 0; step < 6; ++step) {
    for (Lid v = 0; v < t.num_owned(); ++v) {
      double sum = x[v];
      for (Lid u : t.in_neighbors(v)) sum += x[u];
      next[v] = sum / static_cast<double>(1 + t.in_degree(v));
    }
    x.swap(next);
  }
  EXPECT_EQ(whole.values, x);
}

TEST(ChromaticEngine, UpdateIntervalAggregatorRunsBetweenSteps) {
  LocalGraph<Counter::VertexData, EmptyData> graph(Topology::build(dense_graph()));
  const Lid n = graph.topology().num_owned();
  Counter program{{}, 3};
  EngineOptions options;
  options.consistency = Consistency::kEdge;  // several colour steps per sweep
  ChromaticEngine<Counter> engine(graph, program, options);
  ASSERT_GT(engine.coloring().num_colors, 2u);
  engine.init_vertices([](Lid, Counter::VertexData& d) { d = {0, 0}; });
  program.total = engine.add_aggregator(
      "total", std::uint64_t{0},
      [](const Counter::VertexData& d, const VertexInfo&) { return d.count; },
      [](std::uint64_t a, std::uint64_t b) { return a + b; }, [](std::uint64_t x) { return x; },
      SyncInterval::every_updates(1));
  engine.schedule_all();
  RunStats stats = engine.run();
  ASSERT_NE(stats.details, nullptr);
  EXPECT_EQ(dynamic_cast<const ChromaticDetails&>(*stats.details).steps,
            std::uint64_t{3} * engine.coloring().num_colors);
  // With a sync after every step, the last colour's vertices saw all but their own step.
  std::uint64_t max_seen = 0;
  for (Lid v = 0; v < n; ++v) max_seen = std::max(max_seen, graph.vertex_data()[v].seen_total);
  EXPECT_GT(max_seen, std::uint64_t{n} * 2);
  EXPECT_LT(max_seen, std::uint64_t{n} * 3);
}

TEST(ChromaticEngine, SweepLimitStopsARunThatWouldGoOn) {
  LocalGraph<Counter::VertexData, EmptyData> graph(Topology::build(dense_graph()));
  Counter program{{}, 1000000};
  EngineOptions options;
  options.max_iterations = 4;
  ChromaticEngine<Counter> engine(graph, program, options);
  engine.init_vertices([](Lid, Counter::VertexData& d) { d = {0, 0}; });
  program.total = engine.add_aggregator(
      "total", std::uint64_t{0},
      [](const Counter::VertexData&, const VertexInfo&) { return std::uint64_t{0}; },
      [](std::uint64_t a, std::uint64_t b) { return a + b; }, [](std::uint64_t x) { return x; },
      SyncInterval::every_iteration());
  engine.schedule_all();
  EXPECT_EQ(engine.run().iterations, 4u);
  EXPECT_EQ(graph.vertex_data()[0].count, 4u);
}

TEST(ChromaticEngine, NothingScheduledMeansNoWork) {
  LocalGraph<Counter::VertexData, EmptyData> graph(Topology::build(dense_graph()));
  Counter program{{}, 10};
  ChromaticEngine<Counter> engine(graph, program, EngineOptions{});
  RunStats stats = engine.run();
  EXPECT_EQ(stats.updates, 0u);
  EXPECT_EQ(stats.iterations, 0u);
}

/// Runs its vertex again after every update: a phase that never ends by itself.
struct Forever {
  using VertexData = std::uint64_t;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kVertex;
  void update(Scope<Forever>& scope, Context& context) const {
    ++scope.vertex();
    context.schedule(scope.lid());
  }
};

// The locking engine under vertex consistency runs its updates without locks, straight from
// the scheduler; --timeout must still stop a phase that would go on forever (its workers once
// looked at the clock only between phases).
TEST(LockingEngine, TimeoutStopsAVertexConsistentPhaseThatWouldGoOn) {
  std::atomic<bool> done{false};
  std::thread watchdog([&done] {
    for (int i = 0; i < 600 && !done.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!done.load()) {
      std::fprintf(stderr, "the run ignored --timeout 0.2 for 60 s\n");
      std::_Exit(1);
    }
  });
  LocalGraph<std::uint64_t, EmptyData> graph(Topology::build(dense_graph()));
  EngineOptions options;
  options.threads = 2;
  options.timeout = 0.2;
  RunStats stats;
  {
    LockingEngine<Forever> engine(graph, Forever{}, options);
    engine.init_vertices([](Lid, std::uint64_t& d) { d = 0; });
    engine.schedule_all();
    stats = engine.run();
  }
  done = true;
  watchdog.join();
  EXPECT_EQ(stats.stopped_by, "--timeout");
  EXPECT_GT(stats.updates, 0u);
}

TEST(WorkerPool, SplitsVerticesOverNodesAndDescribesItself) {
  WorkerPool pool(2);
  EXPECT_EQ(pool.threads(), 2);
  auto ranges = pool.split(1001);
  ASSERT_EQ(static_cast<int>(ranges.size()), pool.nodes());
  EXPECT_EQ(ranges.front().begin, 0u);
  EXPECT_EQ(ranges.back().end, 1001u);
  EXPECT_NE(pool.describe().find("NUMA"), std::string::npos);
  EXPECT_NE(test::error_of([] { WorkerPool bad(-1); }).find("--threads"), std::string::npos);
}

}  // namespace
}  // namespace atl
