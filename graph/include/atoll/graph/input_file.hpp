// The bytes of an input file, decompressed transparently (zstd or gzip, by magic number).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace atl {

enum class Compression { kNone, kZstd, kGzip };

/// Read-only bytes of a whole file: memory-mapped when plain, decompressed when compressed.
class InputFile {
 public:
  /// Opens path; throws an Error naming the file when it is missing, unreadable, or a
  /// compressed stream that is corrupt or truncated.
  static InputFile open(const std::string& path);

  std::string_view bytes() const { return bytes_; }
  const std::string& path() const { return path_; }
  Compression compression() const { return compression_; }
  /// Drops the resident pages of bytes [offset, offset + length) of a mapped (uncompressed)
  /// file: whole pages only, read again from the page cache on the next access, so a reader
  /// that has finished a range can keep the process's memory down. No-op when decompressed.
  void release(std::size_t offset, std::size_t length) const;

  // Defined in input_file.cpp, where Storage is complete (so callers can move an InputFile).
  InputFile(InputFile&&) noexcept;
  InputFile& operator=(InputFile&&) noexcept;
  ~InputFile();

 private:
  InputFile() = default;
  struct Storage;
  std::string path_;
  Compression compression_ = Compression::kNone;
  std::unique_ptr<Storage> storage_;
  std::string_view bytes_;
};

/// Decompresses a zstd or gzip buffer (detected by magic); `name` is used in errors.
std::string decompress(std::string_view compressed, Compression kind, std::string_view name);

/// Compression detected from the first bytes.
Compression detect_compression(std::string_view bytes);

}  // namespace atl
