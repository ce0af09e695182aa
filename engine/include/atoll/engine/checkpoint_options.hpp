// What checkpoints a run writes, and the epoch it resumes from (--checkpoint-dir, --resume).
#pragma once

#include <cstdint>
#include <string>

namespace atl {

struct CheckpointOptions {
  std::string dir;          ///< write epochs here (empty: none)
  std::uint64_t every = 0;  ///< after every N iterations (sweeps, supersteps, phases)
  double interval = 0;      ///< or once this many seconds passed since the last (0: not by time)
  /// Locking engine: an asynchronous snapshot once this many seconds passed since the last
  /// one ended, taken while updates run (0: none).
  double snapshot_every = 0;
  unsigned keep = 2;   ///< valid epochs kept; older ones are deleted
  std::string resume;  ///< start from the newest valid epoch here (empty: a fresh run)
  /// The app and the options that must match on resume (set by the caller, e.g. the CLI).
  std::string run_identity;

  bool writes() const { return !dir.empty() && (every > 0 || interval > 0 || snapshot_every > 0); }
};

}  // namespace atl
