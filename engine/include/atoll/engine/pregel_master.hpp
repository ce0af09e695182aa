// The master hook's view (Giraph's MasterCompute): it runs on rank 0 after every superstep,
// reads the aggregators and the superstep's totals, may set aggregator values that every
// vertex reads in the next superstep, and may stop the run.
#pragma once

#include <cstdint>

#include "atoll/engine/pregel_aggregators.hpp"
#include "atoll/engine/pregel_stats.hpp"

namespace atl {

class PregelMaster {
 public:
  PregelMaster(PregelAggregatorTable& aggregators, const SuperstepRecord& record,
               std::uint64_t not_halted)
      : aggregators_(aggregators), record_(record), not_halted_(not_halted) {}

  /// The superstep that just ended, and its totals over all ranks.
  std::uint64_t superstep() const { return record_.superstep; }
  const SuperstepRecord& record() const { return record_; }
  /// Vertices that did not vote to halt in it.
  std::uint64_t not_halted() const { return not_halted_; }

  template <typename T>
  const T& aggregated(PregelAggregator<T> h) const {
    return aggregators_.value(h);
  }
  /// Every vertex reads v in the next superstep (a persistent aggregator continues from it).
  template <typename T>
  void set(PregelAggregator<T> h, const T& v) {
    aggregators_.set(h, v);
  }
  /// Ends the run after this superstep.
  void stop() { stop_ = true; }
  bool stopped() const { return stop_; }

 private:
  PregelAggregatorTable& aggregators_;
  const SuperstepRecord& record_;
  std::uint64_t not_halted_;
  bool stop_ = false;
};

}  // namespace atl
