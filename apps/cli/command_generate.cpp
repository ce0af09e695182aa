// `atoll generate kronecker|uniform|grid|planted ... --out FILE`: writes a synthetic graph
// (ratings and images: command_generate_ml.cpp).
#include <cstdio>
#include <optional>
#include <string>

#include "atoll/common/error.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/graph/write_graph.hpp"
#include "commands.hpp"
#include "output_path.hpp"
#include "thread_limit.hpp"

namespace atl::cli {
namespace {

struct CommonOptions {
  std::string out;
  std::string format = "auto";
  std::string weights;  ///< "MIN:MAX" or empty
  std::uint64_t seed = 1;
  int threads = 0;
  bool symmetrize = false;
  bool dedup = false;
};

std::optional<WeightRange> parse_weights(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t colon = text.find(':');
  WeightRange range;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    std::size_t used = 0;
    range.min = std::stoll(text.substr(0, colon), &used);
    if (used != colon) throw std::invalid_argument("trailing");
    std::string max_text = text.substr(colon + 1);
    range.max = std::stoll(max_text, &used);
    if (used != max_text.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    usage_fail("--weights expects MIN:MAX with integers, got '", text, "'");
  }
  if (range.min > range.max) usage_fail("--weights MIN:MAX needs MIN <= MAX, got '", text, "'");
  return range;
}

/// The format --out and --format name (checked before generating: a compressed name or a
/// format that cannot be written is refused at once).
GraphFormat checked_format(const CommonOptions& opt) {
  const GraphFormat format = parse_format_name(opt.format);
  if (format == GraphFormat::kGr) {
    usage_fail("--format for generate must be snap, bin or mtx, got '", opt.format, "'");
  }
  const GraphFormat out = output_format(opt.out, format);
  check_output_path(opt.out, "--out");
  return out;
}

void write_result(EdgeList edges, const CommonOptions& opt, double gen_seconds) {
  const GraphFormat format = checked_format(opt);
  if (opt.symmetrize || opt.dedup) {
    edges = to_edge_list(Topology::build(edges, {opt.symmetrize, opt.dedup}));
  }
  // Matrix Market numbers vertices from 1: generated vertex v is written as v + 1.
  const bool shifted = format == GraphFormat::kMtx;
  if (shifted) {
    for (Edge& e : edges.edges) e = {e.src + 1, e.dst + 1};
    if (edges.declared) edges.declared->first += 1;
  }
  Timer timer;
  write_edge_list(edges, opt.out, format);
  std::printf("wrote %zu edges%s to %s (%s%s; generate %.3f s, write %.3f s)\n", edges.size(),
              edges.weighted ? " with weights" : "", opt.out.c_str(),
              std::string(format_name(format)).c_str(), shifted ? ", vertex v written as v+1" : "",
              gen_seconds, timer.seconds());
}

void add_common(CLI::App* cmd, CommonOptions& opt) {
  cmd->add_option("--out", opt.out,
                  "Output file (.bin: binary edge list, .mtx: Matrix Market with vertex v as "
                  "v+1, else a text edge list; .gz/.zst are refused)")
      ->required();
  cmd->add_option("--format", opt.format, "Output format: auto (from the name), snap, bin, mtx")
      ->capture_default_str();
  cmd->add_option("--seed", opt.seed, "Random seed (same seed, same graph)")->capture_default_str();
  cmd->add_option("--weights", opt.weights, "Integer edge weights drawn from MIN:MAX");
  cmd->add_option("--threads", opt.threads, "Worker threads (default: all cores)");
  cmd->add_flag("--symmetrize", opt.symmetrize, "Also write the reverse of every edge");
  cmd->add_flag("--dedup", opt.dedup, "Drop duplicate edges and self-loops before writing");
}

}  // namespace

void add_generate_command(CLI::App& app) {
  CLI::App* gen = app.add_subcommand("generate", "Write a synthetic graph");
  gen->require_subcommand(1);
  add_generate_ml_commands(gen);

  struct Kron {
    CommonOptions common;
    int scale = 0;
    std::uint64_t edge_factor = 16;
  };
  auto kron = std::make_shared<Kron>();
  CLI::App* k = gen->add_subcommand("kronecker", "Graph500 Kronecker graph (A=.57 B=.19 C=.19)");
  k->add_option("--scale", kron->scale, "log2 of the vertex count")->required();
  k->add_option("--edge-factor", kron->edge_factor, "Edges per vertex")->capture_default_str();
  add_common(k, kron->common);
  k->callback([kron] {
    (void)checked_format(kron->common);
    ThreadLimit limit(kron->common.threads);
    Timer timer;
    EdgeList edges = generate_kronecker(
        {kron->scale, kron->edge_factor, kron->common.seed, parse_weights(kron->common.weights)});
    write_result(edges, kron->common, timer.seconds());
  });

  struct Uniform {
    CommonOptions common;
    std::uint64_t vertices = 0;
    std::uint64_t edges = 0;
  };
  auto uni = std::make_shared<Uniform>();
  CLI::App* u = gen->add_subcommand("uniform", "Uniform random graph G(n, m)");
  u->add_option("--vertices", uni->vertices, "Vertex count n")->required();
  u->add_option("--edges", uni->edges, "Edge count m")->required();
  add_common(u, uni->common);
  u->callback([uni] {
    (void)checked_format(uni->common);
    ThreadLimit limit(uni->common.threads);
    Timer timer;
    EdgeList edges = generate_uniform(
        {uni->vertices, uni->edges, uni->common.seed, parse_weights(uni->common.weights)});
    write_result(edges, uni->common, timer.seconds());
  });

  struct Grid {
    CommonOptions common;
    std::uint64_t rows = 0;
    std::uint64_t cols = 0;
  };
  auto grid = std::make_shared<Grid>();
  CLI::App* g = gen->add_subcommand("grid", "2-D grid, each edge listed once");
  g->add_option("--rows", grid->rows, "Rows")->required();
  g->add_option("--cols", grid->cols, "Columns")->required();
  add_common(g, grid->common);
  g->callback([grid] {
    (void)checked_format(grid->common);
    ThreadLimit limit(grid->common.threads);
    Timer timer;
    EdgeList edges = generate_grid(
        {grid->rows, grid->cols, grid->common.seed, parse_weights(grid->common.weights)});
    write_result(edges, grid->common, timer.seconds());
  });

  struct Planted {
    CommonOptions common;
    std::uint64_t communities = 0;
    std::uint64_t size = 0;
    double internal_degree = 8;
    double external_degree = 1;
  };
  auto planted = std::make_shared<Planted>();
  CLI::App* p = gen->add_subcommand(
      "planted", "Planted partition: vertex v in community v / size, edges listed once");
  p->add_option("--communities", planted->communities, "Number of communities")->required();
  p->add_option("--size", planted->size, "Vertices per community")->required();
  p->add_option("--internal-degree", planted->internal_degree,
                "Average neighbours inside the community")
      ->capture_default_str();
  p->add_option("--external-degree", planted->external_degree,
                "Average neighbours in other communities")
      ->capture_default_str();
  add_common(p, planted->common);
  p->callback([planted] {
    (void)checked_format(planted->common);
    ThreadLimit limit(planted->common.threads);
    Timer timer;
    EdgeList edges = generate_planted(
        {planted->communities, planted->size, planted->internal_degree, planted->external_degree,
         planted->common.seed, parse_weights(planted->common.weights)});
    write_result(edges, planted->common, timer.seconds());
  });
}

}  // namespace atl::cli
