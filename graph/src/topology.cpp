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
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <type_traits>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/mix64.hpp"
#include "atoll/common/timer.hpp"
#include "csr_transpose.hpp"
#include "placed_part.hpp"
#include "radix_sort.hpp"

namespace atl {
namespace {

using detail::radix_sort;
using detail::RecordBuffer;

/// An arc with its weight; key = (src << bits) | dst.
struct WeightedArc {
  std::uint64_t key;
  double weight;
};
inline std::uint64_t arc_key(const WeightedArc& arc) {
  return arc.key;
}

constexpr std::uint64_t kMaxVertices = kInvalidLid;  // lids 0 .. 2^32-2
static_assert(sizeof(Lid) == 4, "the in-CSR packs two lids into 64 bits");

/// Bits needed for any lid of an n-vertex graph (at least 1).
unsigned lid_bits(std::size_t n) {
  return std::max(1u, static_cast<unsigned>(std::bit_width(n > 0 ? n - 1 : 0)));
}

std::size_t chunk_of(std::size_t n, std::size_t chunks) {
  return (n + chunks - 1) / chunks;
}

/// Splits [0, n) into chunks; positions[c] = base + number of i < start(c) with keep(i), and
/// positions.back() = base + total. Returns the total kept.
template <typename Keep>
std::size_t stable_positions(std::size_t n, std::size_t base, Keep keep,
                             std::vector<std::size_t>& positions) {
  const std::size_t threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  const std::size_t chunks = std::clamp<std::size_t>(n / (1u << 16), 1, 4 * threads);
  const std::size_t chunk = chunk_of(n, chunks);
  positions.assign(chunks + 1, 0);
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    std::size_t count = 0;
    for (std::size_t i = c * chunk, end = std::min(n, i + chunk); i < end; ++i) count += keep(i);
    positions[c + 1] = count;
  });
  positions[0] = base;
  for (std::size_t c = 0; c < chunks; ++c) positions[c + 1] += positions[c];
  return positions.back() - base;
}

// ---- the symmetry fingerprint (TopologyBuilder::is_symmetric) ----
using U128 = unsigned __int128;
constexpr std::uint64_t kP61 = (std::uint64_t{1} << 61) - 1;  // a Mersenne prime

/// x mod 2^61 - 1, in [0, 2^61 - 1).
inline std::uint64_t mod_p61(U128 x) {
  x = (x & kP61) + (x >> 61);                                         // < 2^68
  const auto y = static_cast<std::uint64_t>((x & kP61) + (x >> 61));  // < 2^61 + 2^7
  return y >= kP61 ? y - kP61 : y;
}

/// x (< 2^122) to a value below 2^62 congruent to it mod 2^61 - 1.
inline std::uint64_t fold_p61(U128 x) {
  return (static_cast<std::uint64_t>(x) & kP61) + static_cast<std::uint64_t>(x >> 61);
}

/// One key of the fingerprint: the vertices' values a_x (is_symmetric says why this form).
struct SymmetryKey {
  std::uint64_t mul;  ///< odd
  std::uint64_t add;
  std::uint64_t value(Lid x) const { return detail::mix64(x * mul + add) >> 3; }
};
constexpr std::size_t kSymmetryKeys = 2;
using SymmetryKeys = std::array<SymmetryKey, kSymmetryKeys>;

/// Keys drawn once per process from std::random_device.
const SymmetryKeys& symmetry_keys() {
  static const SymmetryKeys keys = [] {
    std::random_device device;
    auto draw = [&device] { return (std::uint64_t{device()} << 32) ^ device(); };
    SymmetryKeys k;
    for (SymmetryKey& key : k) key = {draw() | 1, draw()};
    return k;
  }();
  return keys;
}

/// CSR offsets (n + 1 entries) of `arcs` items sorted by vertex(i).
template <typename VertexOf>
std::vector<EdgeId> offsets_of_sorted(std::size_t arcs, std::size_t n, VertexOf vertex) {
  std::vector<EdgeId> offsets(n + 1);
  // Item i starts the lists of every vertex in (vertex(i-1), vertex(i)]; each slot is written once.
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, arcs), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      std::uint64_t v = vertex(i);
      std::uint64_t first = i == 0 ? 0 : vertex(i - 1) + 1;
      for (std::uint64_t u = first; u <= v; ++u) offsets[u] = i;
    }
  });
  std::uint64_t tail = arcs == 0 ? 0 : vertex(arcs - 1) + 1;
  for (std::uint64_t u = tail; u <= n; ++u) offsets[u] = arcs;
  return offsets;
}

/// The smallest and largest id among the endpoints of edges (lo > hi when there are none).
struct IdSpan {
  Gid lo = ~Gid{0};
  Gid hi = 0;
};
/// The same over m edges given by edge(i).
template <typename EdgeAt>
IdSpan id_span(std::size_t m, const EdgeAt& edge) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, m), IdSpan{},
      [&](const auto& r, IdSpan acc) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) {
          const Edge e = edge(i);
          acc.lo = std::min({acc.lo, e.src, e.dst});
          acc.hi = std::max({acc.hi, e.src, e.dst});
        }
        return acc;
      },
      [](IdSpan a, IdSpan b) {
        return IdSpan{std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
      });
}
IdSpan id_span(std::span<const Edge> edges) {
  return id_span(edges.size(), [edges](std::size_t i) { return edges[i]; });
}

/// Whether a part's edges are its compact ones.
bool uses_compact(const GraphPart& part) {
  return part.edges.edges.empty() && part.compact.size() > 0;
}

/// What the builder reads of a part's edges (a compact part's ends are read from src_/dst_).
EdgeView input_of(const GraphPart& part) {
  if (!uses_compact(part)) return EdgeView(part.edges);
  EdgeView view;
  view.weights = part.compact.weights;
  view.weighted = part.compact.weighted;
  return view;
}

