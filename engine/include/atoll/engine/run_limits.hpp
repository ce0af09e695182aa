// --timeout and --max-updates: a run that stops before its program's own end says which limit
// stopped it (RunStats::stopped_by). Every engine checks at its own boundaries: the chromatic
// engine after a sweep, the Pregel engine after a superstep, the locking engine stops taking
// new scopes the moment a limit is reached and ends the phase.
#pragma once

#include <cstdint>
#include <string>

#include "atoll/engine/cluster.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

/// Which limit a run has reached ("--timeout", "--max-updates"; "" for none) given the
/// updates of all ranks so far and this rank's seconds since the run began. Collective with a
/// cluster when a timeout is set (ranks' clocks differ: one that has passed it stops all).
inline std::string limit_reached(const EngineOptions& o, std::uint64_t all_updates, double seconds,
                                 Cluster* cluster) {
  if (o.max_updates > 0 && all_updates >= o.max_updates) return "--max-updates";
  if (o.timeout <= 0) return "";
  bool late = seconds >= o.timeout;
  if (cluster != nullptr) {
    late = cluster->collectives.allreduce<std::uint32_t>(late ? 1 : 0, ReduceOp::kMax) != 0;
  }
  return late ? "--timeout" : "";
}

}  // namespace atl
