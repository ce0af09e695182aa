// Loading one rank's part of a graph (see graph_part_load.hpp). The steps, on every rank:
//   atoms:  read index -> rank 0 places, broadcasts -> read own atoms in parallel -> replay
//   plain:  own share (an uncompressed .bin in place from its mapping, else parsed) -> count
//           the hash meta-graph (allreduce) -> rank 0 places, broadcasts -> announce record
//           counts, allocate the part once -> send each edge to its endpoints' owners in
//           rounds of route_edges (own records written straight into the part; ends kept as
//           32-bit offsets when the graph's ids span less than 2^32); files with a small id
//           span take a two-pass route instead (ArcPlacer, arc_placer.hpp): arcs are
//           counted per vertex and announced, then each is written into its final CSR slot
//   both:   build the local CSR (owned, then ghosts by owner) -> exchange ghost lists so each
//           owner learns where its replicas live.
// Edges keep file order within each source rank's share, and shares arrive in rank order,
// so a rank's CSR ties (repeated edges) are in input order, as in a single-rank build.
#include "atoll/graph/graph_part_load.hpp"

#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <type_traits>

#include "arc_placer.hpp"
#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/input_file.hpp"
#include "atoll/graph/placement.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atom_hash.hpp"
#include "atom_part.hpp"
#include "binary_format.hpp"
#include "step_log.hpp"

namespace atl {
namespace {

/// Idle polls of the progress thread while loading (Transport::set_idle_polls), as the
/// engines' (kEngineIdlePolls).
constexpr int kLoadIdlePolls = 64;

/// Runs f on every rank; if any rank throws an atl::Error, every rank throws the message of
/// the lowest failing rank (so the job stops with one clear error, not a peer failure).
template <typename F>
void collectively(Collectives& coll, int rank, F&& f) {
  std::string error;
  ErrorKind kind = ErrorKind::kRuntime;
  try {
    f();
  } catch (const Error& e) {
    error = e.what();
    kind = e.kind();
    if (error.empty()) error = "unknown error";
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: still every rank's error
    error = str_cat("rank ", rank, ": ", e.what());
  }
  std::vector<std::string> all = coll.allgather(error);
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) continue;
    if (static_cast<int>(r) == rank) throw Error(kind, all[r]);
    throw Error(ErrorKind::kRuntime, all[r]);
  }
}

/// Rank 0's placement, broadcast as little-endian int32 values and checked on arrival.
std::vector<int> broadcast_placement(Collectives& coll, int rank, int ranks,
                                     std::span<const AtomEntry> atoms,
                                     std::span<const AtomCut> cuts) {
  std::string bytes;
  if (rank == 0) {
    std::vector<int> placed = place_atoms(atoms, cuts, ranks);
    std::vector<std::int32_t> wire(placed.begin(), placed.end());
    bytes.assign(reinterpret_cast<const char*>(wire.data()), wire.size() * sizeof(std::int32_t));
  }
  coll.broadcast(0, bytes);
  if (bytes.size() != atoms.size() * sizeof(std::int32_t)) {
    fail("placement from rank 0 has ", bytes.size(), " bytes for ", atoms.size(), " atoms");
  }
  std::vector<int> atom_rank(atoms.size());
  for (std::size_t a = 0; a < atoms.size(); ++a) {
    std::int32_t r;
    std::memcpy(&r, bytes.data() + a * sizeof r, sizeof r);
    if (r < 0 || r >= ranks) fail("placement from rank 0 puts atom ", a, " on rank ", r);
    atom_rank[a] = r;
  }
  return atom_rank;
}

/// Keeps the exchange's bulk window while it lives (Exchange::keep_bulk_window): the routing
/// rounds' all-to-alls then reuse one window instead of each making and freeing one. free()
/// is collective; without it (an error) the window is left to the transport's stop.
class KeptWindow {
 public:
  explicit KeptWindow(Exchange& exchange) : exchange_(exchange) { exchange_.keep_bulk_window(); }
  ~KeptWindow() {
    if (!freed_) exchange_.forget_bulk_window();
  }
  KeptWindow(const KeptWindow&) = delete;
  KeptWindow& operator=(const KeptWindow&) = delete;
  void free() {
    freed_ = true;
    exchange_.free_bulk_window();
  }

 private:
  Exchange& exchange_;
  bool freed_ = false;
};

/// An edge as it travels between ranks: src, dst, then the weight when weighted; in a two-pass
/// route (ids spanning less than 2^32) both ends as 32-bit offsets from the span's first id.
std::size_t record_bytes(bool weighted, bool offsets) {
  return (offsets ? 8 : 16) + (weighted ? 8 : 0);
}

/// f(id) remembering the last id asked: the edges of a sorted input repeat their source for a
/// whole row, so the hash of a source is computed once a row.
template <typename F>
class LastAnswer {
 public:
  explicit LastAnswer(const F& f) : f_(f) {}
  auto operator()(Gid g) {
    if (!known_ || g != last_) {
      last_ = g;
      answer_ = f_(g);
      known_ = true;
    }
    return answer_;
  }

 private:
  const F& f_;
  Gid last_ = 0;
  std::invoke_result_t<const F&, Gid> answer_{};
  bool known_ = false;
};

/// Sorted (gid, rank) pairs answering owner_of for a part's ghosts.
struct OwnerTable {
  std::vector<std::pair<Gid, int>> entries;
  int operator()(Gid g) const {
    auto it = std::lower_bound(entries.begin(), entries.end(), std::make_pair(g, -1));
    return it != entries.end() && it->first == g ? it->second : -1;
  }
};

