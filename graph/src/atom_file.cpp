// One atom file: a header, then blocks of vertex, edge, cut in-edge and ghost records in the
// compact encoding of atom_codec.hpp, then an end block (docs/atoms.md). The reader checks the
// file against the index, every block's checksum and encoding (in parallel), and that the
// records make sense before returning anything. Edge blocks decode on demand (in parallel) or
// are walked (serially, on the caller's thread) with the caller's tables.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cstring>
#include <ios>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atom_codec.hpp"
#include "atom_file.hpp"
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

constexpr int kKinds = 4;  // vertices, edges, cut in-edges, ghosts

int kind_slot(std::uint32_t kind) {
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

}  // namespace

AtomFile::AtomFile(const std::filesystem::path& dir, const AtomIndex& index, std::uint32_t id,
                   FileBytes buffer, bool validate_tables)
    : dir_(dir), index_(index), id_(id) {
  if (id_ >= index_.atoms.size()) {
    fail("atom ", id_, " does not exist: the index in '", dir_.string(), "' lists ",
         index_.atoms.size(), " atoms");
  }
  const AtomEntry& entry = index_.atoms[id_];
  const std::string path = (dir_ / entry.file).string();
  what_ = str_cat("atom file '", path, "'");
  file_ = read_file_bytes(path, what_, std::move(buffer));
  check_header(entry);
  blocks_ = scan_blocks(file_.span(), sizeof(AtomFileHeader), what_);
  layout_blocks();
  if (validate_tables) {
    check_payloads();
  } else {
    check_file_checksum();  // the bytes are the ones checked before: no table needs checking
  }
  decode_tables();
  if (validate_tables) validate();
}

void AtomFile::take_tables(Atom& atom) {
  atom.vertices = std::move(vertices_);
  atom.ghosts = std::move(ghosts_);
  atom.ghost_atoms = std::move(ghost_atoms_);
}

void AtomFile::check_file_checksum() const {
  const std::uint32_t expected = index_.atoms[id_].crc;
  const std::uint32_t crc = crc32c(0, file_.data.get(), file_.size);
  if (crc != expected) {
    fail(what_, ": file checksum ", hex(crc), " differs from the index's ", hex(expected),
         " (corrupt file or index)");
  }
}

