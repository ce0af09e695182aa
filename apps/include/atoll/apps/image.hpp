// Grey-level images for denoise: 8-bit pixels, read from PGM (P2 or P5, any maxval, scaled to
// 0..255) or PNG (libpng; colour is converted to grey), written as PNG or binary PGM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace atl {

struct Image {
  std::size_t width = 0;
  std::size_t height = 0;
  std::vector<std::uint8_t> pixels;  ///< row-major, width x height

  std::uint8_t at(std::size_t row, std::size_t col) const { return pixels[row * width + col]; }
};

/// Reads a PGM or PNG file (detected from its first bytes); errors name the file (exit 1).
Image read_image(const std::string& path);

/// Writes PNG when path ends in ".png" (any case), else binary PGM (P5).
void write_image(const std::string& path, const Image& image);

}  // namespace atl