/// The id (out-CSR position) of every in-CSR entry. In-lists are in (source, edge id) order and
/// a source's out-list is sorted by target, so visiting the in-lists in target order meets a
/// source's out-edges in edge id order: the k-th in-edge from u is edge out_begin(u) + k. The
/// in-CSR is cut into chunks, each with a cursor per source (so few chunks that the cursors
/// take at most a quarter of the ids' memory): count, then number each source's in-edges.
std::vector<EdgeId> derive_in_edge_ids(const std::vector<EdgeId>& out_off,
                                       const std::vector<Lid>& in_src) {
  const std::size_t n = out_off.size() - 1;
  const std::size_t arcs = in_src.size();
  std::vector<EdgeId> ids(arcs);
  if (arcs == 0) return ids;
  const std::size_t threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  const std::size_t chunks = std::clamp<std::size_t>(arcs / (4 * n + 1), 1, 2 * threads);
  const std::size_t chunk = chunk_of(arcs, chunks);
  std::vector<EdgeId> cursor(chunks * n, 0);
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    EdgeId* count = cursor.data() + c * n;
    for (std::size_t i = c * chunk, end = std::min(arcs, i + chunk); i < end; ++i) {
      ++count[in_src[i]];
    }
  });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
    for (std::size_t u = r.begin(); u < r.end(); ++u) {
      EdgeId next = out_off[u];
      for (std::size_t c = 0; c < chunks; ++c) {
        EdgeId count = cursor[c * n + u];
        cursor[c * n + u] = next;
        next += count;
      }
    }
  });
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    EdgeId* next = cursor.data() + c * n;
    for (std::size_t i = c * chunk, end = std::min(arcs, i + chunk); i < end; ++i) {
      ids[i] = next[in_src[i]]++;
    }
  });
  return ids;
}

}  // namespace

class TopologyBuilder {
 public:
  /// consume: the caller's input (what `input` views), released once it is used up. A part
  /// whose edges are compact (uses_compact) is read from part->compact, consumed when
  /// consume_compact is set.
  TopologyBuilder(EdgeView input, const BuildOptions& options, const GraphPart* part,
                  EdgeList* consume = nullptr, CompactEdges* consume_compact = nullptr)
      : in_(std::move(input)),
        compact_(part != nullptr && uses_compact(*part) ? &part->compact : nullptr),
        m_(compact_ != nullptr ? compact_->size() : in_.edges.size()),
        options_(options),
        part_(part),
        consume_(consume),
        consume_compact_(consume_compact),
        lazy_lids_((in_.release || consume != nullptr) && compact_ == nullptr &&
                   (!in_.weighted || !options.degree_order)) {}

  /// A part whose arcs are placed already (PlacedPart): sort, dedup, in-CSR.
  Topology build_placed(detail::PlacedPart&& part) {
    if (options_.degree_order) {
      fail("graph part: --degree-order relabels a whole graph on one rank, not a part");
    }
    const std::size_t n = part.lid_to_gid.size();
    if (part.out_offsets.size() != n + 1 || part.out_offsets.back() != part.out_targets.size() ||
        part.num_owned > n) {
      fail("placed part: ", part.out_offsets.size(), " offsets and ", part.out_targets.size(),
           " arcs for ", n, " vertices");
    }
    g_.num_owned_ = part.num_owned;
    g_.lid_to_gid_ = std::move(part.lid_to_gid);
    g_.ghost_ranges_ = std::move(part.ghost_ranges);
    g_.out_offsets_ = std::move(part.out_offsets);
    g_.out_targets_ = std::move(part.out_targets);
    const bool weighted = part.weighted;
    if (part.out_weights.size() != (weighted ? g_.out_targets_.size() : 0)) {
      fail("placed part: ", part.out_weights.size(), " weights for ", g_.out_targets_.size(),
           " arcs");
    }
    g_.weights_ = std::move(part.out_weights);
    const Lid o = g_.num_owned_;
    g_.gids_contiguous_ = o > 0 && g_.lid_to_gid_[o - 1] - g_.lid_to_gid_[0] == o - 1;
    part = detail::PlacedPart{};
    Timer timer;
    if (weighted) {
      sort_weighted_rows();
    } else {
      sort_and_dedup_rows();
    }
    log_debug(str_cat("build: out-CSR ", timer.seconds(), " s"));
    timer.reset();
    build_in_csr();
    log_debug(str_cat("build: in-CSR ", timer.seconds(), " s"));
    g_.weighted_ = weighted;
    return std::move(g_);
  }

  Topology build() {
    if (options_.degree_order && part_ != nullptr) {
      fail("graph part: --degree-order relabels a whole graph on one rank, not a part");
    }
    if (in_.weighted && in_.weights.size() != m_) {
      fail("edge list has ", m_, " edges but ", in_.weights.size(), " weights");
    }
    Timer timer;
    if (part_ != nullptr) {
      map_part();
    } else {
      map_ids();
    }
    if (consume_ != nullptr && !lazy_lids_) {
      std::vector<Edge>().swap(consume_->edges);  // src_/dst_ hold them
      in_.edges = {};
    }
    if (in_.release && !lazy_lids_) in_.release(0, m_);
    log_debug(str_cat("build: map ids ", timer.seconds(), " s"));
    timer.reset();
    build_out_csr();
    log_debug(str_cat("build: out-CSR ", timer.seconds(), " s"));
    timer.reset();
    build_in_csr();
    log_debug(str_cat("build: in-CSR ", timer.seconds(), " s"));
    g_.num_owned_ = part_ != nullptr ? static_cast<Lid>(part_->owned.size())
                                     : static_cast<Lid>(g_.lid_to_gid_.size());
    g_.weighted_ = weighted_;
    if (consume_ != nullptr) *consume_ = EdgeList{};
    if (consume_compact_ != nullptr) *consume_compact_ = CompactEdges{};
    if (in_.release) in_.release(0, m_);
    // A weighted build sorts records, not counts: it relabels the finished graph (a copy).
    if (options_.degree_order && weighted_) return Topology::by_degree(std::move(g_));
    return std::move(g_);
  }

