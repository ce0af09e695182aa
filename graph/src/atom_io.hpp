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

/// Positions of edges in a graph's edge list, 32- or 64-bit (one of the spans is empty).
struct EdgePositions {
  std::span<const std::uint32_t> narrow;
  std::span<const std::uint64_t> wide;
  std::size_t size() const { return narrow.size() + wide.size(); }
  std::uint64_t operator[](std::size_t i) const { return wide.empty() ? narrow[i] : wide[i]; }
};

/// Everything one atom file holds.
struct AtomJournal {
  std::uint64_t graph_id = 0;
  std::uint32_t atom = 0;
  std::uint32_t num_atoms = 0;
  const EdgeList* graph = nullptr;      ///< the edges (and weights) positions refer to
  std::span<const Gid> vertices;        ///< owned, ascending
  EdgePositions out_edges;              ///< input order
  EdgePositions in_cut_edges;           ///< input order
  std::span<const GhostRecord> ghosts;  ///< ascending by gid
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
