// Helpers for the multi-process tests: run a command and capture its output, and this
// executable's path (temporary directories come from test_util.hpp) (the suites start themselves as
// ranks).
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "../unit/test_util.hpp"  // TempDir

namespace atl::test {

struct Result {
  int code;            ///< exit code, or 128 + signal
  std::string output;  ///< stdout and stderr together
};

inline Result run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (pipe != nullptr && fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  int status = pipe != nullptr ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

inline std::string self_path() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n <= 0 ? "" : std::string(buf, static_cast<std::size_t>(n));
}

/// The pid of the rank of a running job whose environment has ATOLL_RANK=rank and whose
/// command line mentions marker.
inline pid_t find_rank(const std::string& marker, int rank) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmd(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(cmd)), {});
    if (cmdline.find(marker) == std::string::npos || cmdline.find("launch") != std::string::npos)
      continue;
    std::ifstream env(entry.path() / "environ");
    std::string environ((std::istreambuf_iterator<char>(env)), {});
    if (environ.find(std::string("ATOLL_RANK=") + std::to_string(rank) + '\0') !=
        std::string::npos) {
      return static_cast<pid_t>(std::stoi(name));
    }
  }
  return -1;
}

}  // namespace atl::test
