// Ring layout, per (sender, receiver): the receiver's window `rings` holds one ring of C bytes
// per source; the sender keeps a local mirror of that ring and writes records into the mirror
// at the same offsets, then puts the range. A batch in the ring is
//
//   u64 header = (body_bytes << 32) | seq      seq counts batches, 1, 2, ... (never 0)
//   body: records, each u32 length + payload, padded to 8 bytes
//
// The sender puts the body, fences, then puts the header as one aligned 8-byte word, so a
// receiver that sees the expected seq in the header (acquire) sees the whole body, and it
// never reads bytes that may still be in flight. A batch that would cross the end of the
// ring is replaced by a wrap word (0xffffffff << 32 | seq) and starts at offset 0. Positions
// are monotonic byte counts (offset = position % C). The sender may write only while
// head + needed - credit <= C, where credit is the receiver's consumed count, which it sends
// back after consuming a quarter ring. Bytes in the mirror are overwritten only after the
// receiver consumed them, so every put's source stays valid until it completed.
//
// Credits travel as an 8-byte active message, not a put: a put's source must stay unchanged
// until a flush, but the consumed count changes all the time, and flushing on the poll path
// would cost a round trip; a message copies its bytes and costs the same on the wire.
//
// Stale bytes: batch boundaries differ from lap to lap, so old payload at the read position
// could look like a header with the expected seq. The receiver therefore zeroes everything it
// consumes before returning the credit: at the read position there is only zero or this lap's
// header, and a header that matches is a real one.
#include "atoll/transport/ring.hpp"

#include <atomic>
#include <cstring>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"

namespace atl {
namespace {

constexpr std::uint64_t kWrapLength = 0xffffffffu;

std::size_t pad8(std::size_t n) {
  return (n + 7) & ~std::size_t{7};
}

std::uint64_t load_acquire(const std::byte* p) {
  return std::atomic_ref<const std::uint64_t>(*reinterpret_cast<const std::uint64_t*>(p))
      .load(std::memory_order_acquire);
}

}  // namespace

struct RingChannel::State {
  Transport& transport;
  RingOptions options;
  int n = 1;
  int me = 0;
  std::size_t capacity = 0;

  // Receive side: rings[source] lives at window `rings_window` offset source * capacity, in
  // memory the transport allocated and owns (page-aligned; peers' puts may be plain stores).
  WindowId rings_window;
  std::byte* rings_base = nullptr;
  struct Receiver {
    std::uint64_t consumed = 0;  // bytes consumed (monotonic)
    std::uint64_t credited = 0;  // last consumed count sent back
    std::uint32_t expected = 1;  // next batch seq
    std::uint64_t records = 0;
  };
  std::vector<Receiver> receivers;

  // Send side: credits[peer] = bytes peer consumed from our batches (set by its messages).
  std::vector<std::atomic<std::uint64_t>> credits;
  HandlerId credit_handler = 0;
  bool opened_after_start = false;  // then freed collectively by the destructor
  struct Sender {
    std::vector<std::uint64_t> mirror;  // capacity bytes
    std::uint64_t head = 0;             // bytes written (monotonic)
    std::uint64_t batch_start = 0;      // position of the open batch's header
    std::size_t batch_body = 0;         // bytes of records in the open batch (0: none open)
    bool open = false;
    std::uint32_t seq = 1;
    std::uint64_t sent = 0;
  };
  std::vector<Sender> senders;

  // Records drained while waiting for credit, delivered by the next poll().
  std::deque<std::pair<int, std::string>> spill;

  State(Transport& t, const RingOptions& o) : transport(t), options(o) {}

  std::byte* ring(int source) { return rings_base + static_cast<std::size_t>(source) * capacity; }
  std::byte* mirror(int peer) { return reinterpret_cast<std::byte*>(senders[peer].mirror.data()); }
  std::uint64_t credit(int peer) { return credits[peer].load(std::memory_order_acquire); }
  std::size_t offset(std::uint64_t position) const { return position % capacity; }
  std::uint32_t next_seq(std::uint32_t seq) const { return seq == 0xffffffffu ? 1 : seq + 1; }

  /// Waits until `bytes` more can be written to peer's ring, draining our own rings meanwhile.
  void reserve(int peer, std::size_t bytes) {
    Sender& s = senders[peer];
    if (s.head + bytes - credit(peer) <= capacity) return;
    transport.wait_for([&] {
      drain_to_spill();
      return s.head + bytes - credit(peer) <= capacity;
    });
  }

