// The lock manager's batches: records appended one after another, each a u8 kind and then
//   try, queue: u32 scope, u8 flags (bit 0: priority, bit 1: write), u32 key
//   grant:      u32 scope, u32 bytes, bytes of data
//   refuse:     u32 scope
//   release:    u32 key, u8 mode, u32 bytes, bytes of data
// A key names a group of the receiver's locks, which the receiver expands (LockHooks::expand,
// where a key is checked). The decoder checks every kind, flag, mode and length before the
// visitor sees it and throws an Error naming the source rank. Pure functions, for the tests
// and fuzzers.
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

/// Appends a try or queue record for the group `key` of the receiver, in `mode`.
inline void append_lock_request(std::vector<std::byte>& out, LockRecord kind, ScopeId scope,
                                bool priority, Lid key, LockMode mode) {
  append_value(out, static_cast<std::uint8_t>(kind));
  append_value(out, scope);
  append_value(out,
               static_cast<std::uint8_t>((priority ? 1 : 0) | (mode == LockMode::kWrite ? 2 : 0)));
  append_value(out, key);
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

/// Appends the head of a release of the group `key` in `mode`; the data follows, then
/// finish_data(out, returned offset).
inline std::size_t begin_release(std::vector<std::byte>& out, Lid key, LockMode mode) {
  append_value(out, static_cast<std::uint8_t>(LockRecord::kRelease));
  append_value(out, key);
  append_value(out, static_cast<std::uint8_t>(mode));
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

inline std::span<const std::byte> read_data(BatchReader& batch) {
  const auto bytes = batch.value<std::uint32_t>();
  return {batch.take(bytes), bytes};
}

/// Decodes a batch from `source`, calling
///   v.request(bool is_try, ScopeId, bool priority, Lid key, LockMode)
///   v.grant(ScopeId, span<const byte> data), v.refuse(ScopeId),
///   v.release(Lid key, LockMode, span<const byte> data)
/// in order.
template <typename Visitor>
void decode_lock_batch(std::span<const std::byte> bytes, int source, Visitor& v) {
  BatchReader batch(bytes, source, "lock batch");
  while (batch.left() > 0) {
    const auto kind = batch.value<std::uint8_t>();
    switch (static_cast<LockRecord>(kind)) {
      case LockRecord::kTry:
      case LockRecord::kQueue: {
        const auto scope = batch.value<ScopeId>();
        const auto flags = batch.value<std::uint8_t>();
        if (flags > 3) fail("rank ", source, " sent a lock request with flags ", int{flags});
        const auto key = batch.value<Lid>();
        v.request(kind == static_cast<std::uint8_t>(LockRecord::kTry), scope, (flags & 1) != 0, key,
                  (flags & 2) != 0 ? LockMode::kWrite : LockMode::kRead);
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
        const auto key = batch.value<Lid>();
        const auto mode = batch.value<std::uint8_t>();
        if (mode > 1) fail("rank ", source, " sent a lock release of unknown mode ", int{mode});
        v.release(key, static_cast<LockMode>(mode), read_data(batch));
        break;
      }
      default:
        fail("rank ", source, " sent a lock record of unknown kind ", int{kind});
    }
  }
}

}  // namespace atl::detail
