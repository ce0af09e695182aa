// jacobi against a dense Gaussian-elimination solve of the same system, for every consistency
// model and thread count; and every input error it reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>

#include "atoll/apps/jacobi.hpp"
#include "dense_solve.hpp"
#include "test_util.hpp"

namespace atl {
namespace {

using test::TempDir;

/// A random sparse, strictly diagonally dominant n x n matrix as an edge list (entries in
/// random order, one off-diagonal entry split in two repeated entries) plus its dense form.
struct System {
  EdgeList matrix;
  std::vector<double> dense;
  std::vector<double> b;  ///< dense right-hand side (rows without a line are 0)
  std::string rhs_text;
};

System random_system(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  std::uniform_int_distribution<std::size_t> column(0, n - 1);
  System s;
  s.dense.assign(n * n, 0.0);
  s.b.assign(n, 0.0);
  auto add = [&](std::size_t i, std::size_t j, double w) {
    s.matrix.edges.push_back({i + 1, j + 1});
    s.dense[i * n + j] += w;
  };
  for (std::size_t i = 0; i < n; ++i) {
    double off = 0;
    for (int k = 0; k < 4; ++k) {
      std::size_t j = column(rng);
      if (j == i) continue;
      double w = value(rng);
      if (k == 0) {  // a repeated entry: the two parts add up
        add(i, j, w / 2);
        add(i, j, w / 2);
      } else {
        add(i, j, w);
      }
      off += std::abs(w);
    }
    add(i, i, (i % 2 == 0 ? 1 : -1) * (off + 0.5 + std::abs(value(rng))));
    if (i % 3 != 0) {
      s.b[i] = 10 * value(rng);
      char line[64];
      std::snprintf(line, sizeof line, "%zu %.17g\n", i + 1, s.b[i]);
      s.rhs_text += line;
    }
  }
  std::shuffle(s.matrix.edges.begin(), s.matrix.edges.end(), rng);  // weights: reweight()
  return s;
}

/// Gives the (shuffled) entries their weights: the dense form holds sums, so every entry of a
/// pair gets the pair's total divided by its multiplicity.
void reweight(System& s, std::size_t n) {
  std::map<std::pair<Gid, Gid>, int> count;
  for (const Edge& e : s.matrix.edges) ++count[{e.src, e.dst}];
  for (const Edge& e : s.matrix.edges) {
    s.matrix.weights.push_back(s.dense[(e.src - 1) * n + (e.dst - 1)] / count[{e.src, e.dst}]);
  }
  s.matrix.weighted = true;
  s.matrix.declared = VertexRange{1, n};
}

System make_system(std::size_t n, std::uint64_t seed) {
  System s = random_system(n, seed);
  reweight(s, n);
  return s;
}

EngineOptions engine(int threads, std::optional<Consistency> c = std::nullopt) {
  EngineOptions e;
  e.threads = threads;
  e.consistency = c;
  return e;
}

TEST(Jacobi, MatchesADenseSolve) {
  const std::size_t n = 70;
  System s = make_system(n, 7);
  TempDir dir;
  test::write_file(dir.file("b.txt"), "# right-hand side\n" + s.rhs_text);
  std::vector<double> expected = test::dense_solve(s.dense, s.b);
  for (auto c : {Consistency::kVertex, Consistency::kEdge, Consistency::kFull}) {
    for (int threads : {1, 3}) {
      SCOPED_TRACE(std::string(consistency_name(c)) + " " + std::to_string(threads));
      JacobiOptions o;
      o.rhs = dir.file("b.txt");
      o.tolerance = 1e-13;
      JacobiResult r = jacobi(Topology::build(s.matrix), o, engine(threads, c));
      ASSERT_EQ(r.values.size(), n);
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(r.gids[i], i + 1);
        EXPECT_NEAR(r.values[i], expected[i], 1e-10) << "row " << i + 1;
      }
      EXPECT_LE(r.final_change, 1e-13);
      EXPECT_GT(r.stats.iterations, 5u);
    }
  }
}

TEST(Jacobi, WithoutRhsTheSolutionIsZero) {
  System s = make_system(20, 3);
  JacobiResult r = jacobi(Topology::build(s.matrix), {}, engine(2));
  for (double x : r.values) EXPECT_EQ(x, 0.0);
}

EdgeList small(std::vector<std::tuple<Gid, Gid, double>> entries, Gid n) {
  EdgeList l;
  for (auto [i, j, w] : entries) {
    l.edges.push_back({i, j});
    l.weights.push_back(w);
  }
  l.weighted = true;
  l.declared = VertexRange{1, n};
  return l;
}

TEST(Jacobi, ZeroOrMissingDiagonalNamesTheRow) {
  auto missing = small({{1, 1, 2.0}, {1, 2, 0.5}, {2, 1, 0.5}, {3, 3, 1.0}}, 3);
  EXPECT_EQ(test::error_of([&] { jacobi(Topology::build(missing), {}, engine(1)); }),
            "row 2: the diagonal entry is zero or missing (Jacobi divides by it)");
  auto cancelled = small({{1, 1, 2.0}, {2, 2, 1.0}, {2, 2, -1.0}}, 2);
  EXPECT_EQ(test::error_of([&] { jacobi(Topology::build(cancelled), {}, engine(1)); }),
            "row 2: the diagonal entry is zero or missing (Jacobi divides by it)");
}

TEST(Jacobi, ANonConvergingRunSaysSo) {
  // [[1, 2], [2, 1]]: the Jacobi iteration matrix has spectral radius 2.
  auto m = small({{1, 1, 1.0}, {1, 2, 2.0}, {2, 1, 2.0}, {2, 2, 1.0}}, 2);
  TempDir dir;
  test::write_file(dir.file("b"), "1 1\n2 0.5\n");
  JacobiOptions o;
  o.rhs = dir.file("b");
  o.iterations = 30;
  std::string e = test::error_of([&] { jacobi(Topology::build(m), o, engine(1)); });
  EXPECT_NE(e.find("jacobi did not converge in 30 sweeps: the last sweep changed x by "),
            std::string::npos)
      << e;
  o.iterations = 100000;
  e = test::error_of([&] { jacobi(Topology::build(m), o, engine(1)); });
  EXPECT_NE(e.find("jacobi diverged after "), std::string::npos) << e;
}

TEST(Jacobi, InputErrors) {
  System s = make_system(5, 1);
  TempDir dir;
  auto error_for = [&](const std::string& text) {
    test::write_file(dir.file("b"), text);
    JacobiOptions o;
    o.rhs = dir.file("b");
    return test::error_of([&] { jacobi(Topology::build(s.matrix), o, engine(1)); });
  };
  const std::string f = dir.file("b");
  EXPECT_EQ(error_for("1 2\n2 x\n"),
            f + ":2: expected a number for the right-hand side value, got 'x'");
  EXPECT_EQ(error_for("1 2 3\n"),
            f + ":1: expected 1 right-hand side value after the vertex id, got 2");
  EXPECT_EQ(error_for("1 2\n\n9 1\n"), f + ":3: vertex 9 is not in the graph");
  EXPECT_EQ(error_for("-1 2\n"), f + ":1: expected a vertex id, got '-1'");
  EXPECT_EQ(error_for("1 2\n1 3\n"), f + ":2: vertex 1 already has a line (line 1)");
  EXPECT_EQ(error_for("1 nan\n"),
            f + ":1: expected a number for the right-hand side value, got 'nan'");
  JacobiOptions o;
  o.rhs = dir.file("missing");
  EXPECT_NE(
      test::error_of([&] { jacobi(Topology::build(s.matrix), o, engine(1)); }).find("missing"),
      std::string::npos);
  EdgeList pattern = s.matrix;
  pattern.weighted = false;
  pattern.weights.clear();
  EXPECT_NE(test::error_of([&] {
              jacobi(Topology::build(pattern), {}, engine(1));
            }).find("jacobi needs a matrix with values"),
            std::string::npos);
  o.tolerance = -1;
  try {
    jacobi(Topology::build(s.matrix), o, engine(1));
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  }
}

}  // namespace
}  // namespace atl
