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

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/engine/checkpoint_store.hpp"
#include "checkpoint_file.hpp"
#include "checkpoint_manifest.hpp"
#include "checkpoint_topology.hpp"
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
  const WrittenFile w = write_checkpoint_file(path, 7, 0, 2, sizes, views_of(in));
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

// Vertex records whose headers differ only in the gid (all scheduled at one priority, or none)
// travel in compact blocks and come back whole; a block with one other header is stored as it
// is.
TEST(CheckpointFile, VertexBlocksOfOneScheduleAreStoredCompact) {
  atl::test::TempDir dir;
  const CheckpointRecordSizes sizes{40, 24, 0};
  const std::size_t n = 100000;  // several blocks
  CheckpointSections in = sample(n, sizes);
  for (std::size_t i = 0; i < n; ++i) {
    std::byte* tail = in.vertices.data() + i * sizes.vertex + sizeof(atl::Gid);
    const auto block = static_cast<int>(i / ((1u << 20) / sizes.vertex));  // the writer's blocks
    if (i != 70000) std::memset(tail, block, 16);  // the header after the gid
  }
  const std::string path = dir.file("rank-00000.ckpt");
  const WrittenFile w = write_checkpoint_file(path, 2, 0, 1, sizes, views_of(in));
  static_assert(sizeof(atl::CheckpointVertexHeader) == sizeof(atl::Gid) + 16);
  // Three of the four vertex blocks (all but the one holding record 70000) lose 16 of every 40
  // bytes: 0.705 of the vertex bytes are written.
  EXPECT_LT(w.bytes, in.vertices.size() * 72 / 100 + in.edges.size());
  EXPECT_GT(w.bytes, in.vertices.size() * 6 / 10 + in.edges.size());
  CheckpointSections out;
  read_checkpoint_file(path, 2, sizes, w, out);
  EXPECT_EQ(out.vertices, in.vertices);
  EXPECT_EQ(out.edges, in.edges);
}

TEST(CheckpointFile, EveryDamageIsAnErrorNamingTheFile) {
  atl::test::TempDir dir;
  const CheckpointRecordSizes sizes{32, 24, 0};
  const std::string path = dir.file("rank-00001.ckpt");
  CheckpointSections sections = sample(50, sizes);
  for (std::size_t i = 0; i < 50; ++i) {  // a compact vertex block (edges: plain blocks)
    std::memset(sections.vertices.data() + i * sizes.vertex + sizeof(atl::Gid), 3, 16);
  }
  write_checkpoint_file(path, 1, 1, 2, sizes, views_of(sections));
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

/// `text` (a manifest without its end line) with a correct end line.
std::string sealed(const std::string& text) {
  char end[32];
  std::snprintf(end, sizeof end, "end %08x\n", atl::crc32c(0, text.data(), text.size()));
  return text + end;
}

// An epoch of an older format is refused by name, not read as another graph.
TEST(CheckpointManifest, AnOlderFormatIsNamed) {
  std::string text = format_manifest(sample_manifest());
  text = text.substr(0, text.rfind("end "));
  ASSERT_EQ(text.rfind("atoll-checkpoint 2\n", 0), 0u);
  text[17] = '1';
  try {
    parse_manifest(sealed(text), "MANIFEST");
    FAIL() << "a version 1 manifest was read";
  } catch (const atl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("written by another Atoll (checkpoint version 1, this "
                                         "build reads 2)"),
              std::string::npos)
        << e.what();
  }
}

