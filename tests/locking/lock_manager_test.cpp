// The lock manager on one rank (sharing, exclusion, FIFO, reader batching, priority, ordered
// multi-lock scopes, misuse) and on simulated ranks whose batches the test moves by hand
// (one round trip for a free scope over several ranks, fallback to ordered acquisition, groups
// expanded by their owner).
#include "atoll/engine/lock_manager.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"

namespace {

using namespace atl;

constexpr LockMode R = LockMode::kRead;
constexpr LockMode W = LockMode::kWrite;

/// Ranks in one thread: requests, and batches moved one hop at a time. A remote group's key
/// names the same lids at every rank (`groups`); an unknown key is an Error, as in the engine.
struct Ranks {
  std::vector<std::unique_ptr<LockManager>> m;
  std::vector<std::uint64_t> granted;  // tags, in grant order
  std::map<Lid, std::vector<Lid>> groups{{10, {4, 6}}, {11, {3}}, {12, {4}}, {13, {2}}};
  explicit Ranks(int n, Lid owned = 16, bool serial = false) {
    for (int r = 0; r < n; ++r) {
      LockHooks hooks;
      hooks.granted = [this](ScopeId, std::uint64_t tag) { granted.push_back(tag); };
      hooks.expand = [this](int, Lid key) -> std::span<const Lid> {
        const auto it = groups.find(key);
        if (it == groups.end()) fail("no lock group ", key);
        return it->second;
      };
      m.push_back(std::make_unique<LockManager>(r, n, owned, std::move(hooks), serial));
    }
  }
  /// Moves every pending batch one hop (taken first, then delivered); returns batches moved.
  int hop() {
    struct Batch {
      int from, to;
      std::vector<std::byte> bytes;
    };
    std::vector<Batch> all;
    for (int from = 0; from < static_cast<int>(m.size()); ++from) {
      for (int to = 0; to < static_cast<int>(m.size()); ++to) {
        std::vector<std::byte> b;
        if (from != to && m[from]->take_batch(to, b)) all.push_back({from, to, std::move(b)});
      }
    }
    for (Batch& b : all) m[b.to]->deliver(b.from, b.bytes);
    return static_cast<int>(all.size());
  }
  int settle() {
    int hops = 0;
    while (hop() > 0) ++hops;
    return hops;
  }
  ScopeId ask(int rank, std::vector<LockItem> local, std::uint64_t tag, bool priority = false,
              std::vector<RemoteGroup> remote = {}) {
    return m[rank]->request(local, remote, tag, priority);
  }
  bool has(std::uint64_t tag) const {
    return std::find(granted.begin(), granted.end(), tag) != granted.end();
  }
};

TEST(LockManager, ReadersShareWritersExcludeInFifoOrder) {
  Ranks x(1);
  const ScopeId r1 = x.ask(0, {{0, 1, R}}, 1);
  const ScopeId r2 = x.ask(0, {{0, 1, R}}, 2);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2}));
  const ScopeId w = x.ask(0, {{0, 1, W}}, 3);
  const ScopeId r3 = x.ask(0, {{0, 1, R}}, 4);  // behind the waiting writer, not beside r1, r2
  EXPECT_EQ(x.granted.size(), 2u);
  x.m[0]->release(r1);
  EXPECT_EQ(x.granted.size(), 2u);
  x.m[0]->release(r2);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2, 3}));
  x.m[0]->release(w);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  x.m[0]->release(r3);
  EXPECT_EQ(x.m[0]->active_scopes(), 0u);
  EXPECT_GE(x.m[0]->stats().waits, 2u);
}

TEST(LockManager, ReadersAtTheHeadAreGrantedTogether) {
  Ranks x(1);
  const ScopeId w = x.ask(0, {{0, 2, W}}, 1);
  x.ask(0, {{0, 2, R}}, 2);
  x.ask(0, {{0, 2, R}}, 3);
  x.ask(0, {{0, 2, W}}, 4);
  x.ask(0, {{0, 2, R}}, 5);
  x.m[0]->release(w);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(LockManager, PriorityScopesJumpOrdinaryWaiters) {
  Ranks x(1);
  const ScopeId w = x.ask(0, {{0, 5, W}}, 1);
  x.ask(0, {{0, 5, W}}, 2);
  const ScopeId p1 = x.ask(0, {{0, 5, W}}, 3, true);
  x.ask(0, {{0, 5, W}}, 4, true);  // behind the earlier priority waiter
  x.m[0]->release(w);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 3}));
  x.m[0]->release(p1);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 3, 4}));
}

