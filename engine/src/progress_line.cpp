#include "atoll/engine/progress_line.hpp"

#include <unistd.h>

#include <cstdio>

#include "atoll/common/log.hpp"

namespace atl {

ProgressLine::ProgressLine(bool enabled, const char* unit)
    : enabled_(enabled && log_level() >= LogLevel::kInfo),
      tty_(::isatty(STDERR_FILENO) != 0),
      unit_(unit) {}

ProgressLine::~ProgressLine() {
  if (enabled_ && tty_ && printed_) std::fputc('\n', stderr);
}

void ProgressLine::report(const IterationRecord& r) {
  if (!enabled_) return;
  std::fprintf(stderr, "%satoll: %s %llu: %llu updates, %.3f s, residual %g%s", tty_ ? "\r" : "",
               unit_, static_cast<unsigned long long>(r.iteration),
               static_cast<unsigned long long>(r.updates), r.seconds, r.residual,
               tty_ ? "   " : "\n");
  printed_ = true;
}

}  // namespace atl
