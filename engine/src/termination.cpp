// Safra's algorithm. Each rank counts messages sent minus received and turns black when it
// receives one. Rank 0 starts a round by sending a white token with count 0 to rank 1; a
// passive rank holding the token adds its count, blackens the token if it is black itself,
// turns white and passes it on. When the token is back at a passive rank 0, the run has ended
// iff the token and rank 0 are white and the counts (the token's plus rank 0's) sum to zero:
// a white round means no rank received anything since the token passed it, so every rank was
// passive when visited and stayed passive (only a receipt makes a rank active), and a zero sum
// means every message sent has been received. Otherwise rank 0 starts another round.
#include "atoll/engine/termination.hpp"

#include <cstring>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

enum : std::uint8_t { kProbe = 1, kEnd = 2 };
constexpr std::size_t kTokenBytes = 1 + 8 + 8 + 1;

std::vector<std::byte> encode(std::uint8_t kind, std::uint64_t round, std::int64_t count,
                              bool black) {
  std::vector<std::byte> b(kTokenBytes);
  b[0] = std::byte{kind};
  std::memcpy(b.data() + 1, &round, 8);
  std::memcpy(b.data() + 9, &count, 8);
  b[17] = std::byte{static_cast<std::uint8_t>(black)};
  return b;
}

}  // namespace

TerminationDetector::TerminationDetector(int rank, int ranks, SendToken send,
                                         std::function<void()> ended)
    : rank_(rank), ranks_(ranks), send_(std::move(send)), ended_hook_(std::move(ended)) {
  if (ranks < 1 || rank < 0 || rank >= ranks) fail("termination: rank ", rank, " of ", ranks);
  has_token_ = rank == 0;
}

void TerminationDetector::sent(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  count_ += static_cast<std::int64_t>(n);
}

void TerminationDetector::received(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  if (ended_) fail("termination: rank ", rank_, " received a message after the run ended");
  count_ -= static_cast<std::int64_t>(n);
  black_ = true;
}

void TerminationDetector::set_passive(bool passive) {
  Out out;
  bool ended_now = false;
  {
    std::lock_guard lock(mutex_);
    passive_ = passive;
    if (passive_ && has_token_ && !ended_) {
      out = pass_token();
      ended_now = ended_;
    }
  }
  flush(std::move(out), ended_now);
}

TerminationDetector::Out TerminationDetector::pass_token() {
  const int next = (rank_ + 1) % ranks_;
  if (rank_ != 0) {
    has_token_ = false;
    const bool black = token_black_ || black_;
    black_ = false;
    return {next, encode(kProbe, round_, token_count_ + count_, black)};
  }
  // Rank 0: evaluate the round that came back (none before the first), else start one; with
  // one rank the token returns at once.
  for (;;) {
    if (round_ > 0 && !token_black_ && !black_ && token_count_ + count_ == 0) {
      ended_ = true;
      has_token_ = false;
      if (ranks_ == 1) return {};
      return {next, encode(kEnd, round_, 0, false)};
    }
    ++round_;
    token_count_ = 0;
    token_black_ = false;
    black_ = false;
    if (ranks_ > 1) {
      has_token_ = false;
      return {next, encode(kProbe, round_, 0, false)};
    }
    if (count_ != 0) return {};  // one rank: messages to itself still undelivered
  }
}

void TerminationDetector::flush(Out out, bool ended_now) {
  if (out.to >= 0) send_(out.to, out.bytes);
  if (ended_now && ended_hook_) ended_hook_();
}

void TerminationDetector::receive_token(int source, std::span<const std::byte> token) {
  const int prev = (rank_ + ranks_ - 1) % ranks_;
  if (source != prev) {
    fail("termination: rank ", rank_, " got a token from rank ", source, ", not from rank ", prev);
  }
  if (token.size() != kTokenBytes) {
    fail("termination: rank ", source, " sent a token of ", token.size(), " bytes");
  }
  const auto kind = static_cast<std::uint8_t>(token[0]);
  const auto black = static_cast<std::uint8_t>(token[17]);
  std::uint64_t round;
  std::int64_t count;
  std::memcpy(&round, token.data() + 1, 8);
  std::memcpy(&count, token.data() + 9, 8);
  if ((kind != kProbe && kind != kEnd) || black > 1) {
    fail("termination: rank ", source, " sent a malformed token (kind ", int{kind}, ")");
  }
  Out out;
  bool ended_now = false;
  {
    std::lock_guard lock(mutex_);
    if (has_token_ || ended_) fail("termination: rank ", source, " sent a second token");
    if (kind == kEnd) {
      if (rank_ == 0) fail("termination: rank ", source, " sent the end token back to rank 0");
      ended_ = ended_now = true;
      if (rank_ + 1 < ranks_) out = {rank_ + 1, encode(kEnd, round, 0, false)};
    } else {
      if (rank_ == 0 && round != round_) {
        fail("termination: rank ", source, " returned token round ", round, ", expected ", round_);
      }
      has_token_ = true;
      round_ = round;
      token_count_ = count;
      token_black_ = black != 0;
      if (passive_) {
        out = pass_token();
        ended_now = ended_;
      }
    }
  }
  flush(std::move(out), ended_now);
}

bool TerminationDetector::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

std::uint64_t TerminationDetector::rounds() const {
  std::lock_guard lock(mutex_);
  return round_;
}

}  // namespace atl
