// What the Pregel engine takes (threads, superstep limit, message buffers) and what it reports
// per superstep (active vertices, messages before and after combining, bytes, time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace atl {

struct PregelOptions {
  int threads = 0;  ///< 0: all hardware threads
  std::uint64_t max_supersteps = std::numeric_limits<std::uint64_t>::max();
  /// Use the program's combiner when it has one (false: deliver every message as sent).
  bool combine = true;
  /// Bytes of message batch one rank sends one peer per round; a superstep whose messages do
  /// not fit sends in several rounds (and, without a combiner, computes in waves meanwhile).
  std::size_t buffer_bytes = std::size_t{8} << 20;
  bool progress = false;  ///< print a line per superstep to stderr
};

/// One superstep, summed over ranks except where it says "this rank".
struct SuperstepRecord {
  std::uint64_t superstep = 0;
  std::uint64_t active = 0;             ///< vertices that ran compute()
  std::uint64_t messages_sent = 0;      ///< send calls
  std::uint64_t messages_combined = 0;  ///< messages after combining (local and remote)
  std::uint64_t remote_messages = 0;    ///< of which crossed to another rank
  std::uint64_t bytes_sent = 0;         ///< this rank's batches (headers included)
  std::uint64_t lower_bound = 0;  ///< this rank: its remote messages x message size (no index)
  std::uint32_t rounds = 0;       ///< batch rounds (more than one: buffers were full)
  double seconds = 0;
};

struct PregelStats {
  std::uint64_t supersteps = 0;
  std::uint64_t computes = 0;  ///< compute() calls, all ranks
  double seconds = 0;          ///< the run, without set-up
  double setup_seconds = 0;
  int ranks = 1;
  std::string workers;           ///< WorkerPool::describe()
  std::uint64_t bytes_sent = 0;  ///< this rank, whole run
  std::uint64_t lower_bound = 0;
  bool stopped_by_master = false;
  std::vector<SuperstepRecord> log;
};

}  // namespace atl
