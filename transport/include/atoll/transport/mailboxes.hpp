// Mailboxes: bulk-synchronous batches between every pair of ranks, moved by one-sided puts.
// Each rank owns one window with, per source rank, two slots (one per round parity) sized by
// what that source declared it will send at most. In a round every rank writes one batch per
// peer into its outbox, and deliver() puts each batch into the peer's slot, flushes and meets
// the other ranks at a barrier; then inbox(source) holds what source sent this round.
//
// Invariant: one barrier per round suffices because the slots alternate. A rank writes the
// slot of round k+2 only after the barrier of round k+1, which its reader reaches only after
// it has finished with round k (the same slot). put_early writes the coming round's slot, so
// it too runs only after the last barrier (between two deliver() calls).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atoll/transport/collectives.hpp"
#include "atoll/transport/transport.hpp"

namespace atl {

class Mailboxes {
 public:
  /// Collective, after transport.start(): capacity[p] is the most bytes this rank sends to
  /// rank p in one round (0: never). Allocates this rank's window for the incoming slots.
  Mailboxes(Transport& transport, Collectives& collectives, std::span<const std::size_t> capacity);
  /// Collective like the constructor: frees the window (skipped after a peer failure or
  /// while an exception unwinds, when peers may never arrive; the transport frees it then).
  ~Mailboxes();
  Mailboxes(const Mailboxes&) = delete;
  Mailboxes& operator=(const Mailboxes&) = delete;

  /// This round's batch for peer: capacity[peer] bytes to write into.
  std::span<std::byte> outbox(int peer) {
    const auto p = static_cast<std::size_t>(peer);
    return std::span(outbox_[p]).subspan(kHeader, send_capacity_[p]);
  }

  /// Puts bytes [offset, offset + length) of outbox(peer) now, before the coming deliver(),
  /// into the same place of that round's slot (overlap: a batch sent in parts while it is
  /// being written). Any thread, for disjoint ranges; deliver() then skips them (`sent`).
  void put_early(int peer, std::size_t offset, std::size_t length);

  /// Part of each outbox already put by put_early this round: [begin, end).
  struct SentRange {
    std::size_t begin = 0;
    std::size_t end = 0;
  };

  /// Collective: sends the first bytes[p] bytes of outbox(p) to every p with a capacity
  /// (bytes[p] <= capacity[p]), except sent[p] when given, waits until they have landed, and
  /// meets every rank.
  void deliver(std::span<const std::size_t> bytes, std::span<const SentRange> sent = {});

  /// What source sent in the last round (empty when it has no capacity towards this rank).
  /// The header is validated: a stale or overlong batch throws, naming the source.
  std::span<const std::byte> inbox(int source) const;

  /// Bytes put to other ranks in the last round (headers included).
  std::uint64_t last_bytes_sent() const { return last_bytes_sent_; }

 private:
  struct Header {
    std::uint64_t round;
    std::uint64_t length;
  };
  static constexpr std::size_t kHeader = 64;  ///< slots stay cache-line aligned
  static std::size_t slot_bytes(std::size_t capacity);
  /// Where outbox(peer)'s byte 0 lands in the peer's window in round `round`.
  std::uint64_t remote_data_offset(std::size_t peer, std::uint64_t round) const;

  Transport& transport_;
  Collectives& collectives_;
  WindowId window_;
  std::vector<std::size_t> send_capacity_;      ///< per peer
  std::vector<std::size_t> receive_capacity_;   ///< per source
  std::vector<std::uint64_t> remote_offset_;    ///< per peer: our parity-0 slot in its window
  std::vector<std::uint64_t> local_offset_;     ///< per source: its parity-0 slot in ours
  std::vector<std::vector<std::byte>> outbox_;  ///< per peer: header + capacity
  std::uint64_t round_ = 0;
  std::uint64_t last_bytes_sent_ = 0;
  std::atomic<std::uint64_t> early_bytes_{0};  ///< put by put_early since the last deliver
};

}  // namespace atl
