// Phase 1: cut a graph into atoms and write the atom directory. Every edge endpoint gets its
// atom, a stable counting sort groups the edges by source atom (and the cut edges by target
// atom) without per-vertex allocation, then each atom's ghosts and cut counts are derived and
// its file written, atoms in parallel. The index is written last.
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <limits>
#include <system_error>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/mix64.hpp"
#include "atoll/common/temp_file.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/atoms.hpp"
#include "atom_io.hpp"
#include "radix_sort.hpp"
#include "vertex_index.hpp"

namespace atl {
namespace {

using detail::GhostRecord;

constexpr std::size_t kFingerprintChunk = std::size_t{1} << 16;  // edges per checksum
constexpr std::uint32_t kSkip = std::numeric_limits<std::uint32_t>::max();

std::uint64_t combine(std::uint64_t h, std::uint64_t x) {
  return detail::mix64(h ^ detail::mix64(x + detail::kGolden));
}

/// Fingerprint of the input (sizes, vertex range, CRC32C of the edges and weights in input
/// order, by fixed chunks so any thread count agrees) and of the cut's parameters.
std::uint64_t graph_id_of(const EdgeList& graph, std::uint64_t num_vertices,
                          const PartitionOptions& options) {
  const std::size_t m = graph.size();
  const std::size_t chunks = (m + kFingerprintChunk - 1) / kFingerprintChunk;
  std::vector<std::uint64_t> sums(chunks);
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    const std::size_t begin = c * kFingerprintChunk;
    const std::size_t n = std::min(kFingerprintChunk, m - begin);
    std::uint64_t sum = crc32c(0, graph.edges.data() + begin, n * sizeof(Edge));
    if (graph.weighted) {
      sum |= std::uint64_t{crc32c(0, graph.weights.data() + begin, n * sizeof(double))} << 32;
    }
    sums[c] = sum;
  });
  std::uint64_t h = combine(0x41544f4c4c, num_vertices);  // "ATOLL"
  h = combine(h, m);
  h = combine(h, graph.weighted ? 1 : 0);
  h = combine(h, graph.declared ? 1 : 0);
  h = combine(h, graph.declared ? graph.declared->first : 0);
  h = combine(h, graph.declared ? graph.declared->count : 0);
  for (std::uint64_t sum : sums) h = combine(h, sum);
  h = combine(h, options.atoms);
  h = combine(h, options.method == AtomMethod::kMetis ? 1 : 0);
  h = combine(h, options.seed);
  if (options.method == AtomMethod::kMetis) {
    h = combine(h, options.metis_max_vertices);
    h = combine(h, options.metis_max_edges);
  }
  return h;
}

/// Items grouped by key: positions[begin[k] .. begin[k + 1]) are the items of key k, in order.
template <typename I>
struct Buckets {
  std::vector<I> positions;
  std::vector<std::uint64_t> begin;
  std::span<const I> of(std::uint32_t k) const {
    return {positions.data() + begin[k], begin[k + 1] - begin[k]};
  }
};

/// Stable parallel counting sort of the items [0, n) by key(i) < k; items whose key is kSkip
/// are left out. The result does not depend on the thread count.
template <typename I, typename Key>
Buckets<I> bucket(std::size_t n, std::uint32_t k, Key key) {
  const std::size_t threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  std::size_t chunks = std::clamp<std::size_t>(n >> 16, 1, 4 * threads);
  chunks = std::max<std::size_t>(1, std::min(chunks, (std::size_t{1} << 22) / k));
  const std::size_t chunk = (n + chunks - 1) / chunks;
  std::vector<std::uint64_t> cursor(chunks * k, 0);
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    std::uint64_t* count = cursor.data() + c * k;
    for (std::size_t i = c * chunk, end = std::min(n, i + chunk); i < end; ++i) {
      const std::uint32_t a = key(i);
      if (a != kSkip) ++count[a];
    }
  });
  Buckets<I> out;
  out.begin.resize(std::size_t{k} + 1);
  std::uint64_t running = 0;
  for (std::uint32_t a = 0; a < k; ++a) {
    out.begin[a] = running;
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::uint64_t count = cursor[c * k + a];
      cursor[c * k + a] = running;
      running += count;
    }
  }
  out.begin[k] = running;
  out.positions.resize(running);
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
    std::uint64_t* next = cursor.data() + c * k;
    for (std::size_t i = c * chunk, end = std::min(n, i + chunk); i < end; ++i) {
      const std::uint32_t a = key(i);
      if (a != kSkip) out.positions[next[a]++] = static_cast<I>(i);
    }
  });
  return out;
}

