// What a run reports, whatever the engine: the common figures, one record per iteration, and
// the engine's own figures (colour steps, supersteps, lock pipeline) behind EngineDetails.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "atoll/engine/consistency.hpp"

namespace atl {

class JsonWriter;

/// One iteration: a chromatic sweep over all colours, a Pregel superstep, or the stretch of
/// an asynchronous run between two sync points. `residual` is set by the program's hook.
struct IterationRecord {
  std::uint64_t iteration = 0;
  std::uint64_t updates = 0;
  double seconds = 0;
  double residual = std::numeric_limits<double>::quiet_NaN();
};

/// An engine's own figures, kept apart from the common ones.
class EngineDetails {
 public:
  virtual ~EngineDetails() = default;
  /// Fields added to the --metrics object (inside "engine_details").
  virtual void write_json(JsonWriter& json) const = 0;
  /// A few words for the summary line, e.g. "12 colour steps, 3 colours".
  virtual std::string summary() const = 0;
};

/// One checkpoint epoch written during the run.
struct CheckpointRecord {
  std::uint64_t epoch = 0;
  std::uint64_t iteration = 0;  ///< iterations done when it was taken
  double seconds =
      0;  ///< writing it, slowest rank, manifest included (snapshot: start to manifest)
  std::uint64_t bytes = 0;    ///< all ranks' files
  bool asynchronous = false;  ///< the locking engine's snapshot, taken while updates ran
};

/// Checkpoints of a run: the epochs written and the one it resumed from.
struct CheckpointStats {
  std::vector<CheckpointRecord> written;
  std::string resumed_from;  ///< the epoch's directory, empty for a fresh run
  std::uint64_t resumed_iteration = 0;
  double resume_seconds = 0;
};

struct RunStats {
  std::string engine;  ///< engine_name() of the engine that ran
  std::uint64_t iterations = 0;
  std::uint64_t updates = 0;
  double seconds = 0;        ///< the run, without set-up
  double setup_seconds = 0;  ///< the engine's set-up (colouring, schedulers, channels)
  /// CPU time rank 0's machine lost to its hypervisor during the run (StolenTime)
  double steal_seconds = 0;
  Consistency consistency = Consistency::kVertex;
  std::string workers;  ///< WorkerPool::describe()
  int ranks = 1;
  std::uint64_t bytes_sent = 0;   ///< this rank's traffic to other ranks during the run
  std::uint64_t lower_bound = 0;  ///< its lower bound (changed boundary data x replicas)
  std::vector<IterationRecord> iteration_log;
  std::string stopped_by;  ///< "--timeout" or "--max-updates" when a limit ended it
  /// Vertices scheduled when a limit ended it, all ranks (Pregel: not halted + receivers).
  std::uint64_t still_scheduled = 0;
  std::shared_ptr<const EngineDetails> details;  ///< may be null
  CheckpointStats checkpoints;
};

/// Writes the common fields, "iteration_log" and "engine_details" into an open JSON object.
void write_run_stats(JsonWriter& json, const RunStats& stats);

}  // namespace atl
