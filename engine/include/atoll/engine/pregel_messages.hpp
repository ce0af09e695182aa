// Pregel message store: what is sent in superstep S (by many worker threads at once) and read
// in S+1, and the rounds that move messages between ranks.
//
// With a combiner, every local vertex (owned or ghost) has one slot for the next superstep; a
// send combines into the destination's slot (a one-byte guard per slot orders concurrent
// senders), so a ghost's slot holds the one message this rank sends its owner, and the owner
// combines what arrives into its own slots again. Without one, each thread appends to its own
// lists (local, and per peer) and the owner gathers everything into one array by vertex.
//
// Between ranks messages travel in batches per peer through mailboxes (one-sided puts, a
// fixed capacity per peer, one barrier per round). When a superstep's messages do not fit
// they go in several rounds; without a combiner the vertices are computed in waves sized so
// that what waits to be sent stays near the capacity (back-pressure), never growing with
// the number of messages. A batch is a sequence of sections:
//   u32 kind (0 sparse, 1 dense), u32 first, u32 count, u32 0, then
//   sparse: count x (u32 position, message)
//   dense:  positions [first, first + count) in groups of 64: u64 bitmap, a message per bit
// where a position indexes the sender's ghost range for this rank (PregelRoutes), and
//   cast:   kind 2, positions [first, first + count) of this rank's ghost range for the
//           sender, in groups of 64 like dense: the values those vertices broadcast.
//
// Edges and vertices removed by topology mutations but not compacted yet (PregelTombstones)
// are skipped by every walk here: they neither send nor receive.
//
// Broadcasts (send_to_neighbors with a combiner) are recorded per vertex. When they cover many
// edges (dense) a rank sends each broadcasting vertex's value once to every rank holding it as
// a ghost and every rank gathers over its vertices' in-edges, as the chromatic engine pulls:
// no per-edge atomics and no per-edge traffic. Otherwise they are pushed edge by edge.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/pregel_program.hpp"
#include "atoll/engine/pregel_routes.hpp"
#include "atoll/engine/pregel_tombstones.hpp"
#include "atoll/engine/worker_pool.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/transport/mailboxes.hpp"

namespace atl {

/// What one superstep's delivery did (this rank).
struct DeliveryStats {
  std::uint64_t combined = 0;  ///< messages after sender-side combining (local + remote)
  std::uint64_t remote = 0;    ///< messages put to other ranks
  std::uint64_t bytes = 0;     ///< bytes put to other ranks
  std::uint32_t rounds = 0;
};

template <PregelProgram P>
class PregelMessages {
 public:
  using Message = typename P::Message;
  /// Computes up to `vertices` more vertices; returns how many it computed (0: all done).
  using ComputeMore = std::function<std::uint64_t(std::uint64_t vertices)>;

  static constexpr std::size_t kSection = 16;
  static constexpr std::size_t kRecord = sizeof(std::uint32_t) + sizeof(Message);

  /// Collective with a cluster (creates the mailboxes). Walks over edges skip what `dead`
  /// marks removed.
  PregelMessages(const Topology& graph, const PregelTombstones& dead, const P& program,
                 Cluster* cluster, WorkerPool& pool, bool combine, std::size_t buffer_bytes)
      : graph_(graph),
        dead_(dead),
        program_(program),
        cluster_(cluster),
        pool_(pool),
        routes_(graph, cluster ? cluster->rank() : 0, cluster ? cluster->size() : 1),
        owned_(graph.num_owned()) {
    if constexpr (PregelCombiner<P>) combining_ = combine;
    const Lid n = graph.num_vertices();
    if (combining_) {
      next_ = std::make_unique_for_overwrite<Message[]>(n);
      current_ = std::make_unique_for_overwrite<Message[]>(n);
      state_ = std::make_unique<std::atomic<std::uint8_t>[]>(n);
      for (Lid v = 0; v < n; ++v) state_[v].store(kEmpty, std::memory_order_relaxed);
      has_.assign(owned_, 0);
      cast_ = std::make_unique_for_overwrite<Message[]>(n);
      casting_.assign(n, 0);
      for (Lid v = 0; v < n; ++v) sources_ += graph.out_degree(v) > 0 ? 1 : 0;
    } else {
      offsets_.assign(std::size_t{owned_} + 1, 0);
    }
    if (cluster_ != nullptr) {
      const auto ranks = static_cast<std::size_t>(cluster_->size());
      // The smallest useful batch: a section and one group of 64 messages with its bitmap.
      const std::size_t least = kSection + 8 + 64 * kRecord;
      if (buffer_bytes < least) {
        usage_fail("--message-buffer must be at least ", least, " bytes, got ", buffer_bytes);
      }
      std::vector<std::size_t> capacity(ranks, 0);
      for (std::size_t p = 0; p < ranks; ++p) {
        const int peer = static_cast<int>(p);
        if (peer == cluster_->rank() || !routes_.linked(peer)) continue;
        std::size_t most =
            2 * kSection + (routes_.ghost_end(peer) - routes_.ghost_begin(peer)) * (kRecord + 1);
        // Without a combiner there is no bound but the buffer.
        capacity[p] = combining_ ? std::min(buffer_bytes, std::max(most, least)) : buffer_bytes;
      }
      mailboxes_ =
          std::make_unique<Mailboxes>(cluster_->transport, cluster_->collectives, capacity);
      capacity_ = std::move(capacity);
      pending_.resize(ranks);
      cursor_.assign(ranks, 0);
      received_.resize(ranks);
    }
  }