TEST(LockManager, ScopeTakesItsLocksInOrderAndWaitsOnOne) {
  Ranks x(1);
  const ScopeId a = x.ask(0, {{0, 2, W}}, 1);
  const ScopeId b = x.ask(0, {{0, 1, W}, {0, 2, R}, {0, 3, W}}, 2);  // holds 1, waits on 2
  x.ask(0, {{0, 1, R}}, 3);                                          // waits on 1 (held by b)
  const ScopeId d = x.ask(0, {{0, 3, W}}, 4);                        // 3 is still free
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 4}));
  x.m[0]->release(a);
  EXPECT_EQ(x.granted.size(), 2u);  // b now waits on 3
  x.m[0]->release(d);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 4, 2}));
  x.m[0]->release(b);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 4, 2, 3}));
}

TEST(LockManager, LocalPathTakesAllOrNoneAndYieldsToQueuedScopes) {
  // Both managers: lock-free words, and serial ones (plain stores under the mutex).
  for (const bool serial : {false, true}) {
    SCOPED_TRACE(serial ? "serial" : "lock-free");
    Ranks x(2, 4, serial);
    LockManager& m = *x.m[0];
    const std::vector<LockItem> a{{0, 1, R}, {0, 2, W}};
    ASSERT_TRUE(m.try_lock_local(a));
    ASSERT_TRUE(m.try_lock_local(std::vector<LockItem>{{0, 1, R}}));   // readers share
    EXPECT_FALSE(m.try_lock_local(std::vector<LockItem>{{0, 2, R}}));  // written
    // All or none: 0 was free, 2 is not, so 0 must be free again afterwards.
    EXPECT_FALSE(m.try_lock_local(std::vector<LockItem>{{0, 0, W}, {0, 2, R}}));
    ASSERT_TRUE(m.try_lock_local(std::vector<LockItem>{{0, 0, W}}));
    m.unlock_local(std::vector<LockItem>{{0, 0, W}});
    // A writer queued behind the readers of 1 blocks new local readers, and the last local
    // release wakes it through the manager.
    const ScopeId w = x.ask(0, {{0, 1, W}}, 7);
    EXPECT_TRUE(x.granted.empty());
    EXPECT_FALSE(m.try_lock_local(std::vector<LockItem>{{0, 1, R}}));
    m.unlock_local(a);
    EXPECT_TRUE(x.granted.empty());
    m.unlock_local(std::vector<LockItem>{{0, 1, R}});
    EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{7}));
    EXPECT_FALSE(m.try_lock_local(std::vector<LockItem>{{0, 1, R}}));
    m.release(w);
    ASSERT_TRUE(m.try_lock_local(std::vector<LockItem>{{0, 1, W}, {0, 2, W}}));  // queue is empty
    m.unlock_local(std::vector<LockItem>{{0, 1, W}, {0, 2, W}});
    EXPECT_EQ(m.active_scopes(), 0u);
    EXPECT_THROW(m.try_lock_local(std::vector<LockItem>{{1, 0, W}}), Error);  // not owned here
    EXPECT_THROW(m.try_lock_local(std::vector<LockItem>{{0, 4, W}}), Error);
    // A malformed item after good ones: the error leaves none of them taken.
    EXPECT_THROW(m.try_lock_local(std::vector<LockItem>{{0, 0, W}, {0, 1, W}, {0, 4, W}}), Error);
    ASSERT_TRUE(m.try_lock_local(std::vector<LockItem>{{0, 0, W}, {0, 1, W}}));
    m.unlock_local(std::vector<LockItem>{{0, 0, W}, {0, 1, W}});
  }
}

