#include "atoll/graph/input_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <variant>

#include "atoll/common/error.hpp"
#include "atoll/common/fd.hpp"

namespace atl {
namespace {

/// A read-only private mapping, unmapped on destruction.
struct Mapping {
  void* addr = nullptr;
  std::size_t size = 0;
  Mapping(void* a, std::size_t s) : addr(a), size(s) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (addr != nullptr) ::munmap(addr, size);
  }
};

std::string decompress_zstd(std::string_view in, std::string_view name) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) fail(name, ": out of memory creating a zstd decoder");
  std::string out;
  unsigned long long hint = ZSTD_getFrameContentSize(in.data(), in.size());
  std::size_t capacity =
      (hint != ZSTD_CONTENTSIZE_UNKNOWN && hint != ZSTD_CONTENTSIZE_ERROR && hint < (1ull << 40))
          ? static_cast<std::size_t>(hint) + 1
          : in.size() * 4 + 4096;
  out.resize(capacity);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::size_t produced = 0;
  std::size_t last = 0;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    ZSTD_outBuffer output{out.data() + produced, out.size() - produced, 0};
    last = ZSTD_decompressStream(ctx.get(), &output, &input);
    if (ZSTD_isError(last)) {
      fail(name, ": corrupt zstd stream: ", ZSTD_getErrorName(last));
    }
    produced += output.pos;
    bool all_input_read = input.pos == input.size;
    bool output_full = output.pos == output.size;
    if (all_input_read && !output_full) break;
  }
  // A non-zero hint after all input is consumed means a frame was cut short.
  if (last != 0) fail(name, ": truncated zstd stream (the file ends inside a compressed frame)");
  out.resize(produced);
  return out;
}

std::string decompress_gzip(std::string_view in, std::string_view name) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) fail(name, ": cannot initialise the gzip decoder");
  struct Guard {
    z_stream* z;
    ~Guard() { inflateEnd(z); }
  } guard{&zs};
  std::string out;
  out.resize(in.size() * 4 + 4096);
  std::size_t produced = 0;
  std::size_t consumed = 0;
  constexpr std::size_t kMaxChunk = 1u << 30;  // avail_in/avail_out are 32-bit
  int ret = Z_OK;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    std::size_t in_chunk = std::min(in.size() - consumed, kMaxChunk);
    std::size_t out_chunk = std::min(out.size() - produced, kMaxChunk);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + consumed));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out_chunk);
    ret = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (ret == Z_STREAM_END) {
      // Concatenated gzip members form one stream (as gzip -d treats them).
      if (consumed < in.size() && in.size() - consumed >= 2 &&
          static_cast<unsigned char>(in[consumed]) == 0x1f &&
          static_cast<unsigned char>(in[consumed + 1]) == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      if (consumed != in.size()) {
        fail(name, ": ", in.size() - consumed,
             " unexpected bytes after the end of the gzip stream");
      }
      break;
    }
    if (ret == Z_DATA_ERROR) {
      fail(name, ": corrupt gzip stream: ", zs.msg != nullptr ? zs.msg : "data error");
    }
    if (ret == Z_MEM_ERROR) fail(name, ": out of memory while decompressing gzip");
    if (ret == Z_BUF_ERROR || ret == Z_OK) {
      if (consumed == in.size() && zs.avail_out != 0) {
        fail(name, ": truncated gzip stream (the file ends inside a compressed member)");
      }
      continue;
    }
    fail(name, ": gzip decoder error ", ret);
  }
  out.resize(produced);
  return out;
}

}  // namespace

struct InputFile::Storage {
  std::variant<std::monostate, std::unique_ptr<Mapping>, std::string> data;
};

InputFile::~InputFile() = default;
InputFile::InputFile(InputFile&&) noexcept = default;
InputFile& InputFile::operator=(InputFile&&) noexcept = default;

Compression detect_compression(std::string_view b) {
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  if (b.size() >= 4 && at(0) == 0x28 && at(1) == 0xb5 && at(2) == 0x2f && at(3) == 0xfd) {
    return Compression::kZstd;
  }
  if (b.size() >= 2 && at(0) == 0x1f && at(1) == 0x8b) return Compression::kGzip;
  return Compression::kNone;
}

std::string decompress(std::string_view compressed, Compression kind, std::string_view name) {
  switch (kind) {
    case Compression::kZstd:
      return decompress_zstd(compressed, name);
    case Compression::kGzip:
      return decompress_gzip(compressed, name);
    case Compression::kNone:
      break;
  }
  return std::string(compressed);
}

InputFile InputFile::open(const std::string& path) {
  InputFile file;
  file.path_ = path;
  file.storage_ = std::make_unique<Storage>();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path, ": cannot stat: ", std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path, ": is a directory, not a graph file");
  if (!S_ISREG(st.st_mode)) fail(path, ": is not a regular file");
  auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) return file;

  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) fail(path, ": cannot map: ", std::strerror(errno));
  auto mapping = std::make_unique<Mapping>(addr, size);
  ::madvise(addr, size, MADV_SEQUENTIAL);
  std::string_view raw(static_cast<const char*>(addr), size);

  file.compression_ = detect_compression(raw);
  if (file.compression_ == Compression::kNone) {
    file.bytes_ = raw;
    file.storage_->data = std::move(mapping);
  } else {
    std::string text = decompress(raw, file.compression_, path);
    file.storage_->data = std::move(text);
    file.bytes_ = std::get<std::string>(file.storage_->data);
  }
  return file;
}

void InputFile::release(std::size_t offset, std::size_t length) const {
  if (compression_ != Compression::kNone || bytes_.empty()) return;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<std::uintptr_t>(bytes_.data());
  const std::size_t end = std::min(bytes_.size(), offset + length);
  // Whole pages inside the range; the file's last page may be partial.
  std::uintptr_t lo = (base + offset + page - 1) / page * page;
  std::uintptr_t hi =
      end == bytes_.size() ? (base + end + page - 1) / page * page : (base + end) / page * page;
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

}  // namespace atl
