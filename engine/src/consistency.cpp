#include "atoll/engine/consistency.hpp"

#include "atoll/common/error.hpp"

namespace atl {

Consistency parse_consistency(std::string_view name) {
  if (name == "vertex") return Consistency::kVertex;
  if (name == "edge") return Consistency::kEdge;
  if (name == "full") return Consistency::kFull;
  usage_fail("unknown consistency '", name, "' (valid: vertex, edge, full)");
}

std::string_view consistency_name(Consistency c) {
  switch (c) {
    case Consistency::kVertex:
      return "vertex";
    case Consistency::kEdge:
      return "edge";
    case Consistency::kFull:
      return "full";
  }
  return "?";
}

}  // namespace atl
