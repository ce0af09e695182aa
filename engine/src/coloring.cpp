// Graph colouring: parallel Jones-Plassmann over a priority-ordered undirected view.
//
// The owned vertices are renumbered by priority (rank 0 = highest: largest undirected degree,
// then a 64-bit hash of the gid, then the lid). A vertex is coloured in the round after every
// higher-priority vertex of its neighbourhood (distance 1 or 2) has been coloured, with the
// smallest colour none of them uses. Two vertices coloured in the same round are therefore
// never in each other's neighbourhood, and the result equals the sequential greedy colouring
// in priority order: it depends only on the graph, never on the thread count.
//
// Rather than rescanning the uncoloured vertices every round, each vertex counts its
// higher-priority neighbours (paths of length 1 and 2 for distance-2); colouring a vertex
// decrements the counts of its lower-priority neighbours along the same paths, and a count
// reaching zero puts that vertex on the next round's worklist (sorted, so deterministic).
#include "atoll/engine/coloring.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"

namespace atl {
namespace {

using Color = std::uint32_t;
constexpr Color kNoColor = UINT32_MAX;
constexpr std::size_t kVertexGrain = 1024;  ///< per-vertex O(degree) sweeps
constexpr std::size_t kRoundGrain = 64;     ///< worklist items (hubs make them uneven)

/// Calls f(u) once for every distinct owned undirected neighbour u != v of v, ascending.
/// Merges the sorted out- and in-lists, skipping duplicates, self-loops and ghosts.
template <typename F>
void for_each_undirected_neighbor(const Topology& g, Lid v, F&& f) {
  const Lid n = g.num_owned();
  std::span<const Lid> out = g.out_neighbors(v);
  std::span<const Lid> in = g.in_neighbors(v);
  std::size_t i = 0;
  std::size_t j = 0;
  Lid last = kInvalidLid;  // the last neighbour emitted (lists are ascending)
  while (i < out.size() || j < in.size()) {
    Lid u;
    if (j == in.size() || (i < out.size() && out[i] <= in[j])) {
      u = out[i++];
    } else {
      u = in[j++];
    }
    if (u == last || u == v || u >= n) continue;
    last = u;
    f(u);
  }
}

/// splitmix64's finaliser: a bijective 64-bit mix, so distinct gids get distinct hashes.
std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// The undirected view of the owned vertices with vertex ids replaced by priority ranks
/// (smaller rank = higher priority). Invariant: nbrs(r) holds the distinct ranks != r of r's
/// neighbours, ascending when built `sorted` (distance-2 counting binary-searches them).
struct PriorityGraph {
  std::vector<Lid> order;  ///< order[r] = lid of the vertex of rank r
  std::vector<EdgeId> offsets;
  std::unique_ptr<Lid[]> targets;  ///< uninitialised until filled (no serial zero-fill)

  std::span<const Lid> nbrs(Lid r) const {
    return {targets.get() + offsets[r], static_cast<std::size_t>(offsets[r + 1] - offsets[r])};
  }
};

PriorityGraph build_priority_graph(const Topology& g, bool sorted) {
  const Lid n = g.num_owned();
  std::vector<Lid> degree(n);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, kVertexGrain),
                    [&](const tbb::blocked_range<Lid>& range) {
                      for (Lid v = range.begin(); v != range.end(); ++v) {
                        Lid d = 0;
                        for_each_undirected_neighbor(g, v, [&](Lid) { ++d; });
                        degree[v] = d;
                      }
                    });

