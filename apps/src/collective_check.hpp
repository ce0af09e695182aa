// Input checks that must fail the same way on every rank: each rank finds its own first
// problem; the message of the lowest rank that found one is thrown everywhere.
#pragma once

#include <string>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"

namespace atl {

/// message: this rank's problem, or empty. Collective when cluster is given.
inline void fail_on_any_rank(Cluster* cluster, const std::string& message) {
  if (cluster == nullptr) {
    if (!message.empty()) fail(message);
    return;
  }
  for (const std::string& m : cluster->collectives.allgather(message)) {
    if (!m.empty()) fail(m);
  }
}

}  // namespace atl
