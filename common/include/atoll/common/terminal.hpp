// Whether stderr reaches a terminal, directly or through `atoll launch` (whose ranks write to
// pipes, but whose own stderr may be a terminal: it then sets ATOLL_STDERR_TTY=1 for them and
// shows their in-place status lines in place).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace atl {

/// Set to "1" by atoll launch for its ranks when its own stderr is a terminal.
inline constexpr const char* kEnvStderrTty = "ATOLL_STDERR_TTY";

/// stderr is a terminal, or a pipe to an atoll launch whose stderr is one.
inline bool stderr_is_terminal() {
  if (::isatty(STDERR_FILENO) != 0) return true;
  const char* launcher = std::getenv(kEnvStderrTty);
  return launcher != nullptr && std::string_view(launcher) == "1";
}

}  // namespace atl
