// Tests of the binary edge-list reader against files laid out by hand from docs/formats.md:
// round trips, every corruption check with its message, and a range violation deep in a large
// file for several thread counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/graph_format.hpp"
#include "atoll/graph/load_topology.hpp"
#include "atoll/graph/read_graph.hpp"
#include "test_util.hpp"

namespace {

using atl::Edge;
using atl::EdgeList;
using atl::VertexRange;
using atl::test::error_of;
using atl::test::with_threads;
using testing::HasSubstr;
using testing::StartsWith;

template <typename T>
void put(std::string& bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);  // the test host is little-endian
}

void fix_header_crc(std::string& bytes) {
  put<std::uint32_t>(bytes, 40, atl::crc32c(0, bytes.data(), 40));
}

/// The version-1 file for list, laid out field by field as docs/formats.md describes.
std::string encode(const EdgeList& list) {
  const std::size_t m = list.size();
  const std::size_t payload = m * 16 + (list.weighted ? m * 8 : 0);
  std::string bytes(48 + payload + 8, '\0');
  std::memcpy(bytes.data(), "ATOLLEL1", 8);
  put<std::uint32_t>(bytes, 8, 1);
  put<std::uint32_t>(bytes, 12, (list.weighted ? 1u : 0u) | (list.declared ? 2u : 0u));
  put<std::uint64_t>(bytes, 16, m);
  put<std::uint64_t>(bytes, 24, list.declared ? list.declared->first : 0);
  put<std::uint64_t>(bytes, 32, list.declared ? list.declared->count : 0);
  fix_header_crc(bytes);
  for (std::size_t i = 0; i < m; ++i) {
    put<std::uint64_t>(bytes, 48 + 16 * i, list.edges[i].src);
    put<std::uint64_t>(bytes, 48 + 16 * i + 8, list.edges[i].dst);
    if (list.weighted) put<double>(bytes, 48 + 16 * m + 8 * i, list.weights[i]);
  }
  put<std::uint32_t>(bytes, 48 + payload, atl::crc32c(0, bytes.data() + 48, payload));
  return bytes;
}

EdgeList sample(bool weighted, bool declared) {
  EdgeList g;
  g.edges = {{1, 2}, {2, 3}, {3, 1}, {3, 3}, {1, 2}};
  if (weighted) {
    g.weighted = true;
    g.weights = {1.5, -2, 1e300, 0, 7};
  }
  if (declared) g.declared = VertexRange{1, 5};
  return g;
}

std::string bin_error(const std::string& bytes) {
  return error_of([&] { atl::parse_binary(bytes, "g.bin"); });
}

TEST(ParseBinary, RoundTrips) {
  for (bool weighted : {false, true}) {
    for (bool declared : {false, true}) {
      EdgeList g = sample(weighted, declared);
      EXPECT_EQ(atl::parse_binary(encode(g), "g.bin"), g) << weighted << declared;
    }
  }
  EdgeList huge;
  huge.edges = {{0, UINT64_MAX}, {UINT64_MAX, 0}};
  EXPECT_EQ(atl::parse_binary(encode(huge), "g.bin"), huge);
}

TEST(ParseBinary, EmptyGraphs) {
  EdgeList none;
  EXPECT_EQ(encode(none).size(), 56u);
  EXPECT_EQ(atl::parse_binary(encode(none), "g.bin"), none);
  EdgeList isolated;
  isolated.weighted = true;
  isolated.declared = VertexRange{10, 4};
  EXPECT_EQ(atl::parse_binary(encode(isolated), "g.bin"), isolated);
}

TEST(ParseBinary, DetectFormatAndReadCompressed) {
  EdgeList g = sample(true, true);
  std::string bytes = encode(g);
  EXPECT_EQ(atl::detect_format(bytes), atl::GraphFormat::kBin);
  EXPECT_EQ(atl::parse_edge_list(bytes, atl::GraphFormat::kAuto, "g.bin"), g);
  atl::test::TempDir dir;
  atl::test::write_file(dir.file("g.bin"), bytes);
  atl::test::write_file(dir.file("g.bin.zst"), atl::test::zstd_compress(bytes));
  atl::test::write_file(dir.file("g.bin.gz"), atl::test::gzip_compress(bytes));
  for (const char* name : {"g.bin", "g.bin.zst", "g.bin.gz"}) {
    EXPECT_EQ(atl::read_edge_list(dir.file(name)), g) << name;
    EXPECT_EQ(atl::read_edge_list(dir.file(name), atl::GraphFormat::kBin), g) << name;
  }
}

