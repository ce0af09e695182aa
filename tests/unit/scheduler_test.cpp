// Tests of the schedulers (fifo, sweep, priority).
// Round mode: every scheduled index popped exactly once per round (one at a time and in
// batches), deduplication, max-combined priorities, rescheduling during a round, unfinished
// rounds, the empty scheduler, the single-threaded order of each kind, export/import round
// trips, parse/name, and a stress test with std::threads and tbb::parallel_for in two task
// arenas scheduling while others pop.
// Continuous mode: the running/rerun life cycle, order per kind, export/import, and a
// contention test with std::threads (no lost wake-up, never concurrent with itself,
// termination by idle()).
// The ThreadSanitizer stage builds this file alone as scheduler_tsan_test with
// ATOLL_SCHEDULER_TEST_NO_TBB (oneTBB is not TSan-instrumented): everything but the TBB stress
// test, whose threads are std::threads elsewhere in this file.
#include "atoll/engine/scheduler.hpp"

#include <gtest/gtest.h>
#ifndef ATOLL_SCHEDULER_TEST_NO_TBB
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "atoll/common/error.hpp"

namespace {

using atl::ContinuousScheduler;
using atl::PendingVertex;
using atl::Scheduler;
using atl::SchedulerKind;

constexpr SchedulerKind kKinds[] = {SchedulerKind::kFifo, SchedulerKind::kSweep,
                                    SchedulerKind::kPriority};

/// Pops until the round is exhausted, in pop order.
std::vector<std::uint32_t> drain(Scheduler& s) {
  std::vector<std::uint32_t> out;
  std::uint32_t i = 0;
  while (s.pop(i)) out.push_back(i);
  return out;
}

std::vector<std::uint32_t> sorted(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// ---- every kind ------------------------------------------------------------------------------

class SchedulerKinds : public testing::TestWithParam<SchedulerKind> {
 protected:
  std::unique_ptr<Scheduler> make(std::uint32_t size, unsigned workers = 4) const {
    return atl::make_scheduler(GetParam(), size, workers);
  }
};

TEST_P(SchedulerKinds, PopsEveryScheduledIndexOncePerRound) {
  const std::uint32_t n = 1000;
  auto s = make(n);
  EXPECT_EQ(s->size(), n);
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    std::vector<std::uint32_t> expected;
    const int ops = round == 0 ? 0 : (round == 5 ? 5000 : 300);  // 5000 ops: nearly all of n
    for (int k = 0; k < ops; ++k) {
      std::uint32_t i = rng() % n;
      s->schedule(i, static_cast<double>(rng() % 100));
      expected.push_back(i);
    }
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    EXPECT_EQ(s->has_pending(), !expected.empty());
    EXPECT_EQ(s->begin_round(), expected.size());
    // Frozen vertices not popped yet still count (a begin_round now would carry them over).
    EXPECT_EQ(s->has_pending(), !expected.empty());
    EXPECT_EQ(sorted(drain(*s)), expected) << "round " << round;
    EXPECT_FALSE(s->has_pending());
    std::uint32_t i = 0;
    EXPECT_FALSE(s->pop(i));  // stays exhausted
  }
}

TEST_P(SchedulerKinds, BlockAndWordBoundaries) {
  const std::uint32_t n = 5000;
  auto s = make(n, 2);
  std::vector<std::uint32_t> idx = {4999, 0, 63, 64, 65, 127, 128, 511, 512, 513, 1023, 1024, 4096};
  for (std::uint32_t i : idx) s->schedule(i, 1);
  EXPECT_EQ(s->begin_round(), idx.size());
  EXPECT_EQ(sorted(drain(*s)), sorted(idx));
}

TEST_P(SchedulerKinds, DeduplicatesRepeatedSchedules) {
  auto s = make(10);
  for (int k = 0; k < 5; ++k) s->schedule(3, k);
  s->schedule(7, 1);
  s->schedule(7, 1);
  EXPECT_TRUE(s->has_pending());
  EXPECT_EQ(s->begin_round(), 2u);
  EXPECT_EQ(sorted(drain(*s)), (std::vector<std::uint32_t>{3, 7}));
  EXPECT_EQ(s->begin_round(), 0u);
  std::uint32_t i = 0;
  EXPECT_FALSE(s->pop(i));
}

TEST_P(SchedulerKinds, PriorityCombinesByMax) {
  auto s = make(8);
  s->schedule(2, 1);
  s->schedule(2, 5);
  s->schedule(2, 3);
  EXPECT_EQ(s->priority(2), 5);
  s->schedule(4, -3);  // a fresh pending vertex takes its priority (no max with the initial 0)
  EXPECT_EQ(s->priority(4), -3);
  EXPECT_EQ(s->begin_round(), 2u);
  std::vector<std::uint32_t> got = drain(*s);
  EXPECT_EQ(sorted(got), (std::vector<std::uint32_t>{2, 4}));
  EXPECT_EQ(s->priority(2), 5);
  EXPECT_EQ(s->priority(4), -3);
  // A new pending period starts from its own priority, not the max with the last one.
  s->schedule(2, 1.5);
  EXPECT_EQ(s->priority(2), 1.5);
  EXPECT_EQ(s->begin_round(), 1u);
  std::uint32_t i = 99;
  ASSERT_TRUE(s->pop(i));
  EXPECT_EQ(i, 2u);
  EXPECT_EQ(s->priority(2), 1.5);
}

TEST_P(SchedulerKinds, RescheduleDuringRoundGoesToNextRound) {
  const std::uint32_t n = 16;
  auto s = make(n);
  for (std::uint32_t i = 0; i < n; ++i) s->schedule(i, i);
  EXPECT_EQ(s->begin_round(), n);
  std::uint32_t first = 0;
  ASSERT_TRUE(s->pop(first));
  s->schedule(first, 100);  // as if by its own update
  EXPECT_EQ(s->priority(first), 100);
  std::vector<std::uint32_t> rest = drain(*s);
  EXPECT_EQ(rest.size(), n - 1);
  EXPECT_EQ(std::count(rest.begin(), rest.end(), first), 0);
  EXPECT_TRUE(s->has_pending());
  EXPECT_EQ(s->begin_round(), 1u);
  std::uint32_t i = 0;
  ASSERT_TRUE(s->pop(i));
  EXPECT_EQ(i, first);
  EXPECT_EQ(s->priority(i), 100);
  EXPECT_FALSE(s->pop(i));
  EXPECT_FALSE(s->has_pending());
}

TEST_P(SchedulerKinds, FrozenVertexScheduledAgainRunsOnce) {
  auto s = make(16);
  s->schedule(4, 1);
  s->schedule(9, 1);
  s->schedule(12, 1);
  EXPECT_EQ(s->begin_round(), 3u);
  // Frozen into this round, not popped yet: scheduling again keeps the single entry.
  s->schedule(4, 2);
  s->schedule(9, 0.5);
  s->schedule(4, 3);
  EXPECT_EQ(sorted(drain(*s)), (std::vector<std::uint32_t>{4, 9, 12}));
  EXPECT_EQ(s->priority(4), 3);
  EXPECT_EQ(s->priority(9), 1);
  EXPECT_FALSE(s->has_pending());
  EXPECT_EQ(s->begin_round(), 0u);
}

TEST_P(SchedulerKinds, UnfinishedRoundCarriesOver) {
  auto s = make(100);
  for (std::uint32_t i = 0; i < 10; ++i) s->schedule(i, i);
  EXPECT_EQ(s->begin_round(), 10u);
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  ASSERT_TRUE(s->pop(a));
  ASSERT_TRUE(s->pop(b));
  s->schedule(50, 0);
  EXPECT_TRUE(s->has_pending());
  EXPECT_EQ(s->begin_round(), 9u);  // 8 never popped + 50
  std::vector<std::uint32_t> expected = {50};
  for (std::uint32_t i = 0; i < 10; ++i) {
    if (i != a && i != b) expected.push_back(i);
  }
  EXPECT_EQ(sorted(drain(*s)), sorted(expected));
  EXPECT_FALSE(s->has_pending());
}

TEST_P(SchedulerKinds, EmptyScheduler) {
  auto s = make(0);
  EXPECT_EQ(s->size(), 0u);
  EXPECT_FALSE(s->has_pending());
  EXPECT_EQ(s->begin_round(), 0u);
  std::uint32_t i = 0;
  EXPECT_FALSE(s->pop(i));
  EXPECT_THROW(s->schedule(0, 1), std::out_of_range);
  EXPECT_THROW(static_cast<void>(s->priority(0)), std::out_of_range);
  EXPECT_EQ(s->begin_round(), 0u);
  EXPECT_FALSE(s->pop(i));
}

TEST_P(SchedulerKinds, IndexOutOfRangeThrows) {
  auto s = make(5);
  EXPECT_THROW(s->schedule(5, 0), std::out_of_range);
  EXPECT_THROW(s->schedule(UINT32_MAX, 0), std::out_of_range);
  EXPECT_FALSE(s->has_pending());
  s->schedule(4, 0);
  EXPECT_EQ(s->begin_round(), 1u);
  EXPECT_EQ(drain(*s), (std::vector<std::uint32_t>{4}));
}

TEST_P(SchedulerKinds, ZeroWorkersMeansOne) {
  auto s = make(70, 0);
  for (std::uint32_t i = 0; i < 70; i += 3) s->schedule(i, 1);
  EXPECT_EQ(s->begin_round(), 24u);
  EXPECT_EQ(drain(*s).size(), 24u);
}

TEST_P(SchedulerKinds, ScheduleAllMakesEveryIndexPendingOnce) {
  for (std::uint32_t n : {1u, 63u, 64u, 65u, 1000u}) {
    auto s = make(n);
    s->schedule(3 % n, 9.0);  // already pending: stays once, priority max-combined
    s->schedule_all(2.0);
    EXPECT_TRUE(s->has_pending());
    ASSERT_EQ(s->begin_round(), n);
    std::vector<int> seen(n, 0);
    std::uint32_t i = 0;
    while (s->pop(i)) ++seen[i];
    for (std::uint32_t k = 0; k < n; ++k) EXPECT_EQ(seen[k], 1) << "index " << k;
    EXPECT_EQ(s->priority(3 % n), 9.0);
    EXPECT_EQ(s->priority((3 + 1) % n), n == 1 ? 9.0 : 2.0);
    EXPECT_FALSE(s->has_pending());
  }
}

TEST_P(SchedulerKinds, TakeRoundHandsOverAFullRound) {
  const std::uint32_t n = 130;
  auto s = make(n);
  s->schedule_all(1.0);
  ASSERT_EQ(s->begin_round(), n);
  s->take_round();
  std::uint32_t i = 0;
  EXPECT_FALSE(s->pop(i));
  EXPECT_FALSE(s->has_pending());
  s->schedule(5, 1.0);  // as an update running in the taken round would: next round
  EXPECT_TRUE(s->has_pending());
  ASSERT_EQ(s->begin_round(), 1u);
  ASSERT_TRUE(s->pop(i));
  EXPECT_EQ(i, 5u);
  EXPECT_FALSE(s->pop(i));
}

TEST_P(SchedulerKinds, PopBatchHandsOutEachIndexOnce) {
  const std::uint32_t n = 3000;
  auto s = make(n, 3);
  std::mt19937 rng(17);
  for (int round = 0; round < 4; ++round) {
    std::vector<std::uint32_t> expected;
    for (int k = 0; k < (round == 3 ? 9000 : 700); ++k) {
      std::uint32_t i = rng() % n;
      s->schedule(i, static_cast<double>(rng() % 50));
      expected.push_back(i);
    }
    expected = sorted(expected);
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    ASSERT_EQ(s->begin_round(), expected.size());
    std::vector<std::uint32_t> got;
    std::vector<std::uint32_t> buffer(64);
    for (std::size_t batch = 1;; batch = batch * 7 % 64 + 1) {  // sizes 1 to 64
      std::size_t k = s->pop_batch(std::span(buffer).first(batch));
      ASSERT_LE(k, batch);
      if (k == 0) break;
      got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(k));
    }
    EXPECT_EQ(sorted(got), expected) << "round " << round;
    EXPECT_EQ(s->pop_batch(buffer), 0u);
    std::uint32_t i = 0;
    EXPECT_FALSE(s->pop(i));
    EXPECT_EQ(s->pop_batch({}), 0u);
  }
}

