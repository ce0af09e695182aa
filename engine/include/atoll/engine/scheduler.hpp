// Schedulers: the set of pending (vertex, priority) pairs of one vertex subset, in two modes.
// Vertices are named by their index 0..size-1 inside the subset. A vertex scheduled several
// times while it is pending is pending once, with the largest of the priorities (NaN counts as
// -infinity); a new pending period starts from its own priority.
//
// Round mode (Scheduler; the chromatic engine keeps one per colour and node): begin_round()
// freezes the pending vertices into the current round; pop() / pop_batch() hand them out, each
// exactly once; a vertex scheduled after it was popped (for instance by its own update) is
// pending for the next round, never for the current one (a schedule() of a current-round vertex
// not yet popped only raises its priority; racing with its pop, the raise may come too late for
// that update: the chromatic engine never schedules vertices of the running colour).
//   Concurrency: schedule(), pop() and pop_batch() are thread-safe against each other and
//   themselves; begin_round(), schedule_all(), take_round(), has_pending(), export_pending()
//   and import_pending() are called only between rounds, when no other call runs.
//
// Continuous mode (ContinuousScheduler; for asynchronous engines): no rounds. Any thread may
// schedule(), pop() and finish() at any time. A popped vertex is "running" until the caller
// calls finish(i); it is never handed out again while running, and a schedule() while it runs
// makes it pending again at finish() (no lost wake-up: every schedule() call is followed by an
// update that pops the vertex after the call; with ScheduleOrder::kLocks "after" holds in the
// order the caller's locks give, see ScheduleOrder). pop() returns nothing only when, at some
// moment during the call, no vertex was pending (running vertices are not pending). idle() is the
// termination test: true when at some moment during the call no vertex was pending or running,
// so that, if only updates schedule, no work can appear any more. pending_count() is approximate
// while other calls run and exact when none does. export_pending() and import_pending() need
// quiescence (no other call running, no vertex running).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace atl {

enum class SchedulerKind {
  kFifo,      ///< first scheduled, first run; per-worker queues with stealing
  kSweep,     ///< round robin in index order over the pending set
  kPriority,  ///< approximately highest priority first; per-worker heaps with stealing
};

/// "fifo" | "sweep" | "priority" -> SchedulerKind; throws a usage Error otherwise.
SchedulerKind parse_scheduler(std::string_view name);
std::string_view scheduler_name(SchedulerKind kind);

/// A pending vertex: exported and imported by checkpoints, handed out by continuous pop().
struct PendingVertex {
  std::uint32_t index = 0;
  double priority = 0;
  friend bool operator==(const PendingVertex&, const PendingVertex&) = default;
};

/// Round mode (see the top of this file).
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
  /// Takes up to out.size() vertices of the current round at once (one lock for the batch);
  /// returns how many it stored in out, 0 when the round is exhausted. Thread-safe.
  virtual std::size_t pop_batch(std::span<std::uint32_t> out) = 0;
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
  /// Between rounds: every pending vertex (next round, or left over from an unfinished one)
  /// with its priority, in index order.
  virtual std::vector<PendingVertex> export_pending() const = 0;
  /// Between rounds: schedules every listed vertex for the next round (max-combined).
  /// Throws std::out_of_range naming the first index >= size(), importing nothing.
  virtual void import_pending(std::span<const PendingVertex> vertices) = 0;
};

/// A scheduler of the given kind over indices 0..size-1, for up to `workers` threads.
std::unique_ptr<Scheduler> make_scheduler(SchedulerKind kind, std::uint32_t size, unsigned workers);

/// What orders a scheduled vertex's update after the writes of the thread that scheduled it.
enum class ScheduleOrder {
  kScheduler,  ///< the scheduler: every schedule() is a read-modify-write of the vertex's state
  /// Locks (edge and full consistency): the update reads those writes only under locks that
  /// order it after them, so an already pending vertex needs no read-modify-write.
  kLocks,
};

/// Continuous mode (see the top of this file).
class ContinuousScheduler {
 public:
  virtual ~ContinuousScheduler() = default;

  /// Number of vertex indices this scheduler covers.
  virtual std::uint32_t size() const = 0;
  /// Makes i pending, or pending again after its running update finishes; throws
  /// std::out_of_range when i >= size().
  virtual void schedule(std::uint32_t i, double priority) = 0;
  /// schedule() of every entry, in order: cheaper per entry, as the entries' states are
  /// fetched from memory ahead of their turn. With ScheduleOrder::kLocks, an entry whose
  /// vertex is pending already with at least its priority is passed over after plain loads.
  virtual void schedule(std::span<const PendingVertex> batch, ScheduleOrder order) = 0;
  /// Takes up to out.size() pending vertices (with their priorities) for the caller, who runs
  /// each and then calls finish() on it; returns the count, 0 only when nothing was pending.
  virtual std::size_t pop(std::span<PendingVertex> out) = 0;
  /// Priority kind: pop() of the vertices whose priority is at least `floor` only (0 when
  /// none is). Other kinds have no order to bound and pop() as usual.
  virtual std::size_t pop_at_least(std::span<PendingVertex> out, double floor) = 0;
  /// Priority kind: the highest priority queued (stale entries may overstate it; -infinity:
  /// none). Other kinds: +infinity.
  virtual double best_priority() const = 0;
  /// One vertex at a time: pop() of a batch of one.
  bool pop(PendingVertex& out) { return pop(std::span<PendingVertex>(&out, 1)) == 1; }
  /// Ends the update of popped vertex i; requeues it when it was scheduled meanwhile. Throws
  /// std::logic_error when i is not running.
  virtual void finish(std::uint32_t i) = 0;
  /// finish() of every vertex in `popped`, in order (one shared counter update for all).
  virtual void finish(std::span<const PendingVertex> popped) = 0;
  /// schedule() of every index in [begin, end), cheaper per index. Not concurrently with
  /// pop(), finish() or the emptiness tests (between phases; disjoint ranges may overlap in
  /// time).
  virtual void schedule_range(std::uint32_t begin, std::uint32_t end, double priority) = 0;
  /// Number of pending vertices (cheap; approximate while other calls run).
  virtual std::size_t pending_count() const = 0;
  /// True when at some moment during the call no vertex was pending (a consistent snapshot).
  virtual bool empty() const = 0;
  /// True when at some moment during the call no vertex was pending or running (popped and not
  /// yet finished): the local termination test.
  virtual bool idle() const = 0;
  /// Quiescent only: every pending vertex with its priority, in index order.
  virtual std::vector<PendingVertex> export_pending() const = 0;
  /// Quiescent only: schedules every listed vertex (max-combined). Throws std::out_of_range
  /// naming the first index >= size(), importing nothing.
  virtual void import_pending(std::span<const PendingVertex> vertices) = 0;
  /// Whether i is pending or running (popped, not finished), with the priority it was last
  /// scheduled with (thread-safe; the asynchronous snapshot's capture).
  virtual bool scheduled(std::uint32_t i, double& priority) const = 0;
};

/// A continuous scheduler of the given kind over indices 0..size-1, for up to `workers` threads.
std::unique_ptr<ContinuousScheduler> make_continuous_scheduler(SchedulerKind kind,
                                                               std::uint32_t size,
                                                               unsigned workers);

}  // namespace atl
