#include "atoll/engine/pregel_stats.hpp"

#include <algorithm>
#include <memory>

#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"

namespace atl {

void PregelDetails::write_json(JsonWriter& j) const {
  j.field("supersteps", stats.supersteps)
      .field("combined", stats.combined)
      .field("stopped_by_master", stats.stopped_by_master)
      .field("mutations", stats.mutations)
      .field("dropped_messages", stats.dropped);
  j.key("superstep_log").begin_array();
  for (const SuperstepRecord& r : stats.log) {
    j.begin_object()
        .field("superstep", r.superstep)
        .field("active", r.active)
        .field("messages_sent", r.messages_sent)
        .field("messages_combined", r.messages_combined)
        .field("remote_messages", r.remote_messages)
        .field("bytes_sent", r.bytes_sent)
        .field("lower_bound", r.lower_bound)
        .field("rounds", static_cast<std::uint64_t>(r.rounds))
        .field("seconds", r.seconds)
        .field("mutations", r.mutations)
        .field("mutation_rounds", static_cast<std::uint64_t>(r.mutation_rounds))
        .end_object();
  }
  j.end_array();
}

std::string PregelDetails::summary() const {
  std::uint64_t sent = 0, combined = 0;
  std::uint32_t rounds = 0;
  for (const SuperstepRecord& r : stats.log) {
    sent += r.messages_sent;
    combined += r.messages_combined;
    rounds = std::max(rounds, r.rounds);
  }
  return str_cat(
      stats.supersteps, " supersteps, ", sent, " messages sent, ", combined,
      stats.combined ? " after combining" : " delivered",
      rounds > 1 ? str_cat(", up to ", rounds, " rounds a superstep") : std::string(),
      stats.mutations > 0 ? str_cat(", ", stats.mutations, " mutation requests") : std::string(),
      stats.stopped_by_master ? ", stopped by the master" : "");
}

RunStats to_run_stats(const PregelStats& s) {
  RunStats r;
  r.engine = "pregel";
  r.iterations = s.supersteps;
  r.updates = s.computes;
  r.seconds = s.seconds;
  r.setup_seconds = s.setup_seconds;
  r.steal_seconds = s.steal_seconds;
  r.workers = s.workers;
  r.ranks = s.ranks;
  r.bytes_sent = s.bytes_sent;
  r.lower_bound = s.lower_bound;
  r.stopped_by = s.stopped_by;
  r.still_scheduled = s.still_active;
  r.checkpoints = s.checkpoints;
  for (const SuperstepRecord& step : s.log) {
    IterationRecord it;
    it.iteration = step.superstep;
    it.updates = step.active;
    it.seconds = step.seconds;
    r.iteration_log.push_back(it);
  }
  r.details = std::make_shared<PregelDetails>(s);
  return r;
}

}  // namespace atl
