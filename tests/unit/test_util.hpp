// Shared helpers for the unit tests: temporary directories, files, compression, running the
// `atoll` binary, locating shared data sets and running code under a fixed thread count.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "atoll/common/error.hpp"
#include "atoll/graph/input_file.hpp"

namespace atl::test {

/// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/atoll-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
    }
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }
  /// path()/name.
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

/// Writes bytes to path (truncating); throws on failure.
inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

/// The whole content of path; throws when it cannot be read.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// One zstd frame (content size recorded in the header); checksum adds a content checksum.
inline std::string zstd_compress(std::string_view data, int level = 3, bool checksum = false) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t n = ZSTD_compress2(ctx, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(ctx);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

/// One zstd frame written by the streaming API in pieces, so the header carries no content
/// size (the decoder must grow its buffer).
inline std::string zstd_compress_unknown_size(std::string_view data) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  std::string out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  const std::size_t piece = 1 << 16;
  std::size_t pos = 0;
  bool done = false;
  while (!done) {
    std::size_t len = std::min(piece, data.size() - pos);
    bool last = pos + len == data.size();
    ZSTD_inBuffer in{data.data() + pos, len, 0};
    ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
    while (true) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      std::size_t rest = ZSTD_compressStream2(ctx, &o, &in, mode);
      if (ZSTD_isError(rest)) {
        ZSTD_freeCCtx(ctx);
        throw std::runtime_error(ZSTD_getErrorName(rest));
      }
      out.append(buf.data(), o.pos);
      if (last ? rest == 0 : in.pos == in.size) break;
    }
    pos += len;
    done = last;
  }
  ZSTD_freeCCtx(ctx);
  return out;
}

/// One gzip member (deflate with a gzip wrapper: windowBits 15 + 16).
inline std::string gzip_compress(std::string_view data, int level = 6) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int ret = deflate(&zs, Z_FINISH);
  std::size_t n = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (ret != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  out.resize(n);
  return out;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs cmd through /bin/sh with stdout and stderr captured to temporary files.
inline CommandResult run_command(const std::string& cmd) {
  TempDir dir;
  std::string out_path = dir.file("stdout");
  std::string err_path = dir.file("stderr");
  std::string full = "(" + cmd + ") >'" + out_path + "' 2>'" + err_path + "' </dev/null";
  int status = std::system(full.c_str());
  CommandResult result;
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

/// Path of a file in the shared data directory, or "" when it is not there.
inline std::string shared_data(std::string_view name) {
  std::string path = std::string(ATOLL_SHARED_DATA) + "/" + std::string(name);
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) ? path : std::string();
}

/// The decompressed bytes of a graph file (via atl::InputFile).
inline std::string file_bytes(const std::string& path) {
  atl::InputFile file = atl::InputFile::open(path);
  return std::string(file.bytes());
}

/// Runs fn with at most `threads` TBB workers: a global_control caps the process and an
/// explicit arena makes this_task_arena::max_concurrency() (which sizes parse chunks) agree.
template <typename Fn>
auto with_threads(int threads, Fn&& fn) {
  tbb::global_control control(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  return arena.execute(std::forward<Fn>(fn));
}

/// The message of the atl::Error thrown by fn; "<no throw>" or "<not atl::Error: ...>" else.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const atl::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not atl::Error: ") + e.what() + ">";
  }
  return "<no throw>";
}

}  // namespace atl::test
