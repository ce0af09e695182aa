#include "atoll/apps/test_image.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "atoll/common/error.hpp"

namespace atl {

double grey_level(std::size_t i, std::size_t levels) {
  return 255.0 * static_cast<double>(i) / static_cast<double>(levels - 1);
}

Image make_test_image(std::size_t width, std::size_t height, std::size_t levels) {
  if (width == 0 || height == 0) usage_fail("the image needs at least one pixel");
  if (levels < 2 || levels > 256) usage_fail("--states must be in 2..256, got ", levels);
  Image image{width, height, std::vector<std::uint8_t>(width * height)};
  const double ring = std::max(3.0, static_cast<double>(std::min(width, height)) / 12.0);
  const double cy = (static_cast<double>(height) - 1) / 2,
               cx = (static_cast<double>(width) - 1) / 2;
  for (std::size_t r = 0; r < height; ++r) {
    for (std::size_t c = 0; c < width; ++c) {
      const double d = std::hypot(static_cast<double>(r) - cy, static_cast<double>(c) - cx);
      const auto j = static_cast<std::size_t>(d / ring) % levels;
      image.pixels[r * width + c] = static_cast<std::uint8_t>(std::lround(grey_level(j, levels)));
    }
  }
  return image;
}

Image add_noise(const Image& clean, double sigma, std::uint64_t seed) {
  if (!(sigma >= 0) || std::isinf(sigma)) usage_fail("--noise must be non-negative, got ", sigma);
  Image noisy = clean;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sigma);
  for (std::uint8_t& p : noisy.pixels) {
    const double y = std::clamp(std::round(p + noise(rng)), 0.0, 255.0);
    p = static_cast<std::uint8_t>(y);
  }
  return noisy;
}

}  // namespace atl
