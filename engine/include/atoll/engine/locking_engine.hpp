// The locking engine (GraphLab's asynchronous engine): no colour steps. Each rank's workers take
// vertices from a continuous scheduler, lock their scopes through a pipeline of non-blocking
// distributed reader-writer locks (LockManager) and run each update the moment its locks and
// data are in; a worker never waits on the network. A run is a sequence of phases: a phase runs
// until distributed termination (Safra: every scheduler and pipeline empty, no message in
// flight); then, with no update running, the aggregators run, the iteration hook is called and
// the next phase starts if anything is scheduled (or the hook asked for one).
//
// Consistency and locks (the scope's locks in the global order, docs/locking.md):
//   vertex: no lock messages at all. The continuous scheduler never hands out a vertex while
//           its update runs, which is the write lock on the centre. Neighbours are read as they
//           are (GraphLab's vertex consistency promises nothing about them); an owner sends each
//           update's new data to the vertex's replicas (refresh entries, batched per peer,
//           before the update's schedule requests, so a scheduled vertex reads the new value).
//   edge:   write lock on the centre, read locks on the neighbours; full: write on all.
//           Ghost data travels with the grants, only when the requester's copy is older
//           (VertexVersions); ghosts written under full consistency go back with the release.
// Serializable under edge and full consistency by the invariant in vertex_versions.hpp.
//
// Threads: one pipeline slot per scope in flight (at most --pipeline); `granted` (on a worker
// or the transport's progress thread) queues the slot as ready; workers run ready slots first,
// then start new scopes; records to a peer are batched per worker (updates) or taken from the
// lock manager in order under one lock (lock batches), and sent on one Channel.
#pragma once

#include <tbb/blocked_range.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <type_traits>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/spin_lock.hpp"
#include "atoll/common/stolen_time.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/async_snapshot.hpp"
#include "atoll/engine/context.hpp"
#include "atoll/engine/engine_core.hpp"
#include "atoll/engine/iteration_hook.hpp"
#include "atoll/engine/lock_manager.hpp"
#include "atoll/engine/locking_details.hpp"
#include "atoll/engine/locking_records.hpp"
#include "atoll/engine/progress_line.hpp"
#include "atoll/engine/run_limits.hpp"
#include "atoll/engine/scheduler.hpp"
#include "atoll/engine/scope.hpp"
#include "atoll/engine/scope_locks.hpp"
#include "atoll/engine/serializability.hpp"
#include "atoll/engine/slot_ring.hpp"
#include "atoll/engine/stale_copies.hpp"
#include "atoll/engine/termination.hpp"
#include "atoll/engine/vertex_versions.hpp"
#include "atoll/transport/channel.hpp"

namespace atl {

template <GraphProgram P>
class LockingEngine final {
 public:
  using VertexData = typename P::VertexData;
  using EdgeData = typename P::EdgeData;
  using Graph = LocalGraph<VertexData, EdgeData>;
  static_assert(std::is_trivially_copyable_v<VertexData>, "vertex data is sent as bytes");

  /// With a cluster, the graph is this rank's part and construction and run() are collective.
  LockingEngine(Graph& graph, const P& program, const EngineOptions& options,
                Cluster* cluster = nullptr)
      : core_(graph, program, options, cluster),
        versions_(graph.topology().num_vertices()),
        views_(kViews ? graph.topology().num_vertices() : 0),
        pipeline_(options.pipeline) {
    Timer setup;
    if (pipeline_ == 0) usage_fail("--pipeline must be at least 1");
    if (options.checkpoint.snapshot_every > 0 && consistency() != Consistency::kEdge) {
      usage_fail(
          "--snapshot-every needs edge consistency: the snapshot's cut relies on the ",
          "locks of edge-consistent updates, as in GraphLab (this run has ",
          consistency_name(consistency()),
          " consistency; use --consistency edge, or --checkpoint-every N with --sync-every)");
    }
    const Topology& t = topology();
    const Lid owned = t.num_owned();
    scheduler_ = make_continuous_scheduler(options.scheduler, owned,
                                           static_cast<unsigned>(pool().threads()));
    slots_.resize(pipeline_);
    ready_.reset(pipeline_);
    free_slots_.reserve(pipeline_);
    for (std::size_t i = pipeline_; i-- > 0;) free_slots_.push_back(static_cast<std::uint32_t>(i));
    // Hubs jump lock queues (GraphLab did so that a hub's scope is not starved).
    const double mean = owned > 0 ? static_cast<double>(t.num_edges()) / owned : 0;
    hub_degree_ = std::max<std::size_t>(256, static_cast<std::size_t>(16 * mean));
    if (core_.options().scheduler == SchedulerKind::kPriority) {
      run_ahead_ = std::max(0.0, core_.options().run_ahead);
    }
    if (const char* delay = std::getenv("ATOLL_TEST_LOCK_SEND_DELAY_US")) {
      lock_send_delay_ = std::chrono::microseconds(std::strtoul(delay, nullptr, 10));
    }
    peer_frontier_.assign(static_cast<std::size_t>(ranks()),
                          {0, -std::numeric_limits<double>::infinity()});
    if (cluster != nullptr) {
      ghost_owner_.resize(t.num_vertices() - owned);
      for (const GhostRange& r : t.ghost_ranges()) {
        for (Lid g = r.begin; g < r.end; ++g) ghost_owner_[g - owned] = r.owner_rank;
      }
      ranges_by_owner_.assign(static_cast<std::size_t>(cluster->size()), {0, 0});
      for (const GhostRange& r : t.ghost_ranges())
        ranges_by_owner_[r.owner_rank] = {r.begin, r.end};
      owner_lids_.assign(core_.ghosts()->ghost_owner_lids().begin(),
                         core_.ghosts()->ghost_owner_lids().end());
    }
    if (consistency() != Consistency::kVertex) {
      if (cluster != nullptr) stale_ = std::make_unique<StaleCopies>(owned, ranks());
      // Without edge data an update writes only its centre: edge consistency may then lock
      // each edge at one end (scope_locks.hpp).
      scope_locks_ =
          std::make_unique<ScopeLocks>(t, rank(), consistency(), std::is_empty_v<EdgeData>);
      // One worker: its lock words see no concurrent access worth atomics (serial manager).
      locks_ = std::make_unique<LockManager>(rank(), ranks(), owned, lock_hooks(),
                                             pool().threads() == 1);
      // Room for the scopes in flight made now, not while updates run (see reserve).
      for (Lid v = 0; v < owned; ++v) {
        const std::size_t degree = t.in_degree(v) + (t.symmetric() ? 0 : t.out_degree(v));
        max_scope_locks_ = std::max(max_scope_locks_, degree + 1);
      }
      max_scope_locks_ = std::min<std::size_t>(max_scope_locks_, kMaxReservedLocks);
      locks_->reserve(std::min<std::size_t>(pipeline_, kReservedScopes), kLargeScopes,
                      std::min(max_scope_locks_, kLargeScopeLocks));
    }
    if (cluster != nullptr) {
      // Edge, full: update records carry schedule requests, sent within 50 us. Vertex: they
      // carry every update's new data, which no update waits for: larger and rarer messages
      // spare the receiver a wake-up of its progress thread per 32 KB. Schedule and frontier
      // entries, which a peer may wait for, still go at once (flush_channel).
      ChannelOptions channel_options;
      channel_options.max_delay = std::chrono::microseconds(locks_ ? 50 : 1000);
      if (!locks_) channel_options.batch_bytes = std::size_t{256} << 10;
      channel_ = std::make_unique<Channel>(
          cluster->transport,
          [this](int source, std::span<const std::byte> record) { on_record(source, record); },
          channel_options);
      // Lock traffic and tokens go straight to the transport (any thread, the progress thread
      // too: an owner answers a request the moment it arrives, without waking a worker).
      transport_ = &cluster->transport;
      polled_ = workers_drive_network(options.network_progress, cluster->transport);
      coalesce_locks_ = polled_ && cluster->transport.backend_name() == "tcp";
      lock_dirty_ = std::make_unique<std::atomic<bool>[]>(static_cast<std::size_t>(ranks()));
      lock_handler_ = transport_->open_handler(
          [this](int source, std::span<const std::byte> record) { on_record(source, record); });
    }
    worker_stats_ = std::make_unique<WorkerStats[]>(static_cast<std::size_t>(pool().threads()));
    if (options.check_serializable) {
      const auto threads = static_cast<std::uint32_t>(pool().threads());
      for (std::uint32_t i = 0; i < threads; ++i) {
        histories_.emplace_back(static_cast<std::uint32_t>(rank()) * threads + i);
      }
    }
    new_detector();
    core_.open_checkpoints(EngineKind::kLocking);
    if (options.checkpoint.snapshot_every > 0) open_snapshot(options.checkpoint.snapshot_every);
    setup_seconds_ = setup.seconds();
  }

  /// kAuto: the workers drive the network when they fill the rank's cores (then a progress
  /// thread woken per message takes a core from one of them).
  bool workers_drive_network(NetworkProgress p, const Transport& transport) {
    if (p != NetworkProgress::kAuto) return p == NetworkProgress::kWorkers;
    return pool().threads() >= transport.rank_cores();
  }

  /// Collective with a cluster (closes the engine's handler), unless a peer failed.
  ~LockingEngine() {
    if (transport_ == nullptr) return;
    if (transport_->failed() || std::uncaught_exceptions() > 0) {
      // Peers may still send (records, a token, a lock batch): never to this engine once it
      // is gone. The channel goes first (its destructor abandons its handler on this path).
      channel_.reset();
      transport_->abandon_handler(lock_handler_);
      return;
    }
    try {
      channel_.reset();
      transport_->close_handler(lock_handler_);
    } catch (const std::exception&) {  // a peer failed meanwhile; its error is reported
    }
  }
  LockingEngine(const LockingEngine&) = delete;
  LockingEngine& operator=(const LockingEngine&) = delete;

  Consistency consistency() const { return core_.consistency(); }
  const Topology& topology() const { return core_.topology(); }
  const WorkerPool& workers() const { return core_.pool(); }

  template <typename F>
  void init_vertices(F&& f) {
    core_.init_vertices(std::forward<F>(f));
  }
  template <typename F>
  void init_edges(F&& f) {
    core_.init_edges(std::forward<F>(f));
  }

  /// Registers an aggregator (EngineCore::add_aggregator). The locking engine runs every
  /// aggregator at the start of run() and at the end of each phase, when no update runs.
  template <typename T, typename Fold, typename Merge, typename Finalize>
  AggregatorHandle<T> add_aggregator(std::string name, T zero, Fold fold, Merge merge,
                                     Finalize finalize, SyncInterval when) {
    return core_.add_aggregator(std::move(name), zero, fold, merge, finalize, when);
  }
  template <typename T>
  const T& aggregate(AggregatorHandle<T> handle) const {
    return core_.aggregators().value(handle);
  }
  /// Collective with a cluster: runs every aggregator now.
  void sync_all() { core_.aggregators().run_all(updates_); }
  /// Saves `value` with every checkpoint and restores it on resume (see EngineCore::persist).
  template <typename T>
  void persist(std::string name, T& value) {
    core_.persist(std::move(name), value);
  }

  /// Schedules local vertex v (a ghost: sent to its owner at the start of the next phase).
  /// Between phases only; updates schedule through their Context.
  void schedule(Lid v, double priority = 1.0) {
    if (core_.schedule_remote(v, priority)) return;
    scheduler_->schedule(v, priority);
  }
  void schedule_all(double priority = 1.0) {
    core_.for_each_owned_range(
        [&](Lid begin, Lid end) { scheduler_->schedule_range(begin, end, priority); });
  }

