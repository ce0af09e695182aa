// METIS atoms. The input becomes the symmetrized simple graph (both directions of every
// non-loop edge, repeats merged into an edge weight) with vertex weight 1 + out-degree, so
// METIS balances atom edges and minimises cut input edges. A graph above the size limits is
// coarsened first: each round matches every vertex with its heaviest unmatched neighbour
// (vertices in id order; the vertices left over are paired in order), never making a coarse
// vertex heavier than 1/(20 K) of the total (as METIS does, so the atoms can still balance).
// Rounds stop when the graph fits or stops shrinking. METIS partitions the coarsest graph and
// the atoms are projected back.
#include <metis.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>
#include <numeric>
#include <utility>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"
#include "atom_metis.hpp"
#include "atoll/common/mix64.hpp"
#include "radix_sort.hpp"
#include "vertex_index.hpp"

namespace atl::detail {
namespace {

constexpr std::uint32_t kUnset = std::numeric_limits<std::uint32_t>::max();
/// METIS takes 32-bit indices; weights are scaled so their totals stay below this.
constexpr std::uint64_t kWeightLimit = std::uint64_t{1} << 30;

/// An undirected weighted graph as a symmetric CSR (each edge stored in both directions).
struct WeightedGraph {
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::uint32_t> targets;
  std::vector<std::uint64_t> edge_weights;    ///< by arc
  std::vector<std::uint64_t> vertex_weights;  ///< by vertex
  std::size_t vertices() const { return vertex_weights.size(); }
  std::size_t arcs() const { return targets.size(); }
};

unsigned bits_for(std::uint64_t n) {
  return std::max(1u, static_cast<unsigned>(std::bit_width(n > 0 ? n - 1 : 0)));
}

/// The symmetrized simple graph of `graph` over `vertices` (see the file comment).
WeightedGraph simple_graph(const EdgeList& graph, const std::vector<Gid>& vertices) {
  const std::size_t m = graph.size();
  const std::uint64_t n = vertices.size();
  const VertexIndex index(vertices);
  const unsigned bits = bits_for(n);
  const std::uint64_t sentinel = n << bits;  // sorts after every arc; marks a self-loop
  RecordBuffer<std::uint64_t> keys(2 * m);
  std::vector<std::uint64_t> out_degree(n, 0);
  std::atomic<std::size_t> bad{m};
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      const std::uint64_t s = index.find(graph.edges[i].src);
      const std::uint64_t d = index.find(graph.edges[i].dst);
      if (s == n || d == n) {
        std::size_t cur = bad.load();
        while (i < cur && !bad.compare_exchange_weak(cur, i)) {
        }
        keys[2 * i] = keys[2 * i + 1] = sentinel;
        continue;
      }
      std::atomic_ref<std::uint64_t>(out_degree[s]).fetch_add(1, std::memory_order_relaxed);
      keys[2 * i] = s == d ? sentinel : (s << bits) | d;
      keys[2 * i + 1] = s == d ? sentinel : (d << bits) | s;
    }
  });
  if (bad.load() != m) {
    const Edge& e = graph.edges[bad.load()];
    fail("edge ", bad.load(), " (", e.src, " -> ", e.dst, ") has an endpoint outside the ",
         vertices.size(), " vertices given for partitioning");
  }
  {
    RecordBuffer<std::uint64_t> scratch(2 * m);
    radix_sort(keys, scratch, bits + bits_for(n + 1), [](std::uint64_t k) { return k; });
  }
  WeightedGraph g;
  g.vertex_weights.resize(n);
  for (std::uint64_t v = 0; v < n; ++v) g.vertex_weights[v] = 1 + out_degree[v];
  g.offsets.assign(n + 1, 0);
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  for (std::size_t i = 0; i < keys.size && keys[i] != sentinel; ++i) {
    if (i > 0 && keys[i] == keys[i - 1]) {
      ++g.edge_weights.back();
      continue;
    }
    ++g.offsets[(keys[i] >> bits) + 1];
    g.targets.push_back(static_cast<std::uint32_t>(keys[i] & mask));
    g.edge_weights.push_back(1);
  }
  std::partial_sum(g.offsets.begin(), g.offsets.end(), g.offsets.begin());
  return g;
}

