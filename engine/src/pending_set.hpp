// Internal building blocks of the schedulers (scheduler.cpp): a test-and-test-and-set spinlock,
// a per-thread ordinal that picks a worker slot, and PendingSet, the per-index pending state and
// priority shared by every scheduler kind.
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace atl::detail {

inline constexpr std::size_t kCacheLine = 64;

/// One busy-wait step: pause for the first few spins, then yield (the machine may be
/// oversubscribed and the thread we wait for preempted).
inline void spin_wait(unsigned& spins) noexcept {
  if (++spins < 16) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

/// A small test-and-test-and-set lock for short critical sections (BasicLockable).
class SpinLock {
 public:
  void lock() noexcept {
    unsigned spins = 0;
    while (flag_.test_and_set(std::memory_order_acquire)) {
      while (flag_.test(std::memory_order_relaxed)) spin_wait(spins);
    }
  }
  void unlock() noexcept { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_;  // clear on construction (C++20)
};

/// A process-wide ordinal of the calling thread, assigned on its first call. Unlike
/// tbb::this_task_arena::current_thread_index() it is unique across task arenas.
inline unsigned thread_ordinal() noexcept {
  static std::atomic<unsigned> next{0};
  thread_local const unsigned ordinal = next.fetch_add(1, std::memory_order_relaxed);
  return ordinal;
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
    if (i >= size()) out_of_range(i);
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
        if (!raise(priority_[i], p)) return Mark::kNone;
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
    if (i >= size()) out_of_range(i);
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

  /// Raises a to max(a, p); true when it changed a.
  static bool raise(std::atomic<double>& a, double p) noexcept {
    double old = a.load(std::memory_order_relaxed);
    while (old < p) {
      if (a.compare_exchange_weak(old, p, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  [[noreturn, gnu::cold, gnu::noinline]] void out_of_range(std::uint32_t i) const {
    throw std::out_of_range("scheduler index " + std::to_string(i) + " out of range (size " +
                            std::to_string(size()) + ")");
  }

  std::vector<std::atomic<std::uint8_t>> state_;
  std::vector<std::atomic<double>> priority_;
  std::atomic<std::uint8_t> cur_tag_{kMaxTag};
  std::atomic<std::uint8_t> next_tag_{1};
};

}  // namespace atl::detail
