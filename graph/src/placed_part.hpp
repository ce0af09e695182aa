// A rank's part whose arcs a load already put in their final rows (the two-pass route of
// graph_part_load.cpp, arc_placer.hpp), and the builder step that finishes it.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

#include "atoll/graph/topology.hpp"

namespace atl::detail {

/// Lids as Topology::build_part numbers them; each row unsorted, repeats and self-loops kept.
/// A weighted part's repeats of an arc are in input order within their row.
struct PlacedPart {
  std::vector<Gid> lid_to_gid;  ///< owned vertices (ascending), then ghosts by (owner, gid)
  Lid num_owned = 0;
  std::vector<GhostRange> ghost_ranges;
  std::vector<EdgeId> out_offsets{0};  ///< lid_to_gid.size() + 1 entries
  std::vector<Lid> out_targets;
  bool weighted = false;
  std::vector<double> out_weights;  ///< weighted: one per arc
};

/// Maps each row's ends with map() and splits the row stably into its owned ends, then each
/// ghost range's: lids rise with gids within those groups, so a row whose ends were in gid
/// order comes out in lid order (build_placed_part then need not sort it). `targets` holds
/// the rows laid out by part.out_offsets; `weights` (or null) moves with them.
template <typename Map>
void split_rows_by_owner(const PlacedPart& part, Lid* targets, double* weights, Map&& map) {
  // The split is done on every row (branch-free); the build sorts rows still unsorted.
  const Lid owned = part.num_owned;
  std::vector<Lid> ghost_start;  // where each ghost range after the first starts
  for (std::size_t r = 1; r < part.ghost_ranges.size(); ++r) {
    ghost_start.push_back(part.ghost_ranges[r].begin);
  }
  const std::vector<EdgeId>& off = part.out_offsets;
  const std::size_t n = off.size() - 1;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
    std::vector<Lid> ghosts;  // the row's ghost ends, in row order
    std::vector<double> ghost_weights;
    std::vector<EdgeId> at(ghost_start.size() + 2);
    for (std::size_t v = range.begin(); v < range.end(); ++v) {
      Lid* const row = targets + off[v];
      double* const row_weights = weights == nullptr ? nullptr : weights + off[v];
      const std::size_t len = off[v + 1] - off[v];
      if (ghosts.size() < len) ghosts.resize(len);
      std::size_t k = 0, g = 0;  // owned ends so far (written back at row[k] <= row[i]), ghosts
      if (row_weights == nullptr) {
        for (std::size_t i = 0; i < len; ++i) {
          const Lid w = map(row[i]);
          const bool ghost = w >= owned;
          row[k] = w;
          ghosts[g] = w;
          k += !ghost;
          g += ghost;
        }
      } else {
        if (ghost_weights.size() < len) ghost_weights.resize(len);
        for (std::size_t i = 0; i < len; ++i) {
          const Lid w = map(row[i]);
          const double x = row_weights[i];
          const bool ghost = w >= owned;
          row[k] = w;
          row_weights[k] = x;
          ghosts[g] = w;
          ghost_weights[g] = x;
          k += !ghost;
          g += ghost;
        }
      }
      if (ghost_start.empty()) {
        std::copy(ghosts.begin(), ghosts.begin() + static_cast<std::ptrdiff_t>(g), row + k);
        if (row_weights != nullptr) {
          std::copy(ghost_weights.begin(), ghost_weights.begin() + static_cast<std::ptrdiff_t>(g),
                    row_weights + k);
        }
        continue;
      }
      // Ghosts of several owners: a stable counting split by range into the row's tail.
      auto range_of = [&](Lid w) {
        return static_cast<std::size_t>(
            std::upper_bound(ghost_start.begin(), ghost_start.end(), w) - ghost_start.begin());
      };
      std::fill(at.begin(), at.end(), 0);
      for (std::size_t j = 0; j < g; ++j) ++at[range_of(ghosts[j]) + 1];
      std::partial_sum(at.begin(), at.end(), at.begin());
      for (std::size_t j = 0; j < g; ++j) {
        const EdgeId to = k + at[range_of(ghosts[j])]++;
        row[to] = ghosts[j];
        if (row_weights != nullptr) row_weights[to] = ghost_weights[j];
      }
    }
  });
}

/// The Topology build_part gives for the same arcs (not by degree): sorts each row (a weighted
/// one by target, repeats kept in row order), applies dedup (the first repeat stays), derives
/// the in-CSR. Consumes `part`. No replica lists.
Topology build_placed_part(PlacedPart&& part, const BuildOptions& options);

}  // namespace atl::detail
