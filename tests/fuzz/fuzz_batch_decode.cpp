// libFuzzer target for the decoders of the batches peers put into mailboxes (ghost pushes,
// write-backs, cut-edge pushes, the lock manager's batches, the locking engine's update
// records). Any bytes must either decode within
// the limits given or raise atl::Error; the callbacks check that nothing outside the limits is ever
// handed out.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/locking_records.hpp"
#include "batch_decode.hpp"
#include "fuzz_input.hpp"
#include "lock_batch.hpp"

using atl::fuzz::take_u32;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t which = data[0] % 5;
  ++data;
  --size;
  // Limits come from the input too, kept small so that records can hit them.
  const atl::Lid ghost_begin = take_u32(data, size) % 64;
  const atl::Lid ghost_end = ghost_begin + take_u32(data, size) % 64;
  const atl::Lid owned = take_u32(data, size) % 64;
  const std::size_t value_bytes = take_u32(data, size) % 17;
  std::span<const std::byte> batch(reinterpret_cast<const std::byte*>(data), size);
  auto check = [](bool ok) {
    if (!ok) std::abort();
  };
  try {
    switch (which) {
      case 0:
        atl::detail::decode_ghost_batch(
            batch, 1, {ghost_begin, ghost_end, owned, value_bytes},
            [&](const std::byte* src) {
              check(src + std::size_t{ghost_end - ghost_begin} * value_bytes <=
                    batch.data() + size);
            },
            [&](const atl::detail::SparseEntries& entries) {
              for (std::uint64_t i = 0; i < entries.size(); ++i) {
                check(entries.lid(i) >= ghost_begin && entries.lid(i) < ghost_end);
                check(entries.data(i) + value_bytes <= batch.data() + size);
              }
            },
            [&](atl::Lid lid, double) { check(lid < owned); });
        break;
      case 1:
        atl::detail::decode_write_back(batch, 1, owned, value_bytes,
                                       [&](atl::Lid lid, const std::byte* src) {
                                         check(lid < owned);
                                         check(src + value_bytes <= batch.data() + size);
                                       });
        break;
      case 3: {
        struct Visitor {
          std::span<const std::byte> batch;
          void data(std::span<const std::byte> d) const {
            if (!d.empty() &&
                (d.data() < batch.data() || d.data() + d.size() > batch.data() + batch.size())) {
              std::abort();
            }
          }
          void request(bool, atl::ScopeId, bool, atl::Lid, atl::LockMode m) const {
            if (m != atl::LockMode::kRead && m != atl::LockMode::kWrite) std::abort();
          }
          void grant(atl::ScopeId, std::span<const std::byte> d) const { data(d); }
          void refuse(atl::ScopeId) const {}
          void release(atl::Lid, atl::LockMode m, std::span<const std::byte> d) const {
            if (m != atl::LockMode::kRead && m != atl::LockMode::kWrite) std::abort();
            data(d);
          }
        };
        Visitor v{batch};
        atl::detail::decode_lock_batch(batch, 1, v);
        break;
      }
      case 4:
        atl::locking::read_update_entries(
            batch, value_bytes, 1,
            [&](atl::Lid, std::uint64_t, std::span<const std::byte> d) {
              check(d.size() == value_bytes && d.data() + d.size() <= batch.data() + size);
            },
            [&](atl::Lid, double) {}, [&](std::uint64_t, double best) { check(best == best); });
        break;
      default:
        atl::detail::decode_cut_edge_batch(batch, 1, owned, value_bytes,
                                           [&](std::uint32_t index, const std::byte* src) {
                                             check(index < owned);
                                             check(src + value_bytes <= batch.data() + size);
                                           });
        break;
    }
  } catch (const atl::Error&) {
  }
  return 0;
}
