// The chromatic engine: colour the graph for the consistency model, then run colour steps.
// A step runs every scheduled vertex of one colour in parallel (vertices of one colour share
// no scope under the model), then the aggregators that are due; a sweep is one step per colour.
// The run ends when nothing is scheduled, at the sweep limit, or when the sweep hook says so.
//
// Memory and threads: one scheduler per (colour, NUMA node); every vertex range of a node is
// first touched and updated by that node's arena. Under vertex consistency neighbours are read
// from a snapshot taken at the end of the previous step (exactly what a remote rank's ghost
// holds), so a step never reads data that another thread is writing.
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
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/aggregator.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/coloring.hpp"
#include "atoll/engine/context.hpp"
#include "atoll/engine/edge_sync.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/engine/ghost_sync.hpp"
#include "atoll/engine/program.hpp"
#include "atoll/engine/request_set.hpp"
#include "atoll/engine/scheduler.hpp"
#include "atoll/engine/scope.hpp"
#include "atoll/engine/worker_pool.hpp"
#include "atoll/graph/local_graph.hpp"

namespace atl {

/// What an aggregator's fold sees besides the vertex data.
struct VertexInfo {
  Lid lid;
  Gid gid;
  std::size_t in_degree;
  std::size_t out_degree;
};

/// Called after every sweep; returning false ends the run. May set record.residual.
using SweepHook = std::function<bool(SweepRecord& record)>;

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
      : graph_(graph),
        program_(program),
        options_(options),
        pool_(options.threads),
        cluster_(cluster) {
    consistency_ = P::kConsistency;
    if (options.consistency) {
      if (*options.consistency < P::kConsistency) {
        usage_fail("this program needs ", consistency_name(P::kConsistency),
                   " consistency; --consistency ", consistency_name(*options.consistency),
                   " is weaker");
      }
      consistency_ = *options.consistency;
    }
    Timer setup;
    if (cluster_ != nullptr) {
      remote_.resize(topology().num_vertices() - topology().num_owned());
      ghosts_ = std::make_unique<GhostSync>(topology(), *cluster_);
      // Updates may write adjacent edges under edge and full consistency: keep cut edges'
      // two copies equal.
      if (consistency_ != Consistency::kVertex && !std::is_empty_v<EdgeData>) {
        edges_sync_ = std::make_unique<EdgeSync>(topology(), *cluster_);
      }
      coloring_ = color_graph_across_ranks(topology(), consistency_, *cluster_, *ghosts_);
    } else {
      coloring_ = color_graph(topology(), consistency_);
    }
    build_schedulers();
    if (consistency_ == Consistency::kVertex) {
      snapshot_ = std::make_unique_for_overwrite<VertexData[]>(topology().num_vertices());
      deferred_.resize(topology().num_owned());
    }
    setup_seconds_ = setup.seconds();
    log_debug(str_cat("chromatic engine: ", coloring_.num_colors, " colours, ",
                      consistency_name(consistency_), " consistency, ", pool_.describe()));
  }

  const WorkerPool& workers() const { return pool_; }
  const Coloring& coloring() const { return coloring_; }
  Consistency consistency() const { return consistency_; }
  const Topology& topology() const { return graph_.topology(); }

