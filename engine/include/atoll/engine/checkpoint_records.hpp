// Between a rank's local graph and checkpoint records (CheckpointStore): vertex records for the
// owned vertices, edge records for their out-edges, and back again on resume, matching records
// to this rank's vertices by gid whatever the rank count was when they were written.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/checkpoint_store.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/graph/local_graph.hpp"

namespace atl {

/// Bytes of T a checkpoint saves (0 for an empty type such as EmptyData).
template <typename T>
constexpr std::uint32_t checkpoint_bytes() {
  return std::is_empty_v<T> ? 0 : static_cast<std::uint32_t>(sizeof(T));
}

/// "NAME SIZE" of a type, for the manifest (0 for an empty type).
template <typename T>
std::string checkpoint_type_name() {
  return str_cat(typeid(T).name(), ":", checkpoint_bytes<T>());
}

/// Collective: an order-independent digest of the graph (gids and out-edges by gid), the same
/// for any partition of it, with its vertex and edge counts.
void digest_graph(const Topology& t, Cluster* cluster, CheckpointShape& shape);

/// Writes one record per owned vertex into out from byte `at` (default: appends), resizing out
/// to end there: header(lid, h) sets flags and priority, the data follows.
template <typename VD, typename ED, typename Header>
void save_vertex_records(const LocalGraph<VD, ED>& graph, std::vector<std::byte>& out,
                         Header&& header, std::size_t at = ~std::size_t{0}) {
  constexpr std::size_t kData = checkpoint_bytes<VD>();
  constexpr std::size_t kRecord = sizeof(CheckpointVertexHeader) + kData;
  const Topology& t = graph.topology();
  if (at > out.size()) at = out.size();
  out.resize(at + t.num_owned() * kRecord);  // a buffer of the right size is not cleared
  for (Lid v = 0; v < t.num_owned(); ++v) {
    CheckpointVertexHeader h{t.gid(v), 0.0, 0, 0};
    header(v, h);
    std::byte* r = out.data() + at + v * kRecord;
    std::memcpy(r, &h, sizeof h);
    if constexpr (kData > 0) std::memcpy(r + sizeof h, &graph.vertex_data()[v], kData);
  }
}

/// Appends one edge record (ED not empty).
template <typename ED>
void append_edge_record(std::vector<std::byte>& out, Gid src, Gid dst, const ED& data) {
  static_assert(checkpoint_bytes<ED>() > 0);
  const CheckpointEdgeHeader h{src, dst};
  const std::size_t at = out.size();
  out.resize(at + sizeof h + sizeof(ED));
  std::memcpy(out.data() + at, &h, sizeof h);
  std::memcpy(out.data() + at + sizeof h, &data, sizeof(ED));
}

/// Appends one record per out-edge of an owned vertex (none when ED is empty).
template <typename VD, typename ED>
void save_edge_records(const LocalGraph<VD, ED>& graph, std::vector<std::byte>& out) {
  constexpr std::size_t kData = checkpoint_bytes<ED>();
  if constexpr (kData > 0) {
    constexpr std::size_t kRecord = sizeof(CheckpointEdgeHeader) + kData;
    const Topology& t = graph.topology();
    const std::size_t at = out.size();
    out.resize(at + t.owned_edges() * kRecord);
    for (Lid v = 0; v < t.num_owned(); ++v) {
      for (EdgeId e = t.out_begin(v); e < t.out_end(v); ++e) {
        CheckpointEdgeHeader h{t.gid(v), t.gid(t.out_targets()[e])};
        std::byte* r = out.data() + at + e * kRecord;
        std::memcpy(r, &h, sizeof h);
        std::memcpy(r + sizeof h, &graph.edge_data()[e], kData);
      }
    }
  }
}

/// Appends one record per out-edge of an owned vertex, also without edge data, each followed
/// by the edge's weight when weight_bytes is 8: an epoch that carries its own topology.
template <typename VD, typename ED>
void save_topology_edge_records(const LocalGraph<VD, ED>& graph, std::uint32_t weight_bytes,
                                std::vector<std::byte>& out) {
  constexpr std::size_t kData = checkpoint_bytes<ED>();
  const std::size_t record = sizeof(CheckpointEdgeHeader) + kData + weight_bytes;
  const Topology& t = graph.topology();
  const std::size_t at = out.size();
  out.resize(at + t.owned_edges() * record);
  for (Lid v = 0; v < t.num_owned(); ++v) {
    for (EdgeId e = t.out_begin(v); e < t.out_end(v); ++e) {
      CheckpointEdgeHeader h{t.gid(v), t.gid(t.out_targets()[e])};
      std::byte* r = out.data() + at + e * record;
      std::memcpy(r, &h, sizeof h);
      if constexpr (kData > 0) std::memcpy(r + sizeof h, &graph.edge_data()[e], kData);
      if (weight_bytes > 0) {
        const double w = t.weighted() ? t.weights()[e] : 1.0;
        std::memcpy(r + sizeof h + kData, &w, sizeof w);
      }
    }
  }
}

/// The gids this rank asks for on resume: its owned vertices, and the sources of its edges
/// (owned vertices with out-edges, and ghosts with cut edges from them).
inline std::vector<Gid> owned_gids(const Topology& t) {
  std::vector<Gid> gids(t.num_owned());
  for (Lid v = 0; v < t.num_owned(); ++v) gids[v] = t.gid(v);
  return gids;
}
inline std::vector<Gid> edge_source_gids(const Topology& t) {
  std::vector<Gid> gids;
  for (Lid v = 0; v < t.num_vertices(); ++v) {
    if (t.out_degree(v) > 0) gids.push_back(t.gid(v));
  }
  return gids;
}

/// Sets every owned vertex's data from its record and calls on_header(lid, header).
template <typename VD, typename ED, typename OnHeader>
void restore_vertex_records(LocalGraph<VD, ED>& graph, const RestoredEpoch& epoch,
                            OnHeader&& on_header) {
  constexpr std::size_t kData = checkpoint_bytes<VD>();
  constexpr std::size_t kRecord = sizeof(CheckpointVertexHeader) + kData;
  const Topology& t = graph.topology();
  if (epoch.topology.saved) fail(epoch.dir, ": carries its own topology, which only Pregel reads");
  const std::size_t count = epoch.vertices.size() / kRecord;
  auto gid_of = [&](std::size_t i) {
    Gid g;
    std::memcpy(&g, epoch.vertices.data() + i * kRecord, sizeof g);
    return g;
  };
  for (Lid v = 0; v < t.num_owned(); ++v) {
    const Gid g = t.gid(v);
    std::size_t lo = 0, hi = count;
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (gid_of(mid) < g)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo == count || gid_of(lo) != g) fail(epoch.dir, ": no record of vertex ", g);
    const std::byte* r = epoch.vertices.data() + lo * kRecord;
    CheckpointVertexHeader h;
    std::memcpy(&h, r, sizeof h);
    if constexpr (kData > 0) std::memcpy(&graph.vertex_data()[v], r + sizeof h, kData);
    on_header(v, h);
  }
}