/// An atom's ghost candidates, sorted by gid (radix sort on gid - min) and made unique.
class GhostBuffer {
 public:
  explicit GhostBuffer(std::size_t capacity) : records_(capacity), scratch_(capacity) {}
  void add(Gid gid, std::uint32_t atom) {
    records_[size_++] = GhostRecord{gid, atom, 0};
    lo_ = std::min(lo_, gid);
    hi_ = std::max(hi_, gid);
  }
  void sort_unique() {
    records_.size = scratch_.size = size_;
    const Gid lo = lo_;
    detail::radix_sort(records_, scratch_, static_cast<unsigned>(std::bit_width(hi_ - lo)),
                       [lo](const GhostRecord& g) { return g.gid - lo; });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      if (kept == 0 || records_[i].gid != records_[kept - 1].gid) records_[kept++] = records_[i];
    }
    size_ = kept;
  }
  std::span<const GhostRecord> span() const { return {records_.data.get(), size_}; }

 private:
  detail::RecordBuffer<GhostRecord> records_;
  detail::RecordBuffer<GhostRecord> scratch_;
  std::size_t size_ = 0;
  Gid lo_ = ~Gid{0};
  Gid hi_ = 0;
};

/// A vertex's local ids in the atom being written: its position among the atom's vertices or
/// among its ghosts (`own`), and among both merged by gid (`merged`).
struct LocalSlot {
  std::uint64_t own = 0;
  std::uint64_t merged = 0;
};

/// Per thread: the local ids of the atom it writes, indexed by vertex position (only the
/// atom's vertices and ghosts are current), and the atom's edges in local ids.
struct LocalScratch {
  std::vector<LocalSlot> slots;
  std::vector<Edge> out, in;
  std::vector<double> out_weights, in_weights;
};

/// Fills scratch.slots for an atom's vertices (positions `mine` in the vertex set) and ghosts.
void assign_local_ids(const std::vector<Gid>& vertices, const detail::VertexIndex& index,
                      std::span<const std::uint64_t> mine, std::span<const GhostRecord> ghosts,
                      std::vector<LocalSlot>& slots) {
  std::size_t i = 0, j = 0;
  for (std::uint64_t m = 0; m < mine.size() + ghosts.size(); ++m) {
    if (j == ghosts.size() || (i < mine.size() && vertices[mine[i]] < ghosts[j].gid)) {
      slots[mine[i]] = {i, m};
      ++i;
    } else {
      slots[index.find(ghosts[j].gid)] = {j, m};
      ++j;
    }
  }
}

/// An atom's edges (positions into graph) in local ids: source and target slot fields chosen
/// by `ids`; weights copied alongside when the graph is weighted.
template <typename I, typename Ids>
void localize(const EdgeList& graph, const detail::VertexIndex& index,
              const std::vector<LocalSlot>& slots, std::span<const I> positions, Ids ids,
              std::vector<Edge>& out, std::vector<double>& weights) {
  out.resize(positions.size());
  weights.resize(graph.weighted ? positions.size() : 0);
  Gid src = 0;
  LocalSlot src_slot;
  for (std::size_t k = 0; k < positions.size(); ++k) {
    const Edge& e = graph.edges[positions[k]];
    if (k == 0 || e.src != src) {  // edges come in runs of one source
      src = e.src;
      src_slot = slots[index.find(src)];
    }
    out[k] = ids(src_slot, slots[index.find(e.dst)]);
    if (graph.weighted) weights[k] = graph.weights[positions[k]];
  }
}

