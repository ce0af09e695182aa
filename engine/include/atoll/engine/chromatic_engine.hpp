// The chromatic engine: colour the graph for the consistency model, then run colour steps.
// A step runs every scheduled vertex of one colour in parallel (vertices of one colour share
// no scope under the model), then the aggregators that are due; a sweep is one step per colour.
// The run ends when nothing is scheduled, at the sweep limit, or when the iteration hook says so.
//
// Memory and threads: one scheduler per (colour, NUMA node); every vertex range of a node is
// first touched and updated by that node's arena. Under vertex consistency neighbours are read
// from a snapshot taken at the end of the previous step (exactly what a remote rank's ghost
// holds), so a step never reads data that another thread is writing. The snapshot holds the
// program's NeighborView when it has one (and ghosts then receive only that).
//
// A dense sweep (one colour, every owned vertex scheduled: the power iteration) is one pass:
// each block of vertices is updated, its new view written to the next snapshot (swapped in
// after the step) and folded into the aggregators due every iteration, while it is in cache.
//
// Across ranks (a Cluster given): the colouring is agreed by all ranks; every rank takes part
// in every colour step that has work anywhere; after a step each rank pushes the data of the
// vertices it changed to their replicas and the schedule requests for ghosts to their owners
// (GhostSync: one batch per peer), aggregators are reduced over ranks in rank order, and the
// run ends when no rank has anything scheduled.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/stolen_time.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/aggregator.hpp"
#include "atoll/engine/chromatic_details.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/coloring.hpp"
#include "atoll/engine/context.hpp"
#include "atoll/engine/engine_core.hpp"
#include "atoll/engine/iteration_hook.hpp"
#include "atoll/engine/program.hpp"
#include "atoll/engine/progress_line.hpp"
#include "atoll/engine/request_set.hpp"
#include "atoll/engine/run_limits.hpp"
#include "atoll/engine/scheduler.hpp"
#include "atoll/engine/scope.hpp"

namespace atl {

template <GraphProgram P>
class ChromaticEngine final : private ScheduleSink {
 public:
  using VertexData = typename P::VertexData;
  using EdgeData = typename P::EdgeData;
  using Graph = LocalGraph<VertexData, EdgeData>;

  /// With a cluster, the graph is this rank's part (owned vertices, then ghosts) and every
  /// call below that changes the run (construction, run, sync_all) is collective.
  ChromaticEngine(Graph& graph, const P& program, const EngineOptions& options,
                  Cluster* cluster = nullptr)
      : core_(graph, program, options, cluster) {
    Timer setup;
    if (cluster != nullptr) {
      coloring_ = color_graph_across_ranks(topology(), consistency(), *cluster, *core_.ghosts());
    } else {
      coloring_ = color_graph(topology(), consistency());
    }
    dense_.assign(static_cast<std::size_t>(pool().nodes()), 0);
    overlap_ = overlap_ghost_pushes(options.overlap, cluster);
    build_schedulers();
    if (consistency() == Consistency::kVertex) {
      snapshot_ = std::make_unique_for_overwrite<Copy[]>(topology().num_vertices());
      deferred_.resize(topology().num_owned());
    }
    core_.open_checkpoints(EngineKind::kChromatic);
    setup_seconds_ = setup.seconds();
    log_debug(str_cat("chromatic engine: ", coloring_.num_colors, " colours, ",
                      consistency_name(consistency()), " consistency, ", pool().describe()));
  }

  const WorkerPool& workers() const { return core_.pool(); }
  const Coloring& coloring() const { return coloring_; }
  Consistency consistency() const { return core_.consistency(); }
  const Topology& topology() const { return core_.topology(); }

  /// Initialises every vertex's data with f(lid, data), in parallel on the vertex's NUMA node.
  template <typename F>
  void init_vertices(F&& f) {
    core_.init_vertices(std::forward<F>(f));
  }

  /// Initialises every edge's data with f(edge id, data) (cut edges from ghosts too).
  template <typename F>
  void init_edges(F&& f) {
    core_.init_edges(std::forward<F>(f));
  }

