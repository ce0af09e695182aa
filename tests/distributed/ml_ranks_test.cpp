// The machine-learning apps (jacobi, coem, lbp, denoise, als) on 2 and 3 real ranks over UCX
// and TCP, against the same app run on one rank in this process (jacobi, coem and lbp on a
// tree converge to the same fixpoint; denoise and als are checked against the generated
// truth, since their update order differs with the colouring). Run plainly, this is a
// GoogleTest suite that starts itself as ranks through `atoll launch`; run with --app it is one
// rank: it loads the inputs from --dir, runs the app across the ranks and writes its vertices.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "atoll/apps/als.hpp"
#include "atoll/apps/coem.hpp"
#include "atoll/apps/denoise.hpp"
#include "atoll/apps/image.hpp"
#include "atoll/apps/jacobi.hpp"
#include "atoll/apps/lbp.hpp"
#include "atoll/apps/test_image.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/transport/collectives.hpp"
#include "atoll/transport/exchange.hpp"
#include "atoll/transport/job.hpp"
#include "atoll/transport/transport.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;
using test::Result;
using test::run;
using test::self_path;
using test::TempDir;

constexpr double kNoise = 0.1;  // of the generated ratings

// ---- the inputs (written by the suite, read by every rank) ------------------------------------

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) fail("cannot write ", path);
}

std::string number(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/// A diagonally dominant 150 x 150 system (matrix.mtx, b.txt), a weighted random graph with
/// seeds (graph.txt, seeds.txt), a weighted random tree with priors (tree.txt, priors.txt),
/// a noisy picture (noisy.pgm, clean.pgm) and ratings (train.mtx, test.mtx).
void write_inputs(const std::string& dir) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(-1, 1);
  {
    const int n = 150;
    std::string entries, rhs;
    int count = 0;
    for (int i = 1; i <= n; ++i) {
      double off = 0;
      for (int k = 0; k < 4; ++k) {
        int j = static_cast<int>(rng() % n) + 1;
        if (j == i) continue;
        double w = unit(rng);
        off += std::abs(w);
        entries += std::to_string(i) + " " + std::to_string(j) + " " + number(w) + "\n";
        ++count;
      }
      entries += std::to_string(i) + " " + std::to_string(i) + " " + number(off + 0.5) + "\n";
      ++count;
      if (i % 4 != 0) rhs += std::to_string(i) + " " + number(5 * unit(rng)) + "\n";
    }
    write_text(dir + "/matrix.mtx", "%%MatrixMarket matrix coordinate real general\n" +
                                        std::to_string(n) + " " + std::to_string(n) + " " +
                                        std::to_string(count) + "\n" + entries);
    write_text(dir + "/b.txt", rhs);
  }
  {
    std::string g;
    for (int e = 0; e < 900; ++e) {
      g += std::to_string(rng() % 300) + " " + std::to_string(rng() % 300) + " " +
           std::to_string(1 + rng() % 9) + "\n";
    }
    write_text(dir + "/graph.txt", g);
    std::string seeds;
    for (int v : {3, 50, 97, 140, 201, 260})
      seeds += std::to_string(v) + " " + std::to_string(v % 3) + "\n";
    write_text(dir + "/seeds.txt", seeds);
  }
  {
    std::string t, priors;
    for (int v = 1; v < 400; ++v) {
      t += std::to_string(rng() % static_cast<unsigned>(v)) + " " + std::to_string(v) + " " +
           number(0.3 + (unit(rng) + 1)) + "\n";
    }
    for (int v = 0; v < 400; v += 2) {
      priors += std::to_string(v) + " " + number(unit(rng) + 1.1) + " " + number(unit(rng) + 1.1) +
                " " + number(unit(rng) + 1.1) + "\n";
    }
    write_text(dir + "/tree.txt", t);
    write_text(dir + "/priors.txt", priors);
    write_text(dir + "/bad_priors.txt", "0 1 1 1\n\n7 1 1\n");
  }
  {
    Image clean = make_test_image(90, 70, 4);
    write_image(dir + "/clean.pgm", clean);
    write_image(dir + "/noisy.pgm", add_noise(clean, 50, 9));
  }
  {
    RatingsParams p;
    p.users = 200;
    p.items = 120;
    p.rank = 3;
    p.noise = kNoise;
    p.density = 0.4;
    p.seed = 8;
    Ratings data = generate_ratings(p);
    for (auto [name, list] : {std::pair{"train", &data.train}, std::pair{"test", &data.test}}) {
      std::string s = "%%MatrixMarket matrix coordinate real general\n200 120 " +
                      std::to_string(list->size()) + "\n";
      for (std::size_t e = 0; e < list->size(); ++e) {
        s += std::to_string(list->edges[e].src) + " " + std::to_string(list->edges[e].dst - 200) +
             " " + number(list->weights[e]) + "\n";
      }
      write_text(dir + "/" + name + ".mtx", s);
    }
  }
}

