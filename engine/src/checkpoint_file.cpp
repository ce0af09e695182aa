#include "checkpoint_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/fd.hpp"
#include "atoll/common/temp_file.hpp"
#include "atoll/engine/checkpoint_store.hpp"

namespace atl::detail {
namespace {

constexpr char kMagic[8] = {'A', 'T', 'L', 'C', 'K', 'P', 'T', '\0'};
constexpr std::uint32_t kVersion = 2;
constexpr std::uint32_t kEndKind = 255;
constexpr std::size_t kMaxPayload = std::size_t{1} << 20;
// A compact vertex block (version 2) holds records whose headers differ only in the gid (all
// scheduled at one priority, or none; all halted): the rest of CheckpointVertexHeader, the
// tail, is stored once at the start of the payload and the records follow without it.
constexpr std::uint32_t kCompactVerticesKind = 4;
constexpr std::size_t kHeaderTailAt = offsetof(CheckpointVertexHeader, priority);
constexpr std::size_t kHeaderTail = sizeof(CheckpointVertexHeader) - kHeaderTailAt;
static_assert(kHeaderTailAt == sizeof(Gid));

struct FileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t rank;
  std::uint32_t ranks;
  std::uint32_t vertex_bytes;
  std::uint32_t edge_bytes;
  std::uint32_t message_bytes;
  std::uint64_t epoch;
  std::uint32_t reserved;
  std::uint32_t header_crc;  ///< CRC32C of the 44 bytes before it
};
static_assert(sizeof(FileHeader) == 48);

struct BlockHeader {
  std::uint32_t kind;
  std::uint32_t records;
  std::uint64_t payload_bytes;
  std::uint32_t payload_crc;
  std::uint32_t header_crc;  ///< CRC32C of the 20 bytes before it
};
static_assert(sizeof(BlockHeader) == 24);

const char* section_name(std::uint32_t kind) {
  switch (kind) {
    case 1:
      return "vertices";
    case 2:
      return "edges";
    case 3:
      return "messages";
    case kCompactVerticesKind:
      return "compact vertices";
    case kEndKind:
      return "end";
    default:
      return "unknown";
  }
}

std::uint32_t record_size(const CheckpointRecordSizes& sizes, std::uint32_t kind) {
  switch (kind) {
    case 1:
      return sizes.vertex;
    case 2:
      return sizes.edge;
    case 3:
      return sizes.message;
    case kCompactVerticesKind:
      return sizes.vertex >= sizeof(CheckpointVertexHeader) ? sizes.vertex - kHeaderTail : 0;
    default:
      return 0;
  }
}

/// Lays a file out in memory (4 KiB-aligned, so that it can be written past the page cache)
/// and keeps its size and CRC.
class Writer {
 public:
  /// `storage` holds the image (grown once to `bound` bytes and reused across files).
  Writer(std::vector<std::byte>& storage, std::size_t bound) {
    storage.resize(bound + kAlign);
    const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
    base_ = storage.data() + (kAlign - address % kAlign) % kAlign;
    bound_ = bound;
  }
  /// Bytes of a file holding `records` bytes of `size`-byte records in blocks (an upper
  /// bound for compact vertex blocks).
  static std::size_t section_bound(std::size_t records, std::size_t size) {
    if (size == 0 || records == 0) return 0;
    const std::size_t per_block = std::max<std::size_t>(1, kMaxPayload / size) * size;
    return records + (records / per_block + 1) * (sizeof(BlockHeader) + kHeaderTail);
  }
  void raw(const void* data, std::size_t size) {
    std::memcpy(take(size), data, size);
    crc_ = crc32c(crc_, data, size);
  }
  void block(std::uint32_t kind, std::uint32_t records, const std::byte* payload,
             std::size_t bytes) {
    std::byte* header = take(sizeof(BlockHeader));
    if (bytes > 0) std::memcpy(take(bytes), payload, bytes);
    seal(header, kind, records, bytes);
  }
  void section(CheckpointSection kind, std::span<const std::byte> records, std::size_t size) {
    if (size == 0 || records.empty()) return;
    const std::size_t per_block = std::max<std::size_t>(1, kMaxPayload / size);
    for (std::size_t first = 0; first < records.size(); first += per_block * size) {
      const std::size_t n = std::min(per_block * size, records.size() - first);
      block(static_cast<std::uint32_t>(kind), static_cast<std::uint32_t>(n / size),
            records.data() + first, n);
    }
  }
  /// Vertex records: a run of records whose headers differ only in the gid goes into a compact
  /// block, any other run as it is.
  void vertices(std::span<const std::byte> records, std::size_t size) {
    if (size < sizeof(CheckpointVertexHeader)) {
      return section(CheckpointSection::kVertices, records, size);
    }
    const std::size_t per_block = std::max<std::size_t>(1, kMaxPayload / size);
    const std::size_t compact = size - kHeaderTail;
    for (std::size_t first = 0; first < records.size(); first += per_block * size) {
      const std::span<const std::byte> run =
          records.subspan(first, std::min(per_block * size, records.size() - first));
      const std::size_t n = run.size() / size;
      const std::byte* tail = run.data() + kHeaderTailAt;
      bool same = true;
      for (std::size_t i = 1; i < n && same; ++i) {
        same = std::memcmp(run.data() + i * size + kHeaderTailAt, tail, kHeaderTail) == 0;
      }
      if (!same) {
        block(static_cast<std::uint32_t>(CheckpointSection::kVertices),
              static_cast<std::uint32_t>(n), run.data(), run.size());
        continue;
      }
      std::byte* header = take(sizeof(BlockHeader));
      std::byte* out = take(kHeaderTail + n * compact);  // compacted in place
      std::memcpy(out, tail, kHeaderTail);
      for (std::size_t i = 0; i < n; ++i) {
        const std::byte* r = run.data() + i * size;
        std::byte* c = out + kHeaderTail + i * compact;
        std::memcpy(c, r, kHeaderTailAt);
        std::memcpy(c + kHeaderTailAt, r + sizeof(CheckpointVertexHeader),
                    size - sizeof(CheckpointVertexHeader));
      }
      seal(header, kCompactVerticesKind, static_cast<std::uint32_t>(n), kHeaderTail + n * compact);
    }
  }
  void end() {
    const std::uint64_t blocks = blocks_;
    block(kEndKind, 0, reinterpret_cast<const std::byte*>(&blocks), sizeof blocks);
  }
  std::span<const std::byte> image() const { return {base_, size_}; }
  WrittenFile written() const { return {size_, crc_}; }

