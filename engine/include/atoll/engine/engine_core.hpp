// What every engine shares, written once: the program and its local graph, the resolved
// consistency model, the NUMA worker pool with first-touch initialisation of the data arrays,
// aggregators with their deterministic reduction over ranks, and, across ranks, ghost and
// cut-edge pushes and the schedule requests for ghosts. An engine owns one EngineCore and adds
// its own way of running updates.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/aggregator.hpp"
#include "atoll/engine/checkpoint_records.hpp"
#include "atoll/engine/checkpoint_store.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/edge_sync.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/engine/ghost_sync.hpp"
#include "atoll/engine/program.hpp"
#include "atoll/engine/request_set.hpp"
#include "atoll/engine/run_stats.hpp"
#include "atoll/engine/worker_pool.hpp"
#include "atoll/graph/local_graph.hpp"

namespace atl {

/// The model an engine runs `P` under: the program's own, or a stronger one from the options
/// (a weaker one is a usage error).
template <GraphProgram P>
Consistency resolve_consistency(const EngineOptions& options) {
  if (options.consistency && *options.consistency < P::kConsistency) {
    usage_fail("this program needs ", consistency_name(P::kConsistency),
               " consistency; --consistency ", consistency_name(*options.consistency),
               " is weaker");
  }
  return options.consistency.value_or(P::kConsistency);
}

template <GraphProgram P>
class EngineCore {
 public:
  using VertexData = typename P::VertexData;
  using EdgeData = typename P::EdgeData;
  using Graph = LocalGraph<VertexData, EdgeData>;

  /// With a cluster the graph is this rank's part and construction is collective (it sets up
  /// the ghost and cut-edge pushes).
  EngineCore(Graph& graph, const P& program, const EngineOptions& options, Cluster* cluster)
      : graph_(graph),
        program_(program),
        options_(options),
        consistency_(resolve_consistency<P>(options)),
        pool_(options.threads),
        cluster_(cluster) {
    fold_ranges_ = pool_.split(topology().num_owned());
    fold_block_ = std::clamp<Lid>((topology().num_owned() + 255) / 256, 1, 2048);
    fold_first_block_.push_back(0);
    for (const LidRange& r : fold_ranges_) {
      fold_first_block_.push_back(fold_first_block_.back() +
                                  (r.end - r.begin + fold_block_ - 1) / fold_block_);
    }
    if (cluster_ == nullptr) return;
    // The aggregators due at one sync point reduce in one allgather.
    aggregators_.set_reduce(
        [cluster](const std::string& mine) { return cluster->collectives.allgather(mine); });
    remote_.resize(topology().num_vertices() - topology().num_owned());
    ghosts_ = std::make_unique<GhostSync>(topology(), *cluster_);
    // Updates may write adjacent edges under edge and full consistency: keep cut edges' two
    // copies equal.
    if (consistency_ != Consistency::kVertex && !std::is_empty_v<EdgeData>) {
      edge_sync_ = std::make_unique<EdgeSync>(topology(), *cluster_);
    }
  }

  Graph& graph() { return graph_; }
  const Topology& topology() const { return graph_.topology(); }
  const P& program() const { return program_; }
  const EngineOptions& options() const { return options_; }
  Consistency consistency() const { return consistency_; }
  WorkerPool& pool() { return pool_; }
  const WorkerPool& pool() const { return pool_; }
  Cluster* cluster() const { return cluster_; }
  int ranks() const { return cluster_ != nullptr ? cluster_->size() : 1; }

  /// Calls f(lid) for every owned vertex, in parallel, each node's range on its own arena.
  template <typename F>
  void for_each_owned(F&& f) {
    for_each_owned_range([&](Lid begin, Lid end) {
      for (Lid v = begin; v < end; ++v) f(v);
    });
  }

  /// As for_each_owned, but f(begin, end) is called for ranges of owned lids.
  template <typename F>
  void for_each_owned_range(F&& f) {
    for_each_range(topology().num_owned(), std::forward<F>(f));
  }

  /// f(begin, end) for ranges covering lids [0, count), in parallel on the workers' arenas.
  template <typename F>
  void for_each_range(Lid count, F&& f) {
    std::vector<LidRange> ranges = pool_.split(count);
    pool_.run_on_nodes([&](int node) {
      tbb::parallel_for(tbb::blocked_range<Lid>(ranges[node].begin, ranges[node].end, 1024),
                        [&](const tbb::blocked_range<Lid>& r) { f(r.begin(), r.end()); });
    });
  }

  /// Initialises every owned vertex's data with f(lid, data), on the vertex's NUMA node.
  template <typename F>
  void init_vertices(F&& f) {
    VertexData* data = graph_.vertex_data().data();
    for_each_owned([&](Lid v) { f(v, data[v]); });
  }

