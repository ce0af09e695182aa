#include "output_path.hpp"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "atoll/common/error.hpp"

namespace atl::cli {

void check_output_path(const std::string& path, std::string_view flag) {
  if (path.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    usage_fail(flag, " ", path, ": is a directory (give a file name)");
  }
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::exists(dir, ec)) {
    usage_fail(flag, " ", path, ": directory ", dir.string(), " does not exist");
  }
  if (!fs::is_directory(dir, ec)) {
    usage_fail(flag, " ", path, ": ", dir.string(), " is not a directory");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    usage_fail(flag, " ", path, ": directory ", dir.string(), " is not writable");
  }
  if (fs::exists(path, ec) && ::access(path.c_str(), W_OK) != 0) {
    usage_fail(flag, " ", path, ": file exists and is not writable");
  }
}

}  // namespace atl::cli