  /// Registers an aggregator (see EngineCore::add_aggregator); it also runs at the start of run().
  template <typename T, typename Fold, typename Merge, typename Finalize>
  AggregatorHandle<T> add_aggregator(std::string name, T zero, Fold fold, Merge merge,
                                     Finalize finalize, SyncInterval when) {
    return core_.add_aggregator(std::move(name), zero, fold, merge, finalize, when);
  }

  template <typename T>
  const T& aggregate(AggregatorHandle<T> handle) const {
    return core_.aggregators().value(handle);
  }
  /// Runs every aggregator now.
  void sync_all() { core_.aggregators().run_all(updates_); }
  /// Saves `value` with every checkpoint and restores it on resume (see EngineCore::persist).
  template <typename T>
  void persist(std::string name, T& value) {
    core_.persist(std::move(name), value);
  }

  /// Schedules local vertex v. Under vertex consistency a request made inside a step takes
  /// effect after the step: the requester changed data its neighbours will only see in the
  /// next snapshot, so a neighbour still waiting in this round must run again afterwards.
  void schedule(Lid v, double priority = 1.0) override {
    if (core_.schedule_remote(v, priority)) return;  // a ghost: its owner schedules it later
    if (defer_schedules_) {
      deferred_.add(v, priority);
      return;
    }
    const Slot s = where_[v];
    schedulers_[s.scheduler]->schedule(s.index, priority);
  }
  /// Schedules every owned vertex; between steps only (from outside updates or the hook).
  void schedule_all(double priority = 1.0) {
    for (auto& s : schedulers_) s->schedule_all(priority);
  }