 private:
  /// Runs fn(blocked_range) over all input edges: in parallel, and when the input can drop
  /// pages, in slices of 1M edges (16 MB of input), each released once done.
  template <typename Fn>
  void over_edges(Fn&& fn) const {
    const std::size_t step = in_.release ? std::size_t{1} << 20 : std::max<std::size_t>(m_, 1);
    for (std::size_t lo = 0; lo < m_; lo += step) {
      const std::size_t hi = std::min(m_, lo + step);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(lo, hi), fn);
      if (in_.release) in_.release(lo, hi);
    }
  }

  /// Lid of an input edge's endpoint: from src_/dst_, or (lazy_lids_) from the gid by table.
  Lid lid_of_gid(Gid g) const {
    return lid_table_.empty() ? static_cast<Lid>(g - lid_lo_) : lid_table_[g - lid_lo_];
  }
  /// Gids of input edge i's ends, before the lids are mapped (a compact part's offsets from its
  /// base are in src_/dst_ until then).
  Gid src_gid(std::size_t i) const {
    return compact_ != nullptr ? compact_->base + src_[i] : in_.edges[i].src;
  }
  Gid dst_gid(std::size_t i) const {
    return compact_ != nullptr ? compact_->base + dst_[i] : in_.edges[i].dst;
  }
  Lid src_lid(std::size_t i) const { return lazy_lids_ ? lid_of_gid(in_.edges[i].src) : src_[i]; }
  Lid dst_lid(std::size_t i) const { return lazy_lids_ ? lid_of_gid(in_.edges[i].dst) : dst_[i]; }
  /// The final lid of a mapped lid: itself, or its place by degree (BuildOptions::degree_order).
  Lid final_lid(Lid u) const { return by_degree_.empty() ? u : by_degree_[u]; }

  /// BuildOptions::degree_order, between counting and placing the arcs: `off[u + 1]` holds the
  /// arcs counted for mapped lid u (in gid order); afterwards it holds them for final lid x,
  /// where x orders the vertices by descending count (ties by gid), and the gid tables follow.
  void order_by_degree(std::vector<EdgeId>& off) {
    if (!options_.degree_order) return;
    const std::size_t n = off.size() - 1;
    std::vector<Lid> order(n);
    std::iota(order.begin(), order.end(), Lid{0});
    std::stable_sort(order.begin(), order.end(),
                     [&off](Lid a, Lid b) { return off[a + 1] > off[b + 1]; });
    by_degree_.resize(n);
    std::vector<EdgeId> counts(n + 1, 0);
    std::vector<Gid> gids(n);
    for (std::size_t x = 0; x < n; ++x) {
      by_degree_[order[x]] = static_cast<Lid>(x);
      counts[x + 1] = off[order[x] + 1];
      gids[x] = g_.lid_to_gid_[order[x]];
    }
    off = std::move(counts);
    g_.lid_to_gid_ = std::move(gids);
    g_.owned_by_gid_ = by_degree_;  // mapped lids are in gid order
    g_.gids_contiguous_ = false;
  }

  /// Fills lid_to_gid (sorted) and src_/dst_ (lids of every input edge), or with lazy_lids_
  /// (an input that is mapped or consumed, and built by counting: unweighted, or weighted
  /// without --degree-order) only the table that maps gids to lids when ids are dense: the counting
  /// build then reads the edges twice instead of holding 8 bytes of lids per edge beside them.
  void map_ids() {
    const std::size_t m = in_.edges.size();
    if (in_.declared) {
      if (!lazy_lids_) {
        src_.resize(m);
        dst_.resize(m);
      }
      map_declared(*in_.declared);
      return;
    }
    if (m == 0) {
      lazy_lids_ = false;
      return;
    }
    IdSpan mm;
    std::mutex merge;
    over_edges([&](const auto& r) {
      IdSpan part = id_span(in_.edges.subspan(r.begin(), r.size()));
      std::scoped_lock lock(merge);
      mm = IdSpan{std::min(mm.lo, part.lo), std::max(mm.hi, part.hi)};
    });
    Gid span = mm.hi - mm.lo;  // ids - lo lie in [0, span]
    const bool dense = span < (Gid{1} << 32) - 1 && span <= 4 * m + (1u << 20);
    if (!dense) lazy_lids_ = false;
    if (!lazy_lids_) {
      src_.resize(m);
      dst_.resize(m);
    }
    if (dense) {
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
    over_edges([&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        Gid s = in_.edges[i].src - range.first;
        Gid d = in_.edges[i].dst - range.first;
        if (s >= range.count || d >= range.count) {
          std::size_t cur = bad.load();
          while (i < cur && !bad.compare_exchange_weak(cur, i)) {
          }
          return;
        }
        if (lazy_lids_) continue;
        src_[i] = static_cast<Lid>(s);
        dst_[i] = static_cast<Lid>(d);
      }
    });
    lid_lo_ = range.first;
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
    std::vector<Lid> table(span, 0);  // 1 = present, then the lid
    over_edges([&](const auto& r) {
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
    g_.gids_contiguous_ = n == span;
    if (lazy_lids_) {
      lid_lo_ = lo;
      lid_table_ = std::move(table);
      return;
    }
    over_edges([&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        src_[i] = table[in_.edges[i].src - lo];
        dst_[i] = table[in_.edges[i].dst - lo];
      }
    });
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

  /// A rank's part: owned vertices (given, ascending) get lids 0..o-1; the other endpoints
  /// become ghosts ordered by (owner rank, gid). A lookup table over the gid span when it is
  /// small, else binary search over sorted (gid, lid) pairs.
  void map_part() {
    const GraphPart& part = *part_;
    const std::vector<Gid>& owned = part.owned;
    const std::size_t m = m_;
    const std::size_t o = owned.size();
    for (std::size_t i = 1; i < o; ++i) {
      if (owned[i - 1] >= owned[i])
        fail("graph part: owned vertices are not ascending and distinct");
    }
    // A compact part's offsets, mapped to lids in place (moved with an if: a conditional
    // expression mixing them with the const ones would copy).
    if (compact_ != nullptr) {
      if (consume_compact_ != nullptr) {
        src_ = std::move(consume_compact_->src);
        dst_ = std::move(consume_compact_->dst);
      } else {
        src_ = compact_->src;
        dst_ = compact_->dst;
      }
      if (src_.size() != m || dst_.size() != m) fail("graph part: compact edges of two sizes");
    }
    IdSpan mm = id_span(m, [this](std::size_t i) { return Edge{src_gid(i), dst_gid(i)}; });
    if (o > 0) {
      mm.lo = std::min(mm.lo, owned.front());
      mm.hi = std::max(mm.hi, owned.back());
    }
    const bool dense =
        mm.hi - mm.lo < (Gid{1} << 32) - 2 && mm.hi - mm.lo <= 4 * (m + o) + (1u << 20);
    if (m + o == 0 || !dense) lazy_lids_ = false;
    if (!lazy_lids_ && compact_ == nullptr) {
      src_.resize(m);
      dst_.resize(m);
    }
    if (m + o == 0) {
      finish_part({});
    } else if (dense) {
      part_dense(mm.lo, static_cast<std::size_t>(mm.hi - mm.lo) + 1);
    } else {
      part_sparse();
    }
  }

  /// Orders ghosts (ascending gids) by (owner, gid), appends them to lid_to_gid and builds the
  /// ghost ranges. Returns the ghosts' lids in the order of the input vector.
  std::vector<Lid> finish_part(const std::vector<Gid>& ghosts) {
    const GraphPart& part = *part_;
    const std::size_t o = part.owned.size();
    if (o + ghosts.size() > kMaxVertices) {
      fail("rank ", part.rank, " would hold ", o + ghosts.size(), " vertices; at most ",
           kMaxVertices);
    }
    std::vector<int> owner(ghosts.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, ghosts.size()), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) owner[i] = part.owner_of(ghosts[i]);
    });
    for (std::size_t i = 0; i < ghosts.size(); ++i) {
      if (owner[i] == part.rank || owner[i] < 0) {
        fail("graph part: vertex ", ghosts[i], " is an endpoint of an edge on rank ", part.rank,
             " but its owner is given as rank ", owner[i], " and it is not among the owned");
      }
    }
    std::vector<std::uint32_t> order(ghosts.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return owner[a] < owner[b]; });
    g_.lid_to_gid_.resize(o + ghosts.size());
    std::copy(part.owned.begin(), part.owned.end(), g_.lid_to_gid_.begin());
    std::vector<Lid> lid_of(ghosts.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::uint32_t i = order[k];
      const Lid lid = static_cast<Lid>(o + k);
      g_.lid_to_gid_[lid] = ghosts[i];
      lid_of[i] = lid;
      if (g_.ghost_ranges_.empty() || g_.ghost_ranges_.back().owner_rank != owner[i]) {
        g_.ghost_ranges_.push_back(GhostRange{owner[i], lid, lid});
      }
      g_.ghost_ranges_.back().end = lid + 1;
    }
    g_.gids_contiguous_ = o > 0 && part.owned.back() - part.owned.front() == o - 1;
    return lid_of;
  }

  void part_dense(Gid lo, std::size_t span) {
    const GraphPart& part = *part_;
    const std::size_t m = m_;
    constexpr Lid kAbsent = kInvalidLid;
    constexpr Lid kGhost = kInvalidLid - 1;
    std::vector<Lid> table(span, kAbsent);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, part.owned.size()), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        table[part.owned[i] - lo] = static_cast<Lid>(i);
      }
    });
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        for (Gid g : {src_gid(i), dst_gid(i)}) {
          std::atomic_ref<Lid> slot(table[g - lo]);
          if (slot.load(std::memory_order_relaxed) == kAbsent) {
            slot.store(kGhost, std::memory_order_relaxed);
          }
        }
      }
    });
    std::vector<Gid> ghosts;
    for (std::size_t x = 0; x < span; ++x) {
      if (table[x] == kGhost) ghosts.push_back(lo + x);
    }
    std::vector<Lid> lids = finish_part(ghosts);
    for (std::size_t i = 0; i < ghosts.size(); ++i) table[ghosts[i] - lo] = lids[i];
    if (lazy_lids_) {
      lid_lo_ = lo;
      lid_table_ = std::move(table);
      return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        src_[i] = table[src_gid(i) - lo];
        dst_[i] = table[dst_gid(i) - lo];
      }
    });
  }

  void part_sparse() {
    const GraphPart& part = *part_;
    const std::size_t m = m_;
    auto is_owned = [&](Gid g) {
      return std::binary_search(part.owned.begin(), part.owned.end(), g);
    };
    std::vector<Gid> ghosts;
    for (std::size_t i = 0; i < m; ++i) {
      for (Gid g : {src_gid(i), dst_gid(i)}) {
        if (!is_owned(g)) ghosts.push_back(g);
      }
    }
    tbb::parallel_sort(ghosts.begin(), ghosts.end());
    ghosts.erase(std::unique(ghosts.begin(), ghosts.end()), ghosts.end());
    std::vector<Lid> lids = finish_part(ghosts);
    auto lid_of = [&](Gid g) -> Lid {
      auto it = std::lower_bound(part.owned.begin(), part.owned.end(), g);
      if (it != part.owned.end() && *it == g) return static_cast<Lid>(it - part.owned.begin());
      return lids[static_cast<std::size_t>(std::lower_bound(ghosts.begin(), ghosts.end(), g) -
                                           ghosts.begin())];
    };
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        src_[i] = lid_of(src_gid(i));
        dst_[i] = lid_of(dst_gid(i));
      }
    });
  }

  /// Arcs are the input edges in input order followed, when symmetrizing, by the reverses of
  /// the non-self-loop edges (in input order). A stable sort by (src, dst) then puts every
  /// adjacency list in neighbour order with repeats in input order, for any thread count.
  void build_out_csr() {
    if (!weighted_) {
      build_out_csr_counting();
    } else if (!options_.degree_order) {
      build_out_csr_weighted();
    } else {
      build_out_csr_with<WeightedArc>();  // reverses after all forward arcs; a relabelled copy
    }
  }

  /// Out-offsets and unsorted out-lists, by atomic counters: slice by slice over a mapped
  /// input (whose pages each slice drops); arcs are in file order there, so two threads
  /// rarely share a counter.
  void place_arcs_atomic(std::size_t n, bool sym) {
    std::vector<EdgeId>& off = g_.out_offsets_;
    off.assign(n + 1, 0);
    over_edges([&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        const Lid u = src_lid(i);
        const Lid v = dst_lid(i);
        std::atomic_ref<EdgeId>(off[u + 1]).fetch_add(1, std::memory_order_relaxed);
        if (sym && u != v) {
          std::atomic_ref<EdgeId>(off[v + 1]).fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
    order_by_degree(off);
    for (std::size_t v = 0; v < n; ++v) off[v + 1] += off[v];
    std::vector<EdgeId> cursor(off.begin(), off.end() - 1);
    g_.out_targets_.resize(off[n]);
    Lid* const targets = g_.out_targets_.data();
    over_edges([&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        const Lid u = final_lid(src_lid(i));
        const Lid v = final_lid(dst_lid(i));
        targets[std::atomic_ref<EdgeId>(cursor[u]).fetch_add(1, std::memory_order_relaxed)] = v;
        if (sym && u != v) {
          targets[std::atomic_ref<EdgeId>(cursor[v]).fetch_add(1, std::memory_order_relaxed)] = u;
        }
      }
    });
  }

  /// The same with a counter per chunk of the input and vertex (so few chunks that they take
  /// at most a quarter of the input's lids): no shared counter, for inputs in any order.
  void place_arcs_chunked(std::size_t n, bool sym, const double* input_weights = nullptr) {
    const std::size_t m = m_;
    const std::size_t threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
    const std::size_t chunks = std::clamp<std::size_t>(m / (4 * n + 1), 1, 2 * threads);
    const std::size_t chunk = chunk_of(m, chunks);
    std::vector<EdgeId> cursor(chunks * n, 0);
    // fn(i) for each edge of chunk c; each slice of a mapped input is dropped once read in
    // each pass (lazy lids read it again in the second).
    const std::size_t slice = in_.release ? std::size_t{1} << 20 : m;
    auto over_chunk = [&](std::size_t c, auto&& fn) {
      const std::size_t last = std::min(m, (c + 1) * chunk);
      for (std::size_t lo = c * chunk; lo < last; lo += slice) {
        const std::size_t hi = std::min(last, lo + slice);
        for (std::size_t i = lo; i < hi; ++i) fn(i);
        if (slice < m) in_.release(lo, hi);
      }
    };
    tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
      EdgeId* count = cursor.data() + c * n;
      over_chunk(c, [&](std::size_t i) {
        const Lid u = src_lid(i);
        const Lid v = dst_lid(i);
        ++count[u];
        if (sym && u != v) ++count[v];
      });
    });
    std::vector<EdgeId>& off = g_.out_offsets_;
    off.assign(n + 1, 0);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
      for (std::size_t u = r.begin(); u < r.end(); ++u) {
        for (std::size_t c = 0; c < chunks; ++c) off[u + 1] += cursor[c * n + u];
      }
    });
    order_by_degree(off);
    for (std::size_t v = 0; v < n; ++v) off[v + 1] += off[v];
    // The cursors stay indexed by mapped lid u; u's list starts at its final lid's offset.
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
      for (std::size_t u = r.begin(); u < r.end(); ++u) {
        EdgeId next = off[final_lid(static_cast<Lid>(u))];
        for (std::size_t c = 0; c < chunks; ++c) {
          const EdgeId count = cursor[c * n + u];
          cursor[c * n + u] = next;
          next += count;
        }
      }
    });
    g_.out_targets_.resize(off[n]);
    Lid* const targets = g_.out_targets_.data();
    double* weights = nullptr;  // input_weights: each arc's weight beside its target
    if (input_weights != nullptr) {
      g_.weights_.resize(off[n]);
      weights = g_.weights_.data();
      if (sym) reverse_.assign(off[n], 0);
    }
    tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
      EdgeId* next = cursor.data() + c * n;
      over_chunk(c, [&](std::size_t i) {
        const Lid u = src_lid(i);
        const Lid v = dst_lid(i);
        if (weights != nullptr) weights[next[u]] = input_weights[i];
        targets[next[u]++] = final_lid(v);
        if (sym && u != v) {
          const EdgeId at = next[v]++;
          targets[at] = final_lid(u);
          if (weights != nullptr) {
            weights[at] = input_weights[i];
            reverse_[at] = 1;
          }
        }
      });
    });
  }

  /// Unweighted: repeats of a neighbour are indistinguishable, so the arcs are counted per
  /// source, scattered straight into the out-CSR and each list sorted in place: 4 bytes an arc
  /// beside the input's lids, where sorting records needs 16.
  void build_out_csr_counting() {
    const std::size_t n = g_.lid_to_gid_.size();
    const bool sym = options_.symmetrize;
    Timer t;
    if (in_.release) {
      place_arcs_atomic(n, sym);
    } else {
      place_arcs_chunked(n, sym);
    }
    std::vector<Lid>().swap(src_);
    std::vector<Lid>().swap(dst_);
    std::vector<Lid>().swap(lid_table_);
    std::vector<Lid>().swap(by_degree_);  // the arcs are placed: owned_by_gid_ keeps the map
    if (in_.release) in_.release(0, m_);
    if (consume_ != nullptr) {
      std::vector<Edge>().swap(consume_->edges);
      in_.edges = {};
    }
    log_debug(str_cat("  out: counted ", t.seconds()));
    sort_and_dedup_rows();
  }

  /// Weighted: arcs counted per (chunk of the input, source) and scattered with their weights,
  /// so each row holds its arcs in input order; each row is then sorted by (target, reverse,
  /// place in the row), which keeps repeats in input order and a symmetrized reverse arc after
  /// the input's own, as the stable sort of records does, and dedup keeps the first. 12 bytes
  /// an arc (13 symmetrized), where records need 32.
  void build_out_csr_weighted() {
    const std::size_t n = g_.lid_to_gid_.size();
    Timer t;
    place_arcs_chunked(n, options_.symmetrize, in_.weights.data());
    std::vector<Lid>().swap(src_);
    std::vector<Lid>().swap(dst_);
    std::vector<Lid>().swap(lid_table_);
    if (consume_ != nullptr) {
      std::vector<Edge>().swap(consume_->edges);
      std::vector<double>().swap(consume_->weights);
      in_.edges = {};
    }
    if (consume_compact_ != nullptr) std::vector<double>().swap(consume_compact_->weights);
    in_.weights = {};
    if (in_.release) in_.release(0, m_);
    log_debug(str_cat("  out: counted ", t.seconds()));
    sort_weighted_rows();
    log_debug(str_cat("  out: sorted ", t.seconds()));
  }

  /// Each weighted row sorted by (target, reverse, place): keys target << 32 | reverse << 31 |
  /// place, a scratch per task (reverse_: the symmetrized reverse arcs, when any).
  void sort_weighted_rows() {
    const std::size_t n = g_.lid_to_gid_.size();
    std::vector<EdgeId>& off = g_.out_offsets_;
    Lid* const targets = g_.out_targets_.data();
    double* const weights = g_.weights_.data();
    const std::uint8_t* const reverse = reverse_.empty() ? nullptr : reverse_.data();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
      std::vector<std::uint64_t> keys;
      std::vector<double> row_weights;
      for (std::size_t v = r.begin(); v < r.end(); ++v) {
        const EdgeId begin = off[v], end = off[v + 1];
        // (target, reverse): a row in that order is in the final one (places ascend).
        auto rank = [&](EdgeId e) {
          return std::uint64_t{targets[e]} << 1 | (reverse != nullptr ? reverse[e] : 0u);
        };
        EdgeId e = begin + 1;
        while (e < end && rank(e - 1) <= rank(e)) ++e;
        if (e >= end) continue;
        const std::size_t len = end - begin;
        if (len >= (std::size_t{1} << 31)) fail("vertex ", v, " has ", len, " out-arcs");
        keys.resize(len);
        row_weights.assign(weights + begin, weights + end);
        for (std::size_t i = 0; i < len; ++i) {
          keys[i] = std::uint64_t{targets[begin + i]} << 32 |
                    std::uint64_t{reverse != nullptr ? reverse[begin + i] : 0u} << 31 | i;
        }
        std::sort(keys.begin(), keys.end());
        for (std::size_t i = 0; i < len; ++i) {
          targets[begin + i] = static_cast<Lid>(keys[i] >> 32);
          weights[begin + i] = row_weights[keys[i] & 0x7fffffffu];
        }
      }
    });
    std::vector<std::uint8_t>().swap(reverse_);
    if (options_.dedup) dedup_sorted_rows();
  }

  /// Rows at least this long are sorted by digits (radix_sort_ids), shorter ones by
  /// comparisons.
  static constexpr std::size_t kRadixRow = 48;

  /// Sorts each out-list in place, then (dedup) drops self-loops and repeats.
  void sort_and_dedup_rows() {
    const std::size_t n = g_.lid_to_gid_.size();
    std::vector<EdgeId>& off = g_.out_offsets_;
    Lid* const targets = g_.out_targets_.data();
    const auto bits = static_cast<unsigned>(std::bit_width(n == 0 ? 0 : n - 1));  // lids < n
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& r) {
      std::vector<Lid> scratch, counts;
      for (std::size_t v = r.begin(); v < r.end(); ++v) {
        // Rows from a sorted input often come sorted already; the ghosts' rows of an atom part
        // (runs from several atoms) do not.
        Lid* const row = targets + off[v];
        const std::size_t len = off[v + 1] - off[v];
        if (std::is_sorted(row, row + len)) continue;
        if (len < kRadixRow) {
          std::sort(row, row + len);
        } else {
          detail::radix_sort_ids(row, len, bits, scratch, counts);
        }
      }
    });
    if (options_.dedup) dedup_sorted_rows();
  }

  /// Drops self-loops and repeats from sorted rows (each weight, if any, moving with its
  /// target), compacting in place in vertex order (a list never moves right, so reading it
  /// after the earlier lists were written is safe).
  void dedup_sorted_rows() {
    const std::size_t n = g_.lid_to_gid_.size();
    std::vector<EdgeId>& off = g_.out_offsets_;
    Lid* const targets = g_.out_targets_.data();
    double* const weights = g_.weights_.empty() ? nullptr : g_.weights_.data();
    EdgeId out = 0;
    for (std::size_t v = 0; v < n; ++v) {
      const EdgeId begin = off[v];
      const EdgeId end = off[v + 1];
      off[v] = out;
      Lid prev = kInvalidLid;  // lists are sorted: a repeat follows its first
      for (EdgeId e = begin; e < end; ++e) {
        const Lid w = targets[e];
        if (w != v && w != prev) {
          if (weights != nullptr) weights[out] = weights[e];
          targets[out++] = w;
        }
        prev = w;
      }
    }
    off[n] = out;
    g_.out_targets_.resize(out);
    g_.out_targets_.shrink_to_fit();
    if (weights != nullptr) {
      g_.weights_.resize(out);
      g_.weights_.shrink_to_fit();
    }
  }

  template <typename Rec>
  void build_out_csr_with() {
    const std::size_t m = m_;
    const std::size_t n = g_.lid_to_gid_.size();
    const unsigned bits = lid_bits(n);
    Timer t;
    // Reverse arcs are written after the m forward ones, at stable positions.
    std::vector<std::size_t> reverse_at;
    std::size_t arcs = m;
    if (options_.symmetrize) {
      arcs += stable_positions(
          m, m, [&](std::size_t i) { return src_[i] != dst_[i]; }, reverse_at);
    }
    RecordBuffer<Rec> records(arcs);
    auto forward = [&](std::size_t i) {
      return make_arc<Rec>((std::uint64_t{src_[i]} << bits) | dst_[i], i);
    };
    if (!options_.symmetrize) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) records[i] = forward(i);
      });
    } else {
      const std::size_t chunk = chunk_of(m, reverse_at.size() - 1);
      tbb::parallel_for(std::size_t{0}, reverse_at.size() - 1, [&](std::size_t c) {
        std::size_t rev = reverse_at[c];
        for (std::size_t i = c * chunk, end = std::min(m, i + chunk); i < end; ++i) {
          records[i] = forward(i);
          if (src_[i] != dst_[i]) {
            records[rev++] = make_arc<Rec>((std::uint64_t{dst_[i]} << bits) | src_[i], i);
          }
        }
      });
    }
    std::vector<Lid>().swap(src_);
    std::vector<Lid>().swap(dst_);
    if (consume_ != nullptr) std::vector<double>().swap(consume_->weights);  // in the records
    if (consume_compact_ != nullptr) std::vector<double>().swap(consume_compact_->weights);
    log_debug(str_cat("  out: records ", t.seconds()));
    {
      RecordBuffer<Rec> scratch(arcs);
      radix_sort(records, scratch, 2 * bits, [](const Rec& r) { return arc_key(r); });
    }
    log_debug(str_cat("  out: sort ", t.seconds()));

    if (options_.dedup) {  // drop self-loops and repeats of the previous (src, dst)
      const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
      auto keep = [&](std::size_t i) {
        std::uint64_t k = arc_key(records[i]);
        return (k >> bits) != (k & mask) && (i == 0 || arc_key(records[i - 1]) != k);
      };
      std::vector<std::size_t> kept_at;
      std::size_t kept = stable_positions(arcs, 0, keep, kept_at);
      RecordBuffer<Rec> compact(kept);
      const std::size_t chunk = chunk_of(arcs, kept_at.size() - 1);
      tbb::parallel_for(std::size_t{0}, kept_at.size() - 1, [&](std::size_t c) {
        std::size_t out = kept_at[c];
        for (std::size_t i = c * chunk, end = std::min(arcs, i + chunk); i < end; ++i) {
          if (keep(i)) compact[out++] = records[i];
        }
      });
      records = std::move(compact);
      arcs = kept;
    }

    const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
    g_.out_offsets_ =
        offsets_of_sorted(arcs, n, [&](std::size_t i) { return arc_key(records[i]) >> bits; });
    g_.out_targets_.resize(arcs);
    if (weighted_) g_.weights_.resize(arcs);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, arcs), [&](const auto& r) {
      for (std::size_t e = r.begin(); e < r.end(); ++e) {
        g_.out_targets_[e] = static_cast<Lid>(arc_key(records[e]) & mask);
        if constexpr (std::is_same_v<Rec, WeightedArc>) g_.weights_[e] = records[e].weight;
      }
    });
    log_debug(str_cat("  out: csr ", t.seconds()));
  }

  template <typename Rec>
  Rec make_arc(std::uint64_t key, std::size_t input_index) const {
    if constexpr (std::is_same_v<Rec, WeightedArc>) {
      return WeightedArc{key, in_.weights[input_index]};
    } else {
      return key;
    }
  }

  /// In-edges come from the out-CSR, which is in (src, edge id) order; a stable sort by
  /// destination gives each in-list in (src, edge id) order. Records are (dst, src) packed in
  /// 8 bytes (lids have at most 32 bits). A symmetric structure needs no in-CSR: v's in-list
  /// is its out-list (both sorted by neighbour, with the same multiplicities).
  void build_in_csr() {
    if (options_.symmetrize || is_symmetric()) {
      g_.symmetric_ = true;
      g_.in_offsets_ = {};
      return;
    }
    // By counting (csr_transpose.hpp): an in-row's sources come out ascending, a repeated arc's
    // copies in out-row order: what a stable sort of (target, source) records gives, at 4 bytes
    // an arc instead of 16.
    const std::vector<EdgeId>& out_off = g_.out_offsets_;
    const Lid* const targets = g_.out_targets_.data();
    g_.in_sources_.resize(g_.out_targets_.size());
    detail::transpose_by_counting(
        out_off, g_.lid_to_gid_.size(),
        [&out_off, targets](std::size_t u, auto&& visit) {
          for (EdgeId e = out_off[u]; e < out_off[u + 1]; ++e) visit(targets[e]);
        },
        g_.in_offsets_, g_.in_sources_.data());
  }

  /// Whether every arc u->v is matched by as many arcs v->u: a keyed multiset fingerprint, one
  /// sequential pass over the out-CSR (rows need not be sorted). With a value a_x in F_p per
  /// vertex, p = 2^61 - 1, the sum over arcs of a_u a_v^2 equals that over their reverses iff
  /// P(a) = sum over u != v of N(u,v) a_u a_v^2 is 0, where N(u,v) = #(u->v) - #(v->u)
  /// (self-loops cancel). Symmetric: N = 0, equal sums for any key, so "not symmetric" is exact.
  /// Else some N(u,v) is nonzero and smaller than arcs < p in size, so P is a nonzero cubic
  /// (its monomials a_u a_v^2 are distinct), 0 by Schwartz-Zippel with probability at most
  /// 3 * 2^-60 for independent a_x with no value likelier than 2^-60; with two independent keys
  /// a false "symmetric" has probability below 2^-116, whatever the multiplicities (a pair
  /// hash summed mod 2^64 loses one of its 64 bits for each factor 2 of N). The sum factors by
  /// rows, a_u sum a_v^2 - a_u^2 sum a_v: an arc costs one value and one square per key, where
  /// a pair hash costs two. a_x = mix64(x * m + c) >> 3 (2^61 - 1, twice as likely, is 0 mod
  /// p), with m odd and c from std::random_device per process, so no input is made against
  /// them; the assumption is that mix64 makes the values of distinct vertices look independent.
  /// The key multiplies rather than only xors: with mix64(x ^ c) every key would evaluate one
  /// public bijection at points whose differences x ^ y the input picks, so one likely
  /// differential of mix64 would hold for every key at once (seeded MurmurHash fell to such
  /// seed-independent collisions); the differences (x - y) * m depend on the key.
  bool is_symmetric() const {
    const auto& off = g_.out_offsets_;
    const Lid* tgt = g_.out_targets_.data();
    const std::size_t arcs = g_.out_targets_.size();
    const SymmetryKeys keys = symmetry_keys();              // a copy, in registers
    using Sums = std::array<std::uint64_t, kSymmetryKeys>;  // per key, mod p
    // Arc ranges, not rows: a row's part contributes a_u (partial sums) like the whole row.
    const Sums total = tbb::parallel_reduce(
        tbb::blocked_range<EdgeId>(0, arcs, EdgeId{1} << 14), Sums{},
        [&](const tbb::blocked_range<EdgeId>& r, Sums acc) {
          std::size_t u =
              static_cast<std::size_t>(std::upper_bound(off.begin(), off.end(), r.begin()) -
                                       off.begin() - 1);  // the row holding r.begin()
          for (EdgeId e = r.begin(); e < r.end(); ++u) {
            const EdgeId end = std::min<EdgeId>(off[u + 1], r.end());
            if (e == end) continue;  // an empty row
            std::array<U128, kSymmetryKeys> s1{}, s2{};
            for (; e < end; ++e) {
              for (std::size_t k = 0; k < kSymmetryKeys; ++k) {
                const std::uint64_t a = keys[k].value(tgt[e]);
                s1[k] += a;
                s2[k] += fold_p61(U128{a} * a);
              }
            }
            for (std::size_t k = 0; k < kSymmetryKeys; ++k) {
              const std::uint64_t a = keys[k].value(static_cast<Lid>(u));
              const std::uint64_t forward = mod_p61(U128{a} * mod_p61(s2[k]));
              const std::uint64_t reverse = mod_p61(U128{mod_p61(U128{a} * a)} * mod_p61(s1[k]));
              acc[k] = mod_p61(U128{acc[k]} + forward + (kP61 - reverse));
            }
          }
          return acc;
        },
        [](Sums a, const Sums& b) {
          for (std::size_t k = 0; k < kSymmetryKeys; ++k) a[k] = mod_p61(U128{a[k]} + b[k]);
          return a;
        });
    return std::all_of(total.begin(), total.end(), [](std::uint64_t x) { return x == 0; });
  }

  EdgeView in_;
  const CompactEdges* compact_;  ///< a compact part's edges (else null)
  std::size_t m_;                ///< input edges (in_.edges is emptied when consumed)
  bool weighted_ = in_.weighted;
  BuildOptions options_;
  const GraphPart* part_;
  EdgeList* consume_;
  CompactEdges* consume_compact_;
  Topology g_;
  std::vector<Lid> src_;
  std::vector<Lid> dst_;
  bool lazy_lids_;              ///< src_/dst_ stay empty; lids come from the gids by table
  Gid lid_lo_ = 0;              ///< lazy_lids_: the smallest gid (declared: the range's first)
  std::vector<Lid> lid_table_;  ///< lazy_lids_: lid of gid lid_lo_ + x (empty: declared)
  std::vector<std::uint8_t> reverse_;  ///< weighted, symmetrized: 1 for each reverse arc
  std::vector<Lid> by_degree_;         ///< degree_order: final lid of each mapped lid (else empty)
};

