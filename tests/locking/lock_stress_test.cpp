// Liveness and safety of the lock manager under stress: worker threads on several simulated
// ranks keep many random, overlapping scopes in flight (batches encoded, moved between rank
// threads and decoded). Every scope must be granted (no deadlock, no lost wake-up), no two
// conflicting scopes may ever hold their locks at once (an overlap detector beside the
// manager), and the data a scope sees must be current: ghost copies travel with grants only
// when the requester's copy is stale (StaleCopies, as in the engine), and written ghosts go
// back with releases. A scope's locks at another rank are one group, named by a key that the
// owner expands (here a random table of groups per rank).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "atoll/engine/lock_manager.hpp"
#include "atoll/engine/stale_copies.hpp"
#include "atoll/engine/vertex_versions.hpp"
#include "batch_decode.hpp"
#include "sim_network.hpp"

namespace {

using namespace atl;
using test::SimNetwork;

struct Config {
  int ranks;
  int workers;  // per rank
  Lid locks;    // per rank
  int scopes;   // per worker
  int pipeline;
  int max_scope;
  bool local_path = false;  // scopes owned wholly here try try_lock_local first
  bool serial = false;      // serial managers (plain stores under the mutex; LockManager)
};

/// One simulated rank: its lock manager, its owned data and its ghost cache of every vertex
/// owned elsewhere (ghost index owner * locks + lid).
struct Rank {
  std::unique_ptr<LockManager> manager;
  VertexVersions owned_versions;
  std::vector<std::uint64_t> owned_data;
  StaleCopies stale;  ///< which ranks' copies of each owned lock's data are old
  VertexVersions cache_versions;
  std::vector<std::uint64_t> cache_data;
  std::vector<std::vector<Lid>> groups;  ///< by key: the lids here a remote scope names by it
  Rank(Lid locks, int ranks)
      : owned_versions(locks),
        owned_data(locks, 0),
        stale(locks, ranks),
        cache_versions(locks * ranks),
        cache_data(static_cast<std::size_t>(locks) * ranks, 0) {}
};

/// A scope: its locks at the requesting rank and a group at each of some other ranks.
struct ScopeLocks {
  std::vector<LockItem> local;
  std::vector<RemoteGroup> remote;
};

struct Worker {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::pair<ScopeId, std::uint32_t>> granted;  // (scope, slot)
};

/// The data that rides with grants and releases: (lid at the owner, version, value) records.
void append_copy(std::vector<std::byte>& out, Lid lid, std::uint64_t version, std::uint64_t value) {
  detail::append_value(out, lid);
  detail::append_value(out, version);
  detail::append_value(out, value);
}
template <typename F>
void for_each_copy(std::span<const std::byte> data, int source, F&& f) {
  detail::BatchReader in(data, source, "vertex data");
  while (in.left() > 0) {
    const Lid lid = in.value<Lid>();
    const auto version = in.value<std::uint64_t>();
    f(lid, version, in.value<std::uint64_t>());
  }
}

class StressRun {
 public:
  explicit StressRun(const Config& c)
      : c_(c),
        state_(static_cast<std::size_t>(c.ranks) * c.locks),
        expected_(static_cast<std::size_t>(c.ranks) * c.locks),
        net_(
            c.ranks,
            [this](int r, const SimNetwork::Message& m) {
              ranks_[r]->manager->deliver(m.from, m.bytes);
            },
            [this](int r) { pump(r); }) {
    for (int w = 0; w < c.ranks * c.workers; ++w) workers_.push_back(std::make_unique<Worker>());
    std::mt19937_64 rng(99);
    for (int r = 0; r < c.ranks; ++r) {
      ranks_.push_back(std::make_unique<Rank>(c.locks, c.ranks));
      ranks_[r]->manager = std::make_unique<LockManager>(r, c.ranks, c.locks, hooks(r), c.serial);
      // 2 x locks groups of 1 .. max_scope distinct lids each.
      for (Lid k = 0; k < 2 * c.locks; ++k) {
        std::vector<Lid> g;
        const std::size_t n = 1 + rng() % std::min<std::size_t>(c.max_scope, c.locks);
        while (g.size() < n) {
          const Lid l = static_cast<Lid>(rng() % c.locks);
          if (std::find(g.begin(), g.end(), l) == g.end()) g.push_back(l);
        }
        std::sort(g.begin(), g.end());
        ranks_[r]->groups.push_back(std::move(g));
      }
    }
    scopes_.resize(static_cast<std::size_t>(c.ranks) * c.workers,
                   std::vector<ScopeLocks>(static_cast<std::size_t>(c.pipeline)));
  }

