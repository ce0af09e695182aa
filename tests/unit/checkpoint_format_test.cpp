// The checkpoint file and manifest formats: round trips, and every damaged variant (random byte
// flips, truncation at every length class) is an atl::Error naming the file, never a crash or
// a silent load.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "checkpoint_file.hpp"
#include "checkpoint_manifest.hpp"
#include "test_util.hpp"

namespace {

using namespace atl::detail;

CheckpointSections sample(std::size_t vertices, const CheckpointRecordSizes& sizes) {
  CheckpointSections s;
  std::mt19937_64 rng(42);
  auto fill = [&](std::vector<std::byte>& out, std::size_t n) {
    out.resize(n);
    for (std::byte& b : out) b = static_cast<std::byte>(rng());
  };
  fill(s.vertices, vertices * sizes.vertex);
  fill(s.edges, 3 * vertices * sizes.edge);
  fill(s.messages, 2 * sizes.message);
  return s;
}

TEST(CheckpointFile, RoundTripsAcrossBlocks) {
  atl::test::TempDir dir;
  const CheckpointRecordSizes sizes{40, 24, 16};
  // Enough vertices for several 1 MiB blocks.
  const CheckpointSections in = sample(60000, sizes);
  const std::string path = dir.file("rank-00000.ckpt");
  const WrittenFile w = write_checkpoint_file(path, 7, 0, 2, sizes, in);
  EXPECT_EQ(w.bytes, std::filesystem::file_size(path));
  CheckpointSections out;
  read_checkpoint_file(path, 7, sizes, w, out);
  EXPECT_EQ(out.vertices, in.vertices);
  EXPECT_EQ(out.edges, in.edges);
  EXPECT_EQ(out.messages, in.messages);
  // Wrong epoch, wrong record sizes: refused, named.
  CheckpointSections ignored;
  try {
    read_checkpoint_file(path, 8, sizes, {}, ignored);
    FAIL() << "another epoch's file was read";
  } catch (const atl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("belongs to epoch 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_checkpoint_file(path, 7, {48, 24, 16}, {}, ignored), atl::Error);
}

TEST(CheckpointFile, EveryDamageIsAnErrorNamingTheFile) {
  atl::test::TempDir dir;
  const CheckpointRecordSizes sizes{32, 24, 0};
  const std::string path = dir.file("rank-00001.ckpt");
  write_checkpoint_file(path, 1, 1, 2, sizes, sample(50, sizes));
  std::ifstream in(path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), {});
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    std::string bad = good;
    if (trial % 4 == 0) {
      bad.resize(rng() % good.size());
    } else {
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    CheckpointSections out;
    try {
      // Without the manifest's size and checksum: the blocks' own checks must catch it.
      read_checkpoint_file(path, 1, sizes, {}, out);
      ADD_FAILURE() << "trial " << trial << ": a damaged file was read";
    } catch (const atl::Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

Manifest sample_manifest() {
  Manifest m;
  m.epoch = 3;
  m.iteration = 30;
  m.shape.engine = "chromatic";
  m.shape.identity = "app=pagerank --damping=0.85";
  m.shape.types = "vertex X:16 edge E:0 message ";
  m.shape.graph_digest = 0xfeedbeef12345678ull;
  m.shape.vertices = 1000;
  m.shape.edges = 5000;
  m.shape.vertex_bytes = 16;
  m.files = {{100, 0xabcdef01u}, {200, 7}};
  m.state["aggregator:l1"] = std::string("\x00\x01\x02\xff", 4);
  m.state["empty"] = "";
  return m;
}

TEST(CheckpointManifest, RoundTripsAndComparesShapes) {
  const Manifest m = sample_manifest();
  const Manifest back = parse_manifest(format_manifest(m), "MANIFEST");
  EXPECT_EQ(back.epoch, 3u);
  EXPECT_EQ(back.iteration, 30u);
  EXPECT_EQ(back.files.size(), 2u);
  EXPECT_EQ(back.files[0].crc, 0xabcdef01u);
  EXPECT_EQ(back.state, m.state);
  EXPECT_EQ(shape_mismatch(back.shape, m.shape), "");
  atl::CheckpointShape other = m.shape;
  other.identity = "app=pagerank --damping=0.5";
  EXPECT_NE(shape_mismatch(back.shape, other).find("another app or options"), std::string::npos);
  other = m.shape;
  other.graph_digest ^= 1;
  EXPECT_NE(shape_mismatch(back.shape, other).find("another graph"), std::string::npos);
  other = m.shape;
  other.vertex_bytes = 24;
  EXPECT_NE(shape_mismatch(back.shape, other).find("data types"), std::string::npos);
}

TEST(CheckpointManifest, EveryDamageIsAnError) {
  const std::string good = format_manifest(sample_manifest());
  std::mt19937 rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    std::string bad = good;
    if (trial % 5 == 0) {
      bad.resize(rng() % good.size());
    } else {
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    EXPECT_THROW(parse_manifest(bad, "MANIFEST"), atl::Error) << "trial " << trial;
  }
}

}  // namespace
