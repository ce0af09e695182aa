// Wall-clock timing for summaries and metrics (never for test assertions).
#pragma once

#include <chrono>

namespace atl {

/// Measures elapsed wall time since construction or the last reset().
class Timer {
 public:
  Timer() : start_(Clock::now()) {}
  void reset() { start_ = Clock::now(); }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

}  // namespace atl
