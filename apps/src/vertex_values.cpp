#include "atoll/apps/vertex_values.hpp"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "atoll/common/error.hpp"
#include "value_lines.hpp"

namespace atl {
namespace detail {

void write_value_lines(const std::string& path, std::size_t n, const Gid* gids,
                       const std::function<void(std::string& line, std::size_t i)>& append) {
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
    for (std::size_t i = 0; i < n; ++i) {
      append_unsigned(buffer, gids[i]);
      buffer += '\t';
      append(buffer, i);
      buffer += '\n';
      if (buffer.size() > (1 << 20) - 4096) {
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

void append_double(std::string& out, double d) {
  if (std::isinf(d)) {
    out += d > 0 ? "inf" : "-inf";
    return;
  }
  char buf[32];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);  // reads back as the same double
}

void append_unsigned(std::string& out, std::uint64_t u) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, u).ptr);
}

}  // namespace detail

void write_vertex_values(const std::string& path, const VertexValues<double>& result) {
  detail::write_value_lines(
      path, result.gids.size(), result.gids.data(),
      [&](std::string& line, std::size_t i) { detail::append_double(line, result.values[i]); });
}

void write_vertex_values(const std::string& path, const VertexValues<std::uint64_t>& result) {
  detail::write_value_lines(
      path, result.gids.size(), result.gids.data(),
      [&](std::string& line, std::size_t i) { detail::append_unsigned(line, result.values[i]); });
}

void write_vertex_values(const std::string& path, const VertexVectors& result) {
  detail::write_value_lines(path, result.gids.size(), result.gids.data(),
                            [&](std::string& line, std::size_t i) {
                              for (std::size_t k = 0; k < result.width; ++k) {
                                if (k > 0) line += ' ';
                                detail::append_double(line, result.values[i * result.width + k]);
                              }
                            });
}

}  // namespace atl