/// Sets the data of every edge of this rank (cut edges from ghosts too) from its record. The
/// k-th edge (v, w) of the graph takes the k-th record (v, w) as saved. A ghost's records hold
/// all its out-edges; this rank has only those into its own vertices.
template <typename VD, typename ED>
void restore_edge_records(LocalGraph<VD, ED>& graph, const RestoredEpoch& epoch) {
  constexpr std::size_t kData = checkpoint_bytes<ED>();
  if constexpr (kData > 0) {
    constexpr std::size_t kRecord = sizeof(CheckpointEdgeHeader) + kData;
    const Topology& t = graph.topology();
    const std::size_t count = epoch.edges.size() / kRecord;
    auto header_of = [&](std::size_t i) {
      CheckpointEdgeHeader h;
      std::memcpy(&h, epoch.edges.data() + i * kRecord, sizeof h);
      return h;
    };
    std::vector<Lid> sources;  // walked in gid order, like the records
    for (Lid v = 0; v < t.num_vertices(); ++v) {
      if (t.out_degree(v) > 0) sources.push_back(v);
    }
    std::sort(sources.begin(), sources.end(), [&](Lid a, Lid b) { return t.gid(a) < t.gid(b); });
    std::vector<std::pair<Gid, EdgeId>> mine;
    std::size_t at = 0;
    for (Lid v : sources) {
      const Gid g = t.gid(v);
      const bool owned = v < t.num_owned();
      while (at < count && header_of(at).src < g) ++at;
      mine.clear();
      for (EdgeId e = t.out_begin(v); e < t.out_end(v); ++e) {
        mine.emplace_back(t.gid(t.out_targets()[e]), e);
      }
      std::stable_sort(mine.begin(), mine.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [dst, e] : mine) {
        while (at < count && header_of(at).src == g && header_of(at).dst < dst) {
          if (owned)
            fail(epoch.dir, ": saved edge ", g, " -> ", header_of(at).dst, " is not in the graph");
          ++at;
        }
        if (at == count || header_of(at).src != g || header_of(at).dst != dst) {
          fail(epoch.dir, ": no record of edge ", g, " -> ", dst,
               " (the epoch's edges do not match the graph)");
        }
        std::memcpy(&graph.edge_data()[e],
                    epoch.edges.data() + at * kRecord + sizeof(CheckpointEdgeHeader), kData);
        ++at;
      }
      if (owned && at < count && header_of(at).src == g) {
        fail(epoch.dir, ": vertex ", g, " has more saved out-edges than the graph");
      }
    }
  }
}

}  // namespace atl
