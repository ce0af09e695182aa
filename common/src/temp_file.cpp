#include "atoll/common/temp_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "atoll/common/error.hpp"

namespace atl {
namespace {
constexpr std::size_t kMaxChunk = std::size_t{1} << 30;  // Linux caps one write at ~2 GiB
}  // namespace

TempFile::TempFile(std::string path, std::string what)
    : path_(std::move(path)),
      tmp_(path_ + ".tmp." + std::to_string(::getpid())),
      what_(std::move(what)) {
  open_new();
}

TempFile::TempFile(std::string path, std::string what, const std::string& recycled)
    : path_(std::move(path)),
      tmp_(path_ + ".tmp." + std::to_string(::getpid())),
      what_(std::move(what)) {
  struct stat st;
  if (!recycled.empty() && ::stat(path_.c_str(), &st) != 0 && ::lstat(recycled.c_str(), &st) == 0 &&
      S_ISREG(st.st_mode) && ::rename(recycled.c_str(), tmp_.c_str()) == 0) {
    file_ = Fd(::open(tmp_.c_str(), O_WRONLY | O_CLOEXEC));
    if (file_) {
      recycled_ = true;
      return;
    }
    ::unlink(tmp_.c_str());  // not writable: a new file instead
  }
  open_new();
}

void TempFile::open_new() {
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    direct_ = true;
    tmp_ = path_;
    file_ = Fd(::open(path_.c_str(), O_WRONLY | O_CLOEXEC));
    if (!file_) fail_errno(str_cat("cannot open '", path_, "'"));
    return;
  }
  file_ = Fd(::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!file_) fail_errno(str_cat("cannot create temporary file '", tmp_, "'"));
}

TempFile::~TempFile() {
  if (!committed_ && !direct_) {
    file_.reset();
    ::unlink(tmp_.c_str());
  }
}

void TempFile::write(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const std::size_t chunk = std::min(size, kMaxChunk);
    const ssize_t n = ::write(file_.get(), p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(str_cat("cannot write '", tmp_, "'"));
    }
    if (n == 0) {  // no progress on a regular file: report instead of spinning
      errno = EIO;
      fail_errno(str_cat("cannot write '", tmp_, "'"));
    }
    p += n;
    size -= static_cast<std::size_t>(n);
    written_ += static_cast<std::size_t>(n);
  }
}

void TempFile::write_uncached(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::byte*>(data);
#if defined(__linux__)
  constexpr std::size_t kBlock = 4096;
  const std::size_t whole = size / kBlock * kBlock;
  const int flags = direct_ ? -1 : ::fcntl(file_.get(), F_GETFL);
  if (flags >= 0 && whole > 0 && written_ % kBlock == 0 &&
      reinterpret_cast<std::uintptr_t>(p) % kBlock == 0 &&
      ::fcntl(file_.get(), F_SETFL, flags | O_DIRECT) == 0) {
    std::size_t done = 0;
    while (done < whole) {
      const ssize_t n = ::write(file_.get(), p + done, std::min(whole - done, kMaxChunk));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL) break;  // refused by this file system: buffered below
      if (n < 0) fail_errno(str_cat("cannot write '", tmp_, "'"));
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) % kBlock != 0) break;  // short: finish buffered
    }
    ::fcntl(file_.get(), F_SETFL, flags);
    written_ += done;
    p += done;
    size -= done;
  }
#endif
  write(p, size);
}

void TempFile::commit(bool sync_dir) {
  if (direct_) {
    const int fd = file_.release();
    committed_ = true;
    if (::close(fd) != 0) fail_errno(str_cat("cannot close '", path_, "'"));
    return;
  }
  if (recycled_ && ::ftruncate(file_.get(), static_cast<off_t>(written_)) != 0) {
    fail_errno(str_cat("cannot cut '", tmp_, "' to its size"));
  }
  if (::fsync(file_.get()) != 0) fail_errno(str_cat("cannot sync '", tmp_, "'"));
  const int fd = file_.release();
  if (::close(fd) != 0) fail_errno(str_cat("cannot close '", tmp_, "'"));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    fail_errno(str_cat("cannot rename '", tmp_, "' to '", path_, "'"));
  }
  committed_ = true;
  if (sync_dir) {
    const std::size_t slash = path_.rfind('/');
    sync_directory(slash == std::string::npos ? std::string(".")
                                              : path_.substr(0, slash == 0 ? 1 : slash));
  }
}

void TempFile::fail_errno(std::string_view action) const {
  const int err = errno;
  fail("cannot write ", what_, " to '", path_, "': ", action, ": ", std::strerror(err));
}

void sync_directory(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
}

}  // namespace atl
