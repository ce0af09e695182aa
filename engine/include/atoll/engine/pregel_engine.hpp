// The Pregel engine: bulk-synchronous supersteps of compute(vertex, messages) over the same
// local graph, worker pool and transport as the GraphLab engines.
//
// Superstep S runs compute() on every owned vertex that has not voted to halt or has
// messages (all of them in superstep 0), in parallel over fixed blocks of vertices. Messages
// sent in S are read in S+1 (PregelMessages: combined at the sender and at the receiver when
// the program has a combiner, batched per peer into mailboxes, in several rounds when they do
// not fit). Then every rank's totals and aggregator partials are gathered and merged in rank
// order, the master hook runs on rank 0 and its decisions are broadcast. The run ends when no
// vertex is active and no message is in flight, when the master stops it, or at
// max_iterations (supersteps). With a Cluster every call that changes the run is collective.
//
// Topology mutations requested in superstep S (pregel_mutations.hpp) are applied between S and
// S+1 when any rank made one (pregel_mutation_phase.hpp): removals mark tombstones
// (pregel_tombstones.hpp) that every walk over edges skips; the part is rebuilt, with the
// values, halt flags and waiting messages moved to it, when something is added, when half of
// it is removed, before a checkpoint and at the end of the run. A superstep without requests
// costs one counter per worker thread. EngineOptions::out_graph names a file for the final graph
// (rank 0 writes it, pregel_graph_output.hpp).
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/stolen_time.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/checkpoint_records.hpp"
#include "atoll/engine/checkpoint_store.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/engine/pregel_aggregators.hpp"
#include "atoll/engine/pregel_graph_output.hpp"
#include "atoll/engine/pregel_master.hpp"
#include "atoll/engine/pregel_messages.hpp"
#include "atoll/engine/pregel_mutation_phase.hpp"
#include "atoll/engine/pregel_mutations.hpp"
#include "atoll/engine/pregel_program.hpp"
#include "atoll/engine/pregel_saved_topology.hpp"
#include "atoll/engine/pregel_stats.hpp"
#include "atoll/engine/pregel_tombstones.hpp"
#include "atoll/engine/pregel_vertex.hpp"
#include "atoll/engine/progress_line.hpp"
#include "atoll/engine/run_limits.hpp"
#include "atoll/engine/worker_pool.hpp"
#include "atoll/graph/local_graph.hpp"

namespace atl {

template <typename P>
class PregelEngine {
  static_assert(PregelProgram<P>, "a Pregel program needs VertexValue, EdgeValue and Message");

 public:
  using VertexValue = typename P::VertexValue;
  using EdgeValue = typename P::EdgeValue;
  using Message = typename P::Message;
  using Graph = LocalGraph<VertexValue, EdgeValue>;

  /// With a cluster, graph is this rank's part (owned vertices, then ghosts).
  PregelEngine(Graph& graph, const P& program, const EngineOptions& options,
               Cluster* cluster = nullptr)
      : graph_(graph),
        program_(program),
        options_(options),
        pool_(options.threads),
        cluster_(cluster) {
    Timer setup;
    dead_.reset(topology());
    messages_ = std::make_unique<PregelMessages<P>>(topology(), dead_, program, cluster, pool_,
                                                    options.combine, options.message_buffer);
    halted_.assign(topology().num_owned(), 0);
    make_blocks();
    const CheckpointOptions& c = options.checkpoint;
    if (c.writes() || !c.resume.empty()) {
      CheckpointShape shape;
      shape.engine = "pregel";
      shape.identity = c.run_identity;
      shape.types =
          str_cat("vertex ", checkpoint_type_name<VertexValue>(), " edge ",
                  checkpoint_type_name<EdgeValue>(), " message ", checkpoint_type_name<Message>());
      shape.vertex_bytes = checkpoint_bytes<VertexValue>();
      shape.edge_bytes = checkpoint_bytes<EdgeValue>();
      shape.message_bytes = static_cast<std::uint32_t>(sizeof(Message));
      digest_graph(topology(), cluster_, shape);
      checkpoints_ = std::make_unique<CheckpointStore>(c, std::move(shape), cluster_);
    }
    setup_seconds_ = setup.seconds();
  }

  const Topology& topology() const { return graph_.topology(); }
  const WorkerPool& workers() const { return pool_; }
  bool combining() const { return messages_->combining(); }

