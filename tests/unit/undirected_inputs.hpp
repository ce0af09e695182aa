// Test inputs for the graph apps that read the undirected simple view: generated graphs whose
// raw edge lists have repeats, both directions and self-loops, a hand-made graph with all of
// those plus isolated vertices, and the ways of building each (raw, symmetrized, deduplicated)
// that must all give the same answer.
#pragma once

#include <string>
#include <vector>

#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/topology.hpp"

namespace atl::test {

struct UndirectedInput {
  std::string name;
  EdgeList edges;
};

/// A 4-clique {1,2,3,4} listed with repeats and both directions, a triangle {5,6,7} with a
/// self-loop, a path 7-8-9, a self-loop-only vertex 10 and isolated 11..12.
inline EdgeList awkward_undirected() {
  EdgeList l;
  l.edges = {{1, 2}, {2, 1}, {1, 3}, {1, 4}, {2, 3}, {3, 2}, {2, 4}, {4, 3},  {4, 3},
             {5, 6}, {6, 7}, {7, 5}, {5, 5}, {7, 8}, {8, 9}, {9, 8}, {10, 10}};
  l.declared = VertexRange{1, 12};
  return l;
}

inline std::vector<UndirectedInput> undirected_inputs() {
  std::vector<UndirectedInput> g;
  g.push_back({"awkward", awkward_undirected()});
  g.push_back(
      {"kron9", generate_kronecker({.scale = 9, .edge_factor = 8, .seed = 3, .weights = {}})});
  g.push_back(
      {"uniform", generate_uniform({.vertices = 300, .edges = 1500, .seed = 5, .weights = {}})});
  g.push_back({"grid", generate_grid({.rows = 9, .cols = 13, .seed = 1, .weights = {}})});
  g.push_back({"planted", generate_planted({.communities = 5,
                                            .size = 40,
                                            .internal_degree = 10,
                                            .external_degree = 2,
                                            .seed = 7,
                                            .weights = {}})});
  return g;
}

/// Raw input, symmetrized (every edge in both directions, repeats kept), deduplicated.
inline std::vector<BuildOptions> undirected_builds() {
  return {{false, false}, {true, false}, {false, true}, {true, true}};
}

inline EngineOptions engine_options(SchedulerKind kind, std::optional<Consistency> c = {},
                                    int threads = 2) {
  EngineOptions e;
  e.threads = threads;
  e.scheduler = kind;
  e.consistency = c;
  return e;
}

}  // namespace atl::test
