#include "atom_blocks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/common/fd.hpp"

namespace atl::detail {
namespace {

constexpr std::size_t kBlockHeaderCrcBytes = offsetof(BlockHeader, header_crc);

std::size_t padded(std::size_t n) {
  return (n + kBlockAlign - 1) / kBlockAlign * kBlockAlign;
}

}  // namespace

std::string_view block_kind_name(std::uint32_t kind) {
  switch (static_cast<BlockKind>(kind)) {
    case BlockKind::kVertices:
      return "vertices";
    case BlockKind::kEdges:
      return "edges";
    case BlockKind::kInCutEdges:
      return "cut in-edges";
    case BlockKind::kGhosts:
      return "ghosts";
    case BlockKind::kAtomEntries:
      return "atom entries";
    case BlockKind::kCuts:
      return "cuts";
    case BlockKind::kEnd:
      return "end";
  }
  return "unknown kind";
}

BlockWriter::BlockWriter(TempFile& file)
    : file_(file), buffer_(sizeof(BlockHeader) + kMaxBlockPayload + kBlockAlign) {}

void BlockWriter::write_raw(const void* data, std::size_t size) {
  file_.write(data, size);
  crc_ = crc32c(crc_, data, size);
  bytes_ += size;
}

void BlockWriter::emit(BlockKind kind, std::size_t records, std::size_t payload_bytes) {
  unsigned char* payload = buffer_.data() + sizeof(BlockHeader);
  BlockHeader header{};
  header.kind = static_cast<std::uint32_t>(kind);
  header.records = static_cast<std::uint32_t>(records);
  header.payload_bytes = payload_bytes;
  header.payload_crc = crc32c(0, payload, payload_bytes);
  header.header_crc = crc32c(0, &header, kBlockHeaderCrcBytes);
  std::memcpy(buffer_.data(), &header, sizeof header);
  const std::size_t total = padded(payload_bytes);
  std::memset(payload + payload_bytes, 0, total - payload_bytes);
  write_raw(buffer_.data(), sizeof(BlockHeader) + total);
  ++blocks_;
}

void BlockWriter::finish() {
  const std::uint64_t blocks = blocks_;
  std::memcpy(buffer_.data() + sizeof(BlockHeader), &blocks, sizeof blocks);
  emit(BlockKind::kEnd, 1, sizeof blocks);
}

FileBytes read_file_bytes(const std::string& path, const std::string& what, FileBytes reuse) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) fail(what, " is missing");
    fail(what, ": cannot open: ", std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(what, ": cannot stat: ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(what, " is not a regular file");
  FileBytes bytes = std::move(reuse);
  bytes.size = static_cast<std::size_t>(st.st_size);
  if (bytes.capacity < bytes.size || !bytes.data) {
    bytes.data = std::make_unique_for_overwrite<unsigned char[]>(bytes.size);
    bytes.capacity = bytes.size;
  }
  std::size_t done = 0;
  while (done < bytes.size) {
    const ssize_t n = ::read(fd.get(), bytes.data.get() + done, bytes.size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(what, ": cannot read: ", std::strerror(errno));
    }
    if (n == 0) fail(what, ": file shrank while being read");
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::string describe(const Block& block) {
  return str_cat("block ", block.number, " (", block_kind_name(block.kind), ") at byte ",
                 block.offset);
}

std::vector<Block> scan_blocks(std::span<const unsigned char> bytes, std::size_t start,
                               const std::string& what) {
  std::vector<Block> blocks;
  std::size_t at = start;
  for (std::uint64_t number = 0;; ++number) {
    if (bytes.size() - at < sizeof(BlockHeader)) {
      fail(what, ": truncated: block ", number, " at byte ", at, " is cut off (file has ",
           bytes.size(), " bytes, no end block)");
    }
    BlockHeader header;
    std::memcpy(&header, bytes.data() + at, sizeof header);
    Block block;
    block.number = number;
    block.kind = header.kind;
    block.records = header.records;
    block.offset = at;
    if (crc32c(0, &header, kBlockHeaderCrcBytes) != header.header_crc) {
      fail(what, ": block ", number, " at byte ", at,
           ": block header checksum mismatch (corrupt file)");
    }
    if (header.payload_bytes > kMaxBlockPayload) {
      fail(what, ": ", describe(block), ": payload of ", header.payload_bytes,
           " bytes exceeds the limit of ", kMaxBlockPayload);
    }
    const std::size_t body = padded(header.payload_bytes);
    if (bytes.size() - at - sizeof(BlockHeader) < body) {
      fail(what, ": truncated: ", describe(block), " needs ", sizeof(BlockHeader) + body,
           " bytes, the file has ", bytes.size() - at, " left");
    }
    block.payload = bytes.data() + at + sizeof(BlockHeader);
    block.payload_bytes = header.payload_bytes;
    block.payload_crc = header.payload_crc;
    for (std::size_t i = header.payload_bytes; i < body; ++i) {
      if (block.payload[i] != 0) fail(what, ": ", describe(block), ": nonzero padding");
    }
    at += sizeof(BlockHeader) + body;
    if (static_cast<BlockKind>(header.kind) == BlockKind::kEnd) {
      verify_payload(block, what);
      std::uint64_t count = 0;
      if (header.payload_bytes != sizeof count || header.records != 1) {
        fail(what, ": ", describe(block), ": malformed end block");
      }
      std::memcpy(&count, block.payload, sizeof count);
      if (count != number) {
        fail(what, ": ", describe(block), ": the end block counts ", count,
             " blocks before it, found ", number);
      }
      if (at != bytes.size()) {
        fail(what, ": ", bytes.size() - at, " unexpected bytes after the end block (byte ", at,
             ")");
      }
      return blocks;
    }
    blocks.push_back(block);
  }
}

void verify_payload(const Block& block, const std::string& what) {
  if (crc32c(0, block.payload, block.payload_bytes) != block.payload_crc) {
    fail(what, ": ", describe(block), ": payload checksum mismatch (corrupt file)");
  }
}

void check_identity(std::span<const unsigned char> bytes, const char (&magic)[8],
                    std::uint32_t version, std::size_t header_size, std::string_view kind_name,
                    const std::string& what) {
  FileIdentity id{};
  if (bytes.size() < sizeof id || std::memcmp(bytes.data(), magic, sizeof magic) != 0) {
    fail(what, ": not an ", kind_name, " (bad magic; expected '", std::string_view(magic, 8), "')");
  }
  std::memcpy(&id, bytes.data(), sizeof id);
  if (id.version > version) {
    fail(what, ": written by a newer Atoll (", kind_name, " version ", id.version,
         ", this build reads ", version, ")");
  }
  if (id.version >= 1 && id.version < version) {
    fail(what, ": written by an older Atoll (", kind_name, " version ", id.version,
         ", this build reads ", version, "): partition the graph again with `atoll partition`");
  }
  if (id.version != version) fail(what, ": invalid ", kind_name, " version ", id.version);
  if (bytes.size() < header_size) {
    fail(what, ": truncated: ", bytes.size(), " bytes, the header alone is ", header_size);
  }
}

}  // namespace atl::detail
