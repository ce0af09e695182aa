// The locking engine's own figures: its pipeline, phases, lock traffic and the ghost cache.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "atoll/engine/run_stats.hpp"

namespace atl {

/// Durations in power-of-two nanosecond buckets: cheap to add on a hot path, percentiles
/// within a factor of two.
class LatencyHistogram {
 public:
  void add(std::chrono::steady_clock::duration d);
  void merge(const LatencyHistogram& other);
  std::uint64_t count() const { return count_; }
  /// The upper bound of the bucket holding quantile q (0 < q <= 1), in nanoseconds.
  std::uint64_t quantile_ns(double q) const;
  std::uint64_t max_ns() const { return max_ns_; }

 private:
  std::array<std::uint64_t, 64> buckets_{};  ///< bucket b: [2^(b-1), 2^b) ns; 0: 0 ns
  std::uint64_t count_ = 0;
  std::uint64_t max_ns_ = 0;
};

/// One point of a rank's progress: seconds since the run began, updates so far, scopes in
/// the pipeline.
struct TimelineSample {
  double seconds = 0;
  std::uint64_t updates = 0;
  std::uint64_t in_flight = 0;
};

/// A rank's timeline as bytes (to gather it), and back: an Error naming `rank` when the bytes
/// are not whole samples.
std::string timeline_bytes(const std::vector<TimelineSample>& samples);
std::vector<TimelineSample> timeline_from_bytes(std::string_view bytes, int rank);

class LockingDetails final : public EngineDetails {
 public:
  std::size_t pipeline = 0;              ///< --pipeline: scopes in flight per rank at most
  std::uint64_t phases = 0;              ///< runs to termination (sync points in between)
  std::uint64_t token_rounds = 0;        ///< termination token rounds rank 0 started
  std::uint64_t snapshots = 0;           ///< asynchronous snapshots taken (--snapshot-every)
  std::uint64_t scopes = 0;              ///< scopes that took locks (edge, full consistency)
  std::uint64_t local_scopes = 0;        ///< ... all owned here, locked without the manager
  std::uint64_t optimistic = 0;          ///< ... over several ranks, granted by the first try
  std::uint64_t fallbacks = 0;           ///< ... refused somewhere, then taken rank by rank
  std::uint64_t lock_waits = 0;          ///< lock requests that joined a queue
  std::uint64_t refreshes = 0;           ///< vertex data sent to replicas (vertex consistency)
  std::uint64_t remote_schedules = 0;    ///< schedule requests sent to other ranks
  std::uint64_t grant_data = 0;          ///< vertex data sent with grants (copy was older)
  std::uint64_t grant_data_skipped = 0;  ///< grants whose requester's copy was current
  /// --check-serializable: the updates found to have a serial equivalent (0: not checked).
  std::uint64_t serializable_updates = 0;
  LatencyHistogram lock_wait;  ///< this rank: from a scope's lock request to its update
  /// Every rank's progress (by rank; one rank: its own), a sample every 50 ms.
  std::vector<std::vector<TimelineSample>> timelines;
  double bytes_per_update = 0;  ///< this rank: bytes sent / its updates

  void write_json(JsonWriter& json) const override;
  std::string summary() const override;
};

}  // namespace atl
