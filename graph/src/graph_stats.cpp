#include "atoll/graph/graph_stats.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <limits>

namespace atl {
namespace {

struct Partial {
  std::uint64_t self_loops = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t isolated = 0;
  std::uint64_t out_min = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t out_max = 0;
  std::uint64_t in_min = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t in_max = 0;
  std::uint64_t in_sum = 0;

  static Partial merge(const Partial& a, const Partial& b) {
    return {a.self_loops + b.self_loops,    a.duplicates + b.duplicates,
            a.isolated + b.isolated,        std::min(a.out_min, b.out_min),
            std::max(a.out_max, b.out_max), std::min(a.in_min, b.in_min),
            std::max(a.in_max, b.in_max),   a.in_sum + b.in_sum};
  }
};

}  // namespace

GraphStats compute_stats(const Topology& g) {
  const Lid n = g.num_owned();
  Partial p = tbb::parallel_reduce(
      tbb::blocked_range<Lid>(0, n), Partial{},
      [&](const tbb::blocked_range<Lid>& r, Partial acc) {
        for (Lid v = r.begin(); v < r.end(); ++v) {
          auto nbrs = g.out_neighbors(v);  // sorted by neighbour
          for (std::size_t i = 0; i < nbrs.size(); ++i) {
            acc.self_loops += nbrs[i] == v;
            acc.duplicates += i > 0 && nbrs[i] == nbrs[i - 1];
          }
          std::uint64_t out = nbrs.size();
          std::uint64_t in = g.in_degree(v);
          acc.isolated += out == 0 && in == 0;
          acc.out_min = std::min(acc.out_min, out);
          acc.out_max = std::max(acc.out_max, out);
          acc.in_min = std::min(acc.in_min, in);
          acc.in_max = std::max(acc.in_max, in);
          acc.in_sum += in;
        }
        return acc;
      },
      Partial::merge);
  GraphStats s;
  s.vertices = n;
  s.edges = g.num_edges();
  s.self_loops = p.self_loops;
  s.duplicate_edges = p.duplicates;
  s.isolated_vertices = p.isolated;
  s.weighted = g.weighted();
  if (n > 0) {
    s.out_degree = {p.out_min, p.out_max, static_cast<double>(g.num_edges()) / n};
    s.in_degree = {p.in_min, p.in_max, static_cast<double>(p.in_sum) / n};
  }
  return s;
}

}  // namespace atl
