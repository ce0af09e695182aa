// The transpose of a CSR by counting: for every column, the rows holding an arc to it, in
// ascending row order. Used for the in-CSR and the degree relabelling.
//
// The rows are cut into chunks of about equal arcs; each chunk counts its arcs per column with
// counters of its own, the counts become column-major positions (all of column 0 from chunk 0,
// then chunk 1, ..., then column 1, ...), and each chunk writes its rows in order. So a column's
// rows come out ascending, a row repeated once per arc in row order, whatever the thread count.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "atoll/graph/ids.hpp"

namespace atl::detail {

/// Rows 0 .. row_offsets.size() - 2, row r with row_offsets[r + 1] - row_offsets[r] arcs;
/// `for_each_arc(r, visit)` calls visit(column) for each arc of row r (columns < `columns`).
/// Sets column_offsets (columns + 1 entries, from 0) and writes each column's rows to
/// rows_out[column_offsets[c] ...] (rows_out holds as many entries as the rows have arcs).
template <typename ForEachArc>
void transpose_by_counting(std::span<const EdgeId> row_offsets, std::size_t columns,
                           ForEachArc&& for_each_arc, std::vector<EdgeId>& column_offsets,
                           Lid* rows_out) {
  const std::size_t rows = row_offsets.size() - 1;
  const EdgeId first_arc = row_offsets.front();
  const std::size_t arcs = row_offsets.back() - first_arc;
  column_offsets.assign(columns + 1, 0);
  if (arcs == 0) return;
  // So few chunks that their counters take at most about 2 bytes an arc.
  const auto threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  const std::size_t chunks = std::clamp<std::size_t>(arcs / (4 * columns + 1), 1, 2 * threads);
  std::vector<std::size_t> row_at(chunks + 1, rows);  // chunk c: rows row_at[c] .. row_at[c+1]
  for (std::size_t c = 0; c < chunks; ++c) {
    row_at[c] =
        static_cast<std::size_t>(std::lower_bound(row_offsets.begin(), row_offsets.end() - 1,
                                                  first_arc + arcs / chunks * c) -
                                 row_offsets.begin());
  }
  std::vector<EdgeId> cursor(chunks * columns, 0);
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    EdgeId* const count = cursor.data() + c * columns;
    for (std::size_t r = row_at[c]; r < row_at[c + 1]; ++r) {
      for_each_arc(r, [count](Lid column) { ++count[column]; });
    }
  });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, columns), [&](const auto& range) {
    for (std::size_t x = range.begin(); x < range.end(); ++x) {
      for (std::size_t c = 0; c < chunks; ++c) column_offsets[x + 1] += cursor[c * columns + x];
    }
  });
  for (std::size_t x = 0; x < columns; ++x) column_offsets[x + 1] += column_offsets[x];
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, columns), [&](const auto& range) {
    for (std::size_t x = range.begin(); x < range.end(); ++x) {
      EdgeId next = column_offsets[x];
      for (std::size_t c = 0; c < chunks; ++c) {
        const EdgeId count = cursor[c * columns + x];
        cursor[c * columns + x] = next;
        next += count;
      }
    }
  });
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    EdgeId* const next = cursor.data() + c * columns;
    for (std::size_t r = row_at[c]; r < row_at[c + 1]; ++r) {
      for_each_arc(r, [next, rows_out, row = static_cast<Lid>(r)](Lid column) {
        rows_out[next[column]++] = row;
      });
    }
  });
}

}  // namespace atl::detail
