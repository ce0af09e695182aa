// One atom file: a header, then blocks of vertex, edge, cut in-edge and ghost records, then
// an end block (docs/atoms.md). The reader checks the file against the index, every block's
// checksum (in parallel), and that the records make sense before returning anything.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ios>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atom_blocks.hpp"
#include "atom_io.hpp"

namespace atl {
namespace detail {
namespace {

static_assert(sizeof(Edge) == kEdgeRecordBase && sizeof(double) == 8);

constexpr std::size_t kHeaderCrcBytes = offsetof(AtomFileHeader, header_crc);

std::size_t edge_record_size(bool weighted) {
  return kEdgeRecordBase + (weighted ? sizeof(double) : 0);
}

/// Serializes edges[first, first + n) of `positions` as edge records.
void put_edges(unsigned char* dst, const EdgeList& graph, const EdgePositions& positions,
               std::uint64_t first, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t e = positions[first + i];
    std::memcpy(dst, &graph.edges[e], sizeof(Edge));
    dst += sizeof(Edge);
    if (graph.weighted) {
      std::memcpy(dst, &graph.weights[e], sizeof(double));
      dst += sizeof(double);
    }
  }
}

std::string hex(std::uint64_t value) {
  return str_cat("0x", std::hex, value);
}

/// The first i in [0, n) with bad(i), or n; the same answer for any thread count.
template <typename Bad>
std::size_t first_bad(std::size_t n, Bad&& bad) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, n), n,
      [&](const tbb::blocked_range<std::size_t>& r, std::size_t found) {
        for (std::size_t i = r.begin(); i < r.end() && i < found; ++i) {
          if (bad(i)) return i;
        }
        return found;
      },
      [](std::size_t a, std::size_t b) { return std::min(a, b); });
}

/// Membership in a sorted id list: a bitmap over [min, max] when that is at most 64 bits per id
/// (plus 1 MiB), else binary search.
class IdSet {
 public:
  explicit IdSet(const std::vector<Gid>& sorted) : ids_(sorted) {
    if (sorted.empty()) return;
    lo_ = sorted.front();
    const std::uint64_t span = sorted.back() - lo_;
    if (span / 64 > sorted.size() + (std::uint64_t{1} << 17)) return;
    bits_.assign(span / 64 + 1, 0);
    for (Gid v : sorted) bits_[(v - lo_) / 64] |= std::uint64_t{1} << ((v - lo_) % 64);
  }
  bool contains(Gid v) const {
    if (bits_.empty()) return std::binary_search(ids_.begin(), ids_.end(), v);
    const std::uint64_t x = v - lo_;
    return x / 64 < bits_.size() && ((bits_[x / 64] >> (x % 64)) & 1) != 0;
  }

 private:
  const std::vector<Gid>& ids_;
  Gid lo_ = 0;
  std::vector<std::uint64_t> bits_;
};

/// Reads one atom file: checks, decodes and validates (see read_atom).
class AtomReader {
 public:
  AtomReader(const std::filesystem::path& dir, const AtomIndex& index, std::uint32_t id)
      : dir_(dir), index_(index), id_(id) {}

  Atom read() {
    if (id_ >= index_.atoms.size()) {
      fail("atom ", id_, " does not exist: the index in '", dir_.string(), "' lists ",
           index_.atoms.size(), " atoms");
    }
    const AtomEntry& entry = index_.atoms[id_];
    const std::string path = (dir_ / entry.file).string();
    what_ = str_cat("atom file '", path, "'");
    file_ = read_file_bytes(path, what_);
    check_header(entry);
    blocks_ = scan_blocks(file_.span(), sizeof(AtomFileHeader), what_);
    layout_blocks();
    decode();
    const std::uint32_t crc = crc32c(0, file_.data.get(), file_.size);
    if (crc != entry.crc) {
      fail(what_, ": file checksum ", hex(crc), " differs from the index's ", hex(entry.crc),
           " (corrupt file or index)");
    }
    validate();
    return std::move(atom_);
  }

 private:
  static constexpr int kKinds = 4;  // vertices, edges, cut in-edges, ghosts

