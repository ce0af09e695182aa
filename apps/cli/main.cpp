#include "commands.hpp"

namespace atl::cli {
extern const char* const kVersion;  // atoll_version.cpp, generated at build time
}

int main(int argc, char** argv) {
  return atl::cli::run_cli(argc, argv, atl::cli::kVersion);
}
