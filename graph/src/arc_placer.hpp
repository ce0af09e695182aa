// The two-pass route of a plain file (graph_part_load.cpp): every arc goes straight
// into its final slot of this rank's out-CSR, so a rank never holds its edges as records.
//   pass 1 (every rank over its share): count(r, e) for each edge routed to rank r; announce()
//          gives every peer its counts, receive() sums what the peers announced, lays the rows
//          out in lid order (owned by gid, then ghosts by (owner, gid)) and allocates the arcs.
//   pass 2 (the routing rounds): place(s, e) for each edge from rank s writes its arcs' other
//          ends (32-bit offsets from the id span's base) into their rows and marks both ends.
//   finish(): numbers the marked vertices as build_part does, maps the offsets to lids in place.
// Weighted, each arc also keeps its weight and its record's index in this rank's stream of R
// records (senders in rank order, each in file order, as the one-pass route stores them; a
// symmetrized reverse arc R + that index, as the one-pass route puts every reverse arc after
// the forward ones): finish() orders each row by (target, index), so a row's repeats of an
// arc are in the one-pass route's order whatever order the threads placed them in.
// A row's arcs per sender are bounded by what that sender announced, so a peer that lies
// cannot write out of its rows; errors name the peer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atoll/graph/edge_list.hpp"
#include "placed_part.hpp"

namespace atl::detail {

class ArcPlacer {
 public:
  /// Whether the counts fit: ids in [lo, hi] (hi - lo < 2^32 - 2), fewer than 2^32 edges in
  /// all (a row's count fits 32 bits), and a rank's count arrays (ranks x span x 4 bytes, sent
  /// and received once) take at most about the 8 bytes per edge of its share of the graph that
  /// the one-pass route's records would: ranks^2 x span <= 2 x edges (+ 2^20).
  static bool fits(Gid lo, Gid hi, std::uint64_t edges, int ranks);

  /// Whether a weighted input fits too: record indexes under 2^32 (a rank is announced at
  /// most 2 x edges records, which every rank checks, and symmetrized indexes go to 2R).
  static bool fits_weighted(bool symmetrize, std::uint64_t edges) {
    return edges < (std::uint64_t{1} << (symmetrize ? 30 : 31));
  }

  /// owner_of: the rank owning each id of the span (the same function on every rank).
  ArcPlacer(Gid lo, Gid hi, int rank, int ranks, bool symmetrize, bool weighted,
            std::function<int(Gid)> owner_of);

  // ---- pass 1 ----
  /// Counts the arcs edge e gives rank r (thread-safe); false (nothing counted) when an end
  /// lies outside the span, which the input's ids did not when the span was taken.
  bool count(std::size_t r, const Edge& e) {
    if (e.src - lo_ >= span_ || e.dst - lo_ >= span_) return false;
    bump(counts_[r][e.src - lo_]);
    if (symmetrize_ && e.src != e.dst) bump(counts_[r][e.dst - lo_]);
    return true;
  }
  /// The counts for each peer as bytes (4 a vertex of the span; empty for this rank); this
  /// rank's own stay.
  std::vector<std::vector<std::byte>> announce();
  /// The peers' counts (heard[s] from rank s, which sends `edges[s]` edges): checks their sizes
  /// and that they add up to what those edges give (one arc each, or one or two symmetrized),
  /// lays out the rows and allocates the arcs. Throws naming the first rank whose counts are
  /// malformed.
  void receive(std::vector<std::vector<std::byte>> heard, std::span<const std::uint64_t> edges);

  // ---- pass 2 ----
  /// place()'s success (no offset in a span under 2^32 - 2 is this).
  static constexpr std::uint32_t kPlaced = ~std::uint32_t{0};
  /// Places the arcs of edge e from rank s (weighted: with its weight and its record's index).
  /// Returns kPlaced, or the offset from lo() of an end outside the span or of the vertex
  /// whose row already has every arc s announced for it (then nothing is written).
  std::uint32_t place(std::size_t s, const Edge& e, double weight = 0, std::uint32_t record = 0) {
    if (e.src - lo_ >= span_)
      return static_cast<std::uint32_t>(std::min<Gid>(e.src - lo_, kPlaced - 1));
    if (e.dst - lo_ >= span_)
      return static_cast<std::uint32_t>(std::min<Gid>(e.dst - lo_, kPlaced - 1));
    const std::uint32_t x = static_cast<std::uint32_t>(e.src - lo_);
    const std::uint32_t y = static_cast<std::uint32_t>(e.dst - lo_);
    const bool reverse = symmetrize_ && x != y;
    if (!take(s, x)) return x;
    if (reverse && !take(s, y)) return y;
    put(x, y, weight, record);
    if (reverse) put(y, x, weight, reverse_base_ + record);
    return kPlaced;
  }
  /// After the last round: the first vertex for which some rank sent fewer arcs than it
  /// announced, as an error naming that rank ("" when none).
  std::string check_complete() const;
  /// The part: owned vertices (the declared range's share when given, else the marked ends
  /// this rank owns), ghosts, offsets and targets as lids. Frees the counts.
  PlacedPart finish(const std::optional<VertexRange>& declared);

