// Phase 1 of two-phase partitioning: a graph cut into K atoms, one file each, plus an atom
// index (the meta-graph). An atom is a journal of graph-building commands for the vertices it
// owns and their edges, with the list of its ghosts. Format: docs/atoms.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

/// Version of atom files and the atom index; version 1 (records as in memory) is not read.
inline constexpr std::uint32_t kAtomFormatVersion = 2;
inline constexpr std::uint32_t kDefaultAtoms = 64;
inline constexpr std::uint32_t kMaxAtoms = 1u << 20;  ///< atoms (files) in one directory
/// Above these sizes (of the symmetrized simple graph) METIS runs on a coarsened graph.
inline constexpr std::uint64_t kMetisMaxVertices = std::uint64_t{1} << 23;  // 8M
inline constexpr std::uint64_t kMetisMaxEdges = std::uint64_t{1} << 24;     // 16M undirected
/// The index's file name inside an atom directory.
inline constexpr char kAtomIndexFileName[] = "atoms.index";

/// The atom of gid under hash partitioning into num_atoms atoms (the same on every rank, run
/// and machine). Also used for the in-memory atoms of a plain graph file.
std::uint32_t hash_atom(Gid gid, std::uint32_t num_atoms, std::uint64_t seed);

enum class AtomMethod { kHash, kMetis };
/// "hash" | "metis"; throws a usage Error otherwise.
AtomMethod parse_atom_method(std::string_view name);
std::string_view atom_method_name(AtomMethod method);

/// One atom in the index.
struct AtomEntry {
  std::string file;                ///< file name inside the atom directory
  std::uint64_t bytes = 0;         ///< file size
  std::uint32_t crc = 0;           ///< CRC32C of the whole file
  std::uint64_t vertices = 0;      ///< vertices it owns
  std::uint64_t edges = 0;         ///< edges whose source it owns
  std::uint64_t in_cut_edges = 0;  ///< edges from another atom's vertex into one it owns
  std::uint64_t ghosts = 0;        ///< distinct vertices of other atoms adjacent to its own
};

/// Edges from a vertex of atom `from` to a vertex of atom `to` (from != to).
struct AtomCut {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint64_t edges = 0;
  friend bool operator==(const AtomCut&, const AtomCut&) = default;
};

/// The atom index: what the graph is, how it was cut, and the meta-graph.
struct AtomIndex {
  std::uint64_t graph_id = 0;  ///< fingerprint of the input graph and the cut; in every atom
  AtomMethod method = AtomMethod::kHash;
  std::uint64_t seed = 0;
  bool weighted = false;  ///< edge data is the input weight (8 bytes) when set
  std::uint64_t num_vertices = 0;
  std::uint64_t num_edges = 0;
  std::optional<VertexRange> declared;  ///< the input's declared vertex range, if any
  std::vector<AtomEntry> atoms;         ///< by atom id
  std::vector<AtomCut> cuts;            ///< sorted by (from, to), no zero counts
};

/// One atom read back and verified: its journal replayed into arrays.
struct Atom {
  std::uint32_t id = 0;
  std::vector<Gid> vertices;  ///< owned vertices, ascending (isolated ones included)
  EdgeList out_edges;         ///< every edge whose source is owned here, in input order
  EdgeList in_cut_edges;    ///< edges from another atom's vertex to one owned here, in input order
  std::vector<Gid> ghosts;  ///< ascending: vertices of other atoms adjacent to owned ones
  std::vector<std::uint32_t> ghost_atoms;  ///< ghost_atoms[i] owns ghosts[i]
};

struct PartitionOptions {
  std::uint32_t atoms = kDefaultAtoms;  ///< 1 .. kMaxAtoms
  AtomMethod method = AtomMethod::kHash;
  std::uint64_t seed = 0;
  /// METIS only: coarsen (heavy-edge matching) until the graph has at most this many vertices
  /// and undirected edges, partition that, and project back.
  std::uint64_t metis_max_vertices = kMetisMaxVertices;
  std::uint64_t metis_max_edges = kMetisMaxEdges;
};

/// The vertex set of graph, ascending: the declared range when set, else the distinct ids
/// that occur in the edges. This is the `vertices` argument of assign_atoms.
std::vector<Gid> graph_vertices(const EdgeList& graph);

/// The atom of every vertex of graph, indexed like `vertices` (ascending distinct gids of the
/// graph, declared range included). METIS runs on the symmetrized simple graph (coarsened
/// first when it is too large); it is deterministic for a given seed.
std::vector<std::uint32_t> assign_atoms(const EdgeList& graph, const std::vector<Gid>& vertices,
                                        const PartitionOptions& options);

/// Phase 1: cuts graph into atoms and writes them and the index into dir (created if
/// missing; existing atom files there are replaced). Returns the index written.
AtomIndex write_atoms(const EdgeList& graph, const std::filesystem::path& dir,
                      const PartitionOptions& options);

/// True when path is a directory holding an atom index.
bool is_atom_directory(const std::filesystem::path& path);
/// Reads and verifies dir's index; errors name the file and the block.
AtomIndex read_atom_index(const std::filesystem::path& dir);
/// Reads and verifies one atom against the index (size, checksum, header, every block);
/// errors name the atom's file and the block.
Atom read_atom(const std::filesystem::path& dir, const AtomIndex& index, std::uint32_t id);
/// The whole graph of an atom directory on one process (every atom read and verified): the
/// atoms' edges in atom order, weighted as the index says, with the input's declared vertex
/// range, so its vertex set is the input's. read_edge_list uses it for a directory.
EdgeList read_atom_graph(const std::filesystem::path& dir);

}  // namespace atl
