#include "atoll/common/stolen_time.hpp"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <string>

namespace atl {
namespace {

/// Steal seconds so far on this machine, 0 when unknown.
double stolen_so_far() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return 0;
  return steal_seconds_in(line, ::sysconf(_SC_CLK_TCK));
}

}  // namespace

double steal_seconds_in(std::string_view text, long ticks_per_second) {
  constexpr std::string_view kPrefix = "cpu ";
  if (ticks_per_second <= 0 || !text.starts_with(kPrefix)) return 0;
  text.remove_prefix(kPrefix.size());
  // user nice system idle iowait irq softirq steal ...
  unsigned long long value = 0;
  for (int field = 0; field < 8; ++field) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || (end != text.data() + text.size() && *end != ' ' && *end != '\n')) {
      return 0;
    }
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  }
  return static_cast<double>(value) / static_cast<double>(ticks_per_second);
}

StolenTime::StolenTime() : start_(stolen_so_far()) {}

double StolenTime::seconds() const {
  const double now = stolen_so_far();
  return now > start_ ? now - start_ : 0;
}

}  // namespace atl