/// Heavy-edge matching under a cap on the weight of a coarse vertex: the coarse vertex of
/// every vertex, and the coarse vertex count.
std::pair<std::vector<std::uint32_t>, std::uint32_t> match(const WeightedGraph& g,
                                                           std::uint64_t max_weight) {
  const std::size_t n = g.vertices();
  const auto& vw = g.vertex_weights;
  std::vector<std::uint32_t> coarse(n, kUnset);
  std::vector<std::uint32_t> leftover;
  std::uint32_t next = 0;
  for (std::size_t u = 0; u < n; ++u) {
    if (coarse[u] != kUnset) continue;
    std::uint32_t best = kUnset;
    std::uint64_t best_weight = 0;
    for (std::uint64_t k = g.offsets[u]; k < g.offsets[u + 1]; ++k) {
      const std::uint32_t v = g.targets[k];
      if (coarse[v] == kUnset && g.edge_weights[k] > best_weight && vw[u] + vw[v] <= max_weight) {
        best = v;
        best_weight = g.edge_weights[k];
      }
    }
    if (best == kUnset) {
      leftover.push_back(static_cast<std::uint32_t>(u));
      continue;
    }
    coarse[u] = coarse[best] = next++;
  }
  std::uint32_t waiting = kUnset;  // pair the leftovers nobody matched, in id order
  for (std::uint32_t u : leftover) {
    if (coarse[u] != kUnset) continue;
    if (vw[u] * 2 > max_weight) {  // too heavy to pair with a light vertex: stays alone
      coarse[u] = next++;
    } else if (waiting == kUnset) {
      waiting = u;
    } else if (vw[waiting] + vw[u] <= max_weight) {
      coarse[waiting] = coarse[u] = next++;
      waiting = kUnset;
    } else {
      coarse[waiting] = next++;
      waiting = u;
    }
  }
  if (waiting != kUnset) coarse[waiting] = next++;
  return {std::move(coarse), next};
}

/// The graph of the coarse vertices: weights summed, arcs inside a coarse vertex dropped.
WeightedGraph contract(const WeightedGraph& g, const std::vector<std::uint32_t>& coarse,
                       std::uint32_t num_coarse) {
  // Each coarse vertex has one or two members.
  std::vector<std::uint32_t> first(num_coarse, kUnset);
  std::vector<std::uint32_t> second(num_coarse, kUnset);
  for (std::size_t u = 0; u < g.vertices(); ++u) {
    (first[coarse[u]] == kUnset ? first : second)[coarse[u]] = static_cast<std::uint32_t>(u);
  }
  auto degree = [&](std::uint32_t u) { return u == kUnset ? 0 : g.offsets[u + 1] - g.offsets[u]; };
  std::vector<std::uint64_t> bound(num_coarse + 1, 0);  // upper bounds, then prefix sums
  for (std::uint32_t c = 0; c < num_coarse; ++c) {
    bound[c + 1] = bound[c] + degree(first[c]) + degree(second[c]);
  }
  WeightedGraph out;
  out.vertex_weights.resize(num_coarse);
  std::vector<std::uint32_t> targets(bound.back());
  std::vector<std::uint64_t> weights(bound.back());
  std::vector<std::uint64_t> count(num_coarse);
  using Arc = std::pair<std::uint32_t, std::uint64_t>;
  tbb::enumerable_thread_specific<std::vector<Arc>> scratch;
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, num_coarse), [&](const auto& r) {
    std::vector<Arc>& arcs = scratch.local();
    for (std::uint32_t c = r.begin(); c < r.end(); ++c) {
      arcs.clear();
      std::uint64_t vw = 0;
      for (std::uint32_t u : {first[c], second[c]}) {
        if (u == kUnset) continue;
        vw += g.vertex_weights[u];
        for (std::uint64_t k = g.offsets[u]; k < g.offsets[u + 1]; ++k) {
          const std::uint32_t cv = coarse[g.targets[k]];
          if (cv != c) arcs.emplace_back(cv, g.edge_weights[k]);
        }
      }
      std::sort(arcs.begin(), arcs.end());
      std::uint64_t at = bound[c];
      for (std::size_t i = 0; i < arcs.size(); ++i) {
        if (i > 0 && arcs[i].first == arcs[i - 1].first) {
          weights[at - 1] += arcs[i].second;
        } else {
          targets[at] = arcs[i].first;
          weights[at++] = arcs[i].second;
        }
      }
      count[c] = at - bound[c];
      out.vertex_weights[c] = vw;
    }
  });
  out.offsets.resize(num_coarse + 1);
  out.offsets[0] = 0;
  for (std::uint32_t c = 0; c < num_coarse; ++c) out.offsets[c + 1] = out.offsets[c] + count[c];
  out.targets.resize(out.offsets.back());
  out.edge_weights.resize(out.offsets.back());
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, num_coarse), [&](const auto& r) {
    for (std::uint32_t c = r.begin(); c < r.end(); ++c) {
      std::copy_n(targets.begin() + bound[c], count[c], out.targets.begin() + out.offsets[c]);
      std::copy_n(weights.begin() + bound[c], count[c], out.edge_weights.begin() + out.offsets[c]);
    }
  });
  return out;
}

/// Weights as idx_t, divided by a power of two when their total would overflow METIS.
std::vector<idx_t> scaled(const std::vector<std::uint64_t>& weights) {
  const std::uint64_t total = std::accumulate(weights.begin(), weights.end(), std::uint64_t{0});
  unsigned shift = 0;
  while ((total >> shift) >= kWeightLimit) ++shift;
  std::vector<idx_t> out(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    out[i] = static_cast<idx_t>(std::max<std::uint64_t>(1, weights[i] >> shift));
  }
  return out;
}

