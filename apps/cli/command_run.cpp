// `atoll run APP --graph PATH [...]`: loads a graph, runs an algorithm on the engine, writes
// "gid<TAB>value" lines (--out), a summary (stdout), progress (stderr) and metrics (--metrics).
// On several ranks (`--ranks N`, or started by atoll launch / mpirun / srun) every rank loads
// its part, the engine runs across the ranks, and rank 0 gathers the values and reports.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <string>
#include <thread>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/load_topology.hpp"
#include "atoll/graph/read_graph.hpp"
#include "commands.hpp"
#include "graph_argument.hpp"
#include "output_path.hpp"
#include "rank_session.hpp"
#include "thread_limit.hpp"

namespace atl::cli {
namespace {

/// Options every app takes.
struct RunOptions {
  std::string graph;             ///< --graph
  std::string graph_positional;  ///< atoll run APP GRAPH
  std::string format = "auto";
  bool symmetrize = false;
  bool dedup = false;
  bool degree_order = false;  ///< one rank: relabel the vertices by descending degree
  std::string engine;         ///< empty: the app's default
  std::string consistency;    ///< empty: the program's own
  std::string scheduler = "sweep";
  int threads = 0;
  std::uint64_t max_iterations = 0;  ///< 0: no limit
  bool no_combine = false;           ///< Pregel: deliver messages uncombined
  std::string overlap = "auto";      ///< chromatic: put a sweep's ghost data during it
  std::size_t message_buffer = std::size_t{8} << 20;  ///< Pregel: bytes per peer and round
  std::size_t pipeline = 1000;                        ///< locking: scopes in flight per rank
  std::string network_progress = "auto";              ///< locking: who drives the network
  bool check_serializable = false;                    ///< locking: check the run's history
  double timeout = 0;                                 ///< seconds; 0: none
  std::uint64_t max_updates = 0;                      ///< 0: none
  std::uint64_t sync_every = 0;                       ///< locking: updates per phase; 0: none
  double run_ahead = std::numeric_limits<double>::quiet_NaN();  ///< NaN: the app's choice
  std::string out;
  std::string out_graph;  ///< Pregel: the final graph (after mutations) as an edge list
  std::string metrics;
  int ranks = 0;     ///< > 1 outside a job: relaunch as that many local ranks
  int restarts = 0;  ///< outside a job: relaunch through atoll launch --restarts
  std::string transport = "ucx";
  bool out_per_rank = false;
  std::uint32_t atoms = kDefaultAtoms;  ///< in-memory hash atoms of a plain file on several ranks
  bool quiet = false;                   ///< no progress and no configuration line on stderr
  bool verbose = false;                 ///< a plain progress line per iteration, and debug messages
  CheckpointOptions checkpoint;
  bool transport_given = false;  ///< --transport was on the command line
  bool atoms_given = false;      ///< --atoms was on the command line
  std::string identity;  ///< the app and the options a resumed run must share (run_identity)
};

void add_run_options(CLI::App* cmd, RunOptions& o, const std::string& engines_help,
                     bool needs_graph) {
  if (needs_graph) {
    const char* what =
        "Graph file (edge list, .gr, .mtx, .bin; zstd/gzip ok) or atom directory (atoll "
        "partition)";
    cmd->add_option("graph", o.graph_positional, what);
    cmd->add_option("--graph", o.graph, what);
  }
  cmd->add_option("--format", o.format, "Input format: auto, snap, gr, mtx, bin")
      ->capture_default_str();
  cmd->add_flag("--symmetrize", o.symmetrize, "Add the reverse of every edge");
  cmd->add_flag("--dedup", o.dedup, "Drop duplicate edges and self-loops");
  cmd->add_flag("--degree-order", o.degree_order,
                "One rank: number the vertices by descending degree as the graph is built (the "
                "neighbours a gather reads most share cache lines; apps that allow it)");
  cmd->add_flag("-q,--quiet", o.quiet, "No progress on stderr (errors only)");
  cmd->add_flag("-v,--verbose", o.verbose,
                "One progress line per iteration (never rewritten in place) and debug messages");
  cmd->add_option("--engine", o.engine, "Engine: " + engines_help);
  cmd->add_option("--consistency", o.consistency,
                  "vertex, edge or full (default: the program's; only stronger is allowed)");
  cmd->add_option("--scheduler", o.scheduler, "fifo, sweep or priority")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Worker threads (default: all cores)");
  cmd->add_option("--max-sweeps,--max-iterations,--max-supersteps", o.max_iterations,
                  "Stop after this many iterations (sweeps, supersteps; 0: no limit)");
  cmd->add_flag("--no-combine", o.no_combine,
                "Pregel: deliver every message as sent, without the program's combiner");
  cmd->add_option("--overlap", o.overlap,
                  "Chromatic, several ranks: put a sweep's ghost data while the sweep runs (on), "
                  "after it (off), or on when a peer is on another host (auto)")
      ->capture_default_str();
  cmd->add_option("--message-buffer", o.message_buffer,
                  "Pregel: bytes of messages a rank sends a peer per round (more: several rounds)")
      ->capture_default_str();
  cmd->add_option("--pipeline", o.pipeline,
                  "Locking: scopes a rank keeps in flight (locks requested, not yet released)")
      ->capture_default_str();
  cmd->add_option("--network-progress", o.network_progress,
                  "Locking, several ranks: who drives the network during a run: thread (a "
                  "progress thread, woken per message), workers (polling between updates), or "
                  "auto (workers when they fill the rank's cores)")
      ->capture_default_str();
  cmd->add_flag("--check-serializable", o.check_serializable,
                "Locking: record every update's reads and writes and check the run serializable");
  cmd->add_option("--timeout", o.timeout,
                  "Stop after this many seconds (chromatic: after a sweep; Pregel: a superstep)");
  cmd->add_option("--max-updates", o.max_updates,
                  "Stop after this many updates over all ranks (Pregel: compute calls)");
  cmd->add_option("--sync-every", o.sync_every,
                  "Locking: run the aggregators and the app's hook every N updates");
  cmd->add_option("--run-ahead", o.run_ahead,
                  "Locking, priority scheduler: run only vertices within this much of the best "
                  "priority pending on any rank (0: no bound; default: sssp twice its mean "
                  "weight, other apps none)");
  cmd->add_option("--out", o.out, "Write one 'gid<TAB>value' line per vertex, by gid");
  cmd->add_option("--out-graph", o.out_graph,
                  "Pregel: write the final graph (after topology mutations) as an edge list");
  cmd->add_option("--metrics", o.metrics, "Write per-step metrics as JSON");
  cmd->add_option("--ranks", o.ranks, "Run as N local ranks (through atoll launch)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--restarts", o.restarts,
                  "After a failure, run again from the last checkpoint (at most R times)");
  cmd->add_option("--transport", o.transport, "Between ranks: ucx or tcp")->capture_default_str();
  cmd->add_flag("--out-per-rank", o.out_per_rank,
                "Several ranks: each writes its own vertices to FILE.rank-R");
  cmd->add_option("--atoms", o.atoms, "Several ranks, plain file: in-memory hash atoms")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option(
      "--checkpoint-dir", o.checkpoint.dir,
      "Write checkpoint epochs here (with --checkpoint-every or --checkpoint-interval)");
  cmd->add_option("--checkpoint-every", o.checkpoint.every,
                  "Checkpoint after every N iterations (sweeps, supersteps)");
  cmd->add_option("--checkpoint-interval", o.checkpoint.interval,
                  "Checkpoint once this many seconds passed since the last one");
  cmd->add_option("--snapshot-every", o.checkpoint.snapshot_every,
                  "Locking engine: an asynchronous snapshot every this many seconds, taken "
                  "while updates run");
  cmd->add_option("--checkpoint-keep", o.checkpoint.keep, "Valid epochs kept")
      ->capture_default_str();
  cmd->add_option(
      "--resume", o.checkpoint.resume,
      "Start from the newest valid checkpoint epoch in this directory (any rank count)");
}

/// What a resumed run must share with the run that wrote the epoch: the app, the engine and
/// model, and the app's own options (all but --iterations and --top).
std::string run_identity(const CLI::App& cmd, std::size_t first_app_option, const AppSpec& app,
                         const RunOptions& o) {
  std::string id =
      str_cat("app=", app.name, " consistency=", o.consistency, " scheduler=", o.scheduler,
              " symmetrize=", o.symmetrize, " dedup=", o.dedup);
  const std::vector<const CLI::Option*> options = cmd.get_options();
  for (std::size_t i = first_app_option; i < options.size(); ++i) {
    const CLI::Option* opt = options[i];
    if (opt->get_name() == "--iterations" || opt->get_name() == "--top" ||
        opt->get_name() == "--help") {
      continue;  // how long it runs and what it prints may change
    }
    std::string value = opt->count() > 0 ? opt->as<std::string>() : opt->get_default_str();
    id += str_cat(" ", opt->get_name(), "=", value);
  }
  return id;
}

/// The worker threads of this rank: --threads, else (several ranks on one machine) its share
/// of the cores, else 0 (TBB's default: all cores).
int rank_threads(const RunOptions& o) {
  if (o.threads < 0) usage_fail("--threads must be at least 1, got ", o.threads);
  if (o.threads == 0 && in_job()) return rank_cores(detect_job({}));  // ranks share the cores
  return o.threads;
}

struct Loaded {
  Topology graph;
  double seconds;
  std::unique_ptr<RankSession> session;  ///< set on several ranks
  GraphPartLoad part;                    ///< several ranks: how the part was loaded
  std::string shape;                     ///< several ranks: "owned ghosts edges" of this part