  bool combining() const { return combining_; }
  const PregelRoutes& routes() const { return routes_; }

  /// Sends m to local vertex dst (owned or ghost) for the next superstep; any thread.
  void send(Lid dst, const Message& m) {
    if (combining_) {
      combine_into(dst, m);
      return;
    }
    Outbox& out = outboxes_.local();
    if (dst < owned_) {
      out.local.push_back({dst, m});
    } else {
      if (out.remote.empty()) out.remote.resize(static_cast<std::size_t>(routes_.ranks()));
      out.remote[static_cast<std::size_t>(routes_.owner(dst))].push_back(
          {routes_.position(dst), m});
    }
  }

  /// Sends m along every out-edge of owned vertex v (`edges` of them) for the next superstep;
  /// only the thread computing v calls this for v. Returns whether v now casts for the first
  /// time this superstep and has out-edges (the engine counts these, add_casts).
  bool broadcast(Lid v, const Message& m, std::size_t edges) {
    if (!combining_) {
      dead_.for_each_out(v, [&](EdgeId, Lid t) { send(t, m); });
      return false;
    }
    if (casting_[v] != 0) {  // a second broadcast in one superstep combines with the first
      if constexpr (PregelCombiner<P>) cast_[v] = program_.combine(cast_[v], m);
      return false;
    }
    cast_[v] = m;
    casting_[v] = 1;
    return edges > 0;
  }
  /// Out-edges covered by broadcasts in the waves computed so far, and the broadcasting
  /// vertices with out-edges (the engine adds them).
  void add_casts(std::uint64_t edges, std::uint64_t vertices) {
    cast_edges_ += edges;
    owned_casts_ += vertices;
  }

  /// This superstep's messages for owned vertex v.
  bool has_messages(Lid v) const {
    return combining_ ? has_[v] != 0 : offsets_[v + 1] != offsets_[v];
  }
  std::span<const Message> messages(Lid v) const {
    if (combining_)
      return has_[v] != 0 ? std::span<const Message>(&current_[v], 1) : std::span<const Message>();
    return {all_.data() + offsets_[v], static_cast<std::size_t>(offsets_[v + 1] - offsets_[v])};
  }
  /// Owned vertices that have messages in this superstep.
  std::uint64_t receivers() const { return receivers_; }

  /// Checkpoints, between supersteps: replaces the next superstep's messages with `inbox`
  /// (owned vertex, message), combined when combining.
  void set_inbox(std::span<const std::pair<Lid, Message>> inbox) {
    receivers_ = 0;
    if (combining_) {
      std::fill(has_.begin(), has_.end(), 0);
      for (const auto& [v, m] : inbox) {
        if constexpr (PregelCombiner<P>) {
          current_[v] = has_[v] != 0 ? program_.combine(current_[v], m) : m;
        } else {
          current_[v] = m;
        }
        receivers_ += has_[v] == 0;
        has_[v] = 1;
      }
      return;
    }
    std::fill(offsets_.begin(), offsets_.end(), 0);
    for (const auto& [v, m] : inbox) ++offsets_[v + 1];
    for (Lid v = 0; v < owned_; ++v) {
      receivers_ += offsets_[v + 1] != 0;
      offsets_[v + 1] += offsets_[v];
    }
    all_.resize(offsets_[owned_]);
    fill_.assign(offsets_.begin(), offsets_.end() - 1);
    for (const auto& [v, m] : inbox) all_[fill_[v]++] = m;
  }

