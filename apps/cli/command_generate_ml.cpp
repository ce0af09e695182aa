// `atoll generate ratings ...` (a low-rank users x items matrix with a train/test split, as
// Matrix Market files for als) and `atoll generate image ...` (a noisy test picture for
// denoise, with its clean original).
#include <cstdio>
#include <fstream>
#include <string>

#include "atoll/apps/image.hpp"
#include "atoll/apps/test_image.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/graph/generators.hpp"
#include "commands.hpp"

namespace atl::cli {
namespace {

/// Writes a bipartite list (users 1..m, items m+1..m+n) as an m x n Matrix Market file.
void write_ratings(const std::string& path, const EdgeList& list, std::uint64_t users,
                   std::uint64_t items) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, ": cannot create output file");
  std::string buffer =
      "%%MatrixMarket matrix coordinate real general\n% users x items ratings "
      "(atoll generate ratings)\n" +
      std::to_string(users) + " " + std::to_string(items) + " " + std::to_string(list.size()) +
      "\n";
  char line[96];
  for (std::size_t e = 0; e < list.size(); ++e) {
    int n = std::snprintf(
        line, sizeof line, "%llu %llu %.6g\n", static_cast<unsigned long long>(list.edges[e].src),
        static_cast<unsigned long long>(list.edges[e].dst - users), list.weights[e]);
    buffer.append(line, static_cast<std::size_t>(n));
    if (buffer.size() > (1 << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.close();
  if (!out) fail(path, ": write failed");
}

}  // namespace

void add_generate_ml_commands(CLI::App* gen) {
  struct RatingsOptions {
    RatingsParams params;
    std::string out;
    std::string test_out;
  };
  auto r = std::make_shared<RatingsOptions>();
  CLI::App* c = gen->add_subcommand(
      "ratings", "Low-rank users x items ratings (Matrix Market) with a train/test split");
  c->add_option("--users", r->params.users, "Users (matrix rows)")->required();
  c->add_option("--items", r->params.items, "Items (matrix columns)")->required();
  c->add_option("--rank", r->params.rank, "Rank of the hidden factors")->capture_default_str();
  c->add_option("--noise", r->params.noise, "Standard deviation of the rating noise")
      ->capture_default_str();
  c->add_option("--density", r->params.density, "Probability that a user rated an item")
      ->capture_default_str();
  c->add_option("--test-fraction", r->params.test_fraction,
                "Probability that a rating is held out for the test file")
      ->capture_default_str();
  c->add_option("--seed", r->params.seed, "Random seed")->capture_default_str();
  c->add_option("--out", r->out, "Training ratings (.mtx)")->required();
  c->add_option("--test-out", r->test_out, "Held-out ratings (.mtx; default: dropped)");
  c->callback([r] {
    Timer timer;
    Ratings data = generate_ratings(r->params);
    const double gen_seconds = timer.seconds();
    write_ratings(r->out, data.train, r->params.users, r->params.items);
    if (!r->test_out.empty())
      write_ratings(r->test_out, data.test, r->params.users, r->params.items);
    std::printf("wrote %zu training ratings to %s and %zu test ratings to %s (generate %.3f s)\n",
                data.train.size(), r->out.c_str(), data.test.size(),
                r->test_out.empty() ? "nowhere" : r->test_out.c_str(), gen_seconds);
  });

  struct ImageOptions {
    std::size_t width = 0;
    std::size_t height = 0;
    std::size_t states = 4;
    double noise = 40;
    std::uint64_t seed = 1;
    std::string out;
    std::string clean;
  };
  auto i = std::make_shared<ImageOptions>();
  CLI::App* m = gen->add_subcommand(
      "image", "Noisy test picture for denoise: rings of K grey levels plus Gaussian noise");
  m->add_option("--width", i->width, "Width in pixels")->required();
  m->add_option("--height", i->height, "Height in pixels")->required();
  m->add_option("--states", i->states, "Grey levels K, evenly spaced from 0 to 255")
      ->capture_default_str();
  m->add_option("--noise", i->noise, "Standard deviation of the noise (grey values)")
      ->capture_default_str();
  m->add_option("--seed", i->seed, "Random seed")->capture_default_str();
  m->add_option("--out", i->out, "Noisy image (.png: PNG, else PGM)")->required();
  m->add_option("--clean", i->clean, "Also write the clean image here");
  m->callback([i] {
    Image clean = make_test_image(i->width, i->height, i->states);
    write_image(i->out, add_noise(clean, i->noise, i->seed));
    if (!i->clean.empty()) write_image(i->clean, clean);
    std::printf("wrote a %zu x %zu image with %zu grey levels and noise %g to %s\n", i->width,
                i->height, i->states, i->noise, i->out.c_str());
  });
}

}  // namespace atl::cli
