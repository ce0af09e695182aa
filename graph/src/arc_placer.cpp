// The two-pass route's arc slots (arc_placer.hpp).
#include "arc_placer.hpp"

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "atoll/common/error.hpp"

namespace atl::detail {

bool ArcPlacer::fits(Gid lo, Gid hi, std::uint64_t edges, int ranks) {
  if (lo > hi || hi - lo >= (Gid{1} << 32) - 2 || edges >= (std::uint64_t{1} << 32)) return false;
  if (ranks < 1 || ranks > (1 << 15)) return false;
  const std::uint64_t span = hi - lo + 1;  // < 2^32, ranks^2 <= 2^30: no overflow below
  const auto r = static_cast<std::uint64_t>(ranks);
  return r * r * span <= 2 * edges + (std::uint64_t{1} << 20);
}

ArcPlacer::ArcPlacer(Gid lo, Gid hi, int rank, int ranks, bool symmetrize, bool weighted,
                     std::function<int(Gid)> owner_of)
    : lo_(lo),
      span_(static_cast<std::size_t>(hi - lo) + 1),
      rank_(rank),
      ranks_(ranks),
      symmetrize_(symmetrize),
      weighted_(weighted),
      shared_(std::min<std::size_t>(
                  static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()),
                  tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism)) >
              1),
      owner_of_(std::move(owner_of)),
      counts_(static_cast<std::size_t>(ranks), std::vector<std::uint32_t>(span_, 0)) {}

std::vector<std::vector<std::byte>> ArcPlacer::announce() {
  std::vector<std::vector<std::byte>> out(counts_.size());
  for (std::size_t r = 0; r < counts_.size(); ++r) {
    if (static_cast<int>(r) == rank_) continue;
    out[r].resize(span_ * sizeof(std::uint32_t));
    std::memcpy(out[r].data(), counts_[r].data(), out[r].size());
    std::vector<std::uint32_t>().swap(counts_[r]);
  }
  return out;
}

void ArcPlacer::receive(std::vector<std::vector<std::byte>> heard,
                        std::span<const std::uint64_t> edges) {
  const std::size_t nr = counts_.size();
  if (heard.size() != nr || edges.size() != nr) {
    fail("arc counts from ", heard.size(), " ranks, not ", nr);
  }
  if (weighted_) {  // the records' indexes (and R + index for reverse arcs) must fit 32 bits
    std::uint64_t records = 0;
    for (const std::uint64_t n : edges) records += n;
    if (records >= (std::uint64_t{1} << (symmetrize_ ? 31 : 32))) {
      fail("rank ", rank_, " receives ", records, " weighted records, too many for two passes");
    }
    reverse_base_ = static_cast<std::uint32_t>(records);
  }
  for (std::size_t s = 0; s < nr; ++s) {
    if (static_cast<int>(s) == rank_) continue;
    if (heard[s].size() != span_ * sizeof(std::uint32_t)) {
      fail("rank ", s, " sent rank ", rank_, " ", heard[s].size(),
           " bytes of arc counts, not 4 for each of the ", span_, " ids ", lo_, "..",
           lo_ + span_ - 1);
    }
    counts_[s].resize(span_);
    std::memcpy(counts_[s].data(), heard[s].data(), heard[s].size());
    std::vector<std::byte>().swap(heard[s]);
    std::uint64_t arcs = 0;  // under 2^32 counts of under 2^32: no overflow
    for (const std::uint32_t n : counts_[s]) arcs += n;
    const std::uint64_t most = symmetrize_ ? 2 * edges[s] : edges[s];
    if (arcs < edges[s] || arcs > most) {
      fail("rank ", s, " announced ", arcs, " arcs for rank ", rank_, " in ", edges[s], " edges (",
           symmetrize_ ? "between one and two arcs" : "one arc", " an edge)");
    }
  }
  // Rows in lid order: this rank's vertices by gid, then the other ranks' in rank order, each
  // by gid (vertices that turn out absent have empty rows, so they take no room).
  cursor_.assign(span_, 0);
  std::vector<EdgeId> per_owner(nr, 0);
  fill_owners();
  auto owner = [&](std::size_t x) { return static_cast<std::size_t>(owner_[x]); };
  for (std::size_t x = 0; x < span_; ++x) {
    EdgeId row = 0;
    for (std::size_t s = 0; s < nr; ++s) row += counts_[s][x];
    cursor_[x] = row;  // the row's length until the second pass below
    per_owner[owner(x)] += row;
  }
  // per_owner[r] becomes where rank r's vertices' rows start: this rank's first.
  EdgeId total = 0;
  auto start = [&](std::size_t r) {
    const EdgeId arcs = per_owner[r];
    per_owner[r] = total;
    total += arcs;
  };
  start(static_cast<std::size_t>(rank_));
  for (std::size_t r = 0; r < nr; ++r) {
    if (static_cast<int>(r) != rank_) start(r);
  }
  for (std::size_t x = 0; x < span_; ++x) {
    const EdgeId row = cursor_[x];
    EdgeId& next = per_owner[owner(x)];
    cursor_[x] = next;
    next += row;
  }
  targets_.resize(total);
  if (weighted_) {
    weights_.resize(total);
    records_.resize(total);
  }
  marks_.assign((span_ + 63) / 64, 0);
}