  /// Runs colour steps until nothing is scheduled, max_iterations sweeps, or the hook (called
  /// after every sweep) returns false.
  RunStats run(const IterationHook& hook = {}) {
    RunStats stats = core_.begin_stats(EngineKind::kChromatic);
    stats.setup_seconds = setup_seconds_;
    auto details = std::make_shared<ChromaticDetails>();
    details->colors = coloring_.num_colors;
    details->overlap = overlap_;
    Cluster* cluster = core_.cluster();
    // Ghost data arrives while this rank waits in the exchange, driving the network itself:
    // the progress thread need not poll on after it (the cores are the workers').
    std::optional<ScopedIdlePolls> quiet;
    if (cluster != nullptr) quiet.emplace(cluster->transport, kEngineIdlePolls);
    ProgressLine progress(core_.options().progress, "sweep");
    Timer total;
    const StolenTime stolen;
    // Resumed: the data, schedule, aggregators and sweep count of the epoch replace the start.
    const std::uint64_t first_sweep = core_.resuming() ? resume() : 0;
    if (snapshot_) {  // neighbours first read the initial data
      const VertexData* data = core_.graph().vertex_data().data();
      core_.for_each_owned([&](Lid v) { snapshot_[v] = neighbor_copy<P>(data[v]); });
    }
    if (cluster != nullptr) {  // ghosts start as their owners' initial data
      std::vector<ScheduleRequest> requests = core_.take_remote_requests();
      for (const ScheduleRequest& r : core_.ghosts()->push_all(ghost_arrays(), requests)) {
        schedule(r.lid, r.priority);
      }
    }
    if (!core_.resuming()) sync_all();
    // One colour: the last sweep's pending check found work on some rank, so its step runs
    // everywhere without asking again.
    bool known_work = false;
    for (std::uint64_t sweep = first_sweep; sweep < core_.options().max_iterations; ++sweep) {
      Timer sweep_timer;
      std::uint64_t sweep_updates = 0;
      bool ran = false;
      for (std::uint32_t c = 0; c < coloring_.num_colors; ++c) {
        std::size_t round = 0;
        for (int node = 0; node < pool().nodes(); ++node) {
          std::size_t count = scheduler(c, node).begin_round();
          // Dense: every vertex of this colour on this node runs; sweep them in lid order.
          dense_[node] = count > 0 && count == scheduler(c, node).size();
          if (dense_[node]) scheduler(c, node).take_round();
          round += count;
        }
        if (cluster != nullptr) {  // a step runs everywhere when it has work anywhere
          round = known_work ? std::max<std::size_t>(round, 1)
                             : cluster->collectives.allreduce<std::uint64_t>(round, ReduceOp::kSum);
        }
        if (round == 0) continue;
        ran = true;
        Timer step_timer;
        std::uint64_t n = run_step(c, sweep);
        ColorStepRecord step{sweep, c, n, 0, last_sync_seconds_, 0, 0, 0};
        if (cluster != nullptr) {
          step.updates = n = cluster->collectives.allreduce<std::uint64_t>(n, ReduceOp::kSum);
          step.bytes_sent = last_bytes_sent_;
          step.lower_bound = core_.ghosts()->last_lower_bound();
          step.bytes_overlapped = core_.ghosts()->last_overlapped_bytes();
          stats.bytes_sent += step.bytes_sent;
          stats.lower_bound += step.lower_bound;
        }
        updates_ += n;
        sweep_updates += n;
        core_.aggregators().run_due(false, updates_);
        step.seconds = step_timer.seconds();
        details->step_log.push_back(step);
        ++details->steps;
      }
      if (!ran) break;
      core_.aggregators().run_due(true, updates_);
      IterationRecord record{sweep, sweep_updates, sweep_timer.seconds()};
      bool keep_going = hook ? hook(record) : true;
      progress.report(record, stats.bytes_sent);
      stats.iteration_log.push_back(record);
      ++stats.iterations;
      if (!keep_going) break;
      bool pending = any_pending();
      if (cluster != nullptr) {
        pending =
            cluster->collectives.allreduce<std::uint32_t>(pending ? 1 : 0, ReduceOp::kMax) != 0;
      }
      if (!pending) break;
      known_work = cluster != nullptr && coloring_.num_colors == 1;
      stats.stopped_by = limit_reached(core_.options(), updates_, total.seconds(), cluster);
      if (!stats.stopped_by.empty()) {
        for (const auto& s : schedulers_) stats.still_scheduled += s->export_pending().size();
        if (cluster != nullptr) {
          stats.still_scheduled =
              cluster->collectives.allreduce<std::uint64_t>(stats.still_scheduled, ReduceOp::kSum);
        }
        break;
      }
      if (core_.checkpoints()) {
        core_.checkpoints()->settle(false);  // an epoch still being written
        if (core_.checkpoints()->due(sweep + 1)) write_checkpoint(sweep + 1);
      }
    }
    if (core_.checkpoints()) core_.checkpoints()->settle(true);
    stats.updates = updates_;
    stats.seconds = total.seconds();
    stats.steal_seconds = stolen.seconds();
    stats.details = std::move(details);
    if (core_.checkpoints()) stats.checkpoints = core_.checkpoints()->stats();
    return stats;
  }

 private:
  /// Vertices a worker takes from a sparse step's scheduler at a time (small: a sparse step
  /// may hold only a few dozen vertices, and the schedulers steal per slot, not per vertex).
  static constexpr std::size_t kPopBatch = 16;

  /// What the snapshot holds per vertex: the program's NeighborView, or its whole data.
  using Copy = NeighborCopy<P>;

  WorkerPool& pool() { return core_.pool(); }

  /// What ghost pushes move: the snapshot's views alone when the program has a view (the
  /// ghosts' full data is then never read), else the data, mirrored into the snapshot.
  GhostSync::Arrays ghost_arrays() {
    if constexpr (HasNeighborView<P>) {
      if (snapshot_) return {reinterpret_cast<std::byte*>(snapshot_.get()), nullptr, sizeof(Copy)};
      return core_.vertex_arrays();
    } else {
      return core_.vertex_arrays(snapshot_.get());
    }
  }

  /// Between sweeps: owned data, pending vertices with priorities, aggregators, counters.
  void write_checkpoint(std::uint64_t sweeps) {
    std::vector<PendingVertex> pending;  // by lid
    for (std::size_t s = 0; s < schedulers_.size(); ++s) {
      std::vector<PendingVertex> colour = schedulers_[s]->export_pending();
      for (PendingVertex& p : colour) p.index = members_[s][p.index];
      if (pending.empty()) {
        pending = std::move(colour);
      } else {
        pending.insert(pending.end(), colour.begin(), colour.end());
      }
    }
    core_.write_checkpoint(std::move(pending), sweeps, updates_, true);
  }

