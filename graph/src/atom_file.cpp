// One atom file: a header, then blocks of vertex, edge, cut in-edge and ghost records in the
// compact encoding of atom_codec.hpp, then an end block (docs/atoms.md). The reader checks the
// file against the index, every block's checksum and encoding (in parallel), and that the
// records make sense before returning anything.
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
#include "atom_codec.hpp"
#include "atom_io.hpp"

namespace atl {
namespace detail {
namespace {

constexpr std::size_t kHeaderCrcBytes = offsetof(AtomFileHeader, header_crc);

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
    allocate();
    decode(false);
    validate();
    decode(true);
    const std::uint32_t crc = crc32c(0, file_.data.get(), file_.size);
    if (crc != entry.crc) {
      fail(what_, ": file checksum ", hex(crc), " differs from the index's ", hex(entry.crc),
           " (corrupt file or index)");
    }
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

  /// Checks kinds, order and sizes of the blocks and their record counts against the header;
  /// first_record_[b] = index of block b's first record among those of its kind.
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
      // Every record takes at least a byte (a ghost two, a weighted edge nine), which bounds
      // what the decoder allocates by the file's size.
      const std::uint64_t least = std::uint64_t{block.records} * (slot == 3                 ? 2
                                                                  : slot == 0 || !weighted_ ? 1
                                                                                            : 9);
      if (block.records == 0 || block.payload_bytes < least) {
        fail(what_, ": ", describe(block), ": ", block.payload_bytes, " payload bytes cannot hold ",
             block.records, " records");
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

  /// Sizes the atom's arrays from the header (whose counts layout_blocks checked).
  void allocate() {
    atom_.id = id_;
    atom_.vertices.resize(header_.vertices);
    for (EdgeList* list : {&atom_.out_edges, &atom_.in_cut_edges}) {
      list->weighted = weighted_;
      list->edges.resize(list == &atom_.out_edges ? header_.edges : header_.in_cut_edges);
      if (weighted_) list->weights.resize(list->edges.size());
    }
    atom_.ghosts.resize(header_.ghosts);
    atom_.ghost_atoms.resize(header_.ghosts);
  }

  /// Verifies the payload checksums of the vertex and ghost blocks (edges == false) or the
  /// edge blocks and decodes their records, in parallel. Edge blocks come second: their local
  /// ids refer to the vertices and ghosts. The first failing block in file order is reported.
  void decode(bool edges) {
    if (edges && header_.edges > 0) {  // out-edge targets: vertices and ghosts by gid
      merged_.resize(atom_.vertices.size() + atom_.ghosts.size());
      std::merge(atom_.vertices.begin(), atom_.vertices.end(), atom_.ghosts.begin(),
                 atom_.ghosts.end(), merged_.begin());
    }
    std::vector<std::string> errors(blocks_.size());
    tbb::parallel_for(std::size_t{0}, blocks_.size(), [&](std::size_t b) {
      const Block& block = blocks_[b];
      const int slot = kind_slot(block.kind);
      if ((slot == 1 || slot == 2) != edges) return;
      if (crc32c(0, block.payload, block.payload_bytes) != block.payload_crc) {
        errors[b] = "payload checksum mismatch (corrupt file)";
        return;
      }
      errors[b] = decode_block(block, first_record_[b]);
    });
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      if (!errors[b].empty()) fail(what_, ": ", describe(blocks_[b]), ": ", errors[b]);
    }
  }

  std::string decode_block(const Block& block, std::uint64_t first) {
    const std::span<const unsigned char> payload(block.payload, block.payload_bytes);
    switch (kind_slot(block.kind)) {
      case 0:
        return decode_id_block(payload, block.records, atom_.vertices.data() + first, nullptr);
      case 1:
      case 2: {
        const bool out = kind_slot(block.kind) == 1;
        EdgeList& list = out ? atom_.out_edges : atom_.in_cut_edges;
        return decode_edge_block(payload, block.records, out ? atom_.vertices : atom_.ghosts,
                                 out ? merged_ : atom_.vertices, list.edges.data() + first,
                                 weighted_ ? list.weights.data() + first : nullptr);
      }
      default:
        return decode_id_block(payload, block.records, atom_.ghosts.data() + first,
                               atom_.ghost_atoms.data() + first);
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

  /// Vertex and ghost sanity: ordering, ownership, ghost atoms, the hash of every id under hash
  /// atoms. (Edges need no check: their local ids resolve in these tables, see decode_block.)
  void validate() const {
    const auto& vertices = atom_.vertices;
    const auto& ghosts = atom_.ghosts;
    const std::uint32_t k = header_.num_atoms;
    const bool hashed = index_.method == AtomMethod::kHash;
    const IdSet owned_set(vertices);
    auto owned = [&](Gid v) { return owned_set.contains(v); };

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
           atom_.ghost_atoms[i],
           " is invalid (out of order, owned here, outside the range, or wrong owner)");
    }
  }

  const std::filesystem::path& dir_;
  const AtomIndex& index_;
  std::uint32_t id_;
  std::string what_;
  FileBytes file_;
  AtomFileHeader header_{};
  bool weighted_ = false;
  std::vector<Block> blocks_;
  std::vector<std::uint64_t> first_record_;
  std::vector<Gid> merged_;  ///< vertices and ghosts, ascending: out-edge targets
  Atom atom_;
};

}  // namespace

FileStamp write_atom_file(const std::string& path, const AtomJournal& journal) {
  AtomFileHeader header{};
  std::memcpy(header.magic, kAtomMagic, sizeof header.magic);
  header.version = kAtomFormatVersion;
  header.flags = journal.weighted ? kFlagWeighted : 0;
  header.graph_id = journal.graph_id;
  header.atom = journal.atom;
  header.num_atoms = journal.num_atoms;
  header.vertex_data_bytes = 0;
  header.edge_data_bytes = journal.weighted ? sizeof(double) : 0;
  header.vertices = journal.vertices.size();
  header.edges = journal.out_edges.size();
  header.in_cut_edges = journal.in_cut_edges.size();
  header.ghosts = journal.ghosts.size();
  header.header_crc = crc32c(0, &header, kHeaderCrcBytes);

  TempFile file(path, "atom file");
  BlockWriter out(file);
  out.write_raw(&header, sizeof header);
  out.write_encoded(BlockKind::kVertices, journal.vertices.size(),
                    [&](unsigned char* dst, std::uint64_t first) {
                      return encode_vertex_block(journal.vertices, first, dst);
                    });
  out.write_encoded(BlockKind::kEdges, journal.out_edges.size(),
                    [&](unsigned char* dst, std::uint64_t first) {
                      return encode_edge_block(journal.out_edges, journal.out_weights, first, dst);
                    });
  out.write_encoded(BlockKind::kInCutEdges, journal.in_cut_edges.size(),
                    [&](unsigned char* dst, std::uint64_t first) {
                      return encode_edge_block(journal.in_cut_edges, journal.in_cut_weights, first,
                                               dst);
                    });
  out.write_encoded(BlockKind::kGhosts, journal.ghosts.size(),
                    [&](unsigned char* dst, std::uint64_t first) {
                      return encode_ghost_block(journal.ghosts, first, dst);
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
