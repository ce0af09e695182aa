// Layout constants of Atoll's binary edge list, version 1 (docs/formats.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "atoll/graph/edge_list.hpp"

namespace atl::detail {

inline constexpr char kBinaryMagic[8] = {'A', 'T', 'O', 'L', 'L', 'E', 'L', '1'};
inline constexpr std::uint32_t kBinaryVersion = 1;
inline constexpr std::uint32_t kBinaryFlagWeighted = 1u << 0;
inline constexpr std::uint32_t kBinaryFlagDeclared = 1u << 1;
inline constexpr std::size_t kBinaryHeaderSize = 48;
inline constexpr std::size_t kBinaryTrailerSize = 8;
inline constexpr std::size_t kBinaryHeaderCrcOffset = 40;  // crc32c of bytes [0, 40)

/// What a valid binary edge list holds: its edge count, whether weighted, its declared range.
/// Edges start at byte kBinaryHeaderSize; weights (f64) follow the edges.
struct BinaryLayout {
  std::uint64_t m = 0;
  bool weighted = false;
  std::optional<VertexRange> declared;
  std::size_t payload = 0;        ///< bytes of edges and weights
  std::uint32_t payload_crc = 0;  ///< the trailer's checksum of them
};

/// Checks a binary edge list's header, size and checksums, or throws naming `name`. release
/// (when set) is called with the byte ranges of the payload once their checksum is summed.
BinaryLayout check_binary(std::string_view bytes, std::string_view name,
                          const std::function<void(std::size_t, std::size_t)>& release);

/// check_binary without the payload's checksum (the caller sums it, e.g. a part per rank).
BinaryLayout check_binary_header(std::string_view bytes, std::string_view name);

/// crc32c of payload bytes [begin, end) of a file check_binary_header accepted, summed in
/// slices in parallel (combined with crc32c_combine); release as for check_binary.
std::uint32_t binary_payload_crc(std::string_view bytes, const BinaryLayout& layout,
                                 std::size_t begin, std::size_t end,
                                 const std::function<void(std::size_t, std::size_t)>& release);

/// Throws naming `name` when an edge lies outside `range`: the first such in `edges`, whose
/// first is edge `first_index` of the file.
void check_declared(std::span<const Edge> edges, std::uint64_t first_index,
                    const VertexRange& range, std::string_view name);

/// Edges [begin, end) (clamped to m) of a checked binary edge list, borrowed from `bytes`
/// (which must be 8-byte aligned, as a mapping is) with their weights and declared range,
/// which they are checked against.
EdgeView binary_slice(std::string_view bytes, const BinaryLayout& layout, std::string_view name,
                      std::uint64_t begin, std::uint64_t end);

}  // namespace atl::detail
