// Rings: a one-way record channel for every ordered pair of ranks, written with one-sided
// puts into a receive ring at the target. Records are appended to a batch and a whole batch
// travels as one put; the receiver polls its rings for complete batches; credits (bytes
// consumed) flow back as a put into the sender's credit word. A full ring applies
// back-pressure: append() waits for credit (while draining this rank's own incoming rings, so
// two ranks sending to each other never deadlock). For streams between pairs of ranks that
// one thread writes; several writing threads use a Channel (channel.hpp).
//
// Threads: one thread at a time uses a RingChannel (the caller serializes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "atoll/transport/transport.hpp"

namespace atl {

struct RingOptions {
  std::size_t ring_bytes = std::size_t{1} << 20;    ///< receive ring per source (multiple of 8)
  std::size_t batch_bytes = std::size_t{64} << 10;  ///< a batch is posted when it reaches this
};

class RingChannel {
 public:
  /// Adds this channel's window (the rings) and credit handler. Before transport.start(), or
  /// after it collectively (every rank creates the same rings in the same order).
  RingChannel(Transport& transport, const RingOptions& options = {});
  /// A ring created after start() is freed collectively (window and handler; skipped after a
  /// peer failure or while an exception unwinds); one created before lives as long as the
  /// transport. Records not polled by then are dropped.
  ~RingChannel();
  RingChannel(const RingChannel&) = delete;
  RingChannel& operator=(const RingChannel&) = delete;

  /// Largest record append() accepts.
  std::size_t max_record() const;

  /// Appends a record (copied) to the batch for peer; posts the batch when it is full. Waits
  /// while peer's ring has no room (back-pressure). peer may be this rank.
  void append(int peer, std::span<const std::byte> record);
  /// Posts peer's open batch (records become visible to peer without a transport flush).
  void post(int peer);
  void post_all();

  /// Calls on_record(source, bytes) for every complete record that has arrived, in order per
  /// source; returns how many. `bytes` is valid only during the call.
  using RecordHandler = std::function<void(int source, std::span<const std::byte> bytes)>;
  std::size_t poll(const RecordHandler& on_record);

  /// Bytes appended to peer so far (counting framing), and records received from source.
  std::uint64_t bytes_sent(int peer) const;
  std::uint64_t records_received(int source) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atl
