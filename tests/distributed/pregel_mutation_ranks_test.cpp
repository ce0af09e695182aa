// Pregel topology mutation across ranks (real processes over UCX and TCP, started by the suite
// itself). A program makes a fixed mix of requests in superstep 0 (edge removal and re-addition
// of the same edge, vertex removal with messages sent to the removed vertex, a vertex removed
// and added, one new vertex added by many vertices on every rank with different values, edges
// to new vertices, messages to absent vertices), with and without conflict handlers. A serial
// simulation of the documented rules, written here, gives the expected final graph (checked
// edge by edge against --out-graph) and the expected value of every vertex (which counts the
// messages it got and the values of its out-edges after the change). kcore in Pregel form
// (peeling by vertex removal) is checked against a serial peeling and against the GraphLab
// kcore through the command line, on generated graphs and on a real one when present.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "../unit/reference_algorithms.hpp"
#include "atoll/apps/pregel_kcore.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/pregel_engine.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/read_graph.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;
using test::TempDir;

// ---- the mutating program ---------------------------------------------------------------

constexpr Gid kShared = 9000000;     ///< added by every vertex with gid % 13 == 2
constexpr Gid kNewTarget = 1000000;  ///< + gid: target of a new edge (gid % 11 == 1)
constexpr Gid kLetter = 7000000;     ///< + gid: an absent vertex sent a message (gid % 17 == 4)

template <bool kHandlers>
struct Mutator {
  using VertexValue = std::uint64_t;
  using EdgeValue = std::uint64_t;
  using Message = std::uint64_t;

  bool combining = true;

  std::uint64_t combine(std::uint64_t a, std::uint64_t b) const { return a + b; }

  void compute(PregelVertex<Mutator>& v, std::span<const std::uint64_t> messages) const {
    const Gid g = v.gid();
    if (v.superstep() == 0) {
      v.value() = 0;
      std::vector<Gid> targets;
      for (auto e : v.out_edges()) {
        e.send(1);
        targets.push_back(e.target());
      }
      std::sort(targets.begin(), targets.end());
      targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
      if (g % 5 == 0) {
        for (Gid t : targets) {
          v.remove_edge(g, t);
          if (t % 2 == 0) v.add_edge(g, t, 10);
        }
      }
      if (g % 7 == 3) v.remove_vertex(g);
      if (g % 11 == 1) v.add_edge(g, kNewTarget + g, 10);
      if (g % 13 == 2) v.add_vertex(kShared, g);
      if (g % 17 == 4) v.send(kLetter + g, 1);
      if (g % 19 == 5) {
        v.remove_vertex(g);
        v.add_vertex(g, 42);
      }
      if (g % 23 == 6) v.add_vertex(g + 1, 77);
      return;  // stays active for superstep 1
    }
    std::uint64_t received = 0, edges = 0;
    for (std::uint64_t m : messages) received += m;
    for (auto e : v.out_edges()) edges += e.value();
    v.value() += 1000 * received + edges;
    v.vote_to_halt();
  }

  std::uint64_t resolve_vertex_additions(
      Gid, std::span<const std::uint64_t> values) const requires kHandlers {
    return *std::max_element(values.begin(), values.end());
  }
  bool resolve_vertex_removal_and_addition(Gid) const requires kHandlers { return false; }
  bool resolve_edge_removal_and_addition(Gid, Gid dst) const requires kHandlers {
    return dst % 4 != 0;
  }
  bool create_on_message(Gid g, std::uint64_t& value) const requires kHandlers {
    if (g % 2 == 1) return false;
    value = 500;
    return true;
  }
};

static_assert(PregelResolvesVertexAdditions<Mutator<true>>);
static_assert(!PregelResolvesVertexAdditions<Mutator<false>>);
static_assert(PregelCreatesOnMessage<Mutator<true>> && !PregelCreatesOnMessage<Mutator<false>>);