/// The reference for export_pending(): the max priority of each index scheduled since it last
/// ran, in index order.
std::vector<PendingVertex> reference_pending(const std::map<std::uint32_t, double>& pending) {
  std::vector<PendingVertex> out;
  for (auto [i, p] : pending) out.push_back({i, p});
  return out;
}

TEST_P(SchedulerKinds, ExportImportRoundTrip) {
  const std::uint32_t n = 777;
  auto s = make(n);
  std::mt19937 rng(23);
  std::map<std::uint32_t, double> pending;
  EXPECT_TRUE(s->export_pending().empty());
  for (int k = 0; k < 400; ++k) {
    std::uint32_t i = rng() % n;
    double p = static_cast<double>(rng() % 1000) / 8 - 40;
    s->schedule(i, p);
    auto [it, fresh] = pending.emplace(i, p);
    if (!fresh) it->second = std::max(it->second, p);
  }
  std::vector<PendingVertex> exported = s->export_pending();
  ASSERT_EQ(exported, reference_pending(pending));

  // A fresh scheduler of every kind imports it to the same pending set and the same round.
  for (SchedulerKind other : kKinds) {
    auto t = atl::make_scheduler(other, n, 2);
    t->import_pending(exported);
    EXPECT_EQ(t->export_pending(), exported) << atl::scheduler_name(other);
    EXPECT_TRUE(t->has_pending());
    ASSERT_EQ(t->begin_round(), exported.size());
    std::vector<std::uint32_t> got = drain(*t);
    std::vector<std::uint32_t> want;
    for (const PendingVertex& v : exported) {
      want.push_back(v.index);
      EXPECT_EQ(t->priority(v.index), v.priority);
    }
    EXPECT_EQ(sorted(got), want);
  }

  // Importing into a scheduler with pending vertices max-combines the priorities.
  auto u = make(n);
  u->schedule(exported[0].index, exported[0].priority + 1);
  u->schedule(exported[1].index, exported[1].priority - 1);
  u->import_pending(exported);
  std::vector<PendingVertex> combined = exported;
  combined[0].priority += 1;
  EXPECT_EQ(u->export_pending(), combined);

  // An unfinished round exports what it did not hand out, plus the next round's vertices.
  ASSERT_EQ(s->begin_round(), exported.size());
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  ASSERT_TRUE(s->pop(a));
  ASSERT_TRUE(s->pop(b));
  pending.erase(a);
  pending.erase(b);
  s->schedule(a, 5000);  // ran, scheduled again: pending for the next round
  pending[a] = 5000;
  EXPECT_EQ(s->export_pending(), reference_pending(pending));
}

