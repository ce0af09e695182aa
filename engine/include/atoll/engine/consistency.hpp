// Consistency models (what an update may read and write), enforced by the engines.
#pragma once

#include <string_view>

namespace atl {

enum class Consistency {
  kVertex,  ///< write the vertex; read adjacent edges and vertices (as of the step's start)
  kEdge,    ///< write the vertex and its adjacent edges; read adjacent vertices, fresh
  kFull,    ///< write the whole scope; scopes of concurrent updates never overlap
};

/// "vertex" | "edge" | "full" -> Consistency; throws a usage Error otherwise.
Consistency parse_consistency(std::string_view name);
std::string_view consistency_name(Consistency c);

}  // namespace atl
