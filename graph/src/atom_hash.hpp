// hash_atom (atoms.hpp) as an inline function object: the seed's key is mixed once, so loops
// over every edge (placement counts, routing at load) pay two multiplies per id, no call.
#pragma once

#include <cstdint>

#include "atoll/graph/ids.hpp"
#include "atoll/common/mix64.hpp"

namespace atl::detail {

class AtomHash {
 public:
  AtomHash(std::uint32_t num_atoms, std::uint64_t seed)
      : key_(mix64(seed + kGolden)), num_atoms_(num_atoms) {}
  std::uint32_t operator()(Gid gid) const {
    return static_cast<std::uint32_t>(reduce64(mix64(gid ^ key_), num_atoms_));
  }

 private:
  std::uint64_t key_;
  std::uint32_t num_atoms_;
};

}  // namespace atl::detail