  void run() {
    net_.start();
    std::vector<std::thread> threads;
    for (int w = 0; w < c_.ranks * c_.workers; ++w) threads.emplace_back([this, w] { work(w); });
    // A watchdog: a deadlock or lost wake-up shows as workers that never finish.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (finished_.load() < c_.ranks * c_.workers &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const bool stalled = finished_.load() < c_.ranks * c_.workers;
    abort_.store(stalled);
    for (std::thread& t : threads) t.join();
    // Let the last releases reach their owners.
    if (!stalled) {
      net_.wait_quiet([&] {
        return std::none_of(ranks_.begin(), ranks_.end(),
                            [](const auto& r) { return r->manager->has_outgoing(); });
      });
    }
    net_.stop();
    ASSERT_FALSE(stalled) << "scopes stalled: " << done_.load() << " of "
                          << c_.ranks * c_.workers * c_.scopes << " completed";
  }

  void check() {
    EXPECT_EQ(done_.load(), std::uint64_t(c_.ranks) * c_.workers * c_.scopes);
    EXPECT_EQ(overlaps_.load(), 0u) << "conflicting scopes held at once";
    EXPECT_EQ(stale_.load(), 0u) << "a scope saw data older than its lock's";
    for (int r = 0; r < c_.ranks; ++r) {
      EXPECT_EQ(ranks_[r]->manager->active_scopes(), 0u);
      for (Lid l = 0; l < c_.locks; ++l) {
        EXPECT_EQ(ranks_[r]->owned_data[l], expected_[index(r, l)].load()) << r << "/" << l;
        EXPECT_EQ(state_[index(r, l)].load(), 0);
      }
    }
  }

  LockStats stats() const {
    LockStats all;
    for (const auto& r : ranks_) {
      const LockStats s = r->manager->stats();
      all.scopes += s.scopes;
      all.optimistic += s.optimistic;
      all.fallbacks += s.fallbacks;
      all.waits += s.waits;
      all.batch_bytes += s.batch_bytes;
    }
    return all;
  }
  std::uint64_t data_sent() const { return data_sent_.load(); }
  std::uint64_t data_skipped() const { return data_skipped_.load(); }
  std::uint64_t local() const { return local_.load(); }

 private:
  std::size_t index(int owner, Lid lid) const {
    return static_cast<std::size_t>(owner) * c_.locks + lid;
  }

  LockHooks hooks(int r) {
    LockHooks h;
    h.granted = [this, r](ScopeId s, std::uint64_t tag) {
      Worker& w = *workers_[tag >> 32];
      std::lock_guard lock(w.mutex);
      w.granted.emplace_back(s, static_cast<std::uint32_t>(tag));
      w.cv.notify_one();
      (void)r;
    };
    h.outgoing = [this, r](int) { net_.wake(r); };
    h.expand = [this, r](int, Lid key) -> std::span<const Lid> {
      if (key >= ranks_[r]->groups.size()) fail("no lock group ", key);
      return ranks_[r]->groups[key];
    };
    // Owner: the current data of each lock whose requester holds an older copy.
    h.grant_data = [this, r](int to, std::span<const Lid> lids, std::vector<std::byte>& out) {
      Rank& me = *ranks_[r];
      for (const Lid l : lids) {
        if (!me.stale.take(l, to)) {
          data_skipped_.fetch_add(1);
          continue;
        }
        data_sent_.fetch_add(1);
        append_copy(out, l, me.owned_versions.get(l), me.owned_data[l]);
      }
    };
    h.receive_grant_data = [this, r](std::uint64_t, int owner, std::span<const std::byte> data) {
      Rank& me = *ranks_[r];
      for_each_copy(data, owner, [&](Lid lid, std::uint64_t version, std::uint64_t value) {
        const std::size_t ghost = index(owner, lid);
        if (me.cache_versions.install(static_cast<Lid>(ghost), version)) {
          me.cache_data[ghost] = value;
        }
      });
    };
    // Requester: the ghosts the scope wrote go back to their owner with the release.
    h.release_data = [this, r](std::uint64_t tag, int owner, std::vector<std::byte>& out) {
      Rank& me = *ranks_[r];
      const ScopeLocks& scope = scopes_[tag >> 32][static_cast<std::uint32_t>(tag)];
      for (const RemoteGroup& g : scope.remote) {
        if (g.owner != owner || g.mode != LockMode::kWrite) continue;
        for (const Lid l : ranks_[owner]->groups[g.key]) {
          const auto ghost = static_cast<Lid>(index(owner, l));
          append_copy(out, l, me.cache_versions.get(ghost), me.cache_data[ghost]);
        }
      }
    };
    h.receive_release_data = [this, r](int from, std::span<const std::byte> data) {
      Rank& me = *ranks_[r];
      for_each_copy(data, from, [&](Lid lid, std::uint64_t version, std::uint64_t value) {
        if (!me.owned_versions.install(lid, version)) fail("a write-back that is not newer");
        me.owned_data[lid] = value;
        me.stale.changed(lid, from);
      });
    };
    return h;
  }

