// A rank's part read from its atoms in two passes (atom_part.hpp).
#include "atom_part.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "ascending_union.hpp"
#include "atoll/common/error.hpp"
#include "atom_file.hpp"
#include "step_log.hpp"

namespace atl::detail {
namespace {

/// The lid of each gid a rank holds: an array over the ids' span when that takes at most
/// about 4 entries a vertex, else the gids sorted with their lids, looked up by galloping from
/// the previous answer (an atom's tables ascend, so each lookup is a few steps).
class LidIndex {
 public:
  explicit LidIndex(const std::vector<Gid>& lid_to_gid) {
    if (lid_to_gid.empty()) return;
    const auto [lo, hi] = std::minmax_element(lid_to_gid.begin(), lid_to_gid.end());
    lo_ = *lo;
    const std::uint64_t span = *hi - *lo;
    if (span < 4 * std::uint64_t{lid_to_gid.size()} + (std::uint64_t{1} << 20)) {
      dense_.assign(span + 1, kInvalidLid);
      for (std::size_t v = 0; v < lid_to_gid.size(); ++v)
        dense_[lid_to_gid[v] - lo_] = static_cast<Lid>(v);
      return;
    }
    sorted_.resize(lid_to_gid.size());
    for (std::size_t v = 0; v < lid_to_gid.size(); ++v)
      sorted_[v] = {lid_to_gid[v], static_cast<Lid>(v)};
    tbb::parallel_sort(sorted_.begin(), sorted_.end());
  }

  /// out[i]: the lid of ids[i] (kInvalidLid when not held); ids ascending for the fast path.
  void lids_of(std::span<const Gid> ids, std::vector<Gid>& out) const {
    out.resize(ids.size());
    if (!dense_.empty()) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::uint64_t x = ids[i] - lo_;
        out[i] = x < dense_.size() ? dense_[x] : kInvalidLid;
      }
      return;
    }
    auto at = sorted_.begin();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      at = gallop(at, ids[i]);
      out[i] = at != sorted_.end() && at->first == ids[i] ? at->second : kInvalidLid;
    }
  }

 private:
  using Entry = std::pair<Gid, Lid>;
  /// The first entry from `it` on whose gid is not below g: an exponential search.
  std::vector<Entry>::const_iterator gallop(std::vector<Entry>::const_iterator it, Gid g) const {
    const auto end = sorted_.end();
    if (it != sorted_.begin() && std::prev(it)->first >= g) it = sorted_.begin();  // not ascending
    std::ptrdiff_t step = 1;
    while (end - it > step && it[step].first < g) step *= 2;
    const auto hi = end - it > step ? it + step + 1 : end;
    return std::lower_bound(it + step / 2, hi, g,
                            [](const Entry& e, Gid x) { return e.first < x; });
  }

  Gid lo_ = 0;
  std::vector<Lid> dense_;
  std::vector<Entry> sorted_;
};

