// All-to-all on active messages. A call takes the next sequence number (all ranks call in the
// same order); each chunk carries (sequence, total bytes of this sender's buffer, offset).
// The receiver allocates the buffer on the first chunk and checks every later one against it:
// the bytes come from the network, so totals, offsets and lengths are validated before use.
#include "atoll/transport/exchange.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "atoll/common/error.hpp"
#include "wire.hpp"

namespace atl {
namespace {

/// Chunks posted to one peer between flushes (bounds what a sender queues).
constexpr std::size_t kChunksPerFlush = 16;
/// A sender may announce at most this many bytes for one call (sanity bound on the wire).
constexpr std::uint64_t kMaxBufferBytes = std::uint64_t{1} << 40;

struct Incoming {
  std::vector<std::byte> data;
  std::uint64_t total = 0;
  std::uint64_t received = 0;
  bool started = false;
  bool complete() const { return started && received == total; }
};

}  // namespace

struct Exchange::State {
  Transport& transport;
  HandlerId handler = 0;
  std::uint64_t next_seq = 1;
  std::map<std::pair<std::uint64_t, int>, Incoming> inbox;  // (sequence, source)

  explicit State(Transport& t) : transport(t) {}

  void receive(int source, std::span<const std::byte> bytes) {
    detail::WireReader in(bytes, str_cat("exchange chunk from rank ", source));
    std::uint64_t seq = in.u64();
    std::uint64_t total = in.u64();
    std::uint64_t offset = in.u64();
    std::string_view payload = in.take(in.remaining());
    if (seq + 1 < next_seq)
      fail("rank ", source, " sent an exchange chunk for finished call ", seq);
    if (total > kMaxBufferBytes)
      fail("rank ", source, " announced an exchange of ", total, " bytes");
    Incoming& slot = inbox[{seq, source}];
    if (!slot.started) {
      slot.started = true;
      slot.total = total;
      slot.data.resize(total);
    } else if (slot.total != total) {
      fail("rank ", source, " changed its exchange size from ", slot.total, " to ", total);
    }
    if (offset > total || payload.size() > total - offset ||
        payload.size() > total - slot.received) {
      fail("rank ", source, " sent exchange bytes [", offset, ", ", offset + payload.size(),
           ") outside its buffer of ", total);
    }
    if (!payload.empty()) std::memcpy(slot.data.data() + offset, payload.data(), payload.size());
    slot.received += payload.size();
  }

  void post(int peer, std::uint64_t seq, std::uint64_t total, std::uint64_t offset,
            std::span<const std::byte> payload) {
    detail::WireWriter w;
    w.u64(seq);
    w.u64(total);
    w.u64(offset);
    w.bytes(payload);
    const std::string& bytes = w.str();
    transport.send(peer, handler, std::as_bytes(std::span(bytes.data(), bytes.size())));
  }
};

Exchange::Exchange(Transport& transport) : state_(std::make_unique<State>(transport)) {
  State* s = state_.get();
  s->handler = transport.add_system_handler(
      [s](int source, std::span<const std::byte> bytes) { s->receive(source, bytes); });
}

Exchange::~Exchange() = default;

std::vector<std::vector<std::byte>> Exchange::all_to_all(
    std::vector<std::vector<std::byte>> outgoing) {
  State& s = *state_;
  const int n = s.transport.size();
  const int me = s.transport.rank();
  if (outgoing.size() != static_cast<std::size_t>(n)) {
    fail("all_to_all: ", outgoing.size(), " buffers for ", n, " ranks");
  }
  const std::uint64_t seq = s.next_seq++;
  std::vector<std::vector<std::byte>> incoming(static_cast<std::size_t>(n));
  incoming[me] = std::move(outgoing[me]);

  // Peers in a rotated order (me+1, me+2, ...) so that not everyone sends to rank 0 first;
  // chunks round-robin over peers, with a flush per peer every kChunksPerFlush chunks.
  std::vector<std::size_t> sent(static_cast<std::size_t>(n), 0);
  std::vector<std::size_t> since_flush(static_cast<std::size_t>(n), 0);
  bool more = true;
  bool first_round = true;
  while (more) {
    more = false;
    for (int k = 1; k < n; ++k) {
      const int peer = (me + k) % n;
      const std::vector<std::byte>& buf = outgoing[peer];
      if (!first_round && sent[peer] >= buf.size()) continue;
      std::size_t len = std::min(kChunkBytes, buf.size() - sent[peer]);
      s.post(peer, seq, buf.size(), sent[peer], std::span(buf).subspan(sent[peer], len));
      sent[peer] += len;
      if (++since_flush[peer] == kChunksPerFlush) {
        s.transport.flush(peer);
        since_flush[peer] = 0;
      }
      more = more || sent[peer] < buf.size();
    }
    first_round = false;
  }
  s.transport.wait_for([&] {
    for (int r = 0; r < n; ++r) {
      if (r == me) continue;
      auto it = s.inbox.find({seq, r});
      if (it == s.inbox.end() || !it->second.complete()) return false;
    }
    for (int r = 0; r < n; ++r) {
      if (r == me) continue;
      auto it = s.inbox.find({seq, r});
      incoming[r] = std::move(it->second.data);
      s.inbox.erase(it);
    }
    return true;
  });
  // Later calls reuse nothing of this one; free what we sent before returning.
  for (int r = 0; r < n; ++r) {
    if (r != me) std::vector<std::byte>().swap(outgoing[r]);
  }
  return incoming;
}

}  // namespace atl
