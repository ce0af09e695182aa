// The MANIFEST of a checkpoint epoch: a small text file rank 0 writes last. It names what the
// epoch holds (engine, app and options, data types, graph digest), each rank's file with its
// size and CRC32C, and the values every rank shares; its last line is a checksum of the rest.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "atoll/engine/checkpoint_store.hpp"
#include "checkpoint_file.hpp"

namespace atl::detail {

struct Manifest {
  std::uint64_t epoch = 0;
  std::uint64_t iteration = 0;
  CheckpointShape shape;
  std::vector<WrittenFile> files;  ///< by rank; its size is the rank count
  std::map<std::string, std::string> state;
  CheckpointTopology topology;  ///< the line "topology V E W" when saved
};

std::string format_manifest(const Manifest& m);
/// Parses a manifest; errors start with `what` and say what is wrong.
Manifest parse_manifest(std::string_view text, const std::string& what);
/// Empty when `saved` can be resumed by a run of shape `now`, else why not.
std::string shape_mismatch(const CheckpointShape& saved, const CheckpointShape& now);

}  // namespace atl::detail
