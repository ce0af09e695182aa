// One rank's file of a checkpoint epoch: a 48-byte header, then blocks of fixed-size records
// (vertices, edges, messages), each with a 24-byte header carrying the CRC32C of its payload,
// then an end block. Corruption is located to a block; a truncated file has no end block.
// Vertex records begin with a CheckpointVertexHeader; a block of them whose headers differ only
// in the gid stores the rest of the header once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace atl::detail {

enum class CheckpointSection : std::uint32_t { kVertices = 1, kEdges = 2, kMessages = 3 };

/// Record sizes of the three sections (the manifest records them too).
struct CheckpointRecordSizes {
  std::uint32_t vertex = 0;
  std::uint32_t edge = 0;
  std::uint32_t message = 0;
};

/// The three sections of one file, each a run of whole records.
struct CheckpointSections {
  std::vector<std::byte> vertices;
  std::vector<std::byte> edges;
  std::vector<std::byte> messages;
};

/// The three sections to write, viewed in place.
struct CheckpointSectionViews {
  std::span<const std::byte> vertices;
  std::span<const std::byte> edges;
  std::span<const std::byte> messages;
};
inline CheckpointSectionViews views_of(const CheckpointSections& s) {
  return {s.vertices, s.edges, s.messages};
}

/// What writing a file produced, for the manifest.
struct WrittenFile {
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;  ///< CRC32C of the whole file
};

/// Writes `sections` to path (temporary name, fsync, rename), laid out in `scratch` first
/// and written past the page cache where the file system allows it; over the old file
/// `recycled` when it exists (TempFile). Errors name the path.
WrittenFile write_checkpoint_file(const std::string& path, std::uint64_t epoch, int rank, int ranks,
                                  const CheckpointRecordSizes& sizes,
                                  const CheckpointSectionViews& sections,
                                  std::vector<std::byte>& scratch,
                                  const std::string& recycled = {});
WrittenFile write_checkpoint_file(const std::string& path, std::uint64_t epoch, int rank, int ranks,
                                  const CheckpointRecordSizes& sizes,
                                  const CheckpointSectionViews& sections);

/// Reads and checks path: header, every block's checksums and bounds, the record sizes
/// against `sizes`, the end block, and (when expected.bytes > 0) size and whole-file CRC
/// against the manifest. Errors name the file, the block and the reason. Appends the
/// records to `into`.
void read_checkpoint_file(const std::string& path, std::uint64_t epoch,
                          const CheckpointRecordSizes& sizes, const WrittenFile& expected,
                          CheckpointSections& into);

}  // namespace atl::detail
