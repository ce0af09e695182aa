// A Pregel graph from an epoch that carries its own topology (checkpoints written after a
// mutation), as CheckpointStore::resume placed its records: this rank's part is built from its
// vertex and edge records the way the mutation phase builds one (owned vertices, then ghosts
// by owner, replica lists), and the values, edge values, halt flags, messages and the values
// of removed vertices move to their local ids.
#pragma once

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/checkpoint_records.hpp"
#include "atoll/engine/checkpoint_store.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/local_graph.hpp"

namespace atl {

template <typename P>
struct PregelSavedGraph {
  using Graph = LocalGraph<typename P::VertexValue, typename P::EdgeValue>;
  Graph graph;                                                   ///< this rank's part
  std::vector<std::uint8_t> halted;                              ///< by owned lid
  std::vector<std::pair<Lid, typename P::Message>> inbox;        ///< the next superstep's
  std::vector<std::pair<Gid, typename P::VertexValue>> removed;  ///< removed vertices' values
};

/// Collective with a cluster. `weighted`: the input graph has weights (the epoch must carry
/// them then). Fails naming the epoch when its records do not make a graph.
template <typename P>
PregelSavedGraph<P> build_saved_graph(const RestoredEpoch& epoch, bool weighted, Cluster* cluster) {
  using VertexValue = typename P::VertexValue;
  using EdgeValue = typename P::EdgeValue;
  using Message = typename P::Message;
  constexpr std::size_t kVData = checkpoint_bytes<VertexValue>();
  constexpr std::size_t kVRecord = sizeof(CheckpointVertexHeader) + kVData;
  constexpr std::size_t kEData = checkpoint_bytes<EdgeValue>();
  constexpr std::size_t kMRecord = sizeof(CheckpointMessageHeader) + sizeof(Message);
  const std::uint32_t weight_bytes = weighted ? sizeof(double) : 0;
  if (epoch.topology.weight_bytes != weight_bytes) {
    fail(epoch.dir, ": its edges carry ", epoch.topology.weight_bytes,
         " weight bytes, but this run's graph is ", weighted ? "weighted" : "unweighted");
  }
  const std::size_t erecord = sizeof(CheckpointEdgeHeader) + kEData + weight_bytes;
  const int rank = cluster != nullptr ? cluster->rank() : 0;
  const int ranks = cluster != nullptr ? cluster->size() : 1;

  // Vertex records are sorted by gid: owned lids follow them in order.
  GraphPart part;
  part.rank = rank;
  std::vector<std::size_t> live;  // record index by owned lid
  PregelSavedGraph<P> out{LocalGraph<VertexValue, EdgeValue>(Topology{}), {}, {}, {}};
  for (std::size_t i = 0; i < epoch.vertices.size() / kVRecord; ++i) {
    const std::byte* r = epoch.vertices.data() + i * kVRecord;
    CheckpointVertexHeader h;
    std::memcpy(&h, r, sizeof h);
    if ((h.flags & kCheckpointRemoved) != 0) {
      VertexValue value{};
      if constexpr (kVData > 0) std::memcpy(&value, r + sizeof h, kVData);
      out.removed.emplace_back(h.gid, value);
      continue;
    }
    part.owned.push_back(h.gid);
    live.push_back(i);
  }
  EdgeList& edges = part.edges;
  edges.weighted = weighted;
  const std::size_t edge_count = epoch.edges.size() / erecord;
  for (std::size_t i = 0; i < edge_count; ++i) {
    const std::byte* r = epoch.edges.data() + i * erecord;
    CheckpointEdgeHeader h;
    std::memcpy(&h, r, sizeof h);
    edges.edges.push_back({h.src, h.dst});
    if (weighted) {
      double w;
      std::memcpy(&w, r + sizeof h + kEData, sizeof w);
      edges.weights.push_back(w);
    }
  }
  part.owner_of = [&](Gid g) -> int {
    const auto it = std::lower_bound(epoch.ghost_owners.begin(), epoch.ghost_owners.end(),
                                     std::pair<Gid, int>{g, -1});
    if (it == epoch.ghost_owners.end() || it->first != g) {
      fail(epoch.dir, ": no owner for vertex ", g, " of a saved edge");
    }
    return it->second;
  };
  Topology built = cluster != nullptr ? build_known_part(part, cluster->exchange, ranks)
                                      : Topology::build_part(part);
  part.owned = {};
  out.graph = LocalGraph<VertexValue, EdgeValue>(std::move(built));
  const Topology& t = out.graph.topology();
  if (t.num_owned() != live.size()) fail("internal error: a saved part lost owned vertices");
  std::span<VertexValue> values = out.graph.vertex_data();
  out.halted.assign(t.num_owned(), 0);
  for (Lid v = 0; v < t.num_owned(); ++v) {
    const std::byte* r = epoch.vertices.data() + live[v] * kVRecord;
    CheckpointVertexHeader h;
    std::memcpy(&h, r, sizeof h);
    if (h.gid != t.gid(v)) fail("internal error: saved vertices out of step");
    values[v] = VertexValue{};
    if constexpr (kVData > 0) std::memcpy(&values[v], r + sizeof h, kVData);
    out.halted[v] = (h.flags & kCheckpointHalted) != 0 ? 1 : 0;
  }
  for (Lid v = t.num_owned(); v < t.num_vertices(); ++v) values[v] = VertexValue{};
  if constexpr (kEData > 0) {
    // The out-CSR lists each vertex's edges by (target lid, input position), as after a
    // mutation; the records of one source are in their saved order.
    std::vector<std::pair<std::pair<Lid, Lid>, std::size_t>> order;
    for (std::size_t i = 0; i < edge_count; ++i) {
      const Lid s = t.lid(edges.edges[i].src);
      if (s < t.num_owned()) order.push_back({{s, t.lid(edges.edges[i].dst)}, i});
    }
    std::sort(order.begin(), order.end());
    if (order.size() != t.owned_edges()) fail("internal error: saved edges out of step");
    std::span<EdgeValue> ev = out.graph.edge_data();
    for (EdgeId e = 0; e < order.size(); ++e) {
      if (t.out_targets()[e] != order[e].first.second) {
        fail("internal error: saved edge values out of step");
      }
      std::memcpy(&ev[e],
                  epoch.edges.data() + order[e].second * erecord + sizeof(CheckpointEdgeHeader),
                  kEData);
    }
    for (EdgeId e = t.owned_edges(); e < t.num_edges(); ++e) ev[e] = EdgeValue{};
  }
  out.inbox.resize(epoch.messages.size() / kMRecord);
  for (std::size_t i = 0; i < out.inbox.size(); ++i) {
    CheckpointMessageHeader h;
    std::memcpy(&h, epoch.messages.data() + i * kMRecord, sizeof h);
    const Lid v = t.lid(h.dst);
    if (v == kInvalidLid || v >= t.num_owned()) {
      fail(epoch.dir, ": a message for vertex ", h.dst, ", which this rank does not own");
    }
    out.inbox[i].first = v;
    std::memcpy(&out.inbox[i].second, epoch.messages.data() + i * kMRecord + sizeof h,
                sizeof(Message));
  }
  return out;
}

}  // namespace atl
