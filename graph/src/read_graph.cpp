#include "atoll/graph/read_graph.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <vector>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/input_file.hpp"
#include "binary_format.hpp"
#include "snap_lines.hpp"

namespace atl {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the binary edge list is little-endian; add byte swapping for this target");

template <typename T>
T load(std::string_view bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

}  // namespace

namespace {

/// Validates a binary edge list and copies its edges [begin, end) (clamped to m).
EdgeList parse_binary_range(std::string_view bytes, std::string_view name, std::uint64_t begin,
                            std::uint64_t end);

/// Keeps edges [m * part / parts, m * (part + 1) / parts) of list.
void keep_slice(EdgeList& list, int part, int parts) {
  const std::size_t m = list.edges.size();
  const std::size_t lo = m * static_cast<std::size_t>(part) / static_cast<std::size_t>(parts);
  const std::size_t hi = m * static_cast<std::size_t>(part + 1) / static_cast<std::size_t>(parts);
  list.edges = std::vector<Edge>(list.edges.begin() + lo, list.edges.begin() + hi);
  if (list.weighted) {
    list.weights = std::vector<double>(list.weights.begin() + lo, list.weights.begin() + hi);
  }
}

/// Start of the line-aligned byte range of part p: the byte after the first '\n' at or after
/// offset size * p / parts - 1 (0 for part 0, size when past the end).
std::size_t part_start(std::string_view text, int part, int parts) {
  if (part == 0) return 0;
  if (part >= parts) return text.size();
  std::size_t at =
      static_cast<std::size_t>(static_cast<unsigned __int128>(text.size()) *
                               static_cast<unsigned>(part) / static_cast<unsigned>(parts));
  if (at == 0) return 0;
  const void* nl = std::memchr(text.data() + at - 1, '\n', text.size() - (at - 1));
  return nl == nullptr ? text.size() : static_cast<const char*>(nl) - text.data() + 1;
}

}  // namespace

EdgeListPart parse_edge_list_part(std::string_view bytes, GraphFormat format, std::string_view name,
                                  int part, int parts, MtxLayout layout) {
  if (parts < 1 || part < 0 || part >= parts) fail("part ", part, " of ", parts, "?");
  if (format == GraphFormat::kAuto) format = detect_format(bytes);
  EdgeListPart out;
  switch (format) {
    case GraphFormat::kSnap: {
      const std::size_t lo = part_start(bytes, part, parts);
      const std::size_t hi = part_start(bytes, part + 1, parts);
      const std::uint64_t first_line =
          1 + static_cast<std::uint64_t>(std::count(bytes.begin(), bytes.begin() + lo, '\n'));
      detail::SnapLines lines =
          detail::parse_snap_lines(bytes.substr(lo, hi - lo), name, first_line);
      out.list = std::move(lines.list);
      out.first_weighted_line = lines.first_weighted;
      out.first_unweighted_line = lines.first_unweighted;
      return out;
    }
    case GraphFormat::kBin: {
      const std::uint64_t m = detail::check_binary(bytes, name, {}).m;
      out.list = parse_binary_range(bytes, name, m * static_cast<std::uint64_t>(part) / parts,
                                    m * static_cast<std::uint64_t>(part + 1) / parts);
      break;
    }
    case GraphFormat::kGr:
    case GraphFormat::kMtx:
    case GraphFormat::kAuto:
      out.list = parse_edge_list(bytes, format, name, layout);
      keep_slice(out.list, part, parts);
      break;
  }
  (out.list.weighted ? out.first_weighted_line : out.first_unweighted_line) = 0;
  return out;
}

bool check_part_weights(std::uint64_t first_weighted_line, std::uint64_t first_unweighted_line,
                        std::string_view name) {
  detail::check_snap_weights(first_weighted_line, first_unweighted_line, name);
  return first_weighted_line != detail::kNone &&
         (first_unweighted_line == detail::kNone || first_weighted_line < first_unweighted_line);
}

EdgeList parse_binary(std::string_view bytes, std::string_view name) {
  return parse_binary_range(bytes, name, 0, ~std::uint64_t{0});
}

namespace detail {

BinaryLayout check_binary_header(std::string_view bytes, std::string_view name) {
  if (bytes.size() < sizeof kBinaryMagic ||
      std::memcmp(bytes.data(), kBinaryMagic, sizeof kBinaryMagic) != 0) {
    fail(name, ": not an Atoll binary edge list (bad magic; expected 'ATOLLEL1')");
  }
  if (bytes.size() < kBinaryHeaderSize) {
    fail(name, ": truncated binary edge list: ", bytes.size(), " bytes, the header alone is ",
         kBinaryHeaderSize);
  }
  auto version = load<std::uint32_t>(bytes, 8);
  if (version > kBinaryVersion) {
    fail(name, ": binary edge list version ", version, " is newer than this build reads (",
         kBinaryVersion, ")");
  }
  if (version != kBinaryVersion) fail(name, ": invalid binary edge list version ", version);
  if (crc32c(0, bytes.data(), kBinaryHeaderCrcOffset) !=
      load<std::uint32_t>(bytes, kBinaryHeaderCrcOffset)) {
    fail(name, ": binary edge list header checksum mismatch (corrupt file)");
  }
  auto flags = load<std::uint32_t>(bytes, 12);
  if ((flags & ~(kBinaryFlagWeighted | kBinaryFlagDeclared)) != 0) {
    fail(name, ": binary edge list has unknown flags 0x", std::hex, flags);
  }
  auto m = load<std::uint64_t>(bytes, 16);
  auto first = load<std::uint64_t>(bytes, 24);
  auto count = load<std::uint64_t>(bytes, 32);
  bool weighted = (flags & kBinaryFlagWeighted) != 0;
  bool declared = (flags & kBinaryFlagDeclared) != 0;
  if (!declared && (first != 0 || count != 0)) {
    fail(name, ": binary edge list has a vertex range but no flag for it (corrupt header)");
  }
  if (declared && count != 0 && first + (count - 1) < first) {
    fail(name, ": binary edge list vertex range overflows 64 bits");
  }
  std::uint64_t per_edge = weighted ? 24 : 16;
  if (m > (bytes.size() - kBinaryHeaderSize) / per_edge) {
    fail(name, ": truncated binary edge list: header declares ", m, " edges, file has ",
         bytes.size(), " bytes");
  }
  std::size_t payload = m * per_edge;
  std::size_t expected = kBinaryHeaderSize + payload + kBinaryTrailerSize;
  if (bytes.size() < expected) {
    fail(name, ": truncated binary edge list: expected ", expected, " bytes, got ", bytes.size());
  }
  if (bytes.size() > expected) {
    fail(name, ": binary edge list has ", bytes.size() - expected, " unexpected trailing bytes");
  }
  BinaryLayout layout;
  layout.m = m;
  layout.weighted = weighted;
  if (declared) layout.declared = VertexRange{first, count};
  layout.payload = payload;
  layout.payload_crc = load<std::uint32_t>(bytes, kBinaryHeaderSize + payload);
  return layout;
}

std::uint32_t binary_payload_crc(std::string_view bytes, const BinaryLayout& layout,
                                 std::size_t begin, std::size_t end,
                                 const std::function<void(std::size_t, std::size_t)>& release) {
  end = std::min(end, layout.payload);
  if (begin >= end) return 0;
  // Slices of 16 MiB, summed in parallel rounds of a few (released once summed), then
  // chained in order with crc32c_combine.
  constexpr std::size_t kSlice = std::size_t{16} << 20;
  const std::size_t slices = (end - begin + kSlice - 1) / kSlice;
  const std::size_t per_round =
      4 * static_cast<std::size_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
  std::vector<std::uint32_t> part(per_round);
  std::uint32_t crc = 0;
  for (std::size_t s0 = 0; s0 < slices; s0 += per_round) {
    const std::size_t s1 = std::min(slices, s0 + per_round);
    tbb::parallel_for(s0, s1, [&](std::size_t s) {
      const std::size_t at = begin + s * kSlice;
      const std::size_t len = std::min(kSlice, end - at);
      part[s - s0] = crc32c(0, bytes.data() + kBinaryHeaderSize + at, len);
      if (release) release(kBinaryHeaderSize + at, len);
    });
    for (std::size_t s = s0; s < s1; ++s) {
      crc = crc32c_combine(crc, part[s - s0], std::min(kSlice, end - (begin + s * kSlice)));
    }
  }
  return crc;
}

BinaryLayout check_binary(std::string_view bytes, std::string_view name,
                          const std::function<void(std::size_t, std::size_t)>& release) {
  const BinaryLayout layout = check_binary_header(bytes, name);
  if (binary_payload_crc(bytes, layout, 0, layout.payload, release) != layout.payload_crc) {
    fail(name, ": binary edge list payload checksum mismatch (corrupt file)");
  }
  return layout;
}

void check_declared(std::span<const Edge> edges, std::uint64_t first_index,
                    const VertexRange& range, std::string_view name) {
  const std::size_t k = edges.size();
  // First edge (in file order) outside the range, or k.
  const std::size_t bad = tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, k), k,
      [&](const tbb::blocked_range<std::size_t>& r, std::size_t found) {
        for (std::size_t i = r.begin(); i < r.end() && i < found; ++i) {
          const Edge& e = edges[i];
          if (e.src - range.first >= range.count || e.dst - range.first >= range.count) return i;
        }
        return found;
      },
      [](std::size_t a, std::size_t b) { return std::min(a, b); });
  if (bad != k) {
    fail(name, ": edge ", first_index + bad, " (", edges[bad].src, " -> ", edges[bad].dst,
         ") lies outside the declared vertex range ", range.first, "..",
         range.first + range.count - 1);
  }
}

