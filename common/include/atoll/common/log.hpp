// Progress and diagnostics go to stderr; results and summaries go to stdout.
#pragma once

#include <string_view>

namespace atl {

enum class LogLevel { kQuiet = 0, kInfo = 1, kDebug = 2 };

/// Sets the level below which messages are dropped (default kInfo; ATOLL_LOG=quiet|info|debug).
void set_log_level(LogLevel level);
LogLevel log_level();

/// Writes "atoll: <msg>" to stderr as one line (thread-safe, one write call).
void log_info(std::string_view msg);
void log_debug(std::string_view msg);
/// "atoll: warning: <msg>", at every level (something the user must know about).
void log_warn(std::string_view msg);

}  // namespace atl
