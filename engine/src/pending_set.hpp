// The per-index pending state and priority of a scheduler, shared by every scheduler kind:
// PendingSet in round mode (scheduler.cpp), RunStateSet in continuous mode
// (continuous_scheduler.cpp).
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "atoll/engine/scheduler.hpp"
#include "worker_slots.hpp"

namespace atl::sched {

/// import_pending() of either mode: throws std::out_of_range naming the first vertex index
/// >= size() before it changes anything, then schedules every vertex.
template <typename AnyScheduler>
void import_into(AnyScheduler& scheduler, std::span<const PendingVertex> vertices) {
  for (const PendingVertex& v : vertices) {
    if (v.index >= scheduler.size()) {
      throw std::out_of_range("imported pending vertex index " + std::to_string(v.index) +
                              " out of range (scheduler size " + std::to_string(scheduler.size()) +
                              ")");
    }
  }
  for (const PendingVertex& v : vertices) scheduler.schedule(v.index, v.priority);
}

/// The indices whose state passes `pending`, with their priorities, in index order.
template <typename IsPending>
std::vector<PendingVertex> collect_pending(const std::vector<std::atomic<std::uint8_t>>& state,
                                           const std::vector<std::atomic<double>>& priority,
                                           IsPending pending) {
  std::vector<PendingVertex> out;
  for (std::uint32_t i = 0; i < state.size(); ++i) {
    if (pending(state[i].load(std::memory_order_acquire))) {
      out.push_back({i, priority[i].load(std::memory_order_relaxed)});
    }
  }
  return out;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void index_out_of_range(std::uint32_t i,
                                                                      std::uint32_t size) {
  throw std::out_of_range("scheduler index " + std::to_string(i) + " out of range (size " +
                          std::to_string(size) + ")");
}

/// Raises a to max(a, p); true when it changed a.
inline bool raise_to(std::atomic<double>& a, double p) noexcept {
  double old = a.load(std::memory_order_relaxed);
  while (old < p) {
    if (a.compare_exchange_weak(old, p, std::memory_order_relaxed)) return true;
  }
  return false;
}

/// Pending state and priority of the indices 0..size-1 of one scheduler.
///
/// state[i] is kIdle (not pending), kBusy (an idle->pending transition is storing the new
/// priority) or the tag of the round i is pending for. Only two tags are ever live: the current
/// round's (frozen vertices not yet popped) and the next round's. So an entry left in a current
/// queue for a vertex that was popped and scheduled again (a stale duplicate) never passes
/// take(), which accepts the current tag only.
class PendingSet {
 public:
  enum class Mark {
    kNone,           ///< already pending; priority unchanged
    kNew,            ///< became pending for the next round: the caller enqueues it
    kRaisedNext,     ///< already pending for the next round; its priority was raised
    kRaisedCurrent,  ///< pending in the current round (not yet popped); priority raised
  };

  explicit PendingSet(std::uint32_t size) : state_(size), priority_(size) {}

  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(state_.size()); }

  /// Makes i pending for the next round with priority p, or max-combines p into the priority
  /// of a pending i. NaN counts as -infinity. Throws std::out_of_range when i >= size().
  Mark mark(std::uint32_t i, double p) {
    if (i >= size()) index_out_of_range(i, size());
    if (std::isnan(p)) p = -std::numeric_limits<double>::infinity();
    std::atomic<std::uint8_t>& state = state_[i];
    std::uint8_t seen = state.load(std::memory_order_acquire);
    unsigned spins = 0;
    for (;;) {
      if (seen == kIdle) {
        // Claim first so that no raise() can combine with the stale priority of a past run.
        if (state.compare_exchange_weak(seen, kBusy, std::memory_order_acquire,
                                        std::memory_order_acquire)) {
          priority_[i].store(p, std::memory_order_relaxed);
          state.store(next_tag_.load(std::memory_order_acquire), std::memory_order_release);
          return Mark::kNew;
        }
      } else if (seen == kBusy) {
        spin_wait(spins);
        seen = state.load(std::memory_order_acquire);
      } else {
        if (!raise_to(priority_[i], p)) return Mark::kNone;
        return seen == next_tag_.load(std::memory_order_relaxed) ? Mark::kRaisedNext
                                                                 : Mark::kRaisedCurrent;
      }
    }
  }

  /// Clears i's pending state when i is pending in the current round; false otherwise (a stale
  /// queue entry). Each frozen vertex passes take() exactly once.
  bool take(std::uint32_t i) noexcept {
    std::uint8_t expected = cur_tag_.load(std::memory_order_acquire);
    return state_[i].compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel,
                                             std::memory_order_relaxed);
  }

