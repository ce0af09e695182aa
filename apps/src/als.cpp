// ALS on the chromatic engine under edge consistency: no update runs next to another one, so
// each reads its neighbours' latest factors and lowers the objective (block coordinate
// descent); on a bipartite colouring a sweep is one user half-step and one item half-step.
// The program needs from the sweep hook: reschedule every vertex until the iteration count,
// and compute the RMSEs after each sweep (it reads the vertex data and ghosts directly).
#include "atoll/apps/als.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "atoll/graph/read_graph.hpp"
#include "collective_check.hpp"
#include "fixed_vector.hpp"

namespace atl {
namespace {

template <std::size_t N>
struct Factor {
  std::array<double, N> x;
};

/// Solves (A) y = b in place for a symmetric positive definite d x d A (lower triangle used)
/// by Cholesky; false when A is not positive definite.
template <std::size_t N>
bool cholesky_solve(std::array<double, N * N>& a, std::array<double, N>& b, std::size_t d) {
  for (std::size_t j = 0; j < d; ++j) {
    double s = a[j * d + j];
    for (std::size_t k = 0; k < j; ++k) s -= a[j * d + k] * a[j * d + k];
    if (!(s > 0)) return false;
    const double l = std::sqrt(s);
    a[j * d + j] = l;
    for (std::size_t i = j + 1; i < d; ++i) {
      double t = a[i * d + j];
      for (std::size_t k = 0; k < j; ++k) t -= a[i * d + k] * a[j * d + k];
      a[i * d + j] = t / l;
    }
  }
  for (std::size_t i = 0; i < d; ++i) {  // L z = b
    double t = b[i];
    for (std::size_t k = 0; k < i; ++k) t -= a[i * d + k] * b[k];
    b[i] = t / a[i * d + i];
  }
  for (std::size_t i = d; i-- > 0;) {  // L^T y = z
    double t = b[i];
    for (std::size_t k = i + 1; k < d; ++k) t -= a[k * d + i] * b[k];
    b[i] = t / a[i * d + i];
  }
  return true;
}

template <std::size_t N>
struct AlsProgram {
  using VertexData = Factor<N>;
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kEdge;

  std::size_t d;
  double lambda;
  const double* ratings;  ///< by edge id

