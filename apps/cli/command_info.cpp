// `atoll info GRAPH`: reads a graph and prints its size and degree statistics; on an atom
// directory, prints its index (atom_dir_info.cpp).
#include <cstdio>
#include <iostream>
#include <string>

#include "atoll/common/json_writer.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/graph_stats.hpp"
#include "atoll/graph/input_file.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/topology.hpp"
#include "atom_dir_info.hpp"
#include "commands.hpp"
#include "graph_argument.hpp"
#include "thread_limit.hpp"

namespace atl::cli {
namespace {

struct InfoOptions {
  std::string graph;
  std::string graph_flag;  ///< --graph (the same as the positional GRAPH)
  std::string format = "auto";
  bool symmetrize = false;
  bool dedup = false;
  bool json = false;
  bool verify = false;
  int ranks = 0;
  int threads = 0;
};

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kZstd:
      return "zstd";
    case Compression::kGzip:
      return "gzip";
    case Compression::kNone:
      break;
  }
  return "none";
}

void run_info(const InfoOptions& opt) {
  GraphFormat requested = parse_format_name(opt.format);
  ThreadLimit limit(opt.threads);
  if (is_atom_directory(opt.graph)) {
    if (opt.symmetrize || opt.dedup || requested != GraphFormat::kAuto) {
      usage_fail("--symmetrize, --dedup and --format do not apply to an atom directory");
    }
    print_atom_dir_info(opt.graph, {opt.json, opt.verify, opt.ranks});
    return;
  }
  if (opt.verify) usage_fail("--verify applies to an atom directory only");
  if (opt.ranks != 0) usage_fail("--ranks applies to an atom directory only");
  Timer total;
  InputFile file = InputFile::open(opt.graph);
  GraphFormat format = requested == GraphFormat::kAuto ? detect_format(file.bytes()) : requested;
  EdgeList edges = parse_edge_list(file.bytes(), format, opt.graph);
  const std::uint64_t rows = edges.bipartite_rows;  // a users x items Matrix Market file
  const std::uint64_t columns = rows > 0 ? edges.declared->count - rows : 0;
  double read_s = total.seconds();
  Timer build_timer;
  const std::size_t input_edges = edges.size();
  Topology graph = Topology::build(std::move(edges), {opt.symmetrize, opt.dedup});
  double build_s = build_timer.seconds();
  double load_s = total.seconds();
  GraphStats s = compute_stats(graph);

  if (opt.json) {
    JsonWriter j;
    j.begin_object()
        .field("graph", opt.graph)
        .field("format", format_name(format))
        .field("compression", compression_name(file.compression()))
        .field("input_edges", static_cast<std::uint64_t>(input_edges))
        .field("vertices", s.vertices)
        .field("edges", s.edges)
        .field("self_loops", s.self_loops)
        .field("duplicate_edges", s.duplicate_edges)
        .field("isolated_vertices", s.isolated_vertices)
        .key("out_degree")
        .begin_object()
        .field("min", s.out_degree.min)
        .field("max", s.out_degree.max)
        .field("mean", s.out_degree.mean)
        .end_object()
        .key("in_degree")
        .begin_object()
        .field("min", s.in_degree.min)
        .field("max", s.in_degree.max)
        .field("mean", s.in_degree.mean)
        .end_object()
        .field("weighted", s.weighted)
        .field("bipartite_rows", rows)
        .field("bipartite_columns", columns)
        .field("symmetrized", opt.symmetrize)
        .field("deduplicated", opt.dedup)
        .field("load_seconds", load_s)
        .field("read_seconds", read_s)
        .field("build_seconds", build_s)
        .field("graph_bytes", static_cast<std::uint64_t>(graph.memory_bytes()))
        .end_object();
    std::cout << j.str() << '\n';
    return;
  }
  std::printf("graph           %s (%s, compression %s)\n", opt.graph.c_str(),
              std::string(format_name(format)).c_str(), compression_name(file.compression()));
  std::printf("vertices        %llu\n", static_cast<unsigned long long>(s.vertices));
  if (rows > 0) {
    std::printf("bipartite       %llu rows (vertices 1..%llu) x %llu columns (%llu..%llu)\n",
                static_cast<unsigned long long>(rows), static_cast<unsigned long long>(rows),
                static_cast<unsigned long long>(columns), static_cast<unsigned long long>(rows + 1),
                static_cast<unsigned long long>(rows + columns));
  }
  std::printf(
      "edges           %llu%s\n", static_cast<unsigned long long>(s.edges),
      opt.symmetrize || opt.dedup ? (" (input " + std::to_string(input_edges) + ")").c_str() : "");
  std::printf("self-loops      %llu\n", static_cast<unsigned long long>(s.self_loops));
  std::printf("duplicate edges %llu\n", static_cast<unsigned long long>(s.duplicate_edges));
  std::printf("isolated        %llu\n", static_cast<unsigned long long>(s.isolated_vertices));
  std::printf("out-degree      min %llu  max %llu  mean %.3f\n",
              static_cast<unsigned long long>(s.out_degree.min),
              static_cast<unsigned long long>(s.out_degree.max), s.out_degree.mean);
  std::printf("in-degree       min %llu  max %llu  mean %.3f\n",
              static_cast<unsigned long long>(s.in_degree.min),
              static_cast<unsigned long long>(s.in_degree.max), s.in_degree.mean);
  std::printf("weighted        %s\n", s.weighted ? "yes" : "no");
  std::printf("load time       %.3f s (read+parse %.3f s, build %.3f s)\n", load_s, read_s,
              build_s);
  std::printf("graph memory    %.1f MiB\n", static_cast<double>(graph.memory_bytes()) / (1 << 20));
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto opt = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Print a graph's size and degree statistics");
  cmd->add_option("graph", opt->graph,
                  "Graph file (edge list, .gr, .mtx or .bin; zstd/gzip ok) or atom directory");
  cmd->add_option("--graph", opt->graph_flag, "The same as GRAPH");
  cmd->add_option("--format", opt->format, "Input format: auto, snap, gr, mtx, bin")
      ->capture_default_str();
  cmd->add_flag("--symmetrize", opt->symmetrize, "Add the reverse of every edge");
  cmd->add_flag("--dedup", opt->dedup, "Drop duplicate edges and self-loops");
  cmd->add_option("--threads", opt->threads, "Worker threads (default: all cores)");
  cmd->add_flag("--json", opt->json, "Print one JSON object instead of text");
  cmd->add_flag("--verify", opt->verify, "Atom directory: also read and check every atom file");
  cmd->add_option("--ranks", opt->ranks,
                  "Atom directory: show the placement over N ranks (owned vertices, edges, "
                  "ghosts, replication factor)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->callback([opt] {
    opt->graph = one_graph("info", opt->graph, opt->graph_flag);
    run_info(*opt);
  });
}

}  // namespace atl::cli