  /// Runs phases until nothing is scheduled anywhere, max_iterations phases, or the hook says
  /// stop.
  RunStats run(const IterationHook& hook = {}) {
    RunStats stats = core_.begin_stats(EngineKind::kLocking);
    stats.setup_seconds = setup_seconds_;
    auto details = std::make_shared<LockingDetails>();
    details->pipeline = pipeline_;
    Cluster* cluster = core_.cluster();
    ProgressLine progress(core_.options().progress, "phase");
    progress_ = &progress;  // worker 0 refreshes the status line during a phase
    Timer total;
    const StolenTime stolen;
    // Resumed: the data, schedule, aggregators and phase count of the epoch replace the start.
    const std::uint64_t first_phase = core_.resuming() ? resume() : 0;
    if (cluster != nullptr) {  // ghosts start as their owners' data
      for (const ScheduleRequest& r :
           core_.ghosts()->push_all(core_.vertex_arrays(), core_.take_remote_requests())) {
        scheduler_->schedule(r.lid, r.priority);
      }
    }
    if (!core_.resuming()) sync_all();
    refresh_views();
    // No rank may send a refresh before every rank has applied the push above (it would be
    // overwritten by the older pushed data), nor before the views are made.
    if (cluster != nullptr) cluster->collectives.barrier();
    run_timer_.reset();
    for (std::uint64_t phase = first_phase; phase < core_.options().max_iterations; ++phase) {
      current_phase_.store(phase, std::memory_order_relaxed);
      Timer phase_timer;
      const std::uint64_t before = updates_;
      set_phase_quota();
      run_phase(phase, *details);
      if (snapshot_) settle_snapshot();
      if (cluster != nullptr && locks_) {
        // Edge and full consistency refresh ghosts only on grants: make every copy current
        // for the aggregators and the hook, which may read ghosts (ALS's RMSE does). Only the
        // copies no grant has refreshed since their vertex last changed are sent (cc on
        // kron20, 2 ranks: 3-5k of 255k; 1 ms instead of 13-39 ms for every copy). Their bits
        // stay set: the push carries no version, so the next grant still sends it.
        stale_list_.clear();
        stale_->list(stale_list_);
        const std::span<const Lid> changed[] = {stale_list_};
        core_.ghosts()->push(core_.vertex_arrays(), changed, {});
      }
      if (cluster != nullptr) {
        updates_ = before +
                   cluster->collectives.allreduce<std::uint64_t>(updates_ - before, ReduceOp::kSum);
      }
      core_.aggregators().run_all(updates_);
      IterationRecord record{phase, updates_ - before, phase_timer.seconds()};
      const bool keep_going = hook ? hook(record) : true;
      progress.report(record, bytes_sent());
      stats.iteration_log.push_back(record);
      ++stats.iterations;
      if (!keep_going) break;
      // Before the collective that every rank passes before its next phase starts: no copy
      // can arrive meanwhile.
      refresh_views();
      std::uint64_t pending = scheduler_->pending_count() + pending_remote();
      if (cluster != nullptr) {
        pending = cluster->collectives.allreduce<std::uint64_t>(pending, ReduceOp::kSum);
      }
      if (pending == 0) break;
      stats.stopped_by = limit_reached(core_.options(), updates_, total.seconds(), cluster);
      if (!stats.stopped_by.empty()) {
        stats.still_scheduled = pending;
        break;
      }
      if (core_.checkpoints() && core_.checkpoints()->due(phase + 1)) write_checkpoint(phase + 1);
    }
    if (core_.checkpoints()) stats.checkpoints = core_.checkpoints()->stats();
    if (snapshot_) details->snapshots = snapshot_->finished();
    if (locks_) {
      const LockStats ls = locks_->stats();
      std::uint64_t local_scopes = 0;
      for (int i = 0; i < pool().threads(); ++i) local_scopes += worker_stats_[i].local_scopes;
      details->scopes = ls.scopes + local_scopes;
      details->local_scopes = local_scopes;
      details->optimistic = ls.optimistic;
      details->fallbacks = ls.fallbacks;
      details->lock_waits = ls.waits;
      stats.bytes_sent += ls.batch_bytes;
    }
    if (!histories_.empty()) check_history(*details);
    std::uint64_t local_updates = 0;
    for (int i = 0; i < pool().threads(); ++i) {
      details->lock_wait.merge(worker_stats_[i].lock_wait);
      local_updates += worker_stats_[i].updates.load(std::memory_order_relaxed);
    }
    if (cluster != nullptr) {  // every rank's progress, for the metrics
      const std::vector<std::string> all =
          cluster->collectives.allgather(timeline_bytes(timeline_));
      timeline_.clear();
      for (int r = 0; r < static_cast<int>(all.size()); ++r) {
        details->timelines.push_back(timeline_from_bytes(all[r], r));
      }
    } else {
      details->timelines.push_back(std::move(timeline_));
    }
    details->refreshes = refreshes_.load();
    details->remote_schedules = remote_schedules_.load();
    details->grant_data = grant_data_.load();
    details->grant_data_skipped = grant_skipped_.load();
    stats.bytes_sent += update_bytes_.load();
    details->bytes_per_update =
        local_updates > 0 ? static_cast<double>(stats.bytes_sent) / local_updates : 0;
    stats.updates = updates_;
    stats.seconds = total.seconds();
    stats.steal_seconds = stolen.seconds();
    stats.details = std::move(details);
    progress_ = nullptr;
    return stats;
  }

 private:
  /// One scope in the pipeline.
  struct Slot {
    Lid v = 0;
    double priority = 0;
    ScopeId scope = 0;
    bool locked = false;    ///< holds locks in the lock manager (edge, full)
    bool local = false;     ///< holds the worker's `locks` by try_lock_local instead
    bool snapshot = false;  ///< a snapshot update: captures v, runs no program
    std::chrono::steady_clock::time_point requested;  ///< when its locks were requested
    std::vector<Lid> written_ghosts;                  ///< full consistency: ghosts the update wrote
  };

  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  static constexpr std::size_t kPopBatch =
      16;  ///< vertices a worker takes from the scheduler at once
  static constexpr std::size_t kLoopUpdates = 256;  ///< vertex: updates between loop duties

  /// One worker's state: its records per peer, its schedule sink, its scratch lists.
  struct alignas(64) Worker final : ScheduleSink {  // a line of its own: written per update
    Slot own;  ///< vertex consistency: the scope it runs directly
    LockingEngine* engine = nullptr;
    std::size_t index = 0;  ///< into worker_stats_
    Channel::Writer* writer = nullptr;
    /// Per peer: an update record not yet sent (its header's bytes kept free at the start),
    /// or nothing.
    std::vector<std::vector<std::byte>> out;
    /// out[peer], to append an entry to (started with room for the header).
    std::vector<std::byte>& record(int peer) {
      std::vector<std::byte>& o = out[static_cast<std::size_t>(peer)];
      if (o.empty()) o.resize(locking::kHeaderBytes);
      return o;
    }
    std::vector<std::pair<Lid, double>> remote;  ///< this update's requests for ghosts
    std::vector<PendingVertex> scheduled;        ///< ... and for owned vertices
    std::vector<LockItem> locks;                 ///< the scope's locks at this rank
    std::vector<RemoteGroup> remote_groups;      ///< ... and at the others
    std::vector<Lid> written;
    UpdateHistory* history = nullptr;  ///< --check-serializable: this worker's updates
    std::vector<VersionedAccess> reads, writes;
    std::uint64_t updates = 0;
    std::uint64_t since_flush = 0;
    /// The lock-wait clock, read once per batch of scopes started or run (a reading costs
    /// about as much as a local scope's lock work); unset: read it at the next use.
    std::optional<std::chrono::steady_clock::time_point> clock;
    std::chrono::steady_clock::time_point now() {
      if (!clock) clock = std::chrono::steady_clock::now();
      return *clock;
    }
    std::int64_t last_poll = 0;  ///< steady_clock ticks of its last busy poll (poll_busy)
    std::uint64_t finished = 0;  ///< updates done, not yet taken off in_flight_/unfinished_
    /// Vertex consistency: vertices this worker updated whose scheduler finish() is pending
    /// (start_scopes finishes a batch with one call).
    PendingVertex ran[kPopBatch];
    std::size_t ran_count = 0;
    std::uint64_t refreshes = 0, remote_schedules = 0;  ///< not yet added to the engine's
    bool dirty = false;         ///< `out` holds entries (counted in unsent_)
    bool urgent = false;        ///< vertex: `out` holds schedule or frontier entries (a peer waits)
    std::uint32_t out_tag = 0;  ///< the snapshot epoch the entries in `out` are stamped with
    std::uint32_t update_epoch = 0;  ///< the snapshot epoch of the running update
    /// Edge and full consistency: by ghost, the record (`batch`) holding a schedule entry for
    /// it and the entry's offset in out[owner], so a repeated request raises that entry.
    std::vector<std::uint32_t> scheduled_in, scheduled_at;
    std::uint32_t batch = 1;  ///< changes whenever `out` is sent
    void schedule(Lid v, double priority) override {
      engine->schedule_from_update(*this, v, priority);
    }
  };

  WorkerPool& pool() { return core_.pool(); }
  int rank() const { return core_.cluster() != nullptr ? core_.cluster()->rank() : 0; }
  int ranks() const { return core_.ranks(); }
  TerminationDetector& detector() { return *detector_.load(std::memory_order_acquire); }

  /// A fresh detector for the next phase. Called while no message of this engine is in flight
  /// and before the collective that ends a phase, so no record of the next phase can arrive
  /// at the old one.
  void new_detector() {
    ended_.store(false, std::memory_order_release);
    passive_ = false;
    detectors_.push_back(std::make_unique<TerminationDetector>(
        rank(), ranks(),
        [this](int to, std::span<const std::byte> token) {
          std::vector<std::byte> record(1 + token.size());
          record[0] = std::byte{static_cast<std::uint8_t>(locking::RecordKind::kToken)};
          std::memcpy(record.data() + 1, token.data(), token.size());
          // Queued, sent by send_tokens() once no engine lock is held (a send may wait for
          // the transport, whose progress thread may be waiting for that lock).
          std::lock_guard guard(token_lock_);
          tokens_.emplace_back(to, std::move(record));
        },
        [this] { ended_.store(true, std::memory_order_release); }));
    detector_.store(detectors_.back().get(), std::memory_order_release);
  }

  /// Between phases (no scope in flight, every lock free, every copy current): owned data,
  /// the schedule with the hook's requests for ghosts delivered to their owners first,
  /// aggregators and counters.
  void write_checkpoint(std::uint64_t phases) {
    pending_remote();
    if (core_.cluster() != nullptr) {
      std::vector<ScheduleRequest> requests = std::move(between_phases_);
      between_phases_.clear();
      for (const ScheduleRequest& r : core_.ghosts()->push_all(core_.vertex_arrays(), requests)) {
        scheduler_->schedule(r.lid, r.priority);
      }
      refresh_views();  // the push wrote ghosts; no peer sends before the epoch's collectives
    }
    core_.write_checkpoint(scheduler_->export_pending(), phases, updates_);
  }

  /// Loads the newest valid epoch of --resume; returns the phases it had done.
  std::uint64_t resume() {
    scheduler_ = make_continuous_scheduler(core_.options().scheduler, topology().num_owned(),
                                           static_cast<unsigned>(pool().threads()));
    return core_.resume([&](Lid v, double priority) { scheduler_->schedule(v, priority); },
                        updates_);
  }

  std::uint64_t pending_remote() {
    // Requests for ghosts made between phases (the hook) go out at the next phase's start.
    std::vector<ScheduleRequest> requests = core_.take_remote_requests();
    for (const ScheduleRequest& r : requests) between_phases_.push_back(r);
    return between_phases_.size();
  }