void load_from_atoms(const std::string& dir, const PartLoadOptions& options, GraphPartLoad& out,
                     GraphPart& part, std::optional<detail::PlacedPart>& placed, Collectives& coll,
                     int rank, int ranks) {
  Timer timer;
  AtomIndex index;
  collectively(coll, rank, [&] { index = read_atom_index(dir); });
  std::vector<std::string> ids = coll.allgather(std::to_string(index.graph_id));
  for (int r = 0; r < ranks; ++r) {
    if (ids[static_cast<std::size_t>(r)] != ids[0]) {
      fail(dir, ": rank ", r, " reads an atom index of another graph (id ", ids[r],
           ", rank 0 reads ", ids[0], ")");
    }
  }
  out.atom_rank = broadcast_placement(coll, rank, ranks, index.atoms, index.cuts);
  out.global_vertices = index.num_vertices;
  std::vector<std::uint32_t> mine;
  for (std::uint32_t a = 0; a < index.atoms.size(); ++a) {
    if (out.atom_rank[a] == rank) mine.push_back(a);
  }
  // Atoms take two passes straight into the rows (atom_part.hpp), no edge records, unless
  // weighted and symmetrized (a row's repeats would come from two atoms in either order).
  if (options.two_pass && !(index.weighted && options.build.symmetrize)) {
    collectively(coll, rank, [&] {
      placed =
          detail::read_atom_part(dir, index, mine, out.atom_rank, rank, options.build.symmetrize);
    });
    out.two_pass = true;
    out.read_seconds = timer.seconds();
    return;
  }
  // Each atom's vertices and out-edges go to their place in the part as soon as it is read
  // (the index gives every atom's counts), so besides the part only the atoms being decoded
  // (one a thread) are held. Its cut in-edges from another rank are kept (checked against its
  // ghost list); the others are dropped (they are out-edges of an atom on this rank).
  std::vector<std::size_t> vertex_at(mine.size() + 1, 0), edge_at(mine.size() + 1, 0);
  std::size_t in_cut_bound = 0;
  for (std::size_t k = 0; k < mine.size(); ++k) {
    const AtomEntry& e = index.atoms[mine[k]];
    vertex_at[k + 1] = vertex_at[k] + e.vertices;
    edge_at[k + 1] = edge_at[k] + e.edges;
    in_cut_bound += e.in_cut_edges;
  }
  part.owned.resize(vertex_at.back());
  part.edges.weighted = index.weighted;
  // Room for every cut in-edge too: the remote ones are appended without moving the rest
  // (pages never written take no memory).
  part.edges.edges.reserve(edge_at.back() + in_cut_bound);
  part.edges.edges.resize(edge_at.back());
  if (index.weighted) {
    part.edges.weights.reserve(edge_at.back() + in_cut_bound);
    part.edges.weights.resize(edge_at.back());
  }
  std::vector<EdgeList> remote(mine.size());
  std::vector<std::vector<std::pair<Gid, int>>> remote_ghosts(mine.size());
  collectively(coll, rank, [&] {
    tbb::parallel_for(std::size_t{0}, mine.size(), [&](std::size_t k) {
      const Atom a = read_atom(dir, index, mine[k]);
      if (a.vertices.size() != vertex_at[k + 1] - vertex_at[k] ||
          a.out_edges.size() != edge_at[k + 1] - edge_at[k]) {  // read_atom checks this
        fail(dir, ": atom ", a.id, " disagrees with its index entry");
      }
      std::copy(a.vertices.begin(), a.vertices.end(),
                part.owned.begin() + static_cast<std::ptrdiff_t>(vertex_at[k]));
      std::copy(a.out_edges.edges.begin(), a.out_edges.edges.end(),
                part.edges.edges.begin() + static_cast<std::ptrdiff_t>(edge_at[k]));
      if (index.weighted) {
        std::copy(a.out_edges.weights.begin(), a.out_edges.weights.end(),
                  part.edges.weights.begin() + static_cast<std::ptrdiff_t>(edge_at[k]));
      }
      bool any_remote = false;
      for (std::size_t i = 0; i < a.ghosts.size(); ++i) {
        const int owner = out.atom_rank[a.ghost_atoms[i]];
        if (owner != rank) {
          any_remote = true;
          remote_ghosts[k].emplace_back(a.ghosts[i], owner);
        }
      }
      EdgeList& kept = remote[k];
      kept.weighted = a.in_cut_edges.weighted;
      for (std::size_t i = 0; any_remote && i < a.in_cut_edges.size(); ++i) {
        const Gid src = a.in_cut_edges.edges[i].src;
        auto it = std::lower_bound(a.ghosts.begin(), a.ghosts.end(), src);
        if (it == a.ghosts.end() || *it != src) {
          fail(dir, ": atom ", a.id, " has a cut in-edge from ", src, ", which is not its ghost");
        }
        if (out.atom_rank[a.ghost_atoms[static_cast<std::size_t>(it - a.ghosts.begin())]] != rank) {
          kept.edges.push_back(a.in_cut_edges.edges[i]);
          if (kept.weighted) kept.weights.push_back(a.in_cut_edges.weights[i]);
        }
      }
    });
  });

  // The cut in-edges whose source lives on another rank follow the out-edges, in atom order.
  std::size_t ghosts = 0;
  for (const auto& g : remote_ghosts) ghosts += g.size();
  OwnerTable owners;
  owners.entries.reserve(ghosts);
  for (std::size_t k = 0; k < mine.size(); ++k) {
    part.edges.edges.insert(part.edges.edges.end(), remote[k].edges.begin(), remote[k].edges.end());
    if (index.weighted) {
      part.edges.weights.insert(part.edges.weights.end(), remote[k].weights.begin(),
                                remote[k].weights.end());
    }
    remote[k] = EdgeList{};
    owners.entries.insert(owners.entries.end(), remote_ghosts[k].begin(), remote_ghosts[k].end());
    std::vector<std::pair<Gid, int>>().swap(remote_ghosts[k]);
  }
  tbb::parallel_sort(part.owned.begin(), part.owned.end());
  tbb::parallel_sort(owners.entries.begin(), owners.entries.end());
  owners.entries.erase(std::unique(owners.entries.begin(), owners.entries.end()),
                       owners.entries.end());
  for (std::size_t i = 1; i < owners.entries.size(); ++i) {
    if (owners.entries[i].first == owners.entries[i - 1].first) {
      fail(dir, ": vertex ", owners.entries[i].first, " is a ghost of two different owners");
    }
  }
  part.owner_of = [owners = std::move(owners)](Gid g) { return owners(g); };
  out.read_seconds = timer.seconds();
}