  void update(Scope<AlsProgram>& scope, Context&) const {
    std::array<double, N * N> a{};
    std::array<double, N> b{};
    std::size_t count = 0;
    auto add = [&](auto edge) {
      const auto& q = edge.neighbor_data().x;
      const double r = ratings[edge.id()];
      for (std::size_t i = 0; i < d; ++i) {
        b[i] += r * q[i];
        for (std::size_t j = 0; j <= i; ++j) a[i * d + j] += q[i] * q[j];
      }
      ++count;
    };
    for (auto edge : scope.in_edges()) add(edge);
    for (auto edge : scope.out_edges()) add(edge);
    auto& x = scope.vertex().x;
    if (count == 0) {  // no ratings: the regularised optimum is 0
      std::fill_n(x.begin(), d, 0.0);
      return;
    }
    for (std::size_t i = 0; i < d; ++i) a[i * d + i] += lambda * static_cast<double>(count);
    if (cholesky_solve<N>(a, b, d)) std::copy_n(b.begin(), d, x.begin());
  }
};

/// A pseudo-random start in [-0.5, 0.5) / sqrt(d), the same for a gid on any rank count.
double initial_entry(Gid g, std::size_t k, std::size_t d) {
  const std::uint64_t h = (g + 1) * 0x9e3779b97f4a7c15ULL ^ (k + 1) * 0xbf58476d1ce4e5b9ULL;
  std::uint64_t z = h ^ (h >> 31);
  z *= 0x94d049bb133111ebULL;
  z ^= z >> 29;
  return (static_cast<double>(z >> 11) * 0x1p-53 - 0.5) / std::sqrt(static_cast<double>(d));
}

/// Held-out ratings of this rank's users, and the item factors they need from other ranks.
template <std::size_t N>
class TestSet {
 public:
  TestSet(const std::string& path, const Topology& g, std::size_t d, Cluster* cluster)
      : d_(d), cluster_(cluster) {
    EdgeList test = read_edge_list(path, GraphFormat::kMtx, MtxLayout::kBipartite);
    std::uint64_t vertices = g.num_owned();
    if (cluster != nullptr) {
      vertices = cluster->collectives.allreduce<std::uint64_t>(vertices, ReduceOp::kSum);
    }
    if (!test.weighted) fail(path, ": the test ratings have no values (a pattern matrix)");
    if (!test.declared || test.declared->count != vertices) {
      fail(path, ": a ", test.bipartite_rows, " x ",
           test.declared ? test.declared->count - test.bipartite_rows : 0,
           " test matrix does not match the training ratings' ", vertices,
           " users and items together");
    }
    for (std::size_t e = 0; e < test.size(); ++e) {
      const Lid u = g.lid(test.edges[e].src);
      if (u == kInvalidLid || u >= g.num_owned()) continue;  // another rank's user
      const Gid item = test.edges[e].dst;
      const Lid i = g.lid(item);
      if (i == kInvalidLid) missing_.push_back(item);
      entries_.push_back({u, i, item, test.weights[e]});
    }
    std::sort(missing_.begin(), missing_.end());
    missing_.erase(std::unique(missing_.begin(), missing_.end()), missing_.end());
    if (cluster != nullptr) {  // who needs which of my vertices
      std::string mine(missing_.size() * sizeof(Gid), '\0');
      if (!missing_.empty()) std::memcpy(mine.data(), missing_.data(), mine.size());
      std::vector<std::string> all = cluster->collectives.allgather(mine);
      wanted_.resize(all.size());
      for (std::size_t r = 0; r < all.size(); ++r) {
        if (all[r].size() % sizeof(Gid) != 0) fail("rank ", r, " sent a bad test request");
        for (std::size_t k = 0; k < all[r].size() / sizeof(Gid); ++k) {
          Gid gid;
          std::memcpy(&gid, all[r].data() + k * sizeof(Gid), sizeof(Gid));
          const Lid v = g.lid(gid);
          if (v != kInvalidLid && v < g.num_owned()) wanted_[r].push_back(v);
        }
      }
    } else if (!missing_.empty()) {
      fail(path, ": vertex ", missing_.front(), " is not in the training graph");
    }
    remote_.assign(missing_.size() * d, 0.0);
  }

  /// Collective: the sum of squared errors and the number of held-out ratings (all ranks).
  std::pair<double, double> squared_error(const Topology& g, std::span<const Factor<N>> data) {
    if (cluster_ != nullptr) fetch(g, data);
    double sum = 0;
    for (const Entry& e : entries_) {
      const double* q;
      if (e.item != kInvalidLid) {
        q = data[e.item].x.data();
      } else {
        auto at = std::lower_bound(missing_.begin(), missing_.end(), e.item_gid) - missing_.begin();
        q = remote_.data() + static_cast<std::size_t>(at) * d_;
      }
      double p = 0;
      for (std::size_t k = 0; k < d_; ++k) p += data[e.user].x[k] * q[k];
      sum += (e.rating - p) * (e.rating - p);
    }
    std::array<double, 2> totals{sum, static_cast<double>(entries_.size())};
    if (cluster_ != nullptr)
      cluster_->collectives.allreduce(std::span<double>(totals), ReduceOp::kSum);
    return {totals[0], totals[1]};
  }

 private:
  struct Entry {
    Lid user;
    Lid item;  ///< kInvalidLid: another rank's, fetched into remote_
    Gid item_gid;
    double rating;
  };