TEST(ParseBinary, ErrorBadMagic) {
  std::string bytes = encode(sample(false, false));
  bytes[7] = '2';
  EXPECT_EQ(bin_error(bytes),
            "g.bin: not an Atoll binary edge list (bad magic; expected 'ATOLLEL1')");
  EXPECT_THAT(bin_error("ATOLL"), HasSubstr("bad magic"));
  EXPECT_THAT(bin_error(""), HasSubstr("bad magic"));
  // Forcing the binary format on a text file.
  EXPECT_THAT(error_of([] { atl::parse_edge_list("1 2\n", atl::GraphFormat::kBin, "t.txt"); }),
              StartsWith("t.txt: not an Atoll binary edge list (bad magic"));
}

TEST(ParseBinary, ErrorTruncatedHeader) {
  std::string bytes = encode(sample(false, false)).substr(0, 20);
  EXPECT_EQ(bin_error(bytes),
            "g.bin: truncated binary edge list: 20 bytes, the header alone is 48");
}

TEST(ParseBinary, ErrorNewerVersion) {
  std::string bytes = encode(sample(false, false));
  put<std::uint32_t>(bytes, 8, 2);
  EXPECT_EQ(bin_error(bytes),
            "g.bin: binary edge list version 2 is newer than this build reads (1)");
  fix_header_crc(bytes);
  EXPECT_THAT(bin_error(bytes), HasSubstr("newer"));
  put<std::uint32_t>(bytes, 8, 0);
  fix_header_crc(bytes);
  EXPECT_EQ(bin_error(bytes), "g.bin: invalid binary edge list version 0");
}

TEST(ParseBinary, ErrorHeaderChecksum) {
  std::string bytes = encode(sample(false, false));
  put<std::uint64_t>(bytes, 16, 4);  // edge count changed, checksum not updated
  EXPECT_EQ(bin_error(bytes), "g.bin: binary edge list header checksum mismatch (corrupt file)");
  bytes = encode(sample(false, false));
  bytes[41] ^= 0x01;  // the checksum itself
  EXPECT_THAT(bin_error(bytes), HasSubstr("header checksum mismatch"));
}

TEST(ParseBinary, ErrorBadFlagsAndRange) {
  std::string bytes = encode(sample(false, false));
  put<std::uint32_t>(bytes, 12, 4);
  fix_header_crc(bytes);
  EXPECT_EQ(bin_error(bytes), "g.bin: binary edge list has unknown flags 0x4");

  bytes = encode(sample(false, false));
  put<std::uint64_t>(bytes, 32, 3);  // a range without its flag
  fix_header_crc(bytes);
  EXPECT_EQ(bin_error(bytes),
            "g.bin: binary edge list has a vertex range but no flag for it (corrupt header)");

  EdgeList g;
  g.declared = VertexRange{UINT64_MAX, 2};
  EXPECT_EQ(bin_error(encode(g)), "g.bin: binary edge list vertex range overflows 64 bits");
}

TEST(ParseBinary, ErrorTruncatedPayload) {
  EdgeList g = sample(true, false);
  std::string full = encode(g);
  ASSERT_EQ(full.size(), 48u + 5 * 24 + 8);
  EXPECT_EQ(bin_error(full.substr(0, full.size() - 1)),
            "g.bin: truncated binary edge list: expected 176 bytes, got 175");
  EXPECT_EQ(bin_error(full.substr(0, 48 + 24 * 2)),
            "g.bin: truncated binary edge list: header declares 5 edges, file has 96 bytes");
  EXPECT_THAT(bin_error(full.substr(0, 48)), HasSubstr("truncated binary edge list"));
  // A huge declared count must not overflow the size computation.
  std::string bytes = full;
  put<std::uint64_t>(bytes, 16, UINT64_MAX / 8);
  fix_header_crc(bytes);
  EXPECT_THAT(bin_error(bytes), HasSubstr("truncated binary edge list: header declares"));
}

