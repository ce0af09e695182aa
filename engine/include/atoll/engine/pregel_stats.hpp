// What the Pregel engine reports per superstep (active vertices, messages before and after
// combining, bytes, rounds, time), and how that becomes the engine-neutral RunStats: one
// iteration per superstep, the superstep log behind RunStats::details.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "atoll/engine/run_stats.hpp"

namespace atl {

/// One superstep, summed over ranks except where it says "this rank".
struct SuperstepRecord {
  std::uint64_t superstep = 0;
  std::uint64_t active = 0;             ///< vertices that ran compute()
  std::uint64_t messages_sent = 0;      ///< send calls
  std::uint64_t messages_combined = 0;  ///< messages after combining (local and remote)
  std::uint64_t remote_messages = 0;    ///< of which crossed to another rank
  std::uint64_t bytes_sent = 0;         ///< this rank's batches (headers included)
  std::uint64_t lower_bound = 0;  ///< this rank: its remote messages x message size (no index)
  std::uint32_t rounds = 0;       ///< batch rounds (more than one: buffers were full)
  double seconds = 0;
  std::uint64_t mutations = 0;        ///< topology mutation requests (applied before the next)
  std::uint32_t mutation_rounds = 0;  ///< exchange rounds that moved them (bounded batches)
};

struct PregelStats {
  std::uint64_t supersteps = 0;
  std::uint64_t computes = 0;  ///< compute() calls, all ranks
  double seconds = 0;          ///< the run, without set-up
  double setup_seconds = 0;
  double steal_seconds = 0;  ///< CPU time rank 0's machine lost to its hypervisor (StolenTime)
  int ranks = 1;
  std::string workers;           ///< WorkerPool::describe()
  std::uint64_t bytes_sent = 0;  ///< this rank, whole run
  std::uint64_t lower_bound = 0;
  bool combined = false;  ///< messages went through the program's combiner
  bool stopped_by_master = false;
  std::string stopped_by;          ///< "--timeout" or "--max-updates" when a limit ended the run
  std::uint64_t still_active = 0;  ///< then: vertices not halted plus vertices with messages
  std::uint64_t mutations = 0;     ///< topology mutation requests, all ranks
  std::uint64_t dropped =
      0;  ///< this rank: messages to vertices removed in their superstep, or refused
  std::vector<SuperstepRecord> log;
  CheckpointStats checkpoints;
};

class PregelDetails final : public EngineDetails {
 public:
  explicit PregelDetails(PregelStats stats) : stats(std::move(stats)) {}
  PregelStats stats;

  void write_json(JsonWriter& json) const override;
  std::string summary() const override;
};

/// The engine-neutral view of a Pregel run (supersteps as iterations, computes as updates).
RunStats to_run_stats(const PregelStats& stats);

}  // namespace atl
