#include "atoll/apps/vertex_values.hpp"

#include <unistd.h>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

template <typename T, typename Format>
void write_lines(const std::string& path, const VertexValues<T>& result, Format format) {
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
    char line[64];
    for (std::size_t i = 0; i < result.gids.size(); ++i) {
      char* p = std::to_chars(line, line + sizeof line, result.gids[i]).ptr;
      *p++ = '\t';
      p = format(p, line + sizeof line, result.values[i]);
      *p++ = '\n';
      buffer.append(line, p);
      if (buffer.size() > (1 << 20) - 64) {
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

}  // namespace

void write_vertex_values(const std::string& path, const VertexValues<double>& result) {
  write_lines(path, result, [](char* p, char* end, double v) {
    if (std::isinf(v)) {
      const char* s = v > 0 ? "inf" : "-inf";
      std::size_t n = std::strlen(s);
      std::memcpy(p, s, n);
      return p + n;
    }
    return std::to_chars(p, end, v).ptr;  // shortest form that reads back as the same double
  });
}

void write_vertex_values(const std::string& path, const VertexValues<std::uint64_t>& result) {
  write_lines(path, result,
              [](char* p, char* end, std::uint64_t v) { return std::to_chars(p, end, v).ptr; });
}

}  // namespace atl