  /// Initialises every owned vertex's value with f(lid, value), in parallel.
  template <typename F>
  void init_vertices(F&& f) {
    VertexValue* values = graph_.vertex_data().data();
    run_blocks(0, blocks_.size(), [&](const Block& b) {
      for (Lid v = b.begin; v < b.end; ++v) f(v, values[v]);
    });
  }
  /// Initialises every owned vertex's out-edge values with f(edge id, value).
  template <typename F>
  void init_edges(F&& f) {
    if constexpr (!std::is_empty_v<EdgeValue>) {
      EdgeValue* values = graph_.edge_data().data();
      run_blocks(0, blocks_.size(), [&](const Block& b) {
        for (EdgeId e = topology().out_begin(b.begin); e < topology().out_begin(b.end); ++e) {
          f(e, values[e]);
        }
      });
    }
  }

  /// Registers an aggregator (before run()); see pregel_aggregators.hpp.
  template <typename T, typename How>
  PregelAggregator<T> add_aggregator(std::string name, const T& zero, How how,
                                     Persistence persistence = Persistence::kReset) {
    return aggregators_.add<T>(std::move(name), zero, how, persistence);
  }
  template <typename T>
  const T& aggregated(PregelAggregator<T> h) const {
    return aggregators_.value(h);
  }

  /// Keeps the value every owned vertex had when a mutation removed it (call before run()):
  /// an app whose answer leaves the graph with its vertices (kcore) reads them afterwards in
  /// removed_values(), and checkpoints carry them. A vertex removed twice is listed twice.
  void keep_removed_values() { keep_removed_ = true; }
  /// This rank's removed vertices with their last values, in no particular order.
  std::span<const std::pair<Gid, VertexValue>> removed_values() const { return removed_; }

  /// Runs supersteps until every vertex has halted and no message is in flight, the master
  /// stops the run, or options.max_iterations supersteps.
  PregelStats run() {
    PregelStats stats;
    stats.setup_seconds = setup_seconds_;
    stats.ranks = cluster_ != nullptr ? cluster_->size() : 1;
    stats.workers = pool_.describe();
    partials_.assign(blocks_.size() * aggregators_.partial_bytes(), std::byte{0});
    // Messages mostly arrive while this rank waits at the superstep's end, driving the
    // network itself: the progress thread need not poll on after it.
    std::optional<ScopedIdlePolls> quiet;
    if (cluster_ != nullptr) quiet.emplace(cluster_->transport, kEngineIdlePolls);
    Timer total;
    const StolenTime stolen;
    ProgressLine progress(options_.progress && (cluster_ == nullptr || cluster_->rank() == 0),
                          "superstep");
    // Resumed: values, halted flags, messages in flight and aggregators of the epoch.
    const std::uint64_t first = checkpoints_ && !options_.checkpoint.resume.empty() ? resume() : 0;
    for (superstep_ = first; superstep_ < options_.max_iterations; ++superstep_) {
      Timer timer;
      for (Tally& t : tallies_) t = {};
      for (std::size_t b = 0; b < blocks_.size(); ++b) {
        aggregators_.clear_partial(partials_.data() + b * aggregators_.partial_bytes());
      }
      next_block_ = 0;
      DeliveryStats delivery =
          messages_->deliver([this](std::uint64_t vertices) { return compute_more(vertices); });
      Totals mine;
      for (const Tally& t : tallies_) {
        mine.active += t.active;
        mine.not_halted += t.not_halted;
        mine.sent += t.sent;
      }
      mine.combined = delivery.combined;
      mine.remote = delivery.remote;
      mine.receivers = messages_->receivers();
      mine.requests = mutations_.count();
      std::vector<std::byte> partial(aggregators_.partial_bytes());
      aggregators_.clear_partial(partial.data());
      for (std::size_t b = 0; b < blocks_.size(); ++b) {
        aggregators_.merge_partial(partial.data(),
                                   partials_.data() + b * aggregators_.partial_bytes());
      }
      Totals all = reduce(mine, partial);
      std::uint32_t mutation_rounds = 0;
      if (all.requests > 0) {
        const std::pair<std::uint64_t, std::uint64_t> left = mutate(stats, mutation_rounds);
        all.not_halted = left.first;
        all.receivers = left.second;
      }
      aggregators_.finish_superstep(partial.data());
      SuperstepRecord record{superstep_,
                             all.active,
                             all.sent,
                             all.combined,
                             all.remote,
                             delivery.bytes,
                             delivery.remote * sizeof(Message),
                             delivery.rounds,
                             0.0,
                             all.requests,
                             mutation_rounds};
      stats.mutations += all.requests;
      const bool stop = run_master(record, all.not_halted);
      record.seconds = timer.seconds();
      stats.computes += all.active;
      stats.bytes_sent += record.bytes_sent;
      stats.lower_bound += record.lower_bound;
      stats.log.push_back(record);
      ++stats.supersteps;
      progress.report({record.superstep, record.active, record.seconds}, stats.bytes_sent);
      if (stop) {
        stats.stopped_by_master = true;
        break;
      }
      if (all.not_halted == 0 && all.receivers == 0) break;
      stats.stopped_by = limit_reached(options_, stats.computes, total.seconds(), cluster_);
      if (!stats.stopped_by.empty()) {
        stats.still_active = all.not_halted + all.receivers;
        break;
      }
      if (checkpoints_) {
        checkpoints_->settle(false);  // an epoch still being written
        if (checkpoints_->due(superstep_ + 1)) {
          compact(stats);
          write_checkpoint(stats.computes);
        }
      }
    }
    if (checkpoints_) checkpoints_->settle(true);
    compact(stats);  // the graph leaves the engine exactly as mutated
    stats.seconds = total.seconds();
    stats.steal_seconds = stolen.seconds();
    stats.combined = messages_->combining();
    if (!options_.out_graph.empty()) write_pregel_graph(topology(), cluster_, options_.out_graph);
    if (checkpoints_) stats.checkpoints = checkpoints_->stats();
    return stats;
  }

