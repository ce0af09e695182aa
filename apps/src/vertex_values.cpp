#include "atoll/apps/vertex_values.hpp"

#include <unistd.h>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

/// Writes rows lines; format(i, p, end) writes line i's values (at most max_line - 21 bytes)
/// and returns the end.
template <typename Format>
void write_lines(const std::string& path, std::span<const Gid> gids, std::size_t max_line,
                 Format format) {
  // A regular file is written under a temporary name and renamed into place; anything else
  // that exists (/dev/null, a FIFO, /dev/stdout) is written directly, never replaced.
  std::error_code stat_error;
  const auto status = std::filesystem::status(path, stat_error);
  const bool direct = std::filesystem::exists(status) && !std::filesystem::is_regular_file(status);
  std::string tmp = direct ? path : path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, ": cannot create output file: ", std::strerror(errno));
    std::string buffer;
    buffer.reserve(1 << 20);
    std::vector<char> line(max_line);
    char* const line_end = line.data() + line.size();
    for (std::size_t i = 0; i < gids.size(); ++i) {
      char* p = std::to_chars(line.data(), line_end, gids[i]).ptr;
      *p++ = '\t';
      p = format(i, p, line_end - 1);
      *p++ = '\n';
      buffer.append(line.data(), p);
      if (buffer.size() > (1 << 20) - max_line) {
        out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        buffer.clear();
      }
    }
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    out.flush();
    if (!out) {
      if (!direct) std::filesystem::remove(tmp);
      fail(path, ": write failed: ", std::strerror(errno));
    }
  }
  if (direct) return;
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    fail(path, ": cannot rename the finished output into place: ", ec.message());
  }
}

/// A double in shortest round-trip form, infinity as "inf".
char* format_double(char* p, char* end, double v) {
  if (std::isinf(v)) {
    const char* s = v > 0 ? "inf" : "-inf";
    std::size_t n = std::strlen(s);
    std::memcpy(p, s, n);
    return p + n;
  }
  return std::to_chars(p, end, v).ptr;  // shortest form that reads back as the same double
}

/// Room for one formatted double and its separator.
constexpr std::size_t kDoubleChars = 32;

}  // namespace

void write_vertex_values(const std::string& path, const VertexValues<double>& result) {
  write_lines(path, result.gids, 64, [&](std::size_t i, char* p, char* end) {
    return format_double(p, end, result.values[i]);
  });
}

void write_vertex_values(const std::string& path, const VertexValues<std::uint64_t>& result) {
  write_lines(path, result.gids, 64, [&](std::size_t i, char* p, char* end) {
    return std::to_chars(p, end, result.values[i]).ptr;
  });
}

void write_vertex_values(const std::string& path, const VertexVectors& result) {
  const std::size_t k = result.width;
  write_lines(path, result.gids, 32 + k * kDoubleChars, [&](std::size_t i, char* p, char* end) {
    for (std::size_t j = 0; j < k; ++j) {
      if (j > 0) *p++ = ' ';
      p = format_double(p, end, result.values[i * k + j]);
    }
    return p;
  });
}

}  // namespace atl