// ---- one app, on one rank or across the ranks of a job ----------------------------------------

/// gid -> values of every vertex the app returned (this rank's, or all on one rank).
using Values = std::map<Gid, std::vector<double>>;

Values to_map(const VertexVectors& r) {
  Values m;
  for (std::size_t i = 0; i < r.gids.size(); ++i) {
    m[r.gids[i]].assign(r.row(i).begin(), r.row(i).end());
  }
  return m;
}

Topology load(const std::string& path, Cluster* c, bool bipartite = false) {
  if (c == nullptr) {
    return Topology::build(read_edge_list(path, GraphFormat::kAuto,
                                          bipartite ? MtxLayout::kBipartite : MtxLayout::kAuto));
  }
  PartLoadOptions o;
  o.atoms = 12;
  if (bipartite) o.mtx_layout = MtxLayout::kBipartite;
  return load_graph_part(path, c->transport, c->collectives, c->exchange, o).topology;
}

/// Runs `app` on the inputs in dir; extra is written to `summary` (als: the RMSEs; denoise:
/// the image is written to dir/denoised-R.pgm).
Values run_app(const std::string& app, const std::string& dir, Cluster* c, std::string& summary) {
  EngineOptions e;
  e.threads = 1;
  if (app == "jacobi") {
    JacobiOptions o;
    o.rhs = dir + "/b.txt";
    o.tolerance = 1e-13;
    JacobiResult r = jacobi(load(dir + "/matrix.mtx", c), o, e, c);
    VertexVectors v;
    v.gids = r.gids;
    v.width = 1;
    v.values = r.values;
    return to_map(v);
  }
  if (app == "coem") {
    CoemOptions o;
    o.types = 3;
    o.seeds = dir + "/seeds.txt";
    o.tolerance = 1e-14;
    return to_map(coem(load(dir + "/graph.txt", c), o, e, c));
  }
  if (app == "lbp" || app == "lbp_bad") {
    LbpOptions o;
    o.states = 3;
    o.priors = dir + (app == "lbp" ? "/priors.txt" : "/bad_priors.txt");
    o.smoothing = 0.7;
    o.tolerance = 1e-13;
    LbpResult r = lbp(load(dir + "/tree.txt", c), o, e, c);
    summary = r.converged ? "converged" : "not converged";
    return to_map(r);
  }
  if (app == "denoise") {
    DenoiseOptions o;
    o.states = 4;
    o.sigma = 50;
    o.smoothing = 2;
    DenoiseResult r = denoise(read_image(dir + "/noisy.pgm"), o, e, c);
    write_image(dir + "/denoised-" + std::to_string(c != nullptr ? c->size() : 1) + ".pgm",
                r.image);
    summary = r.converged ? "converged" : "not converged";
    return {};
  }
  if (app == "als") {
    AlsOptions o;
    o.rank = 3;
    o.lambda = 0.002;
    o.iterations = 12;
    o.test = dir + "/test.mtx";
    AlsResult r = als(load(dir + "/train.mtx", c, true), o, e, c);
    summary = number(r.train_rmse) + " " + number(r.test_rmse);
    return to_map(r);
  }
  fail("unknown app ", app);
}

int run_rank(const std::string& app, const std::string& dir, TransportKind kind) {
  JobInfo job = detect_job({});
  TransportOptions options;
  options.kind = kind;
  Transport t(job, options);
  Collectives coll(t);
  Exchange exchange(t);
  t.start();
  Cluster cluster{t, coll, exchange};
  std::string summary;
  Values values = run_app(app, dir, &cluster, summary);
  std::ofstream out(dir + "/" + app + ".rank-" + std::to_string(t.rank()));
  out << summary << "\n";
  for (const auto& [gid, row] : values) {
    out << gid;
    for (double x : row) out << " " << number(x);
    out << "\n";
  }
  out.close();
  t.stop();
  return out ? 0 : 1;
}

// ---- the checks ------------------------------------------------------------------------------

