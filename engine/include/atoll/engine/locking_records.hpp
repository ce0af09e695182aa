// The records the locking engine sends between ranks on its channel, and their validated
// decoding. A record is one kind byte and a payload:
//   kLocks:   u32 stamp (the sender's snapshot epoch), a lock manager batch
//             (LockManager::take_batch);
//   kUpdates: u32 stamp, then entries, each a type byte then
//               kRefresh  (u32 lid at the receiver, u64 version, data_bytes of vertex data):
//                         an owner's new data for a replica (vertex consistency);
//               kSchedule (u32 lid at the receiver, f64 priority): schedule an owned vertex;
//               kFrontier (u64 sequence, f64 priority): the best priority pending at the
//                         sender (--run-ahead); a higher sequence replaces a lower one;
//   kToken:   a termination token (TerminationDetector);
//   kSnapshot: the asynchronous snapshot's own messages (SnapshotMessage, u32 snapshot, then
//             kCount: u64 records stamped before it; kWritten: u64 bytes, u32 CRC, error text).
// Untrusted bytes: every length and lid is checked before use and an Error names the source.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/ids.hpp"

namespace atl::locking {

enum class RecordKind : std::uint8_t { kLocks = 1, kUpdates = 2, kToken = 3, kSnapshot = 4 };
enum class SnapshotMessage : std::uint8_t { kStart = 1, kCount = 2, kWritten = 3 };

/// Appends a record's kind and stamp.
inline void append_header(std::vector<std::byte>& out, RecordKind kind, std::uint32_t stamp) {
  const std::size_t at = out.size();
  out.resize(at + 5);
  out[at] = std::byte{static_cast<std::uint8_t>(kind)};
  std::memcpy(out.data() + at + 1, &stamp, 4);
}
/// The bytes a record's header takes (its kind and stamp).
inline constexpr std::size_t kHeaderBytes = 5;
/// Writes the header over the first kHeaderBytes of `out`, which the caller kept free.
inline void write_header(std::vector<std::byte>& out, RecordKind kind, std::uint32_t stamp) {
  out[0] = std::byte{static_cast<std::uint8_t>(kind)};
  std::memcpy(out.data() + 1, &stamp, 4);
}
/// The stamp at the start of a kLocks or kUpdates payload.
inline std::uint32_t read_stamp(std::span<const std::byte> payload, int source) {
  if (payload.size() < 4) fail("locking engine: rank ", source, " sent a record without its stamp");
  std::uint32_t stamp;
  std::memcpy(&stamp, payload.data(), 4);
  return stamp;
}
enum class EntryType : std::uint8_t { kRefresh = 1, kSchedule = 2, kFrontier = 3 };

/// Appends one refresh entry (vertex data of `bytes` bytes) to an update record.
inline void append_refresh(std::vector<std::byte>& out, Lid lid, std::uint64_t version,
                           const void* data, std::size_t bytes) {
  const std::size_t at = out.size();
  out.resize(at + 1 + 4 + 8 + bytes);
  out[at] = std::byte{static_cast<std::uint8_t>(EntryType::kRefresh)};
  std::memcpy(out.data() + at + 1, &lid, 4);
  std::memcpy(out.data() + at + 5, &version, 8);
  if (bytes != 0) std::memcpy(out.data() + at + 13, data, bytes);
}

/// Appends one schedule entry to an update record.
inline void append_schedule(std::vector<std::byte>& out, Lid lid, double priority) {
  const std::size_t at = out.size();
  out.resize(at + 1 + 4 + 8);
  out[at] = std::byte{static_cast<std::uint8_t>(EntryType::kSchedule)};
  std::memcpy(out.data() + at + 1, &lid, 4);
  std::memcpy(out.data() + at + 5, &priority, 8);
}

/// Raises the priority of the schedule entry at offset `at` of a record being built to
/// `priority` when that is higher (NaN counts as -infinity, as in the schedulers).
inline void raise_schedule(std::vector<std::byte>& out, std::size_t at, double priority) {
  auto rank = [](double p) { return std::isnan(p) ? -std::numeric_limits<double>::infinity() : p; };
  double old;
  std::memcpy(&old, out.data() + at + 5, 8);
  if (rank(priority) > rank(old)) std::memcpy(out.data() + at + 5, &priority, 8);
}

/// Appends one frontier entry to an update record.
inline void append_frontier(std::vector<std::byte>& out, std::uint64_t sequence, double best) {
  const std::size_t at = out.size();
  out.resize(at + 1 + 8 + 8);
  out[at] = std::byte{static_cast<std::uint8_t>(EntryType::kFrontier)};
  std::memcpy(out.data() + at + 1, &sequence, 8);
  std::memcpy(out.data() + at + 9, &best, 8);
}

/// Calls refresh(lid, version, data), schedule(lid, priority) and frontier(sequence, best) for
/// each entry of an update record's payload, in order; lids are not range-checked here (the
/// callbacks do).
template <typename Refresh, typename Schedule, typename Frontier>
void read_update_entries(std::span<const std::byte> p, std::size_t data_bytes, int source,
                         Refresh&& refresh, Schedule&& schedule, Frontier&& frontier) {
  std::size_t at = 0;
  while (at < p.size()) {
    const auto type = static_cast<std::uint8_t>(p[at]);
    Lid lid;
    if (type == static_cast<std::uint8_t>(EntryType::kRefresh)) {
      if (p.size() - at < 13 + data_bytes) {
        fail("locking engine: rank ", source, " sent a truncated refresh entry at byte ", at);
      }
      std::uint64_t version;
      std::memcpy(&lid, p.data() + at + 1, 4);
      std::memcpy(&version, p.data() + at + 5, 8);
      refresh(lid, version, p.subspan(at + 13, data_bytes));
      at += 13 + data_bytes;
    } else if (type == static_cast<std::uint8_t>(EntryType::kSchedule)) {
      if (p.size() - at < 13) {
        fail("locking engine: rank ", source, " sent a truncated schedule entry at byte ", at);
      }
      double priority;
      std::memcpy(&lid, p.data() + at + 1, 4);
      std::memcpy(&priority, p.data() + at + 5, 8);
      schedule(lid, priority);
      at += 13;
    } else if (type == static_cast<std::uint8_t>(EntryType::kFrontier)) {
      if (p.size() - at < 17) {
        fail("locking engine: rank ", source, " sent a truncated frontier entry at byte ", at);
      }
      std::uint64_t sequence;
      double best;
      std::memcpy(&sequence, p.data() + at + 1, 8);
      std::memcpy(&best, p.data() + at + 9, 8);
      if (std::isnan(best)) fail("locking engine: rank ", source, " sent a NaN frontier");
      frontier(sequence, best);
      at += 17;
    } else {
      fail("locking engine: rank ", source, " sent an update entry of unknown type ", int{type},
           " at byte ", at);
    }
  }
}

/// Grant and release data (the lock hooks): entries of (u32 lid, u64 version, data_bytes).
inline void append_versioned(std::vector<std::byte>& out, Lid lid, std::uint64_t version,
                             const void* data, std::size_t bytes) {
  const std::size_t at = out.size();
  out.resize(at + 12 + bytes);
  std::memcpy(out.data() + at, &lid, 4);
  std::memcpy(out.data() + at + 4, &version, 8);
  if (bytes != 0) std::memcpy(out.data() + at + 12, data, bytes);
}

/// Calls f(lid, version, data) for each (lid, version, data) entry; `what` and `source` name
/// the data in the Error a malformed length raises.
template <typename F>
void read_versioned(std::span<const std::byte> p, std::size_t data_bytes, int source,
                    const char* what, F&& f) {
  const std::size_t entry = 12 + data_bytes;
  if (p.size() % entry != 0) {
    fail("locking engine: rank ", source, " sent ", what, " of ", p.size(),
         " bytes, not a multiple of ", entry);
  }
  for (std::size_t at = 0; at < p.size(); at += entry) {
    Lid lid;
    std::uint64_t version;
    std::memcpy(&lid, p.data() + at, 4);
    std::memcpy(&version, p.data() + at + 4, 8);
    f(lid, version, p.subspan(at + 12, data_bytes));
  }
}

}  // namespace atl::locking