  Cluster* cluster() { return session ? &session->cluster() : nullptr; }
  bool root() const { return !session || session->rank() == 0; }
};

/// Several ranks: this rank's part of the graph (collective).
void load_part(const RunOptions& o, const AppSpec& app, Loaded& g, const Timer& timer) {
  PartLoadOptions options;
  options.mtx_layout = app.mtx_layout;
  options.format = parse_format_name(o.format);
  options.build = {o.symmetrize, o.dedup};
  options.atoms = o.atoms;
  Cluster& c = g.session->cluster();
  g.part = load_graph_part(o.graph, c.transport, c.collectives, c.exchange, options);
  g.graph = std::move(g.part.topology);
  g.shape = str_cat(g.graph.num_owned(), " ", g.graph.num_vertices() - g.graph.num_owned(), " ",
                    g.graph.owned_edges());
  g.seconds = c.collectives.allreduce(timer.seconds(), ReduceOp::kMax);
  if (g.root()) {
    log_info(str_cat("loaded ", o.graph, " on ", g.session->size(), " ranks (",
                     g.part.from_atoms ? "atoms" : "plain file", "): ", g.part.global_vertices,
                     " vertices, ", g.part.global_edges, " edges in ", g.seconds, " s; ",
                     g.session->describe()));
  }
}

Loaded load(const RunOptions& o, const AppSpec& app) {
  Timer timer;
  // The load runs on the rank's own threads, as the engine will: ranks sharing a machine do
  // not each start a TBB worker per core.
  const ThreadLimit limit(rank_threads(o));
  if (in_job()) {
    if (o.restarts > 0) {
      usage_fail("--restarts is for runs atoll starts itself (--ranks N, or atoll launch ",
                 "--restarts R); under mpirun or srun, rerun with --resume DIR");
    }
    Loaded g;
    g.session = std::make_unique<RankSession>(parse_transport(o.transport));
    log_debug(str_cat("load: session started in ", timer.seconds(), " s"));
    if (o.ranks > 1 && o.ranks != g.session->size()) {
      usage_fail("--ranks ", o.ranks, " but this job has ", g.session->size(), " ranks");
    }
    if (!app.needs_graph) {  // the app reads its own input
      g.seconds = 0;
      return g;
    }
    try {
      load_part(o, app, g, timer);
    } catch (const std::exception& e) {
      g.session->abort(e.what());  // the other ranks report this error, not a generic one
      throw;
    }
    return g;
  }
  if (o.ranks > 1 || o.restarts > 0) relaunch_as_ranks(std::max(o.ranks, 1), o.restarts);
  if (!app.needs_graph) return {Topology(), 0, nullptr, {}, {}};
  // --degree-order: the build numbers the vertices by degree as it places the arcs.
  Topology graph = load_topology(o.graph, parse_format_name(o.format), app.mtx_layout,
                                 {o.symmetrize, o.dedup, o.degree_order});
  log_info(str_cat("loaded ", o.graph, ": ", graph.num_owned(), " vertices, ", graph.num_edges(),
                   " edges in ", timer.seconds(), " s", o.degree_order ? " (by degree)" : ""));
  return {std::move(graph), timer.seconds(), nullptr, {}, {}};
}

/// The engine the run uses: --engine when given (one of the app's), else the app's default.
EngineKind choose_engine(const RunOptions& o, const AppSpec& app) {
  if (o.engine.empty()) return app.engines.front();
  const EngineKind kind = parse_engine(o.engine);
  if (std::find(app.engines.begin(), app.engines.end(), kind) == app.engines.end()) {
    usage_fail("app '", app.name, "' has no form for the ", o.engine,
               " engine (its engines: ", engine_list(app.engines), "; apps on ", o.engine, ": ",
               apps_for_engine(kind), ")");
  }
  return kind;
}

EngineOptions engine_options(const RunOptions& o, const AppSpec& app) {
  EngineOptions e;
  e.engine = choose_engine(o, app);
  e.threads = rank_threads(o);
  e.scheduler = parse_scheduler(o.scheduler);
  if (!o.consistency.empty()) e.consistency = parse_consistency(o.consistency);
  if (o.max_iterations > 0) e.max_iterations = o.max_iterations;
  e.combine = !o.no_combine;
  e.overlap = parse_overlap(o.overlap);
  if (e.overlap != Overlap::kAuto && e.engine != EngineKind::kChromatic) {
    usage_fail("--overlap is for the chromatic engine (the ", engine_name(e.engine),
               " engine has no sweeps to overlap)");
  }
  e.message_buffer = o.message_buffer;
  if (!o.out_graph.empty() && e.engine != EngineKind::kPregel) {
    usage_fail("--out-graph is for the Pregel engine (the ", engine_name(e.engine),
               " engine does not change the graph's structure)");
  }
  e.out_graph = o.out_graph;
  if (o.pipeline == 0) usage_fail("--pipeline must be at least 1, got 0");
  e.pipeline = o.pipeline;
  e.network_progress = parse_network_progress(o.network_progress);
  if (e.network_progress != NetworkProgress::kAuto && e.engine != EngineKind::kLocking) {
    usage_fail("--network-progress is for the locking engine (the ", engine_name(e.engine),
               " engine's ranks drive the network while they wait in their steps)");
  }
  if (o.check_serializable && e.engine != EngineKind::kLocking) {
    usage_fail("--check-serializable is for the locking engine (the ", engine_name(e.engine),
               " engine has no versions to check)");
  }
  e.check_serializable = o.check_serializable;
  if (!(o.timeout >= 0) || std::isinf(o.timeout)) {
    usage_fail("--timeout must be a non-negative number of seconds, got ", o.timeout);
  }
  e.timeout = o.timeout;
  e.max_updates = o.max_updates;
  if (o.sync_every > 0 && e.engine != EngineKind::kLocking) {
    usage_fail("--sync-every is for the locking engine (the ", engine_name(e.engine),
               " engine syncs at the end of each ",
               e.engine == EngineKind::kPregel ? "superstep" : "sweep", ")");
  }
  e.sync_every = o.sync_every;
  const bool run_ahead_set = !std::isnan(o.run_ahead);
  if (run_ahead_set && (!(o.run_ahead >= 0) || std::isinf(o.run_ahead))) {
    usage_fail("--run-ahead must be a non-negative number, got ", o.run_ahead);
  }
  if (run_ahead_set && o.run_ahead > 0 &&
      (e.engine != EngineKind::kLocking || e.scheduler != SchedulerKind::kPriority)) {
    usage_fail("--run-ahead is for the locking engine with --scheduler priority (got the ",
               engine_name(e.engine), " engine, scheduler ", o.scheduler, ")");
  }
  e.run_ahead = run_ahead_set ? o.run_ahead : -1;
  e.checkpoint = o.checkpoint;
  e.checkpoint.run_identity = o.identity;
  const CheckpointOptions& c = o.checkpoint;
  if (c.dir.empty() && (c.every > 0 || c.interval > 0 || c.snapshot_every > 0)) {
    usage_fail("--checkpoint-every, --checkpoint-interval and --snapshot-every need ",
               "--checkpoint-dir");
  }
  if (!c.dir.empty() && !c.writes()) {
    usage_fail("--checkpoint-dir needs --checkpoint-every N, --checkpoint-interval SECONDS or ",
               "--snapshot-every SECONDS");
  }
  if (!(c.interval >= 0) || std::isinf(c.interval)) {
    usage_fail("--checkpoint-interval must be a non-negative number of seconds, got ", c.interval);
  }
  if (!(c.snapshot_every >= 0) || std::isinf(c.snapshot_every)) {
    usage_fail("--snapshot-every must be a non-negative number of seconds, got ", c.snapshot_every);
  }
  if (c.snapshot_every > 0 && e.engine != EngineKind::kLocking) {
    usage_fail("--snapshot-every is the locking engine's asynchronous snapshot (the ",
               engine_name(e.engine), " engine checkpoints with --checkpoint-every N)");
  }
  if (c.keep == 0) usage_fail("--checkpoint-keep must be at least 1");
  if (o.restarts < 0) usage_fail("--restarts must be at least 0, got ", o.restarts);
  if (o.restarts > 0 && !c.writes()) {
    usage_fail("--restarts needs checkpoints to restart from (--checkpoint-dir D ",
               "--checkpoint-every N)");
  }
  e.progress = true;
  return e;
}

/// Puts an output's vertices in gid order (after --degree-order, they are in lid order).
void sort_by_gid(AppOutput& r) {
  std::vector<std::size_t> order(r.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&r](std::size_t a, std::size_t b) { return r.gids[a] < r.gids[b]; });
  std::vector<Gid> gids(r.size());
  std::vector<std::byte> values(r.values.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    gids[i] = r.gids[order[i]];
    std::memcpy(values.data() + i * r.value_bytes, r.values.data() + order[i] * r.value_bytes,
                r.value_bytes);
  }
  r.gids = std::move(gids);
  r.values = std::move(values);
}

/// Several ranks: rank 0 gets every rank's (gid, value) pairs, merged in gid order (other
/// ranks' outputs become empty). With --out-per-rank each rank first writes its own file.
void gather_values(AppOutput& r, Loaded& g, const RunOptions& o) {
  if (!g.session) return;
  if (o.out_per_rank && !o.out.empty()) {
    write_app_output(o.out + ".rank-" + std::to_string(g.session->rank()), r);
  }
  Cluster& c = *g.cluster();
  const std::size_t record = sizeof(Gid) + r.value_bytes;
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(c.size()));
  std::vector<std::byte>& mine = out[0];
  mine.resize(r.size() * record);
  for (std::size_t i = 0; i < r.size(); ++i) {
    std::memcpy(mine.data() + i * record, &r.gids[i], sizeof(Gid));
    std::memcpy(mine.data() + i * record + sizeof(Gid), r.values.data() + i * r.value_bytes,
                r.value_bytes);
  }
  std::vector<std::vector<std::byte>> in = c.exchange.all_to_all(std::move(out));
  r.gids.clear();
  r.values.clear();
  if (c.rank() != 0) return;
  std::vector<std::pair<Gid, const std::byte*>> all;
  for (const std::vector<std::byte>& buf : in) {
    if (buf.size() % record != 0) fail("gathered values: ragged buffer");
    for (std::size_t off = 0; off < buf.size(); off += record) {
      Gid gid;
      std::memcpy(&gid, buf.data() + off, sizeof(Gid));
      all.emplace_back(gid, buf.data() + off + sizeof(Gid));
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < all.size(); ++i) {
    if (all[i].first == all[i - 1].first) fail("vertex ", all[i].first, " owned by two ranks");
  }
  r.values.resize(all.size() * r.value_bytes);
  for (std::size_t i = 0; i < all.size(); ++i) {
    r.gids.push_back(all[i].first);
    std::memcpy(r.values.data() + i * r.value_bytes, all[i].second, r.value_bytes);
  }
}

/// Several ranks: per-rank load and traffic, gathered as "owned ghosts edges bytes" lines.
std::vector<std::string> rank_lines(Loaded& g, const RunStats& s) {
  if (!g.session) return {};
  std::string mine = str_cat(g.shape, " ", s.bytes_sent, " ", s.lower_bound);  // graph was moved
  return g.cluster()->collectives.allgather(mine);
}

/// The graph named positionally or by --graph (exactly one of them for an app that reads one).
void resolve_graph(RunOptions& o, const AppSpec& app) {
  if (app.needs_graph) o.graph = one_graph("run " + app.name, o.graph_positional, o.graph);
}

/// Options that do nothing in this mode: one warning each.
void note_unused_options(const RunOptions& o) {
  if (in_job() || o.ranks > 1) return;
  auto note = [](const char* flag, const char* what) {
    log_warn(str_cat(flag, " does nothing on one rank (", what, "; add --ranks N)"));
  };
  if (o.transport_given) note("--transport", "it chooses how ranks talk to each other");
  if (o.out_per_rank) note("--out-per-rank", "it writes each rank's own vertices to FILE.rank-R");
  if (o.atoms_given) note("--atoms", "it cuts a plain file into atoms to spread over ranks");
  if (o.overlap != "auto") note("--overlap", "it times the ghost data sent to other ranks");
}

/// Validates flags that do not need the graph, before the (possibly long) load.
void check_flags(const RunOptions& o, const AppSpec& app, const AppRunner& runner) {
  check_output_path(o.out, "--out");
  check_output_path(o.metrics, "--metrics");
  check_output_path(o.out_graph, "--out-graph");
  const EngineOptions e = engine_options(o, app);
  if (e.consistency && app.consistency && *e.consistency < *app.consistency) {
    usage_fail(app.name, " needs ", consistency_name(*app.consistency),
               " consistency; --consistency ", consistency_name(*e.consistency),
               " is weaker (valid: ",
               *app.consistency == Consistency::kVertex ? "vertex, edge, full"
               : *app.consistency == Consistency::kEdge ? "edge, full"
                                                        : "full",
               ")");
  }
  (void)parse_format_name(o.format);
  (void)parse_transport(o.transport);
  if (o.degree_order) {
    if (!app.any_vertex_order) {
      usage_fail("--degree-order: ", app.name, " relies on vertices numbered in gid order");
    }
    if (in_job() || o.ranks > 1) usage_fail("--degree-order is for one rank");
    if (!o.checkpoint.dir.empty() || !o.checkpoint.resume.empty()) {
      usage_fail("--degree-order does not combine with checkpoints (--checkpoint-dir, --resume)");
    }
  }
  if (runner.check) runner.check();
}

/// The effective configuration, printed once before the run starts.
void print_config(const AppSpec& app, const RunOptions& o, const EngineOptions& e,
                  const Loaded& g) {
  const int ranks = g.session ? g.session->size() : 1;
  std::string consistency =
      e.consistency ? std::string(consistency_name(*e.consistency))
                    : (app.consistency ? std::string(consistency_name(*app.consistency)) : "none");
  // Pregel programs have neither a consistency model nor a scheduler; they have combiners.
  const std::string model =
      e.engine == EngineKind::kPregel
          ? str_cat(e.combine ? "combiners on" : "combiners off", ", message buffer ",
                    e.message_buffer, " bytes")
          : str_cat("consistency ", consistency, ", scheduler ", scheduler_name(e.scheduler),
                    e.engine == EngineKind::kLocking ? str_cat(", pipeline ", e.pipeline)
                                                     : std::string());
  log_info(str_cat("run ", app.name, ": engine ", engine_name(e.engine), ", ", model, ", ", ranks,
                   ranks == 1 ? " rank, " : " ranks, ",
                   e.threads == 0 ? std::string("all") : std::to_string(e.threads),
                   " threads per rank", ranks > 1 ? ", transport " + o.transport : std::string()));
}

void write_metrics(const std::string& path, const AppSpec& app, const RunOptions& o,
                   double load_seconds, const AppOutput& r, const std::vector<std::string>& ranks) {
  if (path.empty()) return;
  const RunStats& s = r.stats;
  JsonWriter j;
  j.begin_object()
      .field("app", app.name)
      .field("graph", o.graph)
      .field("scheduler", o.scheduler)
      .field("transport", s.ranks > 1 ? o.transport : std::string("none"))
      .field("load_seconds", load_seconds);
  write_run_stats(j, s);
  if (r.metrics) r.metrics(j);
  j.key("per_rank").begin_array();
  for (const std::string& line : ranks) {
    unsigned long long owned = 0, ghosts = 0, edges = 0, bytes = 0, lower = 0;
    std::sscanf(line.c_str(), "%llu %llu %llu %llu %llu", &owned, &ghosts, &edges, &bytes, &lower);
    j.begin_object()
        .field("owned_vertices", static_cast<std::uint64_t>(owned))
        .field("ghosts", static_cast<std::uint64_t>(ghosts))
        .field("owned_edges", static_cast<std::uint64_t>(edges))
        .field("bytes_sent", static_cast<std::uint64_t>(bytes))
        .field("bytes_lower_bound", static_cast<std::uint64_t>(lower))
        .end_object();
  }
  j.end_array().end_object();
  std::ofstream out(path);
  out << j.str() << '\n';
  if (!out) fail(path, ": cannot write metrics");
}

void print_summary(const AppSpec& app, const RunStats& s, const std::vector<std::string>& ranks) {
  std::printf("%s: %s engine, %llu iterations, %llu updates, %.3f s (set-up %.3f s)%s%s\n",
              app.name.c_str(), s.engine.c_str(), static_cast<unsigned long long>(s.iterations),
              static_cast<unsigned long long>(s.updates), s.seconds, s.setup_seconds,
              s.details ? "; " : "", s.details ? s.details->summary().c_str() : "");
  if (s.steal_seconds >= 0.05) {
    std::printf(
        "%s: the machine's hypervisor held back %.2f s of CPU time during the run "
        "(steal): the timings above are stretched\n",
        app.name.c_str(), s.steal_seconds);
  }
  if (!s.stopped_by.empty()) {
    std::printf("%s: stopped by %s after %llu updates, %llu vertices still scheduled\n",
                app.name.c_str(), s.stopped_by.c_str(), static_cast<unsigned long long>(s.updates),
                static_cast<unsigned long long>(s.still_scheduled));
  }
  const CheckpointStats& c = s.checkpoints;
  if (!c.resumed_from.empty()) {
    std::printf("%s: resumed from %s after iteration %llu (%.3f s)\n", app.name.c_str(),
                c.resumed_from.c_str(), static_cast<unsigned long long>(c.resumed_iteration),
                c.resume_seconds);
  }
  if (!c.written.empty()) {
    double seconds = 0;
    for (const CheckpointRecord& r : c.written) seconds += r.seconds;
    std::printf("%s: %zu checkpoint epochs written, %.1f MB each, %.3f s each on average\n",
                app.name.c_str(), c.written.size(),
                static_cast<double>(c.written.back().bytes) / 1e6,
                seconds / static_cast<double>(c.written.size()));
  }
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    unsigned long long owned = 0, ghosts = 0, edges = 0, bytes = 0;
    std::sscanf(ranks[r].c_str(), "%llu %llu %llu %llu", &owned, &ghosts, &edges, &bytes);
    std::printf("%s: rank %zu: %llu owned vertices, %llu ghosts, %llu edges, %.1f MB sent\n",
                app.name.c_str(), r, owned, ghosts, edges, static_cast<double>(bytes) / 1e6);
  }
}