  void pump(int r) {
    std::vector<std::byte> batch;
    for (int peer = 0; peer < c_.ranks; ++peer) {
      if (peer == r) continue;
      net_.hold();
      if (ranks_[r]->manager->take_batch(peer, batch)) {
        batches_.fetch_add(1);
        net_.post(r, peer, 0, std::move(batch));
        batch = {};
      }
      net_.unhold();
    }
  }

  /// Calls f(lock) for each lock of the scope (remote groups expanded).
  template <typename F>
  void for_each_lock(const ScopeLocks& scope, F&& f) const {
    for (const LockItem& l : scope.local) f(l);
    for (const RemoteGroup& g : scope.remote) {
      for (const Lid l : ranks_[g.owner]->groups[g.key]) f(LockItem{g.owner, l, g.mode});
    }
  }

  /// Marks the scope's locks held in the overlap detector; counts any conflict.
  void hold(const ScopeLocks& scope, bool take) {
    for_each_lock(scope, [&](const LockItem& l) {
      std::atomic<int>& s = state_[index(l.owner, l.lid)];
      if (l.mode == LockMode::kWrite) {
        int expect = take ? 0 : -1;
        if (!s.compare_exchange_strong(expect, take ? -1 : 0)) overlaps_.fetch_add(1);
      } else {
        const int before = s.fetch_add(take ? 1 : -1);
        if (before < 0 || (!take && before == 0)) overlaps_.fetch_add(1);
      }
    });
  }

  /// The update: reads every vertex of the scope (checking it is current) and writes those
  /// it holds for writing, on the owner's data or this rank's ghost copy.
  void update(int r, const ScopeLocks& scope) {
    Rank& me = *ranks_[r];
    for_each_lock(scope, [&](const LockItem& l) {
      const bool own = l.owner == r;
      const auto ghost = static_cast<Lid>(index(l.owner, l.lid));
      std::uint64_t& value = own ? me.owned_data[l.lid] : me.cache_data[ghost];
      std::atomic<std::uint64_t>& expected = expected_[index(l.owner, l.lid)];
      if (value != expected.load()) stale_.fetch_add(1);
      if (l.mode == LockMode::kWrite) {
        ++value;
        if (own) {
          me.owned_versions.bump(l.lid);
          me.stale.changed(l.lid);
        } else {
          me.cache_versions.bump(ghost);
        }
        expected.fetch_add(1);
      }
    });
  }

  void work(int w) {
    const int r = w / c_.workers;
    Rank& me = *ranks_[r];
    Worker& self = *workers_[w];
    std::mt19937_64 rng(1234 + w);
    std::vector<ScopeLocks>& slots = scopes_[static_cast<std::size_t>(w)];
    std::vector<std::uint32_t> free_slots;
    for (int i = c_.pipeline - 1; i >= 0; --i) free_slots.push_back(static_cast<std::uint32_t>(i));
    std::vector<std::pair<ScopeId, std::uint32_t>> granted;
    int issued = 0;
    int done = 0;
    while (done < c_.scopes && !abort_.load()) {
      while (issued < c_.scopes && !free_slots.empty()) {
        const std::uint32_t slot = free_slots.back();
        free_slots.pop_back();
        ScopeLocks& scope = slots[slot];
        // Mostly small scopes; now and then a "high-degree" one with priority, which has
        // groups at every rank.
        const bool big = rng() % 20 == 0;
        const std::size_t k =
            big ? std::min<std::size_t>(c_.locks, 3 * c_.max_scope) : rng() % (c_.max_scope + 1);
        scope.local.clear();
        scope.remote.clear();
        while (scope.local.size() < k) {
          const auto lid = static_cast<Lid>(rng() % c_.locks);
          const bool dup = std::any_of(scope.local.begin(), scope.local.end(),
                                       [&](const LockItem& o) { return o.lid == lid; });
          if (dup) continue;
          const LockMode mode =
              scope.local.empty() || rng() % 4 == 0 ? LockMode::kWrite : LockMode::kRead;
          scope.local.push_back({r, lid, mode});
        }
        std::sort(scope.local.begin(), scope.local.end(), lock_order_less);
        for (int owner = 0; owner < c_.ranks; ++owner) {
          if (owner == r || (!big && rng() % 3 != 0)) continue;
          const auto key = static_cast<Lid>(rng() % ranks_[owner]->groups.size());
          scope.remote.push_back({owner, key, rng() % 4 == 0 ? LockMode::kWrite : LockMode::kRead});
        }
        if (scope.local.empty() && scope.remote.empty()) {
          scope.local.push_back({r, static_cast<Lid>(rng() % c_.locks), LockMode::kWrite});
        }
        ++issued;
        if (c_.local_path && scope.remote.empty() && me.manager->try_lock_local(scope.local)) {
          local_.fetch_add(1);
          hold(scope, true);
          update(r, scope);
          std::this_thread::yield();
          hold(scope, false);
          me.manager->unlock_local(scope.local);
          free_slots.push_back(slot);
          ++done;
          done_.fetch_add(1);
          continue;
        }
        me.manager->request(scope.local, scope.remote, (std::uint64_t(w) << 32) | slot, big);
      }
      {
        std::unique_lock lock(self.mutex);
        if (self.granted.empty()) self.cv.wait_for(lock, std::chrono::milliseconds(20));
        granted.swap(self.granted);
      }
      for (const auto& [scope, slot] : granted) {
        hold(slots[slot], true);
        update(r, slots[slot]);
        std::this_thread::yield();  // hold the scope a little, so that overlaps would show
        hold(slots[slot], false);
        me.manager->release(scope);
        free_slots.push_back(slot);
        ++done;
        done_.fetch_add(1);
      }
      granted.clear();
    }
    finished_.fetch_add(1);
  }

