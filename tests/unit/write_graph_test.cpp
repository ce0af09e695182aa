// Tests of write_edge_list: exact SNAP text, binary layout, atomic replacement and errors.
#include "atoll/graph/write_graph.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/read_graph.hpp"

namespace {

namespace fs = std::filesystem;
using atl::EdgeList;
using atl::GraphFormat;

class WriteGraph : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "atoll-write-graph-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  /// Names of the files in the temp dir.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

EdgeList tiny_unweighted() {
  EdgeList g;
  g.edges = {{0, 1}, {2, 3}, {18446744073709551615ull, 0}};
  return g;
}

EdgeList tiny_weighted() {
  EdgeList g;
  g.edges = {{1, 2}, {2, 3}, {3, 4}, {4, 1}, {1, 1}, {2, 2}};
  g.weights = {1.0, -2.5, 1e300, 9007199254740992.0, 0.1, -7.0};
  g.weighted = true;
  g.declared = atl::VertexRange{1, 4};
  return g;
}

template <typename T>
T load_le(const std::string& bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));  // test host is little-endian
  return value;
}

// ---- SNAP -------------------------------------------------------------------------------------

TEST_F(WriteGraph, SnapUnweightedExactBytes) {
  atl::write_edge_list(tiny_unweighted(), path("g.txt"));
  EXPECT_EQ(read(path("g.txt")),
            "# atoll edge list: 3 edges\n"
            "0\t1\n"
            "2\t3\n"
            "18446744073709551615\t0\n");
  EXPECT_EQ(listing(), std::vector<std::string>{"g.txt"});  // no temp file left behind
}

TEST_F(WriteGraph, SnapWeightedExactBytes) {
  atl::write_edge_list(tiny_weighted(), path("g.snap"), GraphFormat::kSnap);
  EXPECT_EQ(read(path("g.snap")),
            "# atoll edge list: 6 edges, weighted\n"
            "# vertices: 1..4\n"
            "1\t2\t1\n"
            "2\t3\t-2.5\n"
            "3\t4\t1e+300\n"
            "4\t1\t9007199254740992\n"
            "1\t1\t0.1\n"
            "2\t2\t-7\n");
}

TEST_F(WriteGraph, SnapEmpty) {
  atl::write_edge_list(EdgeList{}, path("empty.txt"));
  EXPECT_EQ(read(path("empty.txt")), "# atoll edge list: 0 edges\n");
  EdgeList weighted;
  weighted.weighted = true;
  weighted.declared = atl::VertexRange{5, 0};
  atl::write_edge_list(weighted, path("empty-weighted.txt"));
  EXPECT_EQ(read(path("empty-weighted.txt")),
            "# atoll edge list: 0 edges, weighted\n# vertices: none\n");
}

TEST_F(WriteGraph, InconsistentWeightsAreRejected) {
  EdgeList g = tiny_unweighted();
  g.weights = {1.0};  // neither 0 nor one per edge
  EXPECT_THROW(atl::write_edge_list(g, path("bad.txt")), atl::Error);
  g.weighted = true;
  EXPECT_THROW(atl::write_edge_list(g, path("bad.bin")), atl::Error);
  EXPECT_TRUE(listing().empty());
}

TEST_F(WriteGraph, SnapManyBlocksMatchSerialFormatting) {
  // > 2 formatting blocks of 2^20 edges, with a partial last block.
  atl::UniformParams params;
  params.vertices = 1u << 30;
  params.edges = (3u << 20) + 12345;
  params.weights = atl::WeightRange{-9, 9};
  const EdgeList g = atl::generate_uniform(params);
  atl::write_edge_list(g, path("big.txt"));
  std::ostringstream expected;
  expected << "# atoll edge list: " << g.size() << " edges, weighted\n# vertices: 0.."
           << (1u << 30) - 1 << "\n";
  for (std::size_t i = 0; i < g.size(); ++i) {
    expected << g.edges[i].src << '\t' << g.edges[i].dst << '\t'
             << static_cast<std::int64_t>(g.weights[i]) << '\n';
  }
  EXPECT_TRUE(read(path("big.txt")) == expected.str());
}

TEST_F(WriteGraph, AutoFormatFollowsExtension) {
  atl::write_edge_list(tiny_unweighted(), path("g.bin"));
  atl::write_edge_list(tiny_unweighted(), path("g.bin.txt"));
  EXPECT_EQ(read(path("g.bin")).substr(0, 8), "ATOLLEL1");
  EXPECT_EQ(read(path("g.bin.txt")).substr(0, 1), "#");
  // An explicit format wins over the name.
  atl::write_edge_list(tiny_unweighted(), path("text.bin"), GraphFormat::kSnap);
  EXPECT_EQ(read(path("text.bin")).substr(0, 1), "#");
}

TEST_F(WriteGraph, OverwritesExistingFile) {
  atl::write_edge_list(tiny_weighted(), path("g.txt"));
  atl::write_edge_list(tiny_unweighted(), path("g.txt"));
  EXPECT_EQ(read(path("g.txt")).substr(0, 27), "# atoll edge list: 3 edges\n");
  EXPECT_EQ(listing(), std::vector<std::string>{"g.txt"});
}

// ---- binary -----------------------------------------------------------------------------------

