// Collectives on active messages. Each call takes the next sequence number (all ranks call in
// the same order); messages carry (sequence, phase) and wait in a mailbox until the caller
// takes them. Gathers and reductions go through rank 0, which combines in rank order and
// sends the result back: O(ranks) at the root, deterministic, and simple to validate.
#include "atoll/transport/collectives.hpp"

#include <map>
#include <mutex>
#include <tuple>

#include "system_handlers.hpp"
#include "wire.hpp"

namespace atl {
namespace {

enum Phase : std::uint32_t { kToRoot = 1, kFromRoot = 2 };

}  // namespace

struct Collectives::State {
  Transport& transport;
  std::uint64_t next_seq = 1;
  // (sequence, phase, source) -> payload; filled by the handler, emptied by the caller.
  std::map<std::tuple<std::uint64_t, std::uint32_t, int>, std::string> mailbox;

  explicit State(Transport& t) : transport(t) {}

  void post(int peer, std::uint64_t seq, std::uint32_t phase, std::string_view payload) {
    detail::WireWriter w;
    w.u64(seq);
    w.u32(phase);
    w.bytes(std::as_bytes(std::span(payload.data(), payload.size())));
    const std::string& bytes = w.str();
    transport.send(peer, detail::kCollectiveHandler,
                   std::as_bytes(std::span(bytes.data(), bytes.size())));
  }

  /// Waits for (seq, phase) from source and removes it from the mailbox.
  std::string take(std::uint64_t seq, std::uint32_t phase, int source) {
    auto key = std::make_tuple(seq, phase, source);
    std::string out;
    transport.wait_for([&] {
      auto it = mailbox.find(key);
      if (it == mailbox.end()) return false;
      out = std::move(it->second);
      mailbox.erase(it);
      return true;
    });
    return out;
  }

  /// Gathers every rank's bytes at rank 0 (in rank order) and hands rank 0's reply back.
  std::string exchange(std::string_view mine,
                       const std::function<std::string(std::vector<std::string>&)>& at_root) {
    const std::uint64_t seq = next_seq++;
    const int n = transport.size();
    if (transport.rank() == 0) {
      std::vector<std::string> parts(static_cast<std::size_t>(n));
      parts[0] = std::string(mine);
      for (int r = 1; r < n; ++r) parts[r] = take(seq, kToRoot, r);
      std::string reply = at_root(parts);
      for (int r = 1; r < n; ++r) post(r, seq, kFromRoot, reply);
      return reply;
    }
    post(0, seq, kToRoot, mine);
    return take(seq, kFromRoot, 0);
  }
};

Collectives::Collectives(Transport& transport) : state_(std::make_unique<State>(transport)) {
  State* s = state_.get();
  transport.add_system_handler(
      detail::kCollectiveHandler, [s](int source, std::span<const std::byte> bytes) {
        detail::WireReader in(bytes, "collective message");
        std::uint64_t seq = in.u64();
        std::uint32_t phase = in.u32();
        if (phase != kToRoot && phase != kFromRoot) {
          fail("rank ", source, " sent a collective message with unknown phase ", phase);
        }
        std::string_view payload = in.take(in.remaining());
        s->mailbox[std::make_tuple(seq, phase, source)] = std::string(payload);
      });
}

Collectives::~Collectives() = default;

void Collectives::barrier() {
  state_->exchange({}, [](std::vector<std::string>&) { return std::string(); });
}

std::vector<std::string> Collectives::allgather(std::string_view mine) {
  std::string all = state_->exchange(mine, [](std::vector<std::string>& parts) {
    detail::WireWriter w;
    for (const std::string& p : parts) w.blob(p);
    return w.take();
  });
  detail::WireReader in(all, "allgather result");
  std::vector<std::string> out;
  for (int r = 0; r < state_->transport.size(); ++r) out.emplace_back(in.blob());
  in.expect_end();
  return out;
}

void Collectives::broadcast(int root, std::string& data) {
  if (root < 0 || root >= state_->transport.size()) fail("broadcast from rank ", root, "?");
  // Through rank 0: the root's bytes travel up with the gather, then down.
  const int me = state_->transport.rank();
  std::string result =
      state_->exchange(me == root ? std::string_view(data) : std::string_view(),
                       [root](std::vector<std::string>& parts) { return std::move(parts[root]); });
  data = std::move(result);
}

void Collectives::allreduce_bytes(std::span<std::byte> data, std::size_t element_size,
                                  const Combine& combine) {
  if (element_size == 0 || data.size() % element_size != 0) fail("allreduce: bad element size");
  const std::size_t count = data.size() / element_size;
  std::string mine(reinterpret_cast<const char*>(data.data()), data.size());
  std::string result = state_->exchange(mine, [&](std::vector<std::string>& parts) {
    std::string acc = parts[0];
    for (std::size_t r = 1; r < parts.size(); ++r) {
      if (parts[r].size() != acc.size()) {
        fail("allreduce: rank ", r, " contributed ", parts[r].size(), " bytes, rank 0 ",
             acc.size());
      }
      combine(reinterpret_cast<std::byte*>(acc.data()),
              reinterpret_cast<const std::byte*>(parts[r].data()), count);
    }
    return acc;
  });
  if (result.size() != data.size()) fail("allreduce: result of ", result.size(), " bytes");
  std::memcpy(data.data(), result.data(), data.size());
}

}  // namespace atl
