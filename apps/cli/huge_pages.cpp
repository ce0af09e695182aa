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

/// Whether the kernel gives transparent huge pages to a process that asks (not "[never]").
bool kernel_offers_thp() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(in, modes)) return false;
  return modes.find("[never]") == std::string::npos;
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

}  // namespace atl::cli