/// One `atoll run APP`: what every app shares around the app's own run.
void run_app(const AppSpec& app, RunOptions& o, const AppRunner& runner) {
  resolve_graph(o, app);
  if (o.quiet && o.verbose) usage_fail("--quiet and --verbose exclude each other");
  if (o.quiet) set_log_level(LogLevel::kQuiet);
  if (o.verbose) set_log_level(LogLevel::kDebug);
  check_flags(o, app, runner);
  note_unused_options(o);
  Loaded g = load(o, app);
  try {
    EngineOptions eo = engine_options(o, app);
    eo.progress = g.root();
    if (g.root()) print_config(app, o, eo, g);
    AppInput input{std::move(g.graph), eo, g.cluster(), o.out};
    AppOutput r = runner.run(input);
    if (o.degree_order) sort_by_gid(r);
    std::vector<std::string> ranks = rank_lines(g, r.stats);
    gather_values(r, g, o);
    if (g.session) g.session->stop();
    if (!g.root()) return;
    print_summary(app, r.stats, ranks);
    if (r.summarize) r.summarize(r);
    if (!o.out.empty() && !app.writes_out) write_app_output(o.out, r);
    write_metrics(o.metrics, app, o, g.seconds, r, ranks);
  } catch (const std::exception& e) {
    // Several ranks: the others stop at once with this rank's error, not a timeout's.
    if (g.session) g.session->abort(e.what());
    throw;
  }
}