TEST(ParseBinary, ErrorTrailingBytes) {
  std::string bytes = encode(sample(false, true)) + "xyz";
  EXPECT_EQ(bin_error(bytes), "g.bin: binary edge list has 3 unexpected trailing bytes");
}

TEST(ParseBinary, ErrorPayloadChecksum) {
  for (std::size_t offset :
       {std::size_t{48}, std::size_t{48 + 16 * 5 + 3}, std::size_t{48 + 120}}) {
    std::string bytes = encode(sample(true, false));
    bytes[offset] ^= 0x20;
    EXPECT_EQ(bin_error(bytes), "g.bin: binary edge list payload checksum mismatch (corrupt file)")
        << "offset " << offset;
  }
}

TEST(ParseBinary, ErrorIdOutsideDeclaredRange) {
  EdgeList g = sample(false, true);  // range 1..5
  g.edges[3] = {6, 1};
  EXPECT_EQ(bin_error(encode(g)),
            "g.bin: edge 3 (6 -> 1) lies outside the declared vertex range 1..5");
  g.edges[3] = {1, 0};
  EXPECT_EQ(bin_error(encode(g)),
            "g.bin: edge 3 (1 -> 0) lies outside the declared vertex range 1..5");
}

TEST(ParseBinaryLarge, FirstOutOfRangeEdgeDeepInFile) {
  EdgeList g;
  const std::size_t m = 1'500'000;
  g.edges.resize(m);
  for (std::size_t i = 0; i < m; ++i) g.edges[i] = {i % 1000, (i * 7) % 1000};
  g.declared = VertexRange{0, 1000};
  g.edges[1'234'567] = {5, 1000};
  g.edges[1'400'000] = {1001, 5};
  g.edges[987'654] = {2000, 3000};
  std::string bytes = encode(g);
  for (int threads : {1, 4}) {
    std::string msg = with_threads(threads, [&] { return bin_error(bytes); });
    EXPECT_EQ(msg,
              "g.bin: edge 987654 (2000 -> 3000) lies outside the declared vertex range 0..999")
        << "threads=" << threads;
  }
  g.edges[987'654] = {1, 2};
  g.edges[1'234'567] = {5, 6};
  g.edges[1'400'000] = {7, 8};
  std::string good = encode(g);
  for (int threads : {1, 4}) {
    EdgeList back = with_threads(threads, [&] { return atl::parse_binary(good, "g.bin"); });
    EXPECT_TRUE(back == g) << "threads=" << threads;
  }
}

}  // namespace

namespace {

/// Every array of t, for comparing two builds.
std::vector<std::vector<std::uint64_t>> arrays_of(const atl::Topology& t) {
  std::vector<std::vector<std::uint64_t>> a(6);
  for (atl::Lid v = 0; v < t.num_vertices(); ++v) a[0].push_back(t.gid(v));
  a[1].assign(t.out_offsets().begin(), t.out_offsets().end());
  a[2].assign(t.out_targets().begin(), t.out_targets().end());
  a[3].assign(t.in_sources().begin(), t.in_sources().end());
  a[4].assign(t.in_edge_ids().begin(), t.in_edge_ids().end());
  for (double w : t.weights()) a[5].push_back(std::bit_cast<std::uint64_t>(w));
  return a;
}

TEST(LoadTopology, MappedBinaryBuildsTheSameGraph) {
  atl::test::TempDir dir;
  for (bool weighted : {false, true}) {
    for (bool declared : {false, true}) {
      EdgeList g = sample(weighted, declared);
      atl::test::write_file(dir.file("g.bin"), encode(g));
      // The mapped input is placed with shared counters, an edge list by chunks: the same
      // graph, also when the build numbers the vertices by degree.
      for (atl::BuildOptions opt :
           {atl::BuildOptions{}, atl::BuildOptions{false, true}, atl::BuildOptions{true, true},
            atl::BuildOptions{true, true, true}, atl::BuildOptions{false, false, true}}) {
        SCOPED_TRACE(testing::Message() << "weighted " << weighted << " declared " << declared
                                        << " symmetrize " << opt.symmetrize << " dedup "
                                        << opt.dedup << " by degree " << opt.degree_order);
        atl::Topology loaded = atl::load_topology(dir.file("g.bin"), atl::GraphFormat::kAuto,
                                                  atl::MtxLayout::kAuto, opt);
        EXPECT_EQ(arrays_of(loaded), arrays_of(atl::Topology::build(g, opt)));
      }
    }
  }
}

TEST(LoadTopology, AtomDirectoriesBuildTheSameGraph) {
  // Atoms are decoded straight into rows (atom_part.hpp); weighted ones symmetrized, and builds
  // by degree, go through the edge list: every way gives Topology::build's arrays.
  atl::test::TempDir dir;
  EdgeList uniform =
      atl::generate_uniform({.vertices = 300, .edges = 4000, .seed = 3, .weights = {}});
  for (std::size_t i = 0, m = uniform.size(); i < m; i += 7)
    uniform.edges.push_back(uniform.edges[i]);
  for (atl::Gid v = 0; v < 300; v += 5) uniform.edges.push_back({v, v});
  uniform.declared = VertexRange{0, 320};
  EdgeList sparse = uniform;
  sparse.declared.reset();
  for (Edge& e : sparse.edges) e = {7 + 1000 * e.src, 7 + 1000 * e.dst};
  EdgeList weighted = atl::generate_uniform(
      {.vertices = 200, .edges = 2000, .seed = 4, .weights = atl::WeightRange{1, 9}});
  for (std::size_t i = 0, m = weighted.size(); i < m; i += 5) {  // repeats told apart by weight
    weighted.edges.push_back(weighted.edges[i]);
    weighted.weights.push_back(weighted.weights[i] + 0.5);
  }
  atl::PartitionOptions metis;
  metis.atoms = 8;
  metis.method = atl::AtomMethod::kMetis;
  const std::tuple<const char*, const EdgeList*, atl::PartitionOptions> inputs[] = {
      {"uniform", &uniform, atl::PartitionOptions{.atoms = 13}},
      {"uniform-metis", &uniform, metis},
      {"sparse", &sparse, atl::PartitionOptions{.atoms = 5}},
      {"weighted", &weighted, atl::PartitionOptions{.atoms = 6}}};
  for (const auto& [name, g, partition] : inputs) {
    const std::string atoms = dir.file(name);  // not the binding: lambdas below capture it
    atl::write_atoms(*g, atoms, partition);
    for (atl::BuildOptions opt :
         {atl::BuildOptions{}, atl::BuildOptions{true, false}, atl::BuildOptions{false, true},
          atl::BuildOptions{true, true}, atl::BuildOptions{false, false, true}}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(testing::Message()
                     << name << " symmetrize " << opt.symmetrize << " dedup " << opt.dedup
                     << " by degree " << opt.degree_order << " threads " << threads);
        EXPECT_EQ(with_threads(threads,
                               [&] {
                                 return arrays_of(atl::load_topology(atoms, atl::GraphFormat::kAuto,
                                                                     atl::MtxLayout::kAuto, opt));
                               }),
                  arrays_of(atl::Topology::build(*g, opt)));
      }
    }
  }
}

TEST(LoadTopology, MappedBinaryErrorsNameTheFile) {
  atl::test::TempDir dir;
  std::string bytes = encode(sample(false, false));
  bytes[48 + 3] ^= 1;  // a payload byte
  atl::test::write_file(dir.file("bad.bin"), bytes);
  EXPECT_EQ(error_of([&] { atl::load_topology(dir.file("bad.bin")); }),
            dir.file("bad.bin") + ": binary edge list payload checksum mismatch (corrupt file)");
  EdgeList out_of_range = sample(false, true);
  out_of_range.edges[1] = {9, 1};
  atl::test::write_file(dir.file("range.bin"), encode(out_of_range));
  EXPECT_EQ(
      error_of([&] { atl::load_topology(dir.file("range.bin")); }),
      dir.file("range.bin") + ": edge 1 (9 -> 1) lies outside the declared vertex range 1..5");
}

}  // namespace
