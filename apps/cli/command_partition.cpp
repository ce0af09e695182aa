// `atoll partition GRAPH --atoms K --out DIR`: phase 1, cuts a graph into atom files.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "atoll/common/json_writer.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/topology.hpp"
#include "atom_dir_info.hpp"
#include "commands.hpp"
#include "graph_argument.hpp"
#include "output_path.hpp"
#include "thread_limit.hpp"

namespace atl::cli {
namespace {

struct PartitionCommandOptions {
  std::string graph;
  std::string graph_flag;  ///< --graph (the same as the positional GRAPH)
  std::string out;
  std::string format = "auto";
  std::string method = "hash";
  std::uint32_t atoms = kDefaultAtoms;
  std::uint64_t seed = 0;
  bool symmetrize = false;
  bool dedup = false;
  bool json = false;
  bool force = false;  ///< replace an existing atom directory
  int threads = 0;
};

/// --out must be a new or empty directory, or an atom directory with --force (checked before
/// the graph is read).
void check_partition_out(const PartitionCommandOptions& opt) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(opt.out, ec)) {
    check_output_path(opt.out, "--out");  // its parent must exist and be writable
    return;
  }
  if (!fs::is_directory(opt.out, ec)) usage_fail("--out ", opt.out, ": is a file, not a directory");
  if (is_atom_directory(opt.out)) {
    if (!opt.force) {
      usage_fail("--out ", opt.out, ": is an atom directory already (add --force to replace it)");
    }
    if (fs::equivalent(opt.out, opt.graph, ec)) {
      usage_fail("--out ", opt.out, ": is the input graph; write the new atoms elsewhere");
    }
    return;
  }
  if (!fs::is_empty(opt.out, ec) && !opt.force) {
    usage_fail("--out ", opt.out, ": directory exists and holds other files (add --force to ",
               "write the atoms there anyway)");
  }
}

void run_partition(const PartitionCommandOptions& opt) {
  PartitionOptions options;
  options.atoms = opt.atoms;
  options.method = parse_atom_method(opt.method);
  options.seed = opt.seed;
  if (opt.atoms < 1 || opt.atoms > kMaxAtoms) {
    usage_fail("--atoms must be between 1 and ", kMaxAtoms, ", got ", opt.atoms);
  }
  const GraphFormat format = parse_format_name(opt.format);
  check_partition_out(opt);
  ThreadLimit limit(opt.threads);

  Timer timer;
  EdgeList edges = read_edge_list(opt.graph, format);
  const std::size_t input_edges = edges.size();
  if (opt.symmetrize || opt.dedup) {
    edges = to_edge_list(Topology::build(edges, {opt.symmetrize, opt.dedup}));
  }
  const double read_s = timer.seconds();
  timer.reset();
  const AtomIndex index = write_atoms(edges, opt.out, options);
  const double partition_s = timer.seconds();
  const double rate = partition_s > 0 ? static_cast<double>(index.num_edges) / partition_s : 0;
  const AtomSummary s = summarize(index);

  if (opt.json) {
    JsonWriter j;
    j.begin_object()
        .field("graph", opt.graph)
        .field("out", opt.out)
        .field("atoms", static_cast<std::uint64_t>(index.atoms.size()))
        .field("method", atom_method_name(index.method))
        .field("seed", index.seed)
        .field("vertices", index.num_vertices)
        .field("edges", index.num_edges)
        .field("input_edges", static_cast<std::uint64_t>(input_edges))
        .field("weighted", index.weighted);
    add_summary_fields(j, s);
    j.field("read_seconds", read_s)
        .field("partition_seconds", partition_s)
        .field("edges_per_second", rate)
        .end_object();
    std::cout << j.str() << '\n';
    return;
  }
  std::printf("partitioned     %s into %zu atoms (%s, seed %llu) in %s\n", opt.graph.c_str(),
              index.atoms.size(), std::string(atom_method_name(index.method)).c_str(),
              static_cast<unsigned long long>(index.seed), opt.out.c_str());
  std::printf("vertices        %llu\n", static_cast<unsigned long long>(index.num_vertices));
  std::printf("edges           %llu%s%s\n", static_cast<unsigned long long>(index.num_edges),
              index.weighted ? " (weighted)" : "",
              input_edges != index.num_edges
                  ? (" (input " + std::to_string(input_edges) + ")").c_str()
                  : "");
  print_summary_lines(s);
  std::printf("time            read %.3f s, partition %.3f s (%.3g edges/s)\n", read_s, partition_s,
              rate);
}

}  // namespace

void add_partition_command(CLI::App& app) {
  auto opt = std::make_shared<PartitionCommandOptions>();
  CLI::App* cmd = app.add_subcommand("partition", "Cut a graph into atom files (phase 1)");
  cmd->add_option("graph", opt->graph,
                  "Graph file (edge list, .gr, .mtx or .bin; zstd/gzip ok) or atom directory");
  cmd->add_option("--graph", opt->graph_flag, "The same as GRAPH");
  cmd->add_option("--out", opt->out, "Atom directory to write (created if missing)")->required();
  cmd->add_flag("--force", opt->force, "Replace the atom directory --out if it exists");
  cmd->add_option("--atoms", opt->atoms, "Number of atoms K")->capture_default_str();
  cmd->add_option("--method", opt->method, "Partitioner: hash or metis")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Seed of the hash or of METIS")->capture_default_str();
  cmd->add_option("--format", opt->format, "Input format: auto, snap, gr, mtx, bin")
      ->capture_default_str();
  cmd->add_flag("--symmetrize", opt->symmetrize, "Add the reverse of every edge first");
  cmd->add_flag("--dedup", opt->dedup, "Drop duplicate edges and self-loops first");
  cmd->add_option("--threads", opt->threads, "Worker threads (default: all cores)");
  cmd->add_flag("--json", opt->json, "Print one JSON object instead of text");
  cmd->callback([opt] {
    opt->graph = one_graph("partition", opt->graph, opt->graph_flag);
    run_partition(*opt);
  });
}

}  // namespace atl::cli