  /// After a mutation phase that kept the part: drops the messages of `removed` owned
  /// vertices; returns how many there were.
  std::uint64_t drop(std::span<const Lid> removed) {
    std::uint64_t dropped = 0;
    for (Lid v : removed) dropped += messages(v).size();
    if (dropped == 0) return 0;
    if (combining_) {
      for (Lid v : removed) {
        receivers_ -= has_[v];
        has_[v] = 0;
      }
      return dropped;
    }
    std::vector<std::uint8_t> gone(owned_, 0);
    for (Lid v : removed) gone[v] = 1;
    std::vector<std::pair<Lid, Message>> kept;
    kept.reserve(all_.size() - dropped);
    for (Lid v = 0; v < owned_; ++v) {
      if (gone[v] != 0) continue;
      for (const Message& m : messages(v)) kept.emplace_back(v, m);
    }
    set_inbox(kept);
    return dropped;
  }
  /// Adds `extra` (owned vertex, message) to the next superstep's messages.
  void add(std::span<const std::pair<Lid, Message>> extra) {
    if (extra.empty()) return;
    if (combining_) {
      for (const auto& [v, m] : extra) {
        if constexpr (PregelCombiner<P>) {
          current_[v] = has_[v] != 0 ? program_.combine(current_[v], m) : m;
        }
        receivers_ += has_[v] == 0;
        has_[v] = 1;
      }
      return;
    }
    std::vector<std::pair<Lid, Message>> all;
    all.reserve(all_.size() + extra.size());
    for (Lid v = 0; v < owned_; ++v) {
      for (const Message& m : messages(v)) all.emplace_back(v, m);
    }
    all.insert(all.end(), extra.begin(), extra.end());
    set_inbox(all);
  }

  /// Runs the sending side of a superstep: computes every vertex through compute_more (in
  /// waves without a combiner on several ranks), moves the messages between ranks, and makes
  /// them this rank's messages for the next superstep. Collective with a cluster.
  DeliveryStats deliver(const ComputeMore& compute_more) {
    DeliveryStats stats;
    const std::uint64_t all = owned_;
    bool vertices_left = true;
    if (combining_ || cluster_ == nullptr) {
      compute_more(all);
      vertices_left = false;
    }
    if (combining_) {
      // Dense casts when they cover more than 1/16 of this rank's edges; else push them.
      dense_casts_ = cast_edges_ * 16 > graph_.owned_edges();
      if (!dense_casts_) push_casts();
      stats.combined = count_local_slots();
      received_casts_ = dense_casts_;
    }
    if (combining_ && cluster_ != nullptr) start_dense_choice();
    while (cluster_ != nullptr) {
      if (!combining_ && vertices_left && (pending_bytes_ == 0 || pending_bytes_ < budget())) {
        const double rate = done_vertices_ > 0 ? static_cast<double>(produced_bytes_) /
                                                     static_cast<double>(done_vertices_)
                                               : 0.0;
        std::uint64_t wave = all;
        if (rate > 0) {
          wave = static_cast<std::uint64_t>(static_cast<double>(budget() - pending_bytes_) / rate);
        } else if (done_vertices_ == 0) {
          wave = std::max<std::uint64_t>(all / 16, 1);  // learn the rate first
        }
        const std::uint64_t computed = compute_more(std::max<std::uint64_t>(wave, 1));
        done_vertices_ += computed;
        vertices_left = done_vertices_ < all;
        collect_outboxes();
      }
      std::vector<std::size_t> bytes(capacity_.size(), 0);
      for (std::size_t p = 0; p < capacity_.size(); ++p) {
        if (capacity_[p] == 0) continue;
        const int peer = static_cast<int>(p);
        bytes[p] = combining_ ? pack_slots(peer, stats) : pack_lists(peer, stats);
        if (combining_ && dense_casts_) bytes[p] = pack_casts(peer, bytes[p], stats);
      }
      mailboxes_->deliver(bytes);
      stats.bytes += mailboxes_->last_bytes_sent();
      ++stats.rounds;
      unpack_all();
      const bool more = vertices_left || pending_left();
      if (cluster_->collectives.allreduce<std::uint32_t>(more ? 1 : 0, ReduceOp::kMax) == 0) break;
    }
    if (!combining_) {
      for (Outbox& out : outboxes_) stats.combined += out.local.size();
      stats.combined += stats.remote;
    }
    stats.combined += finish();
    return stats;
  }

