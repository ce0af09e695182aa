#include "huge_pages.hpp"

#include <unistd.h>

#include <cstdlib>
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

/// Whether the kernel gives transparent huge pages to a process that asks.
bool kernel_offers_thp() {
  const std::string mode = kernel_thp_mode();
  return mode == "always" || mode == "madvise";
}

bool tunable_set() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr &&
         std::string(tunables).find(std::string(kTunable) + "=1") != std::string::npos;
}

}  // namespace

void use_huge_pages(char** argv) {
#if defined(ATOLL_SANITIZED)
  (void)argv;
#else
  const char* opt_out = std::getenv("ATOLL_HUGE_PAGES");
  if (opt_out != nullptr && std::string(opt_out) == "0") return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  std::string value = tunables != nullptr ? tunables : "";
  if (value.find(kTunable) != std::string::npos) return;  // set: by us before exec, or the user
  if (!kernel_offers_thp()) return;
  value += value.empty() ? "" : ":";
  value += std::string(kTunable) + "=1";
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc, say): run on without; the ranks still start with the tunable.
#endif
}

std::string huge_pages_state() {
  const std::string mode = kernel_thp_mode();
  const std::string kernel = "kernel THP mode " + (mode.empty() ? "unknown" : mode);
#if defined(ATOLL_SANITIZED)
  return "off (sanitized build; " + kernel + ")";
#else
  if (tunable_set()) return "on (GLIBC_TUNABLES " + std::string(kTunable) + "=1, " + kernel + ")";
  const char* opt_out = std::getenv("ATOLL_HUGE_PAGES");
  if (opt_out != nullptr && std::string(opt_out) == "0") return "off (ATOLL_HUGE_PAGES=0)";
  return "off (" + kernel + ")";
#endif
}

}  // namespace atl::cli
