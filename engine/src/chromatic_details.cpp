#include "atoll/engine/chromatic_details.hpp"

#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"

namespace atl {

void ChromaticDetails::write_json(JsonWriter& j) const {
  j.field("colors", static_cast<std::uint64_t>(colors)).field("steps", steps);
  j.field("overlap", overlap);
  j.key("step_log").begin_array();
  for (const ColorStepRecord& r : step_log) {
    j.begin_object()
        .field("iteration", r.iteration)
        .field("color", static_cast<std::uint64_t>(r.color))
        .field("updates", r.updates)
        .field("seconds", r.seconds)
        .field("sync_seconds", r.sync_seconds)
        .field("bytes_sent", r.bytes_sent)
        .field("lower_bound", r.lower_bound)
        .field("bytes_overlapped", r.bytes_overlapped)
        .end_object();
  }
  j.end_array();
}

std::string ChromaticDetails::summary() const {
  return str_cat(steps, " colour steps, ", colors, colors == 1 ? " colour" : " colours");
}

}  // namespace atl
