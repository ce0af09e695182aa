// Tests of the atom block codecs (graph/src/atom_codec.hpp): varints at their limits, round
// trips of id and edge blocks (sorted and unsorted runs, weights, several blocks), and that
// every truncation of a valid payload is reported, never read past.
#include "atom_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "varint.hpp"

namespace {

using atl::Edge;
using atl::Gid;
using atl::detail::EncodedBlock;
using atl::detail::kMaxBlockPayload;

std::vector<unsigned char> buffer() {
  return std::vector<unsigned char>(kMaxBlockPayload);
}

TEST(AtomCodec, VarintLimitsAndZigzag) {
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{127}, std::uint64_t{128},
                          std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
    unsigned char bytes[atl::detail::kMaxVarintBytes];
    const unsigned char* end = atl::detail::put_varint(bytes, v);
    atl::detail::VarintReader in(bytes, end);
    std::uint64_t back = 1;
    ASSERT_TRUE(in.next(&back));
    EXPECT_EQ(back, v);
    EXPECT_TRUE(in.done());
    atl::detail::VarintReader cut(bytes, end - 1);  // one byte short
    if (end - bytes > 1) {
      EXPECT_FALSE(cut.next(&back));
    }
    EXPECT_EQ(atl::detail::unzigzag(atl::detail::zigzag(v)), v);
  }
  EXPECT_EQ(atl::detail::zigzag(0), 0u);
  EXPECT_EQ(atl::detail::zigzag(~std::uint64_t{0}), 1u);  // -1
  EXPECT_EQ(atl::detail::zigzag(1), 2u);
  const unsigned char eleven[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0x81, 0x00};  // bit 64 set
  atl::detail::VarintReader in(eleven, eleven + sizeof eleven);
  std::uint64_t v = 0;
  EXPECT_FALSE(in.next(&v));
}

