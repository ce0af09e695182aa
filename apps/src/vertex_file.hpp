// Small per-vertex input files (priors, seeds, right-hand sides): lines "gid v1 ... vW", blank
// lines and lines starting with '#' or '%' skipped. Every rank reads the whole file and keeps
// the lines of its owned vertices; every error is "FILE:LINE: ..." (exit 1) and, on several
// ranks, the same on every rank.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "atoll/graph/topology.hpp"

namespace atl {

struct Cluster;

/// What the values of a line must be.
struct VertexFileSpec {
  std::size_t width = 1;  ///< values after the gid
  enum class Rule { kFinite, kNonNegative, kIndexBelow } rule = Rule::kFinite;
  std::size_t bound = 0;             ///< kIndexBelow: values are integers in 0..bound-1
  bool some_positive = false;        ///< at least one value of a line must be > 0
  const char* value_name = "value";  ///< in messages: "prior", "seed type", ...
  const char* width_flag = "";       ///< the option that fixed width, e.g. "--states 3"
};

/// The owned vertices that have a line, in file order, and their values (width per row).
struct VertexRows {
  std::vector<Lid> lids;
  std::vector<double> values;
};

/// With a cluster, collective: a gid no rank owns is an error on every rank.
VertexRows read_vertex_rows(const std::string& path, const VertexFileSpec& spec,
                            const Topology& graph, Cluster* cluster);

}  // namespace atl