/// Removals only (the part is filtered in place): edges (v, t) with (v + t) % 3 == 0 and
/// vertices with gid % 7 == 3 go; edge values written in superstep 0 must still sit on their
/// edges in superstep 1.
struct Prune {
  using VertexValue = std::uint64_t;
  using EdgeValue = std::uint64_t;
  using Message = std::uint64_t;

  void compute(PregelVertex<Prune>& v, std::span<const std::uint64_t> messages) const {
    const Gid g = v.gid();
    if (v.superstep() == 0) {
      v.value() = 0;
      for (auto e : v.out_edges()) {
        e.value() = e.target() * 7 + g;
        e.send(1);
        if ((g + e.target()) % 3 == 0) v.remove_edge(g, e.target());
      }
      if (g % 7 == 3) v.remove_vertex(g);
      return;
    }
    for (std::uint64_t m : messages) v.value() += 1000 * m;
    for (auto e : v.out_edges()) {
      v.value() += e.value() == e.target() * 7 + g ? e.value() : std::uint64_t{1} << 50;
    }
    v.vote_to_halt();
  }
};

// ---- rank side --------------------------------------------------------------------------

struct RankArgs {
  std::string graph, app, dump, transport = "ucx";
  bool combine = true;
  std::string checkpoint_dir, resume;  ///< --checkpoint-dir (an epoch every superstep), --resume
  std::uint64_t max_supersteps = 0;    ///< 0: no limit
  std::size_t message_buffer = 0;      ///< 0: the default
};

/// The most exchange rounds one superstep's mutations took.
std::uint32_t most_mutation_rounds(const PregelStats& stats) {
  std::uint32_t most = 0;
  for (const SuperstepRecord& r : stats.log) most = std::max(most, r.mutation_rounds);
  return most;
}

template <bool kHandlers>
void run_mutator(const RankArgs& a, Topology topology, Cluster& cluster, EngineOptions po) {
  LocalGraph<std::uint64_t, std::uint64_t> local(std::move(topology));
  Mutator<kHandlers> program;
  po.out_graph = a.dump + "/graph.el";
  PregelEngine<Mutator<kHandlers>> engine(local, program, po, &cluster);
  engine.init_edges([](EdgeId, std::uint64_t& v) { v = 1; });
  PregelStats stats = engine.run();
  std::ofstream out(a.dump + "/values-" + std::to_string(cluster.rank()));
  const Topology& t = local.topology();
  for (Lid v = 0; v < t.num_owned(); ++v) out << t.gid(v) << '\t' << local.vertex_data()[v] << '\n';
  std::ofstream s(a.dump + "/stats-" + std::to_string(cluster.rank()));
  s << "supersteps " << stats.supersteps << "\nmutations " << stats.mutations
    << "\nmutation_rounds " << most_mutation_rounds(stats) << "\n";
}

