#include "commands.hpp"
#include "huge_pages.hpp"

#if defined(ATOLL_STD_THREAD_WORKERS)
#include <tbb/global_control.h>
#endif

namespace atl::cli {
extern const char* const kVersion;  // atoll_version.cpp, generated at build time
}

int main(int argc, char** argv) {
  atl::cli::use_huge_pages(argv);  // re-executes once with malloc's huge pages (huge_pages.hpp)
#if defined(ATOLL_STD_THREAD_WORKERS)
  // ThreadSanitizer build: TBB runs everything on its caller (see worker_pool.hpp).
  tbb::global_control serial_tbb(tbb::global_control::max_allowed_parallelism, 1);
#endif
  return atl::cli::run_cli(argc, argv, atl::cli::kVersion);
}
