// Collectives on active messages. Each call takes the next sequence number (all ranks call in
// the same order); messages carry (sequence, phase) and wait in a mailbox until the caller
// takes them. Gathers and reductions climb a binomial tree to rank 0 (rank r takes the partial
// of ranks [r + 2^k, r + 2^(k+1)) from rank r + 2^k while bit k of r is clear, then hands its
// own to r - 2^k) and the result descends the same tree: O(log ranks) steps at every rank, and
// every partial is combined in one fixed order, so results are the same on every rank and run.
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

  /// Combines every rank's bytes up the tree (merge(acc, child, first, last): `child` holds
  /// the partial of ranks [first, last), which follow acc's), then rank 0 turns the whole into
  /// the reply (at_root), which descends the tree to every rank.
  using Merge = std::function<void(std::string& acc, std::string&& child, int first, int last)>;
  std::string exchange(std::string_view mine, const Merge& merge,
                       const std::function<std::string(std::string&&)>& at_root) {
    const std::uint64_t seq = next_seq++;
    const int n = transport.size();
    const int me = transport.rank();
    std::string acc(mine);
    int step = 1;  // 2^k
    for (; step < n && (me & step) == 0; step <<= 1) {
      if (me + step < n)
        merge(acc, take(seq, kToRoot, me + step), me + step, std::min(n, me + 2 * step));
    }
    std::string reply;
    if (me == 0) {
      reply = at_root(std::move(acc));
    } else {
      post(me - step, seq, kToRoot, acc);  // step: the lowest set bit of me
      reply = take(seq, kFromRoot, me - step);
    }
    // Down: to the children, the largest subtree first.
    for (int child = step >> 1; child >= 1; child >>= 1) {
      if (me + child < n) post(me + child, seq, kFromRoot, reply);
    }
    return reply;
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
  state_->exchange(
      {}, [](std::string&, std::string&&, int, int) {},
      [](std::string&&) { return std::string(); });
}

std::vector<std::string> Collectives::allgather(std::string_view mine) {
  // Partials are the framed contributions of consecutive ranks, in rank order.
  detail::WireWriter own;
  own.blob(mine);
  std::string all = state_->exchange(
      own.str(), [](std::string& acc, std::string&& child, int, int) { acc += child; },
      [](std::string&& whole) { return std::move(whole); });
  detail::WireReader in(all, "allgather result");
  std::vector<std::string> out;
  for (int r = 0; r < state_->transport.size(); ++r) out.emplace_back(in.blob());
  in.expect_end();
  return out;
}

void Collectives::broadcast(int root, std::string& data) {
  if (root < 0 || root >= state_->transport.size()) fail("broadcast from rank ", root, "?");
  // The root's bytes climb the tree with empty partials (only its own is kept), then descend.
  const int me = state_->transport.rank();
  std::string result = state_->exchange(
      me == root ? std::string_view(data) : std::string_view(),
      [root](std::string& acc, std::string&& child, int first, int last) {
        if (root >= first && root < last) acc = std::move(child);
      },
      [](std::string&& whole) { return std::move(whole); });
  data = std::move(result);
}

void Collectives::allreduce_bytes(std::span<std::byte> data, std::size_t element_size,
                                  const Combine& combine) {
  if (element_size == 0 || data.size() % element_size != 0) fail("allreduce: bad element size");
  const std::size_t count = data.size() / element_size;
  std::string mine(reinterpret_cast<const char*>(data.data()), data.size());
  std::string result = state_->exchange(
      mine,
      [&](std::string& acc, std::string&& child, int first, int last) {
        if (child.size() != acc.size()) {
          fail("allreduce: ranks ", first, " to ", last - 1, " contributed ", child.size(),
               " bytes, rank ", state_->transport.rank(), " ", acc.size());
        }
        combine(reinterpret_cast<std::byte*>(acc.data()),
                reinterpret_cast<const std::byte*>(child.data()), count);
      },
      [](std::string&& whole) { return std::move(whole); });
  if (result.size() != data.size()) fail("allreduce: result of ", result.size(), " bytes");
  std::memcpy(data.data(), result.data(), data.size());
}

}  // namespace atl