  LockHooks lock_hooks() {
    LockHooks h;
    h.granted = [this](ScopeId scope, std::uint64_t tag) {
      slots_[tag].scope = scope;
      std::lock_guard guard(ready_lock_);
      ready_.push(static_cast<std::uint32_t>(tag));
    };
    h.outgoing = [this](int peer) {
      lock_dirty_[peer].store(true, std::memory_order_release);
      any_lock_dirty_.store(true, std::memory_order_release);
    };
    h.expand = [this](int requester, Lid key) { return scope_locks_->group(requester, key); };
    // The requester's copy is current unless the vertex changed since it was last sent there
    // (stale_): grants to a peer arrive in the order they were made (one ordered lock batch
    // stream per pair), so that copy is installed before this grant is seen, and a copy
    // changes otherwise only by the requester's own writes, which come back with its release
    // and are noted there. So a version goes to each peer once, however many of its requests
    // are in flight.
    h.grant_data = [this](int requester, std::span<const Lid> lids, std::vector<std::byte>& out) {
      const VertexData* data = core_.graph().vertex_data().data();
      if (kSnapshotsEdges && snapshot_) append_captured(lids, out);
      std::uint64_t sent_data = 0;
      for (const Lid u : lids) {
        if (stale_->take(u, requester)) {
          locking::append_versioned(out, u, versions_.get(u), &data[u], sizeof(VertexData));
          ++sent_data;
        }
      }
      grant_data_.fetch_add(sent_data, std::memory_order_relaxed);
      grant_skipped_.fetch_add(lids.size() - sent_data, std::memory_order_relaxed);
    };
    h.receive_grant_data = [this](std::uint64_t, int owner, std::span<const std::byte> bytes) {
      VertexData* data = core_.graph().vertex_data().data();
      if (kSnapshotsEdges && snapshot_) bytes = read_captured(owner, bytes);
      locking::read_versioned(bytes, sizeof(VertexData), owner, "grant data",
                              [&](Lid owner_lid, std::uint64_t version, auto d) {
                                const Lid g = ghost_of(owner, owner_lid);
                                if (versions_.install(g, version)) install(data, g, d.data());
                              });
    };
    // Release data: u32 count, that many vertices (lid at the owner, version, data): the
    // ghosts the update wrote (full consistency), or its centre (oriented edge consistency,
    // where the owner's vertices below the centre read it without a lock); then the cut edges
    // between the scope's centre and the owner's vertices (shared index, data): an update may
    // have written them, and the owner's copy must see it before the lock that protected them
    // is free.
    h.release_data = [this](std::uint64_t tag, int owner, std::vector<std::byte>& out) {
      const VertexData* data = core_.graph().vertex_data().data();
      const Lid owned = topology().num_owned();
      const Slot& slot = slots_[tag];
      std::uint32_t count = 0;
      const std::size_t start = out.size();  // the hook appends to the lock batch
      out.resize(start + 4);
      for (Lid g : slot.written_ghosts) {
        if (ghost_owner_[g - owned] != owner) continue;
        locking::append_versioned(out, owner_lids_[g - owned], versions_.get(g), &data[g],
                                  sizeof(VertexData));
        ++count;
      }
      if (scope_locks_->pushes_centre()) {
        for (const Replica& r : topology().replicas(slot.v)) {
          // Sent when that copy is stale (always after a change); it is current from now on.
          if (r.rank != owner || !stale_->take(slot.v, owner)) continue;
          locking::append_versioned(out, r.lid, versions_.get(slot.v), &data[slot.v],
                                    sizeof(VertexData));
          ++count;
        }
      }
      std::memcpy(out.data() + start, &count, 4);
      if constexpr (!std::is_empty_v<EdgeData>) {
        const EdgeSync* sync = core_.edge_sync();
        if (sync == nullptr) return;
        const EdgeData* edges = core_.graph().edge_data().data();
        const Topology& t = topology();
        auto add = [&](EdgeId e) {
          if (sync->peer_of(e) != owner) return;
          const std::uint32_t index = sync->shared_index(e);
          const std::size_t at = out.size();
          out.resize(at + 4 + sizeof(EdgeData));
          std::memcpy(out.data() + at, &index, 4);
          std::memcpy(out.data() + at + 4, &edges[e], sizeof(EdgeData));
        };
        for (EdgeId e = t.out_begin(slot.v); e < t.out_end(slot.v); ++e) add(e);
        for (EdgeId e : t.in_edges(slot.v)) add(e);
      }
    };
    h.receive_release_data = [this](int requester, std::span<const std::byte> bytes) {
      VertexData* data = core_.graph().vertex_data().data();
      const Lid owned = topology().num_owned();
      std::uint32_t count = 0;
      if (bytes.size() < 4) fail("locking engine: rank ", requester, " sent short release data");
      std::memcpy(&count, bytes.data(), 4);
      const std::size_t vertex_bytes = std::size_t{count} * (12 + sizeof(VertexData));
      if (bytes.size() - 4 < vertex_bytes) {
        fail("locking engine: rank ", requester, " sent release data shorter than its ", count,
             " vertices");
      }
      locking::read_versioned(
          bytes.subspan(4, vertex_bytes), sizeof(VertexData), requester, "release data",
          [&](Lid lid, std::uint64_t version, auto d) {
            if (lid >= owned) {  // the pushed centre: a ghost of the requester
              if (lid >= topology().num_vertices() || ghost_owner_[lid - owned] != requester) {
                fail("locking engine: rank ", requester, " returned data for lid ", lid,
                     ", neither owned here nor its vertex");
              }
              if (versions_.install(lid, version)) install(data, lid, d.data());
              return;
            }
            if (versions_.install(lid, version)) {
              install(data, lid, d.data());
              stale_->changed(lid, topology().replicas(lid), requester);  // its copy is this one
            }
          });
      const auto rest = bytes.subspan(4 + vertex_bytes);
      if constexpr (std::is_empty_v<EdgeData>) {
        if (!rest.empty()) fail("locking engine: rank ", requester, " sent edge data, none here");
      } else {
        const EdgeSync* sync = core_.edge_sync();
        const std::size_t entry = 4 + sizeof(EdgeData);
        if (rest.size() % entry != 0 || (sync == nullptr && !rest.empty())) {
          fail("locking engine: rank ", requester, " sent malformed cut-edge data (", rest.size(),
               " bytes)");
        }
        EdgeData* edges = core_.graph().edge_data().data();
        for (std::size_t at = 0; at < rest.size(); at += entry) {
          std::uint32_t index;
          std::memcpy(&index, rest.data() + at, 4);
          const std::span<const EdgeId> shared = sync->shared_with(requester);
          if (index >= shared.size()) {
            fail("locking engine: rank ", requester, " sent cut edge ", index, " of ",
                 shared.size());
          }
          std::memcpy(&edges[shared[index]], rest.data() + at + 4, sizeof(EdgeData));
        }
      }
    };
    return h;
  }

  // ---- the asynchronous snapshot (async_snapshot.hpp has the protocol) ----

  static constexpr std::uint32_t kNoStamp = ~std::uint32_t{0};

  void open_snapshot(double every) {
    snapshot_every_ = every;
    if (run_ahead_ > 0) log_info("locking engine: --run-ahead is off while snapshots are taken");
    run_ahead_ = 0;
    const auto threads = static_cast<unsigned>(pool().threads());
    low_stamp_ = std::make_unique<std::atomic<std::uint32_t>[]>(threads);
    for (unsigned i = 0; i < threads; ++i) low_stamp_[i].store(kNoStamp);
    snapshot_ = std::make_unique<AsyncSnapshot>(
        *core_.checkpoints(), rank(), ranks(), topology().num_owned(), topology().num_vertices(),
        sizeof(CheckpointVertexHeader) + checkpoint_bytes<VertexData>(),
        threads + 1,  // one edge buffer per worker and one for the capture at rest
        [this](std::uint32_t k, const CheckpointFileInfo& file, const std::string& error) {
          report_written(k, file, error);
        });
  }

  /// Idle until the sweep is done (or a limit stops new scopes) and the counts went out.
  bool snapshot_idle() const {
    return snapshot_->counts_sent() &&
           (draining_.load(std::memory_order_acquire) || snapshot_->sweep_done());
  }

  /// A worker's part in each loop: entries stamped before the current snapshot go out, the
  /// counts go to the peers once no worker can still send such entries, and rank 0's worker 0
  /// starts the next snapshot when it is due.
  void snapshot_duties(Worker& w) {
    const std::uint32_t e = snapshot_->epoch();
    if (w.dirty && w.out_tag < e) flush_worker(w);
    if (e != 0 && !snapshot_->counts_sent()) send_counts(e);
    if (rank() == 0 && w.index == 0) maybe_start_snapshot();
  }

  void send_counts(std::uint32_t k) {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with begin_snapshot_update
    for (int i = 0; i < pool().threads(); ++i) {
      if (low_stamp_[i].load(std::memory_order_seq_cst) < k) return;
    }
    if (!snapshot_->claim_counts(k)) return;
    for (int peer = 0; peer < ranks(); ++peer) {
      if (peer == rank()) continue;
      std::vector<std::byte> record;
      snapshot_record(record, locking::SnapshotMessage::kCount, k);
      const std::uint64_t n = snapshot_->sent_before(peer, k);
      append_raw(record, &n, 8);
      detector().sent();
      transport_->send(peer, lock_handler_, record);
    }
    // Only now may the rank go passive (snapshot_idle): a passive rank must not send.
    snapshot_->counts_done(k);
    snapshot_->submit_if_complete();
  }

  void maybe_start_snapshot() {
    const double now = run_timer_.seconds();
    if (now < next_snapshot_check_) return;
    next_snapshot_check_ = now + 0.001;
    const std::uint32_t k = snapshot_->epoch();
    if (snapshot_->finished() < k) return;  // the last one is still being written
    if (std::string failure = snapshot_->failure(); !failure.empty()) fail(failure);
    if (draining_.load(std::memory_order_acquire) ||
        snapshot_->since_finished() < snapshot_every_) {
      return;
    }
    {
      // Only an active rank may send the start (termination counts it); the start makes this
      // rank busy until its counts are out.
      std::lock_guard guard(activity_);
      if (passive_) return;
      snapshot_->start(k + 1, phase_, core_.shared_state({{"updates", updates_}}));
      // Counted while still active: a send counted late could let the run end before it.
      detector().sent(static_cast<std::uint64_t>(ranks() - 1));
    }
    for (int peer = 1; peer < ranks(); ++peer) {
      std::vector<std::byte> record;
      snapshot_record(record, locking::SnapshotMessage::kStart, k + 1);
      transport_->send(peer, lock_handler_, record);
    }
  }

  /// The marker rule: a record stamped with a newer snapshot starts it here first.
  void observe_stamp(int source, std::uint32_t stamp) {
    if (!snapshot_) {
      if (stamp != 0) {
        fail("locking engine: rank ", source, " sent snapshot epoch ", stamp,
             ", but this run takes no snapshots");
      }
      return;
    }
    const std::uint32_t e = snapshot_->epoch();
    if (stamp <= e) return;
    if (stamp != e + 1 || rank() == 0) {
      fail("locking engine: rank ", source, " sent snapshot epoch ", stamp, ", this rank is at ",
           e);
    }
    snapshot_->start(stamp);
  }

  /// Start and count messages (under activity_, counted for termination).
  void on_snapshot_message(int source, std::span<const std::byte> payload) {
    if (!snapshot_) fail("locking engine: rank ", source, " sent a snapshot message, none here");
    if (payload.size() < 5) fail("locking engine: rank ", source, " sent a short snapshot message");
    const auto type = static_cast<locking::SnapshotMessage>(payload[0]);
    std::uint32_t k;
    std::memcpy(&k, payload.data() + 1, 4);
    if (type == locking::SnapshotMessage::kStart && payload.size() == 5 && source == 0) {
      observe_stamp(source, k);
    } else if (type == locking::SnapshotMessage::kCount && payload.size() == 13) {
      std::uint64_t n;
      std::memcpy(&n, payload.data() + 5, 8);
      observe_stamp(source, k);
      snapshot_->expect(source, k, n);
      snapshot_->submit_if_complete();
    } else {
      fail("locking engine: rank ", source, " sent a malformed snapshot message (type ",
           static_cast<int>(payload[0]), ", ", payload.size(), " bytes)");
    }
  }

  /// The writer thread: this rank's file of snapshot k is written (or not); rank 0 hears it.
  void report_written(std::uint32_t k, const CheckpointFileInfo& file, const std::string& error) {
    if (rank() == 0) {
      snapshot_->file_written(0, k, file, error);
      return;
    }
    std::vector<std::byte> record;
    snapshot_record(record, locking::SnapshotMessage::kWritten, k);
    append_raw(record, &file.bytes, 8);
    append_raw(record, &file.crc, 4);
    append_raw(record, error.data(), error.size());
    transport_->send(0, lock_handler_, record);
  }

