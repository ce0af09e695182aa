// Applying one superstep's topology mutations (collective with a cluster; the engine runs it
// only when some rank made a request, so programs that never mutate never get here).
//
// 1. Owners. A vertex this rank holds (owned or ghost) has a known owner. The gids no rank
//    here holds are gathered from every rank; each rank names those it owns; a gid no rank
//    owns is new and belongs to new_vertex_owner(gid) (a hash of the gid modulo the ranks).
//    The gids travel in rounds of at most `budget` bytes per rank.
// 2. Routing, one batch per peer in bounded rounds (pregel_mutation_rounds.hpp): a vertex
//    request goes to the vertex's owner, an edge request to the owners of its source (which
//    keeps the edge's value) and of its target (which holds the edge as an in-edge); vertex
//    removals go to every rank, since every rank holding an edge of the vertex drops it.
// 3. Applying, in Pregel's partial order: edge removals (every edge src -> dst), vertex
//    removals (with every in- and out-edge), vertex additions (an existing vertex is left as
//    it is; several additions of an absent one: resolve_vertex_additions, else the value with
//    the lowest bytes; a vertex removed and added in the same superstep: the addition wins
//    unless resolve_vertex_removal_and_addition says no), messages to absent vertices (they
//    create them unless create_on_message refuses), edge additions (an edge removed and added:
//    the addition wins unless resolve_edge_removal_and_addition says no; an absent endpoint is
//    created with a value-initialised value). Messages sent in the superstep to a vertex
//    removed in it are dropped: they neither reach a re-added vertex nor create one.
// 4. Removals only mark tombstones (pregel_tombstones.hpp): cost proportional to the requests
//    and the removed vertices' degrees. The part is compacted, collectively, when any rank
//    added something, when the removed share of any rank's part passed half, or when the
//    engine asks (force): rebuilt (owned vertices, then ghosts, replica lists) with values,
//    edge values, halt flags and the coming superstep's messages moved to the new local ids;
//    when nothing was added, by filtering the old part in one pass (Topology::without).
//    New vertices (added or created) are active in the next superstep.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/pregel_mutation_rounds.hpp"
#include "atoll/engine/pregel_mutation_wire.hpp"
#include "atoll/engine/pregel_mutations.hpp"
#include "atoll/engine/pregel_tombstones.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/local_graph.hpp"

namespace atl {

template <typename P>
struct PregelMutationOutcome {
  using Graph = LocalGraph<typename P::VertexValue, typename P::EdgeValue>;
  std::optional<Graph> graph;        ///< the compacted part (none: tombstones mark the changes)
  std::vector<std::uint8_t> halted;  ///< compacted: by new owned lid
  /// Compacted: every message of the next superstep; else only those that came with the
  /// requests (to vertices the sender did not hold), by owned lid.
  std::vector<std::pair<Lid, typename P::Message>> inbox;
  std::vector<Lid> removed;   ///< owned vertices removed in this superstep (old lids)
  std::uint64_t dropped = 0;  ///< messages to vertices removed in the superstep, or refused
  std::uint32_t rounds = 0;   ///< exchange rounds (owner queries and batches)
};

namespace pregel_detail {

template <typename T>
bool bytes_less(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) < 0;
}

}  // namespace pregel_detail

