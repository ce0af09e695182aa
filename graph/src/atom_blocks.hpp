// The block framing shared by atom files and the atom index: a fixed header, then blocks
// (a 24-byte block header, a payload of at most 1 MiB of records, zero padding to 8 bytes),
// then an end block. Each block carries the CRC32C of its payload, so corruption is located
// to a block.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atoll/common/temp_file.hpp"
#include "atom_format.hpp"

namespace atl::detail {

/// "vertices", "edges", ... for error messages ("unknown" for other values).
std::string_view block_kind_name(std::uint32_t kind);

/// Streams a block-structured file and tracks the size and CRC32C of all it wrote.
class BlockWriter {
 public:
  explicit BlockWriter(TempFile& file);

  /// Bytes outside any block (the file header).
  void write_raw(const void* data, std::size_t size);

  /// Writes count records of record_size bytes as blocks of `kind`; fill(dst, first, n)
  /// writes records [first, first + n) to dst.
  template <typename Fill>
  void write_records(BlockKind kind, std::uint64_t count, std::size_t record_size, Fill&& fill) {
    const std::size_t per_block = kMaxBlockPayload / record_size;
    for (std::uint64_t first = 0; first < count; first += per_block) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(per_block, count - first));
      fill(buffer_.data() + sizeof(BlockHeader), first, n);
      emit(kind, n, n * record_size);
    }
  }

  /// Writes count records as blocks of `kind` in a variable-length encoding: encode(dst, first)
  /// encodes records from `first` on into at most kMaxBlockPayload bytes at dst and returns
  /// what it wrote (an EncodedBlock: at least one record while any are left).
  template <typename Encode>
  void write_encoded(BlockKind kind, std::uint64_t count, Encode&& encode) {
    for (std::uint64_t first = 0; first < count;) {
      const auto block = encode(buffer_.data() + sizeof(BlockHeader), first);
      emit(kind, block.records, block.bytes);
      first += block.records;
    }
  }

  /// Writes the end block. Nothing may be written after it.
  void finish();

  std::uint64_t bytes() const { return bytes_; }
  std::uint32_t crc() const { return crc_; }

 private:
  void emit(BlockKind kind, std::size_t records, std::size_t payload_bytes);

  TempFile& file_;
  std::vector<unsigned char> buffer_;  ///< block header, payload, padding
  std::uint64_t bytes_ = 0;
  std::uint32_t crc_ = 0;
  std::uint64_t blocks_ = 0;
};

/// A whole file read into memory.
struct FileBytes {
  std::unique_ptr<unsigned char[]> data;
  std::size_t size = 0;
  std::size_t capacity = 0;  ///< bytes allocated at data
  std::span<const unsigned char> span() const { return {data.get(), size}; }
};

/// Reads path; `what` ("atom file 'PATH'") starts error messages. A missing file is an error
/// that says so. The bytes go into `reuse`'s buffer when it is large enough.
FileBytes read_file_bytes(const std::string& path, const std::string& what, FileBytes reuse = {});

/// One block found in a file.
struct Block {
  std::uint64_t number = 0;  ///< 0-based position among the file's blocks
  std::uint32_t kind = 0;
  std::uint32_t records = 0;
  std::uint64_t offset = 0;  ///< byte offset of the block header in the file
  const unsigned char* payload = nullptr;
  std::size_t payload_bytes = 0;
  std::uint32_t payload_crc = 0;
};

/// "block 3 (edges) at byte 1048704".
std::string describe(const Block& block);

/// Walks the blocks from byte `start` up to and including the end block: checks every block
/// header's checksum and bounds, the padding, the end block's count, and that the file ends
/// right after it. Payload checksums are left to verify_payload (callers run it in parallel).
/// The end block is not returned. Errors start with `what` and name the block.
std::vector<Block> scan_blocks(std::span<const unsigned char> bytes, std::size_t start,
                               const std::string& what);

/// Checks the block's payload checksum; errors start with `what` and name the block.
void verify_payload(const Block& block, const std::string& what);

/// Checks magic and version (the first 12 bytes of every version of the format); a future
/// version gets an error saying a newer Atoll wrote it.
void check_identity(std::span<const unsigned char> bytes, const char (&magic)[8],
                    std::uint32_t version, std::size_t header_size, std::string_view kind_name,
                    const std::string& what);

}  // namespace atl::detail