TEST_P(SchedulerKinds, ImportRejectsOutOfRangeIndexAndImportsNothing) {
  auto s = make(10);
  std::vector<PendingVertex> bad = {{3, 1.0}, {10, 2.0}, {4, 0.5}};
  try {
    s->import_pending(bad);
    ADD_FAILURE() << "accepted index 10 of a scheduler of size 10";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("index 10"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(s->has_pending());
  EXPECT_TRUE(s->export_pending().empty());
}

TEST_P(SchedulerKinds, ExportAfterScheduleAll) {
  auto s = make(70);
  s->schedule(5, 8.0);
  s->schedule_all(2.0);
  std::vector<PendingVertex> exported = s->export_pending();
  ASSERT_EQ(exported.size(), 70u);
  for (std::uint32_t i = 0; i < 70; ++i) {
    EXPECT_EQ(exported[i].index, i);
    EXPECT_EQ(exported[i].priority, i == 5 ? 8.0 : 2.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Scheduler, SchedulerKinds, testing::ValuesIn(kKinds),
                         [](const testing::TestParamInfo<SchedulerKind>& info) {
                           return std::string(atl::scheduler_name(info.param));
                         });

// ---- per-kind order (single thread) ----------------------------------------------------------

TEST(Scheduler, FifoOrderSingleThread) {
  const std::uint32_t n = 1000;
  auto s = atl::make_scheduler(SchedulerKind::kFifo, n, 4);
  std::mt19937 rng(3);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::uint32_t> expected;  // first occurrences, in schedule order
    std::vector<bool> seen(n);
    for (int k = 0; k < 1500; ++k) {
      std::uint32_t i = rng() % n;
      s->schedule(i, static_cast<double>(rng() % 10));
      if (!seen[i]) expected.push_back(i);
      seen[i] = true;
    }
    EXPECT_EQ(s->begin_round(), expected.size());
    EXPECT_EQ(drain(*s), expected);
  }
}

TEST(Scheduler, SweepIncreasingIndexOrderSingleThread) {
  const std::uint32_t n = 3000;
  auto s = atl::make_scheduler(SchedulerKind::kSweep, n, 4);
  std::mt19937 rng(5);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::uint32_t> expected;
    for (int k = 0; k < 2000; ++k) {
      std::uint32_t i = rng() % n;
      s->schedule(i, static_cast<double>(rng() % 10));
      expected.push_back(i);
    }
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    EXPECT_EQ(s->begin_round(), expected.size());
    EXPECT_EQ(drain(*s), expected);
  }
}

TEST(Scheduler, PriorityDescendingOrderSingleThread) {
  const std::uint32_t n = 2000;
  auto s = atl::make_scheduler(SchedulerKind::kPriority, n, 4);
  std::mt19937 rng(11);
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), rng);
  // Distinct final priorities: index i ends with 1000 + i; some first get a lower one, then
  // are raised (lazy duplicates), some are scheduled again lower (ignored).
  std::vector<std::uint32_t> picked(order.begin(), order.begin() + 700);
  for (std::uint32_t i : picked) {
    if (i % 3 == 0) s->schedule(i, static_cast<double>(i) / 10);
    s->schedule(i, 1000.0 + i);
    if (i % 5 == 0) s->schedule(i, 0);
  }
  EXPECT_EQ(s->begin_round(), picked.size());
  std::vector<std::uint32_t> got = drain(*s);
  std::vector<std::uint32_t> expected = sorted(picked);
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
}

/// `count` distinct random indices below n, in random order.
std::vector<std::uint32_t> random_subset(std::uint32_t n, std::size_t count, unsigned seed) {
  std::vector<std::uint32_t> picked(n);
  std::iota(picked.begin(), picked.end(), 0u);
  std::shuffle(picked.begin(), picked.end(), std::mt19937(seed));
  picked.resize(count);
  return picked;
}

/// The single-thread pop order of `picked`, scheduled in that order with priority = index:
/// fifo keeps it, sweep sorts it, priority sorts it descending.
std::vector<std::uint32_t> single_thread_order(SchedulerKind kind,
                                               const std::vector<std::uint32_t>& picked) {
  if (kind == SchedulerKind::kFifo) return picked;
  std::vector<std::uint32_t> order = sorted(picked);
  if (kind == SchedulerKind::kPriority) std::reverse(order.begin(), order.end());
  return order;
}

TEST(Scheduler, PopBatchKeepsEachKindsOrder) {
  const std::uint32_t n = 2000;
  const std::vector<std::uint32_t> picked = random_subset(n, 600, 29);
  for (SchedulerKind kind : kKinds) {
    auto s = atl::make_scheduler(kind, n, 1);
    for (std::uint32_t i : picked) s->schedule(i, static_cast<double>(i));
    ASSERT_EQ(s->begin_round(), picked.size());
    std::vector<std::uint32_t> got;
    std::vector<std::uint32_t> buffer(50);
    while (std::size_t k = s->pop_batch(buffer)) {
      got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(k));
    }
    EXPECT_EQ(got, single_thread_order(kind, picked)) << atl::scheduler_name(kind);
  }
}

