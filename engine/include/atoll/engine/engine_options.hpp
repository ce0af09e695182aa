// Options every engine takes, and what a run reports.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "atoll/engine/consistency.hpp"
#include "atoll/engine/scheduler.hpp"

namespace atl {

struct EngineOptions {
  int threads = 0;  ///< 0: all hardware threads
  SchedulerKind scheduler = SchedulerKind::kSweep;
  /// Run under a stronger model than the program declares (never a weaker one).
  std::optional<Consistency> consistency;
  std::uint64_t max_sweeps = std::numeric_limits<std::uint64_t>::max();
  bool progress = false;  ///< print a line per sweep to stderr (rewritten on a terminal)
};

/// One colour step: the scheduled vertices of one colour, run in parallel.
struct StepRecord {
  std::uint64_t sweep = 0;
  std::uint32_t color = 0;
  std::uint64_t updates = 0;
  double seconds = 0;
  double sync_seconds = 0;        ///< of which rank 0 spent pushing ghosts (and waiting for peers)
  std::uint64_t bytes_sent = 0;   ///< ghost data and requests this rank sent after the step
  std::uint64_t lower_bound = 0;  ///< changed boundary vertices x replicas x data size
};

/// One sweep over all colours; `residual` is set by the application's sweep hook (NaN if not).
struct SweepRecord {
  std::uint64_t sweep = 0;
  std::uint64_t updates = 0;
  double seconds = 0;
  double residual = std::numeric_limits<double>::quiet_NaN();
};

struct RunStats {
  std::uint64_t sweeps = 0;
  std::uint64_t steps = 0;
  std::uint64_t updates = 0;
  double seconds = 0;        ///< the run, without colouring and set-up
  double setup_seconds = 0;  ///< colouring and scheduler set-up
  std::uint32_t colors = 0;
  Consistency consistency = Consistency::kVertex;
  std::string workers;  ///< WorkerPool::describe()
  int ranks = 1;
  std::uint64_t bytes_sent = 0;   ///< this rank's ghost traffic during the run
  std::uint64_t lower_bound = 0;  ///< its lower bound: changed boundary vertices x replicas x size
  std::vector<StepRecord> step_log;
  std::vector<SweepRecord> sweep_log;
};

}  // namespace atl
