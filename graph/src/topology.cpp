// Building the CSR. Steps: map gids to dense lids (in gid order); count degrees; place arcs
// with atomic cursors; sort each adjacency list by (neighbour, arc index) so the layout is
// canonical whatever the thread count; optionally drop self-loops and repeats; then derive
// the in-CSR from the out-CSR the same way.
#include "atoll/graph/topology.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_scan.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <numeric>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

/// One arc waiting for its place: the neighbour and a tie-breaking index (input order).
struct ArcSlot {
  Lid neighbor;
  EdgeId order;
  bool operator<(const ArcSlot& o) const {
    return neighbor != o.neighbor ? neighbor < o.neighbor : order < o.order;
  }
};

constexpr std::uint64_t kMaxVertices = kInvalidLid;  // lids 0 .. 2^32-2

template <typename T>
T atomic_increment(T& value) {
  return std::atomic_ref<T>(value).fetch_add(1, std::memory_order_relaxed);
}

/// offsets[v] = sum of counts[0..v); returns the total. offsets has counts.size() + 1 entries.
std::vector<EdgeId> exclusive_offsets(const std::vector<EdgeId>& counts) {
  std::vector<EdgeId> offsets(counts.size() + 1);
  offsets[0] = 0;
  std::inclusive_scan(counts.begin(), counts.end(), offsets.begin() + 1);
  return offsets;
}

void sort_segments(std::vector<ArcSlot>& slots, const std::vector<EdgeId>& offsets) {
  const std::size_t n = offsets.size() - 1;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 256), [&](const auto& r) {
    for (std::size_t v = r.begin(); v < r.end(); ++v) {
      auto first = slots.begin() + static_cast<std::ptrdiff_t>(offsets[v]);
      auto last = slots.begin() + static_cast<std::ptrdiff_t>(offsets[v + 1]);
      if (last - first > 1) std::sort(first, last);
    }
  });
}

}  // namespace

class TopologyBuilder {
 public:
  TopologyBuilder(const EdgeList& input, const BuildOptions& options)
      : in_(input), options_(options) {}

  Topology build() {
    if (in_.weighted && in_.weights.size() != in_.edges.size()) {
      fail("edge list has ", in_.edges.size(), " edges but ", in_.weights.size(), " weights");
    }
    map_ids();
    build_out_csr();
    build_in_csr();
    g_.num_owned_ = static_cast<Lid>(g_.lid_to_gid_.size());
    g_.weighted_ = in_.weighted;
    return std::move(g_);
  }