/// Runs fn(lo, hi) over the edges of a view in slices of `slice` edges, in order, telling the
/// view's release (when set) of each slice once done: a mapped share's pages are dropped as
/// they are used.
template <typename Fn>
void over_slices(const EdgeView& view, std::size_t slice, Fn&& fn) {
  const std::size_t m = view.edges.size();
  for (std::size_t lo = 0; lo < m; lo += slice) {
    const std::size_t hi = std::min(m, lo + slice);
    fn(lo, hi);
    if (view.release) view.release(lo, hi);
  }
}

/// The smallest and largest id among the ends of some edges (lo > hi when there are none).
struct IdSpan {
  Gid lo = ~Gid{0};
  Gid hi = 0;
};

/// Counts of the hash meta-graph over this rank's edges (and its share of a declared vertex
/// range): [vertices per atom | edges per atom | cut in-edges per atom | k x k cut matrix];
/// `span` gets the edges' id span.
std::vector<std::uint64_t> count_meta_graph(const EdgeView& edges,
                                            const std::optional<VertexRange>& declared,
                                            std::uint32_t k, std::uint64_t seed, int rank,
                                            int ranks, std::size_t slice, IdSpan& span) {
  const detail::AtomHash atom_of(k, seed);
  const std::size_t kk = k;
  const std::size_t size = 3 * kk + kk * kk;
  tbb::combinable<std::vector<std::uint64_t>> local(
      [size] { return std::vector<std::uint64_t>(size, 0); });
  tbb::combinable<IdSpan> spans;
  over_slices(edges, slice, [&](std::size_t lo, std::size_t hi) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(lo, hi, 1 << 14), [&](const auto& r) {
      std::vector<std::uint64_t>& c = local.local();
      IdSpan& ids = spans.local();
      LastAnswer src_atom(atom_of);
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        const Edge e = edges.edges[i];
        ids.lo = std::min({ids.lo, e.src, e.dst});
        ids.hi = std::max({ids.hi, e.src, e.dst});
        std::uint32_t a = src_atom(e.src);
        std::uint32_t b = atom_of(e.dst);
        ++c[kk + a];
        if (a != b) {
          ++c[2 * kk + b];
          ++c[3 * kk + a * kk + b];
        }
      }
    });
  });
  if (declared) {
    const Gid lo = declared->first + declared->count * static_cast<Gid>(rank) / ranks;
    const Gid hi = declared->first + declared->count * static_cast<Gid>(rank + 1) / ranks;
    tbb::parallel_for(tbb::blocked_range<Gid>(lo, hi, 1 << 14), [&](const auto& r) {
      std::vector<std::uint64_t>& c = local.local();
      for (Gid g = r.begin(); g < r.end(); ++g) ++c[atom_of(g)];
    });
  }
  std::vector<std::uint64_t> counts(size, 0);
  local.combine_each([&](const std::vector<std::uint64_t>& c) {
    for (std::size_t i = 0; i < size; ++i) counts[i] += c[i];
  });
  span = IdSpan{};
  spans.combine_each([&](const IdSpan& ids) {
    span = IdSpan{std::min(span.lo, ids.lo), std::max(span.hi, ids.hi)};
  });
  return counts;
}

/// The vertices this rank owns: its share of a declared range, else the ends of its m edges
/// (edge(i)) that it owns (a marking table over the id span when dense, else a parallel sort).
template <typename EdgeAt, typename OwnerOf>
std::vector<Gid> owned_vertices(std::size_t m, const EdgeAt& edge,
                                const std::optional<VertexRange>& declared, const OwnerOf& owner_of,
                                int rank) {
  std::vector<Gid> owned;
  if (declared) {
    // Chunks in order: collect per chunk, then concatenate in chunk order.
    const Gid n = declared->count;
    const std::size_t chunks = static_cast<std::size_t>(std::min<Gid>(n / 65536 + 1, 256));
    std::vector<std::vector<Gid>> per(chunks);
    tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
      Gid lo = declared->first + n * c / chunks;
      Gid hi = declared->first + n * (c + 1) / chunks;
      for (Gid g = lo; g < hi; ++g) {
        if (owner_of(g) == rank) per[c].push_back(g);
      }
    });
    for (auto& v : per) owned.insert(owned.end(), v.begin(), v.end());
    return owned;
  }
  if (m == 0) return owned;
  Gid lo = ~Gid{0}, hi = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const Edge e = edge(i);
    lo = std::min({lo, e.src, e.dst});
    hi = std::max({hi, e.src, e.dst});
  }
  if (hi - lo <= 4 * m + (1u << 20)) {
    std::vector<std::uint8_t> mark(static_cast<std::size_t>(hi - lo) + 1, 0);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) {
        const Edge e = edge(i);
        for (Gid g : {e.src, e.dst}) {
          std::atomic_ref<std::uint8_t>(mark[g - lo]).store(1, std::memory_order_relaxed);
        }
      }
    });
    for (std::size_t x = 0; x < mark.size(); ++x) {
      if (mark[x] != 0 && owner_of(lo + x) == rank) owned.push_back(lo + x);
    }
    return owned;
  }
  owned.resize(2 * m);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, m), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      const Edge e = edge(i);
      owned[2 * i] = e.src;
      owned[2 * i + 1] = e.dst;
    }
  });
  tbb::parallel_sort(owned.begin(), owned.end());
  owned.erase(std::unique(owned.begin(), owned.end()), owned.end());
  std::erase_if(owned, [&](Gid g) { return owner_of(g) != rank; });
  return owned;
}