 private:
  static constexpr std::uint8_t kEmpty = 0, kBusy = 1, kFull = 2;
  enum : std::uint32_t { kSparse = 0, kDense = 1, kCast = 2 };

  struct Local {
    Lid dst;
    Message message;
  };
  struct Remote {
    std::uint32_t position;
    Message message;
  };
  struct Outbox {
    std::vector<Local> local;
    std::vector<std::vector<Remote>> remote;  ///< by owner rank
  };

  void combine_into(Lid d, const Message& m) {
    std::atomic<std::uint8_t>& s = state_[d];
    std::uint8_t seen = s.load(std::memory_order_relaxed);
    for (;;) {
      if (seen == kBusy) {
        seen = s.load(std::memory_order_relaxed);
        continue;
      }
      if (s.compare_exchange_weak(seen, kBusy, std::memory_order_acquire,
                                  std::memory_order_relaxed)) {
        break;
      }
    }
    if constexpr (PregelCombiner<P>) {
      next_[d] = seen == kFull ? program_.combine(next_[d], m) : m;
    } else {
      next_[d] = m;
    }
    s.store(kFull, std::memory_order_release);
  }

  std::uint64_t count_local_slots() const {
    std::uint64_t n = 0;
    for (Lid v = 0; v < owned_; ++v) n += state_[v].load(std::memory_order_relaxed) == kFull;
    return n;
  }

  std::size_t budget() const {
    std::size_t total = 0;
    for (std::size_t c : capacity_) total += c;
    return total;
  }

  // ---- with a combiner: ghost slots, packed dense or sparse ------------------------------

  /// Per peer: dense when a bitmap over its whole ghost range is smaller than positions.
  void start_dense_choice() {
    dense_.assign(capacity_.size(), 0);
    cast_cursor_.assign(capacity_.size(), 0);
    for (std::size_t p = 0; p < capacity_.size(); ++p) {
      cursor_[p] = 0;
      if (capacity_[p] == 0) continue;
      const int peer = static_cast<int>(p);
      const Lid begin = routes_.ghost_begin(peer), end = routes_.ghost_end(peer);
      std::uint64_t full = 0;
      for (Lid g = begin; g < end; ++g) full += state_[g].load(std::memory_order_relaxed) == kFull;
      dense_[p] = (end - begin) / 8 + full * sizeof(Message) < full * kRecord;
    }
  }

  std::size_t pack_slots(int peer, DeliveryStats& stats) {
    const auto p = static_cast<std::size_t>(peer);
    const Lid begin = routes_.ghost_begin(peer);
    const std::uint32_t count = routes_.ghost_end(peer) - begin;
    std::span<std::byte> out = mailboxes_->outbox(peer);
    std::uint32_t pos = static_cast<std::uint32_t>(cursor_[p]);
    if (pos >= count) return 0;
    std::size_t at = kSection;
    const std::uint32_t first = pos;
    std::uint64_t sent = 0;
    if (dense_[p] != 0) {
      while (pos < count) {
        const std::uint32_t group = std::min<std::uint32_t>(64, count - pos);
        std::uint64_t bits = 0;
        for (std::uint32_t i = 0; i < group; ++i) {
          if (state_[begin + pos + i].load(std::memory_order_relaxed) == kFull) bits |= 1ull << i;
        }
        const std::size_t need =
            8 + static_cast<std::size_t>(std::popcount(bits)) * sizeof(Message);
        if (at + need > out.size()) break;
        std::memcpy(out.data() + at, &bits, 8);
        at += 8;
        for (std::uint32_t i = 0; i < group; ++i) {
          if ((bits >> i & 1) == 0) continue;
          std::memcpy(out.data() + at, &next_[begin + pos + i], sizeof(Message));
          at += sizeof(Message);
        }
        sent += static_cast<std::uint64_t>(std::popcount(bits));
        pos += group;
      }
    } else {
      while (pos < count && at + kRecord <= out.size()) {
        if (state_[begin + pos].load(std::memory_order_relaxed) == kFull) {
          std::memcpy(out.data() + at, &pos, sizeof pos);
          std::memcpy(out.data() + at + sizeof pos, &next_[begin + pos], sizeof(Message));
          at += kRecord;
          ++sent;
        }
        ++pos;
      }
    }
    write_section(out, dense_[p] != 0 ? kDense : kSparse, first,
                  dense_[p] != 0 ? pos - first : static_cast<std::uint32_t>(sent));
    cursor_[p] = pos;
    stats.remote += sent;
    stats.combined += sent;
    return at;
  }