  // Sort key (hi, lo) = (~degree : hash high half, hash low half : lid): a strict total order,
  // degree descending, then hash, then lid.
  struct Key {
    std::uint64_t hi;
    std::uint64_t lo;
  };
  std::vector<Key> keys(n);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, kVertexGrain),
                    [&](const tbb::blocked_range<Lid>& range) {
                      for (Lid v = range.begin(); v != range.end(); ++v) {
                        std::uint64_t h = mix64(g.gid(v));
                        keys[v] = {(std::uint64_t{~degree[v]} << 32) | (h >> 32), (h << 32) | v};
                      }
                    });
  tbb::parallel_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  });

  PriorityGraph pg;
  pg.order.resize(n);
  std::vector<Lid> rank(n);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, kVertexGrain),
                    [&](const tbb::blocked_range<Lid>& range) {
                      for (Lid r = range.begin(); r != range.end(); ++r) {
                        Lid v = static_cast<Lid>(keys[r].lo & 0xffffffffu);
                        pg.order[r] = v;
                        rank[v] = r;
                      }
                    });
  keys = {};

  pg.offsets.resize(std::size_t{n} + 1);
  pg.offsets[0] = 0;
  for (Lid r = 0; r < n; ++r) pg.offsets[r + 1] = pg.offsets[r] + degree[pg.order[r]];
  pg.targets = std::make_unique_for_overwrite<Lid[]>(pg.offsets[n]);
  // In lid order (ranks would put every hub in the first chunk): v fills segment rank[v].
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, kVertexGrain),
                    [&](const tbb::blocked_range<Lid>& range) {
                      for (Lid v = range.begin(); v != range.end(); ++v) {
                        Lid* out = pg.targets.get() + pg.offsets[rank[v]];
                        Lid* end = out;
                        for_each_undirected_neighbor(g, v, [&](Lid u) { *end++ = rank[u]; });
                        if (sorted) std::sort(out, end);
                      }
                    });
  return pg;
}

/// Per-thread state, reused across vertices and rounds (no allocation in the hot loops once
/// the stamp array has grown to the number of colours).
struct Scratch {
  std::vector<std::uint32_t> stamp = std::vector<std::uint32_t>(64, 0);  ///< [c] == tag: used
  std::uint32_t tag = 0;
  std::vector<Lid> released;  ///< ranks whose count reached zero: the next worklist
  Color max_color = 0;
  bool any = false;

  void begin_vertex() {
    if (++tag == 0) {  // wrapped: old stamps could alias the new tag
      std::fill(stamp.begin(), stamp.end(), 0);
      tag = 1;
    }
  }
  void mark(Color c) {
    if (c >= stamp.size())
      stamp.resize(std::max<std::size_t>(2 * stamp.size(), c + std::size_t{1}), 0);
    stamp[c] = tag;
  }
  Color first_free() {
    Color c = 0;
    while (c < stamp.size() && stamp[c] == tag) ++c;
    max_color = std::max(max_color, c);
    any = true;
    return c;
  }
};

/// Decrements r's count of uncoloured higher-priority neighbours; the last one releases r.
void release(std::vector<std::uint64_t>& count, Lid r, Scratch& s) {
  if (std::atomic_ref<std::uint64_t>(count[r]).fetch_sub(1, std::memory_order_relaxed) == 1) {
    s.released.push_back(r);
  }
}

/// The released ranks of every thread, ascending (deterministic whatever the timing).
std::vector<Lid> take_released(tbb::enumerable_thread_specific<Scratch>& scratch) {
  std::size_t total = 0;
  for (const Scratch& s : scratch) total += s.released.size();
  std::vector<Lid> out;
  out.reserve(total);
  for (Scratch& s : scratch) {
    out.insert(out.end(), s.released.begin(), s.released.end());
    s.released.clear();
  }
  tbb::parallel_sort(out.begin(), out.end());
  return out;
}

