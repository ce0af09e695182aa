#include "atoll/engine/locking_details.hpp"

#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"

namespace atl {

void LockingDetails::write_json(JsonWriter& j) const {
  j.field("pipeline", static_cast<std::uint64_t>(pipeline))
      .field("phases", phases)
      .field("token_rounds", token_rounds)
      .field("scopes", scopes)
      .field("optimistic", optimistic)
      .field("fallbacks", fallbacks)
      .field("lock_waits", lock_waits)
      .field("refreshes", refreshes)
      .field("remote_schedules", remote_schedules)
      .field("grant_data", grant_data)
      .field("grant_data_skipped", grant_data_skipped);
  if (serializable_updates > 0) j.field("serializable_updates", serializable_updates);
}

std::string LockingDetails::summary() const {
  std::string s = str_cat(phases, phases == 1 ? " phase" : " phases", ", pipeline ", pipeline, ", ",
                          scopes, " locked scopes, ", lock_waits, " lock waits");
  if (serializable_updates > 0) {
    s += str_cat("; serializability: OK (", serializable_updates, " updates checked)");
  }
  return s;
}

}  // namespace atl
