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

void Mailboxes::deliver(std::span<const std::size_t> bytes) {
  const int ranks = transport_.size();
  if (bytes.size() != static_cast<std::size_t>(ranks)) {
    fail("mailboxes: ", bytes.size(), " batch sizes for ", ranks, " ranks");
  }
  for (int p = 0; p < ranks; ++p) {  // all checked before anything is sent
    const auto pi = static_cast<std::size_t>(p);
    if (bytes[pi] > send_capacity_[pi]) {
      fail("mailboxes: a batch of ", bytes[pi], " bytes for rank ", p, " exceeds its capacity of ",
           send_capacity_[pi], " bytes");
    }
  }
  ++round_;
  last_bytes_sent_ = 0;
  for (int p = 0; p < ranks; ++p) {
    const auto pi = static_cast<std::size_t>(p);
    if (send_capacity_[pi] == 0) continue;
    const Header header{round_, bytes[pi]};
    std::memcpy(outbox_[pi].data(), &header, sizeof header);
    const std::uint64_t offset = remote_offset_[pi] + (round_ % 2) * slot_bytes(send_capacity_[pi]);
    const std::size_t length = kHeader + bytes[pi];
    transport_.put(p, window_, offset, std::span(outbox_[pi]).first(length));
    last_bytes_sent_ += length;
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