  /// take() for an index whose queue entry is its only one in the current round (fifo and
  /// sweep: entries are created by kNew only): a load and a plain store instead of an atomic
  /// read-modify-write. A concurrent mark() of a current-round vertex only raises its priority,
  /// so the state cannot change between the load and the store.
  bool take_unique(std::uint32_t i) noexcept {
    std::atomic<std::uint8_t>& state = state_[i];
    if (state.load(std::memory_order_acquire) != cur_tag_.load(std::memory_order_relaxed)) {
      return false;
    }
    state.store(kIdle, std::memory_order_release);
    return true;
  }

  /// With no concurrent call: every pending index (either round) with its priority.
  std::vector<PendingVertex> pending() const {
    return collect_pending(state_, priority_,
                           [](std::uint8_t state) { return state != kIdle && state != kBusy; });
  }

  /// Between rounds only (no concurrent call): marks every index pending for the next round,
  /// as mark() would, calling on_new(i) for each index that was idle. Returns that count.
  template <typename OnNew>
  std::size_t mark_all(double p, OnNew on_new) {
    const std::uint8_t next = next_tag_.load(std::memory_order_relaxed);
    std::size_t added = 0;
    for (std::uint32_t i = 0; i < size(); ++i) {
      std::uint8_t seen = state_[i].load(std::memory_order_relaxed);
      if (seen == kIdle) {
        priority_[i].store(p, std::memory_order_relaxed);
        state_[i].store(next, std::memory_order_relaxed);
        on_new(i);
        ++added;
      } else if (priority_[i].load(std::memory_order_relaxed) < p) {
        priority_[i].store(p, std::memory_order_relaxed);
      }
    }
    return added;
  }

  /// Between rounds only: takes every vertex pending in the current round at once.
  void take_all() noexcept {
    const std::uint8_t cur = cur_tag_.load(std::memory_order_relaxed);
    for (auto& state : state_) {
      if (state.load(std::memory_order_relaxed) == cur)
        state.store(kIdle, std::memory_order_relaxed);
    }
  }

  /// The stored priority of i (the value of its latest pending period).
  double priority(std::uint32_t i) const {
    if (i >= size()) index_out_of_range(i, size());
    return priority_[i].load(std::memory_order_relaxed);
  }

  /// Between rounds only: the next round becomes current. Requires that no vertex is pending
  /// in the current round any more (the schedulers carry leftovers over first).
  void advance() noexcept {
    std::uint8_t next = next_tag_.load(std::memory_order_relaxed);
    cur_tag_.store(next, std::memory_order_release);
    next_tag_.store(next == kMaxTag ? std::uint8_t{1} : static_cast<std::uint8_t>(next + 1),
                    std::memory_order_release);
  }

 private:
  static constexpr std::uint8_t kIdle = 0;
  static constexpr std::uint8_t kMaxTag = 254;  // tags cycle through 1..kMaxTag
  static constexpr std::uint8_t kBusy = 255;

  std::vector<std::atomic<std::uint8_t>> state_;
  std::vector<std::atomic<double>> priority_;
  std::atomic<std::uint8_t> cur_tag_{kMaxTag};
  std::atomic<std::uint8_t> next_tag_{1};
};

/// State and priority of the indices 0..size-1 of a continuous scheduler:
///
///   idle --schedule--> pending --take--> running --finish--> idle
///                                        running --schedule--> rerun --finish--> pending
///
/// kBusy marks a transition that is storing a new priority (others wait for it). Every mark()
/// of a pending or rerun vertex is a read-modify-write of its state (pending_at_least() is not:
/// its callers order the update by locks), and take() and finish() are too: so a take() or finish()
/// ordered after a schedule() in the state's modification order synchronizes with it, and the
/// update that follows sees what the scheduling thread wrote before it scheduled (no lost wake-up).
/// on_pending() is called while the state is kBusy, before the vertex can be taken: the schedulers
/// count pending vertices there, so a count can never miss a vertex that is pending.
class RunStateSet {
 public:
  enum class Mark {
    kNone,    ///< already pending (or rerun); priority unchanged, or nothing to enqueue
    kNew,     ///< became pending: the caller enqueues it
    kRaised,  ///< already pending; its priority was raised
  };

  explicit RunStateSet(std::uint32_t size) : state_(size), priority_(size) {}