void ArcPlacer::fill_owners() {
  owner_.resize(span_);
  std::atomic<bool> unowned{false};
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, span_), [&](const auto& range) {
    for (std::size_t x = range.begin(); x < range.end(); ++x) {
      const int r = owner_of_(lo_ + x);
      if (r < 0 || r >= ranks_) unowned.store(true, std::memory_order_relaxed);
      owner_[x] = static_cast<std::uint16_t>(r);
    }
  });
  for (std::size_t x = 0; unowned.load() && x < span_; ++x) {  // name the first
    const int r = owner_of_(lo_ + x);
    if (r < 0 || r >= ranks_) fail("vertex ", lo_ + x, " has no owner rank (", r, ")");
  }
}

std::string ArcPlacer::check_complete() const {
  for (std::size_t s = 0; s < counts_.size(); ++s) {
    const std::vector<std::uint32_t>& left = counts_[s];
    auto it = std::find_if(left.begin(), left.end(), [](std::uint32_t n) { return n != 0; });
    if (it != left.end()) {
      return str_cat("rank ", s, " sent rank ", rank_, " fewer arcs of vertex ",
                     lo_ + static_cast<Gid>(it - left.begin()), " than it announced (", *it,
                     " missing)");
    }
  }
  return {};
}

void ArcPlacer::lid_ordered_rows(const PlacedPart& part) {
  if (!weighted_) {
    split_rows_by_owner(part, targets_.data(), nullptr, [this](Lid x) { return lids_[x]; });
    return;
  }
  const std::vector<EdgeId>& off = part.out_offsets;
  const std::size_t n = off.size() - 1;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
    struct Arc {
      std::uint64_t key;  // lid << 32 | record index: unique in a row
      double weight;
    };
    std::vector<Arc> row;
    for (std::size_t v = range.begin(); v < range.end(); ++v) {
      const EdgeId begin = off[v], end = off[v + 1];
      row.resize(end - begin);
      for (EdgeId e = begin; e < end; ++e) {
        row[e - begin] = {std::uint64_t{lids_[targets_[e]]} << 32 | records_[e], weights_[e]};
      }
      auto by_key = [](const Arc& a, const Arc& b) { return a.key < b.key; };
      if (!std::is_sorted(row.begin(), row.end(), by_key))
        std::sort(row.begin(), row.end(), by_key);
      for (EdgeId e = begin; e < end; ++e) {
        targets_[e] = static_cast<Lid>(row[e - begin].key >> 32);
        weights_[e] = row[e - begin].weight;
      }
    }
  });
  std::vector<std::uint32_t>().swap(records_);
}

PlacedPart ArcPlacer::finish(const std::optional<VertexRange>& declared) {
  std::vector<std::vector<std::uint32_t>>().swap(counts_);
  const std::size_t nr = static_cast<std::size_t>(ranks_);
  const std::size_t me = static_cast<std::size_t>(rank_);
  auto in_declared = [&](Gid g) { return g - declared->first < declared->count; };
  // Owned: the declared range's (isolated ones included), else the ends seen. Ghosts: the
  // other ends seen, numbered by (owner, gid) after the owned.
  std::vector<std::uint64_t> ghosts(nr, 0);
  std::uint64_t owned = 0;
  for (std::size_t x = 0; x < span_; ++x) {
    const Gid g = lo_ + x;
    const std::size_t r = owner_[x];
    const bool seen = marked(x);
    if (r == me) {
      if (declared && seen && !in_declared(g)) {
        fail("graph part: vertex ", g, " is an endpoint of an edge on rank ", rank_,
             " but its owner is given as rank ", rank_, " and it is not among the owned");
      }
      owned += declared ? in_declared(g) : seen;
    } else {
      ghosts[r] += seen;
    }
  }
  std::uint64_t n = owned;
  std::vector<std::uint64_t> next(nr, 0);
  PlacedPart part;
  for (std::size_t r = 0; r < nr; ++r) {
    if (r == me) continue;
    next[r] = n;
    if (ghosts[r] > 0) {
      part.ghost_ranges.push_back(
          GhostRange{static_cast<int>(r), static_cast<Lid>(n), static_cast<Lid>(n + ghosts[r])});
    }
    n += ghosts[r];
  }
  if (n > kInvalidLid) {
    fail("rank ", rank_, " would hold ", n, " vertices; at most ", kInvalidLid);
  }
  next[me] = 0;
  part.num_owned = static_cast<Lid>(owned);
  part.lid_to_gid.resize(n);
  part.out_offsets.assign(n + 1, 0);
  lids_.resize(span_);
  for (std::size_t x = 0; x < span_; ++x) {
    const Gid g = lo_ + x;
    const std::size_t r = owner_[x];
    const bool held = (r == me && declared) ? in_declared(g) : marked(x);
    if (!held) {
      lids_[x] = kInvalidLid;
      continue;
    }
    const Lid lid = static_cast<Lid>(next[r]++);
    lids_[x] = lid;
    part.lid_to_gid[lid] = g;
    part.out_offsets[lid + 1] =
        cursor_[x];  // rows in lid order: this one ends where the next starts
  }
  std::vector<EdgeId>().swap(cursor_);
  std::vector<std::uint16_t>().swap(owner_);
  if (part.out_offsets.back() != targets_.size()) {
    fail("rank ", rank_, ": placed ", part.out_offsets.back(), " of ", targets_.size(), " arcs");
  }
  lid_ordered_rows(part);
  std::vector<std::uint64_t>().swap(marks_);
  std::vector<Lid>().swap(lids_);
  part.out_targets = std::move(targets_);
  part.weighted = weighted_;
  part.out_weights = std::move(weights_);
  return part;
}

}  // namespace atl::detail