  /// Rank 0: a rank's kWritten message (outside the termination count).
  void on_written(int source, std::span<const std::byte> payload) {
    if (!snapshot_ || rank() != 0 || payload.size() < 17) {
      fail("locking engine: rank ", source, " sent an unexpected snapshot report");
    }
    std::uint32_t k;
    CheckpointFileInfo file;
    std::memcpy(&k, payload.data() + 1, 4);
    std::memcpy(&file.bytes, payload.data() + 5, 8);
    std::memcpy(&file.crc, payload.data() + 13, 4);
    const auto text = payload.subspan(17);
    snapshot_->file_written(source, k, file,
                            std::string(reinterpret_cast<const char*>(text.data()), text.size()));
  }

  static void snapshot_record(std::vector<std::byte>& out, locking::SnapshotMessage type,
                              std::uint32_t k) {
    out.push_back(std::byte{static_cast<std::uint8_t>(locking::RecordKind::kSnapshot)});
    out.push_back(std::byte{static_cast<std::uint8_t>(type)});
    append_raw(out, &k, 4);
  }
  static void append_raw(std::vector<std::byte>& out, const void* bytes, std::size_t n) {
    const std::size_t at = out.size();
    out.resize(at + n);
    if (n != 0) std::memcpy(out.data() + at, bytes, n);
  }

  /// Whether a snapshot saves edges, and so needs to know which ghosts are captured (an edge
  /// is saved by whichever end is captured first). Without edge data, grants carry no status.
  static constexpr bool kSnapshotsEdges = checkpoint_bytes<EdgeData>() > 0;

  /// Grant data (owner): u32 epoch, u32 count, the granted lids captured in that snapshot.
  void append_captured(std::span<const Lid> lids, std::vector<std::byte>& out) {
    const std::uint32_t e = snapshot_->epoch();
    const std::size_t at = out.size();
    append_raw(out, &e, 4);
    out.resize(at + 8);
    std::uint32_t count = 0;
    for (const Lid& u : lids) {
      if (e != 0 && snapshot_->captured_in(u) == e) {
        append_raw(out, &u, 4);
        ++count;
      }
    }
    std::memcpy(out.data() + at + 4, &count, 4);
  }
  /// Grant data (requester): records which ghosts are captured; returns the rest.
  std::span<const std::byte> read_captured(int owner, std::span<const std::byte> bytes) {
    std::uint32_t e = 0, count = 0;
    if (bytes.size() >= 8) {
      std::memcpy(&e, bytes.data(), 4);
      std::memcpy(&count, bytes.data() + 4, 4);
    }
    if (bytes.size() < 8 || count > (bytes.size() - 8) / 4 || e > snapshot_->epoch()) {
      fail("locking engine: rank ", owner, " sent a malformed snapshot status with a grant");
    }
    for (std::uint32_t i = 0; i < count; ++i) {
      Lid lid;
      std::memcpy(&lid, bytes.data() + 8 + 4 * i, 4);
      snapshot_->set_ghost_captured(ghost_of(owner, lid), e);
    }
    return bytes.subspan(8 + 4 * std::size_t{count});
  }

  /// Up to batch.size() vertices of the current snapshot's sweep not yet captured.
  std::size_t take_sweep(std::span<PendingVertex> batch) {
    if (snapshot_->epoch() == 0 || draining_.load(std::memory_order_acquire)) return 0;
    const Lid owned = topology().num_owned();
    std::size_t n = 0;
    while (n < batch.size() && !snapshot_->sweep_done()) {
      const Lid v = snapshot_->next_in_sweep();
      // The epoch read after the cursor: a cursor reset by start() belongs to the new one.
      if (v >= owned || snapshot_->captured_in(v) == snapshot_->epoch()) continue;
      batch[n++] = {v, 0.0};
    }
    return n;
  }

  /// Before an update of v (its locks held): the snapshot epoch the update belongs to, read
  /// stably against a concurrent start (a peer's count of earlier records must include this
  /// update's), and v's capture if this is its first update since the snapshot began.
  void begin_snapshot_update(Worker& w, Lid v) {
    std::uint32_t e = snapshot_->epoch();
    std::atomic<std::uint32_t>& low = low_stamp_[w.index];
    for (;;) {
      if (w.dirty && w.out_tag != e) flush_worker(w);
      low.store(e, std::memory_order_seq_cst);
      std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with send_counts
      const std::uint32_t again = snapshot_->epoch();
      if (again == e) break;
      e = again;
    }
    w.out_tag = e;
    w.update_epoch = e;
    if (e != 0 && snapshot_->captured_in(v) != e) capture(w.index, v);
  }
  void end_snapshot_update(Worker& w) {
    low_stamp_[w.index].store(w.dirty ? w.out_tag : kNoStamp, std::memory_order_release);
  }

  /// A snapshot update's scope is locked: capture its centre unless done.
  void run_capture(Worker& w, std::uint32_t s) {
    Slot& slot = slots_[s];
    if (snapshot_->captured_in(slot.v) != snapshot_->epoch()) capture(w.index, slot.v);
    locks_->release(slot.scope);
    {
      std::lock_guard guard(free_lock_);
      free_slots_.push_back(s);
    }
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    unfinished_.fetch_sub(1, std::memory_order_acq_rel);
  }

  /// Saves owned v (locks of its edge-consistent scope held) and each edge to a neighbour not
  /// yet captured: every edge is saved by whichever end is captured first.
  void capture(unsigned buffer, Lid v) {
    const Topology& t = topology();
    std::byte* data = snapshot_->begin_capture(v, *scheduler_, t.gid(v));
    if constexpr (checkpoint_bytes<VertexData>() > 0) {
      std::memcpy(data, &core_.graph().vertex_data()[v], sizeof(VertexData));
    }
    if constexpr (checkpoint_bytes<EdgeData>() > 0) {
      const std::uint32_t e = snapshot_->epoch();
      std::vector<std::byte>& out = snapshot_->edge_buffer(buffer);
      const EdgeData* edges = core_.graph().edge_data().data();
      for (EdgeId x = t.out_begin(v); x < t.out_end(v); ++x) {
        const Lid y = t.out_targets()[x];
        if (y == v || snapshot_->captured_in(y) != e) {
          append_edge_record(out, t.gid(v), t.gid(y), edges[x]);
        }
      }
      const auto from = t.in_neighbors(v);
      const auto ids = t.in_edges(v);
      for (std::size_t i = 0; i < from.size(); ++i) {
        if (from[i] != v && snapshot_->captured_in(from[i]) != e) {
          append_edge_record(out, t.gid(from[i]), t.gid(v), edges[ids[i]]);
        }
      }
    }
    snapshot_->end_capture();
    if (snapshot_->uncaptured() == 0) snapshot_->submit_if_complete();
  }

  /// Between phases, collective: a snapshot still open is completed at rest (nothing runs,
  /// nothing is in flight), every rank's file is written, and rank 0 writes the manifest if
  /// the asynchronous path has not. A failure stops the run on every rank.
  void settle_snapshot() {
    Cluster* cluster = core_.cluster();
    std::uint64_t k = snapshot_->epoch();
    if (cluster != nullptr) k = cluster->collectives.allreduce<std::uint64_t>(k, ReduceOp::kMax);
    if (k == settled_) return;
    // Starts are counted messages, so every rank has started k by the end of the phase.
    if (snapshot_->epoch() != k)
      fail("locking engine: snapshot ", k, " never reached rank ", rank());
    const auto epoch = static_cast<std::uint32_t>(k);
    // Ranks whose part is still open complete it at rest; the ghost states they need come
    // from every rank (a collective, whether or not this rank's part is done).
    std::uint64_t open = snapshot_->submitted() ? 0 : 1;
    if (cluster != nullptr)
      open = cluster->collectives.allreduce<std::uint64_t>(open, ReduceOp::kSum);
    if (open > 0) {
      if (!snapshot_->submitted()) log_warn(snapshot_->describe());
      if (kSnapshotsEdges && cluster != nullptr) exchange_captured(epoch);
      if (!snapshot_->submitted()) {
        capture_at_rest(epoch);
        snapshot_->submit_if_complete(true);
      }
    }
    CheckpointFileInfo file;
    const std::string error = snapshot_->wait_written(file);
    const std::string mine = error.empty() ? str_cat(file.bytes, " ", file.crc) : "!" + error;
    std::vector<std::string> all =
        cluster != nullptr ? cluster->collectives.allgather(mine) : std::vector<std::string>{mine};
    std::string failure;
    std::vector<CheckpointFileInfo> files(all.size());
    for (std::size_t r = 0; r < all.size() && failure.empty(); ++r) {
      if (all[r].empty() || all[r][0] == '!') {
        failure = str_cat("rank ", r, ": ", all[r].empty() ? "no file" : all[r].substr(1));
        continue;
      }
      unsigned long long bytes = 0;
      unsigned crc = 0;
      std::sscanf(all[r].c_str(), "%llu %u", &bytes, &crc);
      files[r] = {bytes, crc};
    }
    if (rank() == 0 && failure.empty()) failure = snapshot_->failure();
    if (rank() == 0 && failure.empty()) {
      try {
        snapshot_->write_manifest(files);
      } catch (const std::exception& e) {
        failure = e.what();
      }
    }
    if (cluster != nullptr) cluster->collectives.broadcast(0, failure);
    if (!failure.empty()) {
      fail("checkpoint snapshot not written (earlier epochs stay valid): ", failure);
    }
    settled_ = k;
  }

  /// Tells every replica's rank which of its ghosts are captured in snapshot k.
  void exchange_captured(std::uint32_t k) {
    const Topology& t = topology();
    std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(ranks()));
    for (Lid v = 0; v < t.num_owned(); ++v) {
      if (snapshot_->captured_in(v) != k) continue;
      for (const Replica& r : t.replicas(v)) append_raw(out[r.rank], &r.lid, 4);
    }
    std::vector<std::vector<std::byte>> in = core_.cluster()->exchange.all_to_all(std::move(out));
    for (std::size_t p = 0; p < in.size(); ++p) {
      if (in[p].size() % 4 != 0)
        fail("locking engine: rank ", p, " sent malformed snapshot status");
      const auto [begin, end] =
          p < ranges_by_owner_.size() ? ranges_by_owner_[p] : std::pair<Lid, Lid>{0, 0};
      for (std::size_t at = 0; at < in[p].size(); at += 4) {
        Lid lid;
        std::memcpy(&lid, in[p].data() + at, 4);
        if (lid < begin || lid >= end) {
          fail("locking engine: rank ", p, " says lid ", lid, " is captured; not its ghost here");
        }
        snapshot_->set_ghost_captured(lid, k);
      }
    }
  }

  /// Between phases: captures every owned vertex the snapshot has not reached. Both ends of
  /// an edge may be uncaptured now; its source's owner saves it (as a synchronous epoch does).
  void capture_at_rest(std::uint32_t k) {
    const Topology& t = topology();
    std::vector<Lid> rest;
    for (Lid v = 0; v < t.num_owned(); ++v) {
      if (snapshot_->captured_in(v) != k) rest.push_back(v);
    }
    if constexpr (checkpoint_bytes<EdgeData>() > 0) {
      std::vector<std::byte>& out = snapshot_->edge_buffer(static_cast<unsigned>(pool().threads()));
      const EdgeData* edges = core_.graph().edge_data().data();
      for (Lid v : rest) {  // before any of them is marked
        for (EdgeId x = t.out_begin(v); x < t.out_end(v); ++x) {
          const Lid y = t.out_targets()[x];
          if (snapshot_->captured_in(y) != k) append_edge_record(out, t.gid(v), t.gid(y), edges[x]);
        }
      }
    }
    for (Lid v : rest) {
      std::byte* data = snapshot_->begin_capture(v, *scheduler_, t.gid(v));
      if constexpr (checkpoint_bytes<VertexData>() > 0) {
        std::memcpy(data, &core_.graph().vertex_data()[v], sizeof(VertexData));
      }
      snapshot_->end_capture();
    }
  }

