// Which atom each vertex goes to: a seeded hash of its gid, or a METIS k-way cut
// (atom_metis.cpp).
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "atoll/common/error.hpp"
#include "atoll/graph/atoms.hpp"
#include "atom_hash.hpp"
#include "atom_metis.hpp"
#include "atoll/common/mix64.hpp"

namespace atl {

std::uint32_t hash_atom(Gid gid, std::uint32_t num_atoms, std::uint64_t seed) {
  return detail::AtomHash(num_atoms, seed)(gid);
}

AtomMethod parse_atom_method(std::string_view name) {
  if (name == "hash") return AtomMethod::kHash;
  if (name == "metis") return AtomMethod::kMetis;
  usage_fail("unknown partitioning method '", name, "'; valid: hash, metis");
}

std::string_view atom_method_name(AtomMethod method) {
  return method == AtomMethod::kMetis ? "metis" : "hash";
}

std::vector<std::uint32_t> assign_atoms(const EdgeList& graph, const std::vector<Gid>& vertices,
                                        const PartitionOptions& options) {
  if (options.atoms < 1 || options.atoms > kMaxAtoms) {
    usage_fail("the number of atoms must be between 1 and ", kMaxAtoms, ", got ", options.atoms);
  }
  if (options.method == AtomMethod::kMetis) return detail::metis_atoms(graph, vertices, options);
  std::vector<std::uint32_t> atoms(vertices.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, vertices.size()), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      atoms[i] = hash_atom(vertices[i], options.atoms, options.seed);
    }
  });
  return atoms;
}

}  // namespace atl
