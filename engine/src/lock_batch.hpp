// The lock manager's batches: records appended one after another, each a u8 kind and then
//   try, queue: u32 scope, u8 priority, u32 n, n x (u32 lid, u8 mode, u64 cached version)
//   grant:      u32 scope, u32 bytes, bytes of data
//   refuse:     u32 scope
//   release:    u32 n, n x (u32 lid, u8 mode), u32 bytes, bytes of data
// Lids in try, queue and release are the owner's (the receiver's), strictly increasing. The
// decoder checks every count, kind, mode and lid before the visitor sees it and throws an
// Error naming the source rank. Pure functions, for the tests and fuzzers.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "atoll/engine/lock_manager.hpp"
#include "batch_decode.hpp"

namespace atl::detail {

enum class LockRecord : std::uint8_t {
  kTry = 1,
  kQueue = 2,
  kGrant = 3,
  kRefuse = 4,
  kRelease = 5
};

/// Appends a try or queue record for `locks` (their owner's lids).
inline void append_lock_request(std::vector<std::byte>& out, LockRecord kind, ScopeId scope,
                                bool priority, std::span<const LockItem> locks) {
  append_value(out, static_cast<std::uint8_t>(kind));
  append_value(out, scope);
  append_value(out, static_cast<std::uint8_t>(priority));
  append_value(out, static_cast<std::uint32_t>(locks.size()));
  for (const LockItem& l : locks) {
    append_value(out, l.lid);
    append_value(out, static_cast<std::uint8_t>(l.mode));
    append_value(out, l.cached_version);
  }
}

inline void append_refuse(std::vector<std::byte>& out, ScopeId scope) {
  append_value(out, static_cast<std::uint8_t>(LockRecord::kRefuse));
  append_value(out, scope);
}

/// Appends the head of a grant; the data follows, then finish_data(out, returned offset).
inline std::size_t begin_grant(std::vector<std::byte>& out, ScopeId scope) {
  append_value(out, static_cast<std::uint8_t>(LockRecord::kGrant));
  append_value(out, scope);
  append_value(out, std::uint32_t{0});
  return out.size();
}

/// Appends the head of a release; the data follows, then finish_data(out, returned offset).
inline std::size_t begin_release(std::vector<std::byte>& out, std::span<const LockItem> locks) {
  append_value(out, static_cast<std::uint8_t>(LockRecord::kRelease));
  append_value(out, static_cast<std::uint32_t>(locks.size()));
  for (const LockItem& l : locks) {
    append_value(out, l.lid);
    append_value(out, static_cast<std::uint8_t>(l.mode));
  }
  append_value(out, std::uint32_t{0});
  return out.size();
}

/// Writes the length of the data appended since `data_begin` in front of it.
inline void finish_data(std::vector<std::byte>& out, std::size_t data_begin) {
  const std::size_t bytes = out.size() - data_begin;
  if (bytes > UINT32_MAX) fail("lock batch: ", bytes, " bytes of data in one record");
  const auto n = static_cast<std::uint32_t>(bytes);
  std::memcpy(out.data() + data_begin - sizeof n, &n, sizeof n);
}

/// Reads n lock entries (with versions or without) into `locks`, checking lids and order.
inline void read_locks(BatchReader& batch, int source, int owner, Lid owned, bool versions,
                       std::vector<LockItem>& locks) {
  const auto n = batch.value<std::uint32_t>();
  if (n == 0) fail("rank ", source, " sent a lock record with no locks");
  const std::size_t entry = sizeof(Lid) + 1 + (versions ? sizeof(std::uint64_t) : 0);
  batch.expect_records(n, entry);
  locks.clear();
  for (std::uint32_t i = 0; i < n; ++i) {
    LockItem l;
    l.owner = owner;
    l.lid = batch.value<Lid>();
    const auto mode = batch.value<std::uint8_t>();
    if (versions) l.cached_version = batch.value<std::uint64_t>();
    if (l.lid >= owned) fail("rank ", source, " sent a lock on lid ", l.lid, ", not owned here");
    if (mode > 1) fail("rank ", source, " sent a lock of unknown mode ", int{mode});
    if (!locks.empty() && l.lid <= locks.back().lid) {
      fail("rank ", source, " sent locks out of order (lid ", l.lid, " after ", locks.back().lid,
           ")");
    }
    l.mode = static_cast<LockMode>(mode);
    locks.push_back(l);
  }
}

inline std::span<const std::byte> read_data(BatchReader& batch) {
  const auto bytes = batch.value<std::uint32_t>();
  return {batch.take(bytes), bytes};
}

/// Decodes a batch from `source` to this rank (`owner`, owning lids [0, owned)), calling
///   v.request(bool is_try, ScopeId, bool priority, span<const LockItem>)
///   v.grant(ScopeId, span<const byte> data), v.refuse(ScopeId),
///   v.release(span<const LockItem>, span<const byte> data)
/// in order. `scratch` holds the lock lists between calls.
template <typename Visitor>
void decode_lock_batch(std::span<const std::byte> bytes, int source, int owner, Lid owned,
                       std::vector<LockItem>& scratch, Visitor& v) {
  BatchReader batch(bytes, source, "lock batch");
  while (batch.left() > 0) {
    const auto kind = batch.value<std::uint8_t>();
    switch (static_cast<LockRecord>(kind)) {
      case LockRecord::kTry:
      case LockRecord::kQueue: {
        const auto scope = batch.value<ScopeId>();
        const auto priority = batch.value<std::uint8_t>();
        if (priority > 1) fail("rank ", source, " sent a lock request of priority ", int{priority});
        read_locks(batch, source, owner, owned, true, scratch);
        v.request(kind == static_cast<std::uint8_t>(LockRecord::kTry), scope, priority != 0,
                  std::span<const LockItem>(scratch));
        break;
      }
      case LockRecord::kGrant: {
        const auto scope = batch.value<ScopeId>();
        v.grant(scope, read_data(batch));
        break;
      }
      case LockRecord::kRefuse:
        v.refuse(batch.value<ScopeId>());
        break;
      case LockRecord::kRelease: {
        read_locks(batch, source, owner, owned, false, scratch);
        v.release(std::span<const LockItem>(scratch), read_data(batch));
        break;
      }
      default:
        fail("rank ", source, " sent a lock record of unknown kind ", int{kind});
    }
  }
}

}  // namespace atl::detail
