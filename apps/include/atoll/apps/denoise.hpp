// Image denoising with loopy belief propagation on the pixel grid (4-neighbour), GraphLab's
// classic demo: K states are K evenly spaced grey levels g from 0 to 255, a pixel of grey y has
// the prior exp(-(y - g)^2 / (2 sigma^2)) for level g, neighbouring pixels the Potts potential
// with weight 1 (exp(-smoothing) when they differ); each output pixel is its most probable level.
#pragma once

#include <cstddef>
#include <cstdint>

#include "atoll/apps/image.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

struct Cluster;

struct DenoiseOptions {
  std::size_t states = 8;           ///< K, 2..64
  double smoothing = 2.0;           ///< S >= 0
  double sigma = 30.0;              ///< > 0: the noise's standard deviation in grey values
  double damping = 0.0;             ///< in [0, 1)
  double tolerance = 1e-3;          ///< on the max-norm change of a message
  std::uint64_t iterations = 1000;  ///< at most this many sweeps
};

struct DenoiseResult {
  Image image;  ///< the whole denoised image (on every rank)
  RunStats stats;
  bool converged = false;
};

/// Pixel (row r, column c) is vertex r x width + c. With a cluster (collective), rank p owns
/// the p-th block of rows; every rank passes the same image and gets the whole result.
DenoiseResult denoise(const Image& noisy, const DenoiseOptions& options,
                      const EngineOptions& engine, Cluster* cluster = nullptr);

}  // namespace atl
