// A rank's part read from its atoms in two passes (atom_part.hpp).
#include "atom_part.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atom_file.hpp"
#include "step_log.hpp"

namespace atl::detail {
namespace {

/// The first position in [it, end) not below g: an exponential search from `it`, for lookups
/// of ascending ids in an ascending table (each a few steps from the last).
template <typename It>
It gallop(It it, It end, Gid g) {
  std::size_t step = 1;
  while (static_cast<std::size_t>(end - it) > step && it[static_cast<std::ptrdiff_t>(step)] < g) {
    step *= 2;
  }
  const It hi =
      static_cast<std::size_t>(end - it) > step ? it + static_cast<std::ptrdiff_t>(step + 1) : end;
  return std::lower_bound(it + static_cast<std::ptrdiff_t>(step / 2), hi, g);
}

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
        shared_(
            std::min<std::size_t>(static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()),
                                  tbb::global_control::active_value(
                                      tbb::global_control::max_allowed_parallelism)) > 1) {}

  PlacedPart read() {
    StepLog step(rank_);
    number_vertices();
    step("atom tables");
    over_atoms([&](const AtomFile& atom, const Lids& lids, std::vector<Edge>& edges) {
      count(atom, lids, edges);
    });
    lay_out_rows();
    step("atom arc counts");
    over_atoms([&](const AtomFile& atom, const Lids& lids, std::vector<Edge>& edges) {
      place(atom, lids, edges);
    });
    step("atom arcs");
    for (std::size_t v = 0; v < cursor_.size(); ++v) {
      if (cursor_[v] != part_.out_offsets[v + 1]) changed();
    }
    std::vector<EdgeId>().swap(cursor_);
    scratch_.clear();
    // An atom's out-edges keep the input's order, so each owned row of a sorted input is
    // in gid order: in lid order once split by owner.
    split_rows_by_owner(part_, part_.out_targets.data(), [](Lid x) { return x; });
    step("rows by owner");
    return std::move(part_);
  }

 private:
  /// An atom's tables as lids: one per vertex, one per ghost (kInvalidLid: a ghost owned by an
  /// atom of this rank, whose cut in-edges are out-edges here), one per merged-table entry.
  struct Lids {
    std::vector<Gid> vertex, ghost, merged;
  };
  /// A thread's buffers for one atom at a time.
  struct Scratch {
    FileBytes file;
    Lids lids;
    std::vector<Edge> edges;
  };

  int owner_rank(std::uint32_t atom) const { return atom_rank_[atom]; }

