// Termination detection for asynchronous engines: Safra's token algorithm over message
// counters. A rank is passive when it has no work (scheduler and pipeline empty, every batch
// it made taken and counted as sent); the run has ended when every rank is passive and no
// counted message is in flight. A token travels the ring 0 -> 1 -> ... -> 0 collecting the
// ranks' (sent - received) counts and whether any received a message since the token last
// passed (then it is "black"); rank 0 declares the end on a white round that sums to zero
// and tells the others with a second trip of the token. docs/locking.md has the argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

namespace atl {

class TerminationDetector {
 public:
  /// Sends token bytes to rank `to` (any thread, outside the detector's mutex; the engine
  /// delivers them with receive_token, in order). `ended` is called once, when this rank
  /// learns that the run has ended.
  using SendToken = std::function<void(int to, std::span<const std::byte> token)>;
  TerminationDetector(int rank, int ranks, SendToken send, std::function<void()> ended);

  /// Counted messages handed to the network (call before the receiver can see them).
  void sent(std::uint64_t n = 1);
  /// Counted messages delivered here (call before acting on them, while still active).
  void received(std::uint64_t n = 1);
  /// The rank has (no) work; passes a waiting token on when it becomes passive. A rank starts
  /// active; it may become active again only by receiving a message.
  void set_passive(bool passive);
  /// A token from `source` (validated: the ring predecessor, a well-formed token).
  void receive_token(int source, std::span<const std::byte> token);
  bool ended() const;
  /// Token rounds rank 0 has started (for metrics).
  std::uint64_t rounds() const;

 private:
  struct Out {
    int to = -1;
    std::vector<std::byte> bytes;
  };
  /// Forwards or evaluates a token held while passive; returns what to send.
  Out pass_token();
  void flush(Out out, bool ended_now);

  const int rank_;
  const int ranks_;
  SendToken send_;
  std::function<void()> ended_hook_;
  mutable std::mutex mutex_;
  std::int64_t count_ = 0;  ///< messages sent - received here
  bool black_ = false;      ///< received a message since the token last left
  bool passive_ = false;
  bool has_token_ = false;
  bool token_black_ = false;
  std::int64_t token_count_ = 0;
  std::uint64_t round_ = 0;
  bool ended_ = false;
};

}  // namespace atl