  static void write_section(std::span<std::byte> out, std::uint32_t kind, std::uint32_t first,
                            std::uint32_t count) {
    const std::uint32_t header[4] = {kind, first, count, 0};
    std::memcpy(out.data(), header, sizeof header);
  }

  /// Appends a cast section to peer's batch (which has `at` bytes): the values broadcast by
  /// our vertices that peer holds as ghosts, from where the last round stopped.
  std::size_t pack_casts(int peer, std::size_t at, DeliveryStats& stats) {
    const auto p = static_cast<std::size_t>(peer);
    std::span<const Lid> ours = routes_.positions_at(peer);
    const auto count = static_cast<std::uint32_t>(ours.size());
    auto pos = static_cast<std::uint32_t>(cast_cursor_[p]);
    std::span<std::byte> out = mailboxes_->outbox(peer);
    if (pos >= count || at + kSection + 8 + 64 * sizeof(Message) > out.size()) return at;
    const std::size_t section = at;
    at += kSection;
    const std::uint32_t first = pos;
    while (pos < count) {
      const std::uint32_t group = std::min<std::uint32_t>(64, count - pos);
      std::uint64_t bits = 0;
      for (std::uint32_t i = 0; i < group; ++i) {
        if (casting_[ours[pos + i]] != 0) bits |= 1ull << i;
      }
      const std::size_t need = 8 + static_cast<std::size_t>(std::popcount(bits)) * sizeof(Message);
      if (at + need > out.size()) break;
      std::memcpy(out.data() + at, &bits, 8);
      at += 8;
      for (std::uint32_t i = 0; i < group; ++i) {
        if ((bits >> i & 1) == 0) continue;
        std::memcpy(out.data() + at, &cast_[ours[pos + i]], sizeof(Message));
        at += sizeof(Message);
      }
      stats.remote += static_cast<std::uint64_t>(std::popcount(bits));
      stats.combined += static_cast<std::uint64_t>(std::popcount(bits));
      pos += group;
    }
    write_section(out.subspan(section), kCast, first, pos - first);
    cast_cursor_[p] = pos;
    return at;
  }

  /// Sparse broadcasts: every recorded one goes edge by edge into the slots.
  void push_casts() {
    pool_.run_on_nodes([&](int node) {
      if (node != 0) return;
      tbb::parallel_for(
          tbb::blocked_range<Lid>(0, owned_, 4096), [&](const tbb::blocked_range<Lid>& r) {
            for (Lid v = r.begin(); v < r.end(); ++v) {
              if (casting_[v] == 0) continue;
              casting_[v] = 0;
              dead_.for_each_out(v, [&](EdgeId, Lid t) { combine_into(t, cast_[v]); });
            }
          });
    });
  }

  /// Combines the values cast to live owned vertex v by its in-neighbours into m; false when
  /// none cast. `all`: every in-neighbour cast and nothing is removed (no flags to read).
  bool gather_one(Lid v, bool all, Message& m) const {
    if (all) {
      const std::span<const Lid> in = graph_.in_neighbors(v);
      if (in.empty()) return false;
      m = cast_[in[0]];
      if constexpr (PregelCombiner<P>) {
        for (std::size_t i = 1; i < in.size(); ++i) m = program_.combine(m, cast_[in[i]]);
      }
      return true;
    }
    bool any = false;
    dead_.for_each_in(v, [&](Lid u) {
      if (casting_[u] == 0) return;
      if constexpr (PregelCombiner<P>) {
        m = any ? program_.combine(m, cast_[u]) : cast_[u];
      } else {
        m = cast_[u];
      }
      any = true;
    });
    return any;
  }