  /// Sends every rank the factors of my vertices it asked for, as (gid, D values) records.
  void fetch(const Topology& g, std::span<const Factor<N>> data) {
    const std::size_t record = sizeof(Gid) + d_ * sizeof(double);
    std::vector<std::vector<std::byte>> out(wanted_.size());
    for (std::size_t r = 0; r < wanted_.size(); ++r) {
      out[r].resize(wanted_[r].size() * record);
      for (std::size_t k = 0; k < wanted_[r].size(); ++k) {
        const Gid gid = g.gid(wanted_[r][k]);
        std::memcpy(out[r].data() + k * record, &gid, sizeof gid);
        std::memcpy(out[r].data() + k * record + sizeof gid, data[wanted_[r][k]].x.data(),
                    d_ * sizeof(double));
      }
    }
    std::vector<std::vector<std::byte>> in = cluster_->exchange.all_to_all(std::move(out));
    for (std::size_t r = 0; r < in.size(); ++r) {
      if (in[r].size() % record != 0) fail("rank ", r, " sent ", in[r].size(), " bytes of factors");
      for (std::size_t k = 0; k < in[r].size() / record; ++k) {
        Gid gid;
        std::memcpy(&gid, in[r].data() + k * record, sizeof gid);
        auto it = std::lower_bound(missing_.begin(), missing_.end(), gid);
        if (it == missing_.end() || *it != gid) fail("rank ", r, " sent an unasked factor ", gid);
        std::memcpy(remote_.data() + static_cast<std::size_t>(it - missing_.begin()) * d_,
                    in[r].data() + k * record + sizeof gid, d_ * sizeof(double));
      }
    }
  }

