// Sparse ghost batches packed and unpacked in parallel blocks (engine/src/sparse_pack.hpp): the
// same bytes as a serial walk of the lists when no vertex is listed twice, the same entries
// (each vertex once per peer) when some are, and every entry unpacked, on any number of threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <span>
#include <tuple>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/topology.hpp"
#include "sparse_pack.hpp"
#include "test_util.hpp"

namespace {

using namespace atl;

constexpr std::size_t kPeers = 4;
constexpr std::size_t kBytes = 8;

/// A graph of `n` vertices, all owned, vertex v copied on peers 1..3 when v % (peer + 1) == 0
/// (lid at peer p: v + 1000 p), so vertices have zero to three replicas.
Topology replicated_graph(Lid n) {
  EdgeList edges;
  for (Lid v = 0; v + 1 < n; ++v) edges.edges.push_back({v, v + 1});
  Topology g = Topology::build(edges);
  std::vector<std::uint64_t> offsets(n + 1, 0);
  std::vector<Replica> replicas;
  for (Lid v = 0; v < n; ++v) {
    for (int p = 1; p < static_cast<int>(kPeers); ++p) {
      if (v % static_cast<Lid>(p + 1) == 0) replicas.push_back({p, v + 1000 * static_cast<Lid>(p)});
    }
    offsets[v + 1] = replicas.size();
  }
  g.set_replicas(std::move(offsets), std::move(replicas));
  return g;
}

/// Each peer's packed entries, (lid, 8 bytes of data).
using Entries = std::vector<std::vector<std::byte>>;

/// Packs `lists` with SparsePack for every peer but `dense` (left out), on `threads` threads,
/// with the push marks `mark` (fresh ones when null).
std::pair<std::vector<std::uint64_t>, Entries> pack(const Topology& g,
                                                    std::span<const std::span<const Lid>> lists,
                                                    const std::vector<std::uint64_t>& data,
                                                    std::uint32_t stamp, int threads,
                                                    std::size_t dense = 0,
                                                    std::vector<std::uint32_t>* marks = nullptr) {
  std::vector<std::uint32_t> fresh(g.num_owned(), 0);
  std::vector<std::uint32_t>& mark = marks != nullptr ? *marks : fresh;
  return test::with_threads(threads, [&] {
    detail::SparsePack sparse(lists, kPeers);
    std::vector<std::uint64_t> count = sparse.claim(g, mark, stamp);
    Entries out(kPeers);
    std::vector<std::byte*> at(kPeers, nullptr);
    for (std::size_t p = 1; p < kPeers; ++p) {
      out[p].resize(count[p] * (sizeof(Lid) + kBytes));
      if (p != dense) at[p] = out[p].data();
    }
    sparse.write(at, reinterpret_cast<const std::byte*>(data.data()), kBytes, g);
    return std::pair{count, out};
  });
}

/// The serial walk: each vertex at its first listing, its replicas in order.
Entries serial(const Topology& g, std::span<const std::span<const Lid>> lists,
               const std::vector<std::uint64_t>& data) {
  Entries out(kPeers);
  std::vector<char> seen(g.num_owned(), 0);
  for (std::span<const Lid> list : lists) {
    for (Lid v : list) {
      if (seen[v] != 0) continue;
      seen[v] = 1;
      for (const Replica& r : g.replicas(v)) {
        auto& bytes = out[static_cast<std::size_t>(r.rank)];
        const std::size_t at = bytes.size();
        bytes.resize(at + sizeof(Lid) + kBytes);
        std::memcpy(bytes.data() + at, &r.lid, sizeof(Lid));
        std::memcpy(bytes.data() + at + sizeof(Lid), &data[v], kBytes);
      }
    }
  }
  return out;
}

/// The entries of a batch as sorted (lid, value) pairs.
std::vector<std::pair<Lid, std::uint64_t>> entries_of(const std::vector<std::byte>& bytes) {
  std::vector<std::pair<Lid, std::uint64_t>> out;
  for (std::size_t at = 0; at < bytes.size(); at += sizeof(Lid) + kBytes) {
    Lid lid;
    std::uint64_t value;
    std::memcpy(&lid, bytes.data() + at, sizeof(Lid));
    std::memcpy(&value, bytes.data() + at + sizeof(Lid), kBytes);
    out.emplace_back(lid, value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SparsePack, ManyBlocksGiveTheSerialBytes) {
  const Lid n = 200'000;
  const Topology g = replicated_graph(n);
  std::vector<std::uint64_t> data(n);
  std::iota(data.begin(), data.end(), std::uint64_t{7});
  // Three workers' lists of distinct vertices (a colour step), 100K lids in all: 9 blocks.
  std::vector<std::vector<Lid>> owned(3);
  for (Lid v = 0; v < n; v += 2) owned[(v / 2) % 3].push_back(v);
  std::vector<std::span<const Lid>> lists(owned.begin(), owned.end());
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    const auto [count, out] = pack(g, lists, data, 1, threads);
    const Entries want = serial(g, lists, data);
    for (std::size_t p = 1; p < kPeers; ++p) {
      EXPECT_EQ(count[p] * (sizeof(Lid) + kBytes), want[p].size()) << p;
      EXPECT_TRUE(out[p] == want[p]) << "peer " << p;
    }
    // A peer left out (it takes a dense batch) gets nothing written; the others are the same.
    const auto [count2, out2] = pack(g, lists, data, 1, threads, /*dense=*/2);
    EXPECT_TRUE(out2[1] == want[1] && out2[3] == want[3]);
    EXPECT_TRUE(
        std::all_of(out2[2].begin(), out2[2].end(), [](std::byte b) { return b == std::byte{0}; }));
  }
}

TEST(SparsePack, AVertexListedTwiceIsSentOnce) {
  const Lid n = 100'000;
  const Topology g = replicated_graph(n);
  std::vector<std::uint64_t> data(n);
  std::iota(data.begin(), data.end(), std::uint64_t{1} << 40);
  // Every vertex in two lists and some three times in one: 156K listings over 12 blocks.
  std::vector<Lid> all(n), evens, repeated;
  std::iota(all.begin(), all.end(), Lid{0});
  for (Lid v = 0; v < n; v += 2) evens.push_back(v);
  for (Lid v = 0; v < 2000; ++v) repeated.insert(repeated.end(), {v, v, v});
  const std::vector<std::span<const Lid>> lists{evens, all, repeated};
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    std::vector<std::uint32_t> marks(n, 0);  // kept from push to push, as GhostSync's are
    for (std::uint32_t stamp : {1u, 2u}) {   // the last push's marks count for nothing
      const auto [count, out] = pack(g, lists, data, stamp, threads, 0, &marks);
      const Entries want = serial(g, lists, data);
      for (std::size_t p = 1; p < kPeers; ++p) {
        EXPECT_EQ(count[p] * (sizeof(Lid) + kBytes), want[p].size()) << p;
        EXPECT_EQ(entries_of(out[p]), entries_of(want[p])) << "peer " << p;
      }
    }
  }
}

TEST(SparsePack, ANotOwnedLidIsAnError) {
  const Topology g = replicated_graph(100);
  std::vector<std::uint64_t> data(100, 0);
  const std::vector<Lid> bad{3, 100};
  const std::vector<std::span<const Lid>> lists{bad};
  EXPECT_THROW(pack(g, lists, data, 1, 1), Error);
  // In a later block of many, on two threads: the error still reaches the caller.
  std::vector<Lid> many(40'000, 5);
  many.back() = 100;
  const std::vector<std::span<const Lid>> long_list{many};
  EXPECT_NE(test::error_of([&] { pack(g, long_list, data, 1, 2); }).find("lid 100 is not owned"),
            std::string::npos);
}

TEST(SparsePack, ScatterWritesEveryEntryAndListsThemInOrder) {
  // 50K entries for ghosts 1000..150999 in a shuffled order (4 blocks), a mirror as well.
  const std::size_t n = 50'000;
  std::vector<Lid> lids(n);
  for (std::size_t i = 0; i < n; ++i) lids[i] = static_cast<Lid>(1000 + (i * 7919) % 150'000);
  std::vector<std::byte> batch(n * (sizeof(Lid) + kBytes));
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t value = 3 * std::uint64_t{lids[i]} + 1;
    std::memcpy(batch.data() + i * (sizeof(Lid) + kBytes), &lids[i], sizeof(Lid));
    std::memcpy(batch.data() + i * (sizeof(Lid) + kBytes) + sizeof(Lid), &value, kBytes);
  }
  const detail::SparseEntries entries(batch.data(), n, kBytes);
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    std::vector<std::uint64_t> data(151'000, 0), mirror(151'000, 0);
    std::vector<Lid> written{7};  // appended after what is there
    test::with_threads(threads, [&] {
      detail::scatter_entries(entries, reinterpret_cast<std::byte*>(data.data()),
                              reinterpret_cast<std::byte*>(mirror.data()), kBytes, &written);
    });
    ASSERT_EQ(written.size(), n + 1);
    EXPECT_EQ(written[0], 7u);
    EXPECT_TRUE(std::equal(lids.begin(), lids.end(), written.begin() + 1));
    for (Lid v : lids) {
      ASSERT_EQ(data[v], 3 * std::uint64_t{v} + 1) << v;
      ASSERT_EQ(mirror[v], data[v]) << v;
    }
    EXPECT_EQ(std::count(data.begin(), data.end(), 0u), static_cast<std::ptrdiff_t>(151'000 - n));
  }
}

}  // namespace