int run_rank(const RankArgs& a) {
  TransportOptions options;
  options.kind = parse_transport(a.transport);
  Transport t(detect_job({}), options);
  Collectives coll(t);
  Exchange exchange(t);
  t.start();
  Cluster cluster{t, coll, exchange};
  GraphPartLoad part = load_graph_part(a.graph, t, coll, exchange, {});
  EngineOptions po;
  po.engine = EngineKind::kPregel;
  po.threads = 1;
  po.combine = a.combine;
  po.checkpoint.dir = a.checkpoint_dir;
  po.checkpoint.every = a.checkpoint_dir.empty() ? 0 : 1;
  po.checkpoint.resume = a.resume;
  if (a.max_supersteps > 0) po.max_iterations = a.max_supersteps;
  if (a.message_buffer > 0) po.message_buffer = a.message_buffer;
  if (a.app == "mutate") {
    run_mutator<false>(a, std::move(part.topology), cluster, po);
  } else if (a.app == "mutate-handlers") {
    run_mutator<true>(a, std::move(part.topology), cluster, po);
  } else if (a.app == "prune") {
    LocalGraph<std::uint64_t, std::uint64_t> local(std::move(part.topology));
    Prune program;
    po.out_graph = a.dump + "/graph.el";
    PregelEngine<Prune> engine(local, program, po, &cluster);
    engine.run();
    std::ofstream out(a.dump + "/values-" + std::to_string(t.rank()));
    const Topology& g = local.topology();
    for (Lid v = 0; v < g.num_owned(); ++v)
      out << g.gid(v) << '\t' << local.vertex_data()[v] << '\n';
  } else if (a.app == "kcore") {
    po.out_graph = a.dump + "/graph.el";
    auto p = pregel_kcore(std::move(part.topology), po, &cluster);
    std::ofstream out(a.dump + "/values-" + std::to_string(t.rank()));
    for (std::size_t i = 0; i < p.gids.size(); ++i) out << p.gids[i] << '\t' << p.values[i] << '\n';
    std::ofstream s(a.dump + "/stats-" + std::to_string(t.rank()));
    s << "mutation_rounds " << most_mutation_rounds(p.pregel) << "\n";
  } else {
    fail("unknown app ", a.app);
  }
  t.stop();
  return 0;
}

// ---- the serial simulation of the documented rules -----------------------------------------

struct Expected {
  std::map<Gid, std::uint64_t> values;
  std::vector<std::string> edges;  ///< "src<TAB>dst<TAB>weight", sorted like --out-graph
};

bool bytes_less(std::uint64_t a, std::uint64_t b) {
  return std::memcmp(&a, &b, sizeof a) < 0;
}

Expected simulate(const EdgeList& in, bool handlers) {
  struct E {
    Gid src, dst;
    double weight;
    std::uint64_t value;
  };
  std::set<Gid> vertices;
  std::map<Gid, std::set<Gid>> targets;
  std::vector<E> edges;
  std::map<Gid, std::uint64_t> fast;  // messages along edges, by target
  for (std::size_t i = 0; i < in.size(); ++i) {
    const Edge& e = in.edges[i];
    vertices.insert(e.src);
    vertices.insert(e.dst);
    targets[e.src].insert(e.dst);
    edges.push_back({e.src, e.dst, in.weighted ? in.weights[i] : 1.0, 1});
    ++fast[e.dst];
  }
  std::set<std::pair<Gid, Gid>> removed_edges;
  std::set<Gid> removed;
  std::map<Gid, std::vector<std::uint64_t>> additions;
  std::vector<std::pair<Gid, Gid>> new_edges;
  std::map<Gid, std::uint64_t> letters;
  for (Gid g : vertices) {
    if (g % 5 == 0) {
      for (Gid t : targets[g]) {
        removed_edges.insert({g, t});
        if (t % 2 == 0) new_edges.push_back({g, t});
      }
    }
    if (g % 7 == 3) removed.insert(g);
    if (g % 11 == 1) new_edges.push_back({g, kNewTarget + g});
    if (g % 13 == 2) additions[kShared].push_back(g);
    if (g % 17 == 4) ++letters[kLetter + g];
    if (g % 19 == 5) {
      removed.insert(g);
      additions[g].push_back(42);
    }
    if (g % 23 == 6) additions[g + 1].push_back(77);
  }
  auto exists = [&](Gid g) { return vertices.contains(g) && !removed.contains(g); };
  std::map<Gid, std::uint64_t> created;
  for (auto& [g, values] : additions) {  // vertex additions
    if (exists(g)) continue;
    std::sort(values.begin(), values.end(), bytes_less);
    std::uint64_t value = handlers ? *std::max_element(values.begin(), values.end()) : values[0];
    if (handlers && vertices.contains(g)) continue;  // removed and added: removal wins
    created[g] = value;
  }
  std::map<Gid, std::uint64_t> delivered;
  for (const auto& [g, n] : fast) {
    if (!removed.contains(g)) delivered[g] += n;
  }
  for (const auto& [g, n] : letters) {  // messages to absent vertices
    if (removed.contains(g)) continue;
    if (!exists(g) && !created.contains(g)) {
      if (handlers && g % 2 == 1) continue;
      created[g] = handlers ? 500 : 0;
    }
    delivered[g] += n;
  }
  std::vector<E> final_edges;
  for (const E& e : edges) {
    if (removed_edges.contains({e.src, e.dst}) || removed.contains(e.src) ||
        removed.contains(e.dst)) {
      continue;
    }
    final_edges.push_back(e);
  }
  for (const auto& [s, d] : new_edges) {  // edge additions
    if (handlers && removed_edges.contains({s, d}) && d % 4 == 0) continue;
    for (Gid x : {s, d}) {
      if (!exists(x) && !created.contains(x)) created[x] = 0;
    }
    final_edges.push_back({s, d, 1.0, 10});
  }
  Expected x;
  for (Gid g : vertices) {
    if (!removed.contains(g)) x.values[g] = 0;
  }
  for (const auto& [g, v] : created) x.values[g] = v;
  for (auto& [g, v] : x.values) v += 1000 * delivered[g];
  std::sort(final_edges.begin(), final_edges.end(), [](const E& a, const E& b) {
    return std::tie(a.src, a.dst, a.weight) < std::tie(b.src, b.dst, b.weight);
  });
  for (const E& e : final_edges) {
    x.values[e.src] += e.value;
    char w[32];
    std::snprintf(w, sizeof w, "%.17g", e.weight);
    x.edges.push_back(std::to_string(e.src) + '\t' + std::to_string(e.dst) + '\t' + w);
  }
  return x;
}