  /// Loads the newest valid epoch of --resume; returns the sweeps it had done.
  std::uint64_t resume() {
    schedulers_.clear();
    build_schedulers();
    return core_.resume([&](Lid v, double priority) { schedule(v, priority); }, updates_);
  }

  /// Where a vertex lives in the schedulers: which one, and its index there.
  struct Slot {
    std::uint32_t scheduler;
    std::uint32_t index;
  };

  Scheduler& scheduler(std::uint32_t color, int node) {
    return *schedulers_[color * static_cast<std::uint32_t>(pool().nodes()) + node];
  }

  /// After a step on several ranks: push the changed vertices to their replicas, send the
  /// schedule requests for ghosts, and return the requests other ranks sent for ours.
  /// `streamed`: the step was a whole pass whose data GhostSync streamed (stream_begin).
  std::vector<ScheduleRequest> sync_ghosts(std::uint32_t c, bool streamed) {
    GhostSync& ghosts = *core_.ghosts();
    std::vector<std::span<const Lid>> changed;
    for (int node = 0; node < pool().nodes(); ++node) {
      if (dense_[node]) changed.emplace_back(members_[c * pool().nodes() + node]);
    }
    for (const std::vector<Lid>& list : changed_) changed.emplace_back(list);
    std::vector<ScheduleRequest> requests = core_.take_remote_requests();
    last_bytes_sent_ = 0;
    // Full consistency: neighbours an update wrote. Written ghosts go back to their owners
    // first (one round), so that the push below sends every written vertex to every replica.
    std::vector<Lid> written_owned, arrived;
    if (track_neighbor_writes()) {
      std::vector<Lid> written_ghosts;
      const Lid owned = topology().num_owned();
      for (std::vector<Lid>& list : neighbor_writes_) {
        for (Lid v : list) (v < owned ? written_owned : written_ghosts).push_back(v);
        list.clear();
      }
      const std::span<const Lid> lists[] = {written_ghosts};
      arrived = ghosts.write_back(core_.vertex_arrays(), lists);
      last_bytes_sent_ += ghosts.last_bytes_sent();
      changed.emplace_back(written_owned);
      changed.emplace_back(arrived);
    }
    core_.push_cut_edges(changed);
    if (core_.edge_sync() != nullptr) last_bytes_sent_ += core_.edge_sync()->last_bytes_sent();
    std::vector<ScheduleRequest> incoming = streamed
                                                ? ghosts.stream_end(ghost_arrays(), requests)
                                                : ghosts.push(ghost_arrays(), changed, requests);
    last_bytes_sent_ += ghosts.last_bytes_sent();
    return incoming;
  }

  /// Whether whole passes stream their ghost data (EngineOptions::overlap).
  static bool overlap_ghost_pushes(Overlap overlap, Cluster* cluster) {
    if (cluster == nullptr || overlap == Overlap::kOff) return false;
    if (overlap == Overlap::kOn) return true;
    for (int p = 0; p < cluster->size(); ++p) {
      if (!cluster->transport.same_host(p)) return true;
    }
    return false;
  }

  /// Full-consistency programs on several ranks record the neighbours each update wrote.
  bool track_neighbor_writes() const {
    return P::kConsistency == Consistency::kFull && core_.cluster() != nullptr;
  }

  bool any_pending() const {
    return std::any_of(schedulers_.begin(), schedulers_.end(),
                       [](const auto& s) { return s->has_pending(); });
  }

  void build_schedulers() {
    const Lid n = topology().num_owned();
    const auto nodes = static_cast<std::uint32_t>(pool().nodes());
    std::vector<LidRange> ranges = pool().split(n);
    members_.assign(static_cast<std::size_t>(coloring_.num_colors) * nodes, {});
    where_.resize(n);
    for (std::uint32_t node = 0; node < nodes; ++node) {
      for (Lid v = ranges[node].begin; v < ranges[node].end; ++v) {
        std::uint32_t s = coloring_.color[v] * nodes + node;
        where_[v] = {s, static_cast<std::uint32_t>(members_[s].size())};
        members_[s].push_back(v);
      }
    }
    for (std::size_t s = 0; s < members_.size(); ++s) {
      unsigned threads = static_cast<unsigned>(pool().node_threads(static_cast<int>(s % nodes)));
      schedulers_.push_back(make_scheduler(
          core_.options().scheduler, static_cast<std::uint32_t>(members_[s].size()), threads));
    }
  }