Topology Topology::build(const EdgeList& edges, const BuildOptions& options) {
  return TopologyBuilder(EdgeView(edges), options, nullptr).build();
}

Topology Topology::build(EdgeList&& edges, const BuildOptions& options) {
  return TopologyBuilder(EdgeView(edges), options, nullptr, &edges).build();
}

Topology Topology::build(const EdgeView& edges, const BuildOptions& options) {
  return TopologyBuilder(edges, options, nullptr).build();
}

Topology Topology::build_part(const GraphPart& part, const BuildOptions& options) {
  if (!part.owner_of) fail("graph part: no owner function");
  return TopologyBuilder(input_of(part), options, &part).build();
}

Topology Topology::build_part(GraphPart&& part, const BuildOptions& options) {
  if (!part.owner_of) fail("graph part: no owner function");
  return TopologyBuilder(input_of(part), options, &part, &part.edges, &part.compact).build();
}

namespace detail {
Topology build_placed_part(PlacedPart&& part, const BuildOptions& options) {
  return TopologyBuilder(EdgeView{}, options, nullptr).build_placed(std::move(part));
}
}  // namespace detail

void Topology::set_replicas(std::vector<std::uint64_t> offsets, std::vector<Replica> replicas) {
  if (offsets.size() != static_cast<std::size_t>(num_owned_) + 1 || offsets.front() != 0 ||
      offsets.back() != replicas.size()) {
    fail("replica lists: ", offsets.size(), " offsets for ", num_owned_, " owned vertices");
  }
  replica_offsets_ = std::move(offsets);
  replicas_ = std::move(replicas);
}

