// Synthetic graph generators. Every random draw is a pure function of (seed, stream, index)
// through a counter-based hash, so edge i is the same for any thread count or schedule.
#include "atoll/graph/generators.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/mix64.hpp"

namespace atl {
namespace {

using detail::kGolden;
using detail::mix64;

constexpr std::size_t kGrain = std::size_t{1} << 14;  // edges per parallel task (min)

// Stream ids; Kronecker levels use streams 0..scale-1, so the others start above 40.
constexpr std::uint64_t kStreamSrc = 1000;
constexpr std::uint64_t kStreamDst = 1001;
constexpr std::uint64_t kStreamWeight = 1002;
constexpr std::uint64_t kStreamScramble = 1003;

/// A counter-based random stream: draw(i) depends only on (seed, stream, i).
class Stream {
 public:
  Stream(std::uint64_t seed, std::uint64_t stream)
      : key_(mix64(mix64(seed ^ 0x6a09e667f3bcc909ull) + stream * kGolden)) {}

  /// splitmix64 at position i of the Weyl sequence starting at the (hashed) stream key.
  std::uint64_t draw(std::uint64_t i) const { return mix64(key_ + (i + 1) * kGolden); }

  /// Uniform double in [0, 1) with 53 random bits.
  double unit(std::uint64_t i) const { return static_cast<double>(draw(i) >> 11) * 0x1.0p-53; }

  /// Nearly uniform value in [0, n) by the 128-bit multiply-high reduction.
  std::uint64_t below(std::uint64_t i, std::uint64_t n) const {
    return detail::reduce64(draw(i), n);
  }

 private:
  std::uint64_t key_;
};

/// Runs body(begin, end) over [0, n) in parallel blocks.
template <typename Body>
void parallel_blocks(std::uint64_t n, Body&& body) {
  tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, n, kGrain),
                    [&](const tbb::blocked_range<std::uint64_t>& r) { body(r.begin(), r.end()); });
}

/// Allocates n edges, rejecting counts a vector cannot hold.
std::vector<Edge> allocate_edges(std::uint64_t n, const char* generator) {
  if (n > std::vector<Edge>().max_size()) {
    usage_fail(generator, ": ", n, " edges are too many to hold in memory");
  }
  return std::vector<Edge>(static_cast<std::size_t>(n));
}

/// Fills weights (if requested) for the edges of out, keeping weighted == !weights.empty().
void add_weights(EdgeList& out, std::uint64_t seed, const std::optional<WeightRange>& range,
                 const char* generator) {
  out.weighted = false;
  out.weights.clear();
  if (!range) return;
  if (range->min > range->max) {
    usage_fail(generator, ": weight range min ", range->min, " is greater than max ", range->max);
  }
  const std::uint64_t lo = static_cast<std::uint64_t>(range->min);
  // span == 0 means the full 2^64 range (max - min + 1 wrapped around).
  const std::uint64_t span = static_cast<std::uint64_t>(range->max) - lo + 1;
  const Stream stream(seed, kStreamWeight);
  out.weights.resize(out.edges.size());
  double* w = out.weights.data();
  parallel_blocks(out.edges.size(), [&](std::uint64_t b, std::uint64_t e) {
    for (std::uint64_t i = b; i < e; ++i) {
      const std::uint64_t h = stream.draw(i);
      const std::uint64_t off = span == 0 ? h : h % span;
      w[i] = static_cast<double>(static_cast<std::int64_t>(lo + off));  // in [min, max]
    }
  });
  out.weighted = true;
}

/// A seeded bijection on [0, 2^bits): rounds of multiply-by-odd, add and xorshift-right,
/// each a bijection modulo 2^bits.
class Scrambler {
 public:
  Scrambler(std::uint64_t seed, int bits)
      : mask_(bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1),
        shift_((bits + 1) / 2) {
    const Stream stream(seed, kStreamScramble);
    for (int r = 0; r < kRounds; ++r) {
      mul_[r] = stream.draw(2 * r) | 1;  // odd => invertible mod 2^bits
      add_[r] = stream.draw(2 * r + 1);
    }
  }

