#include "atoll/engine/locking_details.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"

namespace atl {

void LatencyHistogram::add(std::chrono::steady_clock::duration d) {
  const auto ns = static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
  ++buckets_[std::bit_width(ns)];
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t b = 0; b < buckets_.size(); ++b) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

std::uint64_t LatencyHistogram::quantile_ns(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::min(max_ns_, b == 0 ? 0 : (std::uint64_t{1} << b) - 1);
  }
  return max_ns_;
}

void LockingDetails::write_json(JsonWriter& j) const {
  j.field("pipeline", static_cast<std::uint64_t>(pipeline))
      .field("phases", phases)
      .field("token_rounds", token_rounds)
      .field("scopes", scopes)
      .field("local_scopes", local_scopes)
      .field("optimistic", optimistic)
      .field("fallbacks", fallbacks)
      .field("lock_waits", lock_waits)
      .field("refreshes", refreshes)
      .field("remote_schedules", remote_schedules)
      .field("grant_data", grant_data)
      .field("grant_data_skipped", grant_data_skipped);
  if (serializable_updates > 0) j.field("serializable_updates", serializable_updates);
  if (snapshots > 0) j.field("snapshots", snapshots);
  j.field("bytes_per_update_rank0", bytes_per_update);
  j.key("lock_wait_ns_rank0")
      .begin_object()
      .field("count", lock_wait.count())
      .field("p50", lock_wait.quantile_ns(0.5))
      .field("p90", lock_wait.quantile_ns(0.9))
      .field("p99", lock_wait.quantile_ns(0.99))
      .field("max", lock_wait.max_ns())
      .end_object();
  const auto write_timeline = [&j](const std::vector<TimelineSample>& samples) {
    j.begin_array();
    for (const TimelineSample& s : samples) {
      j.begin_object()
          .field("seconds", s.seconds)
          .field("updates", s.updates)
          .field("in_flight", static_cast<std::uint64_t>(s.in_flight))
          .end_object();
    }
    j.end_array();
  };
  j.key("timeline_rank0");
  write_timeline(timelines.empty() ? std::vector<TimelineSample>{} : timelines.front());
  j.key("timeline_per_rank").begin_array();
  for (const std::vector<TimelineSample>& t : timelines) write_timeline(t);
  j.end_array();
}

std::string timeline_bytes(const std::vector<TimelineSample>& samples) {
  std::string out(samples.size() * sizeof(TimelineSample), '\0');
  if (!samples.empty()) std::memcpy(out.data(), samples.data(), out.size());
  return out;
}

std::vector<TimelineSample> timeline_from_bytes(std::string_view bytes, int rank) {
  if (bytes.size() % sizeof(TimelineSample) != 0) {
    fail("locking engine: rank ", rank, " sent a timeline of ", bytes.size(),
         " bytes, not whole samples of ", sizeof(TimelineSample));
  }
  std::vector<TimelineSample> samples(bytes.size() / sizeof(TimelineSample));
  if (!samples.empty()) std::memcpy(samples.data(), bytes.data(), bytes.size());
  return samples;
}

std::string LockingDetails::summary() const {
  std::string s =
      str_cat(phases, phases == 1 ? " phase" : " phases", ", pipeline ", pipeline, ", ", scopes,
              " locked scopes (", local_scopes, " local), ", lock_waits, " lock waits");
  if (lock_wait.count() > 0) {
    s += str_cat(" (wait p50 ", lock_wait.quantile_ns(0.5) / 1000, " us, p99 ",
                 lock_wait.quantile_ns(0.99) / 1000, " us)");
  }
  if (serializable_updates > 0) {
    s += str_cat("; serializability: OK (", serializable_updates, " updates checked)");
  }
  return s;
}

}  // namespace atl
