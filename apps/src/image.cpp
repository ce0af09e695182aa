#include "atoll/apps/image.hpp"

#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "atoll/common/error.hpp"
#include "atoll/graph/input_file.hpp"

namespace atl {
namespace {

/// Images larger than this many pixels are refused (a corrupt header, not a picture).
constexpr std::uint64_t kMaxPixels = std::uint64_t{1} << 31;

/// Reads PGM header fields: whitespace and '#' comments (to the end of the line) between them.
class PgmCursor {
 public:
  PgmCursor(std::string_view bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  std::uint64_t number(const char* what) {
    skip_space();
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(bytes_.data() + pos_, bytes_.data() + bytes_.size(), value);
    if (ec != std::errc() || end == bytes_.data() + pos_) {
      fail(path_, ": PGM: expected ", what, " at byte ", pos_, ", got ",
           quote_excerpt(bytes_.substr(pos_, 12)));
    }
    pos_ = static_cast<std::size_t>(end - bytes_.data());
    return value;
  }
  /// After maxval: exactly one whitespace byte, then the raster.
  std::size_t raster_start() {
    if (pos_ >= bytes_.size() || !std::isspace(static_cast<unsigned char>(bytes_[pos_]))) {
      fail(path_, ": PGM: expected one whitespace byte before the pixels");
    }
    return pos_ + 1;
  }

 private:
  void skip_space() {
    while (pos_ < bytes_.size()) {
      const char c = bytes_[pos_];
      if (c == '#') {
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  std::string_view bytes_;
  const std::string& path_;
  std::size_t pos_ = 2;  // after the magic
};

Image read_pgm(std::string_view bytes, const std::string& path) {
  const bool ascii = bytes[1] == '2';
  PgmCursor cur(bytes, path);
  Image image;
  image.width = cur.number("the width");
  image.height = cur.number("the height");
  const std::uint64_t maxval = cur.number("the maximum grey value");
  if (image.width == 0 || image.height == 0) {
    fail(path, ": PGM: the image is empty (", image.width, " x ", image.height, ")");
  }
  if (image.width > kMaxPixels / image.height) {
    fail(path, ": PGM: ", image.width, " x ", image.height, " pixels is too large");
  }
  if (maxval == 0 || maxval > 65535) {
    fail(path, ": PGM: the maximum grey value must be in 1..65535, got ", maxval);
  }
  const std::size_t n = image.width * image.height;
  image.pixels.resize(n);
  auto scale = [&](std::uint64_t v, std::size_t i) {
    if (v > maxval) fail(path, ": PGM: pixel ", i, " has value ", v, " > maxval ", maxval);
    return static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval);
  };
  if (ascii) {
    for (std::size_t i = 0; i < n; ++i) image.pixels[i] = scale(cur.number("a pixel value"), i);
    return image;
  }
  const std::size_t start = cur.raster_start();
  const std::size_t bytes_per = maxval < 256 ? 1 : 2;
  if (bytes.size() - start < n * bytes_per) {
    fail(path, ": PGM: truncated: ", n, " pixels need ", n * bytes_per, " bytes, the file has ",
         bytes.size() - start);
  }
  const auto* raster = reinterpret_cast<const unsigned char*>(bytes.data() + start);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t v =
        bytes_per == 1 ? raster[i] : (std::uint64_t{raster[2 * i]} << 8) | raster[2 * i + 1];
    image.pixels[i] = scale(v, i);
  }
  return image;
}

Image read_png(std::string_view bytes, const std::string& path) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) == 0) {
    fail(path, ": PNG: ", png.message);
  }
  png.format = PNG_FORMAT_GRAY;
  Image image;
  image.width = png.width;
  image.height = png.height;
  if (image.width == 0 || image.height == 0 || image.width > kMaxPixels / image.height) {
    png_image_free(&png);
    fail(path, ": PNG: unsupported size ", image.width, " x ", image.height);
  }
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  if (png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr) == 0) {
    fail(path, ": PNG: ", png.message);
  }
  return image;
}

bool ends_with_png(const std::string& path) {
  if (path.size() < 4) return false;
  std::string tail = path.substr(path.size() - 4);
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == ".png";
}

}  // namespace

Image read_image(const std::string& path) {
  InputFile file = InputFile::open(path);
  std::string_view bytes = file.bytes();
  if (bytes.size() >= 8 &&
      png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) == 0) {
    return read_png(bytes, path);
  }
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5')) {
    return read_pgm(bytes, path);
  }
  fail(path, ": not a PGM (P2/P5) or PNG image");
}

void write_image(const std::string& path, const Image& image) {
  if (image.pixels.size() != image.width * image.height || image.pixels.empty()) {
    fail(path, ": cannot write an image of ", image.width, " x ", image.height, " with ",
         image.pixels.size(), " pixels");
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  if (ends_with_png(path)) {
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = static_cast<png_uint_32>(image.width);
    png.height = static_cast<png_uint_32>(image.height);
    png.format = PNG_FORMAT_GRAY;
    if (png_image_write_to_file(&png, tmp.c_str(), 0, image.pixels.data(), 0, nullptr) == 0) {
      std::filesystem::remove(tmp);
      fail(path, ": cannot write PNG: ", png.message);
    }
  } else {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, ": cannot create output file: ", std::strerror(errno));
    out << "P5\n" << image.width << " " << image.height << "\n255\n";
    out.write(reinterpret_cast<const char*>(image.pixels.data()),
              static_cast<std::streamsize>(image.pixels.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(tmp);
      fail(path, ": write failed: ", std::strerror(errno));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    fail(path, ": cannot rename the finished output into place: ", ec.message());
  }
}

}  // namespace atl