/// Fails on the first edge (in input order) outside the declared vertex range.
void check_declared(const EdgeList& graph) {
  if (!graph.declared) return;
  const VertexRange range = *graph.declared;
  const std::size_t m = graph.size();
  const std::size_t bad = tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, m), m,
      [&](const tbb::blocked_range<std::size_t>& r, std::size_t found) {
        for (std::size_t i = r.begin(); i < r.end() && i < found; ++i) {
          const Edge& e = graph.edges[i];
          if (e.src - range.first >= range.count || e.dst - range.first >= range.count) return i;
        }
        return found;
      },
      [](std::size_t a, std::size_t b) { return std::min(a, b); });
  if (bad != m) {
    const Edge& e = graph.edges[bad];
    fail("edge ", bad, " (", e.src, " -> ", e.dst, ") lies outside the declared vertex range ",
         range.first, "..", range.first + range.count - 1);
  }
}

/// Removes the index (so the directory is not valid while atoms are being replaced).
void prepare_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    fail("cannot create atom directory '", dir.string(),
         "': ", ec ? ec.message() : "not a directory");
  }
  std::filesystem::remove(dir / kAtomIndexFileName, ec);
  if (ec) fail("cannot replace the atom index in '", dir.string(), "': ", ec.message());
}

/// Removes atom files of an earlier partition with more atoms.
void remove_stale_atoms(const std::filesystem::path& dir, std::uint32_t atoms) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::uint32_t id = 0;
    if (detail::parse_atom_file_name(entry.path().filename().string(), &id) && id >= atoms) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

/// The cut and the writing, with edge positions of type I (32-bit when they fit).
template <typename I>
AtomIndex cut_and_write(const EdgeList& graph, const std::vector<Gid>& vertices,
                        const std::vector<std::uint32_t>& vertex_atoms,
                        const PartitionOptions& options, const std::filesystem::path& dir,
                        std::uint64_t graph_id) {
  const std::size_t m = graph.size();
  const std::uint32_t k = options.atoms;
  Timer timer;
  const detail::VertexIndex index(vertices);
  std::vector<std::uint32_t> src_atom(m);
  std::vector<std::uint32_t> dst_atom(m);
  if (options.method == AtomMethod::kHash) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        src_atom[i] = hash_atom(graph.edges[i].src, k, options.seed);
        dst_atom[i] = hash_atom(graph.edges[i].dst, k, options.seed);
      }
    });
  } else {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        src_atom[i] = vertex_atoms[index.find(graph.edges[i].src)];
        dst_atom[i] = vertex_atoms[index.find(graph.edges[i].dst)];
      }
    });
  }
  const Buckets<I> out = bucket<I>(m, k, [&](std::size_t i) { return src_atom[i]; });
  const Buckets<I> in = bucket<I>(
      m, k, [&](std::size_t i) { return src_atom[i] == dst_atom[i] ? kSkip : dst_atom[i]; });
  const Buckets<std::uint64_t> owned =
      bucket<std::uint64_t>(vertices.size(), k, [&](std::size_t i) { return vertex_atoms[i]; });
  log_debug(
      str_cat("partition: grouped ", m, " edges into ", k, " atoms in ", timer.seconds(), " s"));

  timer.reset();
  AtomIndex result;
  result.graph_id = graph_id;
  result.method = options.method;
  result.seed = options.seed;
  result.weighted = graph.weighted;
  result.num_vertices = vertices.size();
  result.num_edges = m;
  result.declared = graph.declared;
  result.atoms.resize(k);
  std::vector<std::vector<AtomCut>> cuts(k);
  tbb::enumerable_thread_specific<std::vector<std::uint64_t>> cut_counts(
      [k] { return std::vector<std::uint64_t>(k, 0); });
  tbb::enumerable_thread_specific<LocalScratch> scratches;
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, k, 1), [&](const auto& r) {
    std::vector<std::uint64_t>& counts = cut_counts.local();
    LocalScratch& local = scratches.local();
    if (local.slots.size() != vertices.size()) local.slots.resize(vertices.size());
    std::vector<std::uint32_t> touched;
    std::vector<Gid> owned_gids;
    for (std::uint32_t a = r.begin(); a < r.end(); ++a) {
      const std::span<const I> out_edges = out.of(a);
      const std::span<const I> in_edges = in.of(a);
      // Ghost candidates: targets of cut out-edges, sources of cut in-edges.
      GhostBuffer ghosts(out_edges.size() + in_edges.size());
      touched.clear();
      for (I e : out_edges) {
        const std::uint32_t to = dst_atom[e];
        if (to == a) continue;
        ghosts.add(graph.edges[e].dst, to);
        if (counts[to]++ == 0) touched.push_back(to);
      }
      for (I e : in_edges) ghosts.add(graph.edges[e].src, src_atom[e]);
      ghosts.sort_unique();
      std::sort(touched.begin(), touched.end());
      for (std::uint32_t to : touched) {
        cuts[a].push_back({a, to, counts[to]});
        counts[to] = 0;
      }
      const std::span<const std::uint64_t> mine = owned.of(a);
      owned_gids.resize(mine.size());
      for (std::size_t i = 0; i < mine.size(); ++i) owned_gids[i] = vertices[mine[i]];

      assign_local_ids(vertices, index, mine, ghosts.span(), local.slots);
      localize(
          graph, index, local.slots, out_edges,
          [](const LocalSlot& src, const LocalSlot& dst) {
            return Edge{src.own, dst.merged};
          },
          local.out, local.out_weights);
      localize(
          graph, index, local.slots, in_edges,
          [](const LocalSlot& src, const LocalSlot& dst) {
            return Edge{src.own, dst.own};
          },
          local.in, local.in_weights);

      detail::AtomJournal journal;
      journal.graph_id = graph_id;
      journal.atom = a;
      journal.num_atoms = k;
      journal.weighted = graph.weighted;
      journal.vertices = owned_gids;
      journal.ghosts = ghosts.span();
      journal.out_edges = local.out;
      journal.out_weights = local.out_weights;
      journal.in_cut_edges = local.in;
      journal.in_cut_weights = local.in_weights;
      AtomEntry& entry = result.atoms[a];
      entry.file = detail::atom_file_name(a);
      const detail::FileStamp stamp = detail::write_atom_file((dir / entry.file).string(), journal);
      entry.bytes = stamp.bytes;
      entry.crc = stamp.crc;
      entry.vertices = owned_gids.size();
      entry.edges = out_edges.size();
      entry.in_cut_edges = in_edges.size();
      entry.ghosts = ghosts.span().size();
    }
  });
  for (auto& c : cuts) result.cuts.insert(result.cuts.end(), c.begin(), c.end());
  log_debug(str_cat("partition: wrote ", k, " atom files in ", timer.seconds(), " s"));
  return result;
}

}  // namespace

