// Test pictures for denoise: a clean image of K evenly spaced grey levels and its noisy copy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "atoll/apps/image.hpp"

namespace atl {

/// Grey level i of K evenly spaced levels from 0 to 255: 255 i / (K - 1).
double grey_level(std::size_t i, std::size_t levels);

/// Concentric rings around the centre (ring width about a twelfth of the smaller side, at
/// least 3 pixels), ring j at level j mod K, each level rounded to an integer grey value.
Image make_test_image(std::size_t width, std::size_t height, std::size_t levels);

/// The image plus Gaussian noise of standard deviation sigma, rounded and clamped to 0..255;
/// the same seed gives the same noise.
Image add_noise(const Image& clean, double sigma, std::uint64_t seed);

}  // namespace atl
