#include "atoll/engine/engine_options.hpp"

#include <array>
#include <string>

#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"

namespace atl {
namespace {

/// The engines built so far (the enum names the ones planned too).
constexpr std::array kEngines = {EngineKind::kChromatic, EngineKind::kLocking, EngineKind::kPregel};

}  // namespace

EngineKind parse_engine(std::string_view name) {
  for (EngineKind kind : kEngines) {
    if (name == engine_name(kind)) return kind;
  }
  usage_fail("unknown engine '", name, "' (valid: ", engine_list(kEngines), ")");
}

std::string_view engine_name(EngineKind kind) {
  switch (kind) {
    case EngineKind::kChromatic:
      return "chromatic";
    case EngineKind::kLocking:
      return "locking";
    case EngineKind::kPregel:
      return "pregel";
  }
  return "?";
}

NetworkProgress parse_network_progress(std::string_view name) {
  for (NetworkProgress p :
       {NetworkProgress::kAuto, NetworkProgress::kThread, NetworkProgress::kWorkers}) {
    if (name == network_progress_name(p)) return p;
  }
  usage_fail("unknown network progress '", name, "' (valid: auto, thread, workers)");
}

Overlap parse_overlap(std::string_view name) {
  if (name == "auto") return Overlap::kAuto;
  if (name == "on") return Overlap::kOn;
  if (name == "off") return Overlap::kOff;
  usage_fail("unknown --overlap '", name, "' (valid: auto, on, off)");
}

std::string_view network_progress_name(NetworkProgress p) {
  switch (p) {
    case NetworkProgress::kAuto:
      return "auto";
    case NetworkProgress::kThread:
      return "thread";
    case NetworkProgress::kWorkers:
      return "workers";
  }
  return "?";
}

std::span<const EngineKind> all_engines() {
  return kEngines;
}

std::string engine_list(std::span<const EngineKind> kinds) {
  std::string out;
  for (EngineKind kind : kinds) out += (out.empty() ? "" : ", ") + std::string(engine_name(kind));
  return out;
}

void write_run_stats(JsonWriter& j, const RunStats& s) {
  j.field("engine", s.engine)
      .field("consistency", consistency_name(s.consistency))
      .field("ranks", static_cast<std::uint64_t>(s.ranks))
      .field("workers", s.workers)
      .field("setup_seconds", s.setup_seconds)
      .field("run_seconds", s.seconds)
      .field("steal_seconds", s.steal_seconds)
      .field("iterations", s.iterations)
      .field("updates", s.updates)
      .field("bytes_sent_rank0", s.bytes_sent)
      .field("bytes_lower_bound_rank0", s.lower_bound);
  if (!s.stopped_by.empty()) {
    j.field("stopped_by", s.stopped_by).field("still_scheduled", s.still_scheduled);
  }
  j.key("iteration_log").begin_array();
  for (const IterationRecord& r : s.iteration_log) {
    j.begin_object()
        .field("iteration", r.iteration)
        .field("updates", r.updates)
        .field("seconds", r.seconds)
        .field("residual", r.residual)
        .end_object();
  }
  j.end_array();
  const CheckpointStats& c = s.checkpoints;
  if (!c.written.empty() || !c.resumed_from.empty()) {
    j.key("checkpoints").begin_object();
    if (!c.resumed_from.empty()) {
      j.field("resumed_from", c.resumed_from)
          .field("resumed_iteration", c.resumed_iteration)
          .field("resume_seconds", c.resume_seconds);
    }
    j.key("epochs").begin_array();
    for (const CheckpointRecord& r : c.written) {
      j.begin_object()
          .field("epoch", r.epoch)
          .field("iteration", r.iteration)
          .field("seconds", r.seconds)
          .field("bytes", r.bytes)
          .end_object();
    }
    j.end_array().end_object();
  }
  if (s.details) {
    j.key("engine_details").begin_object();
    s.details->write_json(j);
    j.end_object();
  }
}

}  // namespace atl