  /// Ends a superstep's slots (the only writer now): with `gather`, every owned vertex first
  /// combines the values cast by its in-neighbours (owned ones and ghosts) into its slot (the
  /// dense broadcasts). Then has_ says which owned slots hold a message and every slot is
  /// emptied for the next superstep. Returns how many owned vertices gathered something.
  std::uint64_t settle_slots(bool gather) {
    // When every local vertex with out-edges cast a value (PageRank, a first superstep) and
    // nothing is removed, no in-neighbour needs its flag read: the plain pull loop.
    const std::uint64_t casts = (dense_casts_ ? owned_casts_ : 0) + ghost_casts_.load();
    const bool all = gather && dead_.clean() && casts == sources_;
    std::atomic<std::uint64_t> gathered{0}, receivers{0};
    pool_.run_on_nodes([&](int node) {
      if (node != 0) return;
      tbb::parallel_for(tbb::blocked_range<Lid>(0, owned_, 2048),
                        [&](const tbb::blocked_range<Lid>& r) {
                          std::uint64_t count = 0, full = 0;
                          for (Lid v = r.begin(); v < r.end(); ++v) {
                            std::uint8_t s = state_[v].load(std::memory_order_relaxed);
                            Message m{};
                            if (gather && !dead_.dead(v) && gather_one(v, all, m)) {
                              if constexpr (PregelCombiner<P>) {
                                next_[v] = s == kFull ? program_.combine(next_[v], m) : m;
                              }
                              s = kFull;
                              ++count;
                            }
                            has_[v] = s == kFull ? 1 : 0;
                            full += has_[v];
                            state_[v].store(kEmpty, std::memory_order_relaxed);
                          }
                          gathered.fetch_add(count, std::memory_order_relaxed);
                          receivers.fetch_add(full, std::memory_order_relaxed);
                        });
      // Ghost slots went out in this superstep's batches.
      tbb::parallel_for(tbb::blocked_range<Lid>(owned_, graph_.num_vertices(), 1 << 14),
                        [&](const tbb::blocked_range<Lid>& r) {
                          for (Lid v = r.begin(); v < r.end(); ++v) {
                            state_[v].store(kEmpty, std::memory_order_relaxed);
                          }
                        });
    });
    if (gather) std::fill(casting_.begin(), casting_.end(), 0);
    receivers_ = receivers.load();
    return gathered.load();
  }

  // ---- without a combiner: per-thread lists, packed sparse --------------------------------

  /// Moves what the threads queued for other ranks to the per-peer queues.
  void collect_outboxes() {
    for (Outbox& out : outboxes_) {
      for (std::size_t p = 0; p < out.remote.size(); ++p) {
        if (out.remote[p].empty()) continue;
        const std::size_t bytes = out.remote[p].size() * kRecord;
        pending_bytes_ += bytes;
        produced_bytes_ += bytes;
        pending_[p].push_back(std::move(out.remote[p]));
        out.remote[p] = {};
      }
    }
  }

  bool pending_left() const {
    if (combining_) {
      for (std::size_t p = 0; p < capacity_.size(); ++p) {
        if (capacity_[p] != 0 && dense_casts_ &&
            cast_cursor_[p] < routes_.positions_at(static_cast<int>(p)).size()) {
          return true;
        }
        if (capacity_[p] != 0 && cursor_[p] < routes_.ghost_end(static_cast<int>(p)) -
                                                  routes_.ghost_begin(static_cast<int>(p))) {
          return true;
        }
      }
      return false;
    }
    return pending_bytes_ > 0;
  }

  std::size_t pack_lists(int peer, DeliveryStats& stats) {
    const auto p = static_cast<std::size_t>(peer);
    std::span<std::byte> out = mailboxes_->outbox(peer);
    std::size_t at = kSection;
    std::uint32_t sent = 0;
    std::deque<std::vector<Remote>>& queue = pending_[p];
    while (!queue.empty() && at + kRecord <= out.size()) {
      const std::vector<Remote>& list = queue.front();
      std::size_t& i = cursor_[p];
      const std::size_t take = std::min(list.size() - i, (out.size() - at) / kRecord);
      for (std::size_t k = 0; k < take; ++k) {
        std::memcpy(out.data() + at, &list[i + k].position, sizeof(std::uint32_t));
        std::memcpy(out.data() + at + sizeof(std::uint32_t), &list[i + k].message, sizeof(Message));
        at += kRecord;
      }
      i += take;
      sent += static_cast<std::uint32_t>(take);
      if (i == list.size()) {
        queue.pop_front();
        i = 0;
      }
    }
    pending_bytes_ -= std::size_t{sent} * kRecord;
    if (sent == 0) return 0;
    write_section(out, kSparse, 0, sent);
    stats.remote += sent;
    return at;
  }

