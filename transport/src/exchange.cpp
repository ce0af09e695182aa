// All-to-all. A call takes the next sequence number (all ranks call in the same order) and
// starts with a size message to every peer: (sequence, bytes for that peer, the sender's
// largest buffer). From the largest buffer anywhere, every rank takes the same path:
//  - small (below kBulkBytes): chunks on active messages, (sequence, total, offset) each; the
//    receiver copies them into a buffer of the announced size;
//  - bulk: every rank allocates a window for what it receives (collective), tells each source
//    its offset there, and each source writes its whole buffer with one put, flushes and says
//    done; the receiver copies its slices out and the window is freed (collective). After
//    keep_bulk_window() the window is kept: each call every rank tells the others whether it
//    holds what this rank receives, and only if one does not is it replaced (collectively). A
//    source puts into it only after the receiver's offset message of the call, which the
//    receiver sends after it copied out the previous call's data.
// Everything read from the network (sizes, offsets, chunk ranges) is checked before use.
#include "atoll/transport/exchange.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "atoll/common/error.hpp"
#include "wire.hpp"

namespace atl {
namespace {

/// Chunks posted to one peer between flushes (bounds what a sender queues).
constexpr std::size_t kChunksPerFlush = 16;
/// A sender may announce at most this many bytes for one call (sanity bound on the wire).
constexpr std::uint64_t kMaxBufferBytes = std::uint64_t{1} << 40;
/// From this buffer size on (anywhere in the job) a call moves its data by one-sided puts.
constexpr std::uint64_t kBulkBytes = std::uint64_t{1} << 20;

enum : std::uint8_t { kSize = 1, kChunk = 2, kOffset = 3, kDone = 4, kFits = 5 };

/// What one source has told this rank about one call.
struct Incoming {
  bool sized = false;
  std::uint64_t total = 0;      ///< bytes it sends this rank
  std::uint64_t largest = 0;    ///< its largest buffer (to any rank)
  std::vector<std::byte> data;  ///< small path: the chunks so far
  std::uint64_t received = 0;
  bool has_offset = false;  ///< bulk path: where this rank writes in the source's window
  std::uint64_t offset = 0;
  bool done = false;         ///< bulk path: its put into our window has landed
  std::optional<bool> fits;  ///< kept window: whether the source's holds what it receives
};

}  // namespace

struct Exchange::State {
  Transport& transport;
  HandlerId handler = 0;
  std::atomic<std::uint64_t> next_seq{1};  // read by the handler on the progress thread
  std::map<std::pair<std::uint64_t, int>, Incoming> inbox;  // (sequence, source)
  bool keep = false;                                        ///< keep_bulk_window() in force
  std::optional<WindowId> kept;                             ///< the kept window
  std::uint64_t kept_bytes = 0;                             ///< its size

  explicit State(Transport& t) : transport(t) {}

  void receive(int source, std::span<const std::byte> bytes) {
    detail::WireReader in(bytes, str_cat("exchange message from rank ", source));
    const std::uint8_t kind = in.u8();
    const std::uint64_t seq = in.u64();
    if (seq + 1 < next_seq.load(std::memory_order_relaxed))
      fail("rank ", source, " sent an exchange message for finished call ", seq);
    Incoming& slot = inbox[{seq, source}];
    switch (kind) {
      case kSize: {
        const std::uint64_t total = in.u64();
        const std::uint64_t largest = in.u64();
        in.expect_end();
        if (slot.sized) fail("rank ", source, " sized exchange ", seq, " twice");
        if (total > kMaxBufferBytes || largest > kMaxBufferBytes || total > largest) {
          fail("rank ", source, " announced an exchange of ", total, " bytes (largest ", largest,
               ")");
        }
        slot.sized = true;
        slot.total = total;
        slot.largest = largest;
        return;
      }
      case kChunk: {
        const std::uint64_t offset = in.u64();
        std::string_view payload = in.take(in.remaining());
        if (!slot.sized) fail("rank ", source, " sent exchange bytes before their size");
        if (slot.data.size() != slot.total) slot.data.resize(slot.total);
        if (offset > slot.total || payload.size() > slot.total - offset ||
            payload.size() > slot.total - slot.received) {
          fail("rank ", source, " sent exchange bytes [", offset, ", ", offset + payload.size(),
               ") outside its buffer of ", slot.total);
        }
        if (!payload.empty())
          std::memcpy(slot.data.data() + offset, payload.data(), payload.size());
        slot.received += payload.size();
        return;
      }
      case kOffset:
        slot.offset = in.u64();
        in.expect_end();
        if (slot.has_offset) fail("rank ", source, " sent two offsets for exchange ", seq);
        slot.has_offset = true;
        return;
      case kDone:
        in.expect_end();
        slot.done = true;
        return;
      case kFits: {
        const std::uint64_t fits = in.u64();
        in.expect_end();
        if (slot.fits || fits > 1) fail("rank ", source, " sent a bad window answer for ", seq);
        slot.fits = fits == 1;
        return;
      }
      default:
        fail("rank ", source, " sent an exchange message of kind ", kind);
    }
  }

