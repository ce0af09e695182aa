// CPU time a virtual machine's hypervisor kept from its CPUs while they had work ("steal" in
// Linux's /proc/stat). On a shared host it stretches every wall-clock timing (this project's
// test machines freeze both CPUs for about 100 ms at a time), so runs report it beside their
// seconds and comparisons can set such runs apart.
#pragma once

#include <string_view>

namespace atl {

/// Stolen CPU time of this machine (all CPUs summed) since construction.
class StolenTime {
 public:
  StolenTime();
  /// Seconds stolen since construction; 0 where the system does not report steal.
  double seconds() const;

 private:
  double start_;
};

/// The steal seconds in the text of /proc/stat (its first, "cpu " line, eighth number) at
/// `ticks_per_second`; 0 when the text has no such field.
double steal_seconds_in(std::string_view proc_stat, long ticks_per_second);

}  // namespace atl