  void drain_to_spill() {
    poll_rings([&](int source, std::span<const std::byte> bytes) {
      spill.emplace_back(source,
                         std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    });
  }

  /// Opens a batch at the head, wrapping first when `body` would not fit before the end.
  void open_batch(int peer, std::size_t body) {
    Sender& s = senders[peer];
    std::size_t needed = 8 + body;
    std::size_t room = capacity - offset(s.head);
    if (needed > room) {
      reserve(peer, room);  // the wrap word and the skipped tail
      std::uint64_t wrap = (kWrapLength << 32) | s.seq;
      std::memcpy(mirror(peer) + offset(s.head), &wrap, 8);
      transport.put(peer, rings_window, ring_offset(peer, s.head),
                    std::span(mirror(peer) + offset(s.head), 8));
      s.seq = next_seq(s.seq);
      s.head += room;
    }
    reserve(peer, needed);
    s.open = true;
    s.batch_start = s.head;
    s.batch_body = 0;
    s.head += 8;  // the header, written when the batch is posted
  }

  /// Offset of position `pos` of our ring at peer (peer's rings window holds one per source).
  std::uint64_t ring_offset(int, std::uint64_t pos) const {
    return static_cast<std::uint64_t>(me) * capacity + offset(pos);
  }

  void post(int peer) {
    Sender& s = senders[peer];
    if (!s.open) return;
    std::uint64_t header = (static_cast<std::uint64_t>(s.batch_body) << 32) | s.seq;
    std::byte* base = mirror(peer);
    std::size_t start = offset(s.batch_start);
    std::memcpy(base + start, &header, 8);
    if (s.batch_body > 0) {
      transport.put(peer, rings_window, ring_offset(peer, s.batch_start) + 8,
                    std::span(base + start + 8, s.batch_body));
      transport.fence(peer);  // the body lands before the header that announces it
    }
    transport.put(peer, rings_window, ring_offset(peer, s.batch_start), std::span(base + start, 8));
    s.sent += 8 + s.batch_body;
    s.seq = next_seq(s.seq);
    s.open = false;
  }

  /// Reads every complete batch of every ring; returns records delivered.
  std::size_t poll_rings(const RecordHandler& on_record) {
    std::size_t delivered = 0;
    for (int source = 0; source < n; ++source) {
      Receiver& r = receivers[source];
      std::byte* base = ring(source);
      while (true) {
        std::size_t off = offset(r.consumed);
        std::uint64_t header = load_acquire(base + off);
        if (static_cast<std::uint32_t>(header) != r.expected) break;
        std::uint64_t length = header >> 32;
        if (length == kWrapLength) {
          std::memset(base + off, 0, 8);
          r.consumed += capacity - off;
          r.expected = next_seq(r.expected);
          continue;
        }
        if (length % 8 != 0 || length + 8 > capacity - off) {
          fail("ring from rank ", source, ": corrupt batch header (", length, " bytes at offset ",
               off, ")");
        }
        const std::byte* body = base + off + 8;
        for (std::size_t pos = 0; pos < length;) {
          std::uint32_t size;
          std::memcpy(&size, body + pos, 4);
          if (size > length - pos - 4) {
            fail("ring from rank ", source, ": record of ", size, " bytes overruns its batch");
          }
          on_record(source, std::span(body + pos + 4, size));
          ++delivered;
          ++r.records;
          pos += pad8(4 + size);
        }
        std::memset(base + off, 0, 8 + length);  // see "Stale bytes" above
        r.consumed += 8 + length;
        r.expected = next_seq(r.expected);
      }
      if (r.consumed - r.credited >= capacity / 4) return_credit(source);
    }
    return delivered;
  }

  void return_credit(int source) {
    Receiver& r = receivers[source];
    r.credited = r.consumed;
    transport.send(source, credit_handler, std::as_bytes(std::span(&r.consumed, 1)));
  }
};

RingChannel::RingChannel(Transport& transport, const RingOptions& options)
    : state_(std::make_unique<State>(transport, options)) {
  State& s = *state_;
  if (options.ring_bytes < 4096 || options.ring_bytes % 8 != 0) {
    usage_fail("ring size must be a multiple of 8 and at least 4096 bytes");
  }
  if (options.batch_bytes < 64 || options.batch_bytes > options.ring_bytes / 4) {
    usage_fail("ring batch size must be between 64 bytes and a quarter ring");
  }
  s.n = transport.size();
  s.me = transport.rank();
  s.capacity = options.ring_bytes;
  s.rings_window = transport.allocate_window(s.capacity * static_cast<std::size_t>(s.n));
  s.rings_base = transport.local_window(s.rings_window).data();
  s.credits = std::vector<std::atomic<std::uint64_t>>(static_cast<std::size_t>(s.n));
  State* state = &s;
  auto on_credit = [state](int source, std::span<const std::byte> bytes) {
    std::uint64_t consumed;
    if (bytes.size() != sizeof consumed)
      fail("ring credit from rank ", source, " of ", bytes.size(), " bytes");
    std::memcpy(&consumed, bytes.data(), sizeof consumed);
    std::uint64_t seen = state->credits[source].load(std::memory_order_relaxed);
    if (consumed < seen) {  // credits only grow
      fail("ring credit from rank ", source, " went back from ", seen, " to ", consumed);
    }
    state->credits[source].store(consumed, std::memory_order_release);
  };
  s.opened_after_start = transport.started();
  s.credit_handler = s.opened_after_start ? transport.open_handler(on_credit)
                                          : transport.add_system_handler(on_credit);
  s.receivers.resize(static_cast<std::size_t>(s.n));
  s.senders.resize(static_cast<std::size_t>(s.n));
  for (auto& sender : s.senders) sender.mirror.assign(s.capacity / 8, 0);
}

RingChannel::~RingChannel() {
  State& s = *state_;
  if (s.transport.failed() || std::uncaught_exceptions() > 0) {
    s.transport.abandon_handler(s.credit_handler);  // credits may still arrive
    return;
  }
  if (!s.opened_after_start) return;
  try {
    // Every rank's puts into the rings land first (free_window flushes and meets the peers),
    // then the credit handler closes (credits in flight are delivered before it does).
    s.transport.free_window(s.rings_window);
    s.transport.close_handler(s.credit_handler);
  } catch (const std::exception& e) {
    log_info(str_cat("ring channel: freeing: ", e.what()));
  }
}

std::size_t RingChannel::max_record() const {
  return state_->options.batch_bytes - 4;
}

void RingChannel::append(int peer, std::span<const std::byte> record) {
  State& s = *state_;
  if (peer < 0 || peer >= s.n) fail("ring append to rank ", peer, " outside 0..", s.n - 1);
  if (record.size() > max_record()) {
    fail("ring record of ", record.size(), " bytes exceeds the maximum ", max_record());
  }
  State::Sender& out = s.senders[peer];
  std::size_t framed = pad8(4 + record.size());
  if (out.open && out.batch_body + framed > s.options.batch_bytes) s.post(peer);
  if (!out.open) {
    // Room for a full batch, so later records join it without another reservation.
    s.open_batch(peer, s.options.batch_bytes);
  }
  std::byte* dst = s.mirror(peer) + s.offset(out.batch_start) + 8 + out.batch_body;
  auto size = static_cast<std::uint32_t>(record.size());
  std::memcpy(dst, &size, 4);
  if (!record.empty()) std::memcpy(dst + 4, record.data(), record.size());
  std::memset(dst + 4 + record.size(), 0, framed - 4 - record.size());
  out.batch_body += framed;
  out.head += framed;
}

void RingChannel::post(int peer) {
  state_->post(peer);
}

void RingChannel::post_all() {
  for (int peer = 0; peer < state_->n; ++peer) state_->post(peer);
}

std::size_t RingChannel::poll(const RecordHandler& on_record) {
  State& s = *state_;
  std::size_t delivered = 0;
  while (!s.spill.empty()) {
    auto [source, bytes] = std::move(s.spill.front());
    s.spill.pop_front();
    on_record(source, std::as_bytes(std::span(bytes.data(), bytes.size())));
    ++delivered;
  }
  return delivered + s.poll_rings(on_record);
}

std::uint64_t RingChannel::bytes_sent(int peer) const {
  return state_->senders.at(peer).sent;
}
std::uint64_t RingChannel::records_received(int source) const {
  return state_->receivers.at(source).records;
}

}  // namespace atl