  /// The local lid of the ghost `owner` calls owner_lid (validated).
  Lid ghost_of(int owner, Lid owner_lid) const {
    if (owner < 0 || static_cast<std::size_t>(owner) >= ranges_by_owner_.size()) {
      fail("locking engine: data from unknown rank ", owner);
    }
    const auto [begin, end] = ranges_by_owner_[owner];
    const Lid owned = topology().num_owned();
    // Ghosts of one owner are in gid order, as are the owner's lids: owner_lids_ is sorted.
    auto first = owner_lids_.begin() + (begin - owned);
    auto last = owner_lids_.begin() + (end - owned);
    auto it = std::lower_bound(first, last, owner_lid);
    if (begin == end || it == last || *it != owner_lid) {
      fail("locking engine: rank ", owner, " sent data of its lid ", owner_lid,
           ", which is no ghost here");
    }
    return owned + static_cast<Lid>(it - owner_lids_.begin());
  }

  // ---- the network side (the transport's progress thread) ----

  void on_record(int source, std::span<const std::byte> record) {
    if (record.empty()) fail("locking engine: rank ", source, " sent an empty record");
    const auto kind = static_cast<locking::RecordKind>(record[0]);
    const auto payload = record.subspan(1);
    if (kind == locking::RecordKind::kToken) {
      detector().receive_token(source, payload);
      send_tokens();
      return;
    }
    if (kind == locking::RecordKind::kSnapshot && !payload.empty() &&
        static_cast<locking::SnapshotMessage>(payload[0]) == locking::SnapshotMessage::kWritten) {
      on_written(source, payload);  // outside the termination count: it may cross phases
      return;
    }
    apply_record(source, kind, payload);
    send_lock_batches(LockSend::kFromHandler);  // grants and refusals: at once or when due
  }

  void apply_record(int source, locking::RecordKind kind, std::span<const std::byte> payload) {
    std::lock_guard guard(activity_);
    detector().received();
    if (passive_) {
      passive_ = false;
      detector().set_passive(false);
    }
    if (kind == locking::RecordKind::kSnapshot) {
      on_snapshot_message(source, payload);
      return;
    }
    // Every lock batch and update record is stamped with its sender's snapshot epoch: a newer
    // one is the snapshot's marker, and this rank starts that snapshot before it applies it.
    const std::uint32_t stamp = locking::read_stamp(payload, source);
    observe_stamp(source, stamp);
    payload = payload.subspan(4);
    if (kind == locking::RecordKind::kLocks) {
      if (!locks_)
        fail("locking engine: rank ", source, " sent lock requests under vertex consistency");
      locks_->deliver(source, payload);
    } else if (kind == locking::RecordKind::kUpdates) {
      if (snapshot_) snapshot_->count_received(source, stamp);
      apply_updates(source, payload, stamp);
      if (snapshot_) snapshot_->submit_if_complete();
    } else {
      fail("locking engine: rank ", source, " sent a record of unknown kind ",
           static_cast<int>(kind));
    }
  }

  // ---- neighbour views ----

  // A program with a NeighborView gathers from views_, one compact copy per local vertex,
  // instead of from the whole vertex data (PageRank: 8 of 16 bytes per neighbour read). The
  // invariant: views_[v] is neighbor_view(data[v]) whenever another update may read it.
  // Every write of vertex data during a phase refreshes the view at once (an update's, before
  // its locks are released; an installed copy's, where it is installed); between phases,
  // where hooks, aggregators and ghost pushes write freely, refresh_views() redoes them all
  // while no copy can arrive (before the collective that precedes the next phase).
  static constexpr bool kViews = HasNeighborView<P>;

  void refresh_view(const VertexData* data, Lid v) {
    if constexpr (kViews) views_[v] = P::neighbor_view(data[v]);
  }

  void refresh_views() {
    if constexpr (kViews) {
      const VertexData* data = core_.graph().vertex_data().data();
      core_.for_each_range(topology().num_vertices(), [&](Lid begin, Lid end) {
        for (Lid v = begin; v < end; ++v) views_[v] = P::neighbor_view(data[v]);
      });
    }
  }

  /// Installs a copy of v's data that came from another rank.
  void install(VertexData* data, Lid v, const std::byte* bytes) {
    std::memcpy(&data[v], bytes, sizeof(VertexData));
    refresh_view(data, v);
  }

  void apply_updates(int source, std::span<const std::byte> payload, std::uint32_t stamp) {
    VertexData* data = core_.graph().vertex_data().data();
    const Lid owned = topology().num_owned();
    // (plain variables: clang before 16 cannot capture structured bindings)
    const Lid begin = ranges_by_owner_.at(static_cast<std::size_t>(source)).first;
    const Lid end = ranges_by_owner_[static_cast<std::size_t>(source)].second;
    // Schedule entries are applied in batches of up to 64, each after the refreshes before it.
    std::array<PendingVertex, 64> batch;
    std::size_t batched = 0;
    auto schedule_batch = [&] {
      scheduler_->schedule(std::span<const PendingVertex>(batch.data(), batched), schedule_order());
      if (snapshot_) {
        for (std::size_t k = 0; k < batched; ++k) {
          snapshot_->note_schedule(batch[k].index, batch[k].priority, stamp);
        }
      }
      batched = 0;
    };
    locking::read_update_entries(
        payload, sizeof(VertexData), source,
        [&](Lid lid, std::uint64_t version, std::span<const std::byte> d) {
          if (lid < begin || lid >= end) {
            fail("locking engine: rank ", source, " refreshed lid ", lid,
                 ", which is not one of its ghosts here");
          }
          if (versions_.install(lid, version)) install(data, lid, d.data());
        },
        [&](Lid lid, double priority) {
          if (lid >= owned) {
            fail("locking engine: rank ", source, " scheduled lid ", lid, ", not owned here");
          }
          batch[batched++] = {lid, priority};
          if (batched == batch.size()) schedule_batch();
        },
        [&](std::uint64_t sequence, double best) {
          schedule_batch();  // the frontier entry is applied in its place among the requests
          heard_frontier(source, sequence, best);
        });
    schedule_batch();
  }

  // ---- the run-ahead window (--run-ahead) ----
  //
  // Each rank tells its peers the best priority it has pending whenever that changes (at most
  // every kFrontierEvery while it runs updates), and pops only vertices within run_ahead_ of
  // the best it knows of. Liveness: once the latest values have arrived, the rank holding the
  // global best has it inside its own window; a rank whose best changed publishes again before
  // it idles, so the latest values always do arrive. A sequence number orders values sent
  // from different workers' batches.

  bool run_ahead_on() const { return run_ahead_ > 0; }