TEST(LockManager, MisuseIsAnError) {
  Ranks x(2, 4);
  EXPECT_THROW(x.ask(0, {}, 1), Error);
  EXPECT_THROW(x.ask(0, {{0, 2, W}, {0, 1, R}}, 1), Error);               // out of order
  EXPECT_THROW(x.ask(0, {{0, 1, W}, {0, 1, R}}, 1), Error);               // twice
  EXPECT_THROW(x.ask(0, {{0, 4, W}}, 1), Error);                          // not owned
  EXPECT_THROW(x.ask(0, {{1, 0, W}}, 1), Error);                          // another rank's, listed
  EXPECT_THROW(x.ask(0, {}, 1, false, {{2, 10, R}}), Error);              // no such rank
  EXPECT_THROW(x.ask(0, {}, 1, false, {{0, 10, R}}), Error);              // this rank, as a group
  EXPECT_THROW(x.ask(0, {}, 1, false, {{1, 10, R}, {1, 11, R}}), Error);  // one group a rank
  const ScopeId s = x.ask(0, {}, 1, false, {{1, 13, W}});
  EXPECT_THROW(x.m[0]->release(s), Error);      // not granted yet
  EXPECT_THROW(x.m[0]->deliver(0, {}), Error);  // from itself
  // A grant nobody waits for, a release of a lock not held, a key the owner does not know.
  std::vector<std::byte> grant{std::byte{3}, std::byte{9}, std::byte{0}, std::byte{0}, std::byte{0},
                               std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
  EXPECT_THROW(x.m[0]->deliver(1, grant), Error);
  std::vector<std::byte> release{std::byte{5}, std::byte{13}, std::byte{0}, std::byte{0},
                                 std::byte{0}, std::byte{1},  std::byte{0}, std::byte{0},
                                 std::byte{0}, std::byte{0}};
  try {
    x.m[0]->deliver(1, release);
    ADD_FAILURE() << "a release of a free lock was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("released lid 2, not write-locked"), std::string::npos)
        << e.what();
  }
  std::vector<std::byte> unknown{std::byte{2}, std::byte{0}, std::byte{0},  std::byte{0},
                                 std::byte{0}, std::byte{0}, std::byte{99}, std::byte{0},
                                 std::byte{0}, std::byte{0}};
  EXPECT_THROW(x.m[0]->deliver(1, unknown), Error);
}

TEST(LockManager, FreeScopeOverSeveralRanksTakesOneRoundTrip) {
  Ranks x(3);
  x.ask(0, {{0, 1, W}}, 7, false, {{1, 10, R}, {2, 11, R}});
  EXPECT_TRUE(x.granted.empty());
  EXPECT_EQ(x.hop(), 2);  // tries to ranks 1 and 2 together
  EXPECT_EQ(x.hop(), 2);  // their grants
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{7}));
  EXPECT_EQ(x.m[0]->stats().optimistic, 1u);
  EXPECT_EQ(x.hop(), 0);
  // Rank 1 expanded key 10 into its locks 4 and 6: both are read-locked now.
  EXPECT_TRUE(x.m[1]->try_lock_local(std::vector<LockItem>{{1, 4, R}, {1, 6, R}}));
  EXPECT_FALSE(x.m[1]->try_lock_local(std::vector<LockItem>{{1, 6, W}}));
  EXPECT_TRUE(x.m[1]->try_lock_local(std::vector<LockItem>{{1, 5, W}}));
}

TEST(LockManager, RefusedTryFallsBackToOrderedAcquisition) {
  Ranks x(3);
  const ScopeId blocker = x.ask(1, {{1, 4, W}}, 1);  // local at rank 1
  const ScopeId s = x.ask(0, {{0, 1, W}}, 2, false, {{1, 12, R}, {2, 11, R}});
  x.settle();  // rank 1 refuses; rank 2's grant is returned; rank 1 queues the scope
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(x.m[0]->stats().fallbacks, 1u);
  // Meanwhile rank 2's lock 3 is free again: another scope may write it.
  const ScopeId other = x.ask(2, {{2, 3, W}}, 3);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 3}));
  x.m[1]->release(blocker);
  x.settle();
  EXPECT_EQ(x.granted.size(), 2u);  // rank 1 granted; rank 2 now waits for `other`
  x.m[2]->release(other);
  x.settle();
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 3, 2}));
  x.m[0]->release(s);
  x.settle();
  for (auto& m : x.m) EXPECT_EQ(m->active_scopes(), 0u);
  // Everything is free again: a writer on every lock is granted in one round trip.
  x.ask(0, {{0, 1, W}}, 4, false, {{1, 12, W}, {2, 11, W}});
  x.settle();
  EXPECT_EQ(x.granted.back(), 4u);
}

TEST(LockManager, RefusedLocalGroupFirstInOrderSendsNoTries) {
  // Rank 0's scope over ranks 0 and 2: its own locks come first, and one is taken, so the
  // scope queues there without asking rank 2 anything; rank 2 is asked once rank 0 grants.
  Ranks x(3);
  const ScopeId blocker = x.ask(0, {{0, 1, W}}, 1);
  const ScopeId s = x.ask(0, {{0, 1, R}}, 2, false, {{2, 11, R}});
  EXPECT_EQ(x.m[0]->stats().fallbacks, 1u);
  EXPECT_EQ(x.hop(), 0);  // no try went out
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1}));
  // Rank 2's lock 3 was never taken for the scope.
  EXPECT_TRUE(x.m[2]->try_lock_local(std::vector<LockItem>{{2, 3, W}}));
  x.m[2]->unlock_local(std::vector<LockItem>{{2, 3, W}});
  x.m[0]->release(blocker);
  EXPECT_EQ(x.hop(), 1);  // the queue request to rank 2
  EXPECT_EQ(x.hop(), 1);  // its grant
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_FALSE(x.m[2]->try_lock_local(std::vector<LockItem>{{2, 3, W}}));  // read-held
  x.m[0]->release(s);
  x.settle();
  for (auto& m : x.m) EXPECT_EQ(m->active_scopes(), 0u);
}