  std::size_t d_;
  Cluster* cluster_;
  std::vector<Entry> entries_;
  std::vector<Gid> missing_;              ///< sorted item gids held by no local vertex
  std::vector<double> remote_;            ///< their factors, D each
  std::vector<std::vector<Lid>> wanted_;  ///< per rank: my vertices it needs
};

template <std::size_t N>
AlsResult run_als(Topology graph, const AlsOptions& opt, const EngineOptions& eo,
                  Cluster* cluster) {
  const std::size_t d = opt.rank;
  const Lid n = graph.num_owned();
  AlsResult result;
  result.width = d;
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  std::string problem;
  if (!graph.weighted()) problem = "als needs ratings: the matrix has no values (pattern)";
  for (Lid v = 0; v < n && problem.empty(); ++v) {
    if (graph.in_degree(v) > 0 && graph.out_degree(v) > 0) {
      problem = str_cat("vertex ", graph.gid(v),
                        " both rates and is rated: als needs the users x items layout (users "
                        "1..m, items m+1..m+n; a square ratings file must be read as bipartite)");
    }
  }
  fail_on_any_rank(cluster, problem);
  std::unique_ptr<TestSet<N>> test;
  if (!opt.test.empty()) test = std::make_unique<TestSet<N>>(opt.test, graph, d, cluster);

  LocalGraph<Factor<N>, EmptyData> local(std::move(graph));
  const Topology& t = local.topology();
  AlsProgram<N> program{d, opt.lambda, t.weights().data()};
  EngineOptions options = eo;
  options.max_iterations = std::min(options.max_iterations, opt.iterations);
  auto train_error = [&] {
    const Factor<N>* data = local.vertex_data().data();
    const double* r = t.weights().data();
    double sum = tbb::parallel_deterministic_reduce(
        tbb::blocked_range<Lid>(0, n, 512), 0.0,
        [&](const tbb::blocked_range<Lid>& range, double acc) {
          for (Lid u = range.begin(); u < range.end(); ++u) {
            for (EdgeId e = t.out_begin(u); e < t.out_end(u); ++e) {
              double p = 0;
              for (std::size_t k = 0; k < d; ++k) p += data[u].x[k] * data[t.out_targets()[e]].x[k];
              acc += (r[e] - p) * (r[e] - p);
            }
          }
          return acc;
        },
        [](double a, double b) { return a + b; }, tbb::simple_partitioner());
    std::array<double, 2> totals{sum, static_cast<double>(t.owned_edges())};
    if (cluster != nullptr)
      cluster->collectives.allreduce(std::span<double>(totals), ReduceOp::kSum);
    return totals[1] > 0 ? std::sqrt(totals[0] / totals[1]) : 0.0;
  };
  result.stats = run_graphlab(local, program, options, cluster, [&](auto& engine) {
    engine.init_vertices([&](Lid v, Factor<N>& f) {
      f.x.fill(0.0);
      for (std::size_t k = 0; k < d; ++k) f.x[k] = initial_entry(t.gid(v), k, d);
    });
    auto hook = [&](IterationRecord& record) {
      record.residual = result.train_rmse = train_error();
      result.train_rmse_by_sweep.push_back(result.train_rmse);
      if (test) {
        auto [sum, count] = test->squared_error(t, local.vertex_data());
        result.test_rmse = count > 0 ? std::sqrt(sum / count) : 0.0;
        result.test_rmse_by_sweep.push_back(result.test_rmse);
      }
      if (record.iteration + 1 >= opt.iterations) return false;
      engine.schedule_all();
      return true;
    };
    engine.schedule_all();
    return engine.run(hook);
  });
  result.values.resize(std::size_t{n} * d);
  for (Lid v = 0; v < n; ++v) {
    std::copy_n(local.vertex_data()[v].x.begin(), d, result.values.begin() + std::size_t{v} * d);
  }
  return result;
}

void check_options(const AlsOptions& opt) {
  if (opt.rank < 1 || opt.rank > kMaxWidth) {
    usage_fail("--rank must be in 1..", kMaxWidth, ", got ", opt.rank);
  }
  if (!(opt.lambda >= 0) || std::isinf(opt.lambda)) {
    usage_fail("--lambda must be non-negative, got ", opt.lambda);
  }
  if (opt.iterations < 1) usage_fail("--iterations must be at least 1");
}

}  // namespace

AlsResult als(Topology graph, const AlsOptions& opt, const EngineOptions& eo, Cluster* cluster) {
  check_options(opt);
  return with_capacity(
      opt.rank, [&]<std::size_t N>() { return run_als<N>(std::move(graph), opt, eo, cluster); });
}

void register_als_app() {
  AppSpec spec{
      "als", "Alternating least squares on a users x items ratings matrix (Matrix Market)",
      std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
      Consistency::kEdge, [](CLI::App& cmd) {
        auto o = std::make_shared<AlsOptions>();
        cmd.add_option("--rank", o->rank, "Factor length D (1..64)")->capture_default_str();
        cmd.add_option("--lambda", o->lambda, "Regularisation (times a vertex's rating count)")
            ->capture_default_str();
        cmd.add_option("--iterations", o->iterations, "Sweeps (users and items each once)")
            ->capture_default_str();
        cmd.add_option("--test", o->test, "Held-out ratings (.mtx of the same shape)");
        AppRunner runner;
        runner.check = [o] { check_options(*o); };
        runner.run = [o](AppInput& in) {
          AlsResult r = als(std::move(in.graph), *o, in.options, in.cluster);
          auto train = std::make_shared<std::vector<double>>(r.train_rmse_by_sweep);
          auto test = std::make_shared<std::vector<double>>(r.test_rmse_by_sweep);
          AppOutput out = make_output(std::move(r));
          out.summarize = [train, test](const AppOutput&) {
            if (!train->empty()) std::printf("train RMSE %.6g\n", train->back());
            if (!test->empty()) std::printf("test RMSE %.6g\n", test->back());
          };
          out.metrics = [train, test](JsonWriter& j) {
            j.key("train_rmse").begin_array();
            for (double x : *train) j.value(x);
            j.end_array();
            if (test->empty()) return;
            j.key("test_rmse").begin_array();
            for (double x : *test) j.value(x);
            j.end_array();
          };
          return out;
        };
        return runner;
      }};
  spec.mtx_layout = MtxLayout::kBipartite;
  register_app(std::move(spec));
}

}  // namespace atl
