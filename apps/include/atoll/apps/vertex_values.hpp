// What an algorithm returns: one value per owned vertex (in gid order) and the run's stats.
#pragma once

#include <span>
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

/// K values per vertex (beliefs, scores, latent factors): row i is values[i*width, (i+1)*width).
struct VertexVectors {
  std::vector<Gid> gids;  ///< ascending
  std::size_t width = 0;
  std::vector<double> values;
  RunStats stats;

  std::span<const double> row(std::size_t i) const { return {values.data() + i * width, width}; }
};

/// Writes "gid<TAB>value" lines ordered by gid (doubles in shortest round-trip form, infinity
/// as "inf"); writes to a temporary name and renames.
void write_vertex_values(const std::string& path, const VertexValues<double>& result);
void write_vertex_values(const std::string& path, const VertexValues<std::uint64_t>& result);
/// "gid<TAB>v1 v2 ... vK" lines (single spaces, shortest round-trip doubles).
void write_vertex_values(const std::string& path, const VertexVectors& result);

}  // namespace atl
