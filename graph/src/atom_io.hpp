// Writing one atom file and the atom index (the readers are the public read_atom and
// read_atom_index), and the names of files in an atom directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "atoll/graph/atoms.hpp"
#include "atom_format.hpp"

namespace atl::detail {

/// "atom-00012.atom": the file of atom id (at least 5 digits).
std::string atom_file_name(std::uint32_t id);
/// True for names atom_file_name could have produced; sets *id.
bool parse_atom_file_name(std::string_view name, std::uint32_t* id);

/// Everything one atom file holds. Edges are given as local ids (docs/atoms.md): an out-edge's
/// source is a position in `vertices`, its target a position in the merged table (vertices and
/// ghosts by gid); a cut in-edge's source is a position in `ghosts`, its target in `vertices`.
struct AtomJournal {
  std::uint64_t graph_id = 0;
  std::uint32_t atom = 0;
  std::uint32_t num_atoms = 0;
  bool weighted = false;
  std::span<const Gid> vertices;           ///< owned, ascending
  std::span<const GhostRecord> ghosts;     ///< ascending by gid
  std::span<const Edge> out_edges;         ///< input order, local ids
  std::span<const double> out_weights;     ///< one per out-edge when weighted, else empty
  std::span<const Edge> in_cut_edges;      ///< input order, local ids
  std::span<const double> in_cut_weights;  ///< one per cut in-edge when weighted, else empty
};

struct FileStamp {
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;  ///< CRC32C of the whole file
};

/// Writes journal to path (temporary name, fsync, rename; the directory is not synced).
FileStamp write_atom_file(const std::string& path, const AtomJournal& journal);

/// Writes index to dir/atoms.index (temporary name, fsync, rename, directory sync).
FileStamp write_atom_index(const std::filesystem::path& dir, const AtomIndex& index);

}  // namespace atl::detail
