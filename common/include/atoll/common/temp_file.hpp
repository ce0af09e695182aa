// An output file written under a temporary name ("<path>.tmp.<pid>"), fsynced and renamed
// over its final path by commit(); removed when destroyed uncommitted. Readers never see a
// partially written file. A path that exists and is not a regular file (/dev/null, a FIFO)
// is written directly and never replaced.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "atoll/common/fd.hpp"

namespace atl {

class TempFile {
 public:
  /// Creates the temporary file. `what` names the content in errors ("cannot write WHAT to
  /// 'PATH': ...").
  explicit TempFile(std::string path, std::string what = "graph");
  /// The same, but made from the regular file `recycled` when there is one (moved to the
  /// temporary name and overwritten, its disk blocks reused instead of freed and allocated
  /// again); else a new file.
  TempFile(std::string path, std::string what, const std::string& recycled);
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  /// Writes all of data, retrying partial writes and EINTR.
  void write(const void* data, std::size_t size);
  void write(std::string_view s) { write(s.data(), s.size()); }

  /// Writes all of data like write(), but past the page cache (O_DIRECT) for its whole 4 KiB
  /// blocks when data and the file offset are 4 KiB-aligned and the file system allows it.
  void write_uncached(const void* data, std::size_t size);


  /// Flushes to disk, closes and renames the temporary file over path; then syncs the parent
  /// directory (best effort) when sync_dir is set.
  void commit(bool sync_dir = true);

  const std::string& path() const { return path_; }

 private:
  void open_new();
  [[noreturn]] void fail_errno(std::string_view action) const;

  std::string path_;
  std::string tmp_;
  std::string what_;
  Fd file_;
  std::size_t written_ = 0;  ///< bytes written
  bool committed_ = false;
  bool direct_ = false;    ///< writing straight to a device or FIFO
  bool recycled_ = false;  ///< overwriting an old file: cut to size at commit
};

/// Best effort: makes renames inside dir durable. Failure is ignored (the files are complete).
void sync_directory(const std::string& dir);

}  // namespace atl