/// A rank's share of a plain graph file, in file order: borrowed from the mapping of an
/// uncompressed binary edge list (its pages dropped as each pass is done with them), else
/// parsed into memory.
struct FileShare {
  std::optional<InputFile> file;  ///< open while `view` borrows from it
  EdgeListPart parsed;
  EdgeView view;
  /// A binary file: its payload's size and checksum, and the checksum of this rank's part of
  /// the payload (bytes payload * rank / ranks up to payload * (rank + 1) / ranks).
  struct Crc {
    std::uint64_t payload = 0;
    std::uint32_t file = 0;
    std::uint32_t part = 0;
  };
  std::optional<Crc> crc;
  std::uint64_t first_edge = 0;  ///< a binary file: the file index of view.edges[0]
  FileShare() = default;
  FileShare(const FileShare&) = delete;  // view.release refers to file
  FileShare& operator=(const FileShare&) = delete;
};

void open_share(FileShare& share, const std::string& path, const PartLoadOptions& options, int rank,
                int ranks) {
  share.file.emplace(InputFile::open(path));
  const InputFile& file = *share.file;
  const std::string_view bytes = file.bytes();
  const GraphFormat format =
      options.format == GraphFormat::kAuto ? detect_format(bytes) : options.format;
  if (format != GraphFormat::kBin || file.compression() != Compression::kNone) {
    share.parsed =
        parse_edge_list_part(bytes, options.format, path, rank, ranks, options.mtx_layout);
    share.file.reset();
    share.view = EdgeView(share.parsed.list);
    return;
  }
  // Each rank sums the checksum of its part of the payload (check_share_crc combines them).
  const detail::BinaryLayout layout = detail::check_binary_header(bytes, path);
  const auto r = static_cast<std::uint64_t>(rank);
  const auto n = static_cast<std::uint64_t>(ranks);
  share.crc = FileShare::Crc{
      layout.payload, layout.payload_crc,
      detail::binary_payload_crc(
          bytes, layout, layout.payload * r / n, layout.payload * (r + 1) / n,
          [&file](std::size_t offset, std::size_t length) { file.release(offset, length); })};
  const std::uint64_t m = layout.m;
  const std::uint64_t lo = m * static_cast<std::uint64_t>(rank) / static_cast<std::uint64_t>(ranks);
  const std::uint64_t hi =
      m * static_cast<std::uint64_t>(rank + 1) / static_cast<std::uint64_t>(ranks);
  // The declared range is checked after the checksum (check_share_crc): a corrupt payload is
  // reported as such on every rank, not as an edge outside the range.
  detail::BinaryLayout unchecked = layout;
  unchecked.declared.reset();
  share.view = detail::binary_slice(bytes, unchecked, path, lo, hi);
  share.view.declared = layout.declared;
  share.first_edge = lo;
  const bool weighted = layout.weighted;
  share.view.release = [&file, m, lo, weighted](std::size_t begin, std::size_t end) {
    const std::size_t edges = detail::kBinaryHeaderSize;
    file.release(edges + (lo + begin) * sizeof(Edge), (end - begin) * sizeof(Edge));
    if (weighted) {
      file.release(edges + m * sizeof(Edge) + (lo + begin) * sizeof(double),
                   (end - begin) * sizeof(double));
    }
  };
  (weighted ? share.parsed.first_weighted_line : share.parsed.first_unweighted_line) = 0;
}

/// A binary file: the ranks' checksums of their parts of the payload, chained in rank order,
/// must give the file's (collective; every rank throws when they do not).
void check_share_crc(const FileShare& share, const std::string& path, Collectives& coll, int rank,
                     int ranks) {
  std::string mine;
  if (share.crc) mine = std::to_string(share.crc->part);
  const std::vector<std::string> parts = coll.allgather(mine);
  collectively(coll, rank, [&] {
    if (!share.crc) return;  // not a binary file (every rank reads the same file)
    const std::uint64_t payload = share.crc->payload;
    const auto n = static_cast<std::uint64_t>(ranks);
    std::uint32_t crc = 0;
    for (std::uint64_t r = 0; r < n; ++r) {
      const std::string& part = parts[static_cast<std::size_t>(r)];
      std::uint64_t value = 0;
      const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
      if (part.empty() || error != std::errc() || end != part.data() + part.size() ||
          value > 0xffffffffu) {
        fail("rank ", r, " sent no checksum of its part of ", path);
      }
      crc = crc32c_combine(crc, static_cast<std::uint32_t>(value),
                           payload * (r + 1) / n - payload * r / n);
    }
    if (crc != share.crc->file) {
      fail(path, ": binary edge list payload checksum mismatch (corrupt file)");
    }
  });
}

