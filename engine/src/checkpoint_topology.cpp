#include "checkpoint_topology.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <numeric>
#include <unordered_map>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/mix64.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/pregel_mutations.hpp"

namespace atl::detail {
namespace {

using Buffers = std::vector<std::vector<std::byte>>;

/// What a rank says when a peer sent nothing because it had failed.
constexpr const char* kStopped = " stopped routing (see its error)";

int directory_of(Gid g, int ranks) {
  return static_cast<int>(reduce64(mix64(g), static_cast<std::uint64_t>(ranks)));
}

Gid gid_at(const std::byte* p) {
  Gid g;
  std::memcpy(&g, p, sizeof g);
  return g;
}

std::uint32_t u32_at(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void append(std::vector<std::byte>& to, const std::byte* p, std::size_t n) {
  to.insert(to.end(), p, p + n);
}

void append_u32(std::vector<std::byte>& to, std::uint32_t v) {
  append(to, reinterpret_cast<const std::byte*>(&v), sizeof v);
}

/// Appends a u64 record count and the records.
void put_run(std::vector<std::byte>& out, const std::vector<std::byte>& records,
             std::size_t record) {
  const std::uint64_t count = records.size() / record;
  append(out, reinterpret_cast<const std::byte*>(&count), sizeof count);
  append(out, records.data(), records.size());
}

/// Reads a u64 count and that many records from a peer's buffer, checking every bound.
std::span<const std::byte> take_run(std::span<const std::byte>& in, std::size_t record, int peer) {
  std::uint64_t count = 0;
  if (in.size() < sizeof count) fail("checkpoint resume: short buffer from rank ", peer);
  std::memcpy(&count, in.data(), sizeof count);
  in = in.subspan(sizeof count);
  if (count > in.size() / record) {
    fail("checkpoint resume: rank ", peer, " sent ", count, " records of ", record, " bytes in ",
         in.size(), " bytes");
  }
  std::span<const std::byte> run = in.first(count * record);
  in = in.subspan(count * record);
  return run;
}

void no_stray_bytes(std::span<const std::byte> in, int peer) {
  if (!in.empty()) fail("checkpoint resume: ", in.size(), " stray bytes from rank ", peer);
}

/// Sorts records by their leading gid (then the second one when by_pair), stably.
void sort_records(std::vector<std::byte>& bytes, std::size_t record, bool by_pair) {
  std::vector<std::size_t> order(bytes.size() / record);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto key = [&](std::size_t i, std::size_t at) { return gid_at(bytes.data() + i * record + at); };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (key(a, 0) != key(b, 0) || !by_pair) return key(a, 0) < key(b, 0);
    return key(a, sizeof(Gid)) < key(b, sizeof(Gid));
  });
  std::vector<std::byte> sorted(bytes.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    std::memcpy(sorted.data() + i * record, bytes.data() + order[i] * record, record);
  }
  bytes = std::move(sorted);
}

Buffers all_to_all(Cluster* cluster, Buffers out) {
  if (cluster == nullptr) return out;
  return cluster->exchange.all_to_all(std::move(out));
}

}  // namespace

