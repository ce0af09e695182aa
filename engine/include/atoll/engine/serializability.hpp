// The serializability checker (--check-serializable): every update records the versions of
// the vertices it read and the versions it wrote (a write of version k replaces k-1). The
// run was serializable iff the precedence graph over all ranks' updates is acyclic: an edge
// from the writer of a version to each reader of it, from each reader of a version to the
// writer of the next one, and from the writer of a version to the writer of the next one.
// Two updates that both wrote one version of a vertex (a lost update) are a violation too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "atoll/graph/ids.hpp"

namespace atl {

struct VersionedAccess {
  Gid vertex = 0;
  std::uint64_t version = 0;
};

/// Where an update ran: its rank (or thread) and its position in that origin's history.
struct UpdateRef {
  std::uint32_t origin = 0;
  std::uint64_t seq = 0;
  friend bool operator==(const UpdateRef&, const UpdateRef&) = default;
};

/// The updates of one origin (a worker thread or a rank) or, appended, of a whole run.
class UpdateHistory {
 public:
  explicit UpdateHistory(std::uint32_t origin = 0) : origin_(origin) {}
  /// Records one update: the versions it read and the versions it produced.
  void add(std::span<const VersionedAccess> reads, std::span<const VersionedAccess> writes);
  /// Adds another history's updates after these (keeping their origins).
  void append(const UpdateHistory& other);
  std::size_t size() const { return updates_.size(); }

  /// For sending to the checking rank: u64 updates, then per update u32 origin, u64 seq,
  /// u32 accesses, accesses x (u64 vertex, u64 version, u8 is_write).
  std::vector<std::byte> encode() const;
  /// The inverse; malformed bytes are an Error naming `source`.
  static UpdateHistory decode(std::span<const std::byte> bytes, int source);

 private:
  struct Update {
    UpdateRef ref;
    std::size_t begin;  ///< into accesses_
  };
  struct Access {
    Gid vertex;
    std::uint64_t version;
    bool write;
  };
  std::uint32_t origin_;
  std::uint64_t next_seq_ = 0;
  std::vector<Update> updates_;
  std::vector<Access> accesses_;
  friend struct SerializabilityCheck;
};

struct SerializabilityReport {
  bool ok = true;
  std::size_t updates = 0;
  std::string violation;         ///< what is wrong, with the updates involved ("" when ok)
  std::vector<UpdateRef> cycle;  ///< a precedence cycle, when one was found
};

/// Checks a whole run's history.
SerializabilityReport check_serializable(const UpdateHistory& history);

}  // namespace atl
