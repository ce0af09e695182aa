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

#include "atoll/common/error.hpp"
#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/ids.hpp"
#include "atom_format.hpp"
#include "varint.hpp"

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

/// Walks the ids of an edge block (its payload without the weight column) as decode_edge_block
/// reads them, calling visit(i, sources[s], targets[t]) for each edge i of the block, with no
/// buffer between. A run (the edges of one source) whose source value keep() rejects is stepped
/// over: its varints are read, its targets neither looked up nor visited. Returns "" or why the
/// ids are malformed (as decode_edge_block, but a skipped run's targets are not range-checked).
template <typename Keep, typename Visit>
std::string walk_edge_block(std::span<const unsigned char> ids, std::uint32_t records,
                            std::span<const Gid> sources, std::span<const Gid> targets, Keep&& keep,
                            Visit&& visit) {
  auto at_record = [](std::uint64_t record, const auto&... what) {
    return str_cat("record ", record, ": ", what...);
  };
  VarintReader in(ids.data(), ids.data() + ids.size());
  const std::uint64_t num_sources = sources.size();
  const std::uint64_t num_targets = targets.size();
  std::uint64_t src = 0;
  std::uint32_t i = 0;
  while (i < records) {
    std::uint64_t src_delta = 0, header = 0, dst = 0;
    if (!in.next(&src_delta) || !in.next(&header) || !in.next(&dst)) {
      return at_record(i, "bad or truncated varint");
    }
    src += unzigzag(src_delta);
    if (src >= num_sources) {
      return at_record(i, "source ", src, " out of range (", num_sources, " in the table)");
    }
    const std::uint64_t run = (header >> 1) + 1;
    if (run > records - i) {
      return at_record(i, "a run of ", run, " edges exceeds the block's ", records, " records");
    }
    const Gid src_value = sources[src];
    if (!keep(src_value)) {
      for (std::uint64_t k = 1; k < run; ++k) {
        std::uint64_t delta = 0;
        if (!in.next(&delta)) return at_record(i + k, "bad or truncated varint");
      }
      i += static_cast<std::uint32_t>(run);
      continue;
    }
    const bool sorted = (header & 1) != 0;
    for (std::uint64_t k = 0;; ++k) {
      if (dst >= num_targets) {
        return at_record(i, "target ", dst, " out of range (", num_targets, " in the table)");
      }
      visit(i++, src_value, targets[dst]);
      if (k + 1 == run) break;
      std::uint64_t delta = 0;
      if (!in.next(&delta)) return at_record(i, "bad or truncated varint");
      if (sorted) {
        if (delta >= num_targets - dst) {
          return at_record(i, "target gap ", delta, " runs past the table");
        }
        dst += delta;
      } else {
        dst += unzigzag(delta);  // modulo 2^64; out of range is caught above
      }
    }
  }
  if (!in.done()) {
    return str_cat(ids.data() + ids.size() - in.at(), " bytes left after the ", records,
                   " records the block header counts");
  }
  return {};
}

}  // namespace atl::detail