Expected simulate_prune(const EdgeList& in) {
  Expected x;
  std::vector<std::tuple<Gid, Gid, double>> kept;
  std::map<Gid, std::uint64_t> received;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const Edge& e = in.edges[i];
    for (Gid g : {e.src, e.dst}) {
      if (g % 7 != 3) x.values[g] += 0;
    }
    if (e.dst % 7 != 3) ++received[e.dst];
    if ((e.src + e.dst) % 3 == 0 || e.src % 7 == 3 || e.dst % 7 == 3) continue;
    kept.emplace_back(e.src, e.dst, in.weighted ? in.weights[i] : 1.0);
  }
  for (auto& [g, v] : x.values) v = 1000 * received[g];
  std::sort(kept.begin(), kept.end());
  for (const auto& [src, dst, w] : kept) {
    x.values[src] += dst * 7 + src;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", w);
    x.edges.push_back(std::to_string(src) + '\t' + std::to_string(dst) + '\t' + buf);
  }
  return x;
}

// ---- test side ------------------------------------------------------------------------

std::string atoll() {
  return ATOLL_BINARY;
}

test::Result launch(int ranks, const std::string& args) {
  return test::run(atoll() + " launch -n " + std::to_string(ranks) + " -- " + test::self_path() +
                   " --rank-mode " + args);
}

std::map<Gid, std::uint64_t> read_values(const std::string& dir, int ranks) {
  std::map<Gid, std::uint64_t> values;
  for (int r = 0; r < ranks; ++r) {
    std::ifstream in(dir + "/values-" + std::to_string(r));
    Gid g;
    std::uint64_t v;
    while (in >> g >> v) {
      EXPECT_FALSE(values.contains(g)) << "vertex " << g << " on two ranks";
      values[g] = v;
    }
  }
  return values;
}

/// The edge lines of an --out-graph file (weights normalised), and its comment lines.
std::vector<std::string> read_graph_lines(const std::string& path,
                                          std::vector<std::string>* notes) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (notes != nullptr) notes->push_back(line);
      continue;
    }
    std::istringstream fields(line);
    Gid s, d;
    double w = 1;
    fields >> s >> d;
    if (!(fields >> w)) w = 1;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", w);
    lines.push_back(std::to_string(s) + '\t' + std::to_string(d) + '\t' + buf);
  }
  return lines;
}

