// A lock-free union-find over the local graph in the manner of Afforest (Sutton, Ben-Nun and
// Barak, IPDPS 2018): link every vertex to its first out-neighbours, find the component most
// vertices already belong to, and process the remaining edges only of the vertices outside
// it (every edge lies in the out-list of its source and the in-list of its target, so an edge
// with an endpoint outside that component is seen from that endpoint). Parents only ever
// point to smaller local ids, so a root is the smallest id of its set; hooks are a CAS on a
// root's parent, path halving a plain store of an ancestor.
#include "local_components.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <memory>

namespace atl::detail {
namespace {

/// Out-neighbours every vertex is linked to before the largest component is picked.
constexpr std::size_t kSampledNeighbors = 2;
/// Vertices whose roots are counted to pick the largest component.
constexpr std::size_t kProbes = 1024;

/// Disjoint sets over [0, n), safe to unite and find from many threads at once.
class ConcurrentForest {
 public:
  explicit ConcurrentForest(Lid n) : parent_(std::make_unique_for_overwrite<Lid[]>(n)) {}

  void make_set(Lid v) { parent_[v] = v; }
  Lid parent(Lid v) const { return ref(v).load(std::memory_order_relaxed); }

  /// The root of v's set; halves the path on the way.
  Lid find(Lid v) const {
    for (;;) {
      const Lid p = parent(v);
      if (p == v) return v;
      const Lid grand = parent(p);
      if (grand == p) return p;
      ref(v).store(grand, std::memory_order_relaxed);  // still an ancestor of v
      v = grand;
    }
  }

  /// Merges the sets of a and b: the larger root is hooked under the smaller.
  void unite(Lid a, Lid b) const {
    for (;;) {
      a = find(a);
      b = find(b);
      if (a == b) return;
      if (a < b) std::swap(a, b);
      Lid expected = a;  // a may have been hooked meanwhile: then find again
      if (ref(a).compare_exchange_weak(expected, b, std::memory_order_relaxed)) return;
    }
  }

  /// Points v straight at its root.
  void flatten(Lid v) const { ref(v).store(find(v), std::memory_order_relaxed); }

 private:
  std::atomic_ref<Lid> ref(Lid v) const { return std::atomic_ref<Lid>(parent_[v]); }
  std::unique_ptr<Lid[]> parent_;
};

template <typename F>
void for_all(Lid begin, Lid end, F&& f) {
  tbb::parallel_for(tbb::blocked_range<Lid>(begin, end, 2048),
                    [&](const tbb::blocked_range<Lid>& r) {
                      for (Lid v = r.begin(); v < r.end(); ++v) f(v);
                    });
}

/// The root most of kProbes vertices (a fixed pseudo-random choice) have; sets flattened.
Lid most_common_root(const ConcurrentForest& forest, Lid n) {
  std::vector<Lid> roots(kProbes);
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (Lid& r : roots) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;  // Knuth's MMIX LCG
    r = forest.parent(static_cast<Lid>((state >> 33) % n));
  }
  std::sort(roots.begin(), roots.end());
  Lid best = roots.front();
  std::size_t best_count = 0;
  for (std::size_t i = 0; i < roots.size();) {
    std::size_t j = i;
    while (j < roots.size() && roots[j] == roots[i]) ++j;
    if (j - i > best_count) {
      best = roots[i];
      best_count = j - i;
    }
    i = j;
  }
  return best;
}

void link_all(const Topology& graph, const ConcurrentForest& forest) {
  const Lid n = graph.num_vertices();
  for (std::size_t round = 0; round < kSampledNeighbors; ++round) {
    for_all(0, n, [&](Lid v) {
      std::span<const Lid> out = graph.out_neighbors(v);
      if (out.size() > round) forest.unite(v, out[round]);
    });
    for_all(0, n, [&](Lid v) { forest.flatten(v); });
  }
  const Lid largest = most_common_root(forest, n);
  for_all(0, n, [&](Lid v) {
    if (forest.parent(v) == largest) return;  // its edges to outside are seen from outside
    std::span<const Lid> out = graph.out_neighbors(v);
    for (std::size_t i = kSampledNeighbors; i < out.size(); ++i) forest.unite(v, out[i]);
    for (Lid u : graph.in_neighbors(v)) forest.unite(v, u);
  });
  for_all(0, n, [&](Lid v) { forest.flatten(v); });
}

}  // namespace

void label_local_components(const Topology& graph, int threads, std::span<Gid> labels) {
  const Lid n = graph.num_vertices();
  const Lid owned = graph.num_owned();
  if (n == 0) return;
  ConcurrentForest forest(n);
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  arena.execute([&] {
    for_all(0, n, [&](Lid v) { forest.make_set(v); });
    link_all(graph, forest);
    // A root is its set's smallest lid. Owned lids come first and follow gid order, so a set
    // with an owned vertex has its smallest owned gid at the root; ghosts may go below it.
    for_all(0, n, [&](Lid v) {
      if (forest.parent(v) == v) labels[v] = graph.gid(v);
    });
    for_all(owned, n, [&](Lid g) {
      std::atomic_ref<Gid> label(labels[forest.parent(g)]);
      Gid seen = label.load(std::memory_order_relaxed);
      const Gid mine = graph.gid(g);
      while (mine < seen && !label.compare_exchange_weak(seen, mine, std::memory_order_relaxed)) {
      }
    });
    for_all(0, n, [&](Lid v) {
      const Lid root = forest.parent(v);
      if (root != v) labels[v] = labels[root];
    });
  });
}

std::vector<std::uint8_t> boundary_flags(const Topology& graph, int threads) {
  const Lid owned = graph.num_owned();
  if (graph.num_vertices() == owned) return {};
  std::vector<std::uint8_t> flags(owned);
  auto ghost = [owned](Lid u) { return u >= owned; };
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  arena.execute([&] {
    for_all(0, owned, [&](Lid v) {
      flags[v] = std::ranges::any_of(graph.out_neighbors(v), ghost) ||
                 std::ranges::any_of(graph.in_neighbors(v), ghost);
    });
  });
  return flags;
}

}  // namespace atl::detail
