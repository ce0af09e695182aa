// Writing edge lists: SNAP text (formatted in parallel blocks) and the binary edge list of
// docs/formats.md. Output goes to "<path>.tmp.<pid>", is fsynced and renamed over path.
#include "atoll/graph/write_graph.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/temp_file.hpp"
#include "binary_format.hpp"

namespace atl {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the binary edge list is written straight from memory and must be little-endian");
static_assert(sizeof(Edge) == 16 && std::is_trivially_copyable_v<Edge> &&
              std::is_standard_layout_v<Edge>);
static_assert(sizeof(double) == 8);

constexpr std::size_t kSnapBlockEdges = std::size_t{1} << 20;  // edges per formatting block
constexpr std::size_t kSnapBlocksPerWave = 8;                  // blocks held in memory at once
constexpr std::size_t kBinChunkBytes = std::size_t{1} << 20;   // crc + write granularity

void check_invariants(const EdgeList& list) {
  // weighted: one weight per edge; unweighted: no weights (an empty list may be either).
  if (list.weights.size() != (list.weighted ? list.size() : 0)) {
    fail("internal error: edge list has ", list.size(), " edges, ", list.weights.size(),
         " weights and weighted=", list.weighted);
  }
}

// ---- SNAP text -------------------------------------------------------------------------------

// Line budget: two 20-digit ids, a weight (at most 24 chars; 32 reserved), 2 tabs, a newline.
constexpr std::size_t kMaxLineChars = 20 + 1 + 20 + 1 + 32 + 1;

char* put_u64(char* p, std::uint64_t v) {
  return std::to_chars(p, p + 20, v).ptr;
}

/// Integers of magnitude < 2^53 print without a fraction; others as shortest round-trip.
char* put_weight(char* p, double w) {
  constexpr double kExactLimit = 9007199254740992.0;  // 2^53
  if (std::fabs(w) < kExactLimit && w == std::trunc(w)) {
    return std::to_chars(p, p + 32, static_cast<std::int64_t>(w)).ptr;
  }
  return std::to_chars(p, p + 32, w).ptr;
}

/// Lines "src<TAB>dst[<TAB>weight]" of edges [begin, end); column_offset is subtracted from
/// every dst (a bipartite Matrix Market file numbers its columns from 1).
std::string format_snap_block(const EdgeList& list, std::size_t begin, std::size_t end,
                              std::uint64_t column_offset) {
  std::string out;
  out.resize((end - begin) * kMaxLineChars);
  char* p = out.data();
  const Edge* edges = list.edges.data();
  if (list.weighted) {
    const double* weights = list.weights.data();
    for (std::size_t i = begin; i < end; ++i) {
      p = put_u64(p, edges[i].src);
      *p++ = '\t';
      p = put_u64(p, edges[i].dst - column_offset);
      *p++ = '\t';
      p = put_weight(p, weights[i]);
      *p++ = '\n';
    }
  } else {
    for (std::size_t i = begin; i < end; ++i) {
      p = put_u64(p, edges[i].src);
      *p++ = '\t';
      p = put_u64(p, edges[i].dst - column_offset);
      *p++ = '\n';
    }
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
  return out;
}

/// The edge lines, formatted in parallel blocks and written in order.
void write_lines(const EdgeList& list, TempFile& file, std::uint64_t column_offset) {
  // Waves of blocks: each block formatted by one task, then all written in order.
  const std::size_t m = list.size();
  const std::size_t num_blocks = (m + kSnapBlockEdges - 1) / kSnapBlockEdges;
  std::vector<std::string> blocks(std::min(num_blocks, kSnapBlocksPerWave));
  for (std::size_t first = 0; first < num_blocks; first += kSnapBlocksPerWave) {
    const std::size_t count = std::min(kSnapBlocksPerWave, num_blocks - first);
    tbb::parallel_for(std::size_t{0}, count, [&](std::size_t k) {
      const std::size_t begin = (first + k) * kSnapBlockEdges;
      blocks[k] =
          format_snap_block(list, begin, std::min(m, begin + kSnapBlockEdges), column_offset);
    });
    for (std::size_t k = 0; k < count; ++k) file.write(blocks[k]);
  }
}

void write_snap(const EdgeList& list, TempFile& file) {
  std::string header = str_cat("# atoll edge list: ", list.size(), " edges",
                               list.weighted ? ", weighted" : "", "\n");
  if (list.declared) {
    const VertexRange& r = *list.declared;
    if (r.count == 0) {
      header += "# vertices: none\n";
    } else {
      header += str_cat("# vertices: ", r.first, "..", r.first + (r.count - 1), "\n");
    }
  }
  file.write(header);
  write_lines(list, file, 0);
}

// ---- Matrix Market --------------------------------------------------------------------------

/// A coordinate matrix: entry (src, dst), or (row, column) of a bipartite list; vertex ids
/// must be 1..n (Matrix Market numbers rows and columns from 1).
void write_mtx(const EdgeList& list, TempFile& file, const std::string& path) {
  std::uint64_t lowest = ~std::uint64_t{0}, highest = 0;
  for (const Edge& e : list.edges) {
    lowest = std::min({lowest, e.src, e.dst});
    highest = std::max({highest, e.src, e.dst});
  }
  if (list.declared && list.declared->count > 0) {
    lowest = std::min(lowest, list.declared->first);
    highest = std::max(highest, list.declared->first + (list.declared->count - 1));
  }
  if (lowest == 0) {
    fail(path, ": Matrix Market numbers vertices from 1 and this graph has vertex 0 (write an ",
         "edge list, .el or .bin, instead)");
  }
  std::uint64_t rows = highest, columns = highest, offset = 0;
  if (list.bipartite_rows > 0) {
    rows = list.bipartite_rows;
    columns = highest > rows ? highest - rows : 0;
    offset = rows;
    for (const Edge& e : list.edges) {
      if (e.src > rows || e.dst <= rows) {
        fail(path, ": edge ", e.src, " -> ", e.dst, " does not go from a row (1..", rows,
             ") to a column of the bipartite graph");
      }
    }
  }
  file.write(str_cat("%%MatrixMarket matrix coordinate ", list.weighted ? "real" : "pattern",
                     " general\n% written by atoll\n", rows, " ", columns, " ", list.size(), "\n"));
  write_lines(list, file, offset);
}

// ---- binary ----------------------------------------------------------------------------------

template <typename T>
void put_le(unsigned char* dst, T value) {
  std::memcpy(dst, &value, sizeof(T));  // native order is little-endian (asserted above)
}

/// Writes size bytes at data in cache-sized chunks, extending crc over each as it goes.
void write_with_crc(TempFile& file, const void* data, std::size_t size, std::uint32_t& crc) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  while (size > 0) {
    const std::size_t chunk = std::min(size, kBinChunkBytes);
    crc = crc32c(crc, p, chunk);
    file.write(p, chunk);
    p += chunk;
    size -= chunk;
  }
}

void write_bin(const EdgeList& list, TempFile& file) {
  unsigned char header[detail::kBinaryHeaderSize] = {};
  std::uint32_t flags = 0;
  if (list.weighted) flags |= detail::kBinaryFlagWeighted;
  if (list.declared) flags |= detail::kBinaryFlagDeclared;
  std::memcpy(header, detail::kBinaryMagic, sizeof(detail::kBinaryMagic));
  put_le<std::uint32_t>(header + 8, detail::kBinaryVersion);
  put_le<std::uint32_t>(header + 12, flags);
  put_le<std::uint64_t>(header + 16, list.size());
  put_le<std::uint64_t>(header + 24, list.declared ? list.declared->first : 0);
  put_le<std::uint64_t>(header + 32, list.declared ? list.declared->count : 0);
  put_le<std::uint32_t>(header + detail::kBinaryHeaderCrcOffset,
                        crc32c(0, header, detail::kBinaryHeaderCrcOffset));
  put_le<std::uint32_t>(header + 44, 0);  // reserved
  file.write(header, sizeof(header));

  std::uint32_t crc = 0;
  write_with_crc(file, list.edges.data(), list.edges.size() * sizeof(Edge), crc);
  if (list.weighted) {
    write_with_crc(file, list.weights.data(), list.weights.size() * sizeof(double), crc);
  }
  unsigned char trailer[detail::kBinaryTrailerSize] = {};
  put_le<std::uint32_t>(trailer, crc);
  put_le<std::uint32_t>(trailer + 4, 0);  // reserved
  file.write(trailer, sizeof(trailer));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

GraphFormat output_format(const std::string& path, GraphFormat format) {
  for (const char* suffix : {".gz", ".zst", ".zstd", ".bz2", ".xz"}) {
    if (ends_with(path, suffix)) {
      usage_fail(path, ": atoll writes no compressed files; write '",
                 path.substr(0, path.size() - std::strlen(suffix)), "' and compress it (",
                 suffix == std::string_view(".gz") ? "gzip" : "zstd",
                 "); atoll reads zstd and gzip files as they are");
    }
  }
  if (format == GraphFormat::kAuto) {
    if (ends_with(path, ".bin")) return GraphFormat::kBin;
    if (ends_with(path, ".mtx")) return GraphFormat::kMtx;
    return GraphFormat::kSnap;
  }
  if (format == GraphFormat::kGr) {
    usage_fail("cannot write format gr; writable formats: snap, bin, mtx");
  }
  return format;
}

void write_edge_list(const EdgeList& edges, const std::string& path, GraphFormat format) {
  format = output_format(path, format);
  check_invariants(edges);
  TempFile file(path);
  if (format == GraphFormat::kBin) {
    write_bin(edges, file);
  } else if (format == GraphFormat::kMtx) {
    write_mtx(edges, file, path);
  } else {
    write_snap(edges, file);
  }
  file.commit();
}

}  // namespace atl