/// Generates a graph with `atoll generate ARGS` as dir/name; returns its path.
std::string generated(const TempDir& dir, const std::string& name, const std::string& args) {
  const std::string path = dir.file(name);
  const test::Result r = test::run(atoll() + " generate " + args + " --out " + path);
  EXPECT_EQ(r.code, 0) << r.output;
  return path;
}
/// The graph of the mutating program's tests.
constexpr const char* kUniform = "uniform --vertices 600 --edges 2400 --weights 1:30 --seed 5";

class PregelMutationRanks : public testing::TestWithParam<std::string> {};

TEST_P(PregelMutationRanks, FinalGraphAndValuesFollowTheDocumentedOrderAndDefaults) {
  TempDir dir;
  const std::string g = generated(dir, "uni.txt", kUniform);
  const EdgeList input = read_edge_list(g);
  for (bool handlers : {false, true}) {
    const Expected expected = simulate(input, handlers);
    ASSERT_TRUE(expected.values.contains(kShared));
    for (int ranks : {1, 2, 3}) {
      for (const char* combine : {"", " --no-combine"}) {
        SCOPED_TRACE(std::string(handlers ? "handlers" : "defaults") + ", " +
                     std::to_string(ranks) + " ranks" + combine);
        const std::string dump = dir.file("m" + std::to_string(handlers) + std::to_string(ranks) +
                                          (*combine ? "n" : ""));
        std::filesystem::create_directories(dump);
        test::Result r = launch(
            ranks, std::string("--app ") + (handlers ? "mutate-handlers" : "mutate") + " --graph " +
                       g + " --dump " + dump + " --transport " + GetParam() + combine);
        ASSERT_EQ(r.code, 0) << r.output;
        EXPECT_EQ(read_values(dump, ranks), expected.values);
        std::vector<std::string> notes;
        EXPECT_EQ(read_graph_lines(dump + "/graph.el", &notes), expected.edges);
        ASSERT_FALSE(notes.empty());
        EXPECT_NE(notes[0].find(std::to_string(expected.values.size()) + " vertices"),
                  std::string::npos)
            << notes[0];
      }
    }
  }
}

TEST_P(PregelMutationRanks, RemovalsOnlyKeepValuesAndEdgesInStep) {
  TempDir dir;
  const std::string g = dir.file("kron.txt");
  ASSERT_EQ(test::run(atoll() + " generate kronecker --scale 9 --edge-factor 6 --weights 1:9 " +
                      "--seed 4 --out " + g)
                .code,
            0);
  const Expected expected = simulate_prune(read_edge_list(g));
  for (int ranks : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string dump = dir.file("p" + std::to_string(ranks));
    std::filesystem::create_directories(dump);
    test::Result r = launch(
        ranks, "--app prune --graph " + g + " --dump " + dump + " --transport " + GetParam());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(read_values(dump, ranks), expected.values);
    EXPECT_EQ(read_graph_lines(dump + "/graph.el", nullptr), expected.edges);
  }
}

TEST_P(PregelMutationRanks, KcoreByVertexRemovalEqualsSerialPeeling) {
  TempDir dir;
  const std::string kron = dir.file("kron.txt");
  ASSERT_EQ(
      test::run(atoll() + " generate kronecker --scale 9 --edge-factor 8 --seed 3 --out " + kron)
          .code,
      0);
  std::vector<std::pair<std::string, int>> runs = {{kron, 1}, {kron, 2}, {kron, 3}};
  const std::string real = std::string(ATOLL_SHARED_DATA) + "/email-Eu-core.txt.zst";
  if (std::filesystem::exists(real)) runs.push_back({real, 3});
  for (const auto& [path, ranks] : runs) {
    SCOPED_TRACE(path + " on " + std::to_string(ranks) + " ranks");
    const std::map<Gid, std::uint64_t> expected = test::reference_coreness(read_edge_list(path));
    const std::string dump = dir.file("k" + std::to_string(ranks) + std::to_string(path == real));
    std::filesystem::create_directories(dump);
    test::Result r = launch(
        ranks, "--app kcore --graph " + path + " --dump " + dump + " --transport " + GetParam());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(read_values(dump, ranks), expected);
    // Every vertex removed itself: the final graph is empty.
    std::vector<std::string> notes;
    EXPECT_TRUE(read_graph_lines(dump + "/graph.el", &notes).empty());
    ASSERT_FALSE(notes.empty());
    EXPECT_NE(notes[0].find(" 0 vertices, 0 edges"), std::string::npos) << notes[0];
  }
}

