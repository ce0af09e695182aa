// Progress on stderr, one line per iteration: rewritten in place on a terminal, plain lines
// otherwise; nothing when disabled or when the log level is below info.
#pragma once

#include "atoll/engine/run_stats.hpp"

namespace atl {

class ProgressLine {
 public:
  /// `unit` names an iteration ("sweep", "superstep").
  ProgressLine(bool enabled, const char* unit);
  ~ProgressLine();  ///< ends a rewritten line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void report(const IterationRecord& record);

 private:
  bool enabled_;
  bool tty_;
  bool printed_ = false;
  const char* unit_;
};

}  // namespace atl
