// The decoders of the batches peers put into mailboxes: well-formed batches decode to what was
// encoded, and every kind of malformed batch is an Error naming the source and the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "batch_decode.hpp"
#include "test_util.hpp"

namespace {

using namespace atl;
using namespace atl::detail;

struct Bytes {
  std::vector<std::byte> b;
  template <typename T>
  Bytes& put(T v) {
    const std::size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
};

const GhostBatchLimits kLimits{4, 8, 10, sizeof(double)};  // ghosts 4..7 from rank 3

std::string ghost_error(const Bytes& batch) {
  try {
    decode_ghost_batch(
        batch.b, 3, kLimits, [](const std::byte*) {}, [](const SparseEntries&) {},
        [](Lid, double) {});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(BatchDecode, SparseGhostBatchRoundTrip) {
  Bytes batch;
  batch.put<std::uint64_t>(kSparseBatch).put<std::uint64_t>(2);
  batch.put<Lid>(5).put(1.5).put<Lid>(7).put(-2.0);
  batch.put<std::uint64_t>(1).put<Lid>(9).put(0.25);
  std::vector<std::pair<Lid, double>> values, requests;
  decode_ghost_batch(
      batch.b, 3, kLimits, [](const std::byte*) { FAIL() << "not dense"; },
      [&](const SparseEntries& entries) {
        for (std::uint64_t i = 0; i < entries.size(); ++i) {
          double d;
          std::memcpy(&d, entries.data(i), sizeof d);
          values.emplace_back(entries.lid(i), d);
        }
      },
      [&](Lid lid, double p) { requests.emplace_back(lid, p); });
  EXPECT_EQ(values, (std::vector<std::pair<Lid, double>>{{5, 1.5}, {7, -2.0}}));
  EXPECT_EQ(requests, (std::vector<std::pair<Lid, double>>{{9, 0.25}}));
}

TEST(BatchDecode, DenseGhostBatchCoversTheRange) {
  Bytes batch;
  batch.put<std::uint64_t>(kDenseBatch).put<std::uint64_t>(4);
  for (int i = 0; i < 4; ++i) batch.put(double(i));
  batch.put<std::uint64_t>(0);
  int dense = 0;
  decode_ghost_batch(
      batch.b, 3, kLimits, [&](const std::byte*) { ++dense; }, [](const SparseEntries&) {},
      [](Lid, double) {});
  EXPECT_EQ(dense, 1);
}

TEST(BatchDecode, ASparseBatchWithABadLidDeliversNothing) {
  // Every lid is checked before the receiver sees any entry: the bad one is the last.
  Bytes batch;
  batch.put<std::uint64_t>(kSparseBatch).put<std::uint64_t>(3);
  batch.put<Lid>(5).put(1.5).put<Lid>(6).put(2.5).put<Lid>(8).put(3.5);
  batch.put<std::uint64_t>(0);
  bool delivered = false;
  EXPECT_NE(atl::test::error_of([&] {
              decode_ghost_batch(
                  batch.b, 3, kLimits, [](const std::byte*) {},
                  [&](const SparseEntries&) { delivered = true; }, [](Lid, double) {});
            }).find("lid 8, outside its ghost range"),
            std::string::npos);
  EXPECT_FALSE(delivered);
}

TEST(BatchDecode, MalformedGhostBatchesAreNamedErrors) {
  EXPECT_NE(ghost_error(Bytes{}).find("rank 3 sent a truncated ghost batch"), std::string::npos);
  Bytes mode;
  mode.put<std::uint64_t>(7).put<std::uint64_t>(0).put<std::uint64_t>(0);
  EXPECT_NE(ghost_error(mode).find("unknown mode 7"), std::string::npos);
  Bytes dense_size;
  dense_size.put<std::uint64_t>(kDenseBatch).put<std::uint64_t>(3);
  EXPECT_NE(ghost_error(dense_size).find("3 values for a ghost range of 4"), std::string::npos);
  Bytes huge;  // a count that would overflow count x record size
  huge.put<std::uint64_t>(kSparseBatch).put<std::uint64_t>(~std::uint64_t{0} / 4);
  EXPECT_NE(ghost_error(huge).find("truncated"), std::string::npos);
  Bytes outside;
  outside.put<std::uint64_t>(kSparseBatch).put<std::uint64_t>(1).put<Lid>(8).put(1.0);
  EXPECT_NE(ghost_error(outside).find("lid 8, outside its ghost range"), std::string::npos);
  Bytes not_owned;
  not_owned.put<std::uint64_t>(kSparseBatch).put<std::uint64_t>(0);
  not_owned.put<std::uint64_t>(1).put<Lid>(10).put(1.0);
  EXPECT_NE(ghost_error(not_owned).find("schedule lid 10, which is not owned"), std::string::npos);
  Bytes extra;
  extra.put<std::uint64_t>(kSparseBatch).put<std::uint64_t>(0).put<std::uint64_t>(0).put<char>(1);
  EXPECT_NE(ghost_error(extra).find("1 extra bytes"), std::string::npos);
}

TEST(BatchDecode, MalformedWriteBacksAndCutEdgeBatchesAreNamedErrors) {
  auto write_back_error = [](const Bytes& batch) -> std::string {
    try {
      decode_write_back(batch.b, 2, 10, sizeof(double), [](Lid, const std::byte*) {});
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  Bytes wb;
  wb.put<std::uint64_t>(1).put<Lid>(10).put(1.0);
  EXPECT_NE(write_back_error(wb).find("rank 2 wrote back lid 10"), std::string::npos);
  Bytes short_wb;
  short_wb.put<std::uint64_t>(2).put<Lid>(1).put(1.0);
  EXPECT_NE(write_back_error(short_wb).find("truncated write-back"), std::string::npos);

  auto edge_error = [](const Bytes& batch) -> std::string {
    try {
      decode_cut_edge_batch(batch.b, 5, 3, sizeof(double), [](std::uint32_t, const std::byte*) {});
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  Bytes index;
  index.put<std::uint64_t>(1).put<std::uint32_t>(3).put(1.0);
  EXPECT_NE(edge_error(index).find("rank 5 sent data for cut edge 3 of 3"), std::string::npos);
  Bytes ok;
  ok.put<std::uint64_t>(1).put<std::uint32_t>(2).put(1.0);
  EXPECT_EQ(edge_error(ok), "");
  ok.put<char>(0);
  EXPECT_NE(edge_error(ok).find("1 extra bytes in a cut-edge batch"), std::string::npos);
}

}  // namespace