Lid Topology::lid(Gid g) const {
  if (!owned_by_gid_.empty()) {  // relabelled: the owned lids sorted by gid
    auto it = std::lower_bound(owned_by_gid_.begin(), owned_by_gid_.end(), g,
                               [this](Lid v, Gid x) { return lid_to_gid_[v] < x; });
    if (it != owned_by_gid_.end() && lid_to_gid_[*it] == g) return *it;
  } else if (num_owned_ > 0) {
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

std::span<const EdgeId> Topology::in_edge_ids() const {
  // Made under OnceVector's mutex by a parallel_for, isolated: a thread waiting in it must not
  // pick up outer tasks (an engine worker's loop, which would wait on this same mutex).
  return in_edge_ids_.get([this] {
    return tbb::this_task_arena::isolate(
        [this] { return derive_in_edge_ids(out_offsets_, in_src()); });
  });
}

std::size_t Topology::memory_bytes() const {
  return lid_to_gid_.capacity() * sizeof(Gid) + out_offsets_.capacity() * sizeof(EdgeId) +
         out_targets_.capacity() * sizeof(Lid) + in_offsets_.capacity() * sizeof(EdgeId) +
         in_sources_.capacity() * sizeof(Lid) + in_edge_ids_.capacity_bytes() +
         weights_.capacity() * sizeof(double) + ghost_ranges_.capacity() * sizeof(GhostRange) +
         replica_offsets_.capacity() * sizeof(std::uint64_t) +
         replicas_.capacity() * sizeof(Replica) + owned_by_gid_.capacity() * sizeof(Lid);
}

EdgeList to_edge_list(const Topology& g) {
  EdgeList list;
  const EdgeId owned_edges = g.owned_edges();
  list.edges.resize(owned_edges);
  list.weighted = g.weighted();
  if (list.weighted) {
    list.weights.assign(g.weights().begin(), g.weights().begin() + owned_edges);
  }
  tbb::parallel_for(tbb::blocked_range<Lid>(0, g.num_owned()), [&](const auto& r) {
    for (Lid v = r.begin(); v < r.end(); ++v) {
      EdgeId e = g.out_begin(v);
      for (Lid u : g.out_neighbors(v)) list.edges[e++] = Edge{g.gid(v), g.gid(u)};
    }
  });
  if (g.num_owned() > 0) {  // the owned gids' span (lids are in gid order unless by_degree)
    Gid low = g.gid(0), high = g.gid(g.num_owned() - 1);
    if (!g.by_gid_order()) {
      for (Lid v = 0; v < g.num_owned(); ++v) {
        low = std::min(low, g.gid(v));
        high = std::max(high, g.gid(v));
      }
    }
    if (high - low == g.num_owned() - 1) list.declared = VertexRange{low, g.num_owned()};
  }
  return list;
}

}  // namespace atl