/// The option group of an app's own options (its --help lists them under this title).
std::string app_group(const std::string& name) {
  return "Options of " + name;
}

/// `atoll run --list`: every app with its engines and its own options.
void print_app_list(CLI::App* run) {
  for (const AppSpec& spec : registered_apps()) {
    std::printf("%-12s %s\n", spec.name.c_str(), spec.description.c_str());
    std::string engines;
    for (std::size_t i = 0; i < spec.engines.size(); ++i) {
      engines += str_cat(i > 0 ? ", " : "", engine_name(spec.engines[i]),
                         i == 0 && spec.engines.size() > 1 ? " (default)" : "");
    }
    std::printf("%-12s engines: %s\n", "", engines.c_str());
    std::string options;
    for (const CLI::Option* opt : run->get_subcommand(spec.name)->get_options()) {
      if (opt->get_group() != app_group(spec.name) || opt->get_lnames().empty()) continue;
      options += str_cat(options.empty() ? "" : " ", "--", opt->get_lnames().front());
      const std::string type = opt->get_type_name();
      if (opt->get_type_size() != 0 && !type.empty()) {
        options += " " + type.substr(0, type.find(' '));
        if (!opt->get_default_str().empty()) options += "=" + opt->get_default_str();
      }
      if (opt->get_required()) options += " (required)";
    }
    std::printf("%-12s options: %s\n", "", options.empty() ? "none of its own" : options.c_str());
  }
  std::printf("\nEvery app also takes the common options ('atoll run APP --help' lists both).\n");
}

}  // namespace

