// StealingHeaps: per-slot binary max-heaps of (priority, index) with stealing, the queue of the
// priority scheduler in both modes (scheduler.cpp, continuous_scheduler.cpp).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "worker_slots.hpp"

namespace atl::sched {

struct HeapEntry {
  double priority;
  std::uint32_t index;
};
using Heap = std::vector<HeapEntry>;

/// Max-heap order: higher priority on top; equal priorities by increasing index.
struct HeapLower {
  bool operator()(const HeapEntry& a, const HeapEntry& b) const noexcept {
    return a.priority < b.priority || (a.priority == b.priority && a.index > b.index);
  }
};

inline void heap_push(Heap& heap, HeapEntry e) {
  heap.push_back(e);
  std::push_heap(heap.begin(), heap.end(), HeapLower{});
}

/// One heap per slot, each guarded by its slot lock, with its top published for stealers. A
/// worker pops its own heap first, then the heap with the best published top. The caller
/// decides which entries are live (take); dead ones (stale duplicates) are dropped.
class StealingHeaps {
 public:
  explicit StealingHeaps(std::size_t slots) : slots_(slots) {}

  void push(std::size_t slot, HeapEntry e) {
    Slot& s = slots_[slot];
    std::lock_guard guard(s.lock);
    heap_push(s.heap, e);
    publish(s);
  }

  /// Swaps slot's heap with `heap` (keeping both capacities), e.g. to start a round.
  void swap(std::size_t slot, Heap& heap) {
    Slot& s = slots_[slot];
    std::lock_guard guard(s.lock);
    std::swap(s.heap, heap);
    publish(s);
  }

  /// Empties every heap.
  void clear() {
    for (Slot& s : slots_) {
      std::lock_guard guard(s.lock);
      s.heap.clear();
      publish(s);
    }
  }

  /// True when some heap may hold entries (live or stale).
  bool any() const noexcept {
    return std::any_of(slots_.begin(), slots_.end(),
                       [](const Slot& s) { return s.nonempty.load(std::memory_order_relaxed); });
  }

  /// Pops entries in priority order until `max` of them passed take(index) (which stores
  /// them), from the own slot's heap, else from the best other one; returns that count, 0
  /// when every heap ran empty. Entries below `floor` stay where they are.
  template <typename Take>
  std::size_t pop(std::size_t own, std::size_t max, Take take,
                  double floor = -std::numeric_limits<double>::infinity()) {
    if (max == 0) return 0;
    if (std::size_t got = pop_from(slots_[own], max, take, floor)) return got;
    const std::size_t n = slots_.size();
    for (;;) {
      Slot* best = nullptr;
      double best_top = 0;
      for (std::size_t k = 1, v = own; k < n; ++k) {
        v = v + 1 == n ? 0 : v + 1;
        Slot& s = slots_[v];
        if (!s.nonempty.load(std::memory_order_relaxed)) continue;
        double top = s.top.load(std::memory_order_relaxed);
        if (top < floor) continue;
        if (best == nullptr || top > best_top) {
          best = &s;
          best_top = top;
        }
      }
      if (best == nullptr) return 0;
      if (std::size_t got = pop_from(*best, max, take, floor)) return got;  // else ran dry
    }
  }

  /// The best published top of any heap (stale entries included); -infinity when all are empty.
  double best() const noexcept {
    double b = -std::numeric_limits<double>::infinity();
    for (const Slot& s : slots_) {
      if (s.nonempty.load(std::memory_order_relaxed)) {
        b = std::max(b, s.top.load(std::memory_order_relaxed));
      }
    }
    return b;
  }

 private:
  struct alignas(kCacheLine) Slot {
    SlotLock lock;
    Heap heap;                          // guarded by lock
    std::atomic<bool> nonempty{false};  // published !heap.empty()
    std::atomic<double> top{0};         // published heap.front().priority
  };

  static void publish(Slot& s) noexcept {
    s.nonempty.store(!s.heap.empty(), std::memory_order_relaxed);
    if (!s.heap.empty()) s.top.store(s.heap.front().priority, std::memory_order_relaxed);
  }

  template <typename Take>
  static std::size_t pop_from(Slot& s, std::size_t max, Take& take, double floor) {
    std::size_t got = 0;
    std::lock_guard guard(s.lock);
    while (got < max && !s.heap.empty() && s.heap.front().priority >= floor) {
      std::pop_heap(s.heap.begin(), s.heap.end(), HeapLower{});
      std::uint32_t index = s.heap.back().index;
      s.heap.pop_back();
      if (take(index)) ++got;
    }
    publish(s);
    return got;
  }

  std::vector<Slot> slots_;
};

}  // namespace atl::sched