  // ---- receiving ------------------------------------------------------------------------

  void unpack_all() {
    const int ranks = static_cast<int>(capacity_.size());
    pool_.run_on_nodes([&](int node) {
      if (node != 0) return;
      tbb::parallel_for(0, ranks, [&](int source) {
        if (source != cluster_->rank()) unpack(source, mailboxes_->inbox(source));
      });
    });
  }

  /// Checks every section against what is left and against this rank's vertices.
  void unpack(int source, std::span<const std::byte> batch) {
    std::span<const Lid> positions = routes_.positions_at(source);
    auto bad = [&](const char* what) {
      fail("rank ", source, " sent a malformed Pregel message batch (", what, ")");
    };
    std::size_t at = 0;
    while (at < batch.size()) {
      if (batch.size() - at < kSection) bad("truncated section header");
      std::uint32_t header[4];
      std::memcpy(header, batch.data() + at, sizeof header);
      at += kSection;
      const std::uint32_t kind = header[0], first = header[1], count = header[2];
      if (kind == kSparse) {
        if ((batch.size() - at) / kRecord < count) bad("truncated records");
        for (std::uint32_t k = 0; k < count; ++k, at += kRecord) {
          std::uint32_t pos;
          std::memcpy(&pos, batch.data() + at, sizeof pos);
          if (pos >= positions.size()) bad("position out of range");
          Message m;
          std::memcpy(&m, batch.data() + at + sizeof pos, sizeof(Message));
          receive(source, positions[pos], m);
        }
      } else if (kind == kDense) {
        if (first > positions.size() || count > positions.size() - first) bad("range too long");
        at = read_groups(batch, at, first, count, bad, [&](std::uint32_t pos, const Message& m) {
          receive(source, positions[pos], m);
        });
      } else if (kind == kCast && combining_) {
        const Lid begin = routes_.ghost_begin(source);
        const Lid ghosts = routes_.ghost_end(source) - begin;
        if (first > ghosts || count > ghosts - first) bad("cast range too long");
        std::uint64_t casts = 0, sources = 0;
        at = read_groups(batch, at, first, count, bad, [&](std::uint32_t pos, const Message& m) {
          cast_[begin + pos] = m;
          casting_[begin + pos] = 1;
          ++casts;
          sources += graph_.out_degree(begin + pos) > 0 ? 1 : 0;
        });
        if (casts > 0) received_any_cast_.store(true, std::memory_order_relaxed);
        ghost_casts_.fetch_add(sources, std::memory_order_relaxed);
      } else {
        bad("unknown section kind");
      }
    }
  }

  /// Reads positions [first, first + count) in groups of 64 (a bitmap, then a message per set
  /// bit) from batch at `at`; calls use(position, message); returns where it stopped.
  template <typename Bad, typename Use>
  static std::size_t read_groups(std::span<const std::byte> batch, std::size_t at,
                                 std::uint32_t first, std::uint32_t count, const Bad& bad,
                                 const Use& use) {
    for (std::uint32_t pos = first; pos < first + count; pos += 64) {
      std::uint64_t bits;
      if (batch.size() - at < 8) bad("truncated bitmap");
      std::memcpy(&bits, batch.data() + at, 8);
      at += 8;
      const std::uint32_t group = std::min<std::uint32_t>(64, first + count - pos);
      if (group < 64 && (bits >> group) != 0) bad("bits beyond the range");
      const auto n = static_cast<std::size_t>(std::popcount(bits));
      if ((batch.size() - at) / sizeof(Message) < n) bad("truncated messages");
      for (std::uint32_t i = 0; i < group; ++i) {
        if ((bits >> i & 1) == 0) continue;
        Message m;
        std::memcpy(&m, batch.data() + at, sizeof(Message));
        at += sizeof(Message);
        use(pos + i, m);
      }
    }
    return at;
  }

