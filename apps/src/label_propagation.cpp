// Label propagation under edge consistency. Raghavan et al. update asynchronously because
// synchronous updates oscillate (two neighbours swapping labels forever); edge consistency
// makes every run equivalent to a sequential order, in which a vertex changes its label only
// to one strictly more frequent among its neighbours: the number of edges whose ends agree
// grows with every change, so the run ends. A vertex that changed reschedules the neighbours
// whose label differs from its new one (only they can change because of it). Ties between
// other labels go to the label with the largest hash of (seed, vertex gid, label): a fixed
// pseudo-random choice, so on the chromatic engine (an independent set per step) the result
// depends only on the seed, the graph and its colouring. No iteration hook is needed.
#include "atoll/apps/label_propagation.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "builtin_apps.hpp"
#include "undirected_view.hpp"

namespace atl {
namespace {

using detail::for_each_undirected_neighbor;
using detail::neighbor_data;

/// splitmix64's output function: a well-mixed 64-bit hash.
constexpr std::uint64_t scramble(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// What the rule makes of a vertex's neighbourhood: the most frequent label (ties to the
/// largest scramble(vertex_key + label)), its count and the count of the vertex's own label.
struct Choice {
  Gid best;
  std::size_t best_count = 0;
  std::size_t own_count = 0;
};

/// Applies the rule to v (label `own`); label(w) reads a neighbour's label; labels is scratch.
template <typename Label>
Choice choose(const Topology& t, Lid v, Gid own, std::uint64_t vertex_key, Label&& label,
              std::vector<Gid>& labels) {
  labels.clear();
  for_each_undirected_neighbor(t, v, [&](Lid w) { labels.push_back(label(w)); });
  std::sort(labels.begin(), labels.end());
  Choice c{own};
  std::uint64_t best_key = 0;
  for (std::size_t i = 0; i < labels.size();) {
    std::size_t j = i + 1;
    while (j < labels.size() && labels[j] == labels[i]) ++j;
    const std::size_t count = j - i;
    if (labels[i] == own) c.own_count = count;
    const std::uint64_t key = scramble(vertex_key + labels[i]);
    if (count > c.best_count || (count == c.best_count && key > best_key)) {
      c.best_count = count;
      c.best = labels[i];
      best_key = key;
    }
    i = j;
  }
  return c;
}

struct LabelProgram {
  using VertexData = Gid;  ///< the community label
  using EdgeData = EmptyData;
  static constexpr Consistency kConsistency = Consistency::kEdge;

  std::uint64_t seed;
  /// Per thread: the neighbours' labels of the vertex being updated.
  tbb::enumerable_thread_specific<std::vector<Gid>>* scratch;

  void update(Scope<LabelProgram>& scope, Context& context) const {
    const Topology& t = scope.topology();
    const Choice c = choose(
        t, scope.lid(), scope.vertex(), scramble(seed ^ scramble(scope.gid())),
        [&](Lid w) { return neighbor_data(scope, w); }, scratch->local());
    if (c.own_count == c.best_count) return;  // its own label is among the most frequent
    const Gid best = c.best;
    scope.vertex() = best;
    for_each_undirected_neighbor(t, scope.lid(), [&](Lid w) {
      if (neighbor_data(scope, w) != best) context.schedule(w);
    });
  }
};

/// The number of distinct values over all ranks: each rank sorts its own, sends every value to
/// the rank chosen by its hash and counts the distinct values it receives.
std::uint64_t count_distinct(std::vector<Gid> values, Cluster* cluster) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (cluster == nullptr) return values.size();
  const auto ranks = static_cast<std::uint64_t>(cluster->size());
  std::vector<std::vector<std::byte>> out(ranks);
  for (Gid g : values) {
    auto& to = out[scramble(g) % ranks];
    const auto* bytes = reinterpret_cast<const std::byte*>(&g);
    to.insert(to.end(), bytes, bytes + sizeof g);
  }
  std::vector<Gid> mine;
  for (const auto& bytes : cluster->exchange.all_to_all(std::move(out))) {
    if (bytes.size() % sizeof(Gid) != 0)
      fail("labelprop: a label message of ", bytes.size(), " bytes");
    if (bytes.empty()) continue;  // (memcpy from an empty vector's null data is undefined)
    const std::size_t at = mine.size();
    mine.resize(at + bytes.size() / sizeof(Gid));
    std::memcpy(mine.data() + at, bytes.data(), bytes.size());
  }
  std::sort(mine.begin(), mine.end());
  const auto local =
      static_cast<std::uint64_t>(std::unique(mine.begin(), mine.end()) - mine.begin());
  return cluster->collectives.allreduce(local, ReduceOp::kSum);
}

}  // namespace

LabelPropagationResult label_propagation(Topology graph, const LabelPropagationOptions& opt,
                                         const EngineOptions& eo, Cluster* cluster) {
  LabelPropagationResult result;
  const Lid n = graph.num_owned();
  result.gids.resize(n);
  for (Lid v = 0; v < n; ++v) result.gids[v] = graph.gid(v);
  if (cluster == nullptr && n == 0) return result;
  LocalGraph<Gid, EmptyData> local(std::move(graph));
  tbb::enumerable_thread_specific<std::vector<Gid>> scratch;
  LabelProgram program{opt.seed, &scratch};
  result.stats = run_graphlab(local, program, eo, cluster, [&](auto& engine) {
    engine.init_vertices([&](Lid v, Gid& label) { label = local.topology().gid(v); });
    engine.schedule_all();
    return engine.run();
  });
  result.values.assign(local.vertex_data().begin(), local.vertex_data().begin() + n);
  result.communities = count_distinct(result.values, cluster);
  // At the fixpoint every label is among the most frequent of its neighbours' (ghosts hold
  // their owners' final labels); a run cut short by the iteration limit may not be there.
  const Gid* label = local.vertex_data().data();
  std::vector<Gid> labels;
  std::uint64_t unsettled = 0;
  for (Lid v = 0; v < n; ++v) {
    const Choice c = choose(
        local.topology(), v, label[v], 0, [&](Lid w) { return label[w]; }, labels);
    unsettled += c.own_count != c.best_count ? 1 : 0;
  }
  if (cluster != nullptr) unsettled = cluster->collectives.allreduce(unsettled, ReduceOp::kSum);
  result.converged = unsettled == 0;
  return result;
}

void register_labelprop_app() {
  register_app({"labelprop", "Communities by label propagation (seeded tie-breaks)",
                std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
                LabelProgram::kConsistency, [](CLI::App& cmd) {
                  auto options = std::make_shared<LabelPropagationOptions>();
                  cmd.add_option("--seed", options->seed, "Tie-break seed")->capture_default_str();
                  AppRunner runner;
                  runner.run = [options](AppInput& in) {
                    LabelPropagationResult r =
                        label_propagation(std::move(in.graph), *options, in.options, in.cluster);
                    const std::uint64_t communities = r.communities;
                    const bool converged = r.converged;
                    AppOutput out = make_output(std::move(r));
                    out.summarize = [communities, converged](const AppOutput&) {
                      std::printf(
                          "labelprop: %llu communities%s\n",
                          static_cast<unsigned long long>(communities),
                          converged ? "" : " (not converged: the iteration limit stopped it)");
                    };
                    return out;
                  };
                  return runner;
                }});
}

}  // namespace atl
