// One atom file read and checked: its header against the index, the block layout, every
// block's checksum and the vertex and ghost tables (docs/atoms.md); the whole file's checksum
// is checked on request, after the edges, so that a malformed edge block is named as such.
// Compared with reading the file once, every block's checksum is checked before any table is
// decoded, so a bad table and a corrupt edge block in one file report the edge block. Its edge
// blocks decode on demand, their local ids resolved in tables the caller gives: the tables'
// gids (read_atom), or the lids a rank numbers them with (atom_part.cpp), which decodes an
// atom straight into a rank's lid space.
#pragma once

#include <tbb/parallel_for.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "atoll/graph/atoms.hpp"
#include "atom_blocks.hpp"
#include "atom_codec.hpp"
#include "atom_format.hpp"

namespace atl::detail {

class AtomFile {
 public:
  /// Reads atom `id` of the index's directory (into `buffer` when it is large enough) and
  /// checks everything but the edges' coding and the file's checksum; throws naming the file
  /// (and the block and record) on the first problem. A reader that checked this file before
  /// passes validate_tables = false: then the whole file's checksum is checked at once, in
  /// place of the blocks' and of the tables' contents (order, ownership, owner atoms).
  AtomFile(const std::filesystem::path& dir, const AtomIndex& index, std::uint32_t id,
           FileBytes buffer = {}, bool validate_tables = true);
  /// Throws unless the whole file's CRC32C is the index's. Every reader calls it (after
  /// decoding the edges it uses) before it trusts what it read.
  void check_file_checksum() const;
  /// The file's bytes, for the next AtomFile to read into; the edges cannot be decoded after.
  FileBytes take_buffer() { return std::move(file_); }
  /// Moves the tables into `atom` (vertices, ghosts, ghost atoms); nothing can be decoded after.
  void take_tables(Atom& atom);

  std::uint32_t id() const { return id_; }
  bool weighted() const { return weighted_; }
  const std::vector<Gid>& vertices() const { return vertices_; }  ///< owned, ascending
  const std::vector<Gid>& ghosts() const { return ghosts_; }      ///< ascending
  const std::vector<std::uint32_t>& ghost_atoms() const { return ghost_atoms_; }
  std::uint64_t out_edges() const { return header_.edges; }
  std::uint64_t in_cut_edges() const { return header_.in_cut_edges; }

  /// One entry per position of the merged table (vertices and ghosts, ascending by gid): the
  /// vertex's entry of `of_vertices` or the ghost's of `of_ghosts`.
  void merged(std::span<const Gid> of_vertices, std::span<const Gid> of_ghosts,
              std::vector<Gid>& out) const;
  /// Decodes the out-edges (input order) into edges[0, out_edges()): a source at position i of
  /// vertices() becomes sources[i], a target at position j of the merged table targets[j].
  /// Weights go to `weights` when not null. Throws naming the first malformed block.
  void decode_out_edges(std::span<const Gid> sources, std::span<const Gid> targets, Edge* edges,
                        double* weights) const;
  /// The same for the cut in-edges: sources are positions in ghosts(), targets in vertices().
  void decode_in_cut_edges(std::span<const Gid> sources, std::span<const Gid> targets, Edge* edges,
                           double* weights) const;

  /// Walks the out-edges block by block (walk_edge_block, no edge buffer): visit(i, source,
  /// target) for each edge i whose run's source keep() accepts, the tables as for
  /// decode_out_edges. With `weights`, weights[i] holds edge i's weight before it is visited.
  /// Serially in file order on this thread, or with `parallel` the blocks at once on TBB's
  /// threads (keep and visit must then be thread-safe). Throws naming the first malformed block.
  template <typename Keep, typename Visit>
  void walk_out_edges(std::span<const Gid> sources, std::span<const Gid> targets, double* weights,
                      bool parallel, Keep&& keep, Visit&& visit) const {
    walk_edges(1, sources, targets, weights, parallel, keep, visit);
  }
  /// The same for the cut in-edges (the tables as for decode_in_cut_edges).
  template <typename Keep, typename Visit>
  void walk_in_cut_edges(std::span<const Gid> sources, std::span<const Gid> targets,
                         double* weights, bool parallel, Keep&& keep, Visit&& visit) const {
    walk_edges(2, sources, targets, weights, parallel, keep, visit);
  }

 private:
  template <typename Keep, typename Visit>
  void walk_edges(int slot, std::span<const Gid> sources, std::span<const Gid> targets,
                  double* weights, bool parallel, Keep& keep, Visit& visit) const;
  /// Whether block b holds edges of `slot` (1 out-edges, 2 cut in-edges).
  bool in_slot(std::size_t b, int slot) const;
  /// Block b's ids (the payload without its weight column) in *ids and, weighted, the column's
  /// start in *column; "" or why the payload cannot hold the column.
  std::string edge_ids(std::size_t b, std::span<const unsigned char>* ids,
                       const unsigned char** column) const;
  [[noreturn]] void fail_block(std::size_t b, const std::string& error) const;
  void check_header(const AtomEntry& entry);
  void layout_blocks();
  void check_payloads() const;
  void decode_tables();
  void decode_edges(int slot, std::span<const Gid> sources, std::span<const Gid> targets,
                    Edge* edges, double* weights) const;
  void validate() const;
  std::string where(int slot, std::uint64_t i) const;
  bool in_declared(Gid v) const;

  const std::filesystem::path& dir_;
  const AtomIndex& index_;
  std::uint32_t id_;
  std::string what_;
  FileBytes file_;
  AtomFileHeader header_{};
  bool weighted_ = false;
  std::vector<Block> blocks_;
  std::vector<std::uint64_t> first_record_;  ///< of each block among its kind's records
  std::vector<Gid> vertices_;
  std::vector<Gid> ghosts_;
  std::vector<std::uint32_t> ghost_atoms_;
};

template <typename Keep, typename Visit>
void AtomFile::walk_edges(int slot, std::span<const Gid> sources, std::span<const Gid> targets,
                          double* weights, bool parallel, Keep& keep, Visit& visit) const {
  // Block b's walk; "" or its error.
  auto walk = [&](std::size_t b) -> std::string {
    std::span<const unsigned char> ids;
    const unsigned char* column = nullptr;
    if (std::string error = edge_ids(b, &ids, &column); !error.empty()) return error;
    const std::uint64_t first = first_record_[b];
    const std::uint32_t records = blocks_[b].records;
    if (weights != nullptr && column != nullptr) {
      std::memcpy(weights + first, column, std::size_t{records} * sizeof(double));
    }
    return walk_edge_block(
        ids, records, sources, targets, keep,
        [&visit, first](std::uint32_t i, Gid src, Gid dst) { visit(first + i, src, dst); });
  };
  if (!parallel) {
    for (std::size_t b = 0; b < blocks_.size(); ++b) {
      if (!in_slot(b, slot)) continue;
      if (std::string error = walk(b); !error.empty()) fail_block(b, error);
    }
    return;
  }
  std::vector<std::string> errors(blocks_.size());
  tbb::parallel_for(std::size_t{0}, blocks_.size(), [&](std::size_t b) {
    if (in_slot(b, slot)) errors[b] = walk(b);
  });
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    if (!errors[b].empty()) fail_block(b, errors[b]);
  }
}

}  // namespace atl::detail