/// A plain file: `part` gets this rank's edges as records, or (two-pass route) `placed` its
/// arcs already in their final rows.
void load_from_file(const std::string& path, const PartLoadOptions& options, GraphPartLoad& out,
                    GraphPart& part, std::optional<detail::PlacedPart>& placed, Collectives& coll,
                    Exchange& exchange, int rank, int ranks) {
  Timer timer;
  detail::StepLog step(rank);
  const std::uint32_t k = options.atoms;
  if (k == 0) usage_fail("--atoms must be at least 1");
  if (options.route_edges == 0) usage_fail("route_edges must be at least 1");
  FileShare share;
  collectively(coll, rank, [&] { open_share(share, path, options, rank, ranks); });
  check_share_crc(share, path, coll, rank, ranks);
  if (share.crc) {  // a binary file whose payload is sound: its edges against the declared range
    collectively(coll, rank, [&] {
      if (share.view.declared) {
        detail::check_declared(share.view.edges, share.first_edge, *share.view.declared, path);
      }
      share.view.release(0, share.view.edges.size());  // read now; the passes map them again
    });
  }
  std::uint64_t lines[2] = {share.parsed.first_weighted_line, share.parsed.first_unweighted_line};
  coll.allreduce(std::span<std::uint64_t>(lines), ReduceOp::kMin);
  const bool weighted = check_part_weights(lines[0], lines[1], path);
  EdgeView& mine = share.view;
  if (mine.edges.empty()) mine.weighted = weighted;  // an empty share knows nothing
  const std::optional<VertexRange> declared = mine.declared;
  out.read_seconds = timer.seconds();
  timer.reset();
  step("read");

  // Edges are routed in rounds of `round` edges of the share, each a chunk of `chunk` edges
  // a task: the send and receive buffers hold one round's records at a time.
  const std::size_t chunk = static_cast<std::size_t>(
      std::min<std::uint64_t>(options.route_edges, std::uint64_t{1} << 16));
  const std::size_t round = static_cast<std::size_t>(options.route_edges) / chunk * chunk;

  // The hash meta-graph: per atom vertices (declared range only), edges and cut in-edges,
  // and the cut matrix, counted in parallel and summed over ranks.
  const std::uint64_t seed = options.seed;
  const std::size_t kk = static_cast<std::size_t>(k);
  const std::size_t m = mine.edges.size();
  IdSpan ids;
  std::vector<std::uint64_t> counts =
      count_meta_graph(mine, declared, k, seed, rank, ranks, round, ids);
  coll.allreduce(std::span<std::uint64_t>(counts), ReduceOp::kSum);
  ids.lo = coll.allreduce<std::uint64_t>(ids.lo, ReduceOp::kMin);
  ids.hi = coll.allreduce<std::uint64_t>(ids.hi, ReduceOp::kMax);
  std::vector<AtomEntry> atoms(kk);
  std::vector<AtomCut> cuts;
  for (std::uint32_t a = 0; a < k; ++a) {
    atoms[a].vertices = counts[a];
    atoms[a].edges = counts[kk + a];
    atoms[a].in_cut_edges = counts[2 * kk + a];
    for (std::uint32_t b = 0; b < k; ++b) {
      if (counts[3 * kk + a * kk + b] != 0)
        cuts.push_back(AtomCut{a, b, counts[3 * kk + a * kk + b]});
    }
  }
  out.atom_rank = broadcast_placement(coll, rank, ranks, atoms, cuts);
  const std::vector<int>& atom_rank = out.atom_rank;
  auto owner_of = [&atom_rank, atom_of = detail::AtomHash(k, seed)](Gid g) {
    return atom_rank[atom_of(g)];
  };

  // The two-pass route (ArcPlacer) covers inputs whose ids (and declared ranges) span a small
  // range (weighted ones: under 2^31 edges, 2^30 symmetrized); the rest (ids spread over 2^32
  // or more, spans too wide for count arrays) take the one-pass route below (edge records,
  // then Topology::build_part).
  IdSpan all = ids;
  if (declared && declared->count > 0) {
    all.lo = std::min(all.lo, declared->first);
    all.hi = std::max(all.hi, declared->first + declared->count - 1);
  }
  all.lo = coll.allreduce<std::uint64_t>(all.lo, ReduceOp::kMin);
  all.hi = coll.allreduce<std::uint64_t>(all.hi, ReduceOp::kMax);
  std::uint64_t graph_edges = 0;
  for (const AtomEntry& a : atoms) graph_edges += a.edges;
  std::optional<detail::ArcPlacer> placer;
  if (options.two_pass && detail::ArcPlacer::fits(all.lo, all.hi, graph_edges, ranks) &&
      (!weighted || detail::ArcPlacer::fits_weighted(options.build.symmetrize, graph_edges))) {
    placer.emplace(all.lo, all.hi, rank, ranks, options.build.symmetrize, weighted, owner_of);
  }
  out.two_pass = placer.has_value();
  step("meta-graph and placement");
  std::atomic<bool> changed{false};  // two passes: this rank's input changed between them

  // Route: each edge to its source's owner, and to its destination's when that differs.
  // First count the records of every chunk to every rank; their prefix sums are where each
  // record goes in its rank's stream (file order per target).
  const std::size_t nr = static_cast<std::size_t>(ranks);
  const std::size_t me = static_cast<std::size_t>(rank);
  const std::size_t chunks = (m + chunk - 1) / chunk;
  auto for_targets = [&](std::size_t i, auto& src_owner, auto&& visit) {
    const int rs = src_owner(mine.edges[i].src);
    const int rd = owner_of(mine.edges[i].dst);
    visit(static_cast<std::size_t>(rs));
    if (rd != rs) visit(static_cast<std::size_t>(rd));
  };
  std::vector<std::uint64_t> at(chunks * nr + nr, 0);  // at[c * nr + r]: chunk c's records to r
  over_slices(mine, round, [&](std::size_t lo, std::size_t hi) {
    tbb::parallel_for(lo / chunk, (hi + chunk - 1) / chunk, [&](std::size_t c) {
      // Locals, not captures: the loop's stores could otherwise alias what it reads.
      const Edge* const edges = mine.edges.data();
      std::uint64_t* const at_c = at.data() + c * nr;
      detail::ArcPlacer* const placing = placer ? &*placer : nullptr;
      LastAnswer src_owner(owner_of);
      bool outside = false;
      for (std::size_t i = c * chunk, end = std::min(m, i + chunk); i < end; ++i) {
        const Edge e = edges[i];
        const int rs = src_owner(e.src);
        const int rd = owner_of(e.dst);
        ++at_c[rs];
        if (placing != nullptr) outside |= !placing->count(static_cast<std::size_t>(rs), e);
        if (rd == rs) continue;
        ++at_c[rd];
        if (placing != nullptr) outside |= !placing->count(static_cast<std::size_t>(rd), e);
      }
      if (outside) changed = true;
    });
  });
  for (std::size_t r = 0; r < nr; ++r) {
    std::uint64_t total = 0;
    for (std::size_t c = 0; c <= chunks; ++c) {  // at[chunks * nr + r]: r's total
      std::uint64_t n = at[c * nr + r];
      at[c * nr + r] = total;
      total += n;
    }
  }

  step("route count");

  // Every rank announces how many records it sends each rank, so the part's edges are
  // allocated once and filled in place: sources in rank order, each in its file order.
  std::vector<std::vector<std::byte>> announce(nr);
  for (std::size_t r = 0; r < nr; ++r) {
    if (r == me) continue;
    announce[r].resize(sizeof(std::uint64_t));
    std::memcpy(announce[r].data(), &at[chunks * nr + r], sizeof(std::uint64_t));
  }
  std::vector<std::vector<std::byte>> heard = exchange.all_to_all(std::move(announce));
  const std::size_t rec = record_bytes(weighted, placer.has_value());
  const Gid base = placer ? placer->lo() : 0;
  const std::size_t ends_bytes = placer ? 8 : 16;  // then the weight, when weighted
  auto encode = [&](std::byte* to, const Edge& e, const double* w) {
    if (placer) {
      const std::uint32_t ends[2] = {static_cast<std::uint32_t>(e.src - base),
                                     static_cast<std::uint32_t>(e.dst - base)};
      std::memcpy(to, ends, 8);
    } else {
      std::memcpy(to, &e, 16);
    }
    if (w != nullptr) std::memcpy(to + ends_bytes, w, 8);
  };
  auto decode = [&](const std::byte* from, Edge& e, double& w) {
    if (placer) {
      std::uint32_t ends[2];
      std::memcpy(ends, from, 8);
      e = Edge{base + ends[0], base + ends[1]};
    } else {
      std::memcpy(&e, from, 16);
    }
    if (weighted) std::memcpy(&w, from + ends_bytes, 8);
  };
  std::vector<std::uint64_t> expected(nr, 0);
  std::vector<std::uint64_t> first(nr + 1, 0);
  for (std::size_t s = 0; s < nr; ++s) {
    if (s == me) {
      expected[s] = at[chunks * nr + me];
    } else if (heard[s].size() != sizeof(std::uint64_t)) {
      fail("rank ", s, " sent ", heard[s].size(), " bytes of edge counts (not 8)");
    } else {
      std::memcpy(&expected[s], heard[s].data(), sizeof(std::uint64_t));
    }
    // Each edge of the graph goes to at most two ranks.
    if (expected[s] > 2 * graph_edges - first[s]) {
      fail("rank ", s, " announces ", expected[s], " edges for rank ", rank, ", past the ",
           2 * graph_edges, " the graph's ", graph_edges, " edges can give one rank");
    }
    first[s + 1] = first[s] + expected[s];
  }

  // Two passes: every rank announces the arcs of every vertex it sends each rank, so each
  // rank lays out its rows and allocates its final arcs once. A peer's arcs must add up to
  // what its edges give (one or, symmetrized, two each), which bounds the allocation.
  if (placer) {
    std::vector<std::vector<std::byte>> counts = placer->announce();
    if (options.tamper_counts) {
      for (int r = 0; r < ranks; ++r) {
        if (r != rank) options.tamper_counts(r, counts[static_cast<std::size_t>(r)]);
      }
    }
    std::vector<std::vector<std::byte>> heard_counts = exchange.all_to_all(std::move(counts));
    collectively(coll, rank, [&] { placer->receive(std::move(heard_counts), expected); });
  }
  step("announce");

  // Every id lies in the span of the whole graph's: when it is under 2^32 wide, the part
  // keeps each end as a 32-bit offset (8 bytes an edge, not 16).
  const bool compact = ids.lo <= ids.hi && ids.hi - ids.lo <= 0xffffffffu;
  CompactEdges& small = part.compact;
  part.edges.weighted = weighted;
  small.weighted = weighted;
  small.base = ids.lo;
  if (placer) {
    // The arcs go to the placer's rows; no records are kept.
  } else if (compact) {
    small.src.resize(first[nr]);
    small.dst.resize(first[nr]);
  } else {
    part.edges.edges.resize(first[nr]);
  }
  std::vector<double>& weights = compact ? small.weights : part.edges.weights;
  if (weighted && !placer) weights.resize(first[nr]);
  auto keep = [&, kept = part.edges.edges.data(), kept_weights = weights.data()](
                  std::uint64_t at, const Edge& e, const double* w) {
    if (compact) {
      small.src[at] = static_cast<std::uint32_t>(e.src - ids.lo);
      small.dst[at] = static_cast<std::uint32_t>(e.dst - ids.lo);
    } else {
      kept[at] = e;
    }
    if (w != nullptr) kept_weights[at] = *w;
  };

  // Rounds: this rank's records for itself go straight into the part, the others' into one
  // buffer per rank; every rank takes part in every round (possibly with nothing to send).
  const std::uint64_t rounds =
      coll.allreduce<std::uint64_t>((m + round - 1) / round, ReduceOp::kMax);
  const std::size_t round_chunks = round / chunk;
  std::vector<std::uint64_t> got(nr, 0);  // records received from each rank so far
  KeptWindow kept(exchange);              // one bulk window for all the rounds
  std::string placing_error;              // two passes: the first peer that sent too many arcs
  for (std::uint64_t t = 0; t < rounds; ++t) {
    const std::size_t c0 = std::min<std::size_t>(chunks, t * round_chunks);
    const std::size_t c1 = std::min(chunks, c0 + round_chunks);
    std::vector<std::uint64_t> start(nr);  // stream position of this round's first record to r
    std::vector<std::vector<std::byte>> send(nr);
    for (std::size_t r = 0; r < nr; ++r) {
      start[r] = at[c0 * nr + r];
      if (r != me) send[r].resize((at[c1 * nr + r] - start[r]) * rec);
    }
    if (placer) {
      // The two-pass route's arcs: ends as 32-bit offsets (hoisted locals: see the count);
      // weighted, an own arc's record index is where the one-pass route would keep it.
      std::vector<std::byte*> dest(nr, nullptr);
      for (std::size_t r = 0; r < nr; ++r) {
        if (r != me) dest[r] = send[r].data();
      }
      tbb::parallel_for(c0, c1, [&](std::size_t c) {
        const Edge* const edges = mine.edges.data();
        std::uint64_t* const at_c = at.data() + c * nr;
        const std::uint64_t* const from = start.data();
        std::byte* const* const to = dest.data();
        const double* const input_weights = weighted ? mine.weights.data() : nullptr;
        const std::uint64_t own_first = first[me];
        detail::ArcPlacer& placing = *placer;
        LastAnswer src_owner(owner_of);
        bool short_count = false;
        auto route = [&](std::size_t r, const Edge& e, const double* w) {
          const std::uint64_t pos = at_c[r]++;
          if (r == me) {
            // This rank's own counts: short only if the input changed since it was counted.
            short_count |= placing.place(me, e, w != nullptr ? *w : 0,
                                         static_cast<std::uint32_t>(own_first + pos)) !=
                           detail::ArcPlacer::kPlaced;
            return;
          }
          std::byte* const record = to[r] + (pos - from[r]) * rec;
          const std::uint32_t ends[2] = {static_cast<std::uint32_t>(e.src - base),
                                         static_cast<std::uint32_t>(e.dst - base)};
          std::memcpy(record, ends, 8);
          if (w != nullptr) std::memcpy(record + 8, w, 8);
        };
        for (std::size_t i = c * chunk, end = std::min(m, i + chunk); i < end; ++i) {
          const Edge e = edges[i];
          const double* const w = input_weights != nullptr ? input_weights + i : nullptr;
          const auto rs = static_cast<std::size_t>(src_owner(e.src));
          const auto rd = static_cast<std::size_t>(owner_of(e.dst));
          route(rs, e, w);
          if (rd != rs) route(rd, e, w);
        }
        if (short_count) changed = true;
      });
    } else {  // the one-pass route: edge records
      tbb::parallel_for(c0, c1, [&](std::size_t c) {
        LastAnswer src_owner(owner_of);
        for (std::size_t i = c * chunk, end = std::min(m, i + chunk); i < end; ++i) {
          const Edge& e = mine.edges[i];
          const double* w = weighted ? &mine.weights[i] : nullptr;
          for_targets(i, src_owner, [&](std::size_t r) {
            const std::uint64_t pos = at[c * nr + r]++;
            if (r == me) {
              keep(first[me] + pos, e, w);
              return;
            }
            encode(send[r].data() + (pos - start[r]) * rec, e, w);
          });
        }
      });
    }
    if (mine.release && c1 > c0) mine.release(c0 * chunk, std::min(m, c1 * chunk));
    for (std::size_t r = 0; r < nr; ++r) {
      if (r != me) out.bytes_sent += send[r].size();
    }
    std::vector<std::vector<std::byte>> received = exchange.all_to_all(std::move(send));
    for (std::size_t s = 0; s < nr; ++s) {
      if (s == me) continue;
      const std::vector<std::byte>& buf = received[s];
      if (buf.size() % rec != 0) {
        fail("rank ", s, " sent ", buf.size(), " bytes of edges (not whole ", rec,
             "-byte records)");
      }
      const std::size_t n = buf.size() / rec;
      if (n > expected[s] - got[s]) {
        fail("rank ", s, " sent ", buf.size(), " bytes of edges, past the ", expected[s],
             " edges it announced");
      }
      const std::uint64_t into = first[s] + got[s];
      std::atomic<bool> stray{false}, outside{false};
      // The offset of an end of an arc past what rank s announced.
      std::atomic<std::uint32_t> too_many{detail::ArcPlacer::kPlaced};
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
        LastAnswer src_owner(owner_of);
        for (std::size_t j = range.begin(); j < range.end(); ++j) {
          Edge e;
          double w = 0;
          decode(buf.data() + j * rec, e, w);
          if (e.src - ids.lo > ids.hi - ids.lo || e.dst - ids.lo > ids.hi - ids.lo) {
            outside = true;
          } else if (src_owner(e.src) != rank && owner_of(e.dst) != rank) {
            stray = true;
          } else if (!placer) {
            keep(into + j, e, weighted ? &w : nullptr);
          } else if (placing_error.empty()) {
            const std::uint32_t full = placer->place(s, e, w, static_cast<std::uint32_t>(into + j));
            if (full != detail::ArcPlacer::kPlaced) too_many.store(full, std::memory_order_relaxed);
          }
        }
      });
      got[s] += n;
      std::vector<std::byte>().swap(received[s]);
      if (outside) {
        fail("rank ", s, " sent rank ", rank, " an edge with an end outside the graph's ids ",
             ids.lo, "..", ids.hi);
      }
      if (stray) fail("rank ", s, " sent rank ", rank, " an edge whose ends it does not own");
      if (too_many.load() != detail::ArcPlacer::kPlaced && placing_error.empty()) {
        placing_error = str_cat("rank ", s, " sent rank ", rank, " more arcs of vertex ",
                                placer->lo() + too_many.load(), " than it announced");
      }
    }
  }
  kept.free();
  // Every rank took part in every round; now a peer's inconsistent counts stop them all.
  if (changed) placing_error = str_cat("rank ", rank, ": ", path, " changed while it was read");
  for (std::size_t s = 0; s < nr && placing_error.empty(); ++s) {
    if (s != me && got[s] != expected[s]) {
      placing_error = str_cat("rank ", s, " sent ", got[s] * rec, " bytes of edges, not the ",
                              expected[s], " edges it announced");
    }
  }
  if (placer && placing_error.empty()) placing_error = placer->check_complete();
  collectively(coll, rank, [&] {
    if (!placing_error.empty()) fail(placing_error);
  });
  step("rounds");
  share.view = EdgeView{};
  share.file.reset();  // unmaps the file
  share.parsed = EdgeListPart{};

  // Owned vertices: the declared range's (isolated ones included), else the endpoints seen.
  if (placer) {
    collectively(coll, rank, [&] { placed = placer->finish(declared); });
    placer.reset();
    step("finish");
    part.owner_of = owner_of;
    out.global_vertices = coll.allreduce<std::uint64_t>(placed->num_owned, ReduceOp::kSum);
    out.exchange_seconds = timer.seconds();
    return;
  }
  if (compact) {
    part.owned = owned_vertices(
        small.size(), [&small](std::size_t i) { return small[i]; }, declared, owner_of, rank);
  } else {
    const std::vector<Edge>& kept = part.edges.edges;
    part.owned = owned_vertices(
        kept.size(), [&kept](std::size_t i) { return kept[i]; }, declared, owner_of, rank);
  }
  part.owner_of = owner_of;
  out.global_vertices = coll.allreduce<std::uint64_t>(part.owned.size(), ReduceOp::kSum);
  out.exchange_seconds = timer.seconds();
}

}  // namespace

