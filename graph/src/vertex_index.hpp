// A graph's vertex set (ascending gids) and the map from a gid to its position in it.
#pragma once

#include <cstdint>
#include <vector>

#include "atoll/graph/ids.hpp"

namespace atl::detail {

/// Maps a gid of `vertices` (ascending, distinct) to its position: by offset when the ids are
/// contiguous, by a table when they span a small range, else by binary search. `vertices`
/// must outlive the index.
class VertexIndex {
 public:
  explicit VertexIndex(const std::vector<Gid>& vertices);

  /// Position of gid, or vertices.size() when gid is not a vertex.
  std::uint64_t find(Gid gid) const {
    const Gid x = gid - first_;
    std::uint64_t at = 0;
    switch (mode_) {
      case Mode::kContiguous:
        at = x;
        break;
      case Mode::kTable:
        at = x < table_.size() ? table_[x] : vertices_.size();
        break;
      case Mode::kSearch:
        at = search(gid);
        break;
    }
    return at < vertices_.size() && vertices_[at] == gid ? at : vertices_.size();
  }

 private:
  enum class Mode { kContiguous, kTable, kSearch };
  std::uint64_t search(Gid gid) const;

  const std::vector<Gid>& vertices_;
  Mode mode_ = Mode::kContiguous;
  Gid first_ = 0;
  std::vector<std::uint32_t> table_;
};

}  // namespace atl::detail
