// The payloads of atom file blocks, version 2 (docs/atoms.md, "Block payloads"): strictly
// ascending ids as varint gaps, ghosts with their owner atom, and edges as runs of one source
// with varint-coded local ids (positions in the atom's vertex, ghost or merged tables) and the
// weights in a column after them. Every block decodes on its own. The decoders take untrusted
// bytes: they never read or write out of bounds and return the reason a payload is malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/ids.hpp"
#include "atom_format.hpp"

namespace atl::detail {

/// What an encoder put into one block: records [first, first + records), `bytes` of payload.
struct EncodedBlock {
  std::size_t records = 0;
  std::size_t bytes = 0;
};

/// Encodes vertices (strictly ascending) from `first` on into dst, as many as fit in
/// kMaxBlockPayload bytes (at least one).
EncodedBlock encode_vertex_block(std::span<const Gid> vertices, std::uint64_t first,
                                 unsigned char* dst);
/// The same for ghosts (strictly ascending by gid), each with its owner atom.
EncodedBlock encode_ghost_block(std::span<const GhostRecord> ghosts, std::uint64_t first,
                                unsigned char* dst);
/// Encodes edges given as local ids (src and dst are positions in the tables the reader
/// resolves them with), with their weights when `weights` is not empty.
EncodedBlock encode_edge_block(std::span<const Edge> local, std::span<const double> weights,
                               std::uint64_t first, unsigned char* dst);

/// Decodes a vertex block of `records` ids into ids[0, records) (owners == nullptr) or a ghost
/// block into ids and owners. Returns "" or why the payload is malformed.
std::string decode_id_block(std::span<const unsigned char> payload, std::uint32_t records, Gid* ids,
                            std::uint32_t* owners);

/// Decodes an edge block of `records` edges into edges[0, records) (and weights, when not
/// nullptr), resolving local sources in `sources` and targets in `targets`. Returns "" or why
/// the payload is malformed (a bad varint, a local id out of range, a run longer than the
/// block, bytes left over).
std::string decode_edge_block(std::span<const unsigned char> payload, std::uint32_t records,
                              std::span<const Gid> sources, std::span<const Gid> targets,
                              Edge* edges, double* weights);

}  // namespace atl::detail