 private:
  friend class PregelVertex<P>;
  static constexpr Lid kBlock = 4096;

  struct Block {
    Lid begin;
    Lid end;
  };
  struct Tally {
    std::uint64_t active = 0;
    std::uint64_t not_halted = 0;
    std::uint64_t sent = 0;
    std::uint64_t cast_edges = 0;  ///< out-edges covered by send_to_neighbors
    std::uint64_t casts = 0;       ///< vertices with out-edges that called it
  };
  struct Totals {
    std::uint64_t active = 0, not_halted = 0, sent = 0, combined = 0, remote = 0, receivers = 0;
    std::uint64_t requests = 0;  ///< topology mutation requests
  };

  /// Fixed blocks of owned vertices, node by node (after set-up and after every mutation).
  void make_blocks() {
    blocks_.clear();
    node_blocks_.clear();
    const std::vector<LidRange> ranges = pool_.split(topology().num_owned());
    for (int node = 0; node < pool_.nodes(); ++node) {
      node_blocks_.push_back(blocks_.size());
      for (Lid b = ranges[node].begin; b < ranges[node].end;
           b += std::min(kBlock, ranges[node].end - b)) {
        blocks_.push_back({b, std::min(ranges[node].end, b + kBlock)});
      }
    }
    node_blocks_.push_back(blocks_.size());
    tallies_.assign(blocks_.size(), Tally{});
  }

  /// Applies this superstep's topology mutations (collective); returns the vertices not halted
  /// and the vertices with messages afterwards, over all ranks, and sets the exchange rounds.
  std::pair<std::uint64_t, std::uint64_t> mutate(PregelStats& stats, std::uint32_t& rounds) {
    rounds = apply(mutations_.take(), false, stats);
    std::uint64_t left[2] = {0, messages_->receivers()};
    for (std::uint8_t h : halted_) left[0] += h == 0 ? 1 : 0;
    if (cluster_ != nullptr)
      cluster_->collectives.allreduce(std::span<std::uint64_t>(left), ReduceOp::kSum);
    return {left[0], left[1]};
  }

  /// Collective: rebuilds the part without its tombstones when any rank has some.
  void compact(PregelStats& stats) {
    std::uint32_t dirty = dead_.clean() ? 0 : 1;
    if (cluster_ != nullptr) dirty = cluster_->collectives.allreduce(dirty, ReduceOp::kMax);
    if (dirty != 0) apply({}, true, stats);
  }