struct Gathered {
  Values values;
  std::vector<std::string> summaries;
};

Gathered gather(const std::string& dir, const std::string& app, int ranks) {
  Gathered g;
  for (int r = 0; r < ranks; ++r) {
    std::ifstream in(dir + "/" + app + ".rank-" + std::to_string(r));
    std::string line;
    std::getline(in, line);
    g.summaries.push_back(line);
    while (std::getline(in, line)) {
      std::istringstream s(line);
      Gid gid;
      s >> gid;
      std::vector<double> row;
      for (double x; s >> x;) row.push_back(x);
      EXPECT_TRUE(g.values.emplace(gid, row).second) << "vertex " << gid << " on two ranks";
    }
  }
  return g;
}

double max_difference(const Values& a, const Values& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (const auto& [gid, row] : a) {
    auto it = b.find(gid);
    if (it == b.end() || it->second.size() != row.size()) {
      ADD_FAILURE() << "vertex " << gid << " missing or of another width";
      continue;
    }
    for (std::size_t k = 0; k < row.size(); ++k) {
      worst = std::max(worst, std::abs(row[k] - it->second[k]));
    }
  }
  return worst;
}

/// An --out file of "gid<TAB>v1 v2 ..." lines.
Values read_values(const std::string& path) {
  Values v;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    Gid g;
    s >> g;
    for (double x; s >> x;) v[g].push_back(x);
  }
  return v;
}

double wrong_share(const Image& a, const Image& b) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) wrong += a.pixels[i] != b.pixels[i];
  return static_cast<double>(wrong) / static_cast<double>(a.pixels.size());
}

class MlRanks : public testing::TestWithParam<std::string> {
 protected:
  Result launch(const std::string& app, int ranks) {
    return run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
               self_path() + " --app " + app + " --dir " + dir_.path() + " --transport " +
               GetParam());
  }
  TempDir dir_;
};

TEST_P(MlRanks, FixpointAppsGiveTheSingleRankAnswer) {
  write_inputs(dir_.path());
  for (const std::string app : {"jacobi", "coem", "lbp"}) {
    std::string summary;
    Values one = run_app(app, dir_.path(), nullptr, summary);
    ASSERT_FALSE(one.empty());
    for (int ranks : {2, 3}) {
      SCOPED_TRACE(app + " on " + std::to_string(ranks) + " ranks over " + GetParam());
      Result r = launch(app, ranks);
      ASSERT_EQ(r.code, 0) << r.output;
      Gathered g = gather(dir_.path(), app, ranks);
      EXPECT_LE(max_difference(one, g.values), 1e-9);
      if (app == "lbp") {
        for (const std::string& s : g.summaries) EXPECT_EQ(s, "converged");
      }
    }
  }
}

TEST_P(MlRanks, DenoiseAndAlsMeetTheGeneratedTruth) {
  write_inputs(dir_.path());
  const Image clean = read_image(dir_.path() + "/clean.pgm");
  std::string summary;
  run_app("denoise", dir_.path(), nullptr, summary);  // one rank, in this process
  const Image one = read_image(dir_.path() + "/denoised-1.pgm");
  EXPECT_LT(wrong_share(one, clean), 0.04);
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks over " + GetParam());
    Result r = launch("denoise", ranks);
    ASSERT_EQ(r.code, 0) << r.output;
    Image denoised = read_image(dir_.path() + "/denoised-" + std::to_string(ranks) + ".pgm");
    EXPECT_LT(wrong_share(denoised, clean), 0.04);
    EXPECT_LT(wrong_share(denoised, one), 0.01);  // the update order differs, little else

    r = launch("als", ranks);
    ASSERT_EQ(r.code, 0) << r.output;
    Gathered g = gather(dir_.path(), "als", ranks);
    ASSERT_EQ(g.values.size(), 320u);
    double train = 0, test = 0;
    std::istringstream(g.summaries[0]) >> train >> test;
    for (const std::string& s : g.summaries) EXPECT_EQ(s, g.summaries[0]);  // global RMSEs
    EXPECT_LT(train, kNoise);
    EXPECT_LT(test, 1.25 * kNoise);
    // The reported test RMSE from the gathered factors.
    EdgeList held = read_edge_list(dir_.path() + "/test.mtx");
    double sum = 0;
    for (std::size_t e = 0; e < held.size(); ++e) {
      const auto& p = g.values.at(held.edges[e].src);
      const auto& q = g.values.at(held.edges[e].dst);
      double x = 0;
      for (std::size_t k = 0; k < p.size(); ++k) x += p[k] * q[k];
      sum += (held.weights[e] - x) * (held.weights[e] - x);
    }
    EXPECT_NEAR(std::sqrt(sum / static_cast<double>(held.size())), test, 1e-12);
  }
}

