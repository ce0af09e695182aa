#include "atom_codec.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "atoll/common/error.hpp"
#include "varint.hpp"

namespace atl::detail {
namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

/// Encodes ids from `first` on: the first id of the block as it is, each later one as its gap
/// to the previous minus 1; with an owner atom after each id when `with_owner`.
template <typename Id, typename Owner>
EncodedBlock encode_ids(std::size_t count, std::uint64_t first, unsigned char* dst, Id id,
                        Owner owner, bool with_owner) {
  const std::size_t worst = kMaxVarintBytes * (with_owner ? 2 : 1);
  unsigned char* p = dst;
  std::uint64_t i = first;
  Gid prev = 0;
  for (; i < count && static_cast<std::size_t>(p - dst) + worst <= kMaxBlockPayload; ++i) {
    const Gid v = id(i);
    p = put_varint(p, i == first ? v : v - prev - 1);
    if (with_owner) p = put_varint(p, owner(i));
    prev = v;
  }
  return {static_cast<std::size_t>(i - first), static_cast<std::size_t>(p - dst)};
}

std::string at_record(std::uint64_t record, std::string_view what) {
  return str_cat("record ", record, ": ", what);
}

}  // namespace

EncodedBlock encode_vertex_block(std::span<const Gid> vertices, std::uint64_t first,
                                 unsigned char* dst) {
  return encode_ids(
      vertices.size(), first, dst, [&](std::uint64_t i) { return vertices[i]; },
      [](std::uint64_t) { return 0u; }, false);
}

EncodedBlock encode_ghost_block(std::span<const GhostRecord> ghosts, std::uint64_t first,
                                unsigned char* dst) {
  return encode_ids(
      ghosts.size(), first, dst, [&](std::uint64_t i) { return ghosts[i].gid; },
      [&](std::uint64_t i) { return ghosts[i].atom; }, true);
}

EncodedBlock encode_edge_block(std::span<const Edge> local, std::span<const double> weights,
                               std::uint64_t first, unsigned char* dst) {
  const std::size_t w = weights.empty() ? 0 : sizeof(double);
  constexpr std::size_t kRunHeader = 2 * kMaxVarintBytes;
  unsigned char* p = dst;
  std::uint64_t i = first;
  std::uint64_t prev_src = 0;
  const std::uint64_t count = local.size();
  while (i < count) {
    const std::size_t used = static_cast<std::size_t>(p - dst) + w * (i - first);
    if (used + kRunHeader + kMaxVarintBytes + w > kMaxBlockPayload) break;
    // The run: edges of one source, as many as surely fit.
    const std::uint64_t fit = (kMaxBlockPayload - used - kRunHeader) / (kMaxVarintBytes + w);
    const std::uint64_t src = local[i].src;
    std::uint64_t end = i + 1;
    bool sorted = true;
    while (end < count && end - i < fit && local[end].src == src) {
      sorted = sorted && local[end].dst >= local[end - 1].dst;
      ++end;
    }
    p = put_varint(p, zigzag(src - prev_src));
    p = put_varint(p, ((end - i - 1) << 1) | (sorted ? 1 : 0));
    p = put_varint(p, local[i].dst);
    for (std::uint64_t e = i + 1; e < end; ++e) {
      const std::uint64_t delta = local[e].dst - local[e - 1].dst;
      p = put_varint(p, sorted ? delta : zigzag(delta));
    }
    prev_src = src;
    i = end;
  }
  if (w != 0) {
    std::memcpy(p, weights.data() + first, (i - first) * sizeof(double));
    p += (i - first) * sizeof(double);
  }
  return {static_cast<std::size_t>(i - first), static_cast<std::size_t>(p - dst)};
}

std::string decode_id_block(std::span<const unsigned char> payload, std::uint32_t records, Gid* ids,
                            std::uint32_t* owners) {
  VarintReader in(payload.data(), payload.data() + payload.size());
  Gid prev = 0;
  for (std::uint32_t i = 0; i < records; ++i) {
    std::uint64_t gap = 0;
    if (!in.next(&gap)) return at_record(i, "bad or truncated varint");
    if (i > 0 && gap >= kMaxU64 - prev) return at_record(i, "id gap overflows 64 bits");
    prev = i == 0 ? gap : prev + 1 + gap;
    ids[i] = prev;
    if (owners != nullptr) {
      std::uint64_t owner = 0;
      if (!in.next(&owner)) return at_record(i, "bad or truncated varint (owner atom)");
      if (owner > std::numeric_limits<std::uint32_t>::max()) {
        return at_record(i, str_cat("owner atom ", owner, " out of range"));
      }
      owners[i] = static_cast<std::uint32_t>(owner);
    }
  }
  if (!in.done()) {
    return str_cat(payload.data() + payload.size() - in.at(), " bytes left after the ", records,
                   " records the block header counts");
  }
  return {};
}

std::string decode_edge_block(std::span<const unsigned char> payload, std::uint32_t records,
                              std::span<const Gid> sources, std::span<const Gid> targets,
                              Edge* edges, double* weights) {
  const std::size_t column = weights != nullptr ? std::size_t{records} * sizeof(double) : 0;
  if (payload.size() < column) {
    return str_cat(payload.size(), " payload bytes cannot hold the weights of ", records, " edges");
  }
  std::string error = walk_edge_block(
      payload.first(payload.size() - column), records, sources, targets, [](Gid) { return true; },
      [edges](std::uint32_t i, Gid src, Gid dst) {
        edges[i] = Edge{src, dst};
      });
  if (error.empty() && weights != nullptr) {
    std::memcpy(weights, payload.data() + payload.size() - column, column);
  }
  return error;
}

}  // namespace atl::detail
