// Tests of the schedulers (fifo, sweep, priority): every scheduled index popped exactly once per
// round, deduplication, max-combined priorities, rescheduling during a round, unfinished rounds,
// the empty scheduler, the single-threaded order of each kind, parse/name, and a stress test
// with std::threads and tbb::parallel_for in two task arenas scheduling while others pop.
#include "atoll/engine/scheduler.hpp"

#include <gtest/gtest.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "atoll/common/error.hpp"

namespace {

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

}  // namespace
