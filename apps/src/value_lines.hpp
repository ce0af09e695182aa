// Writing "gid<TAB>value" lines: a regular file under a temporary name, renamed into place.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "atoll/graph/ids.hpp"

namespace atl::detail {

/// Writes n lines "gids[i]<TAB>" + what append(line, i) adds; throws naming path on failure.
void write_value_lines(const std::string& path, std::size_t n, const Gid* gids,
                       const std::function<void(std::string& line, std::size_t i)>& append);

/// Appends d in shortest round-trip form ("inf", "-inf" for infinities).
void append_double(std::string& out, double d);
void append_unsigned(std::string& out, std::uint64_t u);

}  // namespace atl::detail
