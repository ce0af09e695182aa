// The locking engine's own figures: its pipeline, phases, lock traffic and the ghost cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "atoll/engine/run_stats.hpp"

namespace atl {

class LockingDetails final : public EngineDetails {
 public:
  std::size_t pipeline = 0;              ///< --pipeline: scopes in flight per rank at most
  std::uint64_t phases = 0;              ///< runs to termination (sync points in between)
  std::uint64_t token_rounds = 0;        ///< termination token rounds rank 0 started
  std::uint64_t scopes = 0;              ///< scopes that took locks (edge, full consistency)
  std::uint64_t optimistic = 0;          ///< ... over several ranks, granted by the first try
  std::uint64_t fallbacks = 0;           ///< ... refused somewhere, then taken rank by rank
  std::uint64_t lock_waits = 0;          ///< lock requests that joined a queue
  std::uint64_t refreshes = 0;           ///< vertex data sent to replicas (vertex consistency)
  std::uint64_t remote_schedules = 0;    ///< schedule requests sent to other ranks
  std::uint64_t grant_data = 0;          ///< vertex data sent with grants (copy was older)
  std::uint64_t grant_data_skipped = 0;  ///< grants whose requester's copy was current
  /// --check-serializable: the updates found to have a serial equivalent (0: not checked).
  std::uint64_t serializable_updates = 0;

  void write_json(JsonWriter& json) const override;
  std::string summary() const override;
};

}  // namespace atl
