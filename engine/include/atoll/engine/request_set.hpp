// RequestSet: schedule requests collected during a colour step and handed on after it (the
// chromatic engine's deferred requests under vertex consistency, and its requests for ghosts).
// Each index is kept once, with the largest priority requested for it, so a vertex that many
// updates of one step schedule (a hub's out-neighbour, say) costs one entry instead of one per
// request: a repeated request that does not raise the priority is a single read.
#pragma once

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "atoll/graph/ids.hpp"

namespace atl {

class RequestSet {
 public:
  RequestSet() = default;
  explicit RequestSet(std::size_t size) { resize(size); }

  /// Between steps: covers indices 0..size-1, none requested (requests made so far are lost).
  void resize(std::size_t size) {
    size_ = size;
    priority_ = std::make_unique<std::atomic<double>[]>(size);
    for (std::size_t i = 0; i < size; ++i) priority_[i].store(kAbsent, std::memory_order_relaxed);
    for (std::vector<Lid>& list : lists_) list.clear();
  }

  std::size_t size() const { return size_; }

  /// Requests index i (< size()) with priority p; thread-safe. NaN counts as -infinity.
  void add(Lid i, double p) {
    if (std::isnan(p)) p = -std::numeric_limits<double>::infinity();
    double seen = priority_[i].load(std::memory_order_relaxed);
    if (!std::isnan(seen) && !(p > seen)) return;  // requested already, at least as high
    add_slow(i, p, seen);
  }

  /// Between steps (no concurrent add): calls f(i, priority) once for every requested index,
  /// per adding thread in request order, and empties the set.
  template <typename F>
  void take(F&& f) {
    for (std::vector<Lid>& list : lists_) take_list(list, f);
  }

  /// take() with the per-thread lists handed out in parallel (f must be thread-safe).
  template <typename F>
  void take_parallel(F&& f) {
    tbb::parallel_for(lists_.range(), [&](auto& range) {
      for (std::vector<Lid>& list : range) take_list(list, f);
    });
  }

 private:
  /// The priority of an index that is not requested (a request's priority is never NaN).
  static constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();

  [[gnu::noinline]] void add_slow(Lid i, double p, double seen) {
    std::atomic<double>& slot = priority_[i];
    for (;;) {
      if (std::isnan(seen)) {  // the first request: whoever installs it lists i
        if (slot.compare_exchange_weak(seen, p, std::memory_order_relaxed)) {
          lists_.local().push_back(i);
          return;
        }
      } else if (p > seen) {
        if (slot.compare_exchange_weak(seen, p, std::memory_order_relaxed)) return;
      } else {
        return;
      }
    }
  }

  template <typename F>
  void take_list(std::vector<Lid>& list, F& f) {
    for (Lid i : list) {
      f(i, priority_[i].load(std::memory_order_relaxed));
      priority_[i].store(kAbsent, std::memory_order_relaxed);
    }
    list.clear();
  }

  std::size_t size_ = 0;
  std::unique_ptr<std::atomic<double>[]> priority_;
  tbb::enumerable_thread_specific<std::vector<Lid>> lists_;
};

}  // namespace atl