/// Every rank tells each owner which of its vertices it holds as ghosts (gids in lid order,
/// after the first ghost lid); owners turn that into replica lists.
void install_replicas(Topology& g, Exchange& exchange, int rank, int ranks) {
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(ranks));
  for (const GhostRange& range : g.ghost_ranges()) {
    std::vector<std::byte>& buf = out[static_cast<std::size_t>(range.owner_rank)];
    buf.resize(4 + std::size_t{8} * (range.end - range.begin));
    std::memcpy(buf.data(), &range.begin, 4);
    for (Lid v = range.begin; v < range.end; ++v) {
      Gid gid = g.gid(v);
      std::memcpy(buf.data() + 4 + std::size_t{8} * (v - range.begin), &gid, 8);
    }
  }
  std::vector<std::vector<std::byte>> in = exchange.all_to_all(std::move(out));
  const Lid owned = g.num_owned();
  std::vector<std::uint64_t> offsets(static_cast<std::size_t>(owned) + 1, 0);
  auto for_each_entry = [&](auto visit) {
    for (int s = 0; s < ranks; ++s) {
      const std::vector<std::byte>& buf = in[static_cast<std::size_t>(s)];
      if (buf.empty()) continue;
      if (s == rank || buf.size() < 4 || (buf.size() - 4) % 8 != 0) {
        fail("rank ", s, " sent a ghost list of ", buf.size(), " bytes to rank ", rank);
      }
      Lid base;
      std::memcpy(&base, buf.data(), 4);
      const std::size_t count = (buf.size() - 4) / 8;
      for (std::size_t i = 0; i < count; ++i) {
        Gid gid;
        std::memcpy(&gid, buf.data() + 4 + 8 * i, 8);
        Lid v = g.lid(gid);
        if (v == kInvalidLid || v >= owned) {
          fail("rank ", s, " holds vertex ", gid, " as a ghost owned by rank ", rank,
               ", which does not own it");
        }
        visit(v, Replica{s, static_cast<Lid>(base + i)});
      }
    }
  };
  for_each_entry([&](Lid v, Replica) { ++offsets[v + 1]; });
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  std::vector<Replica> replicas(offsets.back());
  std::vector<std::uint64_t> cursor(offsets.begin(), offsets.end() - 1);
  for_each_entry([&](Lid v, Replica r) { replicas[cursor[v]++] = r; });  // in rank order
  g.set_replicas(std::move(offsets), std::move(replicas));
}