TEST(CheckpointManifest, ASavedTopologyRoundTripsAndIsChecked) {
  Manifest m = sample_manifest();
  EXPECT_FALSE(parse_manifest(format_manifest(m), "MANIFEST").topology.saved);
  EXPECT_EQ(format_manifest(m).find("topology"), std::string::npos);
  m.topology = {true, 900, 4100, 8};
  const std::string text = format_manifest(m);
  const Manifest back = parse_manifest(text, "MANIFEST");
  EXPECT_TRUE(back.topology.saved);
  EXPECT_EQ(back.topology.vertices, 900u);
  EXPECT_EQ(back.topology.edges, 4100u);
  EXPECT_EQ(back.topology.weight_bytes, 8u);
  const std::string body = text.substr(0, text.rfind("end "));
  const std::size_t at = body.find("topology 900 4100 8\n");
  ASSERT_NE(at, std::string::npos);
  for (const std::string bad : {"topology 900 4100 5\n", "topology 900 4100\n",
                                "topology 900 x 8\n", "topology 900 4100 8\ntopology 1 1 0\n"}) {
    std::string damaged = body;
    damaged.replace(at, std::string("topology 900 4100 8\n").size(), bad);
    try {
      parse_manifest(sealed(damaged), "MANIFEST");
      ADD_FAILURE() << bad;
    } catch (const atl::Error& e) {
      EXPECT_NE(std::string(e.what()).find("malformed 'topology' line"), std::string::npos)
          << e.what();
    }
  }
}

// Records of an epoch that carries its topology, placed on one rank: the graph comes back
// sorted; records that do not make a graph are errors naming the epoch.
TEST(CheckpointTopology, RecordsThatDoNotMakeAGraphAreNamed) {
  const CheckpointRecordSizes sizes{24, 16, 12};
  auto vertex = [](std::vector<std::byte>& out, atl::Gid g, std::uint32_t flags) {
    const atl::CheckpointVertexHeader h{g, 0.0, flags, 0};
    const auto* p = reinterpret_cast<const std::byte*>(&h);
    out.insert(out.end(), p, p + sizeof h);
  };
  auto edge = [](std::vector<std::byte>& out, atl::Gid s, atl::Gid d) {
    const atl::CheckpointEdgeHeader h{s, d};
    const auto* p = reinterpret_cast<const std::byte*>(&h);
    out.insert(out.end(), p, p + sizeof h);
  };
  auto graph = [&] {
    CheckpointSections s;
    vertex(s.vertices, 9, 0);
    vertex(s.vertices, 4, atl::kCheckpointHalted);
    vertex(s.vertices, 7, atl::kCheckpointRemoved);
    edge(s.edges, 9, 4);
    edge(s.edges, 4, 9);
    return s;
  };
  const atl::CheckpointTopology topology{true, 2, 2, 0};
  atl::RestoredEpoch out;
  route_saved_topology(graph(), sizes, topology, "ck/epoch-1", std::vector<atl::Gid>{4}, nullptr,
                       out);
  ASSERT_EQ(out.vertices.size(), 3 * sizes.vertex);
  atl::Gid first;
  std::memcpy(&first, out.vertices.data(), sizeof first);
  EXPECT_EQ(first, 4u);
  EXPECT_EQ(out.edges.size(), 2 * sizes.edge);
  EXPECT_TRUE(out.ghost_owners.empty());
  EXPECT_TRUE(out.topology.saved);

  auto expect_error = [&](CheckpointSections s, const atl::CheckpointTopology& t,
                          const std::string& why) {
    atl::RestoredEpoch r;
    try {
      route_saved_topology(std::move(s), sizes, t, "ck/epoch-1", {}, nullptr, r);
      ADD_FAILURE() << why;
    } catch (const atl::Error& e) {
      EXPECT_NE(std::string(e.what()).find("ck/epoch-1"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  CheckpointSections s = graph();
  vertex(s.vertices, 9, 0);
  expect_error(std::move(s), topology, "two records of vertex 9");
  s = graph();
  edge(s.edges, 4, 5);
  expect_error(std::move(s), topology, "to a vertex it does not hold");
  s = graph();
  edge(s.edges, 6, 4);
  expect_error(std::move(s), topology, "from a vertex it does not hold");
  expect_error(graph(), {true, 3, 2, 0}, "where its MANIFEST says 3 and 2");
}

}  // namespace
