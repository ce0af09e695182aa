// The denoise app: the pixel grid as a graph (split by rows over the ranks), Gaussian priors
// from the grey values, then belief propagation (belief_propagation.hpp).
#include "atoll/apps/denoise.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "atoll/apps/app.hpp"
#include "atoll/apps/test_image.hpp"
#include "atoll/common/error.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "belief_propagation.hpp"

namespace atl {
namespace {

/// First row of rank p's block.
std::size_t first_row(std::size_t height, int p, int ranks) {
  return height * static_cast<std::size_t>(p) / static_cast<std::size_t>(ranks);
}

/// Rank p's rows of the grid: its pixels and every grid edge with an owned end (right and
/// down edges from owned pixels, down edges into its first row).
GraphPart grid_part(const Image& image, int rank, int ranks) {
  const std::size_t w = image.width, h = image.height;
  const std::size_t lo = first_row(h, rank, ranks), hi = first_row(h, rank + 1, ranks);
  GraphPart part;
  part.rank = rank;
  for (Gid g = lo * w; g < hi * w; ++g) part.owned.push_back(g);
  auto& edges = part.edges.edges;
  for (std::size_t r = lo; r < hi; ++r) {
    for (std::size_t c = 0; c < w; ++c) {
      const Gid g = r * w + c;
      if (r == lo && r > 0) edges.push_back({g - w, g});
      if (c + 1 < w) edges.push_back({g, g + 1});
      if (r + 1 < h) edges.push_back({g, g + w});
    }
  }
  part.owner_of = [w, h, ranks](Gid g) {
    const std::size_t r = g / w;
    int p = static_cast<int>((r * static_cast<std::size_t>(ranks) + ranks - 1) / h);
    while (p > 0 && first_row(h, p, ranks) > r) --p;
    while (p + 1 < ranks && first_row(h, p + 1, ranks) <= r) ++p;
    return p;
  };
  return part;
}

void check_denoise_options(const DenoiseOptions& opt) {
  check_bp_options(opt.states, opt.smoothing, opt.damping, opt.tolerance);
  if (!(opt.sigma > 0) || std::isinf(opt.sigma)) {
    usage_fail("--sigma must be positive, got ", opt.sigma);
  }
}

}  // namespace

DenoiseResult denoise(const Image& noisy, const DenoiseOptions& opt, const EngineOptions& eo,
                      Cluster* cluster) {
  check_denoise_options(opt);
  if (noisy.pixels.empty() || noisy.pixels.size() != noisy.width * noisy.height) {
    fail("denoise: the image has no pixels");
  }
  const int rank = cluster != nullptr ? cluster->rank() : 0;
  const int ranks = cluster != nullptr ? cluster->size() : 1;
  GraphPart part = grid_part(noisy, rank, ranks);
  Topology graph;
  if (cluster != nullptr) {
    graph = build_known_part(part, cluster->exchange, ranks);
  } else {
    part.edges.declared = VertexRange{0, noisy.pixels.size()};
    graph = Topology::build(std::move(part.edges));
  }
  const std::size_t k = opt.states;
  const double scale = 1.0 / (2 * opt.sigma * opt.sigma);
  BpParams params{k, opt.smoothing, opt.damping, opt.tolerance, opt.iterations};
  std::vector<Gid> gids(graph.num_owned());
  for (Lid v = 0; v < graph.num_owned(); ++v) gids[v] = graph.gid(v);
  BpRun run = with_capacity(k, [&]<std::size_t N>() {
    return run_belief_propagation<N>(std::move(graph), params, eo, cluster,
                                     [&](Lid v, std::array<double, N>& out) {
                                       const double y = noisy.pixels[gids[v]];
                                       for (std::size_t i = 0; i < k; ++i) {
                                         const double d = y - grey_level(i, k);
                                         out[i] = -d * d * scale;
                                       }
                                     });
  });
  // Each owned pixel's most probable level (ties to the darker), then the whole image.
  std::string mine(gids.size(), '\0');
  for (std::size_t i = 0; i < gids.size(); ++i) {
    const double* b = run.beliefs.data() + i * k;
    const std::size_t best = static_cast<std::size_t>(std::max_element(b, b + k) - b);
    mine[i] = static_cast<char>(static_cast<std::uint8_t>(std::lround(grey_level(best, k))));
  }
  DenoiseResult result;
  result.image = {noisy.width, noisy.height, std::vector<std::uint8_t>(noisy.pixels.size())};
  std::vector<std::string> all;
  if (cluster != nullptr) {
    all = cluster->collectives.allgather(mine);
  } else {
    all.push_back(std::move(mine));
  }
  std::size_t at = 0;  // rank p's rows follow rank p-1's, in gid order
  for (const std::string& block : all) {
    if (at + block.size() > result.image.pixels.size())
      fail("denoise: a rank sent too many pixels");
    std::memcpy(result.image.pixels.data() + at, block.data(), block.size());
    at += block.size();
  }
  if (at != result.image.pixels.size()) {
    fail("denoise: the ranks sent ", at, " pixels of ", result.image.pixels.size());
  }
  result.stats = std::move(run.stats);
  result.converged = run.converged;
  return result;
}

void register_denoise_app() {
  struct Options {
    DenoiseOptions denoise;
    std::string image;
  };
  AppSpec spec{
      "denoise", "Denoise a grey image (PGM/PNG) by lbp on its pixel grid; --out is an image",
      std::vector<EngineKind>(graphlab_engines().begin(), graphlab_engines().end()),
      Consistency::kEdge, [](CLI::App& cmd) {
        auto o = std::make_shared<Options>();
        cmd.add_option("--image", o->image, "Noisy image: PGM (P2/P5) or PNG")->required();
        cmd.add_option("--states", o->denoise.states, "Grey levels K (2..64), 0 to 255")
            ->capture_default_str();
        cmd.add_option("--smoothing", o->denoise.smoothing,
                       "S: neighbours at different levels weigh exp(-S)")
            ->capture_default_str();
        cmd.add_option("--sigma", o->denoise.sigma, "The noise's standard deviation (grey values)")
            ->capture_default_str();
        cmd.add_option("--damping", o->denoise.damping, "Message damping in [0, 1)")
            ->capture_default_str();
        cmd.add_option("--tol", o->denoise.tolerance, "Stop when no message moves more than this")
            ->capture_default_str();
        cmd.add_option("--iterations", o->denoise.iterations, "At most this many sweeps")
            ->capture_default_str();
        AppRunner runner;
        runner.check = [o] { check_denoise_options(o->denoise); };
        runner.run = [o](AppInput& in) {
          DenoiseResult r = denoise(read_image(o->image), o->denoise, in.options, in.cluster);
          const bool root = in.cluster == nullptr || in.cluster->rank() == 0;
          if (root && !in.out.empty()) write_image(in.out, r.image);
          AppOutput out;
          out.stats = std::move(r.stats);
          out.summarize = [w = r.image.width, h = r.image.height, converged = r.converged,
                           k = o->denoise.states, path = in.out](const AppOutput&) {
            std::printf("denoise: %zu x %zu pixels, %zu levels, %s%s%s\n", w, h, k,
                        converged ? "converged" : "NOT converged (stopped at --iterations)",
                        path.empty() ? "" : "; wrote ", path.c_str());
          };
          return out;
        };
        return runner;
      }};
  spec.needs_graph = false;
  spec.writes_out = true;
  register_app(std::move(spec));
}

}  // namespace atl
