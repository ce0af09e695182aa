// StaleCopies: which ranks' copies of each owned vertex a grant must refresh. The bits of 64
// vertices share a word per rank, so neighbouring vertices and ranks must not disturb each other.
#include "atoll/engine/stale_copies.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

using atl::Lid;
using atl::Replica;
using atl::StaleCopies;

TEST(StaleCopies, AChangeMarksItsReplicasOnlyAndATakeClearsOneBit) {
  StaleCopies s(200, 4);
  for (Lid v = 0; v < 200; ++v) {
    for (int r = 0; r < 4; ++r) EXPECT_FALSE(s.take(v, r)) << v << " " << r;
  }
  const std::vector<Replica> replicas{{1, 7}, {3, 9}};
  s.changed(63, replicas);
  s.changed(64, replicas, 3);  // rank 3 sent this copy: it is current there
  EXPECT_FALSE(s.take(63, 0));
  EXPECT_FALSE(s.take(63, 2));
  EXPECT_FALSE(s.take(62, 1));  // the word's other bits stay clear
  EXPECT_TRUE(s.take(63, 1));
  EXPECT_FALSE(s.take(63, 1));  // current now
  EXPECT_TRUE(s.take(63, 3));
  EXPECT_TRUE(s.take(64, 1));
  EXPECT_FALSE(s.take(64, 3));
  s.changed(199, 2);  // every rank but 2
  for (int r = 0; r < 4; ++r) EXPECT_EQ(s.take(199, r), r != 2) << r;
}

TEST(StaleCopies, ListNamesEachVertexStaleAnywhereOnceAndKeepsTheBits) {
  StaleCopies s(200, 3);
  const std::vector<Replica> at1{{1, 0}}, at2{{2, 0}}, both{{1, 0}, {2, 0}};
  s.changed(0, at1);
  s.changed(63, at2);
  s.changed(64, both);
  s.changed(130, at1);
  s.changed(130, at2);  // stale at two ranks: listed once
  s.changed(199, both);
  std::vector<Lid> out{7};  // appended to
  s.list(out);
  EXPECT_EQ(out, (std::vector<Lid>{7, 0, 63, 64, 130, 199}));
  // The bits stay: a grant still sends each version.
  EXPECT_FALSE(s.take(0, 2));
  EXPECT_TRUE(s.take(0, 1));
  EXPECT_TRUE(s.take(130, 1));
  EXPECT_TRUE(s.take(130, 2));
  out.clear();
  s.list(out);
  EXPECT_EQ(out, (std::vector<Lid>{63, 64, 199}));
}

// Threads change and take bits of distinct vertices that share words (as updates of different
// vertices do under their own locks): no bit may be lost or set by another's operation.
TEST(StaleCopies, ConcurrentChangesOfNeighbouringVerticesKeepEveryBit) {
  constexpr Lid kVertices = 256;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  StaleCopies s(kVertices, 2);
  const std::vector<Replica> replicas{{1, 0}};
  std::vector<int> taken(kVertices, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (Lid v = static_cast<Lid>(t); v < kVertices; v += kThreads) {
          s.changed(v, replicas);
          if (s.take(v, 1)) ++taken[v];
          if (s.take(v, 0)) taken[v] = -1 << 20;  // never marked for rank 0
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (Lid v = 0; v < kVertices; ++v) EXPECT_EQ(taken[v], kRounds) << v;
}

}  // namespace
