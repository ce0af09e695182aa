// The debug log of a load's steps: each step's seconds and the process's peak memory so far.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"

namespace atl::detail {

/// This process's peak resident set so far (Linux: VmHWM), in MB; 0 when unknown.
inline std::uint64_t peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) / 1024;
  }
  return 0;
}

/// Logs (debug) the seconds since the last step of a load, naming the step.
class StepLog {
 public:
  explicit StepLog(int rank) : rank_(rank) {}
  void operator()(std::string_view step) {
    if (log_level() >= LogLevel::kDebug) {
      log_debug(str_cat("load (rank ", rank_, "): ", step, " ", timer_.seconds(), " s, peak RSS ",
                        peak_rss_mb(), " MB"));
    }
    timer_.reset();
  }

 private:
  int rank_;
  Timer timer_;
};

}  // namespace atl::detail
