// Tests of InputFile (plain, zstd, gzip; errors for missing, special, truncated and corrupt
// files), decompress/detect_compression, format names and read_edge_list's error prefixes.
#include "atoll/graph/input_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/graph_format.hpp"
#include "atoll/graph/read_graph.hpp"
#include "test_util.hpp"

namespace {

using atl::Compression;
using atl::InputFile;
using atl::test::error_of;
using atl::test::gzip_compress;
using atl::test::TempDir;
using atl::test::write_file;
using atl::test::zstd_compress;
using testing::HasSubstr;
using testing::StartsWith;

/// Some text with structure (so it compresses but not trivially).
std::string sample_text(std::size_t lines) {
  std::string text;
  for (std::size_t i = 0; i < lines; ++i) {
    text += std::to_string(i * 7919 % 100003) + "\t" + std::to_string(i * 104729 % 99991) + "\n";
  }
  return text;
}

class InputFileTest : public testing::Test {
 protected:
  std::string put(const std::string& name, const std::string& bytes) {
    std::string path = dir_.file(name);
    write_file(path, bytes);
    return path;
  }
  std::string open_error(const std::string& path) {
    return error_of([&] { InputFile::open(path); });
  }
  TempDir dir_;
};

TEST_F(InputFileTest, PlainFile) {
  std::string text = sample_text(1000);
  std::string path = put("g.txt", text);
  InputFile f = InputFile::open(path);
  EXPECT_EQ(f.bytes(), text);
  EXPECT_EQ(f.path(), path);
  EXPECT_EQ(f.compression(), Compression::kNone);
  InputFile moved = std::move(f);
  EXPECT_EQ(moved.bytes(), text);
}

TEST_F(InputFileTest, EmptyFile) {
  InputFile f = InputFile::open(put("empty.txt", ""));
  EXPECT_TRUE(f.bytes().empty());
  EXPECT_EQ(f.compression(), Compression::kNone);
  EXPECT_TRUE(atl::read_edge_list(dir_.file("empty.txt")).edges.empty());
}

TEST_F(InputFileTest, Zstd) {
  std::string text = sample_text(20000);
  InputFile f = InputFile::open(put("g.zst", zstd_compress(text)));
  EXPECT_EQ(f.compression(), Compression::kZstd);
  EXPECT_EQ(f.bytes(), text);
}

TEST_F(InputFileTest, ZstdWithoutContentSizeAndHighRatio) {
  // 8 MB that compresses >1000x, in a frame without a content size: the decoder must grow.
  std::string text;
  for (int i = 0; i < 400'000; ++i) text += "1234 5678 9.5\n";
  std::string compressed = atl::test::zstd_compress_unknown_size(text);
  ASSERT_LT(compressed.size() * 100, text.size());
  InputFile f = InputFile::open(put("big.zst", compressed));
  EXPECT_EQ(f.bytes(), text);
}

TEST_F(InputFileTest, ZstdConcatenatedFrames) {
  std::string a = sample_text(3000), b = "# middle\n", c = sample_text(17);
  std::string bytes =
      zstd_compress(a) + zstd_compress(b) + atl::test::zstd_compress_unknown_size(c);
  EXPECT_EQ(InputFile::open(put("multi.zst", bytes)).bytes(), a + b + c);
}

TEST_F(InputFileTest, ZstdEmptyContent) {
  EXPECT_EQ(InputFile::open(put("e.zst", zstd_compress(""))).bytes(), "");
}

TEST_F(InputFileTest, Gzip) {
  std::string text = sample_text(20000);
  InputFile f = InputFile::open(put("g.gz", gzip_compress(text)));
  EXPECT_EQ(f.compression(), Compression::kGzip);
  EXPECT_EQ(f.bytes(), text);
  EXPECT_EQ(InputFile::open(put("e.gz", gzip_compress(""))).bytes(), "");
}

TEST_F(InputFileTest, GzipHighRatio) {
  std::string text(6'000'000, 'x');
  for (std::size_t i = 0; i < text.size(); i += 1000) text[i] = '\n';
  std::string compressed = gzip_compress(text, 9);
  ASSERT_LT(compressed.size() * 100, text.size());
  EXPECT_EQ(InputFile::open(put("big.gz", compressed)).bytes(), text);
}

TEST_F(InputFileTest, GzipConcatenatedMembers) {
  std::string a = sample_text(5000), b = "", c = "7 8\n", d = sample_text(3);
  std::string bytes = gzip_compress(a) + gzip_compress(b) + gzip_compress(c, 1) + gzip_compress(d);
  InputFile f = InputFile::open(put("multi.gz", bytes));
  EXPECT_EQ(f.compression(), Compression::kGzip);
  EXPECT_EQ(f.bytes(), a + b + c + d);
}

TEST_F(InputFileTest, GzipTrailingGarbage) {
  std::string path = put("junk.gz", gzip_compress("1 2\n") + "junk");
  EXPECT_EQ(open_error(path), path + ": 4 unexpected bytes after the end of the gzip stream");
}

TEST_F(InputFileTest, MissingFile) {
  std::string path = dir_.file("does-not-exist.txt");
  std::string msg = open_error(path);
  EXPECT_THAT(msg, StartsWith(path + ": cannot open"));
  EXPECT_THAT(msg, HasSubstr("No such file or directory"));
  EXPECT_THAT(error_of([&] { atl::read_edge_list(path); }), StartsWith(path + ": cannot open"));
}

TEST_F(InputFileTest, Directory) {
  EXPECT_EQ(open_error(dir_.path()), dir_.path() + ": is a directory, not a graph file");
}

TEST_F(InputFileTest, NotARegularFile) {
  EXPECT_EQ(open_error("/dev/null"), "/dev/null: is not a regular file");
}

TEST_F(InputFileTest, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  std::string path = put("secret.txt", "1 2\n");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  EXPECT_THAT(open_error(path), StartsWith(path + ": cannot open: Permission denied"));
}

TEST_F(InputFileTest, TruncatedZstd) {
  std::string compressed = zstd_compress(sample_text(20000));
  std::string path = put("cut.zst", compressed.substr(0, compressed.size() / 2));
  EXPECT_EQ(open_error(path),
            path + ": truncated zstd stream (the file ends inside a compressed frame)");
  EXPECT_THAT(error_of([&] { atl::read_edge_list(path); }), HasSubstr("truncated zstd"));
  // Cut just before the end, and a second frame cut short.
  path = put("cut2.zst", compressed.substr(0, compressed.size() - 1));
  EXPECT_THAT(open_error(path), HasSubstr("truncated zstd"));
  std::string two = compressed + compressed.substr(0, 100);
  EXPECT_THAT(open_error(put("cut3.zst", two)), HasSubstr("truncated zstd"));
}

TEST_F(InputFileTest, TruncatedGzip) {
  std::string compressed = gzip_compress(sample_text(20000));
  std::string path = put("cut.gz", compressed.substr(0, compressed.size() / 2));
  EXPECT_EQ(open_error(path),
            path + ": truncated gzip stream (the file ends inside a compressed member)");
  EXPECT_THAT(error_of([&] { atl::read_edge_list(path); }), HasSubstr("truncated gzip"));
  // Only the 4-byte size of the trailer missing; a second member cut short; a bare header.
  EXPECT_THAT(open_error(put("cut2.gz", compressed.substr(0, compressed.size() - 4))),
              HasSubstr("truncated gzip"));
  EXPECT_THAT(open_error(put("cut3.gz", compressed + compressed.substr(0, 30))),
              HasSubstr("truncated gzip"));
  EXPECT_THAT(open_error(put("cut4.gz", compressed.substr(0, 5))), HasSubstr("truncated gzip"));
}

TEST_F(InputFileTest, CorruptZstd) {
  std::string text = sample_text(20000);
  std::string compressed = zstd_compress(text, 3, /*checksum=*/true);
  for (std::size_t pos : {compressed.size() / 3, compressed.size() / 2, compressed.size() - 2}) {
    std::string bad = compressed;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    std::string path = put("bad.zst", bad);
    std::string msg = open_error(path);
    EXPECT_THAT(msg, StartsWith(path + ": corrupt zstd stream: ")) << "flip at " << pos;
  }
}

TEST_F(InputFileTest, CorruptGzip) {
  std::string text = sample_text(20000);
  std::string compressed = gzip_compress(text);
  // Deflate data, the CRC-32 and the length in the trailer.
  for (std::size_t pos : {compressed.size() / 2, compressed.size() - 6, compressed.size() - 2}) {
    std::string bad = compressed;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    std::string path = put("bad.gz", bad);
    EXPECT_THAT(open_error(path), StartsWith(path + ": corrupt gzip stream: "))
        << "flip at " << pos;
  }
  std::string bad_method = compressed;
  bad_method[2] = 7;  // compression method must be 8 (deflate)
  EXPECT_THAT(open_error(put("method.gz", bad_method)), HasSubstr("corrupt gzip stream"));
}

TEST(Decompress, DetectCompression) {
  EXPECT_EQ(atl::detect_compression(zstd_compress("x")), Compression::kZstd);
  EXPECT_EQ(atl::detect_compression(gzip_compress("x")), Compression::kGzip);
  EXPECT_EQ(atl::detect_compression("1 2\n"), Compression::kNone);
  EXPECT_EQ(atl::detect_compression(""), Compression::kNone);
  EXPECT_EQ(atl::detect_compression("\x1f"), Compression::kNone);
  EXPECT_EQ(atl::detect_compression("\x28\xb5\x2f"), Compression::kNone);
  EXPECT_EQ(atl::detect_compression("\x28\xb5\x2f\xfe"), Compression::kNone);
}

TEST(Decompress, Buffers) {
  std::string text = sample_text(100);
  EXPECT_EQ(atl::decompress(zstd_compress(text), Compression::kZstd, "n"), text);
  EXPECT_EQ(atl::decompress(gzip_compress(text), Compression::kGzip, "n"), text);
  EXPECT_EQ(atl::decompress(text, Compression::kNone, "n"), text);
  std::string cut = gzip_compress(text);
  cut.resize(cut.size() / 2);
  EXPECT_THAT(error_of([&] { atl::decompress(cut, Compression::kGzip, "name.gz"); }),
              StartsWith("name.gz: truncated gzip stream"));
  cut = zstd_compress(text);
  cut.resize(cut.size() / 2);
  EXPECT_THAT(error_of([&] { atl::decompress(cut, Compression::kZstd, "name.zst"); }),
              StartsWith("name.zst: truncated zstd stream"));
}

TEST(GraphFormatNames, RoundTripAndUnknown) {
  using atl::GraphFormat;
  for (GraphFormat f : {GraphFormat::kAuto, GraphFormat::kSnap, GraphFormat::kGr, GraphFormat::kMtx,
                        GraphFormat::kBin}) {
    EXPECT_EQ(atl::parse_format_name(atl::format_name(f)), f);
  }
  EXPECT_EQ(atl::format_name(GraphFormat::kMtx), "mtx");
  try {
    atl::parse_format_name("metis");
    FAIL() << "no throw";
  } catch (const atl::Error& e) {
    EXPECT_EQ(e.kind(), atl::ErrorKind::kUsage);
    EXPECT_STREQ(e.what(), "unknown graph format 'metis' (valid: auto, snap, gr, mtx, bin)");
  }
}

TEST(DetectFormat, EachFormat) {
  using atl::GraphFormat;
  EXPECT_EQ(atl::detect_format("ATOLLEL1\x01"), GraphFormat::kBin);
  EXPECT_EQ(atl::detect_format("%%MatrixMarket matrix coordinate real general\n"),
            GraphFormat::kMtx);
  EXPECT_EQ(atl::detect_format("c x\n"), GraphFormat::kGr);
  EXPECT_EQ(atl::detect_format("p sp 1 0\n"), GraphFormat::kGr);
  EXPECT_EQ(atl::detect_format("1 2\n"), GraphFormat::kSnap);
  EXPECT_EQ(atl::detect_format("#c\n1 2\n"), GraphFormat::kSnap);
  EXPECT_EQ(atl::detect_format("%c\n1 2\n"), GraphFormat::kSnap);
}

TEST_F(InputFileTest, ExplicitFormatOverridesDetection) {
  std::string path = put("g.gr", "p sp 2 1\na 1 2 3\n");
  EXPECT_EQ(atl::read_edge_list(path).size(), 1u);
  EXPECT_EQ(error_of([&] { atl::read_edge_list(path, atl::GraphFormat::kSnap); }),
            path + ":1: expected a source vertex id (non-negative integer), got 'p'");
  EXPECT_THAT(error_of([&] { atl::read_edge_list(path, atl::GraphFormat::kMtx); }),
              StartsWith(path + ":1: expected a '%%MatrixMarket"));
}

}  // namespace