void AtomFile::check_header(const AtomEntry& entry) {
  check_identity(file_.span(), kAtomMagic, kAtomFormatVersion, sizeof(AtomFileHeader), "atom file",
                 what_);
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
    fail(what_, ": written for ", header_.num_atoms, " atoms, the index has ", index_.atoms.size());
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

/// Checks kinds, order and sizes of the blocks and their record counts against the header;
/// first_record_[b] = index of block b's first record among those of its kind.
void AtomFile::layout_blocks() {
  std::uint64_t counts[kKinds] = {};
  int last = 0;
  first_record_.resize(blocks_.size());
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = blocks_[b];
    const int slot = kind_slot(block.kind);
    if (slot < 0) fail(what_, ": ", describe(block), ": unexpected block kind ", block.kind);
    if (slot < last) {
      fail(what_, ": ", describe(block), ": out of order (", block_kind_name(block.kind), " after ",
           block_kind_name(blocks_[b - 1].kind), ")");
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

/// Every block's payload checksum, in parallel; the first failing block in file order is named.
void AtomFile::check_payloads() const {
  const std::size_t b = first_bad(blocks_.size(), [&](std::size_t i) {
    return crc32c(0, blocks_[i].payload, blocks_[i].payload_bytes) != blocks_[i].payload_crc;
  });
  if (b != blocks_.size()) {
    fail(what_, ": ", describe(blocks_[b]), ": payload checksum mismatch (corrupt file)");
  }
}

/// Decodes the vertex and ghost blocks (sized from the header, whose counts layout_blocks
/// checked), in parallel; the first malformed block in file order is named.
void AtomFile::decode_tables() {
  vertices_.resize(header_.vertices);
  ghosts_.resize(header_.ghosts);
  ghost_atoms_.resize(header_.ghosts);
  std::vector<std::string> errors(blocks_.size());
  tbb::parallel_for(std::size_t{0}, blocks_.size(), [&](std::size_t b) {
    const Block& block = blocks_[b];
    const std::span<const unsigned char> payload(block.payload, block.payload_bytes);
    const int slot = kind_slot(block.kind);
    if (slot == 0) {
      errors[b] =
          decode_id_block(payload, block.records, vertices_.data() + first_record_[b], nullptr);
    } else if (slot == 3) {
      errors[b] = decode_id_block(payload, block.records, ghosts_.data() + first_record_[b],
                                  ghost_atoms_.data() + first_record_[b]);
    }
  });
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    if (!errors[b].empty()) fail(what_, ": ", describe(blocks_[b]), ": ", errors[b]);
  }
}

void AtomFile::merged(std::span<const Gid> of_vertices, std::span<const Gid> of_ghosts,
                      std::vector<Gid>& out) const {
  out.resize(vertices_.size() + ghosts_.size());
  std::size_t i = 0, j = 0;
  for (Gid& entry : out) {
    // Vertices and ghosts are disjoint once validated; unvalidated, the merge still fills
    // every entry exactly once (the output's size bounds both cursors).
    const bool vertex = j == ghosts_.size() || (i < vertices_.size() && vertices_[i] < ghosts_[j]);
    entry = vertex ? of_vertices[i++] : of_ghosts[j++];
  }
}

void AtomFile::decode_out_edges(std::span<const Gid> sources, std::span<const Gid> targets,
                                Edge* edges, double* weights) const {
  decode_edges(1, sources, targets, edges, weights);
}

void AtomFile::decode_in_cut_edges(std::span<const Gid> sources, std::span<const Gid> targets,
                                   Edge* edges, double* weights) const {
  decode_edges(2, sources, targets, edges, weights);
}

/// The edge blocks of one kind (slot 1 out-edges, 2 cut in-edges), in parallel.
void AtomFile::decode_edges(int slot, std::span<const Gid> sources, std::span<const Gid> targets,
                            Edge* edges, double* weights) const {
  auto keep = [](Gid) { return true; };
  auto visit = [edges](std::uint64_t i, Gid src, Gid dst) { edges[i] = Edge{src, dst}; };
  walk_edges(slot, sources, targets, weights, /*parallel=*/true, keep, visit);
}

bool AtomFile::in_slot(std::size_t b, int slot) const {
  return kind_slot(blocks_[b].kind) == slot;
}

std::string AtomFile::edge_ids(std::size_t b, std::span<const unsigned char>* ids,
                               const unsigned char** column) const {
  const Block& block = blocks_[b];
  const std::span<const unsigned char> payload(block.payload, block.payload_bytes);
  *ids = payload;
  *column = nullptr;
  if (!weighted_) return {};
  const std::uint64_t bytes = std::uint64_t{block.records} * sizeof(double);
  if (payload.size() < bytes) {
    return str_cat(payload.size(), " payload bytes cannot hold the weights of ", block.records,
                   " edges");
  }
  *column = payload.data() + payload.size() - bytes;
  *ids = payload.first(payload.size() - bytes);
  return {};
}

void AtomFile::fail_block(std::size_t b, const std::string& error) const {
  fail(what_, ": ", describe(blocks_[b]), ": ", error);
}

/// "block 4 (edges) at byte 1048704, record 17": where record i of a kind is.
std::string AtomFile::where(int slot, std::uint64_t i) const {
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    if (kind_slot(blocks_[b].kind) == slot && i < first_record_[b] + blocks_[b].records) {
      return str_cat(describe(blocks_[b]), ", record ", i - first_record_[b]);
    }
  }
  return "?";
}

bool AtomFile::in_declared(Gid v) const {
  return !index_.declared || v - index_.declared->first < index_.declared->count;
}

/// Vertex and ghost sanity: ordering, ownership, ghost atoms, the hash of every id under hash
/// atoms. (Edges need no check: their local ids resolve in these tables, see decode_block.)
void AtomFile::validate() const {
  const auto& vertices = vertices_;
  const auto& ghosts = ghosts_;
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
    const std::uint32_t a = ghost_atoms_[j];
    return (j > 0 && ghosts[j] <= ghosts[j - 1]) || a >= k || a == id_ || owned(ghosts[j]) ||
           !in_declared(ghosts[j]) || (hashed && hash_atom(ghosts[j], k, index_.seed) != a);
  });
  if (i != ghosts.size()) {
    fail(what_, ": ", where(3, i), ": ghost ", ghosts[i], " with owner atom ", ghost_atoms_[i],
         " is invalid (out of order, owned here, outside the range, or wrong owner)");
  }
}

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
  detail::AtomFile file(dir, index, id);
  Atom atom;
  atom.id = id;
  for (EdgeList* list : {&atom.out_edges, &atom.in_cut_edges}) {
    list->weighted = file.weighted();
    list->edges.resize(list == &atom.out_edges ? file.out_edges() : file.in_cut_edges());
    if (list->weighted) list->weights.resize(list->edges.size());
  }
  std::vector<Gid> merged;
  file.merged(file.vertices(), file.ghosts(), merged);
  file.decode_out_edges(file.vertices(), merged, atom.out_edges.edges.data(),
                        atom.out_edges.weights.data());
  file.decode_in_cut_edges(file.ghosts(), file.vertices(), atom.in_cut_edges.edges.data(),
                           atom.in_cut_edges.weights.data());
  file.check_file_checksum();
  file.take_tables(atom);
  return atom;
}

}  // namespace atl
