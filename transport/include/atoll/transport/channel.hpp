// Channels: records (small messages) batched per peer, opened collectively after start(), fed
// by several threads at once. Each writing thread owns a Writer with one outbox per peer;
// append() adds to it and sends the outbox as one message once it holds batch_bytes; flush()
// merges every writer's outbox for a peer into one message. Receivers get the records one by
// one. For lock requests and grants, Pregel messages, anything batched per peer.
//
// Order: records of one Writer to one peer arrive in the order appended; records of different
// writers are not ordered. A record is sent at the latest by the next flush_all() (or
// flush_if_due() after max_delay) that starts after append() returned.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "atoll/transport/transport.hpp"

namespace atl {

struct ChannelOptions {
  std::size_t batch_bytes = std::size_t{32} << 10;  ///< an outbox is sent once it holds this
  std::chrono::microseconds max_delay{200};         ///< flush_if_due() flushes after this
};

class Channel {
 public:
  /// Runs for every record that arrives (on the progress thread or a thread in wait_for, one
  /// record at a time); `record` is valid only during the call. It may append to a Writer
  /// of its own (never flush, never wait).
  using RecordHandler = std::function<void(int source, std::span<const std::byte> record)>;

  /// After transport.start(), collective: every rank opens its channels in the same order
  /// (Transport::open_handler); records that arrive before this rank opened it are kept.
  Channel(Transport& transport, RecordHandler on_record, const ChannelOptions& options = {});
  /// Collective: flushes every writer, then closes the handler (Transport::close_handler);
  /// skipped after a peer failure or while an exception unwinds.
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// One thread's outboxes (one per peer). A Writer is used by one thread at a time.
  class Writer {
   public:
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    /// Adds a record (copied) for peer (may be this rank); sends the outbox once it holds
    /// batch_bytes (unless another thread is sending for this channel: then the next flush).
    void append(int peer, std::span<const std::byte> record);

    struct State;  ///< internal (channel.cpp)
    explicit Writer(std::unique_ptr<State> state);

   private:
    friend class Channel;
    std::unique_ptr<State> state_;
  };
  /// A new Writer owned by the channel (valid until it is destroyed). Thread-safe.
  Writer& add_writer();

  /// Sends, for every peer, what every writer holds for it as one message. Any thread, not
  /// from a handler.
  void flush_all();
  /// flush_all() if the last one is at least max_delay old; cheap otherwise (a clock read).
  void flush_if_due();

  /// The transport handler id (the same on every rank).
  HandlerId id() const;
  /// Records appended (all writers), and records delivered to on_record, so far.
  std::uint64_t records_sent() const;
  std::uint64_t records_received() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atl