  /// Applies requests (collective), compacting the part when the phase decides to or `force`;
  /// returns the exchange rounds.
  std::uint32_t apply(typename PregelMutationRequests<P>::Lists requests, bool force,
                      PregelStats& stats) {
    auto inbox = [this] {
      std::vector<std::pair<Gid, Message>> all;
      for (Lid v = 0; v < topology().num_owned(); ++v) {
        for (const Message& m : messages_->messages(v)) all.emplace_back(topology().gid(v), m);
      }
      return all;
    };
    PregelMutationOutcome<P> outcome =
        apply_pregel_mutations<P>(graph_, halted_, dead_, std::move(requests), program_, cluster_,
                                  options_.message_buffer, force, inbox);
    if (keep_removed_) {
      for (Lid v : outcome.removed)
        removed_.emplace_back(topology().gid(v), graph_.vertex_data()[v]);
    }
    stats.dropped += outcome.dropped;
    mutated_ = true;
    if (!outcome.graph) {  // tombstones: a removed vertex is halted and has no messages
      for (Lid v : outcome.removed) halted_[v] = 1;
      stats.dropped += messages_->drop(outcome.removed);
      messages_->add(outcome.inbox);
      return outcome.rounds;
    }
    messages_.reset();  // collective: frees the mailboxes sized for the old part
    graph_ = std::move(*outcome.graph);
    halted_ = std::move(outcome.halted);
    dead_.reset(topology());
    messages_ = std::make_unique<PregelMessages<P>>(topology(), dead_, program_, cluster_, pool_,
                                                    options_.combine, options_.message_buffer);
    messages_->set_inbox(outcome.inbox);
    make_blocks();
    partials_.assign(blocks_.size() * aggregators_.partial_bytes(), std::byte{0});
    return outcome.rounds;
  }

  /// After superstep_ (so before superstep_ + 1): values, halted flags, edges, the messages
  /// the next superstep reads, aggregator values and the compute count. Once the topology has
  /// changed the epoch carries it (every vertex and edge, the removed vertices' values).
  void write_checkpoint(std::uint64_t computes) {
    checkpoints_->settle(true);  // the spare buffers are free only once it is committed
    CheckpointPart part = checkpoints_->take_spare();  // an earlier epoch's, overwritten
    part.vertices.clear();
    part.edges.clear();
    part.messages.clear();
    part.state.clear();
    part.topology = {};
    save_vertex_records(graph_, part.vertices, [&](Lid v, CheckpointVertexHeader& h) {
      if (halted_[v] != 0) h.flags = kCheckpointHalted;
    });
    if (mutated_) {  // every rank mutated together, so every rank is here
      constexpr std::size_t kRecord =
          sizeof(CheckpointVertexHeader) + checkpoint_bytes<VertexValue>();
      for (const auto& [g, value] : removed_) {
        const std::size_t at = part.vertices.size();
        part.vertices.resize(at + kRecord);
        const CheckpointVertexHeader h{g, 0.0, kCheckpointRemoved, 0};
        std::memcpy(part.vertices.data() + at, &h, sizeof h);
        if constexpr (kRecord > sizeof h) {
          std::memcpy(part.vertices.data() + at + sizeof h, &value, kRecord - sizeof h);
        }
      }
      CheckpointTopology& saved = part.topology;
      saved.saved = true;
      saved.weight_bytes = topology().weighted() ? sizeof(double) : 0;
      std::uint64_t counts[2] = {topology().num_owned(), topology().owned_edges()};
      if (cluster_ != nullptr)
        cluster_->collectives.allreduce(std::span<std::uint64_t>(counts), ReduceOp::kSum);
      saved.vertices = counts[0];
      saved.edges = counts[1];
      save_topology_edge_records(graph_, saved.weight_bytes, part.edges);
    } else {
      save_edge_records(graph_, part.edges);
    }
    constexpr std::size_t kRecord = sizeof(CheckpointMessageHeader) + sizeof(Message);
    for (Lid v = 0; v < topology().num_owned(); ++v) {
      for (const Message& m : messages_->messages(v)) {
        const std::size_t at = part.messages.size();
        part.messages.resize(at + kRecord);
        const CheckpointMessageHeader h{topology().gid(v)};
        std::memcpy(part.messages.data() + at, &h, sizeof h);
        std::memcpy(part.messages.data() + at + sizeof h, &m, sizeof m);
      }
    }
    std::span<const std::byte> values = aggregators_.values();
    part.state["pregel:aggregators"] =
        std::string(reinterpret_cast<const char*>(values.data()), values.size());
    part.state["engine:computes"] =
        std::string(reinterpret_cast<const char*>(&computes), sizeof computes);
    checkpoints_->write_behind(superstep_ + 1, std::move(part));
  }