  std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(state_.size()); }

  /// schedule(i, p): see the diagram. NaN counts as -infinity. Throws std::out_of_range when
  /// i >= size().
  template <typename OnPending>
  Mark mark(std::uint32_t i, double p, OnPending on_pending) {
    if (i >= size()) index_out_of_range(i, size());
    if (std::isnan(p)) p = -std::numeric_limits<double>::infinity();
    std::atomic<std::uint8_t>& state = state_[i];
    std::uint8_t seen = state.load(std::memory_order_acquire);
    unsigned spins = 0;
    for (;;) {
      switch (seen) {
        case kIdle:
        case kRunning:
          if (state.compare_exchange_weak(seen, kBusy, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
            priority_[i].store(p, std::memory_order_relaxed);  // a new pending period
            if (seen == kRunning) {
              state.store(kRerun, std::memory_order_release);
              return Mark::kNone;
            }
            on_pending();
            state.store(kPending, std::memory_order_release);
            return Mark::kNew;
          }
          break;
        case kPending:
        case kRerun:
          if (state.compare_exchange_weak(seen, seen, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
            bool raised = raise_to(priority_[i], p);
            return raised && seen == kPending ? Mark::kRaised : Mark::kNone;
          }
          break;
        default:  // kBusy
          spin_wait(spins);
          seen = state.load(std::memory_order_acquire);
      }
    }
  }

  /// Starts fetching i's state and priority for a mark() soon (a hint; i may be out of range).
  void prefetch(std::uint32_t i) const noexcept {
    if (i >= size()) return;
    __builtin_prefetch(&state_[i], 1);
    __builtin_prefetch(&priority_[i], 1);
  }

  /// Whether i is pending (or rerun) with a priority of at least p, by plain loads: then a
  /// mark(i, p) would change nothing, but unlike mark() this does not synchronize with i's
  /// take(), so i's update may not see what the caller wrote before (ScheduleOrder::kLocks).
  /// Throws std::out_of_range when i >= size().
  bool pending_at_least(std::uint32_t i, double p) const {
    if (i >= size()) index_out_of_range(i, size());
    // Acquire: the priority read is at least the one stored before this state was.
    const std::uint8_t seen = state_[i].load(std::memory_order_acquire);
    if (seen != kPending && seen != kRerun) return false;
    if (std::isnan(p)) p = -std::numeric_limits<double>::infinity();
    return priority_[i].load(std::memory_order_relaxed) >= p;
  }

  /// pending -> running, storing its priority in p; false when i is not pending (a stale
  /// queue entry).
  bool take(std::uint32_t i, double& p) noexcept {
    std::uint8_t expected = kPending;
    if (!state_[i].compare_exchange_strong(expected, kRunning, std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {
      return false;
    }
    p = priority_[i].load(std::memory_order_relaxed);
    return true;
  }

  /// running -> idle (false) or rerun -> pending (true: the caller enqueues i with priority
  /// p). Throws std::logic_error when i is not running.
  template <typename OnPending>
  bool finish(std::uint32_t i, double& p, OnPending on_pending) {
    if (i >= size()) index_out_of_range(i, size());
    std::atomic<std::uint8_t>& state = state_[i];
    std::uint8_t seen = state.load(std::memory_order_acquire);
    unsigned spins = 0;
    for (;;) {
      if (seen == kRunning) {
        if (state.compare_exchange_weak(seen, kIdle, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
          return false;
        }
      } else if (seen == kRerun) {
        if (state.compare_exchange_weak(seen, kBusy, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
          p = priority_[i].load(std::memory_order_relaxed);
          on_pending();
          state.store(kPending, std::memory_order_release);
          return true;
        }
      } else if (seen == kBusy) {
        spin_wait(spins);
        seen = state.load(std::memory_order_acquire);
      } else {
        throw std::logic_error("scheduler finish(" + std::to_string(i) +
                               "): the vertex is not running (finish without pop?)");
      }
    }
  }

  /// With no concurrent call: every pending (or rerun) index with its priority.
  std::vector<PendingVertex> pending() const {
    return collect_pending(state_, priority_,
                           [](std::uint8_t state) { return state == kPending || state == kRerun; });
  }

  /// Whether i is pending, running or being scheduled (waits out a transition), with the
  /// priority it was last scheduled with.
  bool scheduled(std::uint32_t i, double& p) const noexcept {
    unsigned spins = 0;
    std::uint8_t seen = state_[i].load(std::memory_order_acquire);
    while (seen == kBusy) {
      spin_wait(spins);
      seen = state_[i].load(std::memory_order_acquire);
    }
    p = priority_[i].load(std::memory_order_relaxed);
    return seen != kIdle;
  }

 private:
  static constexpr std::uint8_t kIdle = 0;
  static constexpr std::uint8_t kPending = 1;
  static constexpr std::uint8_t kRunning = 2;
  static constexpr std::uint8_t kRerun = 3;
  static constexpr std::uint8_t kBusy = 4;

  std::vector<std::atomic<std::uint8_t>> state_;
  std::vector<std::atomic<double>> priority_;
};

}  // namespace atl::sched
