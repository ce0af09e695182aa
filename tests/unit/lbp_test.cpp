// lbp against exact marginals computed by enumerating every joint state of small trees and
// forests (weighted and not, zero priors, damping, several consistency models); and every
// input error it reports.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "atoll/apps/lbp.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

using test::TempDir;

/// Exact marginals of the Potts MRF by summing over all K^n joint states (vertices 0..n-1).
std::vector<std::vector<double>> enumerate_marginals(
    std::size_t n, std::size_t k, const EdgeList& g, double smoothing,
    const std::vector<std::vector<double>>& prior) {
  std::vector<std::vector<double>> marginal(n, std::vector<double>(k, 0.0));
  std::vector<std::size_t> x(n, 0);
  double z = 0;
  while (true) {
    double p = 1;
    for (std::size_t v = 0; v < n; ++v) p *= prior[v][x[v]];
    for (std::size_t e = 0; e < g.size(); ++e) {
      const Edge& edge = g.edges[e];
      const double w = g.weighted ? g.weights[e] : 1.0;
      if (x[edge.src] != x[edge.dst]) p *= std::exp(-smoothing * w);
    }
    z += p;
    for (std::size_t v = 0; v < n; ++v) marginal[v][x[v]] += p;
    std::size_t i = 0;
    while (i < n && ++x[i] == k) x[i++] = 0;
    if (i == n) break;
  }
  for (auto& m : marginal) {
    for (double& p : m) p /= z;
  }
  return marginal;
}

/// A random tree on vertices first..first+size-1 (each vertex joins an earlier one), in
/// random edge direction.
void add_tree(EdgeList& g, Gid first, std::size_t size, std::mt19937_64& rng, bool weighted) {
  for (std::size_t i = 1; i < size; ++i) {
    Gid parent = first + std::uniform_int_distribution<std::size_t>(0, i - 1)(rng);
    Gid child = first + i;
    if (rng() % 2 == 0) {
      g.edges.push_back({parent, child});
    } else {
      g.edges.push_back({child, parent});
    }
    if (weighted) g.weights.push_back(std::uniform_real_distribution<double>(0.2, 2.0)(rng));
  }
}

struct Case {
  std::string name;
  std::size_t k;
  bool weighted;
  double smoothing;
  double damping;
  std::optional<Consistency> consistency;
};

