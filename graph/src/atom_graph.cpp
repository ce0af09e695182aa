// An atom directory read back whole on one process: every atom's owned edges, concatenated
// in atom order, with the index's declared vertex range (the vertex set of the input).
#include <tbb/parallel_for.h>

#include <cstddef>
#include <vector>

#include "atoll/graph/atoms.hpp"

namespace atl {

EdgeList read_atom_graph(const std::filesystem::path& dir) {
  const AtomIndex index = read_atom_index(dir);
  std::vector<Atom> atoms(index.atoms.size());
  tbb::parallel_for(std::size_t{0}, atoms.size(), [&](std::size_t a) {
    atoms[a] = read_atom(dir, index, static_cast<std::uint32_t>(a));
  });
  EdgeList out;
  out.weighted = index.weighted;
  out.declared = index.declared;
  out.edges.reserve(index.num_edges);
  if (index.weighted) out.weights.reserve(index.num_edges);
  for (Atom& a : atoms) {
    out.edges.insert(out.edges.end(), a.out_edges.edges.begin(), a.out_edges.edges.end());
    out.weights.insert(out.weights.end(), a.out_edges.weights.begin(), a.out_edges.weights.end());
    a = Atom{};  // release as we go
  }
  return out;
}

}  // namespace atl
