#include "atoll/engine/progress_line.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "atoll/common/log.hpp"
#include "atoll/common/terminal.hpp"

namespace atl {
namespace {

/// 1234567 -> "1.23M" (k, M, G: decimal, as network rates are).
std::string si(double value) {
  const char* units[] = {"", "k", "M", "G", "T"};
  int u = 0;
  while (std::abs(value) >= 1000 && u < 4) {
    value /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.3g%s", value, units[u]);
  return buf;
}

}  // namespace

ProgressLine::ProgressLine(bool enabled, const char* unit)
    : enabled_(enabled && log_level() >= LogLevel::kInfo),
      in_place_(stderr_is_terminal() && log_level() < LogLevel::kDebug),
      unit_(unit) {}

ProgressLine::~ProgressLine() {
  if (enabled_ && in_place_ && printed_) std::fputc('\n', stderr);
}

void ProgressLine::report(const IterationRecord& r, std::uint64_t bytes_sent) {
  if (!enabled_) return;
  const double rate = r.seconds > 0 ? static_cast<double>(r.updates) / r.seconds : 0;
  const std::string residual = std::isnan(r.residual) ? std::string("-") : [&] {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", r.residual);
    return std::string(buf);
  }();
  if (in_place_) {
    // \r to the line's start, \033[K clears what a longer previous line left behind.
    std::fprintf(stderr,
                 "\ratoll: %s %llu | %s updates/s | residual %s | %sB sent | %.1f s elapsed\033[K",
                 unit_, static_cast<unsigned long long>(r.iteration), si(rate).c_str(),
                 residual.c_str(), si(static_cast<double>(bytes_sent)).c_str(), elapsed_.seconds());
  } else {
    std::fprintf(stderr,
                 "atoll: %s %llu: %llu updates, %.3f s, %s updates/s, residual %s, %llu bytes "
                 "sent, %.3f s elapsed\n",
                 unit_, static_cast<unsigned long long>(r.iteration),
                 static_cast<unsigned long long>(r.updates), r.seconds, si(rate).c_str(),
                 residual.c_str(), static_cast<unsigned long long>(bytes_sent), elapsed_.seconds());
  }
  std::fflush(stderr);
  printed_ = true;
}

void ProgressLine::live(std::uint64_t iteration, std::uint64_t updates, std::uint64_t bytes_sent) {
  if (!enabled_ || !in_place_) return;
  const double now = elapsed_.seconds();
  if (now < next_live_) return;
  const double rate = now > live_seconds_ && updates >= live_updates_
                          ? static_cast<double>(updates - live_updates_) / (now - live_seconds_)
                          : 0;
  next_live_ = now + 0.25;
  live_seconds_ = now;
  live_updates_ = updates;
  std::fprintf(stderr,
               "\ratoll: %s %llu (running) | %s updates/s on this rank | %sB sent | %.1f s "
               "elapsed\033[K",
               unit_, static_cast<unsigned long long>(iteration), si(rate).c_str(),
               si(static_cast<double>(bytes_sent)).c_str(), now);
  std::fflush(stderr);
  printed_ = true;
}

}  // namespace atl