  /// Owned vertices: the atoms' vertices, by gid. Ghosts: the ghosts of those atoms owned on
  /// other ranks, by (owner rank, gid), numbered after them.
  void number_vertices() {
    std::vector<std::size_t> vertex_at(mine_.size() + 1, 0);
    for (std::size_t k = 0; k < mine_.size(); ++k) {
      vertex_at[k + 1] = vertex_at[k] + index_.atoms[mine_[k]].vertices;
    }
    std::vector<Gid>& owned = part_.lid_to_gid;
    owned.resize(vertex_at.back());
    std::vector<std::vector<std::pair<Gid, int>>> remote(mine_.size());
    tbb::parallel_for(std::size_t{0}, mine_.size(), [&](std::size_t k) {
      const AtomFile atom(dir_, index_, mine_[k]);
      atom.check_file_checksum();
      std::copy(atom.vertices().begin(), atom.vertices().end(),
                owned.begin() + static_cast<std::ptrdiff_t>(vertex_at[k]));
      for (std::size_t i = 0; i < atom.ghosts().size(); ++i) {
        const int r = owner_rank(atom.ghost_atoms()[i]);
        if (r != rank_) remote[k].emplace_back(atom.ghosts()[i], r);
      }
    });
    tbb::parallel_sort(owned.begin(), owned.end());
    if (auto it = std::adjacent_find(owned.begin(), owned.end()); it != owned.end()) {
      fail(dir_.string(), ": vertex ", *it, " is owned by two atoms of rank ", rank_);
    }
    std::size_t total = 0;
    for (const auto& list : remote) total += list.size();
    std::vector<std::pair<Gid, int>> ghosts;
    ghosts.reserve(total);
    for (auto& list : remote) {
      ghosts.insert(ghosts.end(), list.begin(), list.end());
      std::vector<std::pair<Gid, int>>().swap(list);
    }
    tbb::parallel_sort(ghosts.begin(), ghosts.end());
    ghosts.erase(std::unique(ghosts.begin(), ghosts.end()), ghosts.end());
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
    // ghost_gids_ stays by gid (the lookups); lid_to_gid takes them by (owner, gid).
    ghost_gids_.resize(ghosts.size());
    std::vector<std::pair<int, std::size_t>> by_owner(ghosts.size());
    for (std::size_t i = 0; i < ghosts.size(); ++i) {
      ghost_gids_[i] = ghosts[i].first;
      by_owner[i] = {ghosts[i].second, i};
    }
    std::stable_sort(by_owner.begin(), by_owner.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    ghost_lids_.resize(ghosts.size());
    owned.resize(n);
    for (std::size_t j = 0; j < by_owner.size(); ++j) {
      const auto [r, i] = by_owner[j];
      const Lid lid = static_cast<Lid>(part_.num_owned + j);
      ghost_lids_[i] = lid;
      part_.lid_to_gid[lid] = ghosts[i].first;
      if (part_.ghost_ranges.empty() || part_.ghost_ranges.back().owner_rank != r) {
        part_.ghost_ranges.push_back(GhostRange{r, lid, lid});
      }
      part_.ghost_ranges.back().end = lid + 1;
    }
    rows_.assign(n + 1, 0);
    ghost_marks_.assign((ghosts.size() + 63) / 64, 0);
  }

  /// fn(atom, lids, edges) for every atom of this rank, in parallel, each atom read and checked
  /// anew into its thread's buffers (reused, so the pages are not faulted in again per atom).
  template <typename Fn>
  void over_atoms(Fn&& fn) {
    tbb::parallel_for(std::size_t{0}, mine_.size(), [&](std::size_t k) {
      // Isolated: while AtomFile's own parallel loops wait, this thread must not start another
      // atom with the same buffers.
      tbb::this_task_arena::isolate([&] {
        Scratch& scratch = scratch_.local();
        AtomFile atom(dir_, index_, mine_[k], std::move(scratch.file));
        lid_tables(atom, scratch.lids);
        fn(atom, scratch.lids, scratch.edges);
        atom.check_file_checksum();
        scratch.file = atom.take_buffer();
      });
    });
  }

  void lid_tables(const AtomFile& atom, Lids& lids) const {
    const std::vector<Gid>& owned = part_.lid_to_gid;
    const auto owned_end = owned.begin() + part_.num_owned;
    lids.vertex.resize(atom.vertices().size());
    auto at = owned.begin();
    for (std::size_t i = 0; i < atom.vertices().size(); ++i) {
      at = gallop(at, owned_end, atom.vertices()[i]);
      if (at == owned_end || *at != atom.vertices()[i]) changed();  // number_vertices took all
      lids.vertex[i] = static_cast<Gid>(at - owned.begin());
    }
    lids.ghost.resize(atom.ghosts().size());
    auto local = owned.begin();
    auto remote = ghost_gids_.begin();
    for (std::size_t j = 0; j < atom.ghosts().size(); ++j) {
      const Gid g = atom.ghosts()[j];
      const std::uint32_t owner_atom = atom.ghost_atoms()[j];
      if (owner_rank(owner_atom) != rank_) {
        remote = gallop(remote, ghost_gids_.end(), g);
        if (remote == ghost_gids_.end() || *remote != g) changed();  // number_vertices took all
        lids.ghost[j] = ghost_lids_[static_cast<std::size_t>(remote - ghost_gids_.begin())];
        continue;
      }
      local = gallop(local, owned_end, g);
      if (local == owned_end || *local != g) {
        fail("atom ", atom.id(), " of '", dir_.string(), "': ghost ", g, " of atom ", owner_atom,
             " (on rank ", rank_, ") is not among that atom's vertices");
      }
      lids.ghost[j] = static_cast<Gid>(local - owned.begin());
    }
    atom.merged(lids.vertex, lids.ghost, lids.merged);
  }

  /// fn(x, y) for every arc of the atom's local edges: its out-edges, and its cut in-edges from
  /// other ranks (a cut in-edge from an atom of this rank is an out-edge of that atom here).
  template <typename Fn>
  void for_each_arc(const AtomFile& atom, const Lids& lids, std::vector<Edge>& edges,
                    Fn&& fn) const {
    edges.resize(std::max(atom.out_edges(), atom.in_cut_edges()));
    atom.decode_out_edges(lids.vertex, lids.merged, edges.data(), nullptr);
    auto arcs = [&](const Edge& e) {
      const auto x = static_cast<Lid>(e.src), y = static_cast<Lid>(e.dst);
      fn(x, y);
      if (symmetrize_ && x != y) fn(y, x);
    };
    for (std::size_t i = 0; i < atom.out_edges(); ++i) arcs(edges[i]);
    atom.decode_in_cut_edges(lids.ghost, lids.vertex, edges.data(), nullptr);
    for (std::size_t i = 0; i < atom.in_cut_edges(); ++i) {
      if (edges[i].src >= part_.num_owned) arcs(edges[i]);
    }
  }

  void count(const AtomFile& atom, const Lids& lids, std::vector<Edge>& edges) {
    const Lid owned = part_.num_owned;
    for_each_arc(atom, lids, edges, [&](Lid x, Lid y) {
      if (shared_) {
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
  }

  void place(const AtomFile& atom, const Lids& lids, std::vector<Edge>& edges) {
    bool overflow = false;
    for_each_arc(atom, lids, edges, [&](Lid x, Lid y) {
      const EdgeId at =
          shared_ ? std::atomic_ref<EdgeId>(cursor_[x]).fetch_add(1, std::memory_order_relaxed)
                  : cursor_[x]++;
      if (at >= part_.out_offsets[x + 1]) {
        overflow = true;
        return;
      }
      part_.out_targets[at] = y;
    });
    if (overflow) changed();
  }

  /// The two passes saw different arcs: an atom changed between them although its checksum
  /// matched both times.
  [[noreturn]] void changed() const {
    fail(dir_.string(), ": the atom files of rank ", rank_, " changed while they were read");
  }

  const std::filesystem::path& dir_;
  const AtomIndex& index_;
  std::span<const std::uint32_t> mine_;
  std::span<const int> atom_rank_;
  int rank_;
  bool symmetrize_;
  bool shared_;  ///< TBB may run more than one thread (else plain increments, no atomics)
  PlacedPart part_;
  std::vector<Gid> ghost_gids_;             ///< the ghosts by gid
  std::vector<Lid> ghost_lids_;             ///< the lid of each, by gid
  std::vector<EdgeId> rows_;                ///< pass 1: arcs of each lid's row
  std::vector<std::uint64_t> ghost_marks_;  ///< pass 1: ghosts that are an arc's target
  std::vector<EdgeId> cursor_;              ///< pass 2: next free slot of each row
  tbb::enumerable_thread_specific<Scratch> scratch_;
};

}  // namespace

PlacedPart read_atom_part(const std::filesystem::path& dir, const AtomIndex& index,
                          std::span<const std::uint32_t> mine, std::span<const int> atom_rank,
                          int rank, bool symmetrize) {
  if (index.weighted) fail(dir.string(), ": read_atom_part takes unweighted atoms only");
  return AtomPartReader(dir, index, mine, atom_rank, rank, symmetrize).read();
}

}  // namespace atl::detail
