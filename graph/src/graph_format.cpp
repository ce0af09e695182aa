#include "atoll/graph/graph_format.hpp"

#include "atoll/common/error.hpp"
#include "binary_format.hpp"

namespace atl {

GraphFormat parse_format_name(std::string_view name) {
  if (name == "auto") return GraphFormat::kAuto;
  if (name == "snap") return GraphFormat::kSnap;
  if (name == "gr") return GraphFormat::kGr;
  if (name == "mtx") return GraphFormat::kMtx;
  if (name == "bin") return GraphFormat::kBin;
  usage_fail("unknown graph format '", name, "' (valid: auto, snap, gr, mtx, bin)");
}

std::string_view format_name(GraphFormat format) {
  switch (format) {
    case GraphFormat::kAuto:
      return "auto";
    case GraphFormat::kSnap:
      return "snap";
    case GraphFormat::kGr:
      return "gr";
    case GraphFormat::kMtx:
      return "mtx";
    case GraphFormat::kBin:
      return "bin";
  }
  return "?";
}

GraphFormat detect_format(std::string_view bytes) {
  if (bytes.starts_with(std::string_view(detail::kBinaryMagic, sizeof detail::kBinaryMagic))) {
    return GraphFormat::kBin;
  }
  if (bytes.starts_with("%%MatrixMarket") || bytes.starts_with("%%matrixmarket")) {
    return GraphFormat::kMtx;
  }
  // DIMACS files begin with 'c' comment lines or the 'p' line; SNAP lines begin with digits,
  // whitespace or a '#'/'%' comment.
  std::size_t i = 0;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) {
    ++i;
  }
  if (i < bytes.size() && (bytes[i] == 'c' || bytes[i] == 'p')) return GraphFormat::kGr;
  return GraphFormat::kSnap;
}

}  // namespace atl
