// Options every engine takes, and the engines there are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "atoll/engine/checkpoint_options.hpp"
#include "atoll/engine/consistency.hpp"
#include "atoll/engine/run_stats.hpp"
#include "atoll/engine/scheduler.hpp"

namespace atl {

enum class EngineKind {
  kChromatic,  ///< GraphLab programs in colour steps (serializable by colouring)
  kLocking,    ///< GraphLab programs, fully asynchronous, distributed reader-writer locks
  kPregel,     ///< Pregel programs in supersteps over messages
};

/// Locking engine, several ranks: who drives the network while a phase runs. kThread: the
/// transport's progress thread, woken by each message; kWorkers: the workers, polling between
/// updates (no wake-up or context switch per message, and no core taken from a worker, when
/// the workers fill the cores); kAuto: kWorkers when the rank's workers are at least its cores
/// (rank_cores: its affinity mask, or its share of the machine), else kThread.
enum class NetworkProgress { kAuto, kThread, kWorkers };

/// "auto" | "thread" | "workers" -> NetworkProgress; throws a usage Error naming the valid ones.
NetworkProgress parse_network_progress(std::string_view name);
std::string_view network_progress_name(NetworkProgress p);

/// "chromatic" | "locking" | "pregel" -> EngineKind; throws a usage Error naming the valid ones.
EngineKind parse_engine(std::string_view name);
std::string_view engine_name(EngineKind kind);
/// The engines that exist in this build (in the order --help lists them).
std::span<const EngineKind> all_engines();
/// "a, b" from a list of engines (for messages).
std::string engine_list(std::span<const EngineKind> kinds);

/// Chromatic, several ranks: kOn: a sweep over every vertex puts its ghost data to each peer
/// in parts while it runs (communication overlapped with computation); kOff: in one batch
/// after it; kAuto: kOn when a peer runs on another host (on one host the copy takes the
/// same cores the sweep runs on, and measured slower).
enum class Overlap { kAuto, kOn, kOff };

/// "auto" | "on" | "off" -> Overlap; throws a usage Error naming the valid ones.
Overlap parse_overlap(std::string_view name);

struct EngineOptions {
  EngineKind engine = EngineKind::kChromatic;
  int threads = 0;  ///< 0: all hardware threads
  SchedulerKind scheduler = SchedulerKind::kSweep;
  /// Run under a stronger model than the program declares (never a weaker one).
  std::optional<Consistency> consistency;
  /// At most this many iterations (chromatic: sweeps over all colours; Pregel: supersteps;
  /// locking: phases, each run to termination).
  std::uint64_t max_iterations = std::numeric_limits<std::uint64_t>::max();
  bool progress = false;  ///< print a line per iteration to stderr (rewritten on a terminal)
  /// Pregel: combine messages with the program's combiner when it has one.
  bool combine = true;
  /// Pregel: bytes of messages one rank sends one peer per batch round; a superstep whose
  /// messages do not fit sends in several rounds.
  std::size_t message_buffer = std::size_t{8} << 20;
  /// Pregel: write the final graph (after topology mutations) to this edge-list file.
  std::string out_graph;
  /// Locking: scopes each rank keeps between "taken from the scheduler" and "unlocked".
  std::size_t pipeline = 1000;
  /// Locking, several ranks: who drives the network during a phase (NetworkProgress).
  NetworkProgress network_progress = NetworkProgress::kAuto;
  /// Locking: record the versions every update reads and writes and check at the end that the
  /// run has a serial equivalent (a test of the engine; memory grows with the updates' scopes).
  bool check_serializable = false;
  /// Stop once the run has taken this many seconds (0: no limit); RunStats::stopped_by says so.
  double timeout = 0;
  /// Stop once this many updates (Pregel: compute calls) have run over all ranks (0: none).
  std::uint64_t max_updates = 0;
  /// Locking: end a phase (run the aggregators and the hook) every this many updates over all
  /// ranks (0: only when nothing is scheduled).
  std::uint64_t sync_every = 0;
  /// Locking, priority scheduler: a rank runs only vertices whose priority is within this of
  /// the best one pending on any rank, as far as it has heard (0: no bound). Keeps a rank from
  /// running far ahead of the global frontier (label-correcting blow-up in SSSP). Negative:
  /// the app's choice (sssp: twice its mean edge weight; other apps: no bound).
  double run_ahead = -1;
  /// Chromatic, several ranks: whether a sweep over every vertex puts its ghost data while
  /// it runs (Overlap).
  Overlap overlap = Overlap::kAuto;
  /// Checkpoints to write, and the epoch to resume from.
  CheckpointOptions checkpoint;
};

}  // namespace atl