// A checkpoint after the mutating superstep carries the changed graph (removed and new
// vertices, removed and new edges with their values and weights, messages to created
// vertices): stopped there on 2 ranks, resumed on 3 (and 1), the run ends as an
// uninterrupted one does, edge by edge.
TEST_P(PregelMutationRanks, ACheckpointAfterMutationsResumesOnAnotherRankCount) {
  TempDir dir;
  const std::string g = generated(dir, "uni.txt", kUniform);
  const Expected expected = simulate(read_edge_list(g), false);
  const std::string ck = dir.file("ck");
  const std::string first = dir.file("first");
  std::filesystem::create_directories(first);
  test::Result r = launch(2, "--app mutate --graph " + g + " --dump " + first + " --transport " +
                                 GetParam() + " --checkpoint-dir " + ck + " --max-supersteps 1");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string manifest = ck + "/epoch-00000001/MANIFEST";
  std::ifstream in(manifest);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\ntopology "), std::string::npos) << text.str();
  for (int ranks : {3, 1}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string dump = dir.file("resumed" + std::to_string(ranks));
    std::filesystem::create_directories(dump);
    r = launch(ranks, "--app mutate --graph " + g + " --dump " + dump + " --transport " +
                          GetParam() + " --resume " + ck);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("its own topology"), std::string::npos) << r.output;
    EXPECT_EQ(read_values(dump, ranks), expected.values);
    EXPECT_EQ(read_graph_lines(dump + "/graph.el", nullptr), expected.edges);
  }
}

/// The most mutation rounds a rank's stats file reports.
std::uint32_t read_mutation_rounds(const std::string& dir, int ranks) {
  std::uint32_t most = 0;
  for (int r = 0; r < ranks; ++r) {
    std::ifstream in(dir + "/stats-" + std::to_string(r));
    std::string key;
    std::uint64_t value;
    while (in >> key >> value) {
      if (key == "mutation_rounds") most = std::max(most, static_cast<std::uint32_t>(value));
    }
  }
  return most;
}

