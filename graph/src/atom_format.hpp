// On-disk layout of atom files and the atom index, version 2 (docs/atoms.md). The headers and
// the index's records are written as they are in memory: little-endian, naturally aligned, no
// implicit padding. Atom file payloads are varint-coded (atom_codec.hpp).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace atl::detail {

static_assert(std::endian::native == std::endian::little,
              "atom files are written straight from memory and must be little-endian");

inline constexpr char kAtomMagic[8] = {'A', 'T', 'O', 'L', 'L', 'A', 'T', '1'};
inline constexpr char kAtomIndexMagic[8] = {'A', 'T', 'O', 'L', 'L', 'A', 'X', '1'};
inline constexpr std::uint32_t kFlagWeighted = 1u << 0;
inline constexpr std::uint32_t kFlagDeclared = 1u << 1;  // index only
inline constexpr std::size_t kMaxBlockPayload = std::size_t{1} << 20;
inline constexpr std::size_t kBlockAlign = 8;

/// The kinds of block, in the order they appear in a file.
enum class BlockKind : std::uint32_t {
  kVertices = 1,      ///< atom: owned vertices (gid gaps), ascending
  kEdges = 2,         ///< atom: out-edges of owned vertices (runs of local ids), input order
  kInCutEdges = 3,    ///< atom: edges from other atoms into owned vertices, input order
  kGhosts = 4,        ///< atom: ghosts (gid gap, owning atom), ascending
  kAtomEntries = 16,  ///< index: one entry per atom, by atom id
  kCuts = 17,         ///< index: the meta-graph's cut counts, by (from, to)
  kEnd = 255,         ///< both: the last block; payload = u64 number of blocks before it
};

/// Bytes 0..11 of every file, in every version: magic, then the version.
struct FileIdentity {
  char magic[8];
  std::uint32_t version;
};

struct AtomFileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t flags;  ///< kFlagWeighted
  std::uint64_t graph_id;
  std::uint32_t atom;
  std::uint32_t num_atoms;
  std::uint32_t vertex_data_bytes;
  std::uint32_t edge_data_bytes;
  std::uint64_t vertices;
  std::uint64_t edges;
  std::uint64_t in_cut_edges;
  std::uint64_t ghosts;
  std::uint32_t reserved;
  std::uint32_t header_crc;  ///< CRC32C of the bytes before it
};

struct IndexHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t flags;  ///< kFlagWeighted | kFlagDeclared
  std::uint64_t graph_id;
  std::uint32_t method;  ///< 0 hash, 1 metis
  std::uint32_t num_atoms;
  std::uint64_t seed;
  std::uint64_t num_vertices;
  std::uint64_t num_edges;
  std::uint64_t declared_first;
  std::uint64_t declared_count;
  std::uint64_t num_cuts;
  std::uint32_t vertex_data_bytes;
  std::uint32_t edge_data_bytes;
  std::uint32_t reserved;
  std::uint32_t header_crc;  ///< CRC32C of the bytes before it
};

struct BlockHeader {
  std::uint32_t kind;
  std::uint32_t records;
  std::uint64_t payload_bytes;  ///< at most kMaxBlockPayload
  std::uint32_t payload_crc;    ///< CRC32C of the payload (not the padding)
  std::uint32_t header_crc;     ///< CRC32C of the 20 bytes before it
};

inline constexpr std::size_t kAtomFileNameBytes = 32;

struct AtomEntryRecord {
  char file[kAtomFileNameBytes];  ///< NUL-padded
  std::uint64_t bytes;
  std::uint32_t crc;
  std::uint32_t reserved;
  std::uint64_t vertices;
  std::uint64_t edges;
  std::uint64_t in_cut_edges;
  std::uint64_t ghosts;
};

struct CutRecord {
  std::uint32_t from;
  std::uint32_t to;
  std::uint64_t edges;
};

/// A ghost and its owner atom (in memory; an atom file codes it as two varints).
struct GhostRecord {
  std::uint64_t gid;
  std::uint32_t atom;
  std::uint32_t reserved;
};

template <typename T>
inline constexpr bool kPlainRecord = std::is_trivially_copyable_v<T>&& std::is_standard_layout_v<T>;
static_assert(sizeof(FileIdentity) == 12 && kPlainRecord<FileIdentity>);
static_assert(sizeof(AtomFileHeader) == 80 && kPlainRecord<AtomFileHeader>);
static_assert(sizeof(IndexHeader) == 96 && kPlainRecord<IndexHeader>);
static_assert(sizeof(BlockHeader) == 24 && kPlainRecord<BlockHeader>);
static_assert(sizeof(AtomEntryRecord) == 80 && kPlainRecord<AtomEntryRecord>);
static_assert(sizeof(CutRecord) == 16 && kPlainRecord<CutRecord>);
static_assert(sizeof(GhostRecord) == 16 && kPlainRecord<GhostRecord>);

}  // namespace atl::detail
