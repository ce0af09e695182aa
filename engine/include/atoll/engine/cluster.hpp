// The ranks an engine runs across: a started transport with its collectives and bulk exchange.
// An engine given no cluster runs on one rank with no ghosts.
#pragma once

#include "atoll/transport/collectives.hpp"
#include "atoll/transport/exchange.hpp"
#include "atoll/transport/transport.hpp"

namespace atl {

/// Idle polls (Transport::set_idle_polls) for the engines' runs: their ranks receive mostly
/// while they wait and drive the network themselves (docs/transport.md).
inline constexpr int kEngineIdlePolls = 64;

struct Cluster {
  Transport& transport;
  Collectives& collectives;  ///< created on transport before start()
  Exchange& exchange;        ///< created on transport before start()

  int rank() const { return transport.rank(); }
  int size() const { return transport.size(); }
};

}  // namespace atl
