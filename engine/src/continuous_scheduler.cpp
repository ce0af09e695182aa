// The three schedulers in continuous mode (round mode: scheduler.cpp). One class template,
// Continuous<Queue>, holds the per-index RunStateSet and the pending counters; Queue is the
// kind's structure of queued entries (FifoQueues, SweepBits, PriorityHeaps), called directly
// (no virtual call inside schedule(), pop() or finish()).
//
// Invariants:
//  - an entry is queued exactly when a vertex becomes pending (RunStateSet::mark returns kNew,
//    or finish() of a rerun vertex); the priority kind also queues a duplicate when a pending
//    vertex's priority is raised. An entry whose take() fails is stale and is dropped.
//  - pending vertices are counted per slot: `added` is incremented while the vertex is kBusy,
//    before it can be taken, and `removed` after take() succeeded, so that in every consistent
//    snapshot of the counters sum(added) - sum(removed) >= the number of pending vertices.
//    `finished` counts finish() calls (after a requeued vertex was counted as added), so
//    sum(removed) - sum(finished) >= the number of running vertices. The counters only grow,
//    so two successive collects with equal sums are a consistent snapshot (empty(), idle()).
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/scheduler.hpp"
#include "pending_set.hpp"
#include "stealing_heaps.hpp"
#include "worker_slots.hpp"

namespace atl {

namespace {

using sched::kCacheLine;
using sched::RunStateSet;
using sched::SlotLock;

// ---- FIFO ------------------------------------------------------------------------------------

/// Per-slot queues in schedule order; a worker drains its own slot first, then steals.
class FifoQueues {
 public:
  static constexpr bool kScanIsCostly = false;

  FifoQueues(std::uint32_t /*size*/, std::size_t slots) : slots_(slots) {}

  void push(std::size_t slot, std::uint32_t i, double /*priority*/) {
    Slot& s = slots_[slot];
    std::lock_guard guard(s.lock);
    s.queue.push_back(i);
    s.nonempty.store(true, std::memory_order_relaxed);
  }
  void raised(std::size_t, std::uint32_t, double) {}

  template <typename Take>
  std::size_t pop(std::size_t own, std::span<PendingVertex> out, Take take) {
    const std::size_t n = slots_.size();
    for (std::size_t k = 0, v = own; k < n; ++k, v = v + 1 == n ? 0 : v + 1) {
      Slot& s = slots_[v];
      if (!s.nonempty.load(std::memory_order_relaxed)) continue;
      std::size_t got = 0;
      std::lock_guard guard(s.lock);
      while (s.head < s.queue.size() && got < out.size()) {
        std::uint32_t i = s.queue[s.head++];
        if (take(i, out[got].priority)) out[got++].index = i;
      }
      if (s.head == s.queue.size()) {
        s.queue.clear();
        s.head = 0;
        s.nonempty.store(false, std::memory_order_relaxed);
      } else if (s.head >= 4096 && 2 * s.head >= s.queue.size()) {  // amortized O(1)
        s.queue.erase(s.queue.begin(), s.queue.begin() + static_cast<std::ptrdiff_t>(s.head));
        s.head = 0;
      }
      if (got != 0) return got;
    }
    return 0;
  }

 private:
  struct alignas(kCacheLine) Slot {
    SlotLock lock;
    std::vector<std::uint32_t> queue;  // guarded by lock; queue[head..] not handed out yet
    std::size_t head = 0;              // guarded by lock
    std::atomic<bool> nonempty{false};
  };
  std::vector<Slot> slots_;
};

// ---- sweep -----------------------------------------------------------------------------------

/// One bitmap of pending vertices swept round robin: workers claim blocks of kBlockWords words
/// from a shared cursor that wraps around, and take the set bits of a word at once (exchange).
/// When a batch fills in the middle of a word, its other bits are put back and the slot stays
/// on that word for its next pop. Only the slot's position is per slot (a hint: threads sharing
/// a slot may both read a word, which is harmless); pending bits always live in the bitmap, so
/// none is stranded in a slot whose thread stopped popping.
class SweepBits {
 public:
  static constexpr bool kScanIsCostly = true;  // a lap reads every word

  SweepBits(std::uint32_t size, std::size_t slots)
      : words_((static_cast<std::size_t>(size) + 63) / 64),
        blocks_((words_ + kBlockWords - 1) / kBlockWords),
        map_(words_),
        slots_(slots) {}