  void post(int peer, std::uint8_t kind, std::uint64_t seq,
            std::initializer_list<std::uint64_t> values, std::span<const std::byte> payload = {}) {
    detail::WireWriter w;
    w.u8(kind);
    w.u64(seq);
    for (std::uint64_t v : values) w.u64(v);
    w.bytes(payload);
    const std::string& bytes = w.str();
    transport.send(peer, handler, std::as_bytes(std::span(bytes.data(), bytes.size())));
  }

  /// Waits until every peer's slot of call seq satisfies ready(slot), then calls
  /// take(peer, slot) for each (with the transport's lock held: handlers fill the inbox).
  template <typename Ready, typename Take>
  void wait_all(std::uint64_t seq, Ready ready, Take take) {
    const int n = transport.size();
    const int me = transport.rank();
    transport.wait_for([&] {
      for (int r = 0; r < n; ++r) {
        if (r == me) continue;
        auto it = inbox.find({seq, r});
        if (it == inbox.end() || !ready(it->second)) return false;
      }
      for (int r = 0; r < n; ++r) {
        if (r != me) take(r, inbox.find({seq, r})->second);
      }
      return true;
    });
  }

  void send_chunks(std::uint64_t seq, const std::vector<std::vector<std::byte>>& outgoing) {
    const int n = transport.size();
    const int me = transport.rank();
    // Peers in a rotated order (me+1, me+2, ...) so that not everyone sends to rank 0 first;
    // chunks round-robin over peers, with a flush per peer every kChunksPerFlush chunks.
    std::vector<std::size_t> sent(static_cast<std::size_t>(n), 0);
    std::vector<std::size_t> since_flush(static_cast<std::size_t>(n), 0);
    for (bool more = true; more;) {
      more = false;
      for (int k = 1; k < n; ++k) {
        const int peer = (me + k) % n;
        const std::vector<std::byte>& buf = outgoing[peer];
        if (sent[peer] >= buf.size()) continue;
        const std::size_t len = std::min(kChunkBytes, buf.size() - sent[peer]);
        post(peer, kChunk, seq, {sent[peer]}, std::span(buf).subspan(sent[peer], len));
        sent[peer] += len;
        if (++since_flush[peer] == kChunksPerFlush) {
          transport.flush(peer);
          since_flush[peer] = 0;
        }
        more = more || sent[peer] < buf.size();
      }
    }
  }

  /// sizes[r]: what rank r sends this rank (from its size message).
  void put_bulk(std::uint64_t seq, const std::vector<std::vector<std::byte>>& outgoing,
                const std::vector<std::uint64_t>& sizes,
                std::vector<std::vector<std::byte>>& incoming) {
    const int n = transport.size();
    const int me = transport.rank();
    std::vector<std::uint64_t> offset(static_cast<std::size_t>(n), 0);
    std::uint64_t window_bytes = 0;
    for (int r = 0; r < n; ++r) {
      if (r == me) continue;
      offset[r] = window_bytes;
      window_bytes += sizes[r];
    }
    const WindowId window = bulk_window(seq, window_bytes);  // collective
    for (int k = 1; k < n; ++k) {
      const int peer = (me + k) % n;
      post(peer, kOffset, seq, {offset[peer]});
    }
    std::vector<std::uint64_t> at_peer(static_cast<std::size_t>(n), 0);
    wait_all(
        seq, [](const Incoming& slot) { return slot.has_offset; },
        [&](int peer, const Incoming& slot) { at_peer[peer] = slot.offset; });
    for (int k = 1; k < n; ++k) {
      const int peer = (me + k) % n;
      if (!outgoing[peer].empty()) {  // bounds are checked by put against the peer's window
        transport.put(peer, window, at_peer[peer], outgoing[peer]);
      }
    }
    for (int k = 1; k < n; ++k) {
      const int peer = (me + k) % n;
      transport.flush(peer);
      post(peer, kDone, seq, {});
    }
    wait_all(
        seq, [](const Incoming& slot) { return slot.done; }, [](int, const Incoming&) {});
    const std::span<std::byte> mine = transport.local_window(window);
    for (int r = 0; r < n; ++r) {
      if (r == me) continue;
      const auto at = static_cast<std::ptrdiff_t>(offset[r]);
      incoming[r].assign(mine.begin() + at,
                         mine.begin() + at + static_cast<std::ptrdiff_t>(sizes[r]));
    }
    if (!keep) transport.free_window(window);  // collective: every source has flushed into it
  }