  Config c_;
  std::vector<std::unique_ptr<Rank>> ranks_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::vector<ScopeLocks>> scopes_;       ///< per worker, per pipeline slot
  std::vector<std::atomic<int>> state_;               ///< per lock: -1 write-held, n > 0 read-held
  std::vector<std::atomic<std::uint64_t>> expected_;  ///< per lock: writes made so far
  std::atomic<std::uint64_t> overlaps_{0};
  std::atomic<std::uint64_t> stale_{0};
  std::atomic<std::uint64_t> local_{0};
  std::atomic<std::uint64_t> done_{0};
  std::atomic<int> finished_{0};
  std::atomic<bool> abort_{false};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> data_sent_{0};
  std::atomic<std::uint64_t> data_skipped_{0};
  SimNetwork net_;
};

TEST(LockStress, ThreadsOnOneRank) {
  StressRun run({1, 4, 12, 3000, 6, 4});
  run.run();
  run.check();
  EXPECT_GT(run.stats().waits, 0u);
}

// The lock-free local path and the manager's queues on the same locks: a queued scope must
// block local takes (no starvation) and a local release must wake it (no lost wake-up).
TEST(LockStress, LocalPathMixedWithQueuedScopes) {
  StressRun one({1, 4, 12, 3000, 6, 4, true});
  one.run();
  one.check();
  EXPECT_GT(one.local(), 0u);
  EXPECT_GT(one.stats().waits, 0u);
  StressRun three({3, 2, 8, 2000, 8, 3, true});
  three.run();
  three.check();
  EXPECT_GT(three.local(), 0u);
  EXPECT_GT(three.stats().fallbacks, 0u);
}

// Serial managers (the engine's with one worker) change lock words by plain stores under the
// mutex, the local path included: still exclusive and live when several threads use them.
TEST(LockStress, SerialManagersStayExclusiveUnderThreads) {
  StressRun one({1, 4, 12, 3000, 6, 4, true, true});
  one.run();
  one.check();
  EXPECT_GT(one.local(), 0u);
  EXPECT_GT(one.stats().waits, 0u);
  StressRun three({3, 2, 8, 2000, 8, 3, true, true});
  three.run();
  three.check();
  EXPECT_GT(three.local(), 0u);
  EXPECT_GT(three.stats().fallbacks, 0u);
}

TEST(LockStress, SimulatedRanksExchangingBatches) {
  StressRun run({3, 2, 16, 2000, 8, 4});
  run.run();
  run.check();
  const LockStats s = run.stats();
  std::printf(
      "scopes %llu: over several ranks %llu granted by the tries, %llu fell back; "
      "%llu queue waits; %llu batch bytes; ghost data sent %llu, skipped %llu\n",
      static_cast<unsigned long long>(s.scopes), static_cast<unsigned long long>(s.optimistic),
      static_cast<unsigned long long>(s.fallbacks), static_cast<unsigned long long>(s.waits),
      static_cast<unsigned long long>(s.batch_bytes),
      static_cast<unsigned long long>(run.data_sent()),
      static_cast<unsigned long long>(run.data_skipped()));
  // Both ways of acquiring a scope over several ranks were exercised, and the version rule
  // both sent data and saved sending it.
  EXPECT_GT(s.optimistic, 0u);
  EXPECT_GT(s.fallbacks, 0u);
  EXPECT_GT(run.data_sent(), 0u);
  EXPECT_GT(run.data_skipped(), 0u);
}

TEST(LockStress, FourRanksHighContention) {
  StressRun run({4, 2, 4, 1500, 10, 3});
  run.run();
  run.check();
  EXPECT_GT(run.stats().fallbacks, 0u);
}

}  // namespace
