// Graph file formats and their detection from content.
#pragma once

#include <string>
#include <string_view>

namespace atl {

enum class GraphFormat {
  kAuto,  ///< detect from the (decompressed) content
  kSnap,  ///< SNAP-style text edge list: "src dst [weight]" lines, '#'/'%' comments
  kGr,    ///< DIMACS shortest-path .gr: "p sp N M", "a U V W", 'c' comments
  kMtx,   ///< Matrix Market coordinate (pattern|integer|real, general|symmetric)
  kBin,   ///< Atoll's binary edge list (docs/formats.md)
};

/// "auto", "snap", "gr", "mtx", "bin" -> GraphFormat; throws a usage Error otherwise.
GraphFormat parse_format_name(std::string_view name);
std::string_view format_name(GraphFormat format);

/// Guesses the format of decompressed bytes: binary magic, "%%MatrixMarket", a first
/// non-comment line starting with 'c' or 'p', else SNAP.
GraphFormat detect_format(std::string_view bytes);

}  // namespace atl
