// The chromatic engine's own figures: its colouring and one record per colour step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "atoll/engine/run_stats.hpp"

namespace atl {

/// One colour step: the scheduled vertices of one colour, run in parallel.
struct ColorStepRecord {
  std::uint64_t iteration = 0;
  std::uint32_t color = 0;
  std::uint64_t updates = 0;
  double seconds = 0;
  double sync_seconds = 0;             ///< of which this rank spent pushing ghosts (and waiting)
  std::uint64_t bytes_sent = 0;        ///< ghost data and requests this rank sent after the step
  std::uint64_t lower_bound = 0;       ///< changed boundary vertices x replicas x data size
  std::uint64_t bytes_overlapped = 0;  ///< of bytes_sent, put while the step computed
};

class ChromaticDetails final : public EngineDetails {
 public:
  std::uint32_t colors = 0;
  std::uint64_t steps = 0;
  bool overlap = false;  ///< --overlap as resolved on rank 0 (bytes_overlapped: what streamed)
  std::vector<ColorStepRecord> step_log;

  void write_json(JsonWriter& json) const override;
  std::string summary() const override;
};

}  // namespace atl
