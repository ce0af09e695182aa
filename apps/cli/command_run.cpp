// `atoll run APP --graph PATH [...]`: loads a graph, runs an algorithm on the engine, writes
// "gid<TAB>value" lines (--out), a summary (stdout), progress (stderr) and metrics (--metrics).
// On several ranks (`--ranks N`, or started by atoll launch / mpirun / srun) every rank loads
// its part, the engine runs across the ranks, and rank 0 gathers the values and reports.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <thread>

#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pagerank.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/read_graph.hpp"
#include "commands.hpp"
#include "rank_session.hpp"

namespace atl::cli {
namespace {

/// Options every app takes.
struct RunOptions {
  std::string graph;
  std::string format = "auto";
  bool symmetrize = false;
  bool dedup = false;
  std::string engine = "chromatic";
  std::string consistency;  ///< empty: the program's own
  std::string scheduler = "sweep";
  int threads = 0;
  std::uint64_t max_sweeps = 0;  ///< 0: no limit
  std::string out;
  std::string metrics;
  int ranks = 0;  ///< > 1 outside a job: relaunch as that many local ranks
  std::string transport = "ucx";
  bool out_per_rank = false;
  std::uint32_t atoms = kDefaultAtoms;  ///< in-memory hash atoms of a plain file on several ranks
};

void add_run_options(CLI::App* cmd, RunOptions& o) {
  cmd->add_option("--graph", o.graph, "Graph file (edge list, .gr, .mtx, .bin; zstd/gzip ok)")
      ->required();
  cmd->add_option("--format", o.format, "Input format: auto, snap, gr, mtx, bin")
      ->capture_default_str();
  cmd->add_flag("--symmetrize", o.symmetrize, "Add the reverse of every edge");
  cmd->add_flag("--dedup", o.dedup, "Drop duplicate edges and self-loops");
  cmd->add_option("--engine", o.engine, "Engine: chromatic")->capture_default_str();
  cmd->add_option("--consistency", o.consistency,
                  "vertex, edge or full (default: the program's; only stronger is allowed)");
  cmd->add_option("--scheduler", o.scheduler, "fifo, sweep or priority")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Worker threads (default: all cores)");
  cmd->add_option("--max-sweeps", o.max_sweeps, "Stop after this many sweeps (0: no limit)");
  cmd->add_option("--out", o.out, "Write one 'gid<TAB>value' line per vertex, by gid");
  cmd->add_option("--metrics", o.metrics, "Write per-step metrics as JSON");
  cmd->add_option("--ranks", o.ranks, "Run as N local ranks (through atoll launch)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--transport", o.transport, "Between ranks: ucx or tcp")->capture_default_str();
  cmd->add_flag("--out-per-rank", o.out_per_rank,
                "Several ranks: each writes its own vertices to FILE.rank-R");
  cmd->add_option("--atoms", o.atoms, "Several ranks, plain file: in-memory hash atoms")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
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

Loaded load(const RunOptions& o) {
  if (o.engine != "chromatic") {
    usage_fail("unknown engine '", o.engine, "' (available: chromatic)");
  }
  Timer timer;
  if (in_job()) {
    Loaded g;
    g.session = std::make_unique<RankSession>(parse_transport(o.transport));
    if (o.ranks > 1 && o.ranks != g.session->size()) {
      usage_fail("--ranks ", o.ranks, " but this job has ", g.session->size(), " ranks");
    }
    PartLoadOptions options;
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
    return g;
  }
  if (o.ranks > 1) relaunch_as_ranks(o.ranks);
  EdgeList edges = read_edge_list(o.graph, parse_format_name(o.format));
  Topology graph = Topology::build(std::move(edges), {o.symmetrize, o.dedup});
  log_info(str_cat("loaded ", o.graph, ": ", graph.num_owned(), " vertices, ", graph.num_edges(),
                   " edges in ", timer.seconds(), " s"));
  return {std::move(graph), timer.seconds(), nullptr, {}, {}};
}

EngineOptions engine_options(const RunOptions& o) {
  EngineOptions e;
  if (o.threads < 0) usage_fail("--threads must be at least 1, got ", o.threads);
  e.threads = o.threads;
  if (e.threads == 0 && in_job()) {  // ranks on one machine share its cores
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    e.threads = std::max(1, cores / local_ranks());
  }
  e.scheduler = parse_scheduler(o.scheduler);
  if (!o.consistency.empty()) e.consistency = parse_consistency(o.consistency);
  if (o.max_sweeps > 0) e.max_sweeps = o.max_sweeps;
  e.progress = true;
  return e;
}

/// Several ranks: rank 0 gets every rank's (gid, value) pairs, merged in gid order (other
/// ranks' results become empty). With --out-per-rank each rank first writes its own file.
template <typename T>
void gather_values(VertexValues<T>& r, Loaded& g, const RunOptions& o) {
  if (!g.session) return;
  if (o.out_per_rank && !o.out.empty()) {
    write_vertex_values(o.out + ".rank-" + std::to_string(g.session->rank()), r);
  }
  Cluster& c = *g.cluster();
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(c.size()));
  std::vector<std::byte>& mine = out[0];
  mine.resize(r.gids.size() * (sizeof(Gid) + sizeof(T)));
  for (std::size_t i = 0; i < r.gids.size(); ++i) {
    std::memcpy(mine.data() + i * (sizeof(Gid) + sizeof(T)), &r.gids[i], sizeof(Gid));
    std::memcpy(mine.data() + i * (sizeof(Gid) + sizeof(T)) + sizeof(Gid), &r.values[i], sizeof(T));
  }
  std::vector<std::vector<std::byte>> in = c.exchange.all_to_all(std::move(out));
  r.gids.clear();
  r.values.clear();
  if (c.rank() != 0) return;
  std::vector<std::pair<Gid, T>> all;
  for (const std::vector<std::byte>& buf : in) {
    if (buf.size() % (sizeof(Gid) + sizeof(T)) != 0) fail("gathered values: ragged buffer");
    for (std::size_t off = 0; off < buf.size(); off += sizeof(Gid) + sizeof(T)) {
      std::pair<Gid, T> p;
      std::memcpy(&p.first, buf.data() + off, sizeof(Gid));
      std::memcpy(&p.second, buf.data() + off + sizeof(Gid), sizeof(T));
      all.push_back(p);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < all.size(); ++i) {
    if (all[i].first == all[i - 1].first) fail("vertex ", all[i].first, " owned by two ranks");
  }
  for (const auto& [gid, value] : all) {
    r.gids.push_back(gid);
    r.values.push_back(value);
  }
}

/// Several ranks: per-rank load and traffic, gathered as "owned ghosts edges bytes" lines.
std::vector<std::string> rank_lines(Loaded& g, const RunStats& s) {
  if (!g.session) return {};
  std::string mine = str_cat(g.shape, " ", s.bytes_sent, " ", s.lower_bound);  // graph was moved
  return g.cluster()->collectives.allgather(mine);
}

/// Validates flags that do not need the graph, before the (possibly long) load.
void check_flags(const RunOptions& o) {
  (void)engine_options(o);
  (void)parse_format_name(o.format);
  (void)parse_transport(o.transport);
  if (o.engine != "chromatic") usage_fail("unknown engine '", o.engine, "' (available: chromatic)");
}

void print_config(const char* app, const RunOptions& o, const RunStats& s) {
  log_info(str_cat("run ", app, ": engine chromatic, consistency ", consistency_name(s.consistency),
                   " (", s.colors, " colour", s.colors == 1 ? "" : "s", "), scheduler ",
                   o.scheduler, ", ", s.ranks, s.ranks == 1 ? " rank, " : " ranks, ", s.workers,
                   s.ranks > 1 ? ", transport " + o.transport : std::string()));
}

void write_metrics(const std::string& path, const char* app, const RunOptions& o,
                   double load_seconds, const RunStats& s, const std::vector<std::string>& ranks) {
  if (path.empty()) return;
  JsonWriter j;
  j.begin_object()
      .field("app", app)
      .field("graph", o.graph)
      .field("engine", "chromatic")
      .field("consistency", consistency_name(s.consistency))
      .field("scheduler", o.scheduler)
      .field("ranks", static_cast<std::uint64_t>(s.ranks))
      .field("transport", s.ranks > 1 ? o.transport : std::string("none"))
      .field("workers", s.workers)
      .field("colors", static_cast<std::uint64_t>(s.colors))
      .field("load_seconds", load_seconds)
      .field("setup_seconds", s.setup_seconds)
      .field("run_seconds", s.seconds)
      .field("sweeps", s.sweeps)
      .field("steps", s.steps)
      .field("updates", s.updates);
  j.key("sweep_log").begin_array();
  for (const SweepRecord& r : s.sweep_log) {
    j.begin_object()
        .field("sweep", r.sweep)
        .field("updates", r.updates)
        .field("seconds", r.seconds)
        .field("residual", r.residual)
        .end_object();
  }
  j.end_array();
  j.key("step_log").begin_array();
  for (const StepRecord& r : s.step_log) {
    j.begin_object()
        .field("sweep", r.sweep)
        .field("color", static_cast<std::uint64_t>(r.color))
        .field("updates", r.updates)
        .field("seconds", r.seconds)
        .field("sync_seconds_rank0", r.sync_seconds)
        .field("bytes_sent_rank0", r.bytes_sent)
        .field("lower_bound_rank0", r.lower_bound)
        .end_object();
  }
  j.end_array();
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

void print_summary(const char* app, const RunStats& s, const std::vector<std::string>& ranks) {
  std::printf("%s: %llu sweeps, %llu colour steps, %llu updates, %.3f s (colouring %.3f s)\n", app,
              static_cast<unsigned long long>(s.sweeps), static_cast<unsigned long long>(s.steps),
              static_cast<unsigned long long>(s.updates), s.seconds, s.setup_seconds);
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    unsigned long long owned = 0, ghosts = 0, edges = 0, bytes = 0;
    std::sscanf(ranks[r].c_str(), "%llu %llu %llu %llu", &owned, &ghosts, &edges, &bytes);
    std::printf("%s: rank %zu: %llu owned vertices, %llu ghosts, %llu edges, %.1f MB sent\n", app,
                r, owned, ghosts, edges, static_cast<double>(bytes) / 1e6);
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  CLI::App* run = app.add_subcommand("run", "Run an algorithm on a graph");
  run->require_subcommand(1);

  struct PageRankCmd {
    RunOptions run;
    PageRankOptions pr;
    std::size_t top = 10;
  };
  auto pr = std::make_shared<PageRankCmd>();
  CLI::App* p = run->add_subcommand("pagerank", "PageRank (static power iteration or --dynamic)");
  add_run_options(p, pr->run);
  p->add_option("--damping", pr->pr.damping, "Damping factor")->capture_default_str();
  p->add_option("--tol", pr->pr.tolerance,
                "Static: stop when a sweep's L1 change is below this. Dynamic: a vertex "
                "propagates once its rank moved by more than tol x rank")
      ->capture_default_str();
  p->add_option("--iterations", pr->pr.iterations, "At most this many sweeps")
      ->capture_default_str();
  p->add_flag("--dynamic", pr->pr.dynamic,
              "GraphLab's delta-based dynamic PageRank: update only vertices whose "
              "in-neighbours moved (see --tol)");
  p->add_option("--top", pr->top, "Print the top K vertices")->capture_default_str();
  p->callback([pr] {
    check_flags(pr->run);
    Loaded g = load(pr->run);
    EngineOptions eo = engine_options(pr->run);
    eo.progress = g.root();
    PageRankResult r = pagerank(std::move(g.graph), pr->pr, eo, g.cluster());
    std::vector<std::string> ranks = rank_lines(g, r.stats);
    gather_values(r, g, pr->run);
    if (g.session) g.session->stop();
    if (!g.root()) return;
    print_config("pagerank", pr->run, r.stats);
    print_summary("pagerank", r.stats, ranks);
    std::printf("pagerank: final L1 change %.3g, rank sum %.15g\n", r.final_change,
                std::accumulate(r.values.begin(), r.values.end(), 0.0));
    std::vector<std::size_t> order(r.values.size());
    std::iota(order.begin(), order.end(), 0);
    std::size_t k = std::min(pr->top, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](std::size_t a, std::size_t b) { return r.values[a] > r.values[b]; });
    for (std::size_t i = 0; i < k; ++i) {
      std::printf("  #%zu  vertex %llu  rank %.6g\n", i + 1,
                  static_cast<unsigned long long>(r.gids[order[i]]), r.values[order[i]]);
    }
    if (!pr->run.out.empty()) write_vertex_values(pr->run.out, r);
    write_metrics(pr->run.metrics, "pagerank", pr->run, g.seconds, r.stats, ranks);
  });

  auto cc = std::make_shared<RunOptions>();
  CLI::App* c = run->add_subcommand("cc", "Weakly connected components (label = smallest gid)");
  add_run_options(c, *cc);
  c->callback([cc] {
    check_flags(*cc);
    Loaded g = load(*cc);
    EngineOptions eo = engine_options(*cc);
    eo.progress = g.root();
    VertexValues<std::uint64_t> r = connected_components(std::move(g.graph), eo, g.cluster());
    std::vector<std::string> ranks = rank_lines(g, r.stats);
    gather_values(r, g, *cc);
    if (g.session) g.session->stop();
    if (!g.root()) return;
    print_config("cc", *cc, r.stats);
    print_summary("cc", r.stats, ranks);
    std::vector<std::uint64_t> labels = r.values;
    std::sort(labels.begin(), labels.end());
    std::printf(
        "cc: %zu components\n",
        static_cast<std::size_t>(std::unique(labels.begin(), labels.end()) - labels.begin()));
    if (!cc->out.empty()) write_vertex_values(cc->out, r);
    write_metrics(cc->metrics, "cc", *cc, g.seconds, r.stats, ranks);
  });

  struct SsspCmd {
    RunOptions run;
    Gid source = 0;
  };
  auto ss = std::make_shared<SsspCmd>();
  CLI::App* s = run->add_subcommand("sssp", "Single-source shortest paths (weights, else 1)");
  add_run_options(s, ss->run);
  s->add_option("--source", ss->source, "Source vertex gid")->required();
  s->callback([ss] {
    check_flags(ss->run);
    Loaded g = load(ss->run);
    EngineOptions eo = engine_options(ss->run);
    eo.progress = g.root();
    VertexValues<double> r = sssp(std::move(g.graph), ss->source, eo, g.cluster());
    std::vector<std::string> ranks = rank_lines(g, r.stats);
    gather_values(r, g, ss->run);
    if (g.session) g.session->stop();
    if (!g.root()) return;
    print_config("sssp", ss->run, r.stats);
    print_summary("sssp", r.stats, ranks);
    std::size_t reached = static_cast<std::size_t>(
        std::count_if(r.values.begin(), r.values.end(), [](double d) { return d < 1e308; }));
    std::printf("sssp: %zu of %zu vertices reachable from %llu\n", reached, r.values.size(),
                static_cast<unsigned long long>(ss->source));
    if (!ss->run.out.empty()) write_vertex_values(ss->run.out, r);
    write_metrics(ss->run.metrics, "sssp", ss->run, g.seconds, r.stats, ranks);
  });
}

}  // namespace atl::cli
