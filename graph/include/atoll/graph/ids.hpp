// Vertex and edge identifiers: 64-bit global ids as in the input, dense 32-bit local ids
// inside a rank, 64-bit edge ids (positions in the out-CSR).
#pragma once

#include <cstdint>
#include <limits>

namespace atl {

using Gid = std::uint64_t;     ///< global vertex id, as written in the input
using Lid = std::uint32_t;     ///< dense local vertex id inside one rank
using EdgeId = std::uint64_t;  ///< an edge's position in its rank's out-CSR

inline constexpr Lid kInvalidLid = std::numeric_limits<Lid>::max();

}  // namespace atl