TEST(LockManager, GroupsBelowTheRequesterComeFirst) {
  // Rank 1's scope over ranks 0, 1 and 2: rank 0's group precedes its own locks in the order.
  Ranks x(3);
  const ScopeId blocker = x.ask(0, {{0, 2, W}}, 1);
  const ScopeId s = x.ask(1, {{1, 0, W}}, 2, false, {{0, 13, R}, {2, 11, R}});
  x.settle();  // rank 0 refuses: the scope gives back its own lock and rank 2's
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(x.m[1]->try_lock_local(std::vector<LockItem>{{1, 0, W}}));
  x.m[1]->unlock_local(std::vector<LockItem>{{1, 0, W}});
  x.m[0]->release(blocker);
  x.settle();
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2}));
  x.m[1]->release(s);
  x.settle();
  for (auto& m : x.m) EXPECT_EQ(m->active_scopes(), 0u);
  EXPECT_TRUE(x.m[0]->try_lock_local(std::vector<LockItem>{{0, 2, W}}));
}

TEST(LockManager, DataRidesWithGrantsAndReleases) {
  std::vector<std::unique_ptr<LockManager>> m;
  std::vector<std::string> log;
  const std::vector<Lid> group{1, 2};
  for (int r = 0; r < 2; ++r) {
    LockHooks h;
    h.granted = [&log, r](ScopeId, std::uint64_t tag) {
      log.push_back(str_cat(r, " granted ", tag));
    };
    h.expand = [&group](int, Lid) { return std::span<const Lid>(group); };
    h.grant_data = [&log, r](int to, std::span<const Lid> lids, std::vector<std::byte>& out) {
      log.push_back(str_cat(r, " grant data to ", to, " for lids ", lids[0], ",", lids[1]));
      out.push_back(std::byte{42});
    };
    h.receive_grant_data = [&log, r](std::uint64_t tag, int owner, std::span<const std::byte> d) {
      log.push_back(str_cat(r, " data for ", tag, " from ", owner, ": ", int(d[0])));
    };
    h.release_data = [&log, r](std::uint64_t tag, int owner, std::vector<std::byte>& out) {
      log.push_back(str_cat(r, " release data of ", tag, " to ", owner));
      out.push_back(std::byte{7});
    };
    h.receive_release_data = [&log, r](int from, std::span<const std::byte> d) {
      log.push_back(str_cat(r, " released data from ", from, ": ", int(d[0])));
    };
    m.push_back(std::make_unique<LockManager>(r, 2, 4, std::move(h)));
  }
  auto move = [&](int from, int to) {
    std::vector<std::byte> b;
    ASSERT_TRUE(m[from]->take_batch(to, b));
    m[to]->deliver(from, b);
  };
  const ScopeId s = m[0]->request({}, std::vector<RemoteGroup>{{1, 3, W}}, 9);
  move(0, 1);
  move(1, 0);
  m[0]->release(s);
  move(0, 1);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "1 grant data to 0 for lids 1,2", "0 data for 9 from 1: 42", "0 granted 9",
                     "0 release data of 9 to 1", "1 released data from 0: 7"}));
}

}  // namespace

TEST(LockManager, ReservedLargeScopesServeScopesWithManyLocks) {
  // reserve(4, 1, 600): id 0 has room for 600 locks here, ids 1-3 for the usual few. A scope
  // naming more than the usual few takes a large state while one is free.
  Ranks x(1, 1000);
  x.m[0]->reserve(4, 1, 600);
  std::vector<LockItem> many;
  for (Lid v = 0; v < 500; ++v) many.push_back({0, v, v == 499 ? W : R});
  const ScopeId small = x.ask(0, {{0, 900, W}}, 1);
  const ScopeId large = x.ask(0, many, 2);
  EXPECT_NE(small, 0u);
  EXPECT_EQ(large, 0u);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2}));
  const ScopeId second = x.ask(0, many, 3);  // id 0 is taken: a usual one, grown
  EXPECT_NE(second, 0u);
  EXPECT_EQ(x.granted.size(), 2u);  // waits for the readers of 0..498 and the writer of 499
  x.m[0]->release(large);
  EXPECT_EQ(x.granted, (std::vector<std::uint64_t>{1, 2, 3}));
  x.m[0]->release(second);
  // Both are in the large pool now (a usual state grown for many locks joins it); the last
  // one freed is used first.
  EXPECT_EQ(x.ask(0, many, 4), second);
  x.m[0]->release(small);
}
