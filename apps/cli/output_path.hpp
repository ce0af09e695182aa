// Checks that an output path can be written, before any (possibly long) work starts.
#pragma once

#include <string>
#include <string_view>

namespace atl::cli {

/// Throws a usage Error naming `flag` and the reason when `path` cannot be created: its
/// directory is missing, is not a directory or is not writable, or path is a directory.
/// An empty path (the option was not given) passes.
void check_output_path(const std::string& path, std::string_view flag);

}  // namespace atl::cli