  void check_header(const AtomEntry& entry) {
    check_identity(file_.span(), kAtomMagic, kAtomFormatVersion, sizeof(AtomFileHeader),
                   "atom file", what_);
    std::memcpy(&header_, file_.data.get(), sizeof header_);
    if (crc32c(0, &header_, kHeaderCrcBytes) != header_.header_crc) {
      fail(what_, ": header (bytes 0..", sizeof header_ - 1,
           "): header checksum mismatch (corrupt file)");
    }
    if (header_.graph_id != index_.graph_id) {
      fail(what_, ": belongs to another graph or partition (graph id ", hex(header_.graph_id),
           ", the index in '", dir_.string(), "' has ", hex(index_.graph_id),
           "): the atom directory mixes files of different partitions");
    }
    if (header_.atom != id_) {
      fail(what_, ": holds atom ", header_.atom, " but the index lists it as atom ", id_);
    }
    if (header_.num_atoms != index_.atoms.size()) {
      fail(what_, ": written for ", header_.num_atoms, " atoms, the index has ",
           index_.atoms.size());
    }
    if ((header_.flags & ~kFlagWeighted) != 0) {
      fail(what_, ": unknown flags ", hex(header_.flags), " in the header");
    }
    weighted_ = (header_.flags & kFlagWeighted) != 0;
    if (weighted_ != index_.weighted) {
      fail(what_, ": the header says ", weighted_ ? "weighted" : "unweighted", ", the index says ",
           index_.weighted ? "weighted" : "unweighted");
    }
    if (header_.vertex_data_bytes != 0) {
      fail(what_, ": vertex data of ", header_.vertex_data_bytes,
           " bytes per vertex is not supported (expected 0)");
    }
    if (header_.edge_data_bytes != (weighted_ ? sizeof(double) : 0)) {
      fail(what_, ": edge data of ", header_.edge_data_bytes, " bytes per edge does not fit a ",
           weighted_ ? "weighted" : "unweighted", " graph");
    }
    auto check_count = [&](const char* name, std::uint64_t in_header, std::uint64_t in_index) {
      if (in_header != in_index) {
        fail(what_, ": the header says ", in_header, " ", name, ", the index says ", in_index);
      }
    };
    check_count("vertices", header_.vertices, entry.vertices);
    check_count("edges", header_.edges, entry.edges);
    check_count("cut in-edges", header_.in_cut_edges, entry.in_cut_edges);
    check_count("ghosts", header_.ghosts, entry.ghosts);
    if (file_.size < entry.bytes) {
      fail(what_, ": truncated: ", file_.size, " bytes, the index says ", entry.bytes);
    }
    if (file_.size != entry.bytes) {
      fail(what_, ": ", file_.size, " bytes, the index says ", entry.bytes);
    }
  }

  static int kind_slot(std::uint32_t kind) {
    switch (static_cast<BlockKind>(kind)) {
      case BlockKind::kVertices:
        return 0;
      case BlockKind::kEdges:
        return 1;
      case BlockKind::kInCutEdges:
        return 2;
      case BlockKind::kGhosts:
        return 3;
      default:
        return -1;
    }
  }

  std::size_t record_size(int slot) const {
    switch (slot) {
      case 0:
        return kVertexRecordBase + header_.vertex_data_bytes;
      case 1:
      case 2:
        return edge_record_size(weighted_);
      default:
        return sizeof(GhostRecord);
    }
  }

