// coem against a dense solve of the harmonic equations it iterates (each non-seed vertex
// reachable from a seed is the weighted average of its neighbours; seeds fixed), with an
// unseeded component that must stay 0; and every input error it reports.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <queue>
#include <string>

#include "atoll/apps/coem.hpp"
#include "atoll/graph/generators.hpp"
#include "dense_solve.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

using test::TempDir;

/// Scores by the dense reference: per type, (D - W_UU) s_U = W_US s_S over the non-seed
/// vertices U with a path to a seed; every other non-seed vertex scores 0.
std::map<Gid, std::vector<double>> reference_coem(const EdgeList& g,
                                                  const std::map<Gid, int>& seeds, int types) {
  std::map<Gid, std::map<Gid, double>> w;  // symmetric weights (a self-loop counts twice)
  for (std::size_t e = 0; e < g.size(); ++e) {
    const double x = g.weighted ? g.weights[e] : 1.0;
    w[g.edges[e].src][g.edges[e].dst] += x;
    w[g.edges[e].dst][g.edges[e].src] += x;
  }
  std::map<Gid, bool> reached;
  std::queue<Gid> queue;
  for (auto [s, type] : seeds) {
    reached[s] = true;
    queue.push(s);
  }
  while (!queue.empty()) {
    Gid v = queue.front();
    queue.pop();
    for (auto [u, x] : w[v]) {
      if (!reached[u]) {
        reached[u] = true;
        queue.push(u);
      }
    }
  }
  std::vector<Gid> unknown;
  std::map<Gid, std::size_t> index;
  for (auto& [v, row] : w) {
    if (reached[v] && !seeds.count(v)) {
      index[v] = unknown.size();
      unknown.push_back(v);
    }
  }
  const std::size_t n = unknown.size();
  std::map<Gid, std::vector<double>> scores;
  for (auto& [v, row] : w) scores[v].assign(static_cast<std::size_t>(types), 0.0);
  for (auto [s, type] : seeds) scores[s][static_cast<std::size_t>(type)] = 1.0;
  for (int k = 0; k < types; ++k) {
    std::vector<double> a(n * n, 0.0), b(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      for (auto [u, x] : w[unknown[i]]) {
        a[i * n + i] += x;
        if (auto it = index.find(u); it != index.end()) {
          a[i * n + it->second] -= x;
        } else if (auto s = seeds.find(u); s != seeds.end() && s->second == k) {
          b[i] += x;
        }
      }
    }
    std::vector<double> s = test::dense_solve(a, b);
    for (std::size_t i = 0; i < n; ++i) scores[unknown[i]][static_cast<std::size_t>(k)] = s[i];
  }
  return scores;
}

EdgeList test_graph() {
  UniformParams p;
  p.vertices = 90;
  p.edges = 260;
  p.seed = 11;
  p.weights = WeightRange{1, 9};
  EdgeList g = generate_uniform(p);
  g.declared.reset();  // the vertices are those of the edges
  for (auto [a, b] : {std::pair<Gid, Gid>{1000, 1001}, {1001, 1002}, {1002, 1000}, {1003, 1003}}) {
    g.edges.push_back({a, b});  // a component without seeds, and a self-loop
    g.weights.push_back(2.0);
  }
  return g;
}

EngineOptions engine(int threads, std::optional<Consistency> c = std::nullopt) {
  EngineOptions e;
  e.threads = threads;
  e.consistency = c;
  return e;
}

TEST(Coem, MatchesADenseSolve) {
  EdgeList g = test_graph();
  std::map<Gid, int> seeds = {{3, 0}, {17, 1}, {40, 2}, {41, 2}, {77, 0}, {5, 1}};
  TempDir dir;
  std::string text = "# seeds\n";
  for (auto [v, t] : seeds) text += std::to_string(v) + "\t" + std::to_string(t) + "\n";
  test::write_file(dir.file("seeds"), text);
  auto expected = reference_coem(g, seeds, 3);
  for (auto c : {Consistency::kVertex, Consistency::kEdge}) {
    SCOPED_TRACE(consistency_name(c));
    CoemOptions o;
    o.types = 3;
    o.seeds = dir.file("seeds");
    o.tolerance = 1e-14;
    CoemResult r = coem(Topology::build(g), o, engine(3, c));
    ASSERT_EQ(r.width, 3u);
    ASSERT_EQ(r.gids.size(), expected.size());
    int nonzero = 0;
    for (std::size_t i = 0; i < r.gids.size(); ++i) {
      const std::vector<double>& want = expected.at(r.gids[i]);
      for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_NEAR(r.row(i)[k], want[k], 1e-10) << "vertex " << r.gids[i] << " type " << k;
        nonzero += want[k] > 0.01 && want[k] < 0.99;
      }
      if (r.gids[i] >= 1000) {
        for (double x : r.row(i)) EXPECT_EQ(x, 0.0) << "unseeded vertex " << r.gids[i];
      }
    }
    EXPECT_GT(nonzero, 100);  // the scores really spread
  }
}

TEST(Coem, InputErrors) {
  EdgeList g = test_graph();
  TempDir dir;
  const std::string f = dir.file("seeds");
  auto error_for = [&](const std::string& text, std::size_t types = 3) {
    test::write_file(f, text);
    CoemOptions o;
    o.types = types;
    o.seeds = f;
    return test::error_of([&] { coem(Topology::build(g), o, engine(1)); });
  };
  EXPECT_EQ(error_for("3 0\n5 3\n"), f + ":2: seed type 3 is not an integer in 0..2");
  EXPECT_EQ(error_for("3 -1\n"), f + ":1: seed type -1 is not an integer in 0..2");
  EXPECT_EQ(error_for("3 0.5\n"), f + ":1: seed type 0.5 is not an integer in 0..2");
  EXPECT_EQ(error_for("3 zero\n"), f + ":1: expected a number for the seed type, got 'zero'");
  EXPECT_EQ(error_for("3 0 1\n"), f + ":1: expected 1 seed type after the vertex id, got 2");
  EXPECT_EQ(error_for("% c\n3 0\n123456 1\n"), f + ":3: vertex 123456 is not in the graph");
  auto kind_of = [&](std::size_t types) {
    test::write_file(f, "3 0\n");
    CoemOptions o;
    o.types = types;
    o.seeds = f;
    try {
      coem(Topology::build(g), o, engine(1));
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kRuntime;
  };
  EXPECT_EQ(kind_of(1), ErrorKind::kUsage);
  EXPECT_EQ(kind_of(65), ErrorKind::kUsage);
  EdgeList negative = g;
  negative.weights[4] = -1;
  test::write_file(f, "3 0\n");
  CoemOptions o;
  o.seeds = f;
  EXPECT_NE(test::error_of([&] {
              coem(Topology::build(negative), o, engine(1));
            }).find("has negative weight -1"),
            std::string::npos);
}

}  // namespace
}  // namespace atl