  void push(std::size_t, std::uint32_t i, double) {
    map_[i / 64].fetch_or(std::uint64_t{1} << (i % 64), std::memory_order_release);
  }
  /// push() of every index in `word`'s set bits (indices word * 64 + bit).
  void push_word(std::size_t word, std::uint64_t bits) {
    if (bits != 0) map_[word].fetch_or(bits, std::memory_order_release);
  }
  void raised(std::size_t, std::uint32_t, double) {}

  /// Whether the slot's claimed block still has words to read: then pop() finds work there
  /// or claims more, and the caller need not first test whether anything is pending.
  bool mid_block(std::size_t own) const {
    const Slot& slot = slots_[own];
    return slot.word.load(std::memory_order_relaxed) < slot.end.load(std::memory_order_relaxed);
  }

  /// Takes from the slot's block, then from newly claimed blocks until it found something or
  /// has claimed a lap's worth of blocks.
  template <typename Take>
  std::size_t pop(std::size_t own, std::span<PendingVertex> out, Take take) {
    Slot& slot = slots_[own];
    std::size_t w = slot.word.load(std::memory_order_relaxed);
    std::size_t end = slot.end.load(std::memory_order_relaxed);
    std::size_t got = 0;
    std::size_t claims = 0;
    while (got < out.size()) {
      if (w >= end) {
        if (got != 0 || claims == blocks_) break;
        std::size_t block = cursor_.fetch_add(1, std::memory_order_relaxed) % blocks_;
        ++claims;
        w = block * kBlockWords;
        end = std::min(words_, w + kBlockWords);
      }
      if (map_[w].load(std::memory_order_relaxed) != 0) {
        std::uint64_t bits = map_[w].exchange(0, std::memory_order_acquire);
        while (bits != 0 && got < out.size()) {
          auto bit = static_cast<unsigned>(std::countr_zero(bits));
          bits &= bits - 1;
          auto i = static_cast<std::uint32_t>(w * 64 + bit);
          if (take(i, out[got].priority)) out[got++].index = i;
        }
        if (bits != 0) {  // the batch is full: put the rest back and stay on this word
          map_[w].fetch_or(bits, std::memory_order_release);
          break;
        }
      }
      ++w;
    }
    slot.word.store(w, std::memory_order_relaxed);
    slot.end.store(end, std::memory_order_relaxed);
    return got;
  }

 private:
  static constexpr std::size_t kBlockWords = 8;  // 512 indices per claim
  struct alignas(kCacheLine) Slot {
    std::atomic<std::size_t> word{0};  // next word to read in the claimed block
    std::atomic<std::size_t> end{0};   // end of the claimed block
  };
  std::size_t words_;
  std::size_t blocks_;
  std::vector<std::atomic<std::uint64_t>> map_;
  std::vector<Slot> slots_;
  alignas(kCacheLine) std::atomic<std::size_t> cursor_{0};  // counts claimed blocks
};

// ---- priority --------------------------------------------------------------------------------

/// Per-slot binary max-heaps (StealingHeaps); a raised priority pushes a duplicate entry
/// (stale ones fail take() and are dropped).
class PriorityHeaps {
 public:
  static constexpr bool kScanIsCostly = false;

  PriorityHeaps(std::uint32_t /*size*/, std::size_t slots) : heaps_(slots) {}

  void push(std::size_t slot, std::uint32_t i, double priority) {
    heaps_.push(slot, {priority, i});
  }
  void raised(std::size_t slot, std::uint32_t i, double priority) { push(slot, i, priority); }

  template <typename Take>
  std::size_t pop(std::size_t own, std::span<PendingVertex> out, Take take,
                  double floor = -std::numeric_limits<double>::infinity()) {
    std::size_t got = 0;
    return heaps_.pop(
        own, out.size(),
        [&](std::uint32_t i) {
          if (!take(i, out[got].priority)) return false;
          out[got++].index = i;
          return true;
        },
        floor);
  }
  double best() const { return heaps_.best(); }

 private:
  sched::StealingHeaps heaps_;
};

// ---- the scheduler ---------------------------------------------------------------------------

template <typename Queue>
class Continuous final : public ContinuousScheduler {
 public:
  Continuous(std::uint32_t size, unsigned workers)
      : states_(size), counters_(std::max(workers, 1u)), queue_(size, counters_.size()) {}

  using ContinuousScheduler::pop;