  /// Initialises every vertex's data with f(lid, data), in parallel on the vertex's NUMA node.
  template <typename F>
  void init_vertices(F&& f) {
    VertexData* data = graph_.vertex_data().data();
    for_each_owned([&](Lid v) {
      f(v, data[v]);
      if (snapshot_) snapshot_[v] = data[v];
    });
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
  /// vertices, merge(T, T) -> T, finalize(T) -> T; runs at `when` and at the start of run().
  template <typename T, typename Fold, typename Merge, typename Finalize>
  AggregatorHandle<T> add_aggregator(std::string name, T zero, Fold fold, Merge merge,
                                     Finalize finalize, SyncInterval when) {
    auto compute = [this, zero, fold, merge, finalize](void* out) {
      const VertexData* data = graph_.vertex_data().data();
      const Topology& t = topology();
      std::vector<LidRange> ranges = pool_.split(t.num_owned());
      std::vector<T> partial(ranges.size(), zero);
      pool_.run_on_nodes([&](int node) {
        // Deterministic reduction: the same splits and order for any thread count.
        partial[node] = tbb::parallel_deterministic_reduce(
            tbb::blocked_range<Lid>(ranges[node].begin, ranges[node].end, 2048), zero,
            [&](const tbb::blocked_range<Lid>& r, T acc) {
              for (Lid v = r.begin(); v < r.end(); ++v) {
                acc = merge(
                    acc, fold(data[v], VertexInfo{v, t.gid(v), t.in_degree(v), t.out_degree(v)}));
              }
              return acc;
            },
            merge, tbb::simple_partitioner());
      });
      T total = zero;
      for (const T& p : partial) total = merge(total, p);
      if (cluster_ != nullptr) {  // every rank's total, merged in rank order
        std::vector<std::string> all = cluster_->collectives.allgather(
            std::string_view(reinterpret_cast<const char*>(&total), sizeof(T)));
        total = zero;
        for (const std::string& bytes : all) {
          if (bytes.size() != sizeof(T)) fail("aggregator partial of ", bytes.size(), " bytes");
          T part;
          std::memcpy(&part, bytes.data(), sizeof(T));
          total = merge(total, part);
        }
      }
      T result = finalize(total);
      std::memcpy(out, &result, sizeof(T));
    };
    return aggregators_.add<T>(std::move(name), zero, when, std::move(compute));
  }

  template <typename T>
  const T& aggregate(AggregatorHandle<T> handle) const {
    return aggregators_.value(handle);
  }
  /// Runs every aggregator now.
  void sync_all() { aggregators_.run_all(updates_); }

  /// Schedules local vertex v. Under vertex consistency a request made inside a step takes
  /// effect after the step: the requester changed data its neighbours will only see in the
  /// next snapshot, so a neighbour still waiting in this round must run again afterwards.
  void schedule(Lid v, double priority = 1.0) override {
    if (v >= topology().num_owned()) {  // a ghost: its owner schedules it after this step
      if (cluster_ == nullptr) fail("schedule: lid ", v, " is not a vertex of this graph");
      remote_.add(v - topology().num_owned(), priority);
      return;
    }
    if (defer_schedules_) {
      deferred_.add(v, priority);
      return;
    }
    const Slot s = where_[v];
    schedulers_[s.scheduler]->schedule(s.index, priority);
  }
  /// Schedules every owned vertex; between steps only (from outside updates or a sweep hook).
  void schedule_all(double priority = 1.0) {
    for (auto& s : schedulers_) s->schedule_all(priority);
  }

  /// Runs colour steps until nothing is scheduled, max_sweeps, or hook returns false.
  RunStats run(const SweepHook& hook = {}) {
    RunStats stats;
    stats.setup_seconds = setup_seconds_;
    stats.colors = coloring_.num_colors;
    stats.consistency = consistency_;
    stats.workers = pool_.describe();
    stats.ranks = cluster_ != nullptr ? cluster_->size() : 1;
    Timer total;
    if (cluster_ != nullptr) {  // ghosts start as their owners' initial data
      std::vector<ScheduleRequest> requests = take_remote_requests();
      for (const ScheduleRequest& r : ghosts_->push_all(arrays(), requests)) {
        schedule(r.lid, r.priority);
      }
    }
    sync_all();
    for (std::uint64_t sweep = 0; sweep < options_.max_sweeps; ++sweep) {
      Timer sweep_timer;
      std::uint64_t sweep_updates = 0;
      bool ran = false;
      for (std::uint32_t c = 0; c < coloring_.num_colors; ++c) {
        std::size_t round = 0;
        for (int node = 0; node < pool_.nodes(); ++node) {
          std::size_t count = scheduler(c, node).begin_round();
          // Dense: every vertex of this colour on this node runs; sweep them in lid order.
          dense_[node] = count > 0 && count == scheduler(c, node).size();
          if (dense_[node]) scheduler(c, node).take_round();
          round += count;
        }
        if (cluster_ != nullptr) {  // a step runs everywhere when it has work anywhere
          round = cluster_->collectives.allreduce<std::uint64_t>(round, ReduceOp::kSum);
        }
        if (round == 0) continue;
        ran = true;
        Timer step_timer;
        std::uint64_t n = run_step(c, sweep);
        StepRecord step{sweep, c, n, 0, last_sync_seconds_, 0, 0};
        if (cluster_ != nullptr) {
          step.updates = n = cluster_->collectives.allreduce<std::uint64_t>(n, ReduceOp::kSum);
          step.bytes_sent =
              ghosts_->last_bytes_sent() + (edges_sync_ ? edges_sync_->last_bytes_sent() : 0);
          step.lower_bound = ghosts_->last_lower_bound();
          stats.bytes_sent += step.bytes_sent;
          stats.lower_bound += step.lower_bound;
        }
        updates_ += n;
        sweep_updates += n;
        aggregators_.run_due(false, updates_);
        step.seconds = step_timer.seconds();
        stats.step_log.push_back(step);
        ++steps_;
      }
      if (!ran) break;
      aggregators_.run_due(true, updates_);
      SweepRecord record{sweep, sweep_updates, sweep_timer.seconds()};
      bool keep_going = hook ? hook(record) : true;
      if (options_.progress) report_progress(record);
      stats.sweep_log.push_back(record);
      ++stats.sweeps;
      if (!keep_going) break;
      bool pending = any_pending();
      if (cluster_ != nullptr) {
        pending =
            cluster_->collectives.allreduce<std::uint32_t>(pending ? 1 : 0, ReduceOp::kMax) != 0;
      }
      if (!pending) break;
    }
    stats.steps = steps_;
    stats.updates = updates_;
    stats.seconds = total.seconds();
    if (options_.progress && progress_tty_ && stats.sweeps > 0) std::fputc('\n', stderr);
    return stats;
  }

 private:
  void report_progress(const SweepRecord& r) {
    if (log_level() < LogLevel::kInfo) return;
    std::fprintf(stderr, "%satoll: sweep %llu: %llu updates, %.3f s, residual %g%s",
                 progress_tty_ ? "\r" : "", static_cast<unsigned long long>(r.sweep),
                 static_cast<unsigned long long>(r.updates), r.seconds, r.residual,
                 progress_tty_ ? "   " : "\n");
  }

  /// Where a vertex lives in the schedulers: which one, and its index there.
  struct Slot {
    std::uint32_t scheduler;
    std::uint32_t index;
  };

  Scheduler& scheduler(std::uint32_t color, int node) {
    return *schedulers_[color * static_cast<std::uint32_t>(pool_.nodes()) + node];
  }

  template <typename F>
  void for_each_owned(F&& f) {
    std::vector<LidRange> ranges = pool_.split(topology().num_owned());
    pool_.run_on_nodes([&](int node) {
      tbb::parallel_for(tbb::blocked_range<Lid>(ranges[node].begin, ranges[node].end, 1024),
                        [&](const tbb::blocked_range<Lid>& r) {
                          for (Lid v = r.begin(); v < r.end(); ++v) f(v);
                        });
    });
  }

  GhostSync::Arrays arrays() {
    return {reinterpret_cast<std::byte*>(graph_.vertex_data().data()),
            reinterpret_cast<std::byte*>(snapshot_.get()), sizeof(VertexData)};
  }

  std::vector<ScheduleRequest> take_remote_requests() {
    std::vector<ScheduleRequest> all;
    const Lid owned = topology().num_owned();
    remote_.take([&](Lid ghost, double priority) { all.push_back({owned + ghost, priority}); });
    return all;
  }

  /// After a step on several ranks: push the changed vertices to their replicas, send the
  /// schedule requests for ghosts, and return the requests other ranks sent for ours.
  std::vector<ScheduleRequest> sync_ghosts(std::uint32_t c) {
    std::vector<std::span<const Lid>> changed;
    for (int node = 0; node < pool_.nodes(); ++node) {
      if (dense_[node]) changed.emplace_back(members_[c * pool_.nodes() + node]);
    }
    for (const std::vector<Lid>& list : changed_) changed.emplace_back(list);
    std::vector<ScheduleRequest> requests = take_remote_requests();
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
      arrived = ghosts_->write_back(arrays(), lists);
      changed.emplace_back(written_owned);
      changed.emplace_back(arrived);
    }
    if constexpr (!std::is_empty_v<EdgeData>) {
      if (edges_sync_) {
        edges_sync_->push(reinterpret_cast<std::byte*>(graph_.edge_data().data()), sizeof(EdgeData),
                          changed);
      }
    }
    return ghosts_->push(arrays(), changed, requests);
  }

