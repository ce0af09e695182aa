// Channel (see channel.hpp). A batch is one transport message: records back to back, each a
// u32 length and its bytes. Locks: a Writer's spinlock guards its outboxes (held only to copy
// bytes in or out); `send_lock` serializes taking records out of outboxes and sending them, so
// records taken later are sent later (per-writer order). Sends never happen under a Writer's
// lock, and append() only tries `send_lock`: a handler that appends while the backend lock is
// held never waits for a flusher that waits for the backend lock.
#include "atoll/transport/channel.hpp"

#include <atomic>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/spin_lock.hpp"

namespace atl {

using Clock = std::chrono::steady_clock;

struct Channel::Writer::State {
  Channel::State* channel = nullptr;
  SpinLock lock;
  std::vector<std::vector<std::byte>> outbox;  // per peer
  std::vector<std::byte> sending;              // a full outbox on its way (send_lock)
};

struct Channel::State {
  Transport& transport;
  RecordHandler on_record;
  ChannelOptions options;
  HandlerId id = 0;
  std::mutex send_lock;
  std::mutex writers_mutex;  // guards `writers` (the list, not the outboxes)
  std::deque<std::unique_ptr<Writer>> writers;
  std::vector<std::byte> merged;  // send_lock
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<Clock::rep> last_flush{0};

  State(Transport& t, RecordHandler handler, const ChannelOptions& o)
      : transport(t), on_record(std::move(handler)), options(o) {}

  void receive(int source, std::span<const std::byte> batch) {
    std::size_t pos = 0;
    while (pos < batch.size()) {
      std::uint32_t length = 0;
      if (batch.size() - pos < sizeof length) {
        fail("channel ", id, ": batch from rank ", source, " ends inside a record header");
      }
      std::memcpy(&length, batch.data() + pos, sizeof length);
      pos += sizeof length;
      if (length > batch.size() - pos) {
        fail("channel ", id, ": record of ", length, " bytes from rank ", source,
             " overruns its batch (", batch.size() - pos, " bytes left)");
      }
      on_record(source, batch.subspan(pos, length));
      received.fetch_add(1, std::memory_order_relaxed);
      pos += length;
    }
  }

  void flush_all() {
    std::lock_guard send_guard(send_lock);
    std::lock_guard list_guard(writers_mutex);
    for (int peer = 0; peer < transport.size(); ++peer) {
      merged.clear();
      for (auto& writer : writers) {
        Writer::State& w = *writer->state_;
        std::lock_guard guard(w.lock);
        auto& box = w.outbox[static_cast<std::size_t>(peer)];
        merged.insert(merged.end(), box.begin(), box.end());
        box.clear();
      }
      if (!merged.empty()) transport.send(peer, id, merged);
    }
    last_flush.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
};

Channel::Writer::Writer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Channel::Writer::~Writer() = default;

void Channel::Writer::append(int peer, std::span<const std::byte> record) {
  State& w = *state_;
  Channel::State& c = *w.channel;
  if (peer < 0 || static_cast<std::size_t>(peer) >= w.outbox.size()) {
    fail("channel ", c.id, ": append to rank ", peer, " outside 0..", w.outbox.size() - 1);
  }
  if (record.size() > std::numeric_limits<std::uint32_t>::max()) {
    fail("channel ", c.id, ": record of ", record.size(), " bytes");
  }
  const auto length = static_cast<std::uint32_t>(record.size());
  bool full = false;
  {
    std::lock_guard guard(w.lock);
    auto& box = w.outbox[static_cast<std::size_t>(peer)];
    const std::size_t at = box.size();
    box.resize(at + sizeof length + record.size());
    std::memcpy(box.data() + at, &length, sizeof length);
    if (!record.empty()) std::memcpy(box.data() + at + sizeof length, record.data(), record.size());
    full = box.size() >= c.options.batch_bytes;
  }
  c.sent.fetch_add(1, std::memory_order_relaxed);
  if (!full) return;
  std::unique_lock send_guard(c.send_lock, std::try_to_lock);
  if (!send_guard.owns_lock()) return;  // a flush is under way; the next one takes these
  {
    std::lock_guard guard(w.lock);
    w.sending.swap(w.outbox[static_cast<std::size_t>(peer)]);
  }
  if (!w.sending.empty()) c.transport.send(peer, c.id, w.sending);
  w.sending.clear();
}

Channel::Channel(Transport& transport, RecordHandler on_record, const ChannelOptions& options)
    : state_(std::make_unique<State>(transport, std::move(on_record), options)) {
  if (options.batch_bytes == 0) usage_fail("channel batch size must be positive");
  State* s = state_.get();
  s->last_flush.store(Clock::now().time_since_epoch().count());
  // The id is stored before the handler is reachable: receive() names it in its errors.
  transport.open_handler([s](HandlerId id) -> MessageHandler {
    s->id = id;
    return [s](int source, std::span<const std::byte> batch) { s->receive(source, batch); };
  });
}

Channel::~Channel() {
  State& s = *state_;
  if (s.transport.failed() || std::uncaught_exceptions() > 0) {
    s.transport.abandon_handler(s.id);  // its records may still arrive: never to this state
    return;
  }
  try {
    s.flush_all();
    s.transport.close_handler(s.id);
  } catch (const std::exception& e) {
    log_info(str_cat("channel ", s.id, ": closing: ", e.what()));
  }
}

Channel::Writer& Channel::add_writer() {
  auto state = std::make_unique<Writer::State>();
  state->channel = state_.get();
  state->outbox.resize(static_cast<std::size_t>(state_->transport.size()));
  std::lock_guard guard(state_->writers_mutex);
  state_->writers.push_back(std::make_unique<Writer>(std::move(state)));
  return *state_->writers.back();
}

void Channel::flush_all() {
  state_->flush_all();
}

void Channel::flush_if_due() {
  State& s = *state_;
  const auto now = Clock::now().time_since_epoch();
  const Clock::duration last(s.last_flush.load(std::memory_order_relaxed));
  if (now - last >= s.options.max_delay) s.flush_all();
}

HandlerId Channel::id() const {
  return state_->id;
}
std::uint64_t Channel::records_sent() const {
  return state_->sent.load(std::memory_order_relaxed);
}
std::uint64_t Channel::records_received() const {
  return state_->received.load(std::memory_order_relaxed);
}

}  // namespace atl
