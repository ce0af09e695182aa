#include "atoll/common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace atl {
namespace {

LogLevel initial_level() {
  const char* env = std::getenv("ATOLL_LOG");
  if (env == nullptr) return LogLevel::kInfo;
  if (std::strcmp(env, "quiet") == 0) return LogLevel::kQuiet;
  if (std::strcmp(env, "debug") == 0) return LogLevel::kDebug;
  return LogLevel::kInfo;
}

std::atomic<LogLevel> g_level{initial_level()};

void write_line(std::string_view msg) {
  std::string line = "atoll: ";
  line += msg;
  line += '\n';
  // One write() so lines from several threads or ranks never interleave mid-line.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace

void set_log_level(LogLevel level) {
  g_level.store(level);
}
LogLevel log_level() {
  return g_level.load();
}

void log_info(std::string_view msg) {
  if (g_level.load() >= LogLevel::kInfo) write_line(msg);
}
void log_warn(std::string_view msg) {
  write_line(std::string("warning: ") + std::string(msg));
}
void log_debug(std::string_view msg) {
  if (g_level.load() >= LogLevel::kDebug) write_line(msg);
}

}  // namespace atl