  /// Initialises every edge's data with f(edge id, data), on the NUMA node of its source;
  /// edges from ghosts (the cut edges whose source another rank owns) too.
  template <typename F>
  void init_edges(F&& f) {
    if constexpr (!std::is_empty_v<EdgeData>) {
      EdgeData* data = graph_.edge_data().data();
      const Topology& t = topology();
      for_each_owned([&](Lid v) {
        for (EdgeId e = t.out_begin(v); e < t.out_end(v); ++e) f(e, data[e]);
      });
      for (EdgeId e = t.owned_edges(); e < t.num_edges(); ++e) f(e, data[e]);
    }
  }

  /// Registers an aggregator: fold(const VertexData&, const VertexInfo&) -> T over owned
  /// vertices, merge(T, T) -> T, finalize(T) -> T; the engine runs it at `when`. The result
  /// is deterministic: owned vertices fold in fixed blocks (fold_block_count()) whose partials
  /// merge left to right, for any thread count, and ranks' totals merge in rank order. An
  /// aggregator due every iteration may be folded by the engine's update pass instead of a
  /// pass of its own (fold_block, folded_all): the same blocks, so the same value.
  template <typename T, typename Fold, typename Merge, typename Finalize>
  AggregatorHandle<T> add_aggregator(std::string name, T zero, Fold fold, Merge merge,
                                     Finalize finalize, SyncInterval when) {
    struct Partials {
      std::vector<T> blocks;
      bool ready = false;  ///< the update pass folded every block since the last run
    };
    auto partials = std::make_shared<Partials>();
    partials->blocks.assign(fold_block_count(), zero);
    auto fold_range = [this, zero, fold, merge](LidRange r) {
      const VertexData* data = graph_.vertex_data().data();
      const Topology& t = topology();
      T acc = zero;
      for (Lid v = r.begin; v < r.end; ++v) {
        acc = merge(acc, fold(data[v], VertexInfo{v, t.gid(v), t.in_degree(v), t.out_degree(v)}));
      }
      return acc;
    };
    auto local = [this, partials, fold_range, zero, merge](void* out) {
      std::vector<T>& blocks = partials->blocks;
      if (!partials->ready) {
        pool_.run_on_nodes([&](int node) {
          const auto [first, last] = fold_blocks_of_node(node);
          tbb::parallel_for(tbb::blocked_range<std::size_t>(first, last, 1),
                            [&](const tbb::blocked_range<std::size_t>& r) {
                              for (std::size_t b = r.begin(); b < r.end(); ++b) {
                                blocks[b] = fold_range(fold_block(b));
                              }
                            });
        });
      }
      partials->ready = false;
      T total = zero;
      for (const T& p : blocks) total = merge(total, p);
      std::memcpy(out, &total, sizeof(T));
    };
    // Ranks' totals merge in rank order from zero; one rank's total is taken as it is.
    auto finish = [ranks = cluster_ != nullptr, zero, merge, finalize](
                      std::span<const std::string_view> parts, void* out) {
      T total = zero;
      for (std::string_view bytes : parts) {
        T part;
        std::memcpy(&part, bytes.data(), sizeof(T));
        total = ranks ? merge(total, part) : part;
      }
      T result = finalize(total);
      std::memcpy(out, &result, sizeof(T));
    };
    if (when.updates == 0) {
      pass_folds_.push_back({[partials, fold_range](std::size_t b, LidRange r) {
                               partials->blocks[b] = fold_range(r);
                             },
                             [partials] { partials->ready = true; }});
    }
    return aggregators_.add<T>(std::move(name), zero, when, std::move(local), std::move(finish));
  }

  /// Owned vertices fold in blocks of this many (up to 2048; small graphs get about 256
  /// blocks, so that an engine's pass over them still spreads over threads), each node's range
  /// split from its start. It depends on the vertex count alone, never on the threads.
  Lid fold_block_size() const { return fold_block_; }
  std::size_t fold_block_count() const { return fold_first_block_.back(); }
  /// The blocks [first, last) of node `node`'s vertex range.
  std::pair<std::size_t, std::size_t> fold_blocks_of_node(int node) const {
    return {fold_first_block_[node], fold_first_block_[node + 1]};
  }
  /// The vertices of block b.
  LidRange fold_block(std::size_t b) const {
    const auto node = static_cast<std::size_t>(
        std::upper_bound(fold_first_block_.begin(), fold_first_block_.end(), b) -
        fold_first_block_.begin() - 1);
    const Lid begin =
        fold_ranges_[node].begin + static_cast<Lid>((b - fold_first_block_[node]) * fold_block_);
    return {begin, std::min<Lid>(begin + fold_block_, fold_ranges_[node].end)};
  }
  /// For an engine whose update pass covers every owned vertex once (in any order of blocks):
  /// folds block b, whose vertices' updates are done, into every aggregator due each
  /// iteration. Thread-safe for distinct blocks.
  void fold_block_in_pass(std::size_t b, LidRange r) {
    for (const PassFold& f : pass_folds_) f.fold(b, r);
  }
  /// Every block was folded by fold_block_in_pass and no vertex changes before the aggregators
  /// run: they use those partials instead of a pass of their own.
  void folded_all() {
    for (const PassFold& f : pass_folds_) f.done();
  }
  AggregatorTable& aggregators() { return aggregators_; }
  const AggregatorTable& aggregators() const { return aggregators_; }

