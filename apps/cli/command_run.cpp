// `atoll run APP --graph PATH [...]`: loads a graph, runs an algorithm on the engine, writes
// "gid<TAB>value" lines (--out), a summary (stdout), progress (stderr) and metrics (--metrics).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>

#include "atoll/apps/connected_components.hpp"
#include "atoll/apps/pagerank.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/json_writer.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/read_graph.hpp"
#include "commands.hpp"

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
}

struct Loaded {
  Topology graph;
  double seconds;
};

Loaded load(const RunOptions& o) {
  if (o.engine != "chromatic") {
    usage_fail("unknown engine '", o.engine, "' (available: chromatic)");
  }
  Timer timer;
  EdgeList edges = read_edge_list(o.graph, parse_format_name(o.format));
  Topology graph = Topology::build(edges, {o.symmetrize, o.dedup});
  log_info(str_cat("loaded ", o.graph, ": ", graph.num_owned(), " vertices, ", graph.num_edges(),
                   " edges in ", timer.seconds(), " s"));
  return {std::move(graph), timer.seconds()};
}

EngineOptions engine_options(const RunOptions& o) {
  EngineOptions e;
  if (o.threads < 0) usage_fail("--threads must be at least 1, got ", o.threads);
  e.threads = o.threads;
  e.scheduler = parse_scheduler(o.scheduler);
  if (!o.consistency.empty()) e.consistency = parse_consistency(o.consistency);
  if (o.max_sweeps > 0) e.max_sweeps = o.max_sweeps;
  e.progress = true;
  return e;
}

/// Validates flags that do not need the graph, before the (possibly long) load.
void check_flags(const RunOptions& o) {
  (void)engine_options(o);
  (void)parse_format_name(o.format);
  if (o.engine != "chromatic") usage_fail("unknown engine '", o.engine, "' (available: chromatic)");
}

void print_config(const char* app, const RunOptions& o, const RunStats& s) {
  log_info(str_cat("run ", app, ": engine chromatic, consistency ", consistency_name(s.consistency),
                   " (", s.colors, " colour", s.colors == 1 ? "" : "s", "), scheduler ",
                   o.scheduler, ", 1 rank, ", s.workers));
}

void write_metrics(const std::string& path, const char* app, const RunOptions& o,
                   double load_seconds, const RunStats& s) {
  if (path.empty()) return;
  JsonWriter j;
  j.begin_object()
      .field("app", app)
      .field("graph", o.graph)
      .field("engine", "chromatic")
      .field("consistency", consistency_name(s.consistency))
      .field("scheduler", o.scheduler)
      .field("ranks", 1)
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
        .end_object();
  }
  j.end_array().end_object();
  std::ofstream out(path);
  out << j.str() << '\n';
  if (!out) fail(path, ": cannot write metrics");
}

void print_summary(const char* app, const RunStats& s) {
  std::printf("%s: %llu sweeps, %llu colour steps, %llu updates, %.3f s (colouring %.3f s)\n", app,
              static_cast<unsigned long long>(s.sweeps), static_cast<unsigned long long>(s.steps),
              static_cast<unsigned long long>(s.updates), s.seconds, s.setup_seconds);
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
  p->add_option("--tol", pr->pr.tolerance, "Stop when a sweep's L1 change is below this")
      ->capture_default_str();
  p->add_option("--iterations", pr->pr.iterations, "At most this many sweeps")
      ->capture_default_str();
  p->add_flag("--dynamic", pr->pr.dynamic, "GraphLab's delta-based dynamic PageRank");
  p->add_option("--top", pr->top, "Print the top K vertices")->capture_default_str();
  p->callback([pr] {
    check_flags(pr->run);
    Loaded g = load(pr->run);
    PageRankResult r = pagerank(std::move(g.graph), pr->pr, engine_options(pr->run));
    print_config("pagerank", pr->run, r.stats);
    print_summary("pagerank", r.stats);
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
    write_metrics(pr->run.metrics, "pagerank", pr->run, g.seconds, r.stats);
  });

  auto cc = std::make_shared<RunOptions>();
  CLI::App* c = run->add_subcommand("cc", "Weakly connected components (label = smallest gid)");
  add_run_options(c, *cc);
  c->callback([cc] {
    check_flags(*cc);
    Loaded g = load(*cc);
    VertexValues<std::uint64_t> r = connected_components(std::move(g.graph), engine_options(*cc));
    print_config("cc", *cc, r.stats);
    print_summary("cc", r.stats);
    std::vector<std::uint64_t> labels = r.values;
    std::sort(labels.begin(), labels.end());
    std::printf(
        "cc: %zu components\n",
        static_cast<std::size_t>(std::unique(labels.begin(), labels.end()) - labels.begin()));
    if (!cc->out.empty()) write_vertex_values(cc->out, r);
    write_metrics(cc->metrics, "cc", *cc, g.seconds, r.stats);
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
    VertexValues<double> r = sssp(std::move(g.graph), ss->source, engine_options(ss->run));
    print_config("sssp", ss->run, r.stats);
    print_summary("sssp", r.stats);
    std::size_t reached = static_cast<std::size_t>(
        std::count_if(r.values.begin(), r.values.end(), [](double d) { return d < 1e308; }));
    std::printf("sssp: %zu of %zu vertices reachable from %llu\n", reached, r.values.size(),
                static_cast<unsigned long long>(ss->source));
    if (!ss->run.out.empty()) write_vertex_values(ss->run.out, r);
    write_metrics(ss->run.metrics, "sssp", ss->run, g.seconds, r.stats);
  });
}

}  // namespace atl::cli