class AtomPartReader {
 public:
  AtomPartReader(const std::filesystem::path& dir, const AtomIndex& index,
                 std::span<const std::uint32_t> mine, std::span<const int> atom_rank, int rank,
                 bool symmetrize)
      : dir_(dir),
        index_(index),
        mine_(mine),
        atom_rank_(atom_rank),
        rank_(rank),
        symmetrize_(symmetrize),
        weighted_(index.weighted),
        threads_(std::min<std::size_t>(
            static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()),
            tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism))),
        shared_(threads_ > 1),
        parallel_blocks_(shared_ && !weighted_ && mine_.size() < threads_) {}

  PlacedPart read() {
    StepLog step(rank_);
    number_vertices();
    step("atom tables");
    over_atoms(
        [&](const AtomFile& atom, const Lids& lids, Arcs& arcs) { count(atom, lids, arcs); });
    lay_out_rows();
    step("atom arc counts");
    over_atoms(
        [&](const AtomFile& atom, const Lids& lids, Arcs& arcs) { place(atom, lids, arcs); });
    step("atom arcs");
    for (std::size_t v = 0; v < cursor_.size(); ++v) {
      if (cursor_[v] != part_.out_offsets[v + 1]) changed();
    }
    std::vector<EdgeId>().swap(cursor_);
    scratch_.clear();
    // An atom's out-edges keep the input's order, so each owned row of a sorted input is
    // in gid order: in lid order once split by owner.
    split_rows_by_owner(part_, part_.out_targets.data(),
                        weighted_ ? part_.out_weights.data() : nullptr, [](Lid x) { return x; });
    step("rows by owner");
    return std::move(part_);
  }

 private:
  /// An atom's tables as lids: one per vertex, one per ghost (below num_owned for a ghost owned
  /// by an atom of this rank, whose cut in-edges are out-edges here: for_each_arc steps over
  /// their runs), one per merged-table entry.
  struct Lids {
    std::vector<Gid> vertex, ghost, merged;
    bool remote_ghosts = false;  ///< some ghost is owned on another rank
  };
  /// Weighted: the weights of the atom's edges being walked.
  struct Arcs {
    std::vector<double> weights;
  };
  /// A thread's buffers for one atom at a time.
  struct Scratch {
    FileBytes file;
    Lids lids;
    Arcs arcs;
  };

  int owner_rank(std::uint32_t atom) const { return atom_rank_[atom]; }

  /// Owned vertices: the atoms' vertices, by gid. Ghosts: the ghosts of those atoms owned on
  /// other ranks, by (owner rank, gid), numbered after them.
  void number_vertices() {
    std::vector<std::size_t> vertex_at(mine_.size() + 1, 0);
    for (std::size_t k = 0; k < mine_.size(); ++k) {
      vertex_at[k + 1] = vertex_at[k] + index_.atoms[mine_[k]].vertices;
    }
    if (vertex_at.back() > kInvalidLid) {
      fail(dir_.string(), ": rank ", rank_, " would own ", vertex_at.back(), " vertices; at most ",
           kInvalidLid);
    }
    // Each owned vertex with the atom (its position in mine_) that holds it, by gid.
    std::vector<std::pair<Gid, std::uint32_t>> owned_by(vertex_at.back());
    std::vector<std::vector<std::pair<Gid, int>>> remote(mine_.size());
    tbb::parallel_for(std::size_t{0}, mine_.size(), [&](std::size_t k) {
      const AtomFile atom(dir_, index_, mine_[k]);
      atom.check_file_checksum();
      for (std::size_t i = 0; i < atom.vertices().size(); ++i) {
        owned_by[vertex_at[k] + i] = {atom.vertices()[i], static_cast<std::uint32_t>(k)};
      }
      // Sized exactly: a reserved but untouched tail can still take huge pages.
      auto remote_ghost = [&](std::size_t i) { return owner_rank(atom.ghost_atoms()[i]) != rank_; };
      std::size_t n = 0;
      for (std::size_t i = 0; i < atom.ghosts().size(); ++i) n += remote_ghost(i);
      remote[k].reserve(n);
      for (std::size_t i = 0; i < atom.ghosts().size(); ++i) {
        if (remote_ghost(i)) {  // ascending by gid
          remote[k].emplace_back(atom.ghosts()[i], owner_rank(atom.ghost_atoms()[i]));
        }
      }
    });
    tbb::parallel_sort(owned_by.begin(), owned_by.end());
    std::vector<Gid>& owned = part_.lid_to_gid;
    owned.resize(owned_by.size());
    atom_of_.resize(owned_by.size());
    for (std::size_t v = 0; v < owned_by.size(); ++v) {
      if (v > 0 && owned_by[v - 1].first == owned_by[v].first) {
        fail(dir_.string(), ": vertex ", owned_by[v].first, " is owned by atoms ",
             mine_[owned_by[v - 1].second], " and ", mine_[owned_by[v].second]);
      }
      owned[v] = owned_by[v].first;
      atom_of_[v] = owned_by[v].second;
    }
    std::vector<std::pair<Gid, std::uint32_t>>().swap(owned_by);
    const std::vector<std::pair<Gid, int>> ghosts = union_ascending(remote);
    for (std::size_t i = 0; i < ghosts.size(); ++i) {
      const Gid g = ghosts[i].first;
      if (i > 0 && ghosts[i - 1].first == g) {
        fail(dir_.string(), ": vertex ", g, " is a ghost of two different owners");
      }
      if (std::binary_search(owned.begin(), owned.end(), g)) {
        fail(dir_.string(), ": vertex ", g, " is owned on rank ", rank_,
             " and a ghost owned by rank ", ghosts[i].second);
      }
    }
    const std::size_t n = owned.size() + ghosts.size();
    if (n > kInvalidLid)
      fail("rank ", rank_, " would hold ", n, " vertices; at most ", kInvalidLid);
    part_.num_owned = static_cast<Lid>(owned.size());
    // lid_to_gid takes the ghosts by (owner, gid).
    std::vector<std::pair<int, std::size_t>> by_owner(ghosts.size());
    for (std::size_t i = 0; i < ghosts.size(); ++i) by_owner[i] = {ghosts[i].second, i};
    std::stable_sort(by_owner.begin(), by_owner.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    owned.resize(n);
    for (std::size_t j = 0; j < by_owner.size(); ++j) {
      const auto [r, i] = by_owner[j];
      const Lid lid = static_cast<Lid>(part_.num_owned + j);
      part_.lid_to_gid[lid] = ghosts[i].first;
      if (part_.ghost_ranges.empty() || part_.ghost_ranges.back().owner_rank != r) {
        part_.ghost_ranges.push_back(GhostRange{r, lid, lid});
      }
      part_.ghost_ranges.back().end = lid + 1;
    }
    lid_index_.emplace(part_.lid_to_gid);
    rows_.assign(n + 1, 0);
    ghost_marks_.assign((ghosts.size() + 63) / 64, 0);
  }

  /// fn(atom, lids, arcs) for every atom of this rank, in parallel, each atom read and checked
  /// anew into its thread's buffers (reused, so the pages are not faulted in again per atom).
  template <typename Fn>
  void over_atoms(Fn&& fn) {
    tbb::parallel_for(std::size_t{0}, mine_.size(), [&](std::size_t k) {
      // Isolated: while AtomFile's own parallel loops wait, this thread must not start another
      // atom with the same buffers.
      tbb::this_task_arena::isolate([&] {
        Scratch& scratch = scratch_.local();
        // number_vertices validated its tables; AtomFile checks that the file is the same.
        AtomFile atom(dir_, index_, mine_[k], std::move(scratch.file), /*validate=*/false);
        lid_tables(k, atom, scratch.lids);
        fn(atom, scratch.lids, scratch.arcs);
        scratch.file = atom.take_buffer();
      });
    });
  }

  /// The lids of atom mine_[k]'s tables. A file that is not the one number_vertices read
  /// (a checksum that matched by chance) stops here, before its arcs go into rows another
  /// atom fills.
  void lid_tables(std::size_t k, const AtomFile& atom, Lids& lids) const {
    const Lid owned = part_.num_owned;
    lid_index_->lids_of(atom.vertices(), lids.vertex);
    for (const Gid v : lids.vertex) {
      if (v >= owned || atom_of_[v] != k) changed(atom.id());
    }
    lid_index_->lids_of(atom.ghosts(), lids.ghost);
    lids.remote_ghosts = false;
    for (std::size_t j = 0; j < atom.ghosts().size(); ++j) {
      const std::uint32_t owner_atom = atom.ghost_atoms()[j];
      if (owner_atom >= atom_rank_.size()) changed(atom.id());
      const Gid lid = lids.ghost[j];
      if (owner_rank(owner_atom) != rank_) {
        if (lid < owned || lid == kInvalidLid) changed(atom.id());
        lids.remote_ghosts = true;
      } else if (lid >= owned) {
        fail("atom ", atom.id(), " of '", dir_.string(), "': ghost ", atom.ghosts()[j], " of atom ",
             owner_atom, " (on rank ", rank_, ") is not among that atom's vertices");
      }
    }
    atom.merged(lids.vertex, lids.ghost, lids.merged);
  }

  /// fn(x, y, alone, i) for every arc of the atom's local edges: its out-edges, and its cut
  /// in-edges from other ranks (a cut in-edge from an atom of this rank is an out-edge of that
  /// atom here); the edge's weight is arcs.weights[i] when weighted. `alone`: row x takes arcs
  /// from this atom only (an owned vertex's out-edges, unless symmetrized or parallel_blocks_),
  /// so no other thread writes it. Weighted, each row gets an atom's arcs in the atom's order,
  /// and a row's repeats of an arc come from one atom (the target's): their order is the
  /// input's whatever the threads do.
  template <typename Fn>
  void for_each_arc(const AtomFile& atom, const Lids& lids, Arcs& arcs, bool with_weights,
                    Fn&& fn) const {
    const std::uint64_t walked =
        lids.remote_ghosts ? std::max(atom.out_edges(), atom.in_cut_edges()) : atom.out_edges();
    double* const weights = with_weights ? resized(arcs.weights, walked) : nullptr;
    auto arc = [&](Gid src, Gid dst, bool alone, std::uint64_t i) {
      const auto x = static_cast<Lid>(src), y = static_cast<Lid>(dst);
      fn(x, y, alone && !symmetrize_, static_cast<std::size_t>(i));
      if (symmetrize_ && x != y) fn(y, x, false, static_cast<std::size_t>(i));
    };
    const bool alone = !parallel_blocks_;
    atom.walk_out_edges(
        lids.vertex, lids.merged, weights, parallel_blocks_, [](Gid) { return true; },
        [&arc, alone](std::uint64_t i, Gid src, Gid dst) { arc(src, dst, alone, i); });
    // Every ghost on this rank (one rank, or an atom placed with its neighbours): each cut
    // in-edge is another atom's out-edge here, so the blocks are not walked at all (their
    // bytes are covered by the file's checksum, which number_vertices checked). Else the runs
    // from ghosts on this rank are stepped over.
    if (!lids.remote_ghosts) return;
    const Lid owned = part_.num_owned;
    atom.walk_in_cut_edges(
        lids.ghost, lids.vertex, weights, parallel_blocks_,
        [owned](Gid src) { return src >= owned; },
        [&arc](std::uint64_t i, Gid src, Gid dst) { arc(src, dst, false, i); });
  }
  static double* resized(std::vector<double>& v, std::size_t n) {
    v.resize(n);
    return v.data();
  }

  void count(const AtomFile& atom, const Lids& lids, Arcs& arcs) {
    const Lid owned = part_.num_owned;
    for_each_arc(atom, lids, arcs, false, [&](Lid x, Lid y, bool alone, std::size_t) {
      if (shared_ && !alone) {
        std::atomic_ref<EdgeId>(rows_[x]).fetch_add(1, std::memory_order_relaxed);
      } else {
        ++rows_[x];
      }
      if (y < owned) return;
      const std::uint64_t bit = std::uint64_t{1} << ((y - owned) % 64);
      std::uint64_t& word = ghost_marks_[(y - owned) / 64];
      if (!shared_) {
        word |= bit;
      } else if ((std::atomic_ref<std::uint64_t>(word).load(std::memory_order_relaxed) & bit) ==
                 0) {
        std::atomic_ref<std::uint64_t>(word).fetch_or(bit, std::memory_order_relaxed);
      }
    });
  }

  /// Offsets from the counts; every ghost must be an end of some arc (the atoms list as ghosts
  /// only vertices adjacent to theirs, so each is, or build_part would not have it).
  void lay_out_rows() {
    const Lid owned = part_.num_owned;
    const std::size_t n = part_.lid_to_gid.size();
    for (std::size_t v = owned; v < n; ++v) {
      const bool marked = (ghost_marks_[(v - owned) / 64] >> ((v - owned) % 64) & 1) != 0;
      if (!marked && rows_[v] == 0) {
        fail(dir_.string(), ": vertex ", part_.lid_to_gid[v], " is a ghost of rank ", rank_,
             "'s atoms but an end of none of their edges");
      }
    }
    std::vector<std::uint64_t>().swap(ghost_marks_);
    part_.out_offsets.assign(n + 1, 0);
    for (std::size_t v = 0; v < n; ++v) part_.out_offsets[v + 1] = part_.out_offsets[v] + rows_[v];
    std::vector<EdgeId>().swap(rows_);
    cursor_.assign(part_.out_offsets.begin(), part_.out_offsets.end() - 1);
    part_.out_targets.resize(part_.out_offsets.back());
    part_.weighted = weighted_;
    if (weighted_) part_.out_weights.resize(part_.out_offsets.back());
  }

  void place(const AtomFile& atom, const Lids& lids, Arcs& arcs) {
    std::atomic<bool> overflow{false};  // blocks may be walked at once
    for_each_arc(atom, lids, arcs, weighted_, [&](Lid x, Lid y, bool alone, std::size_t i) {
      const EdgeId at =
          shared_ && !alone
              ? std::atomic_ref<EdgeId>(cursor_[x]).fetch_add(1, std::memory_order_relaxed)
              : cursor_[x]++;
      if (at >= part_.out_offsets[x + 1]) {
        overflow.store(true, std::memory_order_relaxed);
        return;
      }
      part_.out_targets[at] = y;
      if (weighted_) part_.out_weights[at] = arcs.weights[i];
    });
    if (overflow) changed(atom.id());
  }

  /// The passes saw different atoms: one changed between them, although its checksum matched.
  [[noreturn]] void changed() const {
    fail(dir_.string(), ": the atom files of rank ", rank_, " changed while they were read");
  }
  [[noreturn]] void changed(std::uint32_t atom) const {
    fail("atom file '", (dir_ / index_.atoms[atom].file).string(),
         "' changed while it was read (its checksum still matched the index)");
  }

  const std::filesystem::path& dir_;
  const AtomIndex& index_;
  std::span<const std::uint32_t> mine_;
  std::span<const int> atom_rank_;
  int rank_;
  bool symmetrize_;
  bool weighted_;
  std::size_t threads_;  ///< TBB's threads here
  bool shared_;          ///< TBB may run more than one thread (else plain increments, no atomics)
  /// Fewer atoms than threads: an atom's blocks are walked at once, so no row is written by one
  /// thread alone (unweighted only: a weighted row's repeats must come in the atom's order).
  bool parallel_blocks_;
  PlacedPart part_;
  std::vector<std::uint32_t> atom_of_;      ///< of each owned lid, its atom's position in mine_
  std::optional<LidIndex> lid_index_;       ///< after number_vertices
  std::vector<EdgeId> rows_;                ///< pass 1: arcs of each lid's row
  std::vector<std::uint64_t> ghost_marks_;  ///< pass 1: ghosts that are an arc's target
  std::vector<EdgeId> cursor_;              ///< pass 2: next free slot of each row
  tbb::enumerable_thread_specific<Scratch> scratch_;
};

}  // namespace

PlacedPart read_atom_part(const std::filesystem::path& dir, const AtomIndex& index,
                          std::span<const std::uint32_t> mine, std::span<const int> atom_rank,
                          int rank, bool symmetrize) {
  if (index.weighted && symmetrize) {
    fail(dir.string(), ": read_atom_part symmetrizes unweighted atoms only");
  }
  return AtomPartReader(dir, index, mine, atom_rank, rank, symmetrize).read();
}

}  // namespace atl::detail