// Mutation batches under a small --message-buffer (1 KiB per peer and round) travel in many
// rounds and still give the exact answer: the mixed program against the serial simulation
// (with and without a combiner) and kcore against serial peeling, on 2 and 3 ranks.
TEST_P(PregelMutationRanks, SmallBuffersSendMutationsInManyRoundsWithTheSameAnswer) {
  TempDir dir;
  const std::string g = generated(dir, "uni.txt", kUniform);
  const Expected expected = simulate(read_edge_list(g), false);
  const std::string kron =
      generated(dir, "kron.txt", "kronecker --scale 9 --edge-factor 8 --seed 3");
  const std::map<Gid, std::uint64_t> cores = test::reference_coreness(read_edge_list(kron));
  for (int ranks : {2, 3}) {
    for (const char* combine : {"", " --no-combine"}) {
      SCOPED_TRACE(std::to_string(ranks) + " ranks" + combine);
      const std::string dump = dir.file("b" + std::to_string(ranks) + (*combine ? "n" : ""));
      std::filesystem::create_directories(dump);
      test::Result r =
          launch(ranks, "--app mutate --graph " + g + " --dump " + dump + " --transport " +
                            GetParam() + " --message-buffer 1024" + combine);
      ASSERT_EQ(r.code, 0) << r.output;
      EXPECT_EQ(read_values(dump, ranks), expected.values);
      EXPECT_EQ(read_graph_lines(dump + "/graph.el", nullptr), expected.edges);
      EXPECT_GE(read_mutation_rounds(dump, ranks), 4u);
    }
    SCOPED_TRACE("kcore on " + std::to_string(ranks) + " ranks");
    const std::string dump = dir.file("bk" + std::to_string(ranks));
    std::filesystem::create_directories(dump);
    test::Result r = launch(ranks, "--app kcore --graph " + kron + " --dump " + dump +
                                       " --transport " + GetParam() + " --message-buffer 1024");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(read_values(dump, ranks), cores);
    EXPECT_GE(read_mutation_rounds(dump, ranks), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, PregelMutationRanks, testing::Values("ucx", "tcp"));

/// Through the command line: kcore --engine pregel writes what the GraphLab kcore writes, and
/// --out-graph of a run without mutations is the input graph.
TEST(PregelMutationCli, KcoreMatchesTheGraphLabAppAndOutGraphRoundTrips) {
  TempDir dir;
  const std::string g = dir.file("g.txt");
  ASSERT_EQ(
      test::run(atoll() + " generate kronecker --scale 8 --edge-factor 6 --seed 9 --out " + g).code,
      0);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  ASSERT_EQ(test::run(atoll() + " run kcore --graph " + g + " --out " + dir.file("lab.tsv")).code,
            0);
  const std::string lab = read(dir.file("lab.tsv"));
  ASSERT_FALSE(lab.empty());
  for (int ranks : {1, 3}) {
    const std::string out = dir.file("pregel" + std::to_string(ranks) + ".tsv");
    test::Result r = test::run(atoll() + " run kcore --engine pregel --graph " + g + " --ranks " +
                               std::to_string(ranks) + " --out " + out);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(read(out), lab) << ranks << " ranks";
  }
  const std::string copy = dir.file("copy.el");
  test::Result r = test::run(atoll() + " run cc --engine pregel --graph " + g +
                             " --ranks 2 --out-graph " + copy);
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<std::pair<Gid, Gid>> pairs;
  for (const Edge& e : read_edge_list(g).edges) pairs.emplace_back(e.src, e.dst);
  std::sort(pairs.begin(), pairs.end());
  std::vector<std::string> expected;
  for (const auto& [s, d] : pairs)
    expected.push_back(std::to_string(s) + '\t' + std::to_string(d) + "\t1");
  EXPECT_EQ(read_graph_lines(copy, nullptr), expected);
  // The written graph loads again.
  EXPECT_EQ(read_edge_list(copy).size(), expected.size());
  test::Result wrong = test::run(atoll() + " run cc --graph " + g + " --out-graph " + copy);
  EXPECT_EQ(wrong.code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("--out-graph is for the Pregel engine"), std::string::npos)
      << wrong.output;
}

}  // namespace

int main(int argc, char** argv) {
  RankArgs a;
  bool rank_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rank-mode") rank_mode = true;
    if (arg == "--no-combine") a.combine = false;
    if (i + 1 >= argc) continue;
    if (arg == "--graph") a.graph = argv[++i];
    if (arg == "--app") a.app = argv[++i];
    if (arg == "--dump") a.dump = argv[++i];
    if (arg == "--transport") a.transport = argv[++i];
    if (arg == "--checkpoint-dir") a.checkpoint_dir = argv[++i];
    if (arg == "--resume") a.resume = argv[++i];
    if (arg == "--max-supersteps") a.max_supersteps = std::stoull(argv[++i]);
    if (arg == "--message-buffer") a.message_buffer = std::stoull(argv[++i]);
  }
  if (rank_mode) {
    try {
      return run_rank(a);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rank error: %s\n", e.what());
      return 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