  /// Loads the newest valid epoch of --resume; returns the superstep to run next.
  std::uint64_t resume() {
    const Topology& t = topology();
    RestoredEpoch epoch = checkpoints_->resume(owned_gids(t), edge_source_gids(t));
    if (epoch.topology.saved) {
      // The epoch's graph replaces the input graph, like a mutation (collective).
      PregelSavedGraph<P> saved = build_saved_graph<P>(epoch, t.weighted(), cluster_);
      messages_.reset();
      graph_ = std::move(saved.graph);
      halted_ = std::move(saved.halted);
      removed_ = std::move(saved.removed);
      dead_.reset(topology());
      messages_ = std::make_unique<PregelMessages<P>>(topology(), dead_, program_, cluster_, pool_,
                                                      options_.combine, options_.message_buffer);
      messages_->set_inbox(saved.inbox);
      mutated_ = true;
      make_blocks();
      partials_.assign(blocks_.size() * aggregators_.partial_bytes(), std::byte{0});
    } else {
      restore_vertex_records(graph_, epoch, [&](Lid v, const CheckpointVertexHeader& h) {
        halted_[v] = (h.flags & kCheckpointHalted) != 0 ? 1 : 0;
      });
      restore_edge_records(graph_, epoch);
      constexpr std::size_t kRecord = sizeof(CheckpointMessageHeader) + sizeof(Message);
      std::vector<std::pair<Lid, Message>> inbox(epoch.messages.size() / kRecord);
      for (std::size_t i = 0; i < inbox.size(); ++i) {
        CheckpointMessageHeader h;
        std::memcpy(&h, epoch.messages.data() + i * kRecord, sizeof h);
        const Lid v = t.lid(h.dst);
        if (v == kInvalidLid || v >= t.num_owned()) {
          fail(epoch.dir, ": a message for vertex ", h.dst, ", which this rank does not own");
        }
        inbox[i].first = v;
        std::memcpy(&inbox[i].second, epoch.messages.data() + i * kRecord + sizeof h,
                    sizeof(Message));
      }
      messages_->set_inbox(inbox);
    }
    auto it = epoch.state.find("pregel:aggregators");
    if (it == epoch.state.end() || it->second.size() != aggregators_.values().size()) {
      fail(epoch.dir, ": the saved aggregators do not match this program's");
    }
    aggregators_.set_values(std::as_bytes(std::span(it->second)));
    return epoch.iteration;
  }