  // ---- across ranks (null / no-ops without a cluster) ----

  GhostSync* ghosts() { return ghosts_.get(); }
  /// Set under edge and full consistency when the program has edge data.
  EdgeSync* edge_sync() { return edge_sync_.get(); }

  /// Records a schedule request for a ghost (lid >= num_owned), sent to its owner with the
  /// next ghost push; false when v is owned (the caller schedules it itself).
  bool schedule_remote(Lid v, double priority) {
    const Lid owned = topology().num_owned();
    if (v < owned) return false;
    if (cluster_ == nullptr || v >= topology().num_vertices()) {
      fail("schedule: lid ", v, " is not a vertex of this graph");
    }
    remote_.add(v - owned, priority);
    return true;
  }
  /// The schedule requests for ghosts made since the last call (by ghost lid).
  std::vector<ScheduleRequest> take_remote_requests() {
    std::vector<ScheduleRequest> all;
    const Lid owned = topology().num_owned();
    remote_.take([&](Lid ghost, double priority) { all.push_back({owned + ghost, priority}); });
    return all;
  }

  /// The vertex data as GhostSync moves it; received ghost values are also copied to mirror.
  GhostSync::Arrays vertex_arrays(VertexData* mirror = nullptr) {
    return {reinterpret_cast<std::byte*>(graph_.vertex_data().data()),
            reinterpret_cast<std::byte*>(mirror), sizeof(VertexData)};
  }

  /// Collective: sends the data of the cut edges adjacent to the updated owned vertices.
  void push_cut_edges(std::span<const std::span<const Lid>> updated) {
    if constexpr (!std::is_empty_v<EdgeData>) {
      if (edge_sync_) {
        edge_sync_->push(reinterpret_cast<std::byte*>(graph_.edge_data().data()), sizeof(EdgeData),
                         updated);
      }
    }
  }

  // ---- checkpoints ----

  /// Collective: opens the checkpoint store when options ask for checkpoints or a resume.
  /// `message` names the Pregel message type ("" and 0 bytes for GraphLab engines).
  void open_checkpoints(EngineKind kind, const std::string& message_type = {},
                        std::uint32_t message_bytes = 0) {
    const CheckpointOptions& c = options_.checkpoint;
    if (!c.writes() && c.resume.empty()) return;
    CheckpointShape shape;
    shape.engine = std::string(engine_name(kind));
    shape.identity = c.run_identity;
    shape.types = str_cat("vertex ", checkpoint_type_name<VertexData>(), " edge ",
                          checkpoint_type_name<EdgeData>(), " message ", message_type);
    shape.vertex_bytes = checkpoint_bytes<VertexData>();
    shape.edge_bytes = checkpoint_bytes<EdgeData>();
    shape.message_bytes = message_bytes;
    digest_graph(topology(), cluster_, shape);
    checkpoints_ = std::make_unique<CheckpointStore>(c, std::move(shape), cluster_);
  }
  /// Null unless open_checkpoints found something to do.
  CheckpointStore* checkpoints() { return checkpoints_.get(); }
  bool resuming() const { return checkpoints_ && !options_.checkpoint.resume.empty(); }

  /// Collective: writes an epoch after `iteration` iterations: the owned data, `pending`
  /// (scheduled vertices by lid, with priorities), edges, aggregators, persisted values and
  /// the update count. `behind`: the file is written while the run goes on, and the engine
  /// calls checkpoints()->settle() at its later collective points (CheckpointStore).
  void write_checkpoint(std::vector<PendingVertex> pending, std::uint64_t iteration,
                        std::uint64_t updates, bool behind = false) {
    auto by_lid = [](const PendingVertex& a, const PendingVertex& b) { return a.index < b.index; };
    if (!std::is_sorted(pending.begin(), pending.end(), by_lid)) {
      std::sort(pending.begin(), pending.end(), by_lid);
    }
    checkpoints_->settle(true);  // the spare buffers are free only once it is committed
    CheckpointPart part = checkpoints_->take_spare();  // an earlier epoch's, overwritten
    auto next = pending.begin();
    save_vertex_records(
        graph_, part.vertices,
        [&](Lid v, CheckpointVertexHeader& h) {
          if (next != pending.end() && next->index == v) {
            h.flags = kCheckpointScheduled;
            h.priority = next->priority;  // any value: priorities may be negative
            ++next;
          }
        },
        0);
    part.edges.clear();
    save_edge_records(graph_, part.edges);
    part.state = shared_state({{"updates", updates}});
    if (behind) {
      checkpoints_->write_behind(iteration, std::move(part));
    } else {
      checkpoints_->write(iteration, std::move(part));
    }
  }