  /// Full-consistency programs on several ranks record the neighbours each update wrote.
  bool track_neighbor_writes() const {
    return P::kConsistency == Consistency::kFull && cluster_ != nullptr;
  }

  bool any_pending() const {
    return std::any_of(schedulers_.begin(), schedulers_.end(),
                       [](const auto& s) { return s->has_pending(); });
  }

  void build_schedulers() {
    const Lid n = topology().num_owned();
    const auto nodes = static_cast<std::uint32_t>(pool_.nodes());
    std::vector<LidRange> ranges = pool_.split(n);
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
      unsigned threads = static_cast<unsigned>(pool_.node_threads(static_cast<int>(s % nodes)));
      schedulers_.push_back(make_scheduler(
          options_.scheduler, static_cast<std::uint32_t>(members_[s].size()), threads));
    }
  }

  /// Runs the current round of colour c on every node; returns the number of updates.
  std::uint64_t run_step(std::uint32_t c, std::uint64_t sweep) {
    using NeighborData = typename Scope<P>::NeighborData;
    using AdjacentEdgeData = typename Scope<P>::AdjacentEdgeData;
    VertexData* vertices = graph_.vertex_data().data();
    NeighborData* neighbors = snapshot_ ? snapshot_.get() : vertices;
    AdjacentEdgeData* edges = graph_.edge_data().data();
    const Topology& t = topology();
    std::atomic<std::uint64_t> updates{0};
    defer_schedules_ = snapshot_ != nullptr;
    pool_.run_on_nodes([&](int node) {
      Scheduler& sched = scheduler(c, node);
      const std::vector<Lid>& members = members_[c * pool_.nodes() + node];
      auto update = [&](Context& context, Lid v) {
        Scope<P> scope(t, vertices, neighbors, edges, v,
                       track_neighbor_writes() ? &neighbor_writes_.local() : nullptr);
        program_.update(scope, context);
      };
      if (dense_[node]) {
        const std::size_t grain = std::clamp<std::size_t>(
            members.size() / (8 * static_cast<std::size_t>(pool_.node_threads(node))), 1, 512);
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, members.size(), grain),
                          [&](const tbb::blocked_range<std::size_t>& r) {
                            Context context(*this, aggregators_, sweep, steps_);
                            for (std::size_t i = r.begin(); i < r.end(); ++i) {
                              context.set_priority(sched.priority(static_cast<std::uint32_t>(i)));
                              update(context, members[i]);
                            }
                          });
        updates.fetch_add(members.size(), std::memory_order_relaxed);
        return;
      }
      tbb::parallel_for(
          tbb::blocked_range<int>(0, pool_.node_threads(node), 1),
          [&](const tbb::blocked_range<int>&) {
            Context context(*this, aggregators_, sweep, steps_);
            std::vector<Lid>& changed = changed_.local();
            std::uint64_t local = 0;
            std::uint32_t index = 0;
            while (sched.pop(index)) {
              const Lid v = members[index];
              context.set_priority(sched.priority(index));
              update(context, v);
              ++local;
              if (snapshot_ || cluster_ != nullptr) changed.push_back(v);
            }
            updates.fetch_add(local, std::memory_order_relaxed);
          },
          tbb::simple_partitioner());
    });
    std::vector<ScheduleRequest> incoming;
    if (cluster_ != nullptr) {
      Timer sync;
      incoming = sync_ghosts(c);
      last_sync_seconds_ = sync.seconds();
    }
    if (!snapshot_) {
      for (auto& list : changed_) list.clear();
      for (const ScheduleRequest& r : incoming) schedule(r.lid, r.priority);
    }
    if (snapshot_) {
      publish_snapshot(c);
      defer_schedules_ = false;
      for (const ScheduleRequest& r : incoming) schedule(r.lid, r.priority);
      deferred_.take_parallel([&](Lid v, double priority) { schedule(v, priority); });
    }
    return updates.load();
  }

  /// Copies the vertices updated in the last step (all members of colour c on dense nodes,
  /// the recorded ones elsewhere) into the snapshot neighbours read from.
  void publish_snapshot(std::uint32_t c) {
    const VertexData* vertices = graph_.vertex_data().data();
    pool_.run_on_nodes([&](int node) {
      if (!dense_[node]) return;
      const std::vector<Lid>& members = members_[c * pool_.nodes() + node];
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, members.size(), 4096),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) {
                            snapshot_[members[i]] = vertices[members[i]];
                          }
                        });
    });
    tbb::parallel_for(changed_.range(), [&](auto& range) {
      for (std::vector<Lid>& list : range) {
        for (Lid v : list) snapshot_[v] = vertices[v];
        list.clear();
      }
    });
  }

  Graph& graph_;
  const P& program_;
  EngineOptions options_;
  WorkerPool pool_;
  Consistency consistency_;
  Coloring coloring_;
  double setup_seconds_ = 0;
  double last_sync_seconds_ = 0;           ///< time of the last step's ghost push
  std::vector<std::vector<Lid>> members_;  ///< per (colour, node): vertices in lid order
  std::vector<Slot> where_;                ///< per owned vertex
  std::vector<std::unique_ptr<Scheduler>> schedulers_;
  std::unique_ptr<VertexData[]> snapshot_;  ///< vertex consistency: neighbour view
  tbb::enumerable_thread_specific<std::vector<Lid>> changed_;
  tbb::enumerable_thread_specific<std::vector<Lid>> neighbor_writes_;  ///< see Scope
  /// Vertex consistency: schedule requests made during a step, applied after it.
  RequestSet deferred_;
  bool defer_schedules_ = false;
  Cluster* cluster_ = nullptr;
  std::unique_ptr<GhostSync> ghosts_;
  std::unique_ptr<EdgeSync> edges_sync_;  ///< edge or full consistency with edge data
  /// Schedule requests for ghosts made since the last push (sent to their owners).
  RequestSet remote_;  ///< by lid - num_owned
  std::vector<char> dense_ = std::vector<char>(static_cast<std::size_t>(pool_.nodes()), 0);
  AggregatorTable aggregators_;
  std::uint64_t updates_ = 0;
  std::uint64_t steps_ = 0;
  bool progress_tty_ = ::isatty(STDERR_FILENO) != 0;
};

}  // namespace atl
