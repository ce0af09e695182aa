// The atom index (atoms.index): a header describing the graph and the cut, a block list of
// atom entries and one of cut counts (docs/atoms.md). Also the names of atom files.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ios>
#include <system_error>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atom_blocks.hpp"
#include "atom_io.hpp"

namespace atl {
namespace detail {
namespace {

constexpr std::size_t kHeaderCrcBytes = offsetof(IndexHeader, header_crc);
constexpr std::string_view kAtomPrefix = "atom-";
constexpr std::string_view kAtomSuffix = ".atom";

/// Reads and checks an atom index (see read_atom_index).
class IndexReader {
 public:
  explicit IndexReader(const std::filesystem::path& dir)
      : path_((dir / kAtomIndexFileName).string()), what_(str_cat("atom index '", path_, "'")) {}

  AtomIndex read() {
    file_ = read_file_bytes(path_, what_);
    check_identity(file_.span(), kAtomIndexMagic, kAtomFormatVersion, sizeof(IndexHeader),
                   "atom index", what_);
    IndexHeader h;
    std::memcpy(&h, file_.data.get(), sizeof h);
    if (crc32c(0, &h, kHeaderCrcBytes) != h.header_crc) {
      fail(what_, ": header (bytes 0..", sizeof h - 1,
           "): header checksum mismatch (corrupt file)");
    }
    read_header(h);
    const std::vector<Block> blocks = scan_blocks(file_.span(), sizeof h, what_);
    std::uint64_t entries = 0;
    for (const Block& block : blocks) {
      verify_payload(block, what_);
      const bool is_entries = block.kind == static_cast<std::uint32_t>(BlockKind::kAtomEntries);
      const bool is_cuts = block.kind == static_cast<std::uint32_t>(BlockKind::kCuts);
      const std::size_t size = is_entries ? sizeof(AtomEntryRecord) : sizeof(CutRecord);
      if (!is_entries && !is_cuts) {
        fail(what_, ": ", describe(block), ": unexpected block kind ", block.kind);
      }
      if (is_entries && !index_.cuts.empty()) {
        fail(what_, ": ", describe(block), ": atom entries after the cuts");
      }
      if (block.records == 0 || block.payload_bytes != std::uint64_t{block.records} * size) {
        fail(what_, ": ", describe(block), ": ", block.payload_bytes, " payload bytes for ",
             block.records, " records of ", size, " bytes");
      }
      for (std::uint32_t r = 0; r < block.records; ++r) {
        const unsigned char* p = block.payload + std::size_t{r} * size;
        if (is_entries) {
          read_entry(block, r, p, entries++);
        } else {
          read_cut(block, r, p);
        }
      }
    }
    if (entries != h.num_atoms) {
      fail(what_, ": ", entries, " atom entries, the header says ", h.num_atoms);
    }
    if (index_.cuts.size() != h.num_cuts) {
      fail(what_, ": ", index_.cuts.size(), " cut records, the header says ", h.num_cuts);
    }
    check_totals();
    return std::move(index_);
  }

 private:
  void read_header(const IndexHeader& h) {
    if ((h.flags & ~(kFlagWeighted | kFlagDeclared)) != 0) {
      fail(what_, ": unknown flags 0x", std::hex, h.flags, " in the header");
    }
    if (h.method > 1) fail(what_, ": unknown partitioning method ", h.method);
    if (h.num_atoms < 1 || h.num_atoms > kMaxAtoms) {
      fail(what_, ": ", h.num_atoms, " atoms (valid: 1 to ", kMaxAtoms, ")");
    }
    const bool weighted = (h.flags & kFlagWeighted) != 0;
    if (h.vertex_data_bytes != 0 || h.edge_data_bytes != (weighted ? sizeof(double) : 0)) {
      fail(what_, ": unsupported data sizes (", h.vertex_data_bytes, " bytes per vertex, ",
           h.edge_data_bytes, " per edge)");
    }
    if ((h.flags & kFlagDeclared) != 0) {
      if (h.declared_count != h.num_vertices ||
          (h.declared_count != 0 && h.declared_first + (h.declared_count - 1) < h.declared_first)) {
        fail(what_, ": declared vertex range ", h.declared_first, " +", h.declared_count,
             " does not fit ", h.num_vertices, " vertices");
      }
      index_.declared = VertexRange{h.declared_first, h.declared_count};
    } else if (h.declared_first != 0 || h.declared_count != 0) {
      fail(what_, ": a vertex range without the flag for it (corrupt header)");
    }
    index_.graph_id = h.graph_id;
    index_.method = h.method == 1 ? AtomMethod::kMetis : AtomMethod::kHash;
    index_.seed = h.seed;
    index_.weighted = weighted;
    index_.num_vertices = h.num_vertices;
    index_.num_edges = h.num_edges;
    index_.atoms.reserve(h.num_atoms);
  }

  void read_entry(const Block& block, std::uint32_t r, const unsigned char* p, std::uint64_t id) {
    AtomEntryRecord rec;
    std::memcpy(&rec, p, sizeof rec);
    const std::string_view name(rec.file, strnlen(rec.file, sizeof rec.file));
    if (id >= index_.atoms.capacity() || name != atom_file_name(static_cast<std::uint32_t>(id)) ||
        rec.reserved != 0 ||
        std::any_of(rec.file + name.size(), rec.file + sizeof rec.file,
                    [](char c) { return c != 0; })) {
      fail(what_, ": ", describe(block), ", record ", r, ": invalid entry for atom ", id,
           " (file name ", quote_excerpt(name), ")");
    }
    AtomEntry e;
    e.file = std::string(name);
    e.bytes = rec.bytes;
    e.crc = rec.crc;
    e.vertices = rec.vertices;
    e.edges = rec.edges;
    e.in_cut_edges = rec.in_cut_edges;
    e.ghosts = rec.ghosts;
    index_.atoms.push_back(std::move(e));
  }

