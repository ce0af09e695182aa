// The vertex set of an edge list and positions in it. Dense id ranges are handled with a
// presence table (no sort); sparse ones by sorting all endpoints.
#include "vertex_index.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <atomic>
#include <numeric>

#include "atoll/common/error.hpp"
#include "atoll/graph/atoms.hpp"

namespace atl {
namespace detail {
namespace {

/// A table of span entries is used when span <= kTableFactor * n + kTableSlack.
constexpr std::uint64_t kTableFactor = 4;
constexpr std::uint64_t kTableSlack = std::uint64_t{1} << 20;
constexpr std::uint64_t kMaxVertices = std::uint64_t{1} << 32;

struct MinMax {
  Gid lo = ~Gid{0};
  Gid hi = 0;
};

MinMax endpoint_range(const EdgeList& graph) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, graph.size()), MinMax{},
      [&](const auto& r, MinMax acc) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) {
          const Edge& e = graph.edges[i];
          acc.lo = std::min({acc.lo, e.src, e.dst});
          acc.hi = std::max({acc.hi, e.src, e.dst});
        }
        return acc;
      },
      [](MinMax a, MinMax b) {
        return MinMax{std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
      });
}

/// Ids within [lo, lo + span): mark the present ones, then list them in order.
std::vector<Gid> dense_vertices(const EdgeList& graph, Gid lo, std::uint64_t span) {
  std::vector<unsigned char> present(span, 0);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, graph.size()), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      const Edge& e = graph.edges[i];
      std::atomic_ref<unsigned char>(present[e.src - lo]).store(1, std::memory_order_relaxed);
      std::atomic_ref<unsigned char>(present[e.dst - lo]).store(1, std::memory_order_relaxed);
    }
  });
  constexpr std::uint64_t kChunk = std::uint64_t{1} << 16;
  const std::uint64_t chunks = (span + kChunk - 1) / kChunk;
  std::vector<std::uint64_t> starts(chunks + 1, 0);
  tbb::parallel_for(std::uint64_t{0}, chunks, [&](std::uint64_t c) {
    const std::uint64_t end = std::min(span, (c + 1) * kChunk);
    starts[c + 1] = static_cast<std::uint64_t>(
        std::count(present.begin() + c * kChunk, present.begin() + end, 1));
  });
  std::partial_sum(starts.begin(), starts.end(), starts.begin());
  std::vector<Gid> vertices(starts.back());
  tbb::parallel_for(std::uint64_t{0}, chunks, [&](std::uint64_t c) {
    std::uint64_t out = starts[c];
    for (std::uint64_t x = c * kChunk, end = std::min(span, x + kChunk); x < end; ++x) {
      if (present[x]) vertices[out++] = lo + x;
    }
  });
  return vertices;
}

std::vector<Gid> sparse_vertices(const EdgeList& graph) {
  std::vector<Gid> ids(2 * graph.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, graph.size()), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      ids[2 * i] = graph.edges[i].src;
      ids[2 * i + 1] = graph.edges[i].dst;
    }
  });
  tbb::parallel_sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

VertexIndex::VertexIndex(const std::vector<Gid>& vertices) : vertices_(vertices) {
  if (vertices.empty()) return;
  first_ = vertices.front();
  const std::uint64_t span = vertices.back() - first_;  // ids - first lie in [0, span]
  if (span == vertices.size() - 1) return;              // contiguous
  if (vertices.size() < kMaxVertices && span < kTableFactor * vertices.size() + kTableSlack) {
    mode_ = Mode::kTable;
    table_.resize(span + 1);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, vertices.size()), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        table_[vertices[i] - first_] = static_cast<std::uint32_t>(i);
      }
    });
    return;
  }
  mode_ = Mode::kSearch;
}

std::uint64_t VertexIndex::search(Gid gid) const {
  return static_cast<std::uint64_t>(std::lower_bound(vertices_.begin(), vertices_.end(), gid) -
                                    vertices_.begin());
}

}  // namespace detail

std::vector<Gid> graph_vertices(const EdgeList& graph) {
  if (graph.declared) {
    const VertexRange& range = *graph.declared;
    if (range.count > detail::kMaxVertices) {
      fail("graph declares ", range.count, " vertices; at most ", detail::kMaxVertices,
           " are supported");
    }
    std::vector<Gid> vertices(range.count);
    std::iota(vertices.begin(), vertices.end(), range.first);
    return vertices;
  }
  if (graph.size() == 0) return {};
  const detail::MinMax mm = detail::endpoint_range(graph);
  const std::uint64_t span = mm.hi - mm.lo;  // ids - lo lie in [0, span]
  if (span < detail::kTableFactor * 2 * graph.size() + detail::kTableSlack) {
    return detail::dense_vertices(graph, mm.lo, span + 1);
  }
  return detail::sparse_vertices(graph);
}

}  // namespace atl