  /// Runs the current round of colour c on every node; returns the number of updates.
  std::uint64_t run_step(std::uint32_t c, std::uint64_t sweep) {
    using NeighborData = typename Scope<P>::NeighborData;
    using AdjacentEdgeData = typename Scope<P>::AdjacentEdgeData;
    VertexData* vertices = core_.graph().vertex_data().data();
    const Copy* copies = nullptr;
    NeighborData* neighbors = vertices;
    if constexpr (HasNeighborView<P>) {
      copies = snapshot_.get();
    } else if (snapshot_) {
      neighbors = snapshot_.get();
    }
    AdjacentEdgeData* edges = core_.graph().edge_data().data();
    const Topology& t = topology();
    std::atomic<std::uint64_t> updates{0};
    defer_schedules_ = snapshot_ != nullptr;
    const bool record_changed = snapshot_ != nullptr || core_.cluster() != nullptr;
    // Every owned vertex runs in this step, once: the pass folds the aggregators, and a
    // program's views go straight to the next snapshot.
    const bool whole_pass = coloring_.num_colors == 1 && !track_neighbor_writes() &&
                            std::all_of(dense_.begin(), dense_.end(), [](char d) { return d; });
    Copy* next = nullptr;
    if (whole_pass && HasNeighborView<P> && snapshot_) {
      if (!next_snapshot_) {
        next_snapshot_ = std::make_unique_for_overwrite<Copy[]>(t.num_vertices());
      }
      next = next_snapshot_.get();
    }
    // Several ranks: a whole pass's ghost data leaves while the pass runs (overlap).
    GhostSync* stream = next != nullptr && overlap_ ? core_.ghosts() : nullptr;
    if (stream != nullptr) {
      if (pass_blocks_.empty()) {
        for (std::size_t b = 0; b < core_.fold_block_count(); ++b) {
          pass_blocks_.push_back(core_.fold_block(b));
        }
      }
      stream->stream_begin(reinterpret_cast<const std::byte*>(next), sizeof(Copy), pass_blocks_);
    }
    pool().run_on_nodes([&](int node) {
      Scheduler& sched = scheduler(c, node);
      const std::vector<Lid>& members = members_[c * pool().nodes() + node];
      auto update = [&](Context& context, Lid v) {
        Scope<P> scope(t, vertices, neighbors, edges, v,
                       track_neighbor_writes() ? &neighbor_writes_.local() : nullptr, copies);
        core_.program().update(scope, context);
      };
      if (dense_[node]) {
        // Blocks of the node's members; in a whole pass, block b is EngineCore's fold block
        // first + b (the members are then the node's whole range, in lid order).
        const std::size_t first = core_.fold_blocks_of_node(node).first;
        const std::size_t block = core_.fold_block_size();
        const std::size_t blocks = (members.size() + block - 1) / block;
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, blocks, 1),
            [&](const tbb::blocked_range<std::size_t>& r) {
              Context context(*this, core_.aggregators(), sweep);
              for (std::size_t b = r.begin(); b < r.end(); ++b) {
                const std::size_t begin = b * block;
                const std::size_t end = std::min(begin + block, members.size());
                for (std::size_t i = begin; i < end; ++i) {
                  context.set_priority_slot(&sched, static_cast<std::uint32_t>(i));
                  update(context, members[i]);
                  if (next != nullptr) {
                    next[members[i]] = neighbor_copy<P>(vertices[members[i]]);
                  }
                }
                if (whole_pass) {
                  core_.fold_block_in_pass(first + b, {members[begin], members[end - 1] + 1});
                }
                if (stream != nullptr) stream->stream_block_done(first + b);
              }
            });
        updates.fetch_add(members.size(), std::memory_order_relaxed);
        return;
      }
      tbb::parallel_for(
          tbb::blocked_range<int>(0, pool().node_threads(node), 1),
          [&](const tbb::blocked_range<int>&) {
            Context context(*this, core_.aggregators(), sweep);
            std::vector<Lid>& changed = changed_.local();
            std::uint64_t local = 0;
            std::uint32_t batch[kPopBatch];  // one scheduler lock per batch, not per vertex
            while (const std::size_t n = sched.pop_batch(batch)) {
              for (std::size_t i = 0; i < n; ++i) {
                const Lid v = members[batch[i]];
                context.set_priority_slot(&sched, batch[i]);
                update(context, v);
                if (record_changed) changed.push_back(v);
              }
              local += n;
            }
            updates.fetch_add(local, std::memory_order_relaxed);
          },
          tbb::simple_partitioner());
    });
    if (whole_pass) core_.folded_all();
    // The snapshot first (ghost pushes of a program's views read it), then the pushes.
    if (next != nullptr) {  // owned views are all new; ghosts keep theirs until the push
      std::copy(snapshot_.get() + t.num_owned(), snapshot_.get() + t.num_vertices(),
                next + t.num_owned());
      std::swap(snapshot_, next_snapshot_);
    } else if (snapshot_) {
      publish_snapshot(c);
    }
    std::vector<ScheduleRequest> incoming;
    if (core_.cluster() != nullptr) {
      Timer sync;
      incoming = sync_ghosts(c, stream != nullptr);
      last_sync_seconds_ = sync.seconds();
    }
    for (auto& list : changed_) list.clear();
    defer_schedules_ = false;
    for (const ScheduleRequest& r : incoming) schedule(r.lid, r.priority);
    if (snapshot_) deferred_.take_parallel([&](Lid v, double priority) { schedule(v, priority); });
    return updates.load();
  }

  /// Copies the vertices updated in the last step (all members of colour c on dense nodes,
  /// the recorded ones elsewhere) into the snapshot neighbours read from.
  void publish_snapshot(std::uint32_t c) {
    const VertexData* vertices = core_.graph().vertex_data().data();
    pool().run_on_nodes([&](int node) {
      if (!dense_[node]) return;
      const std::vector<Lid>& members = members_[c * pool().nodes() + node];
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, members.size(), 4096),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) {
                            snapshot_[members[i]] = neighbor_copy<P>(vertices[members[i]]);
                          }
                        });
    });
    tbb::parallel_for(changed_.range(), [&](auto& range) {
      for (const std::vector<Lid>& list : range) {
        for (Lid v : list) snapshot_[v] = neighbor_copy<P>(vertices[v]);
      }
    });
  }

  EngineCore<P> core_;
  Coloring coloring_;
  double setup_seconds_ = 0;
  double last_sync_seconds_ = 0;           ///< time of the last step's pushes
  std::uint64_t last_bytes_sent_ = 0;      ///< bytes of the last step's pushes
  std::vector<std::vector<Lid>> members_;  ///< per (colour, node): vertices in lid order
  std::vector<Slot> where_;                ///< per owned vertex
  std::vector<LidRange> pass_blocks_;      ///< a whole pass's blocks (EngineCore's fold blocks)
  bool overlap_ = false;                   ///< whole passes stream their ghost pushes
  std::vector<std::unique_ptr<Scheduler>> schedulers_;
  std::unique_ptr<Copy[]> snapshot_;       ///< vertex consistency: what neighbours read
  std::unique_ptr<Copy[]> next_snapshot_;  ///< a program's views, written by a whole pass
  tbb::enumerable_thread_specific<std::vector<Lid>> changed_;
  tbb::enumerable_thread_specific<std::vector<Lid>> neighbor_writes_;  ///< see Scope
  /// Vertex consistency: schedule requests made during a step, applied after it.
  RequestSet deferred_;
  bool defer_schedules_ = false;
  std::vector<char> dense_;  ///< per node: the current step runs all of its members
  std::uint64_t updates_ = 0;
};

}  // namespace atl
