// Live progress on stderr, one report per iteration (sweep, phase or superstep): on a terminal
// one status line rewritten in place (iteration, updates per second, residual, bytes sent,
// elapsed time), ended by a newline when the run ends; otherwise (a pipe, a file, or
// ATOLL_LOG=debug / --verbose) one plain line per iteration. Nothing when disabled or when the
// log level is quiet.
#pragma once

#include <cstdint>

#include "atoll/common/timer.hpp"
#include "atoll/engine/run_stats.hpp"

namespace atl {

class ProgressLine {
 public:
  /// `unit` names an iteration ("sweep", "phase", "superstep").
  ProgressLine(bool enabled, const char* unit);
  ~ProgressLine();  ///< ends a rewritten line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// One iteration ended; bytes_sent: what this rank has sent to other ranks in the run so far.
  void report(const IterationRecord& record, std::uint64_t bytes_sent = 0);
  /// During an iteration (an asynchronous engine's phase): this rank's updates and bytes sent
  /// in the run so far. Refreshes the status line at most every 0.25 s, on a terminal only.
  /// Not concurrent with report() or itself.
  void live(std::uint64_t iteration, std::uint64_t updates, std::uint64_t bytes_sent);

 private:
  bool enabled_;
  bool in_place_;  ///< rewrite one line (stderr is a terminal and the log is not verbose)
  bool printed_ = false;
  const char* unit_;
  Timer elapsed_;
  double next_live_ = 0;  ///< elapsed seconds of the next live refresh
  double live_seconds_ = 0;
  std::uint64_t live_updates_ = 0;  ///< at the last live refresh
};

}  // namespace atl