  void read_cut(const Block& block, std::uint32_t r, const unsigned char* p) {
    CutRecord rec;
    std::memcpy(&rec, p, sizeof rec);
    const std::size_t k = index_.atoms.size();
    const AtomCut cut{rec.from, rec.to, rec.edges};
    const bool ordered =
        index_.cuts.empty() ||
        std::pair(index_.cuts.back().from, index_.cuts.back().to) < std::pair(cut.from, cut.to);
    if (cut.from >= k || cut.to >= k || cut.from == cut.to || cut.edges == 0 || !ordered) {
      fail(what_, ": ", describe(block), ", record ", r, ": invalid cut ", cut.from, " -> ", cut.to,
           " (", cut.edges, " edges)");
    }
    index_.cuts.push_back(cut);
  }

  /// The entries add up to the header's totals and the cuts to each atom's cut in-edges.
  void check_totals() const {
    std::uint64_t vertices = 0;
    std::uint64_t edges = 0;
    std::vector<std::uint64_t> in_cut(index_.atoms.size(), 0);
    for (const AtomEntry& e : index_.atoms) {
      vertices += e.vertices;
      edges += e.edges;
    }
    for (const AtomCut& c : index_.cuts) in_cut[c.to] += c.edges;
    if (vertices != index_.num_vertices || edges != index_.num_edges) {
      fail(what_, ": the atoms hold ", vertices, " vertices and ", edges,
           " edges, the header says ", index_.num_vertices, " and ", index_.num_edges);
    }
    for (std::size_t a = 0; a < in_cut.size(); ++a) {
      if (in_cut[a] != index_.atoms[a].in_cut_edges) {
        fail(what_, ": atom ", a, " has ", index_.atoms[a].in_cut_edges,
             " cut in-edges but the cuts into it add up to ", in_cut[a]);
      }
    }
  }

  std::string path_;
  std::string what_;
  FileBytes file_;
  AtomIndex index_;
};

}  // namespace

std::string atom_file_name(std::uint32_t id) {
  char name[32];
  std::snprintf(name, sizeof name, "atom-%05u.atom", id);
  return name;
}

bool parse_atom_file_name(std::string_view name, std::uint32_t* id) {
  if (name.size() <= kAtomPrefix.size() + kAtomSuffix.size() || !name.starts_with(kAtomPrefix) ||
      !name.ends_with(kAtomSuffix)) {
    return false;
  }
  const std::string_view digits =
      name.substr(kAtomPrefix.size(), name.size() - kAtomPrefix.size() - kAtomSuffix.size());
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9' || value > kMaxAtoms) return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > kMaxAtoms || atom_file_name(static_cast<std::uint32_t>(value)) != name) return false;
  *id = static_cast<std::uint32_t>(value);
  return true;
}

FileStamp write_atom_index(const std::filesystem::path& dir, const AtomIndex& index) {
  IndexHeader h{};
  std::memcpy(h.magic, kAtomIndexMagic, sizeof h.magic);
  h.version = kAtomFormatVersion;
  h.flags = (index.weighted ? kFlagWeighted : 0) | (index.declared ? kFlagDeclared : 0);
  h.graph_id = index.graph_id;
  h.method = index.method == AtomMethod::kMetis ? 1 : 0;
  h.num_atoms = static_cast<std::uint32_t>(index.atoms.size());
  h.seed = index.seed;
  h.num_vertices = index.num_vertices;
  h.num_edges = index.num_edges;
  h.declared_first = index.declared ? index.declared->first : 0;
  h.declared_count = index.declared ? index.declared->count : 0;
  h.num_cuts = index.cuts.size();
  h.vertex_data_bytes = 0;
  h.edge_data_bytes = index.weighted ? sizeof(double) : 0;
  h.header_crc = crc32c(0, &h, kHeaderCrcBytes);

  TempFile file((dir / kAtomIndexFileName).string(), "atom index");
  BlockWriter out(file);
  out.write_raw(&h, sizeof h);
  out.write_records(BlockKind::kAtomEntries, index.atoms.size(), sizeof(AtomEntryRecord),
                    [&](unsigned char* dst, std::uint64_t first, std::size_t n) {
                      for (std::size_t i = 0; i < n; ++i) {
                        const AtomEntry& e = index.atoms[first + i];
                        AtomEntryRecord rec{};
                        std::memcpy(rec.file, e.file.data(),
                                    std::min(e.file.size(), sizeof rec.file - 1));
                        rec.bytes = e.bytes;
                        rec.crc = e.crc;
                        rec.vertices = e.vertices;
                        rec.edges = e.edges;
                        rec.in_cut_edges = e.in_cut_edges;
                        rec.ghosts = e.ghosts;
                        std::memcpy(dst + i * sizeof rec, &rec, sizeof rec);
                      }
                    });
  out.write_records(BlockKind::kCuts, index.cuts.size(), sizeof(CutRecord),
                    [&](unsigned char* dst, std::uint64_t first, std::size_t n) {
                      for (std::size_t i = 0; i < n; ++i) {
                        const AtomCut& c = index.cuts[first + i];
                        const CutRecord rec{c.from, c.to, c.edges};
                        std::memcpy(dst + i * sizeof rec, &rec, sizeof rec);
                      }
                    });
  out.finish();
  file.commit(true);
  return {out.bytes(), out.crc()};
}

}  // namespace detail

bool is_atom_directory(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) &&
         std::filesystem::exists(path / kAtomIndexFileName, ec);
}

AtomIndex read_atom_index(const std::filesystem::path& dir) {
  return detail::IndexReader(dir).read();
}

}  // namespace atl