std::vector<idx_t> run_metis(const WeightedGraph& g, std::uint32_t atoms, std::uint64_t seed) {
  if (g.vertices() >= kWeightLimit || g.arcs() >= kWeightLimit) {
    fail("graph too large for METIS even after coarsening (", g.vertices(), " vertices, ",
         g.arcs() / 2, " edges); use --method hash or lower the METIS limits");
  }
  idx_t nvtxs = static_cast<idx_t>(g.vertices());
  idx_t ncon = 1;
  idx_t nparts = static_cast<idx_t>(atoms);
  std::vector<idx_t> xadj(g.offsets.begin(), g.offsets.end());
  std::vector<idx_t> adjncy(g.targets.begin(), g.targets.end());
  std::vector<idx_t> adjwgt = scaled(g.edge_weights);
  std::vector<idx_t> vwgt = scaled(g.vertex_weights);
  std::vector<idx_t> part(g.vertices(), 0);
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_OBJTYPE] = METIS_OBJTYPE_CUT;
  options[METIS_OPTION_SEED] = static_cast<idx_t>(mix64(seed) & 0x3fffffff);
  options[METIS_OPTION_NUMBERING] = 0;
  idx_t cut = 0;
  const int rc =
      METIS_PartGraphKway(&nvtxs, &ncon, xadj.data(), adjncy.data(), vwgt.data(), nullptr,
                          adjwgt.data(), &nparts, nullptr, nullptr, options, &cut, part.data());
  if (rc != METIS_OK) {
    fail("METIS_PartGraphKway failed (",
         rc == METIS_ERROR_MEMORY  ? "out of memory"
         : rc == METIS_ERROR_INPUT ? "input error"
                                   : "error",
         ", code ", rc, ") on ", g.vertices(), " vertices into ", atoms, " atoms");
  }
  return part;
}

}  // namespace

std::vector<std::uint32_t> metis_atoms(const EdgeList& graph, const std::vector<Gid>& vertices,
                                       const PartitionOptions& options) {
  const std::uint32_t k = options.atoms;
  const std::size_t n = vertices.size();
  std::vector<std::uint32_t> atoms(n, 0);
  if (k == 1 || n == 0) return atoms;
  if (n <= k) {  // one vertex per atom, the rest empty
    std::iota(atoms.begin(), atoms.end(), 0u);
    return atoms;
  }
  if (n >= std::numeric_limits<std::uint32_t>::max()) {
    fail("graph has ", n, " vertices; METIS partitioning supports fewer than 2^32");
  }
  Timer timer;
  WeightedGraph g = simple_graph(graph, vertices);
  log_debug(str_cat("metis: simple graph of ", g.vertices(), " vertices and ", g.arcs() / 2,
                    " edges in ", timer.seconds(), " s"));
  if (g.arcs() == 0) {  // no edges to cut: balanced blocks of ids
    for (std::size_t i = 0; i < n; ++i) {
      atoms[i] = static_cast<std::uint32_t>((static_cast<unsigned __int128>(i) * k) / n);
    }
    return atoms;
  }
  // Coarsen while too large and while a round still shrinks the graph by a tenth.
  const std::uint64_t total_weight =
      std::accumulate(g.vertex_weights.begin(), g.vertex_weights.end(), std::uint64_t{0});
  const std::uint64_t max_weight = std::max<std::uint64_t>(2, total_weight / (20 * k));
  std::vector<std::vector<std::uint32_t>> maps;
  while ((g.vertices() > options.metis_max_vertices || g.arcs() / 2 > options.metis_max_edges) &&
         g.vertices() >= 40 * std::uint64_t{k}) {
    timer.reset();
    auto [coarse, num_coarse] = match(g, max_weight);
    if (num_coarse > g.vertices() / 10 * 9) break;
    g = contract(g, coarse, num_coarse);
    maps.push_back(std::move(coarse));
    log_debug(str_cat("metis: coarsened to ", g.vertices(), " vertices and ", g.arcs() / 2,
                      " edges in ", timer.seconds(), " s"));
  }
  timer.reset();
  std::vector<idx_t> part = run_metis(g, k, options.seed);
  log_debug(str_cat("metis: METIS_PartGraphKway on ", g.vertices(), " vertices and ", g.arcs() / 2,
                    " edges in ", timer.seconds(), " s"));
  std::vector<std::uint32_t> level(part.begin(), part.end());
  for (auto it = maps.rbegin(); it != maps.rend(); ++it) {
    std::vector<std::uint32_t> finer(it->size());
    for (std::size_t u = 0; u < it->size(); ++u) finer[u] = level[(*it)[u]];
    level = std::move(finer);
  }
  return level;
}

}  // namespace atl::detail
