#include "atoll/graph/read_graph.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <bit>
#include <cstring>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/graph/input_file.hpp"
#include "binary_format.hpp"

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

EdgeList parse_binary(std::string_view bytes, std::string_view name) {
  using namespace detail;
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
  if (crc32c(0, bytes.data() + kBinaryHeaderSize, payload) !=
      load<std::uint32_t>(bytes, kBinaryHeaderSize + payload)) {
    fail(name, ": binary edge list payload checksum mismatch (corrupt file)");
  }

  EdgeList list;
  list.weighted = weighted;
  list.edges.resize(m);
  // memcpy needs valid pointers even for 0 bytes, and an empty vector's data() may be null.
  if (m > 0) std::memcpy(list.edges.data(), bytes.data() + kBinaryHeaderSize, m * sizeof(Edge));
  if (weighted && m > 0) {
    list.weights.resize(m);
    std::memcpy(list.weights.data(), bytes.data() + kBinaryHeaderSize + m * sizeof(Edge),
                m * sizeof(double));
  }
  if (declared) {
    list.declared = VertexRange{first, count};
    // First edge (in file order) outside the declared range, or m.
    std::size_t bad = tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, m), m,
        [&](const tbb::blocked_range<std::size_t>& r, std::size_t found) {
          for (std::size_t i = r.begin(); i < r.end() && i < found; ++i) {
            const Edge& e = list.edges[i];
            if (e.src - first >= count || e.dst - first >= count) return i;
          }
          return found;
        },
        [](std::size_t a, std::size_t b) { return std::min(a, b); });
    if (bad != m) {
      fail(name, ": edge ", bad, " (", list.edges[bad].src, " -> ", list.edges[bad].dst,
           ") lies outside the declared vertex range ", first, "..", first + count - 1);
    }
  }
  static_assert(sizeof(Edge) == 16);
  return list;
}

EdgeList parse_edge_list(std::string_view bytes, GraphFormat format, std::string_view name) {
  if (format == GraphFormat::kAuto) format = detect_format(bytes);
  switch (format) {
    case GraphFormat::kSnap:
      return parse_snap(bytes, name);
    case GraphFormat::kGr:
      return parse_gr(bytes, name);
    case GraphFormat::kMtx:
      return parse_mtx(bytes, name);
    case GraphFormat::kBin:
      return parse_binary(bytes, name);
    case GraphFormat::kAuto:
      break;
  }
  fail(name, ": could not determine the graph format");
}

EdgeList read_edge_list(const std::string& path, GraphFormat format) {
  InputFile file = InputFile::open(path);
  return parse_edge_list(file.bytes(), format, path);
}

}  // namespace atl