  /// Collective: loads the newest valid epoch of --resume into the data, calls
  /// schedule(lid, priority) for every vertex it had scheduled, restores aggregators and
  /// persisted values; returns the iterations it had done and sets `updates`.
  template <typename Schedule>
  std::uint64_t resume(Schedule&& schedule, std::uint64_t& updates) {
    RestoredEpoch epoch =
        checkpoints_->resume(owned_gids(topology()), edge_source_gids(topology()));
    (void)take_remote_requests();  // the epoch's schedule replaces the start's
    restore_vertex_records(graph_, epoch, [&](Lid v, const CheckpointVertexHeader& h) {
      if (h.flags & kCheckpointScheduled) schedule(v, h.priority);
    });
    restore_edge_records(graph_, epoch);
    restore_shared_state(epoch);
    updates = counter(epoch, "updates");
    return epoch.iteration;
  }

  /// Saves `value` (the program's or the app's own state, e.g. a phase flag a hook changes)
  /// with every epoch and restores it on resume. Register before run(); it must outlive it.
  template <typename T>
  void persist(std::string name, T& value) {
    static_assert(std::is_trivially_copyable_v<T>, "persisted values must be trivially copyable");
    persisted_.push_back({"app:" + std::move(name), &value, sizeof(T)});
  }

  /// The values every rank shares: aggregators, persisted values, `counters` (by name).
  std::map<std::string, std::string> shared_state(
      std::initializer_list<std::pair<const char*, std::uint64_t>> counters) const {
    std::map<std::string, std::string> state;
    aggregators_.for_each_value([&](const std::string& name, std::string_view bytes) {
      state["aggregator:" + name] = std::string(bytes);
    });
    for (const Persisted& p : persisted_) {
      state[p.name] = std::string(static_cast<const char*>(p.value), p.size);
    }
    for (const auto& [name, value] : counters) {
      state[std::string("engine:") + name] =
          std::string(reinterpret_cast<const char*>(&value), sizeof value);
    }
    return state;
  }
  /// Restores aggregators and persisted values; returns the counter `name` (0 when absent).
  void restore_shared_state(const RestoredEpoch& epoch) {
    for (const auto& [name, bytes] : epoch.state) {
      if (name.rfind("aggregator:", 0) == 0 &&
          !aggregators_.set_value(std::string_view(name).substr(11), bytes)) {
        fail(epoch.dir, ": aggregator '", name.substr(11), "' is not one of this program's");
      }
    }
    for (const Persisted& p : persisted_) {
      auto it = epoch.state.find(p.name);
      if (it == epoch.state.end() || it->second.size() != p.size) {
        fail(epoch.dir, ": no saved value '", p.name, "' of ", p.size, " bytes");
      }
      std::memcpy(p.value, it->second.data(), p.size);
    }
  }
  static std::uint64_t counter(const RestoredEpoch& epoch, const char* name) {
    auto it = epoch.state.find(std::string("engine:") + name);
    std::uint64_t value = 0;
    if (it != epoch.state.end() && it->second.size() == sizeof value) {
      std::memcpy(&value, it->second.data(), sizeof value);
    }
    return value;
  }

  /// The common fields of a run's statistics.
  RunStats begin_stats(EngineKind kind) const {
    RunStats stats;
    stats.engine = std::string(engine_name(kind));
    stats.consistency = consistency_;
    stats.workers = pool_.describe();
    stats.ranks = ranks();
    return stats;
  }

 private:
  Graph& graph_;
  const P& program_;
  EngineOptions options_;
  Consistency consistency_;
  WorkerPool pool_;
  Cluster* cluster_;
  AggregatorTable aggregators_;
  std::vector<LidRange> fold_ranges_;  ///< per node: its owned vertices
  Lid fold_block_ = 1;
  std::vector<std::size_t> fold_first_block_;  ///< per node: its first fold block; then the count
  struct PassFold {
    std::function<void(std::size_t, LidRange)> fold;
    std::function<void()> done;
  };
  std::vector<PassFold> pass_folds_;  ///< the aggregators due every iteration
  std::unique_ptr<GhostSync> ghosts_;
  std::unique_ptr<EdgeSync> edge_sync_;
  RequestSet remote_;  ///< requests for ghosts, by lid - num_owned
  std::unique_ptr<CheckpointStore> checkpoints_;
  struct Persisted {
    std::string name;
    void* value;
    std::size_t size;
  };
  std::vector<Persisted> persisted_;
};

}  // namespace atl