TEST(Lbp, ExactMarginalsOnTreesByEnumeration) {
  const std::vector<Case> cases = {
      {"k2", 2, false, 1.0, 0.0, std::nullopt},
      {"k3_weighted", 3, true, 0.8, 0.0, std::nullopt},
      {"k3_damped_full", 3, true, 1.5, 0.4, Consistency::kFull},
      {"k4", 4, false, 0.5, 0.0, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::mt19937_64 rng(c.k * 31 + (c.weighted ? 7 : 0));
    const std::size_t n = c.k == 4 ? 7 : 10;  // K^n joint states
    EdgeList g;
    g.weighted = c.weighted;
    add_tree(g, 0, n - 3, rng, c.weighted);  // a forest: one tree, one edge, one isolated
    g.edges.push_back({n - 3, n - 2});
    if (c.weighted) g.weights.push_back(1.0);
    g.edges.push_back({n - 1, n - 1});  // a self-loop (a constant factor) on the isolated one
    if (c.weighted) g.weights.push_back(3.0);
    g.declared = VertexRange{0, n};
    std::vector<std::vector<double>> prior(n, std::vector<double>(c.k, 1.0));
    std::string text = "# priors\n";
    for (std::size_t v = 0; v < n; ++v) {
      if (v % 4 == 3) continue;  // uniform: no line
      text += std::to_string(v);
      for (std::size_t x = 0; x < c.k; ++x) {
        prior[v][x] = (v + x) % 5 == 0 ? 0.0 : std::uniform_real_distribution<double>(0.1, 3)(rng);
        char buf[40];
        std::snprintf(buf, sizeof buf, " %.17g", prior[v][x]);
        text += buf;
      }
      text += "\n";
    }
    TempDir dir;
    test::write_file(dir.file("priors"), text);
    auto expected = enumerate_marginals(n, c.k, g, c.smoothing, prior);
    LbpOptions o;
    o.states = c.k;
    o.priors = dir.file("priors");
    o.smoothing = c.smoothing;
    o.damping = c.damping;
    o.tolerance = 1e-13;
    EngineOptions e;
    e.threads = 2;
    e.consistency = c.consistency;
    LbpResult r = lbp(Topology::build(g), o, e);
    EXPECT_TRUE(r.converged);
    ASSERT_EQ(r.gids.size(), n);
    ASSERT_EQ(r.width, c.k);
    for (std::size_t v = 0; v < n; ++v) {
      for (std::size_t x = 0; x < c.k; ++x) {
        EXPECT_NEAR(r.row(v)[x], expected[v][x], 1e-9) << "vertex " << v << " state " << x;
      }
    }
  }
}

TEST(Lbp, ConvergesOnALoopyGridAndIsSymmetric) {
  // A 6x6 grid with no priors: every belief is uniform by symmetry.
  EdgeList g;
  for (Gid r = 0; r < 6; ++r) {
    for (Gid c = 0; c < 6; ++c) {
      if (c + 1 < 6) g.edges.push_back({r * 6 + c, r * 6 + c + 1});
      if (r + 1 < 6) g.edges.push_back({r * 6 + c, (r + 1) * 6 + c});
    }
  }
  LbpOptions o;
  o.states = 3;
  LbpResult r = lbp(Topology::build(g), o, {});
  EXPECT_TRUE(r.converged);
  for (double p : r.values) EXPECT_NEAR(p, 1.0 / 3, 1e-12);
}

TEST(Lbp, InputErrors) {
  EdgeList g;
  g.edges = {{1, 2}, {2, 3}};
  TempDir dir;
  const std::string f = dir.file("priors");
  auto error_for = [&](const std::string& text) {
    test::write_file(f, text);
    LbpOptions o;
    o.states = 3;
    o.priors = f;
    return test::error_of([&] { lbp(Topology::build(g), o, {}); });
  };
  EXPECT_EQ(error_for("1 1 2 3\n2 1 2\n"),
            f + ":2: expected 3 priors after the vertex id (--states 3), got 2");
  EXPECT_EQ(error_for("1 1 2 3 4\n"),
            f + ":1: expected 3 priors after the vertex id (--states 3), got 4");
  EXPECT_EQ(error_for("1 1 -0.5 3\n"), f + ":1: negative prior -0.5");
  EXPECT_EQ(error_for("1 1 0 3\n\n# x\n7 1 1 1\n"), f + ":4: vertex 7 is not in the graph");
  EXPECT_EQ(error_for("1 1 0x1 3\n"), f + ":1: expected a number for the prior, got '0x1'");
  EXPECT_EQ(error_for("1 0 0 0\n"), f + ":1: every prior is zero (at least one must be positive)");
  EXPECT_EQ(error_for("v1 1 1 1\n"), f + ":1: expected a vertex id, got 'v1'");
  auto kind_of = [&](LbpOptions o) {
    try {
      lbp(Topology::build(g), o, {});
    } catch (const Error& e) {
      return e.kind() == ErrorKind::kUsage ? std::string("usage: ") + e.what() : e.what();
    }
    return std::string("<no throw>");
  };
  LbpOptions o;
  o.states = 1;
  EXPECT_EQ(kind_of(o), "usage: --states must be in 2..64, got 1");
  o.states = 2;
  o.smoothing = -1;
  EXPECT_EQ(kind_of(o), "usage: --smoothing must be finite and non-negative, got -1");
  o.smoothing = 1;
  o.damping = 1;
  EXPECT_EQ(kind_of(o), "usage: --damping must be in [0, 1), got 1");
}

}  // namespace
}  // namespace atl