TEST(AtomCodec, IdBlocksRoundTripAcrossBlocks) {
  std::vector<Gid> ids;
  std::vector<atl::detail::GhostRecord> ghosts;
  std::mt19937_64 rng(3);
  Gid g = 0;
  for (int i = 0; i < 1000000; ++i) {  // gaps of every size, up to the top of the id space
    g += 1 + (i % 1000 == 0 ? rng() % (std::uint64_t{1} << 40) : rng() % 300);
    ids.push_back(g);
    ghosts.push_back({g, static_cast<std::uint32_t>(rng()), 0});
  }
  ids.push_back(~Gid{0});
  ghosts.push_back({~Gid{0}, 7, 0});
  for (bool with_owner : {false, true}) {
    auto out = buffer();
    std::vector<Gid> back(ids.size());
    std::vector<std::uint32_t> owners(ids.size());
    int blocks = 0;
    for (std::uint64_t first = 0; first < ids.size(); ++blocks) {
      const EncodedBlock b = with_owner ? atl::detail::encode_ghost_block(ghosts, first, out.data())
                                        : atl::detail::encode_vertex_block(ids, first, out.data());
      ASSERT_GT(b.records, 0u);
      ASSERT_LE(b.bytes, kMaxBlockPayload);
      const std::string error = atl::detail::decode_id_block(
          {out.data(), b.bytes}, static_cast<std::uint32_t>(b.records), back.data() + first,
          with_owner ? owners.data() + first : nullptr);
      ASSERT_EQ(error, "");
      first += b.records;
    }
    EXPECT_GE(blocks, 2);
    EXPECT_EQ(back, ids);
    if (with_owner) {
      for (std::size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(owners[i], ghosts[i].atom);
    }
  }
}

/// Edges in local ids: sorted runs, unsorted runs, repeats and single edges.
std::vector<Edge> local_edges(std::size_t n, std::uint64_t sources, std::uint64_t targets) {
  std::mt19937_64 rng(11);
  std::vector<Edge> edges;
  while (edges.size() < n) {
    const std::uint64_t src = rng() % sources;
    const std::size_t run = 1 + rng() % 40;
    const bool sorted = rng() % 2 == 0;
    std::uint64_t dst = rng() % targets;
    for (std::size_t k = 0; k < run && edges.size() < n; ++k) {
      edges.push_back({src, dst});
      dst = sorted ? std::min(targets - 1, dst + rng() % 5) : rng() % targets;
    }
  }
  return edges;
}

TEST(AtomCodec, EdgeBlocksRoundTripWithAndWithoutWeights) {
  const std::uint64_t sources = 5000, targets = 70000;
  std::vector<Gid> source_gids(sources), target_gids(targets);
  for (std::uint64_t i = 0; i < sources; ++i) source_gids[i] = 3 * i + 1;
  for (std::uint64_t i = 0; i < targets; ++i) target_gids[i] = 5 * i + 2;
  const std::vector<Edge> local = local_edges(1000000, sources, targets);
  std::vector<double> weights(local.size());
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = 0.25 * static_cast<double>(i);
  for (bool weighted : {false, true}) {
    SCOPED_TRACE(weighted ? "weighted" : "unweighted");
    auto out = buffer();
    std::vector<Edge> back(local.size());
    std::vector<double> back_weights(local.size());
    int blocks = 0;
    for (std::uint64_t first = 0; first < local.size(); ++blocks) {
      const EncodedBlock b = atl::detail::encode_edge_block(
          local, weighted ? std::span<const double>(weights) : std::span<const double>(), first,
          out.data());
      ASSERT_GT(b.records, 0u);
      ASSERT_LE(b.bytes, kMaxBlockPayload);
      const std::span<const unsigned char> payload(out.data(), b.bytes);
      const auto records = static_cast<std::uint32_t>(b.records);
      ASSERT_EQ(atl::detail::decode_edge_block(payload, records, source_gids, target_gids,
                                               back.data() + first,
                                               weighted ? back_weights.data() + first : nullptr),
                "");
      if (blocks == 0) {  // every shorter payload is an error, never a read past its end
        std::vector<Edge> scratch(b.records);
        std::vector<double> scratch_weights(b.records);
        for (std::size_t cut = 0; cut < b.bytes; cut += 1 + cut / 16) {
          EXPECT_NE(atl::detail::decode_edge_block(payload.first(cut), records, source_gids,
                                                   target_gids, scratch.data(),
                                                   weighted ? scratch_weights.data() : nullptr),
                    "")
              << "cut at " << cut;
        }
      }
      first += b.records;
    }
    EXPECT_GE(blocks, 2);
    for (std::size_t i = 0; i < local.size(); ++i) {
      ASSERT_EQ(back[i].src, source_gids[local[i].src]) << i;
      ASSERT_EQ(back[i].dst, target_gids[local[i].dst]) << i;
      if (weighted) {
        ASSERT_EQ(back_weights[i], weights[i]) << i;
      }
    }
  }
}

TEST(AtomCodec, AWalkVisitsTheKeptRunsAsDecodingThem) {
  // A walk that rejects some sources visits exactly the decoded edges of the others, with
  // their record indexes, and still reads the skipped runs' bytes (a cut one is an error).
  const std::uint64_t sources = 300, targets = 4000;
  std::vector<Gid> source_gids(sources), target_gids(targets);
  for (std::uint64_t i = 0; i < sources; ++i) source_gids[i] = 7 * i;
  for (std::uint64_t i = 0; i < targets; ++i) target_gids[i] = 3 * i + 1;
  const std::vector<Edge> local = local_edges(20000, sources, targets);
  auto out = buffer();
  const EncodedBlock b = atl::detail::encode_edge_block(local, {}, 0, out.data());
  const std::span<const unsigned char> payload(out.data(), b.bytes);
  const auto records = static_cast<std::uint32_t>(b.records);
  std::vector<Edge> decoded(records);
  ASSERT_EQ(atl::detail::decode_edge_block(payload, records, source_gids, target_gids,
                                           decoded.data(), nullptr),
            "");
  auto keep = [](Gid src) { return src % 3 != 0; };  // gids 7i: every third source skipped
  std::vector<std::pair<std::uint32_t, Edge>> want, got;
  for (std::uint32_t i = 0; i < records; ++i) {
    if (keep(decoded[i].src)) want.push_back({i, decoded[i]});
  }
  ASSERT_GT(want.size(), records / 2);
  ASSERT_LT(want.size(), records);
  EXPECT_EQ(atl::detail::walk_edge_block(payload, records, source_gids, target_gids, keep,
                                         [&](std::uint32_t i, Gid src, Gid dst) {
                                           got.push_back({i, Edge{src, dst}});
                                         }),
            "");
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    ASSERT_EQ(got[k].first, want[k].first) << k;
    ASSERT_EQ(got[k].second.src, want[k].second.src) << k;
    ASSERT_EQ(got[k].second.dst, want[k].second.dst) << k;
  }
  for (std::size_t cut = 0; cut < b.bytes; cut += 1 + cut / 8) {
    EXPECT_NE(atl::detail::walk_edge_block(payload.first(cut), records, source_gids, target_gids,
                                           keep, [](std::uint32_t, Gid, Gid) {}),
              "")
        << "cut at " << cut;
  }
}

TEST(AtomCodec, EdgeIdsOutsideTheTablesAreErrors) {
  const std::vector<Edge> local = {{0, 3}, {0, 4}, {1, 2}};
  auto out = buffer();
  const EncodedBlock b = atl::detail::encode_edge_block(local, {}, 0, out.data());
  const std::span<const unsigned char> payload(out.data(), b.bytes);
  std::vector<Edge> back(3);
  const std::vector<Gid> two = {10, 20}, five = {1, 2, 3, 4, 5}, four = {1, 2, 3, 4};
  EXPECT_EQ(atl::detail::decode_edge_block(payload, 3, two, five, back.data(), nullptr), "");
  EXPECT_EQ(atl::detail::decode_edge_block(payload, 3, {two.data(), 1}, five, back.data(), nullptr),
            "record 2: source 1 out of range (1 in the table)");
  EXPECT_EQ(atl::detail::decode_edge_block(payload, 3, two, four, back.data(), nullptr),
            "record 1: target gap 1 runs past the table");
  EXPECT_NE(atl::detail::decode_edge_block(payload, 2, two, five, back.data(), nullptr), "");
}

}  // namespace