  static constexpr std::size_t kAlign = 4096;

 private:
  std::byte* take(std::size_t n) {
    if (n > bound_ - size_) fail("checkpoint: internal error: file image over its bound");
    std::byte* p = base_ + size_;
    size_ += n;
    return p;
  }
  /// Fills the block header at `at` for the `bytes` of payload after it.
  void seal(std::byte* at, std::uint32_t kind, std::uint32_t records, std::size_t bytes) {
    const std::byte* payload = at + sizeof(BlockHeader);
    BlockHeader h{kind, records, bytes, crc32c(0, payload, bytes), 0};
    h.header_crc = crc32c(0, &h, offsetof(BlockHeader, header_crc));
    std::memcpy(at, &h, sizeof h);
    crc_ =
        crc32c(crc_, &h, sizeof h);  // the payload is read once: the file's CRC takes the block's
    if (bytes > 0) crc_ = crc32c_combine(crc_, h.payload_crc, bytes);
    ++blocks_;
  }

  std::byte* base_ = nullptr;
  std::size_t bound_ = 0;
  std::size_t size_ = 0;
  std::uint32_t crc_ = 0;
  std::uint64_t blocks_ = 0;
};

std::vector<std::byte> read_all(const std::string& path, const std::string& what) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail(what, ": cannot open: ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) fail(what, ": cannot stat: ", std::strerror(errno));
  std::vector<std::byte> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(what, ": cannot read: ", std::strerror(errno));
    if (n == 0) fail(what, ": shrank while being read");
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

}  // namespace

WrittenFile write_checkpoint_file(const std::string& path, std::uint64_t epoch, int rank, int ranks,
                                  const CheckpointRecordSizes& sizes,
                                  const CheckpointSectionViews& sections,
                                  std::vector<std::byte>& scratch, const std::string& recycled) {
  const std::size_t bound = sizeof(FileHeader) +
                            Writer::section_bound(sections.vertices.size(), sizes.vertex) +
                            Writer::section_bound(sections.edges.size(), sizes.edge) +
                            Writer::section_bound(sections.messages.size(), sizes.message) +
                            sizeof(BlockHeader) + sizeof(std::uint64_t);
  Writer w(scratch, bound);
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kVersion;
  h.rank = static_cast<std::uint32_t>(rank);
  h.ranks = static_cast<std::uint32_t>(ranks);
  h.vertex_bytes = sizes.vertex;
  h.edge_bytes = sizes.edge;
  h.message_bytes = sizes.message;
  h.epoch = epoch;
  h.header_crc = crc32c(0, &h, offsetof(FileHeader, header_crc));
  w.raw(&h, sizeof h);
  w.vertices(sections.vertices, sizes.vertex);
  w.section(CheckpointSection::kEdges, sections.edges, sizes.edge);
  w.section(CheckpointSection::kMessages, sections.messages, sizes.message);
  w.end();
  TempFile file(path, "checkpoint", recycled);
  const std::span<const std::byte> image = w.image();
  file.write_uncached(image.data(), image.size());
  file.commit(false);  // the epoch directory is synced once, before the manifest
  return w.written();
}

WrittenFile write_checkpoint_file(const std::string& path, std::uint64_t epoch, int rank, int ranks,
                                  const CheckpointRecordSizes& sizes,
                                  const CheckpointSectionViews& sections) {
  std::vector<std::byte> scratch;
  return write_checkpoint_file(path, epoch, rank, ranks, sizes, sections, scratch);
}

void read_checkpoint_file(const std::string& path, std::uint64_t epoch,
                          const CheckpointRecordSizes& sizes, const WrittenFile& expected,
                          CheckpointSections& into) {
  const std::string what = str_cat("checkpoint file '", path, "'");
  const std::vector<std::byte> bytes = read_all(path, what);
  if (expected.bytes > 0 && bytes.size() != expected.bytes) {
    fail(what, ": ", bytes.size(), " bytes where the manifest says ", expected.bytes,
         " (truncated or replaced)");
  }
  if (expected.bytes > 0 && crc32c(0, bytes.data(), bytes.size()) != expected.crc) {
    fail(what, ": checksum differs from the manifest's (the file is corrupt)");
  }
  FileHeader h;
  if (bytes.size() < sizeof h) fail(what, ": ", bytes.size(), " bytes, shorter than a header");
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) fail(what, ": not a checkpoint file");
  if (h.header_crc != crc32c(0, &h, offsetof(FileHeader, header_crc))) {
    fail(what, ": header checksum mismatch (the file is corrupt)");
  }
  if (h.version != kVersion) {
    fail(what, ": format version ", h.version, " (this Atoll reads version ", kVersion, ")");
  }
  if (h.epoch != epoch) fail(what, ": belongs to epoch ", h.epoch, ", not ", epoch);
  if (h.vertex_bytes != sizes.vertex || h.edge_bytes != sizes.edge ||
      h.message_bytes != sizes.message) {
    fail(what, ": records of ", h.vertex_bytes, "/", h.edge_bytes, "/", h.message_bytes,
         " bytes (vertex/edge/message) where this program has ", sizes.vertex, "/", sizes.edge, "/",
         sizes.message);
  }
  std::size_t at = sizeof h;
  std::uint64_t blocks = 0;
  for (;;) {
    BlockHeader b;
    if (bytes.size() - at < sizeof b) {
      fail(what, ": ends at byte ", bytes.size(), " inside block ", blocks, " (truncated)");
    }
    std::memcpy(&b, bytes.data() + at, sizeof b);
    const std::string where =
        str_cat(what, ": block ", blocks, " (", section_name(b.kind), ") at byte ", at);
    if (b.header_crc != crc32c(0, &b, offsetof(BlockHeader, header_crc))) {
      fail(where, ": header checksum mismatch (the file is corrupt)");
    }
    const std::size_t payload_at = at + sizeof b;
    if (b.payload_bytes > kMaxPayload || b.payload_bytes > bytes.size() - payload_at) {
      fail(where, ": payload of ", b.payload_bytes, " bytes runs past the end of the file");
    }
    const std::byte* payload = bytes.data() + payload_at;
    if (crc32c(0, payload, b.payload_bytes) != b.payload_crc) {
      fail(where, ": payload checksum mismatch (the file is corrupt)");
    }
    at = payload_at + b.payload_bytes;
    if (b.kind == kEndKind) {
      std::uint64_t count = 0;
      if (b.payload_bytes != sizeof count) fail(where, ": malformed end block");
      std::memcpy(&count, payload, sizeof count);
      if (count != blocks) fail(where, ": says ", count, " blocks, the file has ", blocks);
      if (at != bytes.size()) fail(what, ": ", bytes.size() - at, " bytes after the end block");
      return;
    }
    const std::uint32_t size = record_size(sizes, b.kind);
    if (size == 0) fail(where, ": unknown block kind ", b.kind);
    const std::uint64_t prefix = b.kind == kCompactVerticesKind ? kHeaderTail : 0;
    if (b.payload_bytes != prefix + std::uint64_t{b.records} * size) {
      fail(where, ": ", b.records, " records of ", size, " bytes in a payload of ",
           b.payload_bytes);
    }
    if (b.kind == kCompactVerticesKind) {  // back to whole records, each with the tail
      const std::size_t at_out = into.vertices.size();
      into.vertices.resize(at_out + std::size_t{b.records} * sizes.vertex);
      for (std::uint32_t i = 0; i < b.records; ++i) {
        const std::byte* c = payload + kHeaderTail + std::size_t{i} * size;
        std::byte* r = into.vertices.data() + at_out + std::size_t{i} * sizes.vertex;
        std::memcpy(r, c, kHeaderTailAt);
        std::memcpy(r + kHeaderTailAt, payload, kHeaderTail);
        std::memcpy(r + sizeof(CheckpointVertexHeader), c + kHeaderTailAt, size - kHeaderTailAt);
      }
      ++blocks;
      continue;
    }
    std::vector<std::byte>& out = b.kind == 1   ? into.vertices
                                  : b.kind == 2 ? into.edges
                                                : into.messages;
    out.insert(out.end(), payload, payload + b.payload_bytes);
    ++blocks;
  }
}

}  // namespace atl::detail