  void receive(int source, Lid v, const Message& m) {
    if (combining_) {
      combine_into(v, m);
    } else {
      received_[static_cast<std::size_t>(source)].push_back({v, m});
    }
  }

  // ---- the next superstep's inbox --------------------------------------------------------

  /// Returns how many owned vertices gathered broadcasts (their combined messages).
  std::uint64_t finish() {
    receivers_ = 0;
    std::uint64_t gathered = 0;
    if (combining_) {
      gathered =
          settle_slots(received_casts_ || received_any_cast_.load(std::memory_order_relaxed));
      received_any_cast_.store(false, std::memory_order_relaxed);
      cast_edges_ = 0;
      owned_casts_ = 0;
      ghost_casts_.store(0, std::memory_order_relaxed);
      std::swap(current_, next_);
      return gathered;
    }
    // Gather the local lists and what arrived into one array by vertex.
    std::vector<std::span<const Local>> lists;
    for (Outbox& out : outboxes_) lists.emplace_back(out.local);
    for (const std::vector<Local>& in : received_) lists.emplace_back(in);
    std::fill(offsets_.begin(), offsets_.end(), 0);
    for (const auto& list : lists) {
      for (const Local& l : list) ++offsets_[l.dst + 1];
    }
    for (Lid v = 0; v < owned_; ++v) {
      receivers_ += offsets_[v + 1] != 0;
      offsets_[v + 1] += offsets_[v];
    }
    all_.resize(offsets_[owned_]);
    fill_.assign(offsets_.begin(), offsets_.end() - 1);
    for (const auto& list : lists) {
      for (const Local& l : list) all_[fill_[l.dst]++] = l.message;
    }
    for (Outbox& out : outboxes_) out.local.clear();
    for (std::vector<Local>& in : received_) in.clear();
    done_vertices_ = 0;
    produced_bytes_ = 0;
    return 0;
  }

  const Topology& graph_;
  const PregelTombstones& dead_;
  const P& program_;
  Cluster* cluster_;
  WorkerPool& pool_;
  PregelRoutes routes_;
  Lid owned_;
  bool combining_ = false;
  // With a combiner: slots by local vertex (next superstep's being filled, this one's).
  std::unique_ptr<Message[]> next_;
  std::unique_ptr<Message[]> current_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> state_;
  std::vector<std::uint8_t> has_;              ///< by owned vertex: current_ holds a message
  std::vector<char> dense_;                    ///< by peer, this superstep
  std::unique_ptr<Message[]> cast_;            ///< by local vertex: the value it broadcast
  std::vector<std::uint8_t> casting_;          ///< by local vertex: cast_ is this superstep's
  std::uint64_t cast_edges_ = 0;               ///< out-edges covered by this superstep's broadcasts
  std::uint64_t sources_ = 0;                  ///< local vertices with out-edges
  std::uint64_t owned_casts_ = 0;              ///< of them, owned ones broadcasting this superstep
  std::atomic<std::uint64_t> ghost_casts_{0};  ///< ghosts with out-edges that cast to us
  bool dense_casts_ = false;                   ///< this rank sends casts (else pushed them)
  bool received_casts_ = false;                ///< this rank has casts to gather
  std::atomic<bool> received_any_cast_{false};
  std::vector<std::size_t> cast_cursor_;  ///< by peer: next position of ours to cast
  // Without: per-thread lists, and the inbox as one array by vertex.
  tbb::enumerable_thread_specific<Outbox> outboxes_;
  std::vector<std::deque<std::vector<Remote>>> pending_;  ///< by peer
  std::size_t pending_bytes_ = 0;
  std::uint64_t produced_bytes_ = 0;          ///< remote bytes computed this superstep
  std::uint64_t done_vertices_ = 0;           ///< vertices computed this superstep
  std::vector<std::vector<Local>> received_;  ///< by source rank
  std::vector<std::uint64_t> offsets_;
  std::vector<std::uint64_t> fill_;
  std::vector<Message> all_;
  std::uint64_t receivers_ = 0;
  // Between ranks.
  std::unique_ptr<Mailboxes> mailboxes_;
  std::vector<std::size_t> capacity_;  ///< by peer
  std::vector<std::size_t> cursor_;    ///< by peer: next ghost position, or list index
};

}  // namespace atl