  /// The window of a bulk call receiving `bytes` (collective): a new one, or the kept one
  /// when every rank's holds what it receives.
  WindowId bulk_window(std::uint64_t seq, std::uint64_t bytes) {
    if (!keep) return transport.allocate_window(bytes);
    const int n = transport.size();
    const int me = transport.rank();
    bool all_fit = kept.has_value() && kept_bytes >= bytes;
    for (int k = 1; k < n; ++k) post((me + k) % n, kFits, seq, {all_fit ? 1u : 0u});
    wait_all(
        seq, [](const Incoming& slot) { return slot.fits.has_value(); },
        [&](int, const Incoming& slot) { all_fit = all_fit && *slot.fits; });
    if (!all_fit) {
      // Grown with slack (a quarter, at least half the old size, whole MiB): sizes that keep
      // creeping up would otherwise regrow it, collectively, nearly every call.
      if (const std::optional<WindowId> old = std::exchange(kept, std::nullopt)) {
        transport.free_window(*old);
      }
      constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
      const std::uint64_t want = std::max({bytes, bytes + bytes / 4, kept_bytes + kept_bytes / 2});
      kept_bytes = (want + kMiB - 1) / kMiB * kMiB;
      kept = transport.allocate_window(kept_bytes);
    }
    return *kept;
  }
};

Exchange::Exchange(Transport& transport) : state_(std::make_unique<State>(transport)) {
  State* s = state_.get();
  s->handler = transport.add_system_handler(
      [s](int source, std::span<const std::byte> bytes) { s->receive(source, bytes); });
}

Exchange::~Exchange() = default;

void Exchange::keep_bulk_window() {
  if (state_->keep) fail("Exchange::keep_bulk_window: a window is kept already");
  state_->keep = true;
}

void Exchange::free_bulk_window() {
  State& s = *state_;
  s.keep = false;
  s.kept_bytes = 0;
  // Reset before the collective free: if it throws (a peer failed), no freed id stays kept.
  if (const std::optional<WindowId> kept = std::exchange(s.kept, std::nullopt)) {
    s.transport.free_window(*kept);
  }
}

void Exchange::forget_bulk_window() {
  State& s = *state_;
  s.keep = false;
  s.kept.reset();
  s.kept_bytes = 0;
}

std::vector<std::vector<std::byte>> Exchange::all_to_all(
    std::vector<std::vector<std::byte>> outgoing) {
  State& s = *state_;
  const int n = s.transport.size();
  const int me = s.transport.rank();
  if (outgoing.size() != static_cast<std::size_t>(n)) {
    fail("all_to_all: ", outgoing.size(), " buffers for ", n, " ranks");
  }
  const std::uint64_t seq = s.next_seq.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::vector<std::byte>> incoming(static_cast<std::size_t>(n));
  incoming[me] = std::move(outgoing[me]);
  std::uint64_t largest = 0;
  for (int r = 0; r < n; ++r) {
    if (r != me) largest = std::max<std::uint64_t>(largest, outgoing[r].size());
  }
  for (int k = 1; k < n; ++k) {
    const int peer = (me + k) % n;
    s.post(peer, kSize, seq, {outgoing[peer].size(), largest});
  }
  std::vector<std::uint64_t> sizes(static_cast<std::size_t>(n), 0);
  s.wait_all(
      seq, [](const Incoming& slot) { return slot.sized; },
      [&](int r, const Incoming& slot) {
        sizes[r] = slot.total;
        largest = std::max(largest, slot.largest);
      });
  if (largest >= kBulkBytes) {  // every rank sees the same largest buffer: the same path
    s.put_bulk(seq, outgoing, sizes, incoming);
  } else {
    s.send_chunks(seq, outgoing);
    s.wait_all(
        seq, [](const Incoming& slot) { return slot.received == slot.total; },
        [&](int r, Incoming& slot) {
          incoming[r] = std::move(slot.data);
          incoming[r].resize(slot.total);  // an empty buffer got no chunk
        });
  }
  s.transport.wait_for([&] {  // inbox is guarded by the transport's lock
    for (int r = 0; r < n; ++r) s.inbox.erase({seq, r});
    return true;
  });
  // Later calls reuse nothing of this one; free what we sent before returning.
  for (int r = 0; r < n; ++r) {
    if (r != me) std::vector<std::byte>().swap(outgoing[r]);
  }
  return incoming;
}

}  // namespace atl
