// The graph a command reads, named as a positional GRAPH or as --graph GRAPH.
#pragma once

#include <string>

#include "atoll/common/error.hpp"

namespace atl::cli {

/// The one graph given to `command` (positional or --graph); a usage Error when there is none
/// or when the two name different graphs.
inline std::string one_graph(const std::string& command, const std::string& positional,
                             const std::string& flag) {
  if (!positional.empty() && !flag.empty() && positional != flag) {
    usage_fail(command, ": two graphs named: '", positional, "' and --graph '", flag,
               "' (give one)");
  }
  const std::string graph = positional.empty() ? flag : positional;
  if (graph.empty()) {
    usage_fail(command, " needs a graph: atoll ", command,
               " GRAPH (or --graph GRAPH), a graph file or an atom directory");
  }
  return graph;
}

}  // namespace atl::cli
