// Mutation requests on their way to the ranks that apply them: per destination rank and
// superstep one batch, cut into rounds of bounded size (pregel_mutation_rounds.hpp), never a
// network operation per request. A batch is a
// sequence of sections, each "u32 kind, u32 count" and then count fixed-size records:
//   0 remove edge:   u64 src, u64 dst
//   1 remove vertex: u64 gid
//   2 add vertex:    u64 gid, VertexValue
//   3 add edge:      u64 src, u64 dst, u32 src owner, u32 dst owner, EdgeValue
//   4 message:       u64 gid, Message    (to a vertex its sender does not hold)
// Bytes from a peer are untrusted: decode checks every header, count and owner rank first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/pregel_mutations.hpp"

namespace atl {

template <typename P>
struct PregelMutationBatch {
  using Requests = PregelMutationRequests<P>;
  using VertexValue = typename P::VertexValue;
  using EdgeValue = typename P::EdgeValue;
  using Message = typename P::Message;

  /// An edge addition with the owners of both endpoints (the requester resolved them).
  struct RoutedEdge {
    Gid src;
    Gid dst;
    std::uint32_t src_owner;
    std::uint32_t dst_owner;
    EdgeValue value;
  };

  std::vector<typename Requests::EdgeKey> remove_edges;
  std::vector<Gid> remove_vertices;
  std::vector<typename Requests::AddVertex> add_vertices;
  std::vector<RoutedEdge> add_edges;
  std::vector<typename Requests::MessageTo> messages;

  enum : std::uint32_t { kRemoveEdge, kRemoveVertex, kAddVertex, kAddEdge, kMessage, kKinds };
  static constexpr std::size_t kRecord[kKinds] = {16, 8, 8 + sizeof(VertexValue),
                                                  16 + 8 + sizeof(EdgeValue), 8 + sizeof(Message)};

  bool empty() const {
    return remove_edges.empty() && remove_vertices.empty() && add_vertices.empty() &&
           add_edges.empty() && messages.empty();
  }

  /// Where encoding stopped: the section kind and the record within it.
  struct Cursor {
    std::uint32_t kind = 0;
    std::size_t index = 0;
  };
  bool done(const Cursor& c) const { return c.kind >= kKinds; }

  /// Encodes the records from `c` on, whole sections of up to `budget` bytes in all (at least
  /// one record, however large), into `out` (or only counts them when out is null); advances
  /// c and returns the bytes.
  std::size_t encode_some(Cursor& c, std::size_t budget, std::vector<std::byte>* out) const {
    std::size_t used = 0;
    for (; c.kind < kKinds; ++c.kind, c.index = 0) {
      while (c.index < size(c.kind)) {
        const std::size_t room = budget > used + 8 ? (budget - used - 8) / kRecord[c.kind] : 0;
        std::size_t n = std::min({size(c.kind) - c.index, room, std::size_t{UINT32_MAX}});
        if (n == 0 && used == 0) n = 1;  // one record always goes
        if (n == 0) return used;         // the budget is spent
        used += 8 + n * kRecord[c.kind];
        if (out != nullptr) write(*out, c.kind, c.index, n);
        c.index += n;
      }
    }
    return used;
  }

  /// Every record in one buffer.
  std::vector<std::byte> encode() const {
    std::vector<std::byte> out;
    Cursor c;
    encode_some(c, SIZE_MAX, &out);
    return out;
  }

  /// Appends the records of a batch from rank `source` (of `ranks`); a malformed batch fails
  /// with a message naming the source.
  void decode(std::span<const std::byte> in, int source, int ranks) {
    auto bad = [&](const char* what) {
      fail("rank ", source, " sent a malformed Pregel mutation batch (", what, ")");
    };
    std::size_t at = 0;
    while (at < in.size()) {
      if (in.size() - at < 8) bad("truncated section header");
      std::uint32_t header[2];
      std::memcpy(header, in.data() + at, sizeof header);
      at += sizeof header;
      const std::uint32_t kind = header[0], count = header[1];
      if (kind >= kKinds) bad("unknown section kind");
      if ((in.size() - at) / kRecord[kind] < count) bad("truncated records");
      for (std::uint32_t k = 0; k < count; ++k) {
        const std::byte* r = in.data() + at;
        at += kRecord[kind];
        switch (kind) {
          case kRemoveEdge:
            remove_edges.push_back({get<Gid>(r), get<Gid>(r + 8)});
            break;
          case kRemoveVertex:
            remove_vertices.push_back(get<Gid>(r));
            break;
          case kAddVertex:
            add_vertices.push_back({get<Gid>(r), get<VertexValue>(r + 8)});
            break;
          case kAddEdge: {
            RoutedEdge e{get<Gid>(r), get<Gid>(r + 8), get<std::uint32_t>(r + 16),
                         get<std::uint32_t>(r + 20), get<EdgeValue>(r + 24)};
            if (e.src_owner >= static_cast<std::uint32_t>(ranks) ||
                e.dst_owner >= static_cast<std::uint32_t>(ranks)) {
              bad("owner rank out of range");
            }
            add_edges.push_back(e);
            break;
          }
          default:
            messages.push_back({get<Gid>(r), get<Message>(r + 8)});
            break;
        }
      }
    }
  }

 private:
  std::size_t size(std::uint32_t kind) const {
    switch (kind) {
      case kRemoveEdge:
        return remove_edges.size();
      case kRemoveVertex:
        return remove_vertices.size();
      case kAddVertex:
        return add_vertices.size();
      case kAddEdge:
        return add_edges.size();
      default:
        return messages.size();
    }
  }
  /// Appends one section: records [first, first + n) of `kind`.
  void write(std::vector<std::byte>& out, std::uint32_t kind, std::size_t first,
             std::size_t n) const {
    const std::uint32_t header[2] = {kind, static_cast<std::uint32_t>(n)};
    put(out, header, sizeof header);
    for (std::size_t i = first; i < first + n; ++i) {
      switch (kind) {
        case kRemoveEdge:
          put(out, &remove_edges[i].src, 8);
          put(out, &remove_edges[i].dst, 8);
          break;
        case kRemoveVertex:
          put(out, &remove_vertices[i], 8);
          break;
        case kAddVertex:
          put(out, &add_vertices[i].gid, 8);
          put(out, &add_vertices[i].value, sizeof(VertexValue));
          break;
        case kAddEdge: {
          const RoutedEdge& e = add_edges[i];
          put(out, &e.src, 8);
          put(out, &e.dst, 8);
          put(out, &e.src_owner, 4);
          put(out, &e.dst_owner, 4);
          put(out, &e.value, sizeof(EdgeValue));
          break;
        }
        default:
          put(out, &messages[i].gid, 8);
          put(out, &messages[i].message, sizeof(Message));
          break;
      }
    }
  }
  static void put(std::vector<std::byte>& out, const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  }
  template <typename T>
  static T get(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
};

}  // namespace atl