  /// Checks kinds, order and sizes of the blocks; first_record_[b] = index of block b's first
  /// record among those of its kind.
  void layout_blocks() {
    std::uint64_t counts[kKinds] = {};
    int last = 0;
    first_record_.resize(blocks_.size());
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      const Block& block = blocks_[b];
      const int slot = kind_slot(block.kind);
      if (slot < 0) fail(what_, ": ", describe(block), ": unexpected block kind ", block.kind);
      if (slot < last) {
        fail(what_, ": ", describe(block), ": out of order (", block_kind_name(block.kind),
             " after ", block_kind_name(blocks_[b - 1].kind), ")");
      }
      last = slot;
      if (block.records == 0 ||
          block.payload_bytes != std::uint64_t{block.records} * record_size(slot)) {
        fail(what_, ": ", describe(block), ": ", block.payload_bytes, " payload bytes for ",
             block.records, " records of ", record_size(slot), " bytes");
      }
      first_record_[b] = counts[slot];
      counts[slot] += block.records;
    }
    const std::uint64_t expected[kKinds] = {header_.vertices, header_.edges, header_.in_cut_edges,
                                            header_.ghosts};
    for (int k = 0; k < kKinds; ++k) {
      if (counts[k] != expected[k]) {
        fail(what_, ": the blocks hold ", counts[k], " ",
             block_kind_name(static_cast<std::uint32_t>(k + 1)), " records, the header says ",
             expected[k]);
      }
    }
  }

  /// Verifies every block's payload checksum and decodes its records, in parallel.
  void decode() {
    atom_.id = id_;
    atom_.vertices.resize(header_.vertices);
    for (EdgeList* list : {&atom_.out_edges, &atom_.in_cut_edges}) {
      list->weighted = weighted_;
      list->edges.resize(list == &atom_.out_edges ? header_.edges : header_.in_cut_edges);
      if (weighted_) list->weights.resize(list->edges.size());
    }
    atom_.ghosts.resize(header_.ghosts);
    atom_.ghost_atoms.resize(header_.ghosts);
    std::atomic<std::size_t> bad{blocks_.size()};
    tbb::parallel_for(std::size_t{0}, blocks_.size(), [&](std::size_t b) {
      const Block& block = blocks_[b];
      if (crc32c(0, block.payload, block.payload_bytes) != block.payload_crc) {
        std::size_t cur = bad.load();
        while (b < cur && !bad.compare_exchange_weak(cur, b)) {
        }
        return;
      }
      decode_block(block, first_record_[b]);
    });
    if (bad.load() != blocks_.size()) verify_payload(blocks_[bad.load()], what_);  // throws
  }

  void decode_block(const Block& block, std::uint64_t first) {
    const unsigned char* p = block.payload;
    switch (kind_slot(block.kind)) {
      case 0:
        std::memcpy(atom_.vertices.data() + first, p, block.payload_bytes);
        return;
      case 1:
      case 2: {
        EdgeList& list = kind_slot(block.kind) == 1 ? atom_.out_edges : atom_.in_cut_edges;
        if (!weighted_) {
          std::memcpy(list.edges.data() + first, p, block.payload_bytes);
          return;
        }
        for (std::uint32_t i = 0; i < block.records; ++i, p += kEdgeRecordBase + 8) {
          std::memcpy(&list.edges[first + i], p, sizeof(Edge));
          std::memcpy(&list.weights[first + i], p + sizeof(Edge), sizeof(double));
        }
        return;
      }
      default:
        for (std::uint32_t i = 0; i < block.records; ++i, p += sizeof(GhostRecord)) {
          GhostRecord g;
          std::memcpy(&g, p, sizeof g);
          atom_.ghosts[first + i] = g.gid;
          // A nonzero reserved field makes the atom invalid; validate() reports it.
          atom_.ghost_atoms[first + i] = g.reserved == 0 ? g.atom : kBadGhostAtom;
        }
        return;
    }
  }

  /// "block 4 (edges) at byte 1048704, record 17": where record i of a kind is.
  std::string where(int slot, std::uint64_t i) const {
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      if (kind_slot(blocks_[b].kind) == slot && i < first_record_[b] + blocks_[b].records) {
        return str_cat(describe(blocks_[b]), ", record ", i - first_record_[b]);
      }
    }
    return "?";
  }

  bool in_declared(Gid v) const {
    return !index_.declared || v - index_.declared->first < index_.declared->count;
  }

  /// Record sanity: ordering, ownership, ghost atoms, the hash of every id under hash atoms.
  void validate() const {
    const auto& vertices = atom_.vertices;
    const auto& ghosts = atom_.ghosts;
    const std::uint32_t k = header_.num_atoms;
    const bool hashed = index_.method == AtomMethod::kHash;
    const IdSet owned_set(vertices);
    const IdSet ghost_set(ghosts);
    auto owned = [&](Gid v) { return owned_set.contains(v); };
    auto ghost = [&](Gid v) { return ghost_set.contains(v); };

    std::size_t i = first_bad(vertices.size(), [&](std::size_t j) {
      return (j > 0 && vertices[j] <= vertices[j - 1]) || !in_declared(vertices[j]) ||
             (hashed && hash_atom(vertices[j], k, index_.seed) != id_);
    });
    if (i != vertices.size()) {
      fail(what_, ": ", where(0, i), ": vertex ", vertices[i],
           i > 0 && vertices[i] <= vertices[i - 1] ? " is out of order"
           : !in_declared(vertices[i])             ? " lies outside the declared vertex range"
                                                   : " does not belong to this atom");
    }
    i = first_bad(ghosts.size(), [&](std::size_t j) {
      const std::uint32_t a = atom_.ghost_atoms[j];
      return (j > 0 && ghosts[j] <= ghosts[j - 1]) || a >= k || a == id_ || owned(ghosts[j]) ||
             !in_declared(ghosts[j]) || (hashed && hash_atom(ghosts[j], k, index_.seed) != a);
    });
    if (i != ghosts.size()) {
      fail(what_, ": ", where(3, i), ": ghost ", ghosts[i], " with owner atom ",
           atom_.ghost_atoms[i] == kBadGhostAtom ? std::string("(reserved field set)")
                                                 : std::to_string(atom_.ghost_atoms[i]),
           " is invalid (out of order, owned here, outside the range, or wrong owner)");
    }
    const auto& out = atom_.out_edges.edges;
    i = first_bad(out.size(), [&](std::size_t j) {
      return !owned(out[j].src) || !(owned(out[j].dst) || ghost(out[j].dst));
    });
    if (i != out.size()) {
      fail(what_, ": ", where(1, i), ": edge ", out[i].src, " -> ", out[i].dst,
           !owned(out[i].src) ? ": its source is not owned by this atom"
                              : ": its target is neither owned nor a ghost");
    }
    const auto& in = atom_.in_cut_edges.edges;
    i = first_bad(in.size(), [&](std::size_t j) { return !ghost(in[j].src) || !owned(in[j].dst); });
    if (i != in.size()) {
      fail(what_, ": ", where(2, i), ": cut in-edge ", in[i].src, " -> ", in[i].dst,
           !ghost(in[i].src) ? ": its source is not a ghost" : ": its target is not owned here");
    }
  }

  static constexpr std::uint32_t kBadGhostAtom = 0xffffffffu;

  const std::filesystem::path& dir_;
  const AtomIndex& index_;
  std::uint32_t id_;
  std::string what_;
  FileBytes file_;
  AtomFileHeader header_{};
  bool weighted_ = false;
  std::vector<Block> blocks_;
  std::vector<std::uint64_t> first_record_;
  Atom atom_;
};

}  // namespace

