#include "huge_pages.hpp"

#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace atl::cli {
namespace {

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ATOLL_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ATOLL_SANITIZED 1
#endif

constexpr const char* kTunable = "glibc.malloc.hugetlb";
/// Set just before the re-exec, removed by the new image: a second exec is never tried (a
/// loader that drops the tunable, e.g. for a privileged program, cannot make it loop).
constexpr const char* kExecMark = "ATOLL_HUGE_PAGES_EXEC";

/// What this process started with, recorded before use_huge_pages changes anything.
bool started_with_tunable = false;
std::string not_used_because;  ///< why the re-exec was not made or failed ("" when it was)

/// The kernel's THP mode ("always", "madvise", "never"; "" when unknown).
std::string kernel_thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(in, modes)) return "";
  const auto open = modes.find('[');
  const auto close = modes.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return modes.substr(open + 1, close - open - 1);
}

bool tunable_named(const char* tunables) {
  return tunables != nullptr && std::string(tunables).find(kTunable) != std::string::npos;
}

/// The file mapped at `address` in this process (/proc/self/maps), "" when not found.
std::string mapped_file(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) != 2 || at < lo || at >= hi) continue;
    const auto slash = line.find('/');
    return slash == std::string::npos ? "" : line.substr(slash);
  }
  return "";
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/// This program's file, when the kernel ran it directly: not through the dynamic loader
/// (`ld.so ./atoll`) or under a tool such as valgrind, where /proc/self/exe is another program.
[[maybe_unused]] std::string own_executable() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "";
  path[n] = '\0';
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload != nullptr && std::strstr(preload, "vgpreload") != nullptr) return "";  // valgrind
  const std::string code = mapped_file(reinterpret_cast<const void*>(&kernel_thp_mode));
  return !code.empty() && same_file(path, code) ? std::string(path) : "";
}

}  // namespace

void use_huge_pages(char** argv) {
  started_with_tunable = tunable_named(std::getenv("GLIBC_TUNABLES"));
  const bool after_exec = std::getenv(kExecMark) != nullptr;
  ::unsetenv(kExecMark);  // the ranks this process starts decide afresh (they inherit the tunable)
#if defined(ATOLL_SANITIZED)
  (void)argv;
  (void)after_exec;
  not_used_because = "sanitized build";
#else
  const char* opt_out = std::getenv("ATOLL_HUGE_PAGES");
  if (opt_out != nullptr && std::string(opt_out) == "0") {
    not_used_because = "ATOLL_HUGE_PAGES=0";
    return;
  }
  if (started_with_tunable) return;  // set by the user (their choice stands) or by our exec
  if (after_exec) {
    not_used_because = "the loader dropped the tunable";
    return;
  }
  const std::string mode = kernel_thp_mode();
  if (mode != "always" && mode != "madvise") {
    not_used_because = "kernel THP mode " + (mode.empty() ? std::string("unknown") : mode);
    return;
  }
  if (::getauxval(AT_SECURE) != 0) {  // the loader ignores GLIBC_TUNABLES for such a program
    not_used_because = "privileged program";
    return;
  }
  const std::string exe = own_executable();
  if (exe.empty()) {
    not_used_because = "not started directly (loader or tool)";
    return;
  }
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  std::string value = tunables != nullptr && *tunables != '\0' ? std::string(tunables) + ":" : "";
  value += std::string(kTunable) + "=1";
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0 || ::setenv(kExecMark, "1", 1) != 0) {
    not_used_because = "setenv failed";
    return;
  }
  ::execv(exe.c_str(), argv);  // the path, not /proc/self/exe: the process keeps its name
  const int error = errno;
  // exec failed: run on as we are, with the environment we started with.
  if (tunables != nullptr) {
    ::setenv("GLIBC_TUNABLES", tunables, 1);
  } else {
    ::unsetenv("GLIBC_TUNABLES");
  }
  ::unsetenv(kExecMark);
  not_used_because = std::string("re-exec failed: ") + std::strerror(error);
#endif
}

std::string huge_pages_state() {
  const std::string mode = kernel_thp_mode();
  const std::string kernel = "kernel THP mode " + (mode.empty() ? std::string("unknown") : mode);
  if (started_with_tunable && not_used_because.empty()) {
    const std::string tunables = std::getenv("GLIBC_TUNABLES") ? std::getenv("GLIBC_TUNABLES") : "";
    const std::string set = std::string(kTunable) + "=";
    const auto at = tunables.find(set);
    if (at != std::string::npos && tunables.compare(at + set.size(), 1, "0") == 0) {
      return "off (GLIBC_TUNABLES sets " + set + "0)";
    }
    return "on (GLIBC_TUNABLES names " + std::string(kTunable) + ", " + kernel + ")";
  }
  return "off (" + (not_used_because.empty() ? kernel : not_used_because) + ")";
}

}  // namespace atl::cli