TEST_F(WriteGraph, BinaryWeightedLayout) {
  const EdgeList g = tiny_weighted();
  const std::size_t m = g.size();
  atl::write_edge_list(g, path("g.bin"));
  const std::string bytes = read(path("g.bin"));
  ASSERT_EQ(bytes.size(), 48 + 16 * m + 8 * m + 8);

  EXPECT_EQ(bytes.substr(0, 8), "ATOLLEL1");
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 8), 1u);   // version
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 12), 3u);  // weighted | declared
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 16), m);
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 24), 1u);  // declared first
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 32), 4u);  // declared count
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 40), atl::crc32c(0, bytes.data(), 40));
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 44), 0u);

  for (std::size_t i = 0; i < m; ++i) {
    EXPECT_EQ(load_le<std::uint64_t>(bytes, 48 + 16 * i), g.edges[i].src);
    EXPECT_EQ(load_le<std::uint64_t>(bytes, 48 + 16 * i + 8), g.edges[i].dst);
    EXPECT_EQ(load_le<double>(bytes, 48 + 16 * m + 8 * i), g.weights[i]);
  }
  const std::size_t payload = 16 * m + 8 * m;
  const std::size_t trailer = 48 + payload;
  EXPECT_EQ(load_le<std::uint32_t>(bytes, trailer), atl::crc32c(0, bytes.data() + 48, payload));
  EXPECT_EQ(load_le<std::uint32_t>(bytes, trailer + 4), 0u);
}

TEST_F(WriteGraph, BinaryUnweightedLayout) {
  const EdgeList g = tiny_unweighted();
  const std::size_t m = g.size();
  atl::write_edge_list(g, path("u.bin"), GraphFormat::kBin);
  const std::string bytes = read(path("u.bin"));
  ASSERT_EQ(bytes.size(), 48 + 16 * m + 8);
  EXPECT_EQ(bytes.substr(0, 8), "ATOLLEL1");
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 8), 1u);
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 12), 0u);
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 16), m);
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 24), 0u);
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 32), 0u);
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 40), atl::crc32c(0, bytes.data(), 40));
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 48 + 32), 18446744073709551615ull);
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 48 + 16 * m), atl::crc32c(0, bytes.data() + 48, 16 * m));
}

TEST_F(WriteGraph, BinaryLargeGraphSizeAndCrc) {
  // Larger than one crc/write chunk, so the running crc crosses chunk boundaries.
  atl::GridParams params;
  params.rows = 300;
  params.cols = 400;
  params.weights = atl::WeightRange{1, 9};
  const EdgeList g = atl::generate_grid(params);
  const std::size_t m = g.size();
  atl::write_edge_list(g, path("grid.bin"));
  const std::string bytes = read(path("grid.bin"));
  ASSERT_EQ(bytes.size(), 48 + 24 * m + 8);
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 12), 3u);
  EXPECT_EQ(load_le<std::uint64_t>(bytes, 32), 300u * 400u);
  EXPECT_EQ(load_le<std::uint32_t>(bytes, 48 + 24 * m), atl::crc32c(0, bytes.data() + 48, 24 * m));
}

// ---- errors -----------------------------------------------------------------------------------

TEST_F(WriteGraph, UnwritablePathThrowsNamingPath) {
  const std::string bad = "/nonexistent-dir/x.bin";
  try {
    atl::write_edge_list(tiny_unweighted(), bad);
    FAIL() << "expected atl::Error";
  } catch (const atl::Error& e) {
    EXPECT_EQ(e.kind(), atl::ErrorKind::kRuntime);
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
}

TEST_F(WriteGraph, FailedRenameLeavesNoTempFile) {
  // The target is a non-empty directory: the temp file is written, the rename fails.
  fs::create_directory(path("target"));
  std::ofstream(path("target") + "/keep").put('x');
  EXPECT_THROW(atl::write_edge_list(tiny_weighted(), path("target")), atl::Error);
  EXPECT_EQ(listing(), std::vector<std::string>{"target"});
}

TEST_F(WriteGraph, UnwritableFormatsAreUsageErrors) {
  try {
    atl::write_edge_list(tiny_unweighted(), path("g.out"), GraphFormat::kGr);
    ADD_FAILURE() << "expected atl::Error";
  } catch (const atl::Error& e) {
    EXPECT_EQ(e.kind(), atl::ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("snap, bin, mtx"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(listing().empty());
}

TEST_F(WriteGraph, CompressedNamesAreRefused) {
  for (const char* name : {"g.el.gz", "g.el.zst", "g.bin.zst"}) {
    try {
      atl::write_edge_list(tiny_unweighted(), path(name));
      ADD_FAILURE() << "expected atl::Error for " << name;
    } catch (const atl::Error& e) {
      EXPECT_EQ(e.kind(), atl::ErrorKind::kUsage);
      EXPECT_NE(std::string(e.what()).find("writes no compressed files"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(listing().empty());
}

TEST_F(WriteGraph, MatrixMarketRoundTrip) {
  EdgeList g;
  g.edges = {{1, 2}, {2, 3}, {3, 1}};
  g.weights = {0.5, 2, 3.25};
  g.weighted = true;
  atl::write_edge_list(g, path("g.mtx"));
  const std::string text = read(path("g.mtx"));
  EXPECT_TRUE(text.starts_with("%%MatrixMarket matrix coordinate real general\n")) << text;
  EdgeList back = atl::read_edge_list(path("g.mtx"));
  EXPECT_EQ(back.edges, g.edges);
  EXPECT_EQ(back.weights, g.weights);
  ASSERT_TRUE(back.declared.has_value());
  EXPECT_EQ(back.declared->count, 3u);
}

TEST_F(WriteGraph, MatrixMarketRefusesVertexZero) {
  try {
    atl::write_edge_list(tiny_unweighted(), path("g.mtx"));  // has vertex 0
    ADD_FAILURE() << "expected atl::Error";
  } catch (const atl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("numbers vertices from 1"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(listing().empty());
}

}  // namespace