GraphPartLoad load_graph_part(const std::string& path, Transport& transport, Collectives& coll,
                              Exchange& exchange, const PartLoadOptions& options) {
  const int rank = transport.rank();
  const int ranks = transport.size();
  // The ranks compute between collectives, and drive the network while they wait in them: the
  // progress thread polls briefly before it sleeps, so it does not take their cores.
  const ScopedIdlePolls quiet(transport, kLoadIdlePolls);
  GraphPartLoad out;
  GraphPart part;
  std::optional<detail::PlacedPart> placed;
  part.rank = rank;
  out.from_atoms = is_atom_directory(path);
  if (out.from_atoms) {
    load_from_atoms(path, options, out, part, placed, coll, rank, ranks);
  } else {
    load_from_file(path, options, out, part, placed, coll, exchange, rank, ranks);
  }
  Timer timer;
  detail::StepLog step(rank);
  collectively(coll, rank, [&] {
    out.topology = placed ? detail::build_placed_part(std::move(*placed), options.build)
                          : Topology::build_part(std::move(part), options.build);
  });
  placed.reset();
  part = GraphPart{};
  step("build");
  install_replicas(out.topology, exchange, rank, ranks);
  step("replicas");
  out.global_edges = coll.allreduce<std::uint64_t>(out.topology.owned_edges(), ReduceOp::kSum);
  out.build_seconds = timer.seconds();
  return out;
}

Topology build_known_part(const GraphPart& part, Exchange& exchange, int ranks,
                          const BuildOptions& options) {
  Topology g = Topology::build_part(part, options);
  install_replicas(g, exchange, part.rank, ranks);
  return g;
}

}  // namespace atl