 private:
  /// Fills lid_to_gid (sorted) and src_/dst_ (lids of every input edge).
  void map_ids() {
    const std::size_t m = in_.edges.size();
    src_.resize(m);
    dst_.resize(m);
    if (in_.declared) {
      map_declared(*in_.declared);
      return;
    }
    if (m == 0) return;
    struct MinMax {
      Gid lo = ~Gid{0};
      Gid hi = 0;
    };
    MinMax mm = tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, m), MinMax{},
        [&](const auto& r, MinMax acc) {
          for (std::size_t i = r.begin(); i < r.end(); ++i) {
            const Edge& e = in_.edges[i];
            acc.lo = std::min({acc.lo, e.src, e.dst});
            acc.hi = std::max({acc.hi, e.src, e.dst});
          }
          return acc;
        },
        [](MinMax a, MinMax b) {
          return MinMax{std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
        });
    Gid span = mm.hi - mm.lo;  // ids - lo lie in [0, span]
    if (span < (Gid{1} << 32) - 1 && span <= 4 * m + (1u << 20)) {
      map_dense(mm.lo, span + 1);
    } else {
      map_sparse();
    }
  }

  void map_declared(const VertexRange& range) {
    if (range.count > kMaxVertices) {
      fail("graph declares ", range.count, " vertices; one rank holds at most ", kMaxVertices);
    }
    const std::size_t m = in_.edges.size();
    std::atomic<std::size_t> bad{m};
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        Gid s = in_.edges[i].src - range.first;
        Gid d = in_.edges[i].dst - range.first;
        if (s >= range.count || d >= range.count) {
          std::size_t cur = bad.load();
          while (i < cur && !bad.compare_exchange_weak(cur, i)) {
          }
          return;
        }
        src_[i] = static_cast<Lid>(s);
        dst_[i] = static_cast<Lid>(d);
      }
    });
    if (bad.load() != m) {
      const Edge& e = in_.edges[bad.load()];
      fail("edge ", bad.load(), " (", e.src, " -> ", e.dst,
           ") lies outside the declared vertex range ", range.first, "..",
           range.first + range.count - 1);
    }
    g_.lid_to_gid_.resize(range.count);
    std::iota(g_.lid_to_gid_.begin(), g_.lid_to_gid_.end(), range.first);
    g_.gids_contiguous_ = true;
  }

  /// Ids span a small range: mark present ids, number them by a prefix sum, map by table.
  void map_dense(Gid lo, std::size_t span) {
    const std::size_t m = in_.edges.size();
    std::vector<Lid> table(span, 0);  // 1 = present, then the lid
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        std::atomic_ref<Lid>(table[in_.edges[i].src - lo]).store(1, std::memory_order_relaxed);
        std::atomic_ref<Lid>(table[in_.edges[i].dst - lo]).store(1, std::memory_order_relaxed);
      }
    });
    std::uint64_t n = 0;
    for (std::size_t x = 0; x < span; ++x) {
      Lid present = table[x];
      table[x] = static_cast<Lid>(n);
      n += present;
    }
    if (n > kMaxVertices) fail("graph has ", n, " vertices; one rank holds at most ", kMaxVertices);
    g_.lid_to_gid_.resize(n);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, span), [&](const auto& r) {
      for (std::size_t x = r.begin(); x < r.end(); ++x) {
        Lid next = x + 1 < span ? table[x + 1] : static_cast<Lid>(n);
        if (next != table[x]) g_.lid_to_gid_[table[x]] = lo + x;
      }
    });
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        src_[i] = table[in_.edges[i].src - lo];
        dst_[i] = table[in_.edges[i].dst - lo];
      }
    });
    g_.gids_contiguous_ = n == span;
  }

  /// Ids are spread over a huge range: sort the distinct ids and map by binary search.
  void map_sparse() {
    const std::size_t m = in_.edges.size();
    std::vector<Gid> ids(2 * m);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        ids[2 * i] = in_.edges[i].src;
        ids[2 * i + 1] = in_.edges[i].dst;
      }
    });
    tbb::parallel_sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.size() > kMaxVertices) {
      fail("graph has ", ids.size(), " vertices; one rank holds at most ", kMaxVertices);
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        src_[i] = static_cast<Lid>(std::lower_bound(ids.begin(), ids.end(), in_.edges[i].src) -
                                   ids.begin());
        dst_[i] = static_cast<Lid>(std::lower_bound(ids.begin(), ids.end(), in_.edges[i].dst) -
                                   ids.begin());
      }
    });
    g_.lid_to_gid_ = std::move(ids);
    g_.gids_contiguous_ =
        !g_.lid_to_gid_.empty() &&
        g_.lid_to_gid_.back() - g_.lid_to_gid_.front() == g_.lid_to_gid_.size() - 1;
  }

  /// Arcs are the input edges (order i) plus, when symmetrizing, their reverses (order m + i;
  /// a self-loop is not doubled).
  void build_out_csr() {
    const std::size_t m = in_.edges.size();
    const std::size_t n = g_.lid_to_gid_.size();
    const bool sym = options_.symmetrize;
    std::vector<EdgeId> degree(n, 0);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        atomic_increment(degree[src_[i]]);
        if (sym && src_[i] != dst_[i]) atomic_increment(degree[dst_[i]]);
      }
    });
    std::vector<EdgeId> offsets = exclusive_offsets(degree);
    std::vector<EdgeId>& cursor = degree;
    std::copy(offsets.begin(), offsets.end() - 1, cursor.begin());
    std::vector<ArcSlot> slots(offsets.back());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        Lid s = src_[i], d = dst_[i];
        slots[atomic_increment(cursor[s])] = {d, i};
        if (sym && s != d) slots[atomic_increment(cursor[d])] = {s, m + i};
      }
    });
    std::vector<Lid>().swap(src_);
    std::vector<Lid>().swap(dst_);
    sort_segments(slots, offsets);

    if (options_.dedup) {  // keep the first of each neighbour, drop self-loops
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
        for (std::size_t v = r.begin(); v < r.end(); ++v) {
          EdgeId kept = 0;
          for (EdgeId e = offsets[v]; e < offsets[v + 1]; ++e) {
            bool repeat = e > offsets[v] && slots[e].neighbor == slots[e - 1].neighbor;
            if (slots[e].neighbor != v && !repeat) ++kept;
          }
          degree[v] = kept;
        }
      });
      std::vector<EdgeId> new_offsets = exclusive_offsets(degree);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
        for (std::size_t v = r.begin(); v < r.end(); ++v) {
          EdgeId out = new_offsets[v];
          for (EdgeId e = offsets[v]; e < offsets[v + 1]; ++e) {
            bool repeat = e > offsets[v] && slots[e].neighbor == slots[e - 1].neighbor;
            if (slots[e].neighbor != v && !repeat) slots[out++] = slots[e];
          }
        }
      });
      slots.resize(new_offsets.back());
      offsets = std::move(new_offsets);
    }

    g_.out_targets_.resize(slots.size());
    if (in_.weighted) g_.weights_.resize(slots.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, slots.size()), [&](const auto& r) {
      for (std::size_t e = r.begin(); e < r.end(); ++e) {
        g_.out_targets_[e] = slots[e].neighbor;
        if (in_.weighted) {
          EdgeId order = slots[e].order;
          g_.weights_[e] = in_.weights[order >= m ? order - m : order];
        }
      }
    });
    g_.out_offsets_ = std::move(offsets);
  }

  void build_in_csr() {
    const std::size_t n = g_.lid_to_gid_.size();
    const auto& out_off = g_.out_offsets_;
    const auto& targets = g_.out_targets_;
    std::vector<EdgeId> degree(n, 0);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, targets.size()), [&](const auto& r) {
      for (std::size_t e = r.begin(); e < r.end(); ++e) atomic_increment(degree[targets[e]]);
    });
    std::vector<EdgeId> offsets = exclusive_offsets(degree);
    std::copy(offsets.begin(), offsets.end() - 1, degree.begin());
    std::vector<ArcSlot> slots(targets.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
      for (std::size_t v = r.begin(); v < r.end(); ++v) {
        for (EdgeId e = out_off[v]; e < out_off[v + 1]; ++e) {
          slots[atomic_increment(degree[targets[e]])] = {static_cast<Lid>(v), e};
        }
      }
    });
    sort_segments(slots, offsets);
    g_.in_sources_.resize(slots.size());
    g_.in_edge_ids_.resize(slots.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, slots.size()), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        g_.in_sources_[i] = slots[i].neighbor;
        g_.in_edge_ids_[i] = slots[i].order;
      }
    });
    g_.in_offsets_ = std::move(offsets);
  }

  const EdgeList& in_;
  BuildOptions options_;
  Topology g_;
  std::vector<Lid> src_;
  std::vector<Lid> dst_;
};