EdgeView binary_slice(std::string_view bytes, const BinaryLayout& layout, std::string_view name,
                      std::uint64_t begin, std::uint64_t end) {
  static_assert(sizeof(Edge) == 16 && alignof(Edge) <= 8 && kBinaryHeaderSize % 8 == 0);
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % 8 != 0) {
    fail(name, ": binary edge list is not 8-byte aligned in memory");
  }
  const std::uint64_t m = layout.m;
  const std::uint64_t lo = std::min(begin, m);
  const std::uint64_t hi = std::max(lo, std::min(end, m));
  const std::size_t k = hi - lo;
  const auto* edges = reinterpret_cast<const Edge*>(bytes.data() + kBinaryHeaderSize);
  EdgeView view;
  view.weighted = layout.weighted;
  view.declared = layout.declared;
  view.edges = {edges + lo, k};
  if (layout.weighted) view.weights = {reinterpret_cast<const double*>(edges + m) + lo, k};
  if (layout.declared) check_declared(view.edges, lo, *layout.declared, name);
  return view;
}

}  // namespace detail

namespace {

EdgeList parse_binary_range(std::string_view bytes, std::string_view name, std::uint64_t begin,
                            std::uint64_t end) {
  using namespace detail;
  const BinaryLayout layout = check_binary(bytes, name, {});
  const std::uint64_t m = layout.m;
  const bool weighted = layout.weighted;
  const bool declared = layout.declared.has_value();
  const std::uint64_t first = declared ? layout.declared->first : 0;
  const std::uint64_t count = declared ? layout.declared->count : 0;

  // The slice [lo, hi) of the (validated) edges.
  const std::uint64_t lo = std::min(begin, m);
  const std::uint64_t hi = std::max(lo, std::min(end, m));
  const std::size_t k = hi - lo;
  EdgeList list;
  list.weighted = weighted;
  list.edges.resize(k);
  // memcpy needs valid pointers even for 0 bytes, and an empty vector's data() may be null.
  if (k > 0) {
    std::memcpy(list.edges.data(), bytes.data() + kBinaryHeaderSize + lo * sizeof(Edge),
                k * sizeof(Edge));
  }
  if (weighted && k > 0) {
    list.weights.resize(k);
    std::memcpy(list.weights.data(),
                bytes.data() + kBinaryHeaderSize + m * sizeof(Edge) + lo * sizeof(double),
                k * sizeof(double));
  }
  if (declared) {
    list.declared = VertexRange{first, count};
    check_declared(list.edges, lo, *list.declared, name);
  }
  static_assert(sizeof(Edge) == 16);
  return list;
}

}  // namespace

EdgeList parse_edge_list(std::string_view bytes, GraphFormat format, std::string_view name,
                         MtxLayout layout) {
  if (format == GraphFormat::kAuto) format = detect_format(bytes);
  switch (format) {
    case GraphFormat::kSnap:
      return parse_snap(bytes, name);
    case GraphFormat::kGr:
      return parse_gr(bytes, name);
    case GraphFormat::kMtx:
      return parse_mtx(bytes, name, layout);
    case GraphFormat::kBin:
      return parse_binary(bytes, name);
    case GraphFormat::kAuto:
      break;
  }
  fail(name, ": could not determine the graph format");
}

EdgeList read_edge_list(const std::string& path, GraphFormat format, MtxLayout layout) {
  if (is_atom_directory(path)) {
    if (format != GraphFormat::kAuto) {
      usage_fail(path, ": is an atom directory; --format ", format_name(format),
                 " applies to a graph file");
    }
    return read_atom_graph(path);
  }
  InputFile file = InputFile::open(path);
  return parse_edge_list(file.bytes(), format, path, layout);
}

}  // namespace atl