TEST_P(MlRanks, AnInputErrorStopsEveryRankWithItsLine) {
  write_inputs(dir_.path());
  Result r = launch("lbp_bad", 3);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find(dir_.path() + "/bad_priors.txt:3: expected 3 priors after the vertex id "
                                        "(--states 3), got 2"),
            std::string::npos)
      << r.output;
}

TEST_P(MlRanks, TheCommandLineRunsThemAcrossRanks) {
  write_inputs(dir_.path());
  const std::string d = dir_.path() + "/";
  const std::string tail = " --ranks 2 --transport " + GetParam();
  // denoise reads its own input (no --graph) and writes an image.
  Result r = run(std::string(ATOLL_BINARY) + " run denoise --image " + d +
                 "noisy.pgm --states 4 --sigma 50 --smoothing 2 --out " + d + "cli.pgm" + tail);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_LT(wrong_share(read_image(d + "cli.pgm"), read_image(d + "clean.pgm")), 0.04);
  // als reads the ratings as users x items and prints both RMSEs.
  r = run(std::string(ATOLL_BINARY) + " run als --graph " + d + "train.mtx --test " + d +
          "test.mtx --rank 3 --lambda 0.002 --iterations 12 --out " + d + "f.tsv" + tail);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("train RMSE "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("test RMSE "), std::string::npos) << r.output;
  // lbp's vectors gathered from the ranks match one rank's.
  const std::string lbp = std::string(ATOLL_BINARY) + " run lbp --graph " + d +
                          "tree.txt --states 3 --priors " + d +
                          "priors.txt --smoothing 0.7 --tol 1e-13 --out ";
  ASSERT_EQ(run(lbp + d + "one.tsv").code, 0);
  r = run(lbp + d + "two.tsv" + tail);
  ASSERT_EQ(r.code, 0) << r.output;
  Values one = read_values(d + "one.tsv");
  ASSERT_EQ(one.size(), 400u);
  EXPECT_LE(max_difference(one, read_values(d + "two.tsv")), 1e-9);
}

TEST_P(MlRanks, RealGraphGivesTheSingleRankAnswer) {
  const std::string graph = std::string(ATOLL_SHARED_DATA) + "/facebook_combined.txt.zst";
  if (!std::filesystem::exists(graph)) GTEST_SKIP() << "no " << graph;
  const std::string d = dir_.path() + "/";
  write_text(d + "seeds", "0 0\n107 1\n1684 2\n3437 0\n");
  write_text(d + "priors", "0 3 1\n107 1 3\n1684 1 1\n");
  const std::string coem = std::string(ATOLL_BINARY) + " run coem --graph " + graph +
                           " --types 3 --seeds " + d +
                           "seeds --tol 0 --iterations 100 --threads 1 --out ";
  const std::string lbp = std::string(ATOLL_BINARY) + " run lbp --graph " + graph +
                          " --states 2 --priors " + d +
                          "priors --smoothing 0.5 --damping 0.3 --tol 1e-9 --threads 1 --out ";
  const std::string ranks = " --ranks 3 --transport " + GetParam();
  for (const std::string& app : {coem, lbp}) {
    Result one = run(app + d + "one.tsv");
    ASSERT_EQ(one.code, 0) << one.output;
    Result many = run(app + d + "many.tsv" + ranks);
    ASSERT_EQ(many.code, 0) << many.output;
    Values a = read_values(d + "one.tsv"), b = read_values(d + "many.tsv");
    ASSERT_EQ(a.size(), 4039u);
    // coem runs the same 100 Jacobi sweeps on any rank count; lbp reaches the same fixpoint.
    EXPECT_LE(max_difference(a, b), 1e-9) << app;
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, MlRanks, testing::Values("ucx", "tcp"));

}  // namespace

int main(int argc, char** argv) {
  std::string app, dir, transport = "ucx";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--app" && i + 1 < argc) {
      app = argv[++i];
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--transport" && i + 1 < argc) {
      transport = argv[++i];
    }
  }
  if (!app.empty()) {
    try {
      return run_rank(app, dir, parse_transport(transport));
    } catch (const Error& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return e.kind() == ErrorKind::kUsage ? 2 : 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
