// Transparent huge pages for the atoll process and its ranks. Where the kernel gives them only
// on request (THP "madvise", Debian's default), glibc's malloc asks for them when the tunable
// glibc.malloc.hugetlb=1 is set at process start; the graph's arrays (hundreds of MB) then fault
// in 2 MB at a time instead of 4 KB, and random accesses over them miss the TLB less.
#pragma once

#include <string>

namespace atl::cli {

/// Re-executes this program once with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES, unless it
/// is named there already (the user's value stands), ATOLL_HUGE_PAGES=0, the kernel has THP
/// off, the build is sanitized (its allocator ignores the tunable), the program is privileged
/// (the loader ignores it), or it was not started directly (through ld.so, under valgrind).
/// Returns, with the environment as it was, when it does not re-execute or the exec fails.
/// Ranks the launcher starts inherit the variable, so they start with it and need no re-exec.
void use_huge_pages(char** argv);

/// For `atoll doctor`: "on (...)" when this process runs with the tunable, else "off (why)".
std::string huge_pages_state();

}  // namespace atl::cli