  std::uint32_t size() const override { return states_.size(); }

  void schedule(std::uint32_t i, double priority) override {
    const std::size_t slot = slot_index();
    mark(slot, counters_[slot], i, priority);
  }

  void schedule(std::span<const PendingVertex> batch, ScheduleOrder order) override {
    // An update's requests mostly hit vertices whose state is in no cache: with the states of
    // the entries kAhead places on already on their way, the misses overlap.
    constexpr std::size_t kAhead = 8;
    const std::size_t slot = slot_index();
    Counters& c = counters_[slot];
    for (std::size_t k = 0; k < std::min(kAhead, batch.size()); ++k) {
      states_.prefetch(batch[k].index);
    }
    for (std::size_t k = 0; k < batch.size(); ++k) {
      if (k + kAhead < batch.size()) states_.prefetch(batch[k + kAhead].index);
      if (order == ScheduleOrder::kLocks &&
          states_.pending_at_least(batch[k].index, batch[k].priority)) {
        continue;  // no read-modify-write: its update's reads are ordered by locks
      }
      mark(slot, c, batch[k].index, batch[k].priority);
    }
  }

  std::size_t pop(std::span<PendingVertex> out) override {
    if (out.empty()) return 0;
    const std::size_t slot = slot_index();
    auto take = [this](std::uint32_t i, double& p) { return states_.take(i, p); };
    unsigned spins = 0;
    for (;;) {
      // A lap over an empty bitmap is costly; the test reads every slot's counters, which the
      // other workers write, so it is made only when a new block would be claimed.
      if constexpr (Queue::kScanIsCostly) {
        if (!queue_.mid_block(slot) && pending_count() == 0 && empty()) return 0;
      }
      if (std::size_t got = queue_.pop(slot, out, take)) {
        counters_[slot].removed.fetch_add(got);
        return got;
      }
      // Nothing found: return only if nothing is pending (else an entry is being queued, or
      // was queued where this pop had already looked).
      if (empty()) return 0;
      sched::spin_wait(spins);
    }
  }

  std::size_t pop_at_least(std::span<PendingVertex> out, double floor) override {
    if constexpr (std::is_same_v<Queue, PriorityHeaps>) {
      if (out.empty()) return 0;
      const std::size_t slot = slot_index();
      auto take = [this](std::uint32_t i, double& p) { return states_.take(i, p); };
      unsigned spins = 0;
      for (;;) {
        if (std::size_t got = queue_.pop(slot, out, take, floor)) {
          counters_[slot].removed.fetch_add(got);
          return got;
        }
        // As pop(), but also done when what is queued lies below the floor.
        if (empty() || queue_.best() < floor) return 0;
        sched::spin_wait(spins);
      }
    } else {
      (void)floor;
      return pop(out);
    }
  }

  double best_priority() const override {
    if constexpr (std::is_same_v<Queue, PriorityHeaps>) {
      return queue_.best();
    } else {
      return std::numeric_limits<double>::infinity();
    }
  }

  void finish(std::uint32_t i) override {
    const std::size_t slot = slot_index();
    Counters& c = counters_[slot];
    double priority = 0;
    if (states_.finish(i, priority, [&c] { c.added.fetch_add(1); })) {
      queue_.push(slot, i, priority);
    }
    c.finished.fetch_add(1);  // after a requeued vertex was counted as pending
  }

  void finish(std::span<const PendingVertex> popped) override {
    const std::size_t slot = slot_index();
    Counters& c = counters_[slot];
    for (const PendingVertex& pv : popped) {
      double priority = 0;
      if (states_.finish(pv.index, priority, [&c] { c.added.fetch_add(1); })) {
        queue_.push(slot, pv.index, priority);
      }
    }
    c.finished.fetch_add(popped.size());  // after the requeued vertices were counted
  }