void add_run_command(CLI::App& app) {
  CLI::App* run = app.add_subcommand("run", "Run an algorithm on a graph ('run --list': the apps)");
  run->require_subcommand(0, 1);
  auto list = std::make_shared<bool>(false);
  run->add_flag("--list", *list, "List the apps with their engines and options");
  run->callback([run, list] {
    if (*list) {
      print_app_list(run);
    } else if (run->get_subcommands().empty()) {
      std::string names;
      for (const AppSpec& spec : registered_apps())
        names += (names.empty() ? "" : ", ") + spec.name;
      usage_fail("run needs an app: atoll run APP GRAPH [options] (apps: ", names,
                 "; 'atoll run --list' shows their engines and options)");
    }
  });
  for (const AppSpec& spec : registered_apps()) {
    struct Bound {
      RunOptions options;
      AppRunner runner;
    };
    auto bound = std::make_shared<Bound>();
    CLI::App* cmd = run->add_subcommand(spec.name, spec.description);
    cmd->option_defaults()->group("Options every app takes");
    add_run_options(cmd, bound->options,
                    engine_list(spec.engines) + " (default " +
                        std::string(engine_name(spec.engines.front())) + ")",
                    spec.needs_graph);
    const std::size_t first_app_option = cmd->get_options().size();
    cmd->option_defaults()->group(app_group(spec.name));
    bound->runner = spec.bind(*cmd);
    cmd->footer("Engines: " + engine_list(spec.engines) + " (default " +
                std::string(engine_name(spec.engines.front())) + ").");
    cmd->callback([bound, &spec, cmd, first_app_option] {
      bound->options.transport_given = cmd->count("--transport") > 0;
      bound->options.atoms_given = cmd->count("--atoms") > 0;
      bound->options.identity = run_identity(*cmd, first_app_option, spec, bound->options);
      run_app(spec, bound->options, bound->runner);
    });
  }
}

}  // namespace atl::cli