AtomIndex write_atoms(const EdgeList& graph, const std::filesystem::path& dir,
                      const PartitionOptions& options) {
  if (options.atoms < 1 || options.atoms > kMaxAtoms) {
    usage_fail("the number of atoms must be between 1 and ", kMaxAtoms, ", got ", options.atoms);
  }
  if (graph.weights.size() != (graph.weighted ? graph.size() : 0)) {
    fail("internal error: edge list has ", graph.size(), " edges, ", graph.weights.size(),
         " weights and weighted=", graph.weighted);
  }
  check_declared(graph);
  Timer timer;
  const std::vector<Gid> vertices = graph_vertices(graph);
  const std::uint64_t graph_id = graph_id_of(graph, vertices.size(), options);
  log_debug(
      str_cat("partition: ", vertices.size(), " vertices, fingerprint in ", timer.seconds(), " s"));
  timer.reset();
  const std::vector<std::uint32_t> vertex_atoms = assign_atoms(graph, vertices, options);
  log_debug(str_cat("partition: assigned atoms (", atom_method_name(options.method), ") in ",
                    timer.seconds(), " s"));
  prepare_directory(dir);
  const AtomIndex index =
      graph.size() <= std::numeric_limits<std::uint32_t>::max()
          ? cut_and_write<std::uint32_t>(graph, vertices, vertex_atoms, options, dir, graph_id)
          : cut_and_write<std::uint64_t>(graph, vertices, vertex_atoms, options, dir, graph_id);
  sync_directory(dir.string());
  detail::write_atom_index(dir, index);
  remove_stale_atoms(dir, options.atoms);
  return index;
}

}  // namespace atl