/// Applies `requests` (this rank's, from every thread) to `graph`, whose removed parts `dead`
/// marks. make_inbox() gives the delivered messages of owned vertices by gid (asked only when
/// compacting); `budget` bounds the bytes per peer and round; force compacts whatever
/// happened. Collective with a cluster.
template <typename P, typename MakeInbox>
PregelMutationOutcome<P> apply_pregel_mutations(
    const LocalGraph<typename P::VertexValue, typename P::EdgeValue>& graph,
    const std::vector<std::uint8_t>& halted, PregelTombstones& dead,
    typename PregelMutationRequests<P>::Lists requests, const P& program, Cluster* cluster,
    std::size_t budget, bool force, const MakeInbox& make_inbox) {
  using VertexValue = typename P::VertexValue;
  using EdgeValue = typename P::EdgeValue;
  using Message = typename P::Message;
  using Batch = PregelMutationBatch<P>;
  using EdgeKey = typename PregelMutationRequests<P>::EdgeKey;
  using pregel_detail::bytes_less;

  const Topology& t = graph.topology();
  const int rank = cluster != nullptr ? cluster->rank() : 0;
  const int ranks = cluster != nullptr ? cluster->size() : 1;
  const Lid owned = t.num_owned();

  PregelMutationOutcome<P> result;

  // ---- 1. owners -------------------------------------------------------------------------
  // Held: in the part and not removed before this superstep.
  auto held_owner = [&](Gid g) -> int {
    const Lid l = t.lid(g);
    if (l == kInvalidLid || dead.gone_before(l)) return -1;
    if (l < owned) return rank;
    for (const GhostRange& r : t.ghost_ranges()) {
      if (l >= r.begin && l < r.end) return r.owner_rank;
    }
    return -1;
  };
  std::vector<Gid> unknown;
  auto note = [&](Gid g) {
    if (held_owner(g) < 0) unknown.push_back(g);
  };
  for (const auto& e : requests.remove_edges) note(e.src), note(e.dst);
  for (const auto& a : requests.add_vertices) note(a.gid);
  for (const auto& e : requests.add_edges) note(e.src), note(e.dst);
  for (const auto& m : requests.messages) note(m.gid);
  std::sort(unknown.begin(), unknown.end());
  unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
  std::unordered_map<Gid, int> resolved;
  const std::size_t per_round = std::max<std::size_t>(budget / sizeof(Gid), 1);
  const std::uint32_t query_rounds =
      cluster == nullptr
          ? 0
          : cluster->collectives.allreduce<std::uint32_t>(
                static_cast<std::uint32_t>((unknown.size() + per_round - 1) / per_round),
                ReduceOp::kMax);
  for (std::uint32_t round = 0; round < query_rounds; ++round) {
    const std::size_t lo = std::min(unknown.size(), round * per_round);
    const std::size_t hi = std::min(unknown.size(), lo + per_round);
    std::string mine((hi - lo) * sizeof(Gid), '\0');
    if (hi > lo) std::memcpy(mine.data(), unknown.data() + lo, mine.size());
    std::vector<std::string> lists = cluster->collectives.allgather(mine);
    std::vector<std::vector<std::byte>> answers(static_cast<std::size_t>(ranks));
    for (int s = 0; s < ranks && s < static_cast<int>(lists.size()); ++s) {
      const std::string& list = lists[static_cast<std::size_t>(s)];
      if (s == rank) continue;
      if (list.size() % sizeof(Gid) != 0) fail("rank ", s, " sent a malformed list of vertex ids");
      for (std::uint32_t i = 0; i < list.size() / sizeof(Gid); ++i) {
        Gid g;
        std::memcpy(&g, list.data() + i * sizeof(Gid), sizeof g);
        const Lid l = t.lid(g);
        if (l == kInvalidLid || l >= owned || dead.gone_before(l)) continue;
        const auto* b = reinterpret_cast<const std::byte*>(&i);
        answers[static_cast<std::size_t>(s)].insert(answers[static_cast<std::size_t>(s)].end(), b,
                                                    b + sizeof i);
      }
    }
    std::vector<std::vector<std::byte>> claims = cluster->exchange.all_to_all(std::move(answers));
    for (int r = 0; r < ranks && r < static_cast<int>(claims.size()); ++r) {
      const std::vector<std::byte>& c = claims[static_cast<std::size_t>(r)];
      if (c.size() % sizeof(std::uint32_t) != 0) fail("rank ", r, " sent malformed vertex owners");
      for (std::size_t k = 0; k < c.size(); k += sizeof(std::uint32_t)) {
        std::uint32_t i;
        std::memcpy(&i, c.data() + k, sizeof i);
        if (i >= hi - lo) fail("rank ", r, " claimed a vertex id it was not asked about");
        const Gid g = unknown[lo + i];
        if (!resolved.emplace(g, r).second) {
          fail("vertex ", g, " is claimed by two ranks (", resolved[g], " and ", r, ")");
        }
      }
    }
  }
  result.rounds = query_rounds;
  auto owner = [&](Gid g) -> int {
    const int o = held_owner(g);
    if (o >= 0) return o;
    const auto it = resolved.find(g);
    return it != resolved.end() ? it->second : new_vertex_owner(g, ranks);
  };

  // ---- 2. routing ------------------------------------------------------------------------
  std::vector<Batch> out(static_cast<std::size_t>(ranks));
  auto to = [&](int r) -> Batch& { return out[static_cast<std::size_t>(r)]; };
  for (const EdgeKey& e : requests.remove_edges) {
    const int a = owner(e.src), b = owner(e.dst);
    to(a).remove_edges.push_back(e);
    if (b != a) to(b).remove_edges.push_back(e);
  }
  std::sort(requests.remove_vertices.begin(), requests.remove_vertices.end());
  requests.remove_vertices.erase(
      std::unique(requests.remove_vertices.begin(), requests.remove_vertices.end()),
      requests.remove_vertices.end());
  for (Batch& b : out) b.remove_vertices = requests.remove_vertices;
  for (const auto& a : requests.add_vertices) to(owner(a.gid)).add_vertices.push_back(a);
  for (const auto& e : requests.add_edges) {
    const int a = owner(e.src), b = owner(e.dst);
    typename Batch::RoutedEdge routed{e.src, e.dst, static_cast<std::uint32_t>(a),
                                      static_cast<std::uint32_t>(b), e.value};
    to(a).add_edges.push_back(routed);
    if (b != a) to(b).add_edges.push_back(routed);
  }
  for (const auto& m : requests.messages) to(owner(m.gid)).messages.push_back(m);
  requests = {};
  Batch in = std::move(to(rank));
  if (cluster != nullptr) result.rounds += exchange_mutation_batches<P>(*cluster, out, in, budget);
  out = {};

  // ---- 3. applying -----------------------------------------------------------------------
  auto owned_lid = [&](Gid g) -> Lid {
    const Lid l = t.lid(g);
    return l < owned ? l : kInvalidLid;
  };
  auto check_routed = [&](Gid g, const char* what) {
    const int o = held_owner(g);
    if (o >= 0 && o != rank) {
      fail("a ", what, " for vertex ", g, " reached rank ", rank, ", but rank ", o, " owns it");
    }
  };
  // Edge removals, then vertex removals: tombstones, and the vertices removed now (kFresh).
  const std::set<EdgeKey> removed_edges(in.remove_edges.begin(), in.remove_edges.end());
  for (const EdgeKey& e : removed_edges) {
    const Lid s = t.lid(e.src), d = t.lid(e.dst);
    if (s != kInvalidLid && d != kInvalidLid && !dead.dead(s) && !dead.dead(d)) {
      dead.remove_edges(s, d);
    }
  }
  const std::unordered_set<Gid> removed(in.remove_vertices.begin(), in.remove_vertices.end());
  std::vector<Lid> fresh;
  for (Gid g : removed) {
    const Lid l = t.lid(g);
    if (l != kInvalidLid && dead.remove_vertex(l)) fresh.push_back(l);
  }
  std::sort(fresh.begin(), fresh.end());
  for (Lid l : fresh) {
    if (l < owned) result.removed.push_back(l);
  }
  auto exists = [&](Gid g) {
    const Lid l = owned_lid(g);
    return l != kInvalidLid && !dead.dead(l);
  };
  std::map<Gid, VertexValue> created;

  // Vertex additions, grouped by vertex, each group in ascending byte order.
  std::sort(in.add_vertices.begin(), in.add_vertices.end(), [](const auto& a, const auto& b) {
    return a.gid != b.gid ? a.gid < b.gid : bytes_less(a.value, b.value);
  });
  std::vector<VertexValue> values;
  for (std::size_t i = 0; i < in.add_vertices.size();) {
    const Gid g = in.add_vertices[i].gid;
    check_routed(g, "vertex addition");
    values.clear();
    for (; i < in.add_vertices.size() && in.add_vertices[i].gid == g; ++i) {
      values.push_back(in.add_vertices[i].value);
    }
    if (exists(g)) continue;  // adding an existing vertex leaves it as it is
    VertexValue value = values.front();
    if constexpr (PregelResolvesVertexAdditions<P>) {
      if (values.size() > 1) value = program.resolve_vertex_additions(g, values);
    }
    if (owned_lid(g) != kInvalidLid && !dead.gone_before(owned_lid(g))) {  // removed now
      if constexpr (PregelResolvesVertexRemovalAndAddition<P>) {
        if (!program.resolve_vertex_removal_and_addition(g)) continue;
      }
    }
    created.emplace(g, value);
  }

  // Messages that came with the requests: ones to absent vertices create them unless the
  // program refuses (delivered ones to removed vertices are dropped below).
  std::vector<std::pair<Gid, Message>> kept;
  std::sort(in.messages.begin(), in.messages.end(),
            [](const auto& a, const auto& b) { return a.gid < b.gid; });
  for (std::size_t i = 0; i < in.messages.size();) {
    const Gid g = in.messages[i].gid;
    check_routed(g, "message");
    std::size_t end = i;
    while (end < in.messages.size() && in.messages[end].gid == g) ++end;
    bool keep = !removed.contains(g);
    if (keep && !exists(g) && !created.contains(g)) {
      VertexValue value{};
      if constexpr (PregelCreatesOnMessage<P>) keep = program.create_on_message(g, value);
      if (keep) created.emplace(g, value);
    }
    for (; i < end; ++i) {
      if (keep) {
        kept.emplace_back(g, in.messages[i].message);
      } else {
        ++result.dropped;
      }
    }
  }

  // Edge additions (in a fixed order: by source, target and value bytes).
  std::sort(in.add_edges.begin(), in.add_edges.end(), [](const auto& a, const auto& b) {
    if (a.src != b.src) return a.src < b.src;
    if (a.dst != b.dst) return a.dst < b.dst;
    return bytes_less(a.value, b.value);
  });
  std::unordered_map<Gid, int> new_owner;
  std::vector<typename Batch::RoutedEdge> new_edges;
  auto endpoint = [&](Gid g, std::uint32_t o) {
    const int held = held_owner(g);
    if (held >= 0 && held != static_cast<int>(o)) {
      fail("an edge addition names rank ", o, " as the owner of vertex ", g, ", but rank ", held,
           " owns it");
    }
    if (static_cast<int>(o) == rank) {
      if (!exists(g) && !created.contains(g)) created.emplace(g, VertexValue{});
    } else {
      new_owner[g] = static_cast<int>(o);
    }
  };
  for (const auto& e : in.add_edges) {
    if (static_cast<int>(e.src_owner) != rank && static_cast<int>(e.dst_owner) != rank) {
      fail("an edge addition ", e.src, " -> ", e.dst, " reached rank ", rank,
           ", which owns neither endpoint");
    }
    if (removed_edges.contains(EdgeKey{e.src, e.dst})) {
      if constexpr (PregelResolvesEdgeRemovalAndAddition<P>) {
        if (!program.resolve_edge_removal_and_addition(e.src, e.dst)) continue;
      }
    }
    endpoint(e.src, e.src_owner);
    endpoint(e.dst, e.dst_owner);
    new_edges.push_back(e);
  }

  // ---- 4. tombstones, or compaction ------------------------------------------------------
  bool compact = force || !created.empty() || !new_edges.empty() || dead.due();
  if (cluster != nullptr) {
    compact = cluster->collectives.allreduce<std::uint32_t>(compact ? 1 : 0, ReduceOp::kMax) != 0;
  }
  if (!compact) {
    // Every kept message is for a vertex that exists (none was created).
    result.inbox.reserve(kept.size());
    for (const auto& [g, m] : kept) result.inbox.emplace_back(owned_lid(g), m);
    dead.settle(fresh);
    return result;
  }
  {
    std::vector<std::pair<Gid, Message>> inbox = make_inbox();
    const std::size_t routed = kept.size();
    for (const auto& [g, m] : inbox) {
      if (removed.contains(g)) {
        ++result.dropped;
      } else {
        kept.emplace_back(g, m);
      }
    }
    std::rotate(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(routed), kept.end());
  }
  const std::vector<std::uint8_t> drop_edge = dead.edge_flags();
  auto live = [&](Lid u, EdgeId e) {
    return drop_edge[e] == 0 && !dead.dead(u) && !dead.dead(t.out_targets()[e]);
  };
  if (created.empty() && new_edges.empty()) {
    // Only removals: filter the part in one linear pass (Topology::without).
    std::vector<Lid> map;
    Topology next = Topology::without(t, dead.vertex_flags(), drop_edge, &map);
    if (cluster != nullptr) install_replicas(next, cluster->exchange, rank, ranks);
    result.graph.emplace(std::move(next));
    const Topology& n = result.graph->topology();
    std::span<VertexValue> new_values = result.graph->vertex_data();
    result.halted.assign(n.num_owned(), 0);
    for (Lid v = 0; v < owned; ++v) {
      if (map[v] == kInvalidLid) continue;
      new_values[map[v]] = graph.vertex_data()[v];
      result.halted[map[v]] = halted[v];
    }
    for (Lid v = n.num_owned(); v < n.num_vertices(); ++v) new_values[v] = VertexValue{};
    if constexpr (!std::is_empty_v<EdgeValue>) {
      std::span<EdgeValue> ev = result.graph->edge_data();
      EdgeId next_edge = 0;
      for (Lid u = 0; u < owned; ++u) {
        for (EdgeId e = t.out_begin(u); e < t.out_end(u); ++e) {
          if (!live(u, e)) continue;
          ev[next_edge++] = graph.edge_data()[e];
        }
      }
      if (next_edge != n.owned_edges()) fail("internal error: edge values out of step");
      for (EdgeId e = n.owned_edges(); e < n.num_edges(); ++e) ev[e] = EdgeValue{};
    }
    result.inbox.reserve(kept.size());
    for (const auto& [g, m] : kept) {
      const Lid l = owned_lid(g);
      if (l == kInvalidLid || map[l] == kInvalidLid) {
        fail("internal error: a message for vertex ", g, " has no vertex after mutations");
      }
      result.inbox.emplace_back(map[l], m);
    }
    return result;
  }
  GraphPart part;
  part.rank = rank;
  for (Lid v = 0; v < owned; ++v) {
    if (!dead.dead(v)) part.owned.push_back(t.gid(v));
  }
  for (const auto& [g, value] : created) part.owned.push_back(g);
  std::sort(part.owned.begin(), part.owned.end());
  EdgeList& edges = part.edges;
  edges.weighted = t.weighted();
  struct OwnedEdge {
    Gid src;
    Gid dst;
    std::size_t position;  ///< in part.edges
    EdgeValue value;
  };
  constexpr bool kEdgeValues = !std::is_empty_v<EdgeValue>;
  std::vector<OwnedEdge> owned_edges;
  const std::span<const EdgeValue> old_edge_values = graph.edge_data();
  for (Lid u = 0; u < t.num_vertices(); ++u) {
    if (dead.dead(u)) continue;
    for (EdgeId e = t.out_begin(u); e < t.out_end(u); ++e) {
      const Lid v = t.out_targets()[e];
      if (!live(u, e)) continue;
      if constexpr (kEdgeValues) {
        if (u < owned)
          owned_edges.push_back({t.gid(u), t.gid(v), edges.size(), old_edge_values[e]});
      }
      edges.edges.push_back({t.gid(u), t.gid(v)});
      if (edges.weighted) edges.weights.push_back(t.weights()[e]);
    }
  }
  for (const auto& e : new_edges) {
    if constexpr (kEdgeValues) {
      if (static_cast<int>(e.src_owner) == rank)
        owned_edges.push_back({e.src, e.dst, edges.size(), e.value});
    }
    edges.edges.push_back({e.src, e.dst});
    if (edges.weighted) edges.weights.push_back(1.0);
  }
  part.owner_of = [&](Gid g) -> int {
    const int o = held_owner(g);
    if (o >= 0 && o != rank) return o;
    const auto it = new_owner.find(g);
    if (it == new_owner.end()) fail("internal error: no owner for vertex ", g, " after mutations");
    return it->second;
  };
  Topology next = cluster != nullptr ? build_known_part(part, cluster->exchange, ranks)
                                     : Topology::build_part(part);
  part = GraphPart{};
  result.graph.emplace(std::move(next));
  const Topology& n = result.graph->topology();
  std::span<VertexValue> new_values = result.graph->vertex_data();
  result.halted.assign(n.num_owned(), 0);
  for (Lid v = 0; v < n.num_owned(); ++v) {
    const auto it = created.find(n.gid(v));
    if (it != created.end()) {
      new_values[v] = it->second;
    } else {
      const Lid old = t.lid(n.gid(v));
      new_values[v] = graph.vertex_data()[old];
      result.halted[v] = halted[old];
    }
  }
  for (Lid v = n.num_owned(); v < n.num_vertices(); ++v) new_values[v] = VertexValue{};
  if constexpr (kEdgeValues) {
    // The out-CSR lists each vertex's edges by (target lid, input position).
    std::vector<std::pair<std::pair<Lid, Lid>, std::size_t>> order(owned_edges.size());
    for (std::size_t i = 0; i < owned_edges.size(); ++i) {
      order[i] = {{n.lid(owned_edges[i].src), n.lid(owned_edges[i].dst)}, i};
    }
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return owned_edges[a.second].position < owned_edges[b.second].position;
    });
    if (order.size() != n.owned_edges()) {
      fail("internal error: ", order.size(), " owned edges kept, the rebuilt part has ",
           n.owned_edges());
    }
    std::span<EdgeValue> ev = result.graph->edge_data();
    for (EdgeId e = 0; e < order.size(); ++e) {
      if (n.out_targets()[e] != order[e].first.second) {
        fail("internal error: edge values out of step after mutations");
      }
      ev[e] = owned_edges[order[e].second].value;
    }
    for (EdgeId e = n.owned_edges(); e < n.num_edges(); ++e) ev[e] = EdgeValue{};
  }
  result.inbox.reserve(kept.size());
  for (const auto& [g, m] : kept) {
    const Lid l = n.lid(g);
    if (l == kInvalidLid || l >= n.num_owned()) {
      fail("internal error: a message for vertex ", g, " has no vertex after mutations");
    }
    result.inbox.emplace_back(l, m);
  }
  return result;
}

}  // namespace atl