  std::uint64_t operator()(std::uint64_t x) const {
    for (int r = 0; r < kRounds; ++r) {
      x = (x * mul_[r]) & mask_;
      x = (x + add_[r]) & mask_;
      x ^= x >> shift_;  // shift_ >= 1 and x < 2^bits, so the result stays below 2^bits
    }
    return x;
  }

 private:
  static constexpr int kRounds = 3;
  std::uint64_t mask_;
  int shift_;
  std::uint64_t mul_[kRounds];
  std::uint64_t add_[kRounds];
};

}  // namespace

EdgeList generate_kronecker(const KroneckerParams& params) {
  constexpr int kMaxScale = 40;
  if (params.scale < 1 || params.scale > kMaxScale) {
    usage_fail("kronecker: scale must be in 1..", kMaxScale, ", got ", params.scale);
  }
  if (params.edge_factor < 1) usage_fail("kronecker: edge factor must be at least 1, got 0");
  const int scale = params.scale;
  const std::uint64_t n = std::uint64_t{1} << scale;
  if (params.edge_factor > std::numeric_limits<std::uint64_t>::max() / n) {
    usage_fail("kronecker: edge factor ", params.edge_factor, " times 2^", scale,
               " vertices overflows the edge count");
  }
  const std::uint64_t m = params.edge_factor * n;

  constexpr double kA = 0.57, kB = 0.19, kC = 0.19;  // D = 0.05
  constexpr double kAB = kA + kB, kABC = kA + kB + kC;

  std::vector<Stream> levels;
  levels.reserve(scale);
  for (int l = 0; l < scale; ++l) levels.emplace_back(params.seed, static_cast<std::uint64_t>(l));
  const Scrambler scramble(params.seed, scale);

  EdgeList out;
  out.edges = allocate_edges(m, "kronecker");
  Edge* edges = out.edges.data();
  const Stream* lv = levels.data();
  parallel_blocks(m, [&](std::uint64_t b, std::uint64_t e) {
    for (std::uint64_t i = b; i < e; ++i) {
      std::uint64_t src = 0, dst = 0;
      for (int l = 0; l < scale; ++l) {
        // Quadrant by u: [0, A) -> (0,0); [A, A+B) -> (0,1); [A+B, A+B+C) -> (1,0); else (1,1).
        // Branch-free: the quadrant is unpredictable, so branches would mispredict often.
        const double u = lv[l].unit(i);
        const std::uint64_t s = u >= kAB;
        const std::uint64_t d = (u >= kA) & ((u < kAB) | (u >= kABC));
        src |= s << l;
        dst |= d << l;
      }
      edges[i] = Edge{scramble(src), scramble(dst)};
    }
  });
  add_weights(out, params.seed, params.weights, "kronecker");
  return out;  // declared stays unset: the vertex set is the ids that occur
}

EdgeList generate_uniform(const UniformParams& params) {
  if (params.vertices < 1) usage_fail("uniform: vertex count must be at least 1, got 0");
  const std::uint64_t n = params.vertices;
  const std::uint64_t m = params.edges;
  const Stream src_stream(params.seed, kStreamSrc);
  const Stream dst_stream(params.seed, kStreamDst);

  EdgeList out;
  out.edges = allocate_edges(m, "uniform");
  Edge* edges = out.edges.data();
  parallel_blocks(m, [&](std::uint64_t b, std::uint64_t e) {
    for (std::uint64_t i = b; i < e; ++i) {
      edges[i] = Edge{src_stream.below(i, n), dst_stream.below(i, n)};
    }
  });
  add_weights(out, params.seed, params.weights, "uniform");
  out.declared = VertexRange{0, n};
  return out;
}