  /// Runs body(block) for blocks [first, last) on their NUMA nodes' arenas.
  template <typename Body>
  void run_blocks(std::size_t first, std::size_t last, Body&& body) {
    pool_.run_on_nodes([&](int node) {
      const std::size_t begin = std::max(first, node_blocks_[node]);
      const std::size_t end = std::min(last, node_blocks_[node + 1]);
      if (begin >= end) return;
      tbb::parallel_for(tbb::blocked_range<std::size_t>(begin, end, 1),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t b = r.begin(); b < r.end(); ++b) body(blocks_[b]);
                        });
    });
  }

  /// Computes the next blocks, at least `vertices` vertices' worth; returns how many.
  std::uint64_t compute_more(std::uint64_t vertices) {
    const std::size_t first = next_block_;
    std::uint64_t covered = 0;
    while (next_block_ < blocks_.size() && covered < vertices) {
      covered += blocks_[next_block_].end - blocks_[next_block_].begin;
      ++next_block_;
    }
    const std::size_t pb = aggregators_.partial_bytes();
    run_blocks(first, next_block_, [&](const Block& b) {
      const std::size_t index = static_cast<std::size_t>(&b - blocks_.data());
      Tally& tally = tallies_[index];
      std::byte* partial = partials_.data() + index * pb;
      for (Lid v = b.begin; v < b.end; ++v) {
        if (halted_[v] != 0 && !messages_->has_messages(v)) continue;
        PregelVertex<P> vertex(*this, v, partial);
        program_.compute(vertex, messages_->messages(v));
        halted_[v] = vertex.halted_ ? 1 : 0;
        ++tally.active;
        tally.not_halted += vertex.halted_ ? 0 : 1;
        tally.sent += vertex.sent_;
        tally.cast_edges += vertex.cast_edges_;
        tally.casts += vertex.casts_;
      }
    });
    std::uint64_t cast_edges = 0, casts = 0;
    for (std::size_t b = first; b < next_block_; ++b) {
      cast_edges += tallies_[b].cast_edges;
      casts += tallies_[b].casts;
    }
    messages_->add_casts(cast_edges, casts);
    return covered;
  }

  /// Every rank's totals and aggregator partials, merged in rank order (partial in place).
  Totals reduce(const Totals& mine, std::vector<std::byte>& partial) {
    if (cluster_ == nullptr) return mine;
    std::string bytes(sizeof(Totals) + partial.size(), '\0');
    std::memcpy(bytes.data(), &mine, sizeof(Totals));
    if (!partial.empty())
      std::memcpy(bytes.data() + sizeof(Totals), partial.data(), partial.size());
    std::vector<std::string> ranks = cluster_->collectives.allgather(bytes);
    Totals all;
    aggregators_.clear_partial(partial.data());
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      if (ranks[r].size() != bytes.size()) {
        fail("rank ", r, " sent a superstep summary of ", ranks[r].size(), " bytes, expected ",
             bytes.size());
      }
      Totals t;
      std::memcpy(&t, ranks[r].data(), sizeof t);
      all.active += t.active;
      all.not_halted += t.not_halted;
      all.sent += t.sent;
      all.combined += t.combined;
      all.remote += t.remote;
      all.receivers += t.receivers;
      all.requests += t.requests;
      aggregators_.merge_partial(
          partial.data(), reinterpret_cast<const std::byte*>(ranks[r].data()) + sizeof(Totals));
    }
    return all;
  }

  /// Runs the master hook on rank 0 and shares its decisions; returns whether to stop.
  bool run_master(const SuperstepRecord& record, std::uint64_t not_halted) {
    if constexpr (!PregelMasterHook<P>) {
      return false;
    } else {
      const bool root = cluster_ == nullptr || cluster_->rank() == 0;
      bool stop = false;
      if (root) {
        PregelMaster master(aggregators_, record, not_halted);
        program_.master(master);
        stop = master.stopped();
      }
      if (cluster_ == nullptr) return stop;
      std::span<const std::byte> values = aggregators_.values();
      std::string bytes(1 + values.size(), '\0');
      if (root) {
        bytes[0] = stop ? 1 : 0;
        if (!values.empty()) std::memcpy(bytes.data() + 1, values.data(), values.size());
      }
      cluster_->collectives.broadcast(0, bytes);
      if (bytes.size() != 1 + values.size()) fail("rank 0 sent a malformed master decision");
      aggregators_.set_values(std::as_bytes(std::span(bytes)).subspan(1));
      return bytes[0] != 0;
    }
  }

  Graph& graph_;
  const P& program_;
  EngineOptions options_;
  WorkerPool pool_;
  Cluster* cluster_;
  PregelTombstones dead_;  ///< removed but not compacted yet; messages_ walks skip them
  std::unique_ptr<PregelMessages<P>> messages_;
  PregelMutationRequests<P> mutations_;
  PregelAggregatorTable aggregators_;
  std::vector<std::uint8_t> halted_;  ///< by owned vertex
  std::vector<Block> blocks_;         ///< node 0's blocks, then node 1's, ...
  std::vector<std::size_t> node_blocks_;
  std::vector<Tally> tallies_;       ///< by block, this superstep
  std::vector<std::byte> partials_;  ///< by block: aggregator partials
  std::size_t next_block_ = 0;
  std::uint64_t superstep_ = 0;
  double setup_seconds_ = 0;
  std::unique_ptr<CheckpointStore> checkpoints_;  ///< with --checkpoint-dir or --resume
  bool mutated_ = false;                          ///< a superstep changed the topology
  bool keep_removed_ = false;                     ///< keep_removed_values()
  std::vector<std::pair<Gid, VertexValue>> removed_;
};

// ---- PregelVertex members --------------------------------------------------------------