void route_saved_topology(CheckpointSections sections, const CheckpointRecordSizes& sizes,
                          const CheckpointTopology& topology, const std::string& dir,
                          std::span<const Gid> claims, Cluster* cluster, RestoredEpoch& out) {
  const int rank = cluster != nullptr ? cluster->rank() : 0;
  const int ranks = cluster != nullptr ? cluster->size() : 1;
  const auto n = static_cast<std::size_t>(ranks);
  const std::size_t vsize = sizes.vertex, esize = sizes.edge, msize = sizes.message;
  std::string error;  // the first problem; the rounds go on empty so that no rank hangs
  auto guard = [&](auto&& body) {
    if (!error.empty()) return;
    try {
      body();
    } catch (const std::exception& e) {
      error = e.what();
    }
  };

  // ---- 1. records and claims to their directory ranks ------------------------------------
  Buffers outgoing(n);
  {
    Buffers v(n), e(n), m(n), c(n);
    auto route = [&](const std::vector<std::byte>& records, std::size_t size, Buffers& into) {
      for (std::size_t at = 0; at + size <= records.size(); at += size) {
        append(into[directory_of(gid_at(records.data() + at), ranks)], records.data() + at, size);
      }
    };
    route(sections.vertices, vsize, v);
    route(sections.edges, esize, e);
    route(sections.messages, msize, m);
    sections = {};
    for (Gid g : claims)
      append(c[directory_of(g, ranks)], reinterpret_cast<const std::byte*>(&g), 8);
    for (std::size_t d = 0; d < n; ++d) {
      put_run(outgoing[d], v[d], vsize);
      put_run(outgoing[d], e[d], esize);
      put_run(outgoing[d], m[d], msize);
      put_run(outgoing[d], c[d], sizeof(Gid));
    }
  }
  Buffers incoming = all_to_all(cluster, std::move(outgoing));

  // ---- 2. owners; vertices and messages to them, edges on to their targets' directories --
  std::unordered_map<Gid, int> owner;  // the live vertices this directory rank places
  outgoing.assign(n, {});
  guard([&] {
    std::vector<std::span<const std::byte>> vs(n), es(n), ms(n);
    std::unordered_map<Gid, int> claimed;
    for (std::size_t p = 0; p < n; ++p) {
      std::span<const std::byte> in = incoming[p];
      const int peer = static_cast<int>(p);
      vs[p] = take_run(in, vsize, peer);
      es[p] = take_run(in, esize, peer);
      ms[p] = take_run(in, msize, peer);
      std::span<const std::byte> c = take_run(in, sizeof(Gid), peer);
      no_stray_bytes(in, peer);
      for (std::size_t at = 0; at < c.size(); at += sizeof(Gid)) {
        const Gid g = gid_at(c.data() + at);
        const auto [it, fresh] = claimed.emplace(g, peer);
        if (!fresh)
          fail("checkpoint resume: ranks ", it->second, " and ", p, " both own vertex ", g);
      }
    }
    auto place = [&](Gid g) {
      const auto it = claimed.find(g);
      return it != claimed.end() ? it->second : new_vertex_owner(g, ranks);
    };
    Buffers v(n), m(n), e(n);
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t at = 0; at < vs[p].size(); at += vsize) {
        const std::byte* r = vs[p].data() + at;
        CheckpointVertexHeader h;
        std::memcpy(&h, r, sizeof h);
        const int o = place(h.gid);
        if ((h.flags & kCheckpointRemoved) == 0 && !owner.emplace(h.gid, o).second) {
          fail(dir, ": has two records of vertex ", h.gid);
        }
        append(v[static_cast<std::size_t>(o)], r, vsize);
      }
    }
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t at = 0; at < ms[p].size(); at += msize) {
        const Gid g = gid_at(ms[p].data() + at);
        const auto it = owner.find(g);
        if (it == owner.end()) fail(dir, ": a message for vertex ", g, ", which it does not hold");
        append(m[static_cast<std::size_t>(it->second)], ms[p].data() + at, msize);
      }
      for (std::size_t at = 0; at < es[p].size(); at += esize) {
        const std::byte* r = es[p].data() + at;
        const Gid src = gid_at(r), dst = gid_at(r + sizeof(Gid));
        const auto it = owner.find(src);
        if (it == owner.end()) {
          fail(dir, ": an edge ", src, " -> ", dst, " from a vertex it does not hold");
        }
        auto& to = e[static_cast<std::size_t>(directory_of(dst, ranks))];
        append(to, r, esize);
        append_u32(to, static_cast<std::uint32_t>(it->second));
      }
    }
    for (std::size_t d = 0; d < n; ++d) {
      put_run(outgoing[d], v[d], vsize);
      put_run(outgoing[d], m[d], msize);
      put_run(outgoing[d], e[d], esize + 4);
    }
  });
  if (!error.empty()) outgoing.assign(n, {});
  incoming = all_to_all(cluster, std::move(outgoing));

  // ---- 3. each edge, with both owners, to both -------------------------------------------
  outgoing.assign(n, {});
  guard([&] {
    Buffers e(n);
    for (std::size_t p = 0; p < n; ++p) {
      std::span<const std::byte> in = incoming[p];
      const int peer = static_cast<int>(p);
      if (in.empty()) fail("checkpoint resume: rank ", peer, kStopped);
      std::span<const std::byte> v = take_run(in, vsize, peer);
      std::span<const std::byte> m = take_run(in, msize, peer);
      std::span<const std::byte> edges = take_run(in, esize + 4, peer);
      no_stray_bytes(in, peer);
      out.vertices.insert(out.vertices.end(), v.begin(), v.end());
      out.messages.insert(out.messages.end(), m.begin(), m.end());
      for (std::size_t at = 0; at < edges.size(); at += esize + 4) {
        const std::byte* r = edges.data() + at;
        const Gid src = gid_at(r), dst = gid_at(r + sizeof(Gid));
        const std::uint32_t src_owner = u32_at(r + esize);
        const auto it = owner.find(dst);
        if (src_owner >= n || directory_of(dst, ranks) != rank) {
          fail("checkpoint resume: rank ", peer, " sent a malformed edge ", src, " -> ", dst);
        }
        if (it == owner.end()) {
          fail(dir, ": an edge ", src, " -> ", dst, " to a vertex it does not hold");
        }
        const auto dst_owner = static_cast<std::uint32_t>(it->second);
        auto send = [&](std::uint32_t to) {
          append(e[to], r, esize);
          append_u32(e[to], src_owner);
          append_u32(e[to], dst_owner);
        };
        send(src_owner);
        if (dst_owner != src_owner) send(dst_owner);  // one rank owning both ends gets it once
      }
    }
    for (std::size_t d = 0; d < n; ++d) put_run(outgoing[d], e[d], esize + 8);
  });
  if (!error.empty()) outgoing.assign(n, {});
  incoming = all_to_all(cluster, std::move(outgoing));

  // ---- this rank's edges and its ghosts' owners ------------------------------------------
  std::uint64_t counts[2] = {0, 0};  // live vertices, edges (at their sources' owners)
  guard([&] {
    for (std::size_t p = 0; p < n; ++p) {
      std::span<const std::byte> in = incoming[p];
      const int peer = static_cast<int>(p);
      if (in.empty()) fail("checkpoint resume: rank ", peer, kStopped);
      std::span<const std::byte> edges = take_run(in, esize + 8, peer);
      no_stray_bytes(in, peer);
      for (std::size_t at = 0; at < edges.size(); at += esize + 8) {
        const std::byte* r = edges.data() + at;
        const Gid src = gid_at(r), dst = gid_at(r + sizeof(Gid));
        const std::uint32_t so = u32_at(r + esize), dso = u32_at(r + esize + 4);
        const auto me = static_cast<std::uint32_t>(rank);
        if (so >= n || dso >= n || (so != me && dso != me)) {
          fail("checkpoint resume: rank ", peer, " sent an edge ", src, " -> ", dst,
               " with owners ", so, " and ", dso);
        }
        append(out.edges, r, esize);
        if (so != me) out.ghost_owners.emplace_back(src, static_cast<int>(so));
        if (dso != me) out.ghost_owners.emplace_back(dst, static_cast<int>(dso));
        if (so == me) ++counts[1];
      }
    }
    std::sort(out.ghost_owners.begin(), out.ghost_owners.end());
    out.ghost_owners.erase(std::unique(out.ghost_owners.begin(), out.ghost_owners.end()),
                           out.ghost_owners.end());
    for (std::size_t i = 1; i < out.ghost_owners.size(); ++i) {
      if (out.ghost_owners[i].first == out.ghost_owners[i - 1].first) {
        fail("checkpoint resume: vertex ", out.ghost_owners[i].first, " has two owners");
      }
    }
    for (std::size_t at = 0; at < out.vertices.size(); at += vsize) {
      CheckpointVertexHeader h;
      std::memcpy(&h, out.vertices.data() + at, sizeof h);
      if ((h.flags & kCheckpointRemoved) == 0) ++counts[0];
    }
    sort_records(out.vertices, vsize, false);
    sort_records(out.edges, esize, true);
    sort_records(out.messages, msize, false);
  });
  if (cluster != nullptr) {
    cluster->collectives.allreduce(std::span<std::uint64_t>(counts), ReduceOp::kSum);
    // The first rank's own problem, before the ranks that only saw it stop.
    const std::vector<std::string> all = cluster->collectives.allgather(error);
    for (bool echoes : {false, true}) {
      for (std::size_t r = 0; r < all.size(); ++r) {
        if (!all[r].empty() && (echoes || all[r].find(kStopped) == std::string::npos)) {
          fail(all.size() > 1 ? str_cat("rank ", r, ": ") : "", all[r]);
        }
      }
    }
  } else if (!error.empty()) {
    fail(error);
  }
  if (counts[0] != topology.vertices || counts[1] != topology.edges) {
    fail(dir, ": holds ", counts[0], " vertices and ", counts[1], " edges where its MANIFEST says ",
         topology.vertices, " and ", topology.edges);
  }
  out.topology = topology;
}

}  // namespace atl::detail
