// Context: what an update function may do besides touching its scope: schedule vertices,
// read aggregates, and learn where the run is.
#pragma once

#include <cstdint>

#include "atoll/engine/aggregator.hpp"
#include "atoll/engine/scheduler.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

/// Where schedule requests go (implemented by each engine).
class ScheduleSink {
 public:
  virtual void schedule(Lid v, double priority) = 0;

 protected:
  ~ScheduleSink() = default;
};

class Context {
 public:
  Context(ScheduleSink& sink, const AggregatorTable& aggregators, std::uint64_t iteration)
      : sink_(&sink), aggregators_(&aggregators), iteration_(iteration) {}

  /// Schedules local vertex v (an owned vertex or a ghost) with the given priority.
  void schedule(Lid v, double priority = 1.0) { sink_->schedule(v, priority); }

  /// Schedules every out-neighbour (in-neighbour, both) of the scope's vertex.
  template <typename ScopeT>
  void schedule_out_neighbors(const ScopeT& scope, double priority = 1.0) {
    for (auto edge : scope.out_edges()) schedule(edge.neighbor(), priority);
  }
  template <typename ScopeT>
  void schedule_in_neighbors(const ScopeT& scope, double priority = 1.0) {
    for (auto edge : scope.in_edges()) schedule(edge.neighbor(), priority);
  }
  template <typename ScopeT>
  void schedule_neighbors(const ScopeT& scope, double priority = 1.0) {
    schedule_in_neighbors(scope, priority);
    schedule_out_neighbors(scope, priority);
  }

  /// The last finalized value of an aggregator.
  template <typename T>
  const T& aggregate(AggregatorHandle<T> handle) const {
    return aggregators_->value(handle);
  }

  /// Iterations completed before this update (chromatic: sweeps over all colours; an
  /// asynchronous engine: sync points passed).
  std::uint64_t iteration() const { return iteration_; }
  /// The priority this update's vertex was scheduled with.
  double priority() const {
    return scheduler_ != nullptr ? scheduler_->priority(index_) : priority_;
  }

  void set_priority(double p) { priority_ = p; }  ///< engine use
  /// Engine use: the priority is read from the scheduler only if the update asks for it.
  void set_priority_slot(const Scheduler* scheduler, std::uint32_t index) {
    scheduler_ = scheduler;
    index_ = index;
  }

 private:
  ScheduleSink* sink_;
  const AggregatorTable* aggregators_;
  std::uint64_t iteration_;
  double priority_ = 0.0;
  const Scheduler* scheduler_ = nullptr;
  std::uint32_t index_ = 0;
};

}  // namespace atl
