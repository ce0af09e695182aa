// Schedulers: the set of pending (vertex, priority) pairs of one vertex subset (the chromatic
// engine keeps one per colour), worked off in rounds.
//
// Vertices are named by their index 0..size-1 inside the subset. schedule() may be called from
// any thread at any time. A vertex scheduled several times before it runs is pending once,
// with the largest of the priorities. begin_round() freezes the pending vertices into the
// current round; pop() hands them out, each exactly once; a vertex scheduled after it was
// popped (for instance by its own update) is pending for the next round, never for the current
// one.
//
// Concurrency contract: schedule() and pop() are thread-safe against each other and
// themselves; begin_round() and has_pending() are called only between rounds, when no
// other call runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace atl {

enum class SchedulerKind {
  kFifo,      ///< first scheduled, first run; per-worker queues with stealing
  kSweep,     ///< round robin in index order over the pending set
  kPriority,  ///< approximately highest priority first; per-worker heaps with stealing
};

/// "fifo" | "sweep" | "priority" -> SchedulerKind; throws a usage Error otherwise.
SchedulerKind parse_scheduler(std::string_view name);
std::string_view scheduler_name(SchedulerKind kind);

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  /// Number of vertex indices this scheduler covers.
  virtual std::uint32_t size() const = 0;
  /// Makes index i pending (thread-safe); priority combines by max.
  virtual void schedule(std::uint32_t i, double priority) = 0;
  /// Freezes the pending vertices into the current round; returns how many there are.
  virtual std::size_t begin_round() = 0;
  /// Takes the next vertex of the current round for the calling worker (thread-safe);
  /// false when the round is exhausted.
  virtual bool pop(std::uint32_t& i) = 0;
  /// Between rounds: makes every index pending for the next round (priority combines by max),
  /// in one pass instead of size() schedule() calls.
  virtual void schedule_all(double priority) = 0;
  /// Right after begin_round() returned size(): hands the whole round to the caller, who runs
  /// every index itself (a dense sweep); pop() finds nothing more in this round.
  virtual void take_round() = 0;
  /// True when some vertex is pending (for the next round).
  virtual bool has_pending() const = 0;
  /// The priority the vertex was last scheduled with (valid inside its update).
  virtual double priority(std::uint32_t i) const = 0;
};

/// A scheduler of the given kind over indices 0..size-1, for up to `workers` threads.
std::unique_ptr<Scheduler> make_scheduler(SchedulerKind kind, std::uint32_t size, unsigned workers);

}  // namespace atl
