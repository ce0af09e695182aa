// The hook a program's driver gives an engine's run(): called at the end of every iteration
// (chromatic: after each sweep over all colours) while no update runs, after the aggregators
// due then. It may read aggregates, schedule vertices and set record.residual; returning false
// ends the run. An engine without iterations calls it only at points where no update runs.
#pragma once

#include <functional>

#include "atoll/engine/run_stats.hpp"

namespace atl {

using IterationHook = std::function<bool(IterationRecord& record)>;

}  // namespace atl