FileStamp write_atom_file(const std::string& path, const AtomJournal& journal) {
  const EdgeList& graph = *journal.graph;
  AtomFileHeader header{};
  std::memcpy(header.magic, kAtomMagic, sizeof header.magic);
  header.version = kAtomFormatVersion;
  header.flags = graph.weighted ? kFlagWeighted : 0;
  header.graph_id = journal.graph_id;
  header.atom = journal.atom;
  header.num_atoms = journal.num_atoms;
  header.vertex_data_bytes = 0;
  header.edge_data_bytes = graph.weighted ? sizeof(double) : 0;
  header.vertices = journal.vertices.size();
  header.edges = journal.out_edges.size();
  header.in_cut_edges = journal.in_cut_edges.size();
  header.ghosts = journal.ghosts.size();
  header.header_crc = crc32c(0, &header, kHeaderCrcBytes);

  TempFile file(path, "atom file");
  BlockWriter out(file);
  out.write_raw(&header, sizeof header);
  out.write_records(BlockKind::kVertices, journal.vertices.size(), kVertexRecordBase,
                    [&](unsigned char* dst, std::uint64_t first, std::size_t n) {
                      std::memcpy(dst, journal.vertices.data() + first, n * sizeof(Gid));
                    });
  const std::size_t edge_size = edge_record_size(graph.weighted);
  out.write_records(BlockKind::kEdges, journal.out_edges.size(), edge_size,
                    [&](unsigned char* dst, std::uint64_t first, std::size_t n) {
                      put_edges(dst, graph, journal.out_edges, first, n);
                    });
  out.write_records(BlockKind::kInCutEdges, journal.in_cut_edges.size(), edge_size,
                    [&](unsigned char* dst, std::uint64_t first, std::size_t n) {
                      put_edges(dst, graph, journal.in_cut_edges, first, n);
                    });
  out.write_records(BlockKind::kGhosts, journal.ghosts.size(), sizeof(GhostRecord),
                    [&](unsigned char* dst, std::uint64_t first, std::size_t n) {
                      std::memcpy(dst, journal.ghosts.data() + first, n * sizeof(GhostRecord));
                    });
  out.finish();
  file.commit(false);
  return {out.bytes(), out.crc()};
}

}  // namespace detail

Atom read_atom(const std::filesystem::path& dir, const AtomIndex& index, std::uint32_t id) {
  return detail::AtomReader(dir, index, id).read();
}

}  // namespace atl
