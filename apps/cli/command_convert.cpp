// `atoll convert IN OUT [--format bin|snap|mtx]`: reads a graph once (any input format, an atom
// directory too) and writes it in another, typically Atoll's binary edge list, which later
// loads at disk speed.
#include <cstdio>
#include <memory>
#include <string>

#include "atoll/common/error.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/graph/write_graph.hpp"
#include "commands.hpp"
#include "output_path.hpp"
#include "thread_limit.hpp"

namespace atl::cli {
namespace {

struct ConvertOptions {
  std::string in;
  std::string out;
  std::string format = "auto";        ///< of OUT
  std::string input_format = "auto";  ///< of IN
  bool symmetrize = false;
  bool dedup = false;
  int threads = 0;
};

void run_convert(const ConvertOptions& opt) {
  const GraphFormat in_format = parse_format_name(opt.input_format);
  const GraphFormat requested = parse_format_name(opt.format);
  if (requested == GraphFormat::kGr) {
    usage_fail("--format for convert must be snap, bin or mtx, got '", opt.format, "'");
  }
  const GraphFormat out_format = output_format(opt.out, requested);
  check_output_path(opt.out, "OUT");
  ThreadLimit limit(opt.threads);

  Timer timer;
  EdgeList edges = read_edge_list(opt.in, in_format);
  const std::size_t input_edges = edges.size();
  if (opt.symmetrize || opt.dedup) {
    const EdgeList original = std::move(edges);
    edges = to_edge_list(Topology::build(original, {opt.symmetrize, opt.dedup}));
    if (original.declared) edges.declared = original.declared;  // the input's vertex set
    edges.bipartite_rows = original.bipartite_rows;
  }
  const double read_s = timer.seconds();
  timer.reset();
  write_edge_list(edges, opt.out, out_format);
  std::printf(
      "converted %s (%zu edges) to %s (%s, %zu edges%s) in %.3f s (read %.3f s, write "
      "%.3f s)\n",
      opt.in.c_str(), input_edges, opt.out.c_str(), std::string(format_name(out_format)).c_str(),
      edges.size(), edges.weighted ? ", weighted" : "", read_s + timer.seconds(), read_s,
      timer.seconds());
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto opt = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Convert a graph between formats (parse a text graph once, load .bin fast)");
  cmd->add_option("in", opt->in,
                  "Input graph (edge list, .gr, .mtx, .bin; zstd/gzip ok) or atom directory")
      ->required();
  cmd->add_option("out", opt->out,
                  "Output file (.bin: Atoll's binary edge list, .mtx: Matrix Market, else a "
                  "text edge list)")
      ->required();
  cmd->add_option("--format", opt->format, "Output format: auto (from OUT's name), bin, snap, mtx")
      ->capture_default_str();
  cmd->add_option("--input-format", opt->input_format, "Input format: auto, snap, gr, mtx, bin")
      ->capture_default_str();
  cmd->add_flag("--symmetrize", opt->symmetrize, "Add the reverse of every edge");
  cmd->add_flag("--dedup", opt->dedup, "Drop duplicate edges and self-loops");
  cmd->add_option("--threads", opt->threads, "Worker threads (default: all cores)");
  cmd->callback([opt] { run_convert(*opt); });
}

}  // namespace atl::cli