Coloring color_by_priority(const Topology& g, bool distance2, std::size_t& rounds) {
  const Lid n = g.num_owned();
  PriorityGraph pg = build_priority_graph(g, distance2);
  tbb::enumerable_thread_specific<Scratch> scratch;

  // count[r] = higher-priority neighbours of r (for distance 2: paths r-x and r-x-w, w < r).
  std::vector<std::uint64_t> count(n);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, distance2 ? kRoundGrain : kVertexGrain),
                    [&](const tbb::blocked_range<Lid>& range) {
                      Scratch& s = scratch.local();
                      for (Lid r = range.begin(); r != range.end(); ++r) {
                        std::span<const Lid> nb = pg.nbrs(r);
                        std::uint64_t c = 0;
                        if (distance2) {  // sorted lists: binary search
                          auto below = [r](std::span<const Lid> list) {
                            return static_cast<std::uint64_t>(
                                std::lower_bound(list.begin(), list.end(), r) - list.begin());
                          };
                          c = below(nb);
                          for (Lid x : nb) c += below(pg.nbrs(x));
                        } else {
                          for (Lid x : nb) c += x < r;
                        }
                        count[r] = c;
                        if (c == 0) s.released.push_back(r);
                      }
                    });

  // Invariant at the start of a round: color[w] != kNoColor exactly for the ranks of earlier
  // rounds; every worklist rank has all its higher-priority neighbours coloured and none of
  // its lower-priority ones, and no two worklist ranks are neighbours. So a rank reads only
  // colours fixed in earlier rounds, and writes only its own.
  std::vector<Color> color(n, kNoColor);
  std::vector<Lid> worklist = take_released(scratch);
  rounds = 0;
  while (!worklist.empty()) {
    ++rounds;
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, worklist.size(), kRoundGrain),
        [&](const tbb::blocked_range<std::size_t>& range) {
          Scratch& s = scratch.local();
          for (std::size_t i = range.begin(); i != range.end(); ++i) {
            const Lid r = worklist[i];
            s.begin_vertex();
            for (Lid x : pg.nbrs(r)) {
              if (x < r) {
                s.mark(color[x]);
              } else {
                release(count, x, s);
              }
              if (!distance2) continue;
              for (Lid w : pg.nbrs(x)) {  // ascending: the coloured ones (w < r) come first
                if (w < r) {
                  s.mark(color[w]);
                } else if (w > r) {
                  release(count, w, s);
                }
              }
            }
            color[r] = s.first_free();
          }
        });
    worklist = take_released(scratch);
  }

  Coloring result;
  result.color.resize(n);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, kVertexGrain),
                    [&](const tbb::blocked_range<Lid>& range) {
                      for (Lid r = range.begin(); r != range.end(); ++r) {
                        result.color[pg.order[r]] = color[r];
                      }
                    });
  for (const Scratch& s : scratch) {
    if (s.any) result.num_colors = std::max(result.num_colors, s.max_color + 1);
  }
  return result;
}

}  // namespace

Coloring color_graph(const Topology& graph, Consistency consistency) {
  Timer timer;
  const Lid n = graph.num_owned();
  Coloring result;
  std::size_t rounds = 0;
  if (consistency == Consistency::kVertex || n == 0) {
    result.color.assign(n, 0);
    result.num_colors = n > 0 ? 1 : 0;
    rounds = n > 0 ? 1 : 0;
  } else {
    result = color_by_priority(graph, consistency == Consistency::kFull, rounds);
  }
  log_debug(str_cat("coloring (", consistency_name(consistency), "): ", result.num_colors,
                    " colours, ", rounds, " rounds, ", timer.seconds(), " s"));
  return result;
}

bool is_valid_coloring(const Topology& graph, const Coloring& coloring, Consistency consistency) {
  const Lid n = graph.num_owned();
  const std::vector<Color>& color = coloring.color;
  if (color.size() != n) return false;
  if (!std::all_of(color.begin(), color.end(), [&](Color c) { return c < coloring.num_colors; })) {
    return false;
  }
  if (consistency == Consistency::kVertex) return true;
  const bool distance2 = consistency == Consistency::kFull;

  std::atomic<bool> ok{true};
  tbb::enumerable_thread_specific<std::vector<Color>> around;  // colours around one vertex
  tbb::parallel_for(
      tbb::blocked_range<Lid>(0, n, kVertexGrain), [&](const tbb::blocked_range<Lid>& range) {
        std::vector<Color>& seen = around.local();
        for (Lid v = range.begin(); v != range.end(); ++v) {
          if (!ok.load(std::memory_order_relaxed)) return;
          // Every edge is an out-edge of its source: checking those covers all.
          for (Lid u : graph.out_neighbors(v)) {
            if (u != v && u < n && color[u] == color[v]) ok = false;
          }
          if (!distance2) continue;
          // Distinct neighbours of v are pairwise within distance 2.
          seen.clear();
          for_each_undirected_neighbor(graph, v, [&](Lid u) { seen.push_back(color[u]); });
          std::sort(seen.begin(), seen.end());
          if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) ok = false;
        }
      });
  return ok.load();
}

}  // namespace atl