TEST(Scheduler, PriorityRaisedFrozenVertexComesFirst) {
  auto s = atl::make_scheduler(SchedulerKind::kPriority, 10, 2);
  for (std::uint32_t i = 0; i < 10; ++i) s->schedule(i, i);
  EXPECT_EQ(s->begin_round(), 10u);
  std::uint32_t i = 0;
  ASSERT_TRUE(s->pop(i));
  EXPECT_EQ(i, 9u);
  s->schedule(2, 50);  // frozen, not yet popped: raised within the current round
  ASSERT_TRUE(s->pop(i));
  EXPECT_EQ(i, 2u);
  EXPECT_EQ(s->priority(2), 50);
  EXPECT_EQ(drain(*s), (std::vector<std::uint32_t>{8, 7, 6, 5, 4, 3, 1, 0}));  // 2 not again
  EXPECT_FALSE(s->has_pending());
}

// ---- names -----------------------------------------------------------------------------------

TEST(Scheduler, ParseAndNameRoundTrip) {
  for (SchedulerKind kind : kKinds) {
    EXPECT_EQ(atl::parse_scheduler(atl::scheduler_name(kind)), kind);
  }
  EXPECT_EQ(atl::scheduler_name(SchedulerKind::kFifo), "fifo");
  EXPECT_EQ(atl::scheduler_name(SchedulerKind::kSweep), "sweep");
  EXPECT_EQ(atl::scheduler_name(SchedulerKind::kPriority), "priority");
}

