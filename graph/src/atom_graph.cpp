// An atom directory read back whole on one process: every atom's owned edges, concatenated
// in atom order, with the index's declared vertex range (the vertex set of the input).
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/atoms.hpp"

namespace atl {

EdgeList read_atom_graph(const std::filesystem::path& dir) {
  const AtomIndex index = read_atom_index(dir);
  // Each atom's edges go to their place in the list as soon as it is read (the index gives
  // every atom's count), so at most one atom per thread is held besides the list.
  std::vector<std::size_t> at(index.atoms.size() + 1, 0);
  for (std::size_t a = 0; a < index.atoms.size(); ++a) at[a + 1] = at[a] + index.atoms[a].edges;
  EdgeList out;
  out.weighted = index.weighted;
  out.declared = index.declared;
  out.edges.resize(at.back());
  if (index.weighted) out.weights.resize(at.back());
  tbb::parallel_for(std::size_t{0}, index.atoms.size(), [&](std::size_t a) {
    const Atom atom = read_atom(dir, index, static_cast<std::uint32_t>(a));
    const EdgeList& edges = atom.out_edges;
    if (edges.size() != index.atoms[a].edges) {  // read_atom checks this; never write past it
      fail(dir.string(), ": atom ", a, " has ", edges.size(), " edges, its index entry says ",
           index.atoms[a].edges);
    }
    std::copy(edges.edges.begin(), edges.edges.end(),
              out.edges.begin() + static_cast<std::ptrdiff_t>(at[a]));
    if (index.weighted) {  // an unweighted list has no weight array to offset into
      std::copy(edges.weights.begin(), edges.weights.end(),
                out.weights.begin() + static_cast<std::ptrdiff_t>(at[a]));
    }
  });
  return out;
}

}  // namespace atl