  void schedule_range(std::uint32_t begin, std::uint32_t end, double priority) override {
    if (begin >= end) return;
    if (end > size()) sched::index_out_of_range(end - 1, size());
    const std::size_t slot = slot_index();
    Counters& c = counters_[slot];
    if (std::isnan(priority)) priority = -std::numeric_limits<double>::infinity();
    // Each new vertex is counted before it is queued (so before it can be taken); with no
    // concurrent emptiness test the count may come after the marks. Sweep: one count and one
    // bitmap update per word of 64 indices.
    if constexpr (std::is_same_v<Queue, SweepBits>) {
      std::uint32_t i = begin;
      while (i < end) {
        const std::uint32_t word_end = std::min<std::uint32_t>(end, (i / 64 + 1) * 64);
        std::uint64_t bits = 0;
        for (; i < word_end; ++i) {
          if (states_.mark(i, priority, [] {}) == RunStateSet::Mark::kNew) {
            bits |= std::uint64_t{1} << (i % 64);
          }
        }
        if (bits != 0) {
          c.added.fetch_add(static_cast<std::uint64_t>(std::popcount(bits)));
          queue_.push_word((word_end - 1) / 64, bits);
        }
      }
    } else {
      for (std::uint32_t i = begin; i < end; ++i) schedule(i, priority);
    }
  }

  std::size_t pending_count() const override {
    std::uint64_t added = 0;
    std::uint64_t removed = 0;
    for (const Counters& c : counters_) {  // removed first: a concurrent pop cannot go negative
      removed += c.removed.load();
    }
    for (const Counters& c : counters_) added += c.added.load();
    return added > removed ? static_cast<std::size_t>(added - removed) : 0;
  }

  bool empty() const override {
    Sums sums;
    return snapshot(sums) && sums.added == sums.removed;
  }

  bool idle() const override {
    Sums sums;
    return snapshot(sums) && sums.added == sums.removed && sums.removed == sums.finished;
  }

  std::vector<PendingVertex> export_pending() const override { return states_.pending(); }
  void import_pending(std::span<const PendingVertex> vertices) override {
    sched::import_into(*this, vertices);
  }
  bool scheduled(std::uint32_t i, double& priority) const override {
    if (i >= size()) sched::index_out_of_range(i, size());
    return states_.scheduled(i, priority);
  }

 private:
  struct alignas(kCacheLine) Counters {
    std::atomic<std::uint64_t> added{0};     // vertices that became pending in this slot
    std::atomic<std::uint64_t> removed{0};   // vertices popped in this slot
    std::atomic<std::uint64_t> finished{0};  // finish() calls in this slot
  };

  struct Sums {
    std::uint64_t added = 0;
    std::uint64_t removed = 0;
    std::uint64_t finished = 0;
    bool operator==(const Sums&) const = default;
  };

  Sums collect() const noexcept {
    Sums sums;
    for (const Counters& c : counters_) {
      sums.added += c.added.load();
      sums.removed += c.removed.load();
      sums.finished += c.finished.load();
    }
    return sums;
  }

  /// A consistent snapshot of the counter sums: two collects with equal sums saw every
  /// (monotonic) counter unchanged, so the counters held these values together between the
  /// collects. Under constant churn it gives up after a few tries and returns false ("not
  /// empty" is always a safe answer: pop() looks again).
  bool snapshot(Sums& sums) const noexcept {
    for (int attempt = 0; attempt < 8; ++attempt) {
      sums = collect();
      if (collect() == sums) return true;
    }
    return false;
  }

  std::size_t slot_index() const noexcept { return sched::thread_ordinal() % counters_.size(); }

  /// schedule(i, priority) from slot `slot`, whose counters are c.
  void mark(std::size_t slot, Counters& c, std::uint32_t i, double priority) {
    if (std::isnan(priority)) priority = -std::numeric_limits<double>::infinity();
    switch (states_.mark(i, priority, [&c] { c.added.fetch_add(1); })) {
      case RunStateSet::Mark::kNew:
        queue_.push(slot, i, priority);
        break;
      case RunStateSet::Mark::kRaised:
        queue_.raised(slot, i, priority);
        break;
      case RunStateSet::Mark::kNone:
        break;
    }
  }

  RunStateSet states_;
  std::vector<Counters> counters_;
  Queue queue_;
};

}  // namespace

std::unique_ptr<ContinuousScheduler> make_continuous_scheduler(SchedulerKind kind,
                                                               std::uint32_t size,
                                                               unsigned workers) {
  switch (kind) {
    case SchedulerKind::kFifo:
      return std::make_unique<Continuous<FifoQueues>>(size, workers);
    case SchedulerKind::kSweep:
      return std::make_unique<Continuous<SweepBits>>(size, workers);
    case SchedulerKind::kPriority:
      return std::make_unique<Continuous<PriorityHeaps>>(size, workers);
  }
  fail("make_continuous_scheduler: unknown scheduler kind ", static_cast<int>(kind));
}

}  // namespace atl