  // Work in flight counts too: a schedule sent to a peer is in nobody's scheduler until it
  // arrives, so for kInFlight after sending one a rank counts its priority as its own (else a
  // peer that just ran dry would publish "nothing" and let this rank run ahead alone).
  static constexpr std::int64_t kInFlight =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::microseconds(500))
          .count();

  static std::int64_t ticks() {
    return std::chrono::steady_clock::now().time_since_epoch().count();
  }

  void note_sent(double priority) {
    const std::int64_t now = ticks();
    double seen = sent_best_.load(std::memory_order_relaxed);
    if (now - sent_at_.load(std::memory_order_relaxed) >= kInFlight)
      seen = -std::numeric_limits<double>::infinity();
    sent_best_.store(std::max(seen, priority), std::memory_order_relaxed);
    sent_at_.store(now, std::memory_order_relaxed);
  }

  /// This rank's frontier: its best pending priority, or a recently sent one if better.
  double own_frontier() const {
    double best = scheduler_->best_priority();
    if (ticks() - sent_at_.load(std::memory_order_relaxed) < kInFlight) {
      best = std::max(best, sent_best_.load(std::memory_order_relaxed));
    }
    return best;
  }

  double window_floor() const {
    return std::max(own_frontier(), peers_best_.load(std::memory_order_acquire)) - run_ahead_;
  }

  void heard_frontier(int source, std::uint64_t sequence, double best) {
    std::lock_guard guard(frontier_lock_);
    auto& [seen, value] = peer_frontier_.at(static_cast<std::size_t>(source));
    if (sequence <= seen) return;
    seen = sequence;
    value = best;
    double all = -std::numeric_limits<double>::infinity();
    for (const auto& f : peer_frontier_) all = std::max(all, f.second);
    peers_best_.store(all, std::memory_order_release);
  }

  /// Appends this rank's best pending priority to every peer's entries when it changed since
  /// it was last published (`idle`: now; else at most every kFrontierEvery).
  void publish_frontier(Worker& w, bool idle) {
    if (!run_ahead_on() || !channel_ || ranks() == 1) return;
    const std::int64_t now = ticks();
    if (!idle && now - frontier_at_.load(std::memory_order_relaxed) < kFrontierEvery) return;
    std::uint64_t sequence;
    double best;
    {
      std::lock_guard guard(frontier_lock_);
      best = own_frontier();
      if (best == published_best_) return;
      // Counted unsent before the value counts as published: a concurrent try_passive sees
      // one or the other, so the rank never goes passive with this entry still to send.
      if (!w.dirty) {
        w.dirty = true;
        unsent_.fetch_add(1, std::memory_order_acq_rel);
      }
      published_best_ = best;
      sequence = ++frontier_sequence_;
      frontier_at_.store(now, std::memory_order_relaxed);
    }
    for (int peer = 0; peer < ranks(); ++peer) {
      if (peer != rank()) locking::append_frontier(w.record(peer), sequence, best);
    }
    if (!locks_) w.urgent = true;
  }

  /// Whether the peers know this rank's frontier and it cannot change without a new event (a
  /// record, a schedule). A rank goes passive only then: else a worker would publish it while
  /// the rank is passive, a send the termination algorithm does not allow. Caller holds
  /// frontier_lock_ (so a publication is either wholly before, counted in unsent_, or after).
  bool frontier_settled_locked() const {
    if (!run_ahead_on() || !channel_ || ranks() == 1) return true;
    if (ticks() - sent_at_.load(std::memory_order_relaxed) < kInFlight) return false;
    return own_frontier() == published_best_;
  }

  // ---- the workers ----

  void run_phase(std::uint64_t phase, LockingDetails& details) {
    Cluster* cluster = core_.cluster();
    std::optional<ScopedIdlePolls> quiet;
    if (cluster != nullptr) quiet.emplace(cluster->transport, kEngineIdlePolls);
    std::optional<ScopedPolled> polled;
    if (polled_) polled.emplace(cluster->transport, true);
    std::vector<Worker> workers(static_cast<std::size_t>(pool().threads()));
    for (std::size_t i = 0; i < workers.size(); ++i) {
      Worker& w = workers[i];
      w.engine = this;
      w.index = i;
      if (!histories_.empty()) w.history = &histories_[i];
      w.out.resize(static_cast<std::size_t>(ranks()));
      if (cluster != nullptr) w.writer = &channel_->add_writer();
      if (cluster != nullptr && locks_) {
        w.scheduled_in.assign(topology().num_vertices() - topology().num_owned(), 0);
        w.scheduled_at.resize(w.scheduled_in.size());
      }
      w.locks.resize(max_scope_locks_);  // written now, not first by a hub's scope
      w.locks.clear();
    }
    phase_ = phase;
    // Requests for ghosts made between phases.
    pending_remote();
    if (!between_phases_.empty()) {
      workers[0].out_tag = snapshot_ ? snapshot_->epoch() : 0;
      for (const ScheduleRequest& r : between_phases_) {
        const Lid g = r.lid - topology().num_owned();
        locking::append_schedule(workers[0].record(ghost_owner_[g]), owner_lids_[g], r.priority);
      }
      between_phases_.clear();
      workers[0].dirty = true;
      unsent_.fetch_add(1, std::memory_order_acq_rel);
      flush_worker(workers[0]);
    }
    pool().run_workers([&](int i) {
      try {
        worker_loop(workers[static_cast<std::size_t>(i)]);
      } catch (...) {  // every worker stops; run_workers rethrows the first error
        aborted_.store(true, std::memory_order_release);
        throw;
      }
    });
    // Every rank has ended the phase here; what is still queued are end tokens.
    if (transport_ != nullptr) send_tokens();  // an end token a worker did not send
    if (channel_) channel_->flush_all();
    ++details.phases;
    details.token_rounds += detector().rounds();
    for (Worker& w : workers) updates_ += w.updates;
    new_detector();  // before the collective: no rank starts the next phase before it
    if (cluster != nullptr) cluster->collectives.barrier();
  }

  /// Worker 0 records (seconds, this rank's updates, scopes in flight) every kSampleSeconds,
  /// and refreshes the live status line (a phase may last the whole run).
  void sample_timeline() {
    const double now = run_timer_.seconds();
    if (now < next_sample_) return;
    next_sample_ = now + kSampleSeconds;
    std::uint64_t done = 0;
    for (int i = 0; i < pool().threads(); ++i) {
      done += worker_stats_[i].updates.load(std::memory_order_relaxed);
    }
    if (progress_ != nullptr) {
      progress_->live(current_phase_.load(std::memory_order_relaxed), done, bytes_sent());
    }
    if (timeline_.size() < kMaxSamples) {
      timeline_.push_back({now, done, in_flight_.load(std::memory_order_relaxed)});
    }
  }

  /// This rank's bytes sent so far: update records and lock batches (grants carry ghost data).
  std::uint64_t bytes_sent() const {
    return update_bytes_.load(std::memory_order_relaxed) +
           (locks_ ? locks_->stats().batch_bytes : 0);
  }

  /// This rank's share of the updates the phase may run before it ends early (--sync-every,
  /// --max-updates; 0: no limit).
  void set_phase_quota() {
    const EngineOptions& o = core_.options();
    const auto share = [&](std::uint64_t n) { return (n + ranks() - 1) / ranks(); };
    std::uint64_t quota = o.sync_every > 0 ? share(o.sync_every) : 0;
    if (o.max_updates > updates_) {
      const std::uint64_t rest = share(o.max_updates - updates_);
      quota = quota == 0 ? rest : std::min(quota, rest);
    }
    phase_quota_ = quota;
    phase_updates_.store(0, std::memory_order_relaxed);
    draining_.store(false, std::memory_order_release);
  }

  void worker_loop(Worker& w) {
    Context context(w, core_.aggregators(), phase_);
    unsigned idle = 0;
    Transport* transport = core_.cluster() != nullptr ? &core_.cluster()->transport : nullptr;
    const double timeout = core_.options().timeout;
    double drained_at = -1;  // when this worker saw --timeout pass in this phase
    while (!ended_.load(std::memory_order_acquire)) {
      if (aborted_.load(std::memory_order_acquire)) return;
      if (timeout > 0 && run_timer_.seconds() >= timeout) {
        draining_.store(true, std::memory_order_release);
        // Draining ends a phase within moments (the scopes in the pipeline finish); one still
        // going long after has lost track of a message or a token: an error, never a hang.
        const double now = run_timer_.seconds();
        if (drained_at < 0) drained_at = now;
        if (now - drained_at >= kTimeoutGrace) {
          fail("locking engine: rank ", rank(), " had not ended phase ", phase_, " ", kTimeoutGrace,
               " s after --timeout ", timeout,
               " s stopped it (scopes, messages or the termination token still in flight)");
        }
      }
      if (snapshot_) snapshot_duties(w);
      poll_busy(w, /*idle=*/idle > 0);
      bool worked = false;
      std::uint32_t slot;
      std::uint32_t next;
      std::size_t granted_run = 0;
      bool have_next = locks_ && pop_ready(next);
      while (have_next) {  // granted scopes (edge, full)
        // The next one is taken now, its neighbours' data fetched while this one runs.
        slot = next;
        have_next = pop_ready(next);
        if (have_next) prefetch_neighbours(slots_[next].v);
        if (granted_run % kPopBatch == 0) w.clock.reset();
        worker_stats_[w.index].lock_wait.add(w.now() - slots_[slot].requested);
        if (slots_[slot].snapshot) {
          run_capture(w, slot);
        } else {
          run_update(w, context, slots_[slot], slot);
        }
        worked = true;
        // Polled: a long run of granted scopes still answers the peers' requests.
        if (++granted_run % kPopBatch == 0) poll_busy(w);
      }
      settle_finished(w);
      if (w.index == 0) sample_timeline();
      worked |= start_scopes(w, context);
      publish_frontier(w, !worked);
      // An idle worker sends at once: try_passive and await_grants below wait on no batch.
      send_lock_batches(worked ? LockSend::kWhenDue : LockSend::kAtOnce);
      if (worked) {
        idle = 0;
        if (w.since_flush >= (locks_ || w.urgent ? 256u : 4096u)) flush_worker(w);
        flush_channel();
        continue;
      }
      flush_worker(w);
      flush_channel();
      if (transport != nullptr) transport->check_peers();  // a dead peer: PeerFailure names it
      try_passive();
      if (transport != nullptr && locks_ && in_flight_.load(std::memory_order_acquire) > 0) {
        await_grants(*transport);  // scopes wait for grants: drive the network for them
        idle = 0;
        continue;
      }
      backoff(idle);
    }
    settle_finished(w);
    flush_worker(w);
  }

  /// Polled: a worker with work drives the network between its scopes, so peers' lock
  /// requests are answered while it computes. Over TCP a poll is an epoll_wait system call
  /// (1-2 us on a virtual machine, more than a scope's lock work), so a busy worker there
  /// polls at most once per kBusyPollTicks (100 us: its answers leave in batches at most every
  /// 50 us anyway, and the pipeline hides the wait); an idle one (`idle`, or in await_grants)
  /// polls every time. cc over TCP, 2 x 1: 0.761 s -> 0.618 s (12 alternated rounds; gaps of
  /// 25, 200 and 400 us measured too).
  void poll_busy(Worker& w, bool idle = false) {
    if (!polled_) return;
    if (coalesce_locks_ && !idle) {
      const std::int64_t now = ticks();
      if (now - w.last_poll < kBusyPollTicks) return;
      w.last_poll = now;
    }
    core_.cluster()->transport.poll();
  }
  static constexpr std::int64_t kBusyPollTicks =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::microseconds(100))
          .count();

  /// A worker whose scopes wait for grants drives the network itself for up to
  /// kAwait, so a grant is handled the moment it arrives instead of after a wake-up of
  /// the progress thread and of this worker (two context switches per lock round trip).
  void await_grants(Transport& transport) {
    const auto until = std::chrono::steady_clock::now() + kAwait;
    unsigned polls = 0;  // the clock is read every 16th poll: it costs as much as the rest
    transport.wait_for(
        [&] {
          if (ended_.load(std::memory_order_acquire) || aborted_.load(std::memory_order_acquire) ||
              any_lock_dirty_.load(std::memory_order_acquire)) {
            return true;
          }
          {
            std::lock_guard guard(ready_lock_);
            if (!ready_.empty()) return true;
          }
          return ++polls % 16 == 0 && std::chrono::steady_clock::now() >= until;
        },
        Transport::Handback::kAtOnce);  // the worker computes next, while peers send
  }
  static constexpr std::chrono::microseconds kAwait{200};
  static constexpr double kTimeoutGrace = 60;  ///< seconds a phase may drain after --timeout

  static void backoff(unsigned& idle) {
    if (++idle < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(idle < 1024 ? 5 : 50));
    }
  }

  /// Starts loading the data of v's first neighbours into the cache (the misses of one
  /// update overlap the next one's).
  void prefetch_neighbours(Lid v) {
    const Topology& t = topology();
    const VertexData* data = core_.graph().vertex_data().data();
    const std::span<const Lid> in = t.in_neighbors(v);
    const std::size_t n = std::min<std::size_t>(in.size(), kPrefetchNeighbours);
    for (std::size_t i = 0; i < n; ++i) __builtin_prefetch(&data[in[i]]);
    if (t.symmetric()) return;
    const std::span<const Lid> out = t.out_neighbors(v);
    const std::size_t m = std::min<std::size_t>(out.size(), kPrefetchNeighbours);
    for (std::size_t i = 0; i < m; ++i) __builtin_prefetch(&data[out[i]]);
  }
  static constexpr std::size_t kPrefetchNeighbours = 64;

  bool pop_ready(std::uint32_t& slot) {
    std::lock_guard guard(ready_lock_);
    return ready_.pop(slot);
  }

  /// Takes vertices from the scheduler while the pipeline has room and asks for their locks
  /// (vertex consistency: runs them at once; the scheduler's running state is the lock).
  bool start_scopes(Worker& w, Context& context) {
    bool started = false;
    std::size_t ran = 0;
    PendingVertex batch[kPopBatch];
    for (;;) {
      // Polled: peers' lock requests are answered between batches of scopes (local ones run
      // here at once), with no vertex in hand; vertex consistency polls in the worker loop.
      if (locks_ && started) poll_busy(w);
      if (draining_.load(std::memory_order_acquire)) return started;  // a limit: no new scopes
      std::size_t want = std::size(batch);
      // Vertex consistency runs every scope here and now: no pipeline to bound (in_flight_,
      // shared by the workers, stays untouched).
      if (locks_) {
        const std::size_t room = pipeline_ - in_flight_.load(std::memory_order_relaxed);
        if (room == 0 || room > pipeline_) return started;
        want = std::min(want, room);
        // Reserve the room first so that workers together never exceed the pipeline.
        if (in_flight_.fetch_add(want, std::memory_order_acq_rel) + want > pipeline_) {
          in_flight_.fetch_sub(want, std::memory_order_acq_rel);
          return started;
        }
      }
      // The snapshot's sweep goes first (GraphLab's snapshot update has the highest priority).
      const std::size_t swept = snapshot_ ? take_sweep(std::span<PendingVertex>(batch, want)) : 0;
      const std::span<PendingVertex> rest(batch + swept, want - swept);
      const std::size_t n = swept + (run_ahead_on() ? scheduler_->pop_at_least(rest, window_floor())
                                                    : scheduler_->pop(rest));
      if (locks_ && want != n) in_flight_.fetch_sub(want - n, std::memory_order_acq_rel);
      if (n == 0) return started;
      unfinished_.fetch_add(n, std::memory_order_acq_rel);
      w.clock.reset();
      for (std::size_t i = 0; i < n; ++i) {
        if (locks_) {
          start_scope(w, context, batch[i], i < swept);
        } else {
          w.own.v = batch[i].index;
          w.own.priority = batch[i].priority;
          run_update(w, context, w.own, kNoSlot);
        }
      }
      // Vertex consistency: the batch's vertices finished together (before they stop counting
      // as unfinished: a rank is passive only once its scheduler is idle too).
      if (w.ran_count != 0) {
        scheduler_->finish(std::span<const PendingVertex>(w.ran, w.ran_count));
        w.ran_count = 0;
      }
      settle_finished(w);
      started = true;
      // Vertex consistency ran its batches already: every kLoopUpdates back to the worker
      // loop, which streams the records to the peers while the phase runs and watches --timeout.
      if (!locks_ && (ran += n) >= kLoopUpdates) return true;
    }
  }

  /// Asks for the locks of pv's scope. A scope with every vertex owned here whose locks are
  /// free is taken without the lock manager's mutex and run at once on this worker (no slot,
  /// no grant); any other goes into a pipeline slot and runs when the manager grants it.
  void start_scope(Worker& w, Context& context, const PendingVertex& pv, bool snapshot) {
    if (snapshot && std::is_empty_v<EdgeData>) {
      // A snapshot update with no edge data to save reads v alone: a read lock on v keeps v's
      // updates out while it is captured (the neighbours' locks only matter for their edges).
      w.locks.assign(1, LockItem{rank(), pv.index, LockMode::kRead});
      w.remote_groups.clear();
    } else {
      scope_locks_->of(pv.index, w.locks, w.remote_groups);
    }
    if (w.remote_groups.empty() && locks_->try_lock_local(w.locks)) {
      if (snapshot) {  // the same locks as through a slot, so the same cut; no round trip
        if (snapshot_->captured_in(pv.index) != snapshot_->epoch()) capture(w.index, pv.index);
        locks_->unlock_local(w.locks);
        ++worker_stats_[w.index].local_scopes;
        in_flight_.fetch_sub(1, std::memory_order_acq_rel);
        unfinished_.fetch_sub(1, std::memory_order_acq_rel);
        return;
      }
      w.own.v = pv.index;
      w.own.priority = pv.priority;
      w.own.locked = false;
      w.own.local = true;
      worker_stats_[w.index].lock_wait.add(std::chrono::nanoseconds(0));
      ++worker_stats_[w.index].local_scopes;
      run_update(w, context, w.own, kNoSlot);
      w.own.local = false;
      return;
    }
    std::uint32_t s;
    {
      std::lock_guard guard(free_lock_);
      s = free_slots_.back();
      free_slots_.pop_back();
    }
    Slot& slot = slots_[s];
    slot.v = pv.index;
    slot.priority = pv.priority;
    slot.locked = true;
    slot.snapshot = snapshot;
    slot.requested = w.now();
    const Topology& t = topology();
    const bool hub = t.in_degree(slot.v) + t.out_degree(slot.v) >= hub_degree_;
    locks_->request(w.locks, w.remote_groups, s, hub);
  }

  /// Runs the update of `slot` (slots_[s], or the worker's own slot when s is kNoSlot).
  void run_update(Worker& w, Context& context, Slot& slot, std::uint32_t s) {
    using NeighborData = typename Scope<P>::NeighborData;
    using AdjacentEdgeData = typename Scope<P>::AdjacentEdgeData;
    VertexData* vertices = core_.graph().vertex_data().data();
    AdjacentEdgeData* edges = core_.graph().edge_data().data();
    constexpr bool kTrackWrites = P::kConsistency == Consistency::kFull;
    w.written.clear();
    w.remote.clear();
    w.scheduled.clear();
    if (snapshot_) begin_snapshot_update(w, slot.v);
    Scope<P> scope(topology(), vertices, static_cast<NeighborData*>(vertices), edges, slot.v,
                   kTrackWrites ? &w.written : nullptr, kViews ? views_.data() : nullptr);
    context.set_priority(slot.priority);
    if (w.history != nullptr) record_reads(w, slot.v);
    // A small centre is compared with its value before the update: one left as it was keeps
    // its version, so no copy of it turns stale and no grant or release carries it.
    constexpr bool kCompareCentre =
        std::is_trivially_copyable_v<VertexData> && sizeof(VertexData) <= 64;
    alignas(VertexData) std::byte before[kCompareCentre ? sizeof(VertexData) : 1];
    if constexpr (kCompareCentre) std::memcpy(before, &vertices[slot.v], sizeof(VertexData));
    core_.program().update(scope, context);
    refresh_view(vertices, slot.v);
    schedule_owned(w);
    const Lid owned = topology().num_owned();
    bool changed = true;
    if constexpr (kCompareCentre) {
      changed = std::memcmp(before, &vertices[slot.v], sizeof(VertexData)) != 0;
    }
    std::uint64_t version = versions_.get(slot.v);
    if (changed) {
      version = versions_.bump(slot.v);
      if (stale_) stale_->changed(slot.v, topology().replicas(slot.v));
      if (w.history != nullptr) w.writes.push_back({topology().gid(slot.v), version});
    }
    slot.written_ghosts.clear();
    if constexpr (kTrackWrites) {
      std::sort(w.written.begin(), w.written.end());
      w.written.erase(std::unique(w.written.begin(), w.written.end()), w.written.end());
      for (Lid n : w.written) {
        if (n == slot.v) continue;
        refresh_view(vertices, n);
        const std::uint64_t written = versions_.bump(n);
        if (stale_ && n < owned) stale_->changed(n, topology().replicas(n));
        if (w.history != nullptr) w.writes.push_back({topology().gid(n), written});
        if (n >= owned) slot.written_ghosts.push_back(n);
      }
    }
    if (w.history != nullptr) w.history->add(w.reads, w.writes);
    if (core_.cluster() != nullptr) {
      if (!locks_ && changed) {  // vertex consistency: the new data to every replica, first
        for (const Replica& r : topology().replicas(slot.v)) {
          locking::append_refresh(w.record(r.rank), r.lid, version, &vertices[slot.v],
                                  sizeof(VertexData));
          ++w.refreshes;
        }
      }
      double sent_best = -std::numeric_limits<double>::infinity();
      std::size_t appended = 0;
      for (const auto& [g, priority] : w.remote) {
        sent_best = std::max(sent_best, priority);
        const Lid k = g - owned;
        std::vector<std::byte>& out = w.record(ghost_owner_[k]);
        if (!w.scheduled_in.empty()) {
          // A ghost already scheduled in this record: the owner applies the whole record at
          // once, so one entry with the higher priority does what two would. Its update takes
          // its locks after the writers released theirs, so it reads every write that caused either
          // request (the writers held those locks when they asked). Not under vertex
          // consistency, where a refresh between the two entries must precede the request.
          if (w.scheduled_in[k] == w.batch) {
            locking::raise_schedule(out, w.scheduled_at[k], priority);
            continue;
          }
          w.scheduled_in[k] = w.batch;
          w.scheduled_at[k] = static_cast<std::uint32_t>(out.size());
        }
        locking::append_schedule(out, owner_lids_[k], priority);
        ++appended;
      }
      if (run_ahead_on() && !w.remote.empty()) note_sent(sent_best);
      if (!locks_ && !w.remote.empty()) w.urgent = true;
      w.remote_schedules += appended;
      if (!w.dirty && (!w.remote.empty() || (!locks_ && !topology().replicas(slot.v).empty()))) {
        w.dirty = true;
        unsent_.fetch_add(1, std::memory_order_acq_rel);
      }
    }
    if (snapshot_) end_snapshot_update(w);
    // Vertex consistency has no locks: the worker's batch is finished together (start_scopes).
    // Edge and full: the scheduler's finish just before the locks are released, so that a
    // snapshot's capture, which takes v's lock, never sees v still running.
    if (!locks_) w.ran[w.ran_count++].index = slot.v;
    if (locks_) scheduler_->finish(slot.v);
    if (slot.locked) {
      locks_->release(slot.scope);
    } else if (slot.local) {
      locks_->unlock_local(w.locks);  // still the scope's locks: nothing in between changes them
    }
    if (s != kNoSlot) {
      std::lock_guard guard(free_lock_);
      free_slots_.push_back(s);
    }
    ++w.finished;  // settle_finished() takes it off in_flight_ and unfinished_
    ++w.updates;
    ++w.since_flush;
    std::atomic<std::uint64_t>& done = worker_stats_[w.index].updates;  // one writer: no RMW
    done.store(done.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (phase_quota_ != 0 &&
        phase_updates_.fetch_add(1, std::memory_order_relaxed) + 1 >= phase_quota_) {
      draining_.store(true, std::memory_order_release);
    }
  }

  /// Takes the worker's finished updates off the shared counters, a batch at a time rather
  /// than one contended atomic per update. A worker settles before it tests for passivity, so
  /// a deferred count only ever makes a rank look busy. Unfinished goes last: the updates'
  /// records were counted as unsent before they stop counting as unfinished.
  void settle_finished(Worker& w) {
    if (w.refreshes != 0) refreshes_.fetch_add(std::exchange(w.refreshes, 0));
    if (w.remote_schedules != 0) remote_schedules_.fetch_add(std::exchange(w.remote_schedules, 0));
    if (w.finished == 0) return;
    if (locks_) in_flight_.fetch_sub(w.finished, std::memory_order_acq_rel);
    unfinished_.fetch_sub(std::exchange(w.finished, 0), std::memory_order_acq_rel);
  }

  /// --check-serializable: the versions of the centre and the neighbours an update is about
  /// to read (under edge and full consistency its locks hold them still).
  void record_reads(Worker& w, Lid v) {
    const Topology& t = topology();
    w.reads.clear();
    w.writes.clear();
    w.reads.push_back({t.gid(v), versions_.get(v)});
    for (Lid n : t.in_neighbors(v)) {
      if (n != v) w.reads.push_back({t.gid(n), versions_.get(n)});
    }
    for (Lid n : t.out_neighbors(v)) {
      if (n != v) w.reads.push_back({t.gid(n), versions_.get(n)});
    }
  }

  /// --check-serializable, collective: every rank's update histories go to rank 0, which
  /// checks that the run had a serial equivalent; a violation fails the run on every rank.
  void check_history(LockingDetails& details) {
    UpdateHistory mine;
    for (const UpdateHistory& h : histories_) mine.append(h);
    Cluster* cluster = core_.cluster();
    SerializabilityReport report;
    if (cluster == nullptr) {
      report = check_serializable(mine);
    } else {
      std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(ranks()));
      out[0] = mine.encode();
      std::vector<std::vector<std::byte>> in = cluster->exchange.all_to_all(std::move(out));
      std::string verdict;
      if (rank() == 0) {
        UpdateHistory all;
        for (std::size_t r = 0; r < in.size(); ++r) {
          all.append(UpdateHistory::decode(in[r], static_cast<int>(r)));
        }
        report = check_serializable(all);
        verdict = report.ok ? str_cat("ok ", report.updates) : report.violation;
      }
      cluster->collectives.broadcast(0, verdict);
      report.ok = verdict.starts_with("ok ");
      report.updates = report.ok ? std::stoull(verdict.substr(3)) : 0;
      report.violation = report.ok ? std::string() : verdict;
    }
    if (!report.ok) {
      constexpr std::size_t kShown = 600;
      if (report.violation.size() > kShown) {
        report.violation.resize(kShown);
        report.violation += " ...";
      }
      fail("serializability check failed: ", report.violation);
    }
    details.serializable_updates = report.updates;
  }

  void schedule_from_update(Worker& w, Lid v, double priority) {
    const Lid owned = topology().num_owned();
    if (v < owned) {
      w.scheduled.push_back({v, priority});  // schedule_owned() after the update
      return;
    }
    if (core_.cluster() == nullptr || v >= topology().num_vertices()) {
      fail("schedule: lid ", v, " is not a vertex of this graph");
    }
    w.remote.emplace_back(v, priority);
  }

  /// Under edge and full consistency a scheduled vertex's update reads what the scheduling
  /// update (here or at a peer) wrote only under locks taken after that update released its
  /// own, so the scheduler need not order the two; under vertex consistency it must.
  ScheduleOrder schedule_order() const {
    return locks_ ? ScheduleOrder::kLocks : ScheduleOrder::kScheduler;
  }

  /// Schedules the owned vertices the update asked for, all at once, after the update and the
  /// refresh of its vertex's view: under vertex consistency a scheduled vertex may run on
  /// another worker at once, with no lock to wait for, and must read what this update wrote
  /// (the scheduler's read-modify-write orders the view's store before its update).
  void schedule_owned(Worker& w) {
    if (w.scheduled.empty()) return;
    scheduler_->schedule(std::span<const PendingVertex>(w.scheduled), schedule_order());
    if (snapshot_) {
      for (const PendingVertex& p : w.scheduled) {
        snapshot_->note_schedule(p.index, p.priority, w.update_epoch);
      }
    }
  }

  /// Sends the channel's messages when due; under vertex consistency at once when a worker
  /// handed it schedule or frontier entries (refreshes alone wait for the 1 ms batch).
  void flush_channel() {
    if (!channel_) return;
    if (urgent_.load(std::memory_order_relaxed) && urgent_.exchange(false)) {
      channel_->flush_all();
    } else {
      channel_->flush_if_due();
    }
  }

  /// Sends a worker's update records (one record per peer), counted for termination.
  void flush_worker(Worker& w) {
    w.since_flush = 0;
    if (!channel_ || !w.dirty) return;
    for (int peer = 0; peer < ranks(); ++peer) {
      std::vector<std::byte>& out = w.out[peer];
      if (out.empty()) continue;
      locking::write_header(out, locking::RecordKind::kUpdates, w.out_tag);
      if (snapshot_) snapshot_->count_sent(peer, w.out_tag);
      detector().sent();
      appended_.fetch_add(1, std::memory_order_acq_rel);
      update_bytes_.fetch_add(out.size(), std::memory_order_relaxed);
      w.writer->append(peer, out);
      out.clear();
    }
    if (++w.batch == 0) {  // wrapped: forget every stamp
      std::fill(w.scheduled_in.begin(), w.scheduled_in.end(), 0);
      w.batch = 1;
    }
    w.dirty = false;
    if (std::exchange(w.urgent, false)) urgent_.store(true, std::memory_order_release);
    unsent_.fetch_sub(1, std::memory_order_acq_rel);
    if (snapshot_) low_stamp_[w.index].store(kNoStamp, std::memory_order_release);
  }

  /// kFromHandler: from the lock handler, only when no worker is sending (a worker's send may
  /// wait for it); kWhenDue and kFromHandler coalesce when coalesce_locks_ (kLockCoalesceTicks).
  enum class LockSend { kAtOnce, kWhenDue, kFromHandler };

  /// Takes the lock manager's batches and sends them, in the order taken (one message per
  /// peer and call; the manager accumulates requests, grants and releases meanwhile). Whatever
  /// is not sent stays flagged (any_lock_dirty_), for the next call.
  void send_lock_batches(LockSend how) {
    if (!locks_ || transport_ == nullptr || !any_lock_dirty_.load(std::memory_order_acquire)) {
      return;
    }
    const std::int64_t now = coalesce_locks_ ? ticks() : 0;
    if (coalesce_locks_ && how != LockSend::kAtOnce &&
        now - last_lock_send_.load(std::memory_order_relaxed) < kLockCoalesceTicks) {
      return;
    }
    std::unique_lock guard(send_lock_, std::defer_lock);
    if (how == LockSend::kFromHandler) {
      if (!guard.try_lock()) return;  // the flag stays set: a worker sends it
    } else {
      guard.lock();
    }
    // Busy from before the flag is cleared until every batch taken is counted as sent: a
    // batch out of the manager but not yet counted must keep try_passive from passing.
    lock_sends_.fetch_add(1, std::memory_order_acq_rel);
    struct Done {
      std::atomic<int>& n;
      ~Done() { n.fetch_sub(1, std::memory_order_acq_rel); }
    } done{lock_sends_};
    if (!any_lock_dirty_.exchange(false, std::memory_order_acq_rel)) return;
    last_lock_send_.store(now, std::memory_order_relaxed);
    for (int peer = 0; peer < ranks(); ++peer) {
      if (!lock_dirty_[peer].exchange(false, std::memory_order_acq_rel)) continue;
      if (!locks_->take_batch(peer, batch_)) continue;
      if (lock_send_delay_.count() > 0) std::this_thread::sleep_for(lock_send_delay_);
      // Stamped after the batch was taken: any data in it is at most this epoch's.
      record_.clear();
      locking::append_header(record_, locking::RecordKind::kLocks,
                             snapshot_ ? snapshot_->epoch() : 0);
      record_.insert(record_.end(), batch_.begin(), batch_.end());
      detector().sent();
      transport_->send(peer, lock_handler_, record_);
    }
  }

  /// Sends the queued termination tokens (no engine lock held).
  void send_tokens() {
    std::vector<std::pair<int, std::vector<std::byte>>> tokens;
    {
      std::lock_guard guard(token_lock_);
      tokens.swap(tokens_);
    }
    for (auto& [to, record] : tokens) transport_->send(to, lock_handler_, record);
  }

  /// Marks this rank passive when it has no work: scheduler and pipeline empty, every record
  /// it made appended and flushed. Under `activity_`, which a receipt also takes, so no
  /// record is being applied while the test runs.
  void try_passive() {
    // Under frontier_lock_: a frontier publication counts itself in unsent_ before it counts as
    // published, so the test sees it either pending or settled, never neither.
    auto no_work = [&] {
      std::lock_guard frontier(frontier_lock_);
      return frontier_settled_locked() && unfinished_.load(std::memory_order_acquire) == 0 &&
             unsent_.load(std::memory_order_acquire) == 0 &&
             (scheduler_->idle() || draining_.load(std::memory_order_acquire)) &&
             (!locks_ ||
              (!any_lock_dirty_.load(std::memory_order_acquire) && !locks_->has_outgoing() &&
               lock_sends_.load(std::memory_order_acquire) == 0 && locks_->active_scopes() == 0)) &&
             (!snapshot_ || snapshot_idle());
    };
    {
      std::lock_guard guard(activity_);
      if (passive_) return;
    }
    if (!no_work()) return;
    const std::uint64_t appended = appended_.load(std::memory_order_acquire);
    if (channel_) channel_->flush_all();
    {
      std::lock_guard guard(activity_);  // lock order: activity_, then frontier_lock_
      if (passive_ || !no_work() || appended_.load(std::memory_order_acquire) != appended) return;
      passive_ = true;
      detector().set_passive(true);
    }
    if (transport_ != nullptr) send_tokens();
  }

  EngineCore<P> core_;
  VertexVersions versions_;
  std::vector<NeighborCopy<P>> views_;  ///< kViews: the neighbour views (refresh_view)
  double run_ahead_ = 0;  ///< --run-ahead (0 also with snapshots, whose stamps it would skip)
  std::mutex frontier_lock_;
  double published_best_ = std::numeric_limits<double>::quiet_NaN();  ///< under frontier_lock_
  std::uint64_t frontier_sequence_ = 0;                               ///< under frontier_lock_
  std::vector<std::pair<std::uint64_t, double>> peer_frontier_;       ///< under frontier_lock_
  std::atomic<double> peers_best_{-std::numeric_limits<double>::infinity()};
  std::atomic<std::int64_t> frontier_at_{0};  ///< steady_clock ticks of the last publication
  std::atomic<double> sent_best_{-std::numeric_limits<double>::infinity()};  ///< note_sent
  std::atomic<std::int64_t> sent_at_{std::numeric_limits<std::int64_t>::min() / 2};
  static constexpr std::int64_t kFrontierEvery =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::microseconds(100))
          .count();
  std::unique_ptr<StaleCopies> stale_;  ///< edge, full: peers' copies to refresh with grants
  std::vector<Lid> stale_list_;         ///< between phases: the owned vertices stale_ names
  std::size_t pipeline_;
  std::size_t hub_degree_ = 0;
  // Scope states and lock lists are sized before a run: a request that grew one would touch
  // fresh memory, and with malloc's huge pages the kernel then clears a 2 MB page (perf:
  // sysmalloc, clear_page_erms), which stalled a worker 5-8 ms about ten times a run on this
  // virtual machine while the peer's scopes waited on it.
  std::size_t max_scope_locks_ = 0;  ///< the most locks a scope names at this rank (capped)
  static constexpr std::size_t kReservedScopes = 4096;
  static constexpr std::size_t kLargeScopes = 64;
  static constexpr std::size_t kLargeScopeLocks = 4096;
  static constexpr std::size_t kMaxReservedLocks = std::size_t{1} << 16;
  bool polled_ = false;  ///< the workers drive the network (Transport::set_polled)
  double setup_seconds_ = 0;
  std::unique_ptr<ContinuousScheduler> scheduler_;
  std::unique_ptr<ScopeLocks> scope_locks_;  ///< what a scope locks, here and at its owners
  std::unique_ptr<LockManager> locks_;
  std::vector<int> ghost_owner_;                      ///< per ghost: its owner rank
  std::vector<Lid> owner_lids_;                       ///< per ghost: its lid at its owner
  std::vector<std::pair<Lid, Lid>> ranges_by_owner_;  ///< per rank: its ghosts' lid range here
  std::vector<ScheduleRequest> between_phases_;
  std::vector<UpdateHistory> histories_;  ///< --check-serializable: one per worker

  /// Per worker, on its own cache line: updates run (whole run) and lock waits (edge, full).
  struct alignas(64) WorkerStats {
    std::atomic<std::uint64_t> updates{0};
    LatencyHistogram lock_wait;
    std::uint64_t local_scopes = 0;  ///< scopes locked by try_lock_local (read after the run)
  };
  static constexpr double kSampleSeconds = 0.05;
  static constexpr std::size_t kMaxSamples = 100000;
  std::unique_ptr<WorkerStats[]> worker_stats_;
  std::vector<TimelineSample> timeline_;  ///< worker 0 only
  double next_sample_ = 0;
  ProgressLine* progress_ = nullptr;             ///< during run(); refreshed by worker 0
  std::atomic<std::uint64_t> current_phase_{0};  ///< written between phases, read by worker 0

  // What every worker writes while updates run sits on a cache line of its own, away from
  // what each update reads (phase_quota_, draining_): sharing a line with a field that another
  // core writes costs each such read a cache miss.
  static constexpr std::size_t kLine = 64;
  std::vector<Slot> slots_;
  Timer run_timer_;                    ///< since run() began (--timeout)
  std::uint64_t phase_quota_ = 0;      ///< set_phase_quota()
  std::atomic<bool> draining_{false};  ///< a limit was reached: finish what is in flight
  alignas(kLine) SpinLock free_lock_;
  std::vector<std::uint32_t> free_slots_;
  alignas(kLine) SpinLock ready_lock_;
  SlotRing ready_;  ///< granted slots, oldest first (a scope holds its locks until it runs)
  alignas(kLine) std::atomic<std::size_t> in_flight_{0};  ///< slots reserved or in use (edge, full)
  alignas(kLine) std::atomic<std::uint64_t> phase_updates_{0};
  alignas(kLine) std::atomic<std::size_t> unfinished_{0};  ///< popped, not yet finished
  alignas(kLine) std::atomic<std::size_t> unsent_{0};      ///< workers holding entries not yet sent
  alignas(kLine) std::atomic<std::uint64_t> appended_{0};
  alignas(kLine) std::atomic<bool> urgent_{false};  ///< flush_channel() at once
  alignas(kLine) std::unique_ptr<Channel> channel_;

  Transport* transport_ = nullptr;
  HandlerId lock_handler_ = 0;  ///< lock batches and tokens
  std::mutex token_lock_;
  std::vector<std::pair<int, std::vector<std::byte>>> tokens_;
  std::mutex send_lock_;
  std::vector<std::byte> batch_, record_;
  std::unique_ptr<std::atomic<bool>[]> lock_dirty_;
  std::atomic<bool> any_lock_dirty_{false};
  std::atomic<int> lock_sends_{0};  ///< send_lock_batches calls between taking and counting
  /// Test hook (ATOLL_TEST_LOCK_SEND_DELAY_US): a pause between taking a batch and counting
  /// it, which widens the window that lock_sends_ closes.
  std::chrono::microseconds lock_send_delay_{0};
  /// TCP, polled: each lock batch costs a sendmsg of about 5 us on this core (on loopback
  /// most of it the receiver's TCP stack), about 12k a second per rank if every receipt is
  /// answered at once. While its worker has work, a rank sends at most once per 50 us
  /// (kLockCoalesceTicks); requests, grants and releases made meanwhile join the next
  /// batch. Over UCX a send costs well under a microsecond: nothing to save, no delay.
  bool coalesce_locks_ = false;
  static constexpr std::int64_t kLockCoalesceTicks =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::microseconds(50))
          .count();
  std::atomic<std::int64_t> last_lock_send_{0};  ///< steady_clock ticks, under send_lock_

  std::vector<std::unique_ptr<TerminationDetector>> detectors_;  ///< one per phase
  std::atomic<TerminationDetector*> detector_{nullptr};
  std::mutex activity_;  ///< a receipt, or the passive test
  bool passive_ = false;
  std::atomic<bool> ended_{false};
  std::atomic<bool> aborted_{false};  ///< a worker failed: the others stop too

  std::uint64_t phase_ = 0;
  std::uint64_t updates_ = 0;

  // --snapshot-every (last member: destroyed first, its writer thread joined)
  double snapshot_every_ = 0;
  double next_snapshot_check_ = 0;  ///< rank 0's worker 0
  std::uint64_t settled_ = 0;       ///< the last snapshot settled between phases
  std::unique_ptr<std::atomic<std::uint32_t>[]> low_stamp_;  ///< per worker, see send_counts
  std::unique_ptr<AsyncSnapshot> snapshot_;
  std::atomic<std::uint64_t> refreshes_{0}, remote_schedules_{0}, grant_data_{0}, grant_skipped_{0},
      update_bytes_{0};
};

}  // namespace atl
