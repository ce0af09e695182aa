// What an algorithm returns: one value per owned vertex (in gid order) and the run's stats.
#pragma once

#include <string>
#include <vector>

#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

template <typename T>
struct VertexValues {
  std::vector<Gid> gids;  ///< ascending
  std::vector<T> values;  ///< values[i] belongs to gids[i]
  RunStats stats;
};

/// Writes "gid<TAB>value" lines ordered by gid (doubles in shortest round-trip form, infinity
/// as "inf"); writes to a temporary name and renames.
void write_vertex_values(const std::string& path, const VertexValues<double>& result);
void write_vertex_values(const std::string& path, const VertexValues<std::uint64_t>& result);

}  // namespace atl