Topology Topology::build(const EdgeList& edges, const BuildOptions& options) {
  return TopologyBuilder(edges, options).build();
}

Lid Topology::lid(Gid g) const {
  if (num_owned_ > 0) {
    if (gids_contiguous_) {
      Gid offset = g - lid_to_gid_[0];
      if (offset < num_owned_) return static_cast<Lid>(offset);
    } else {
      auto first = lid_to_gid_.begin();
      auto last = first + num_owned_;
      auto it = std::lower_bound(first, last, g);
      if (it != last && *it == g) return static_cast<Lid>(it - first);
    }
  }
  for (const GhostRange& range : ghost_ranges_) {
    auto first = lid_to_gid_.begin() + range.begin;
    auto last = lid_to_gid_.begin() + range.end;
    auto it = std::lower_bound(first, last, g);
    if (it != last && *it == g) return static_cast<Lid>(it - lid_to_gid_.begin());
  }
  return kInvalidLid;
}

std::size_t Topology::memory_bytes() const {
  return lid_to_gid_.capacity() * sizeof(Gid) + out_offsets_.capacity() * sizeof(EdgeId) +
         out_targets_.capacity() * sizeof(Lid) + in_offsets_.capacity() * sizeof(EdgeId) +
         in_sources_.capacity() * sizeof(Lid) + in_edge_ids_.capacity() * sizeof(EdgeId) +
         weights_.capacity() * sizeof(double) + ghost_ranges_.capacity() * sizeof(GhostRange);
}

}  // namespace atl