EdgeList generate_grid(const GridParams& params) {
  if (params.rows < 1 || params.cols < 1) {
    usage_fail("grid: rows and cols must be at least 1, got ", params.rows, "x", params.cols);
  }
  const std::uint64_t rows = params.rows, cols = params.cols;
  std::uint64_t n = 0, m = 0;
  // m = rows*(cols-1) + (rows-1)*cols = 2*n - rows - cols, with 2*n - rows - cols >= 0.
  if (__builtin_mul_overflow(rows, cols, &n) || __builtin_mul_overflow(n, 2, &m)) {
    usage_fail("grid: ", rows, "x", cols, " vertices overflow 64-bit ids");
  }
  m = m - rows - cols;
  const std::uint64_t row_edges = 2 * cols - 1;  // edges starting in a row other than the last

  EdgeList out;
  out.edges = allocate_edges(m, "grid");
  Edge* edges = out.edges.data();
  // Parallel over vertex ids; vertex (r, c) starts its edges at r*row_edges + (2c or c).
  parallel_blocks(n, [&](std::uint64_t b, std::uint64_t e) {
    std::uint64_t r = b / cols, c = b % cols;
    for (std::uint64_t v = b; v < e; ++v) {
      const bool last_row = r + 1 == rows;
      std::uint64_t pos = r * row_edges + (last_row ? c : 2 * c);
      if (c + 1 < cols) edges[pos++] = Edge{v, v + 1};
      if (!last_row) edges[pos] = Edge{v, v + cols};
      if (++c == cols) {
        c = 0;
        ++r;
      }
    }
  });
  add_weights(out, params.seed, params.weights, "grid");
  out.declared = VertexRange{0, n};
  return out;
}

namespace {

constexpr std::uint64_t kStreamPlantedCommunity = 1010;
constexpr std::uint64_t kStreamPlantedSrc = 1011;
constexpr std::uint64_t kStreamPlantedDst = 1012;

/// Half of vertices x degree, rounded: the undirected edges that give that average degree.
std::uint64_t edges_for_degree(std::uint64_t vertices, double degree, const char* what) {
  if (!(degree >= 0) || !std::isfinite(degree)) {
    usage_fail("planted: --", what, " must be a non-negative number, got ", degree);
  }
  const double m = std::round(static_cast<double>(vertices) * degree / 2);
  if (m > static_cast<double>(std::vector<Edge>().max_size())) {
    usage_fail("planted: --", what, " ", degree, " gives too many edges to hold in memory");
  }
  return static_cast<std::uint64_t>(m);
}

}  // namespace

EdgeList generate_planted(const PlantedParams& params) {
  const std::uint64_t k = params.communities, s = params.size;
  std::uint64_t n = 0;
  if (k < 1 || s < 1 || __builtin_mul_overflow(k, s, &n)) {
    usage_fail("planted: need at least one community of at least one vertex, got ", k, " x ", s);
  }
  const std::uint64_t internal = edges_for_degree(n, params.internal_degree, "internal-degree");
  const std::uint64_t external = edges_for_degree(n, params.external_degree, "external-degree");
  if (internal > 0 && s < 2) usage_fail("planted: internal edges need communities of 2 or more");
  if (external > 0 && k < 2) usage_fail("planted: external edges need 2 or more communities");
  const Stream community(params.seed, kStreamPlantedCommunity);
  const Stream src(params.seed, kStreamPlantedSrc);
  const Stream dst(params.seed, kStreamPlantedDst);
  EdgeList out;
  out.edges = allocate_edges(internal + external, "planted");
  Edge* edges = out.edges.data();
  parallel_blocks(internal + external, [&](std::uint64_t b, std::uint64_t e) {
    for (std::uint64_t i = b; i < e; ++i) {
      if (i < internal) {  // two distinct members of one community
        const std::uint64_t first = community.below(i, k) * s;
        const std::uint64_t a = src.below(i, s);
        std::uint64_t c = dst.below(i, s - 1);
        if (c >= a) ++c;
        edges[i] = Edge{first + a, first + c};
      } else {  // a vertex and one outside its community
        const std::uint64_t a = src.below(i, n);
        std::uint64_t c = dst.below(i, n - s);
        if (c >= a / s * s) c += s;
        edges[i] = Edge{a, c};
      }
    }
  });
  add_weights(out, params.seed, params.weights, "planted");
  out.declared = VertexRange{0, n};
  return out;
}

}  // namespace atl
