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

/// How a Matrix Market file's rows and columns become vertices. kAuto: a square matrix is a
/// graph's adjacency (entry i j is the edge i -> j, vertices 1..n); an m x n matrix with m != n
/// is bipartite: rows are vertices 1..m and columns m+1..m+n (entry i j is the edge i -> m+j).
/// kBipartite: always the latter (a square ratings matrix).
enum class MtxLayout { kAuto, kBipartite };

/// "auto", "snap", "gr", "mtx", "bin" -> GraphFormat; throws a usage Error otherwise.
GraphFormat parse_format_name(std::string_view name);
std::string_view format_name(GraphFormat format);

/// Guesses the format of decompressed bytes: binary magic, "%%MatrixMarket", a first
/// non-comment line starting with 'c' or 'p', else SNAP.
GraphFormat detect_format(std::string_view bytes);

}  // namespace atl
