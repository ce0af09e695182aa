// Mailboxes (see mailboxes.hpp). Slot layout in a receiver's window: sources in rank order,
// each with its parity-0 slot then its parity-1 slot; a slot is a 64-byte header (round,
// length) and the source's capacity, rounded up to 64 bytes.
#include "atoll/transport/mailboxes.hpp"

#include <cstring>
#include <string>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"

namespace atl {

std::size_t Mailboxes::slot_bytes(std::size_t capacity) {
  return capacity == 0 ? 0 : kHeader + (capacity + kHeader - 1) / kHeader * kHeader;
}

Mailboxes::Mailboxes(Transport& transport, Collectives& collectives,
                     std::span<const std::size_t> capacity)
    : transport_(transport), collectives_(collectives) {
  const int ranks = transport.size();
  const int me = transport.rank();
  const auto n = static_cast<std::size_t>(ranks);
  if (capacity.size() != n) fail("mailboxes: ", capacity.size(), " capacities for ", n, " ranks");
  send_capacity_.assign(capacity.begin(), capacity.end());
  send_capacity_[static_cast<std::size_t>(me)] = 0;  // a rank never mails itself
  // Every rank learns every capacity, so senders and receivers lay out slots alike.
  std::string mine(n * sizeof(std::uint64_t), '\0');
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint64_t c = send_capacity_[p];
    std::memcpy(mine.data() + p * sizeof c, &c, sizeof c);
  }
  std::vector<std::string> all = collectives.allgather(mine);
  std::vector<std::vector<std::uint64_t>> cap(n, std::vector<std::uint64_t>(n));
  for (std::size_t s = 0; s < n; ++s) {
    if (all[s].size() != mine.size())
      fail("mailboxes: rank ", s, " sent a malformed capacity list");
    std::memcpy(cap[s].data(), all[s].data(), mine.size());
  }
  auto slot_offset = [&](std::size_t receiver, std::size_t source) {
    std::uint64_t offset = 0;
    for (std::size_t s = 0; s < source; ++s) offset += 2 * slot_bytes(cap[s][receiver]);
    return offset;
  };
  receive_capacity_.resize(n);
  remote_offset_.resize(n);
  local_offset_.resize(n);
  outbox_.resize(n);
  std::uint64_t window_bytes = 0;
  for (std::size_t p = 0; p < n; ++p) {
    receive_capacity_[p] = cap[p][static_cast<std::size_t>(me)];
    remote_offset_[p] = slot_offset(p, static_cast<std::size_t>(me));
    local_offset_[p] = slot_offset(static_cast<std::size_t>(me), p);
    window_bytes += 2 * slot_bytes(receive_capacity_[p]);
    outbox_[p].assign(send_capacity_[p] == 0 ? kHeader : slot_bytes(send_capacity_[p]),
                      std::byte{0});
  }
  window_ = transport.allocate_window(window_bytes);
}

Mailboxes::~Mailboxes() {
  if (transport_.failed() || std::uncaught_exceptions() > 0) return;
  try {
    transport_.free_window(window_);
  } catch (const std::exception& e) {
    log_info(str_cat("mailboxes: freeing window ", window_.index, ": ", e.what()));
  }
}

std::uint64_t Mailboxes::remote_data_offset(std::size_t peer, std::uint64_t round) const {
  return remote_offset_[peer] + (round % 2) * slot_bytes(send_capacity_[peer]) + kHeader;
}

void Mailboxes::put_early(int peer, std::size_t offset, std::size_t length) {
  const auto p = static_cast<std::size_t>(peer);
  if (p >= send_capacity_.size() || offset > send_capacity_[p] ||
      length > send_capacity_[p] - offset) {
    fail("mailboxes: an early put of ", length, " bytes at ", offset, " for rank ", peer,
         " overruns its outbox");
  }
  if (length == 0) return;
  // The coming round's slot: its reader finished with it before the last barrier.
  transport_.put(peer, window_, remote_data_offset(p, round_ + 1) + offset,
                 std::span<const std::byte>(outbox_[p]).subspan(kHeader + offset, length));
  early_bytes_.fetch_add(length, std::memory_order_relaxed);
}

void Mailboxes::deliver(std::span<const std::size_t> bytes, std::span<const SentRange> sent) {
  const int ranks = transport_.size();
  if (bytes.size() != static_cast<std::size_t>(ranks) ||
      (!sent.empty() && sent.size() != bytes.size())) {
    fail("mailboxes: ", bytes.size(), " batch sizes and ", sent.size(), " sent ranges for ", ranks,
         " ranks");
  }
  for (int p = 0; p < ranks; ++p) {  // all checked before anything is sent
    const auto pi = static_cast<std::size_t>(p);
    if (bytes[pi] > send_capacity_[pi]) {
      fail("mailboxes: a batch of ", bytes[pi], " bytes for rank ", p, " exceeds its capacity of ",
           send_capacity_[pi], " bytes");
    }
    if (!sent.empty() && (sent[pi].begin > sent[pi].end || sent[pi].end > bytes[pi])) {
      fail("mailboxes: the early part [", sent[pi].begin, ", ", sent[pi].end, ") for rank ", p,
           " is not inside its batch of ", bytes[pi], " bytes");
    }
  }
  ++round_;
  last_bytes_sent_ = early_bytes_.exchange(0, std::memory_order_relaxed);
  for (int p = 0; p < ranks; ++p) {
    const auto pi = static_cast<std::size_t>(p);
    if (send_capacity_[pi] == 0) continue;
    const Header header{round_, bytes[pi]};
    std::memcpy(outbox_[pi].data(), &header, sizeof header);
    const std::uint64_t offset = remote_data_offset(pi, round_) - kHeader;
    const SentRange skip =
        sent.empty() || sent[pi].begin == sent[pi].end ? SentRange{bytes[pi], bytes[pi]} : sent[pi];
    const std::span<const std::byte> box(outbox_[pi]);
    transport_.put(p, window_, offset, box.first(kHeader + skip.begin));
    if (skip.end < bytes[pi]) {
      transport_.put(p, window_, offset + kHeader + skip.end,
                     box.subspan(kHeader + skip.end, bytes[pi] - skip.end));
    }
    last_bytes_sent_ += kHeader + bytes[pi] - (skip.end - skip.begin);
  }
  transport_.flush_all();
  collectives_.barrier();
}

std::span<const std::byte> Mailboxes::inbox(int source) const {
  const auto s = static_cast<std::size_t>(source);
  if (s >= receive_capacity_.size()) fail("mailboxes: no rank ", source);
  if (receive_capacity_[s] == 0 || round_ == 0) return {};
  const std::span<std::byte> window = transport_.local_window(window_);
  const std::byte* slot =
      window.data() + local_offset_[s] + (round_ % 2) * slot_bytes(receive_capacity_[s]);
  Header header;
  std::memcpy(&header, slot, sizeof header);
  if (header.round != round_ || header.length > receive_capacity_[s]) {
    fail("rank ", source, "'s batch for round ", round_, " is stale or corrupt (round ",
         header.round, ", ", header.length, " bytes for a capacity of ", receive_capacity_[s], ")");
  }
  return {slot + kHeader, static_cast<std::size_t>(header.length)};
}

}  // namespace atl
