// Summaries of an atom directory for `atoll partition` and `atoll info DIR`.
#pragma once

#include <cstdint>
#include <filesystem>

#include "atoll/common/json_writer.hpp"
#include "atoll/graph/atoms.hpp"

namespace atl::cli {

/// Sizes of a cut, from its index.
struct AtomSummary {
  std::uint64_t cut_edges = 0;  ///< edges whose endpoints lie in different atoms
  double cut_fraction = 0;      ///< cut_edges / edges (0 for no edges)
  std::uint64_t min_edges = 0, max_edges = 0;
  double mean_edges = 0;
  double imbalance = 0;  ///< max atom edges / mean atom edges (1 = perfect; 0 for no edges)
  std::uint64_t min_vertices = 0, max_vertices = 0;
  double mean_vertices = 0;
  std::uint64_t ghosts = 0;  ///< summed over atoms
  std::uint64_t empty_atoms = 0;
  std::uint64_t bytes = 0;  ///< atom files (without the index)
};
AtomSummary summarize(const AtomIndex& index);

/// Adds the summary's fields to an open JSON object.
void add_summary_fields(JsonWriter& json, const AtomSummary& s);
/// Prints the summary's lines (cut edges, atom sizes, ghosts, files) to stdout.
void print_summary_lines(const AtomSummary& s);

struct AtomDirInfoOptions {
  bool json = false;
  bool verify = false;  ///< read and check every atom file too
  int ranks = 0;        ///< > 0: also show the placement over this many ranks
};
/// `atoll info DIR` on an atom directory: prints its index (text or one JSON object).
void print_atom_dir_info(const std::filesystem::path& dir, const AtomDirInfoOptions& options);

}  // namespace atl::cli
