// Delta-stepping (Meyer and Sanders, 2003) in the manner of GAPBS: a shared frontier holds the
// vertices of the current bucket; each thread relaxes the out-edges of its share with an atomic
// minimum and files every vertex it improved in its own buckets; the next frontier is the
// smallest non-empty bucket over all threads. A vertex whose distance has dropped below the
// current bucket since it was filed was already expanded from a lower one and is skipped.
// Buckets are a ring of kWindow + 1 slots: a vertex further than kWindow buckets ahead goes to
// the last one (expanded early, which is only extra work: it is filed again whenever it drops),
// so huge weights never need huge bucket arrays. A thread expands the vertices it files in the
// current bucket at once, up to kFusion of them (bucket fusion), which saves rounds on long,
// light paths.
#include "local_sssp.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace atl::detail {
namespace {

constexpr std::uint64_t kWindow = 4096;
constexpr std::size_t kFusion = 1024;
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
/// Distances beyond kLastBucket buckets share it (the index stays clear of kNone).
constexpr double kLastBucket = 0x1p62;

/// One thread's buckets: slot b % (kWindow + 1) holds bucket b.
struct Buckets {
  std::vector<std::vector<Lid>> slots = std::vector<std::vector<Lid>>(kWindow + 1);
  std::vector<Lid> fused;  ///< the current bucket's vertices this thread expands itself

  std::vector<Lid>& at(std::uint64_t b) { return slots[b % (kWindow + 1)]; }
};

/// Sets d to value when value is smaller; true when it did.
bool atomic_min(double& d, double value) {
  std::atomic_ref<double> ref(d);
  double seen = ref.load(std::memory_order_relaxed);
  while (value < seen) {
    if (ref.compare_exchange_weak(seen, value, std::memory_order_relaxed)) return true;
  }
  return false;
}

class DeltaStepping {
 public:
  DeltaStepping(const Topology& graph, double delta, std::span<double> dist)
      : graph_(graph), weights_(graph.weights()), delta_(delta), dist_(dist) {}

  void run(std::span<const Lid> sources) {
    std::uint64_t first = kNone;
    for (Lid s : sources) first = std::min(first, bucket_of(dist_[s]));
    if (first == kNone) return;
    current_ = first;
    frontier_.assign(sources.begin(), sources.end());
    while (!frontier_.empty()) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, frontier_.size(), 64),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          Buckets& mine = buckets_.local();
                          for (std::size_t i = r.begin(); i < r.end(); ++i) {
                            expand(frontier_[i], mine);
                          }
                          while (!mine.fused.empty()) {
                            const Lid v = mine.fused.back();
                            mine.fused.pop_back();
                            expand(v, mine);
                          }
                        });
      next_frontier();
    }
  }

 private:
  std::uint64_t bucket_of(double d) const {
    if (!(d < std::numeric_limits<double>::infinity())) return kNone;
    return static_cast<std::uint64_t>(std::min(d / delta_, kLastBucket));
  }

  /// Relaxes v's out-edges unless v has dropped below the current bucket.
  void expand(Lid v, Buckets& mine) {
    const double d = std::atomic_ref<double>(dist_[v]).load(std::memory_order_relaxed);
    if (bucket_of(d) < current_) return;
    const EdgeId begin = graph_.out_begin(v);
    const EdgeId end = graph_.out_end(v);
    std::span<const Lid> targets = graph_.out_neighbors(v);
    for (EdgeId e = begin; e < end; ++e) {
      const Lid u = targets[e - begin];
      const double nd = d + (weights_.empty() ? 1.0 : weights_[e]);
      if (!atomic_min(dist_[u], nd)) continue;
      const std::uint64_t b = std::min(bucket_of(nd), current_ + kWindow);
      if (b == current_ && mine.fused.size() < kFusion) {
        mine.fused.push_back(u);
      } else {
        mine.at(b).push_back(u);
      }
    }
  }

  /// The smallest non-empty bucket over all threads becomes the frontier (empty: done).
  void next_frontier() {
    std::uint64_t next = kNone;
    for (Buckets& b : buckets_) {
      for (std::uint64_t i = current_; i <= current_ + kWindow && i < next; ++i) {
        if (!b.at(i).empty()) next = i;
      }
    }
    frontier_.clear();
    if (next == kNone) return;
    current_ = next;
    for (Buckets& b : buckets_) {
      std::vector<Lid>& slot = b.at(next);
      frontier_.insert(frontier_.end(), slot.begin(), slot.end());
      slot.clear();
    }
  }

  const Topology& graph_;
  std::span<const double> weights_;
  double delta_;
  std::span<double> dist_;
  std::uint64_t current_ = 0;
  std::vector<Lid> frontier_;
  tbb::enumerable_thread_specific<Buckets> buckets_;
};

}  // namespace

PositiveWeights positive_weights(const Topology& graph) {
  double sum = 0;
  double smallest = std::numeric_limits<double>::infinity();
  std::size_t positive = 0;
  for (double x : graph.weights()) {
    if (x > 0) {
      sum += x;
      smallest = std::min(smallest, x);
      ++positive;
    }
  }
  if (positive == 0) return {};
  return {sum / static_cast<double>(positive), smallest};
}

double default_delta(const Topology& graph) {
  if (graph.weights().empty()) return 1.0;
  const PositiveWeights w = positive_weights(graph);
  // Narrow buckets expand few vertices twice (GAPBS's delta 2 for weights 1..255 is about
  // mean / 64); never narrower than the lightest edge, below which buckets only add rounds.
  return std::max(w.smallest, w.mean / 64);
}

void relax_shortest_paths(const Topology& graph, std::span<const Lid> sources, double delta,
                          int threads, std::span<double> dist) {
  if (sources.empty()) return;
  DeltaStepping stepping(graph, delta, dist);
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  arena.execute([&] { stepping.run(sources); });
}

}  // namespace atl::detail