template <typename P>
Gid PregelVertex<P>::gid() const {
  return engine_.topology().gid(lid_);
}
template <typename P>
typename P::VertexValue& PregelVertex<P>::value() {
  return engine_.graph_.vertex_data()[lid_];
}
template <typename P>
std::uint64_t PregelVertex<P>::superstep() const {
  return engine_.superstep_;
}
template <typename P>
std::size_t PregelVertex<P>::num_out_edges() const {
  return engine_.dead_.out_degree(lid_);
}
template <typename P>
EdgeId PregelVertex<P>::live_from(EdgeId e) const {
  const PregelTombstones& dead = engine_.dead_;
  if (dead.clean()) return e;
  const Topology& t = engine_.topology();
  const EdgeId end = t.out_end(lid_);
  while (e < end && !dead.live_out(e, t.out_targets()[e])) ++e;
  return e;
}
template <typename P>
typename PregelVertex<P>::EdgeIterator& PregelVertex<P>::EdgeIterator::operator++() {
  edge_ = vertex_->live_from(edge_ + 1);
  return *this;
}
template <typename P>
typename PregelVertex<P>::EdgeIterator PregelVertex<P>::Edges::begin() const {
  return {vertex, vertex.live_from(vertex.engine_.topology().out_begin(vertex.lid_))};
}
template <typename P>
typename PregelVertex<P>::EdgeIterator PregelVertex<P>::Edges::end() const {
  return {vertex, vertex.engine_.topology().out_end(vertex.lid_)};
}
template <typename P>
Gid PregelVertex<P>::Edge::target() const {
  const Topology& t = vertex_.engine_.topology();
  return t.gid(t.out_targets()[edge_]);
}
template <typename P>
double PregelVertex<P>::Edge::weight() const {
  const Topology& t = vertex_.engine_.topology();
  return t.weighted() ? t.weights()[edge_] : 1.0;
}
template <typename P>
typename P::EdgeValue& PregelVertex<P>::Edge::value() {
  return vertex_.engine_.graph_.edge_data()[edge_];
}
template <typename P>
void PregelVertex<P>::Edge::send(const Message& m) {
  ++vertex_.sent_;
  vertex_.engine_.messages_->send(vertex_.engine_.topology().out_targets()[edge_], m);
}
template <typename P>
void PregelVertex<P>::send(Gid target, const Message& m) {
  const Topology& t = engine_.topology();
  const Lid to = t.lid(target);
  ++sent_;
  if (to == kInvalidLid || engine_.dead_.dead(to)) {  // not held: goes with the mutations
    engine_.mutations_.local().messages.push_back({target, m});
    return;
  }
  engine_.messages_->send(to, m);
}
template <typename P>
void PregelVertex<P>::add_vertex(Gid g, const VertexValue& value) {
  engine_.mutations_.local().add_vertices.push_back({g, value});
}
template <typename P>
void PregelVertex<P>::remove_vertex(Gid g) {
  engine_.mutations_.local().remove_vertices.push_back(g);
}
template <typename P>
void PregelVertex<P>::add_edge(Gid src, Gid dst, const EdgeValue& value) {
  engine_.mutations_.local().add_edges.push_back({src, dst, value});
}
template <typename P>
void PregelVertex<P>::remove_edge(Gid src, Gid dst) {
  engine_.mutations_.local().remove_edges.push_back({src, dst});
}
template <typename P>
void PregelVertex<P>::send_to_neighbors(const Message& m) {
  const std::size_t edges = num_out_edges();
  sent_ += edges;
  cast_edges_ += edges;
  casts_ += engine_.messages_->broadcast(lid_, m, edges) ? 1 : 0;
}
template <typename P>
std::size_t PregelVertex<P>::num_in_edges() const {
  return engine_.dead_.in_degree(lid_);
}
template <typename P>
template <typename F>
void PregelVertex<P>::for_each_in_neighbor(F&& f) const {
  const Topology& t = engine_.topology();
  engine_.dead_.for_each_in(lid_, [&](Lid u) { f(t.gid(u)); });
}
template <typename P>
void PregelVertex<P>::send_to_in_neighbors(const Message& m) {
  engine_.dead_.for_each_in(lid_, [&](Lid u) {
    ++sent_;
    engine_.messages_->send(u, m);
  });
}
template <typename P>
template <typename T>
const T& PregelVertex<P>::aggregated(PregelAggregator<T> h) const {
  return engine_.aggregators_.value(h);
}
template <typename P>
template <typename T>
void PregelVertex<P>::aggregate(PregelAggregator<T> h, const T& v) {
  engine_.aggregators_.contribute(partial_, h, v);
}

}  // namespace atl
