// Topology mutation requests of a Pregel superstep, as compute() makes them (any worker
// thread), and the program's optional conflict handlers. Requests made in superstep S take
// effect before S+1 (pregel_mutation_phase.hpp applies them), in Pregel's partial order:
// edge removals, vertex removals (with every edge of the vertex), vertex additions, edge
// additions. Optional members of the program, each detected with a requires-expression:
//   VertexValue resolve_vertex_additions(Gid, std::span<const VertexValue>) const;
//       several additions of one absent vertex (values in ascending byte order);
//       default: the first (lowest bytes).
//   bool resolve_vertex_removal_and_addition(Gid) const;   true: the addition wins (default)
//   bool resolve_edge_removal_and_addition(Gid src, Gid dst) const;  likewise for an edge
//   bool create_on_message(Gid, VertexValue& value) const;  a message to an absent vertex:
//       true creates it with `value` (value-initialised before the call; default: create),
//       false drops the messages.
#pragma once

#include <tbb/enumerable_thread_specific.h>

#include <cstdint>
#include <span>
#include <vector>

#include "atoll/graph/ids.hpp"

namespace atl {

template <typename P>
concept PregelResolvesVertexAdditions = requires(const P& p, Gid g,
                                                 std::span<const typename P::VertexValue> values) {
  { p.resolve_vertex_additions(g, values) } -> std::convertible_to<typename P::VertexValue>;
};
template <typename P>
concept PregelResolvesVertexRemovalAndAddition = requires(const P& p, Gid g) {
  { p.resolve_vertex_removal_and_addition(g) } -> std::convertible_to<bool>;
};
template <typename P>
concept PregelResolvesEdgeRemovalAndAddition = requires(const P& p, Gid g) {
  { p.resolve_edge_removal_and_addition(g, g) } -> std::convertible_to<bool>;
};
template <typename P>
concept PregelCreatesOnMessage = requires(const P& p, Gid g, typename P::VertexValue& v) {
  { p.create_on_message(g, v) } -> std::convertible_to<bool>;
};

/// The owner of a vertex no rank holds (a new one): a fixed hash of its gid modulo the ranks,
/// the same on every rank for any thread count.
inline int new_vertex_owner(Gid g, int ranks) {
  std::uint64_t x = g + 0x9e3779b97f4a7c15ull;  // splitmix64's finaliser
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<int>(x % static_cast<std::uint64_t>(ranks));
}

/// One superstep's requests: per worker thread while computing, then taken as one list.
template <typename P>
class PregelMutationRequests {
 public:
  using VertexValue = typename P::VertexValue;
  using EdgeValue = typename P::EdgeValue;
  using Message = typename P::Message;

  struct EdgeKey {
    Gid src;
    Gid dst;
    friend auto operator<=>(const EdgeKey&, const EdgeKey&) = default;
  };
  struct AddVertex {
    Gid gid;
    VertexValue value;
  };
  struct AddEdge {
    Gid src;
    Gid dst;
    EdgeValue value;
  };
  /// A message to a vertex the sending rank does not hold.
  struct MessageTo {
    Gid gid;
    Message message;
  };
  struct Lists {
    std::vector<EdgeKey> remove_edges;
    std::vector<Gid> remove_vertices;
    std::vector<AddVertex> add_vertices;
    std::vector<AddEdge> add_edges;
    std::vector<MessageTo> messages;
    std::uint64_t size() const {
      return remove_edges.size() + remove_vertices.size() + add_vertices.size() + add_edges.size() +
             messages.size();
    }
  };

  /// The calling thread's lists (compute() appends to them).
  Lists& local() { return threads_.local(); }

  /// Requests made since the last take() (a few words per worker thread to look at).
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (const Lists& l : threads_) n += l.size();
    return n;
  }

  /// Every thread's requests as one list; the threads' lists are left empty.
  Lists take() {
    Lists all;
    for (Lists& l : threads_) {
      append(all.remove_edges, l.remove_edges);
      append(all.remove_vertices, l.remove_vertices);
      append(all.add_vertices, l.add_vertices);
      append(all.add_edges, l.add_edges);
      append(all.messages, l.messages);
    }
    return all;
  }

 private:
  template <typename T>
  static void append(std::vector<T>& to, std::vector<T>& from) {
    to.insert(to.end(), from.begin(), from.end());
    from.clear();
  }
  tbb::enumerable_thread_specific<Lists> threads_;
};

}  // namespace atl