TEST(Scheduler, ParseRejectsUnknownNames) {
  for (std::string bad : {"", "FIFO", "lifo", "priority ", "sweep\n"}) {
    try {
      atl::parse_scheduler(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const atl::Error& e) {
      EXPECT_EQ(e.kind(), atl::ErrorKind::kUsage);
      std::string what = e.what();
      EXPECT_NE(what.find("fifo, sweep, priority"), std::string::npos) << what;
      EXPECT_NE(what.find("unknown scheduler"), std::string::npos) << what;
    }
  }
}

// ---- stress ----------------------------------------------------------------------------------
#ifndef ATOLL_SCHEDULER_TEST_NO_TBB

struct StressCase {
  SchedulerKind kind;
  std::uint32_t size;
  unsigned workers;
};

/// What one stress round shares between its threads (all of it atomic while they run).
struct StressRound {
  Scheduler* s = nullptr;
  std::uint32_t n = 0;
  bool last = false;  // no scheduling in the last round
  std::uint64_t seed = 0;
  std::size_t ops = 0;                       // schedules by each scheduler thread / TBB loop
  std::vector<std::atomic<int>> popped;      // pops of i this round
  std::vector<std::atomic<bool>> after_pop;  // i scheduled after it was seen popped
  std::vector<std::atomic<bool>> unknown;    // i scheduled while not seen popped
  std::atomic<int> bad_index{0};
  std::atomic<int> tasks_done{0};  // see run_task

  explicit StressRound(std::uint32_t size)
      : n(size), popped(size), after_pop(size), unknown(size) {}

  /// Drains the round; the "update" of a popped vertex sometimes schedules it again.
  void pop_loop(std::uint64_t salt) {
    std::mt19937_64 rng(seed + salt);
    std::uint32_t i = 0;
    while (s->pop(i)) {
      if (i >= n) {
        bad_index.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      popped[i].fetch_add(1, std::memory_order_release);
      if (!last && rng() % 4 == 0) {
        after_pop[i].store(true, std::memory_order_relaxed);
        s->schedule(i, static_cast<double>(rng() % 1000));
      }
    }
  }

  /// Schedules `count` random indices, half of them from a small hot range so that duplicates
  /// and hits on vertices of the current round are common.
  void schedule_loop(std::uint64_t salt, std::size_t count) {
    std::mt19937_64 rng(seed + salt);
    for (std::size_t k = 0; k < count; ++k) {
      std::uint64_t r = rng();
      auto i = static_cast<std::uint32_t>((r & 1) ? (r >> 1) % n : (r >> 1) % std::min(n, 48u));
      bool was_popped = popped[i].load(std::memory_order_acquire) > 0;
      s->schedule(i, static_cast<double>(rng() % 1000) - 500);
      (was_popped ? after_pop : unknown)[i].store(true, std::memory_order_relaxed);
    }
  }
};

// oneTBB is not built with ThreadSanitizer, which therefore cannot see that a TBB task runs
// after the code that launched it and before the wait that joins it. The TBB task bodies below
// capture nothing: they reach the round through an atomic pointer (acquire) and end with a
// release on tasks_done, which the test acquires after the join.
std::atomic<StressRound*> g_round{nullptr};

template <typename Fn>
void run_task(Fn&& fn) {
  StressRound& r = *g_round.load(std::memory_order_acquire);
  fn(r);
  r.tasks_done.fetch_add(1, std::memory_order_release);
}

void pop_task(int t) {
  run_task([t](StressRound& r) { r.pop_loop(10 + static_cast<unsigned>(t)); });
}

void schedule_task(int t) {
  run_task([t](StressRound& r) { r.schedule_loop(100 + static_cast<unsigned>(t), r.ops / 8); });
}

class SchedulerStress : public testing::TestWithParam<StressCase> {};

// Each round: poppers (a std::thread and a tbb::parallel_for in one arena) drain the round and
// reschedule some popped vertices; meanwhile schedulers (a std::thread and a tbb::parallel_for
// in another arena) schedule random indices with duplicates. A schedule of i is known to target
// the next round when i was seen popped before the call, or i was not in this round at all; it
// is ambiguous (this round, deduplicated, or the next) when i was in this round and not yet seen
// popped. Next round: popped = begin_round() distinct vertices, each exactly once, all the
// known ones, nothing that was neither known nor ambiguous.
TEST_P(SchedulerStress, ConcurrentScheduleAndPop) {
  const StressCase c = GetParam();
  const std::uint32_t n = c.size;
  auto s = atl::make_scheduler(c.kind, n, c.workers);
  tbb::global_control control(tbb::global_control::max_allowed_parallelism, 6);
  tbb::task_arena schedule_arena(2);
  tbb::task_arena pop_arena(2);

  StressRound round_state(n);
  StressRound& st = round_state;
  st.s = s.get();
  st.ops = 800;
  std::vector<char> known(n, 0);  // this round must pop i
  std::vector<char> maybe(n, 0);  // this round may pop i

  std::mt19937_64 seed_rng(c.size * 31 + static_cast<unsigned>(c.kind));
  for (int k = 0; k < 200; ++k) {
    auto i = static_cast<std::uint32_t>(seed_rng() % n);
    s->schedule(i, static_cast<double>(seed_rng() % 1000));
    known[i] = 1;
  }

  const int rounds = 12;
  for (int round = 0; round <= rounds; ++round) {
    const std::size_t count = s->begin_round();
    st.last = round == rounds;
    st.seed = static_cast<std::uint64_t>(round) * 1000;
    for (std::uint32_t i = 0; i < n; ++i) {
      st.popped[i].store(0, std::memory_order_relaxed);
      st.after_pop[i].store(false, std::memory_order_relaxed);
      st.unknown[i].store(false, std::memory_order_relaxed);
    }
    g_round.store(&st, std::memory_order_release);

    std::vector<std::thread> threads;
    threads.emplace_back([&st] { st.pop_loop(1); });
    threads.emplace_back(
        [&pop_arena] { pop_arena.execute([] { tbb::parallel_for(0, 4, 1, &pop_task); }); });
    if (!st.last) {
      threads.emplace_back([&st] { st.schedule_loop(2, st.ops); });
      threads.emplace_back([&schedule_arena] {
        schedule_arena.execute([] { tbb::parallel_for(0, 8, 1, &schedule_task); });
      });
    }
    for (std::thread& t : threads) t.join();
    static_cast<void>(st.tasks_done.load(std::memory_order_acquire));

    ASSERT_EQ(st.bad_index.load(), 0);
    std::size_t distinct = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      int p = st.popped[i].load(std::memory_order_relaxed);
      ASSERT_LE(p, 1) << "index " << i << " popped " << p << " times in round " << round;
      if (p == 1) {
        ++distinct;
        ASSERT_TRUE(known[i] || maybe[i]) << "index " << i << " not scheduled, round " << round;
      } else {
        ASSERT_FALSE(known[i]) << "index " << i << " scheduled but not popped, round " << round;
      }
    }
    ASSERT_EQ(distinct, count) << "round " << round;
    for (std::uint32_t i = 0; i < n; ++i) {
      bool p = st.popped[i].load(std::memory_order_relaxed) == 1;
      bool a = st.after_pop[i].load(std::memory_order_relaxed);
      bool u = st.unknown[i].load(std::memory_order_relaxed);
      known[i] = a || (u && !p);
      maybe[i] = u && p;
    }
  }
  g_round.store(nullptr, std::memory_order_relaxed);
  EXPECT_FALSE(s->has_pending());
  // Nothing is stuck: every index can be scheduled and popped once more.
  for (std::uint32_t i = 0; i < n; ++i) s->schedule(i, 0);
  ASSERT_EQ(s->begin_round(), n);
  std::vector<std::uint32_t> all = sorted(drain(*s));
  ASSERT_EQ(all.size(), n);
  for (std::uint32_t i = 0; i < n; ++i) ASSERT_EQ(all[i], i);
}

std::vector<StressCase> stress_cases() {
  std::vector<StressCase> cases;
  for (SchedulerKind kind : kKinds) {
    for (std::uint32_t size : {1u, 63u, 64u, 65u, 100000u}) cases.push_back({kind, size, 3});
    cases.push_back({kind, 65, 1});    // every thread shares one slot
    cases.push_back({kind, 1000, 8});  // more slots than threads
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Scheduler, SchedulerStress, testing::ValuesIn(stress_cases()),
                         [](const testing::TestParamInfo<StressCase>& info) {
                           return std::string(atl::scheduler_name(info.param.kind)) + "_n" +
                                  std::to_string(info.param.size) + "_w" +
                                  std::to_string(info.param.workers);
                         });
#endif  // ATOLL_SCHEDULER_TEST_NO_TBB

// ---- continuous mode -------------------------------------------------------------------------

class ContinuousKinds : public testing::TestWithParam<SchedulerKind> {
 protected:
  std::unique_ptr<ContinuousScheduler> make(std::uint32_t size, unsigned workers = 4) const {
    return atl::make_continuous_scheduler(GetParam(), size, workers);
  }
};

/// Pops (and finishes) until nothing is pending, in pop order.
std::vector<PendingVertex> drain(ContinuousScheduler& s) {
  std::vector<PendingVertex> out;
  PendingVertex v;
  while (s.pop(v)) {
    out.push_back(v);
    s.finish(v.index);
  }
  return out;
}

std::vector<std::uint32_t> indices(const std::vector<PendingVertex>& vertices) {
  std::vector<std::uint32_t> out;
  for (const PendingVertex& v : vertices) out.push_back(v.index);
  return out;
}

TEST_P(ContinuousKinds, LifeCycle) {
  auto s = make(100);
  EXPECT_EQ(s->size(), 100u);
  EXPECT_TRUE(s->empty());
  EXPECT_TRUE(s->idle());
  EXPECT_EQ(s->pending_count(), 0u);
  PendingVertex v;
  EXPECT_FALSE(s->pop(v));

  s->schedule(7, 1);
  s->schedule(7, 4);  // pending: once, max priority
  s->schedule(7, 2);
  s->schedule(30, -2);
  EXPECT_EQ(s->pending_count(), 2u);
  EXPECT_FALSE(s->empty());
  std::vector<PendingVertex> first;
  for (int k = 0; k < 2; ++k) {
    ASSERT_TRUE(s->pop(v));
    first.push_back(v);
  }
  std::sort(first.begin(), first.end(),
            [](const PendingVertex& a, const PendingVertex& b) { return a.index < b.index; });
  EXPECT_EQ(first, (std::vector<PendingVertex>{{7, 4}, {30, -2}}));
  EXPECT_TRUE(s->empty());
  EXPECT_FALSE(s->idle());  // both running
  EXPECT_FALSE(s->pop(v));  // running vertices are not pending

  s->schedule(7, 0.5);  // while running: pending again after finish, with its new priority
  s->schedule(7, 0.25);
  EXPECT_FALSE(s->pop(v));
  EXPECT_TRUE(s->empty());
  s->finish(30);
  EXPECT_FALSE(s->pop(v));
  s->finish(7);
  EXPECT_EQ(s->pending_count(), 1u);
  ASSERT_TRUE(s->pop(v));
  EXPECT_EQ(v, (PendingVertex{7, 0.5}));
  EXPECT_FALSE(s->idle());
  s->finish(7);
  EXPECT_TRUE(s->idle());
  EXPECT_FALSE(s->pop(v));

  EXPECT_THROW(s->finish(7), std::logic_error);  // not running
  EXPECT_THROW(s->finish(100), std::out_of_range);
  EXPECT_THROW(s->schedule(100, 1), std::out_of_range);
  s->schedule(3, std::nan(""));  // NaN counts as -infinity
  ASSERT_TRUE(s->pop(v));
  EXPECT_EQ(v, (PendingVertex{3, -std::numeric_limits<double>::infinity()}));
  s->finish(3);
  EXPECT_TRUE(s->idle());
}

TEST_P(ContinuousKinds, EmptyScheduler) {
  auto s = make(0);
  EXPECT_EQ(s->size(), 0u);
  PendingVertex v;
  EXPECT_FALSE(s->pop(v));
  EXPECT_TRUE(s->idle());
  EXPECT_THROW(s->schedule(0, 1), std::out_of_range);
  EXPECT_THROW(s->finish(0), std::out_of_range);
  EXPECT_TRUE(s->export_pending().empty());
  EXPECT_FALSE(s->pop(v));
}

TEST_P(ContinuousKinds, BatchesHandOutEachPendingVertexOnce) {
  const std::uint32_t n = 5000;
  auto s = make(n, 2);
  std::mt19937 rng(31);
  std::map<std::uint32_t, double> want;
  for (int k = 0; k < 4000; ++k) {
    std::uint32_t i = rng() % n;
    double p = static_cast<double>(rng() % 100);
    s->schedule(i, p);
    auto [it, fresh] = want.emplace(i, p);
    if (!fresh) it->second = std::max(it->second, p);
  }
  EXPECT_EQ(s->pending_count(), want.size());
  std::vector<PendingVertex> buffer(64);
  std::map<std::uint32_t, double> got;
  for (std::size_t batch = 1;; batch = batch * 5 % 64 + 1) {  // sizes 1 to 64
    std::size_t k = s->pop(std::span(buffer).first(batch));
    ASSERT_LE(k, batch);
    if (k == 0) break;
    for (std::size_t j = 0; j < k; ++j) {
      EXPECT_TRUE(got.emplace(buffer[j].index, buffer[j].priority).second) << buffer[j].index;
    }
  }
  EXPECT_EQ(got, want);
  EXPECT_FALSE(s->idle());
  for (auto [i, p] : got) s->finish(i);
  EXPECT_TRUE(s->idle());
  EXPECT_EQ(s->pop(std::span<PendingVertex>{}), 0u);
}

TEST_P(ContinuousKinds, ExportImportRoundTrip) {
  const std::uint32_t n = 900;
  auto s = make(n);
  std::mt19937 rng(37);
  std::map<std::uint32_t, double> pending;
  for (int k = 0; k < 500; ++k) {
    std::uint32_t i = rng() % n;
    double p = static_cast<double>(rng() % 1000) / 4 - 100;
    s->schedule(i, p);
    auto [it, fresh] = pending.emplace(i, p);
    if (!fresh) it->second = std::max(it->second, p);
  }
  // Run a few and finish them (one is rescheduled while running): quiescent again.
  PendingVertex v;
  for (int k = 0; k < 20; ++k) {
    ASSERT_TRUE(s->pop(v));
    pending.erase(v.index);
    if (k == 3) {
      s->schedule(v.index, 77);
      pending[v.index] = 77;
    }
    s->finish(v.index);
  }
  std::vector<PendingVertex> exported = s->export_pending();
  ASSERT_EQ(exported, reference_pending(pending));
  for (SchedulerKind other : kKinds) {
    auto t = atl::make_continuous_scheduler(other, n, 3);
    t->import_pending(exported);
    EXPECT_EQ(t->export_pending(), exported) << atl::scheduler_name(other);
    EXPECT_EQ(t->pending_count(), exported.size());
    std::vector<PendingVertex> got = drain(*t);
    std::sort(got.begin(), got.end(),
              [](const PendingVertex& a, const PendingVertex& b) { return a.index < b.index; });
    EXPECT_EQ(got, exported) << atl::scheduler_name(other);
    // ... and into a round scheduler, the checkpoint format being the same.
    auto r = atl::make_scheduler(other, n, 2);
    r->import_pending(exported);
    EXPECT_EQ(r->export_pending(), exported);
  }
  std::vector<PendingVertex> bad = {{1, 0}, {n, 0}};
  auto t = make(n);
  EXPECT_THROW(t->import_pending(bad), std::out_of_range);
  EXPECT_TRUE(t->export_pending().empty());
  EXPECT_TRUE(t->idle());
}

TEST_P(ContinuousKinds, ScheduleRangeActsAsScheduleOfEachIndex) {
  const std::uint32_t n = 1000;
  auto s = make(n, 2);
  auto ref = make(n, 2);
  s->schedule(10, 9);   // already pending, higher priority: kept
  s->schedule(100, 1);  // already pending, lower: raised
  ref->schedule(10, 9);
  ref->schedule(100, 1);
  // Ranges over word boundaries, a one-index range, an empty one, and overlapping ones.
  const std::pair<std::uint32_t, std::uint32_t> ranges[] = {{5, 70},   {64, 64},    {63, 64},
                                                            {90, 401}, {400, 1000}, {127, 129}};
  for (auto [begin, end] : ranges) {
    s->schedule_range(begin, end, 2.5);
    for (std::uint32_t i = begin; i < end; ++i) ref->schedule(i, 2.5);
  }
  EXPECT_EQ(s->pending_count(), ref->pending_count());
  EXPECT_EQ(s->export_pending(), ref->export_pending());
  EXPECT_THROW(s->schedule_range(999, 1001, 1), std::out_of_range);
  std::vector<PendingVertex> got = drain(*s);
  std::sort(got.begin(), got.end(),
            [](const PendingVertex& a, const PendingVertex& b) { return a.index < b.index; });
  EXPECT_EQ(got, ref->export_pending());
  EXPECT_TRUE(s->idle());
}

TEST_P(ContinuousKinds, ScheduleOfABatchActsAsScheduleOfEachEntry) {
  auto check = [this](atl::ScheduleOrder order) {
    const std::uint32_t n = 500;
    auto s = make(n, 2);
    auto ref = make(n, 2);
    for (auto* t : {&s, &ref}) {
      (*t)->schedule(7, 1);
      (*t)->schedule(3, 4);
    }
    PendingVertex running;
    ASSERT_TRUE(s->pop(running));
    PendingVertex ref_running;
    ASSERT_TRUE(ref->pop(ref_running));
    ASSERT_EQ(running, ref_running);
    // Repeats (raised and not), the running vertex, both ends of the range, a NaN priority,
    // and more entries than the prefetch distance.
    // The running vertex again (rerun: lower and higher priorities).
    std::vector<PendingVertex> batch = {{9, 2},
                                        {9, 1},
                                        {7, 3},
                                        {running.index, 6},
                                        {0, 1},
                                        {499, 1},
                                        {9, 5},
                                        {42, std::nan("")},
                                        {running.index, 2},
                                        {running.index, 9}};
    for (std::uint32_t i = 100; i < 400; i += 7) batch.push_back({i, static_cast<double>(i % 5)});
    s->schedule(std::span<const PendingVertex>(batch), order);
    for (const PendingVertex& p : batch) ref->schedule(p.index, p.priority);
    EXPECT_EQ(s->pending_count(), ref->pending_count());
    EXPECT_EQ(s->export_pending(), ref->export_pending());
    s->finish(running.index);
    ref->finish(ref_running.index);
    std::vector<PendingVertex> got = drain(*s);
    std::vector<PendingVertex> want = drain(*ref);
    auto by_index = [](const PendingVertex& a, const PendingVertex& b) {
      return a.index < b.index;
    };
    std::sort(got.begin(), got.end(), by_index);
    std::sort(want.begin(), want.end(), by_index);
    EXPECT_EQ(got, want);
    EXPECT_EQ(std::count_if(got.begin(), got.end(),
                            [&](const PendingVertex& p) { return p.index == running.index; }),
              1);  // scheduled while running: runs once more
    EXPECT_TRUE(s->idle());
    const PendingVertex past[] = {{1, 1}, {n, 1}};
    EXPECT_THROW(s->schedule(std::span<const PendingVertex>(past), order), std::out_of_range);
  };
  for (atl::ScheduleOrder order : {atl::ScheduleOrder::kScheduler, atl::ScheduleOrder::kLocks}) {
    SCOPED_TRACE(order == atl::ScheduleOrder::kLocks ? "ordered by locks" : "by the scheduler");
    check(order);
  }
}

TEST_P(ContinuousKinds, FinishOfABatchRequeuesTheRescheduled) {
  auto s = make(300, 2);
  for (std::uint32_t i = 0; i < 300; i += 3) s->schedule(i, 1);
  std::vector<PendingVertex> batch(40);
  ASSERT_EQ(s->pop(batch), 40u);
  EXPECT_FALSE(s->idle());
  s->schedule(batch[7].index, 5);  // while running: pending again once the batch finishes
  s->finish(std::span<const PendingVertex>(batch));
  EXPECT_THROW(s->finish(batch[0].index), std::logic_error);  // finished already
  std::vector<PendingVertex> rest = drain(*s);
  EXPECT_EQ(rest.size(), 100u - 40u + 1u);
  EXPECT_EQ(std::count(rest.begin(), rest.end(), PendingVertex{batch[7].index, 5}), 1);
  EXPECT_TRUE(s->idle());
}

INSTANTIATE_TEST_SUITE_P(Scheduler, ContinuousKinds, testing::ValuesIn(kKinds),
                         [](const testing::TestParamInfo<SchedulerKind>& info) {
                           return std::string(atl::scheduler_name(info.param));
                         });

TEST(ContinuousScheduler, OrderOfEachKindSingleThread) {
  const std::uint32_t n = 3000;
  const std::vector<std::uint32_t> picked = random_subset(n, 900, 41);
  for (SchedulerKind kind : kKinds) {
    auto s = atl::make_continuous_scheduler(kind, n, 1);
    for (std::uint32_t i : picked) s->schedule(i, static_cast<double>(i));
    std::vector<std::uint32_t> got = indices(drain(*s));
    // The sweep scheduler's first lap runs in index order.
    EXPECT_EQ(got, single_thread_order(kind, picked)) << atl::scheduler_name(kind);
  }
}

struct ContinuousCase {
  SchedulerKind kind;
  std::uint32_t size;
  unsigned workers;  // slots
  unsigned threads;
};

// Several std::threads schedule random vertices (stamping each vertex before it is scheduled)
// and pop batches of random size; each "update" checks that it is the only update of its vertex
// running, records the stamp it sees (a plain write: TSan checks that successive updates of a
// vertex are ordered by the scheduler), and sometimes schedules itself or a neighbour. When
// every thread has done its share, updates stop scheduling and the threads drain until idle().
// Then every vertex's last update saw its last stamp: each schedule() was followed by an update
// that started after it.
TEST(ContinuousStress, NoLostWakeUpNoConcurrentUpdate) {
  std::vector<ContinuousCase> cases;
  for (SchedulerKind kind : kKinds) {
    cases.push_back({kind, 1, 2, 3});
    cases.push_back({kind, 64, 3, 4});
    cases.push_back({kind, 2000, 4, 4});
    cases.push_back({kind, 2000, 1, 3});  // every thread shares one slot
    cases.push_back({kind, 5000, 8, 2});  // more slots than threads
  }
  for (const ContinuousCase& c : cases) {
    SCOPED_TRACE(std::string(atl::scheduler_name(c.kind)) + " n=" + std::to_string(c.size) +
                 " slots=" + std::to_string(c.workers) + " threads=" + std::to_string(c.threads));
    const std::uint32_t n = c.size;
    auto s = atl::make_continuous_scheduler(c.kind, n, c.workers);
    std::vector<std::atomic<std::uint64_t>> stamp(n);  // schedules of i so far
    std::vector<std::uint64_t> seen(n, 0);             // stamp seen by i's latest update (plain)
    std::vector<std::atomic<bool>> running(n);
    std::atomic<int> concurrent{0};
    std::atomic<std::uint64_t> updates{0};
    std::atomic<unsigned> done{0};  // threads past their scheduling share
    const int ops = 6000;

    auto stamp_and_schedule = [&](std::uint32_t i, double p) {
      stamp[i].fetch_add(1, std::memory_order_relaxed);
      s->schedule(i, p);
    };
    auto worker = [&](unsigned t) {
      std::mt19937_64 rng(1000 * t + n);
      std::vector<PendingVertex> buffer(8);
      auto update_batch = [&](bool may_schedule) {
        std::size_t k = s->pop(std::span(buffer).first(1 + rng() % buffer.size()));
        for (std::size_t j = 0; j < k; ++j) {
          const std::uint32_t i = buffer[j].index;
          if (running[i].exchange(true, std::memory_order_relaxed)) concurrent.fetch_add(1);
          seen[i] = stamp[i].load(std::memory_order_relaxed);
          if (may_schedule && rng() % 8 == 0) stamp_and_schedule(i, 1);  // itself, running
          if (may_schedule && rng() % 4 == 0) stamp_and_schedule((i + 1) % n, 2);
          if (may_schedule && rng() % 8 == 0) {  // a batch, as an update's requests go
            const PendingVertex batch[] = {{(i + 2) % n, 1}, {(i + 5) % n, 3}, {i, 1}};
            for (const PendingVertex& p : batch) stamp[p.index].fetch_add(1);
            s->schedule(std::span<const PendingVertex>(batch), atl::ScheduleOrder::kScheduler);
          }
          running[i].store(false, std::memory_order_relaxed);
          s->finish(i);
          updates.fetch_add(1, std::memory_order_relaxed);
        }
        return k;
      };
      for (int op = 0; op < ops; ++op) {
        if (rng() % 2 == 0) {
          stamp_and_schedule(static_cast<std::uint32_t>(rng() % n),
                             static_cast<double>(rng() % 100));
        } else {
          update_batch(true);
        }
      }
      done.fetch_add(1, std::memory_order_acq_rel);
      for (;;) {
        if (update_batch(false) != 0) continue;
        if (done.load(std::memory_order_acquire) == c.threads && s->idle()) break;
        std::this_thread::yield();
      }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < c.threads; ++t) threads.emplace_back(worker, t);
    for (std::thread& t : threads) t.join();

    EXPECT_EQ(concurrent.load(), 0) << "a vertex ran concurrently with itself";
    std::uint64_t scheduled = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      scheduled += stamp[i].load();
      ASSERT_EQ(seen[i], stamp[i].load()) << "vertex " << i << ": a schedule was never followed "
                                          << "by an update";
    }
    EXPECT_GT(updates.load(), 0u);
    EXPECT_LE(updates.load(), scheduled);
    EXPECT_TRUE(s->idle());
    EXPECT_TRUE(s->empty());
    EXPECT_EQ(s->pending_count(), 0u);
    EXPECT_TRUE(s->export_pending().empty());
    PendingVertex v;
    EXPECT_FALSE(s->pop(v));
  }
}

// pop() returns nothing only when nothing is pending: one thread keeps exactly one vertex
// pending at all times by scheduling the next before finishing the current one, while the
// others pop; a pop that came back empty while the chain was alive is an error.
// ScheduleOrder::kLocks: what orders an update after the writes of whoever scheduled it is a
// lock per vertex (as scope locks do under edge consistency), not the scheduler. A scheduler
// stamps a vertex and batch-schedules it while holding that vertex's mutex; an update locks
// its vertex's mutex after pop() and records the stamp it sees. Every stamp must be seen by a
// later update of its vertex (run under TSan too: the stamps are plain data under the mutexes).
TEST(ContinuousStress, LockOrderedBatchesLoseNoWakeUp) {
  for (SchedulerKind kind : kKinds) {
    for (std::uint32_t n : {1u, 50u, 1000u}) {
      SCOPED_TRACE(std::string(atl::scheduler_name(kind)) + " n=" + std::to_string(n));
      const unsigned threads = 3;
      auto s = atl::make_continuous_scheduler(kind, n, threads);
      std::vector<std::mutex> locks(n);
      std::vector<std::uint64_t> stamp(n, 0);  // under locks[i]
      std::vector<std::uint64_t> seen(n, 0);   // under locks[i]
      std::atomic<unsigned> done{0};
      // Stamps i and schedules it (twice in one batch, as a symmetric graph's update does).
      auto stamp_and_schedule = [&](std::uint32_t i, double p) {
        std::lock_guard guard(locks[i]);
        ++stamp[i];
        const PendingVertex batch[] = {{i, p}, {i, p / 2}};
        s->schedule(std::span<const PendingVertex>(batch), atl::ScheduleOrder::kLocks);
      };
      auto worker = [&](unsigned t) {
        std::mt19937_64 rng(77 * t + n);
        std::vector<PendingVertex> buffer(4);
        auto update_batch = [&](bool may_schedule) {
          const std::size_t k = s->pop(std::span(buffer).first(1 + rng() % buffer.size()));
          for (std::size_t j = 0; j < k; ++j) {
            const std::uint32_t i = buffer[j].index;
            {
              std::lock_guard guard(locks[i]);
              seen[i] = stamp[i];
            }
            if (may_schedule && rng() % 8 == 0) stamp_and_schedule(i, 1);  // itself, running
            if (may_schedule && rng() % 3 == 0) stamp_and_schedule((i + 1) % n, 2);
            s->finish(i);
          }
          return k;
        };
        for (int op = 0; op < 4000; ++op) {
          if (rng() % 2 == 0) {
            stamp_and_schedule(static_cast<std::uint32_t>(rng() % n),
                               static_cast<double>(rng() % 10));
          } else {
            update_batch(true);
          }
        }
        done.fetch_add(1, std::memory_order_acq_rel);
        for (;;) {
          if (update_batch(false) != 0) continue;
          if (done.load(std::memory_order_acquire) == threads && s->idle()) break;
          std::this_thread::yield();
        }
      };
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker, t);
      for (std::thread& t : pool) t.join();
      for (std::uint32_t i = 0; i < n; ++i) {
        ASSERT_EQ(seen[i], stamp[i]) << "vertex " << i << ": a schedule was never followed by an "
                                     << "update that saw its stamp";
      }
      EXPECT_TRUE(s->idle());
      EXPECT_TRUE(s->export_pending().empty());
    }
  }
}

TEST(ContinuousStress, PopFindsTheOnlyPendingVertex) {
  for (SchedulerKind kind : kKinds) {
    SCOPED_TRACE(atl::scheduler_name(kind));
    const std::uint32_t n = 4096;
    auto s = atl::make_continuous_scheduler(kind, n, 3);
    std::atomic<int> hops{0};
    std::atomic<int> false_empty{0};
    const int target = 3000;
    s->schedule(0, 1);
    auto worker = [&] {
      PendingVertex v;
      while (hops.load(std::memory_order_acquire) < target) {
        if (!s->pop(v)) {
          // Fine while the chain's vertex runs; but the chain keeps one vertex pending or
          // running until it ends, so idle() must be false unless the chain had ended (hops
          // reached target before the call).
          if (s->idle() && hops.load(std::memory_order_acquire) < target) false_empty.fetch_add(1);
          continue;
        }
        int h = hops.fetch_add(1, std::memory_order_acq_rel) + 1;
        if (h < target) s->schedule((v.index * 2654435761u + 1) % n, 1);
        s->finish(v.index);
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(false_empty.load(), 0);
    EXPECT_TRUE(s->idle());
  }
}

}  // namespace