  Gid lo() const { return lo_; }

 private:
  void bump(std::uint32_t& c) const {
    if (!shared_) {
      ++c;
      return;
    }
    std::atomic_ref<std::uint32_t>(c).fetch_add(1, std::memory_order_relaxed);
  }
  /// Takes one of the arcs rank s announced for row x; false when none is left.
  bool take(std::size_t s, std::uint32_t x) {
    if (!shared_) {
      std::uint32_t& n = counts_[s][x];
      if (n == 0) return false;
      --n;
      return true;
    }
    std::atomic_ref<std::uint32_t> left(counts_[s][x]);
    std::uint32_t n = left.load(std::memory_order_relaxed);
    do {
      if (n == 0) return false;
    } while (!left.compare_exchange_weak(n, n - 1, std::memory_order_relaxed));
    return true;
  }
  void put(std::uint32_t x, std::uint32_t y, double weight, std::uint32_t record) {
    const EdgeId at =
        shared_ ? std::atomic_ref<EdgeId>(cursor_[x]).fetch_add(1, std::memory_order_relaxed)
                : cursor_[x]++;
    targets_[at] = y;
    if (weighted_) {
      weights_[at] = weight;
      records_[at] = record;
    }
    mark(x);
    mark(y);
  }
  /// receive(): owner_ from owner_of_ (throws naming a vertex without an owner rank).
  void fill_owners();
  /// finish(): maps the rows' ends (offsets) to lids in place, leaving in lid order each row
  /// that was in gid order (the build sorts the rest); weighted, sorts every row by (lid,
  /// record index), its weights with it.
  void lid_ordered_rows(const PlacedPart& part);
  /// Marks x as an end of an arc here: one bit a vertex, so the marks of a span of millions
  /// stay in cache while the far ends of the arcs land at random.
  void mark(std::uint32_t x) {
    const std::uint64_t bit = std::uint64_t{1} << (x % 64);
    std::uint64_t& word = marks_[x / 64];
    if (!shared_) {
      word |= bit;
      return;
    }
    std::atomic_ref<std::uint64_t> w(word);
    if ((w.load(std::memory_order_relaxed) & bit) == 0) w.fetch_or(bit, std::memory_order_relaxed);
  }
  bool marked(std::size_t x) const { return (marks_[x / 64] >> (x % 64) & 1) != 0; }

  Gid lo_;
  std::size_t span_;  ///< ids lo .. lo + span - 1
  int rank_;
  int ranks_;
  bool symmetrize_;
  bool weighted_;
  bool shared_;  ///< TBB may run more than one thread (else plain increments, no atomics)
  std::function<int(Gid)> owner_of_;
  /// Pass 1: counts_[r][x] arcs of row lo + x for rank r; after receive(): the arcs of that
  /// row rank r may still send this rank.
  std::vector<std::vector<std::uint32_t>> counts_;
  std::vector<std::uint16_t> owner_;    ///< after receive(): the owner rank of each id (fits())
  std::vector<EdgeId> cursor_;          ///< next free slot of each row (its end once full)
  std::vector<std::uint64_t> marks_;    ///< pass 2: bit x set when lo + x is an end of an arc here
  std::vector<Lid> lids_;               ///< finish(): the lid of each id (kInvalidLid: not here)
  std::vector<Lid> targets_;            ///< the rows, in lid order
  std::vector<double> weights_;         ///< weighted: each arc's weight
  std::vector<std::uint32_t> records_;  ///< weighted: each arc's record index (see the top)
  std::uint32_t reverse_base_ = 0;      ///< weighted: R, this rank's records (receive())
};

}  // namespace atl::detail
