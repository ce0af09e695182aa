// The three round schedulers (continuous ones: continuous_scheduler.cpp). Each keeps a PendingSet
// (pending state + priority per index) and per-worker slots: a slot is picked by the calling
// thread's process-wide ordinal modulo the number of slots, so several threads (even of different
// task arenas) may share a slot, and every mutable field of a slot is guarded by a slot spinlock or
// is atomic.
//
// Common invariants:
//  - an index is enqueued into a "next" structure exactly when its state goes idle -> pending
//    (PendingSet::mark returns kNew); the number of those transitions since the last
//    begin_round (fifo and priority: next_count; sweep: the bits of the next bitmap) is the
//    number of distinct vertices of the next round;
//  - pop() hands out an index only after PendingSet::take() cleared its state, so a schedule()
//    during its update makes it pending for the next round. Fifo and sweep entries are unique
//    in a round, so they use take_unique() (no read-modify-write); pop_batch() takes a whole
//    batch under one slot lock.
//  - begin_round() first carries the un-popped vertices of an unfinished round over to the new
//    round, so a round's current structures are exhausted when they are replaced.
#include "atoll/engine/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "pending_set.hpp"
#include "stealing_heaps.hpp"

namespace atl {

namespace {

using sched::kCacheLine;
using sched::PendingSet;
using sched::SlotLock;

/// What the three kinds share: the pending set, size(), priority(), export and import, and
/// carry_over().
class RoundScheduler : public Scheduler {
 public:
  RoundScheduler(std::uint32_t size, unsigned workers)
      : pending_(size), slot_count_(std::max(workers, 1u)) {}

  std::uint32_t size() const override { return pending_.size(); }
  double priority(std::uint32_t i) const override { return pending_.priority(i); }

  std::vector<PendingVertex> export_pending() const override { return pending_.pending(); }
  void import_pending(std::span<const PendingVertex> vertices) override {
    sched::import_into(*this, vertices);
  }

 protected:
  /// The calling thread's slot.
  std::size_t slot_index() const noexcept { return sched::thread_ordinal() % slot_count_; }
  std::size_t slot_count() const noexcept { return slot_count_; }

  /// Between rounds: hands the vertices of the current round that were never popped to the
  /// next round (same priority). Afterwards the current structures are exhausted.
  void carry_over() {
    std::vector<std::uint32_t> left;  // allocates only when the round was left unfinished
    std::uint32_t i = 0;
    while (pop(i)) left.push_back(i);
    for (std::uint32_t j : left) schedule(j, pending_.priority(j));
  }

  PendingSet pending_;

 private:
  std::size_t slot_count_;
};

// ---- FIFO ------------------------------------------------------------------------------------

/// Per-slot queues in schedule order; a worker drains its own slot first, then steals from the
/// other slots in round-robin order. The read position of a current queue is guarded by the
/// slot's cur_lock instead of being an atomic cursor: uncontended, the lock costs the same one
/// locked instruction as a fetch_add, and every access stays ordered for ThreadSanitizer.
class FifoScheduler final : public RoundScheduler {
 public:
  FifoScheduler(std::uint32_t size, unsigned workers)
      : RoundScheduler(size, workers), slots_(slot_count()) {}

  void schedule(std::uint32_t i, double priority) override {
    if (pending_.mark(i, priority) != PendingSet::Mark::kNew) return;
    Slot& s = slots_[slot_index()];
    std::lock_guard guard(s.next_lock);
    s.next.push_back(i);
    s.next_count.store(s.next.size(), std::memory_order_relaxed);
  }

  std::size_t begin_round() override {
    carry_over();
    std::size_t total = 0;
    for (Slot& s : slots_) {
      std::lock_guard next_guard(s.next_lock);  // no other call runs: order is immaterial
      std::lock_guard cur_guard(s.cur_lock);
      // cur is exhausted here; swapping keeps both capacities (no allocation in steady state).
      std::swap(s.next, s.cur);
      s.next.clear();
      s.pos = 0;
      s.cur_left.store(!s.cur.empty(), std::memory_order_relaxed);
      total += s.next_count.exchange(0, std::memory_order_relaxed);
    }
    pending_.advance();
    return total;
  }

  void schedule_all(double priority) override {
    const std::size_t n = slots_.size();
    for (Slot& s : slots_) s.next_lock.lock();  // uncontended: between rounds
    pending_.mark_all(priority, [&](std::uint32_t i) {
      // Contiguous blocks per slot, so stealing starts from balanced queues.
      slots_[static_cast<std::size_t>(i) * n / size()].next.push_back(i);
    });
    for (Slot& s : slots_) {
      s.next_count.store(s.next.size(), std::memory_order_relaxed);
      s.next_lock.unlock();
    }
  }

  void take_round() override {
    pending_.take_all();
    for (Slot& s : slots_) {
      std::lock_guard guard(s.cur_lock);
      s.pos = s.cur.size();
      s.cur_left.store(false, std::memory_order_relaxed);
    }
  }

  bool pop(std::uint32_t& i) override { return pop_batch({&i, 1}) == 1; }

  std::size_t pop_batch(std::span<std::uint32_t> out) override {
    const std::size_t n = slots_.size();
    std::size_t v = slot_index();
    for (std::size_t k = 0; k < n && !out.empty(); ++k, v = v + 1 == n ? 0 : v + 1) {
      Slot& s = slots_[v];
      if (!s.cur_left.load(std::memory_order_relaxed)) continue;
      std::size_t got = 0;
      std::lock_guard guard(s.cur_lock);
      while (s.pos < s.cur.size() && got < out.size()) {
        std::uint32_t index = s.cur[s.pos++];
        // Entries are unique (enqueued on kNew only); a failed take would be a stale entry.
        if (pending_.take_unique(index)) out[got++] = index;
      }
      if (s.pos == s.cur.size()) s.cur_left.store(false, std::memory_order_relaxed);
      if (got != 0) return got;
    }
    return 0;
  }

  bool has_pending() const override {
    for (const Slot& s : slots_) {
      if (s.next_count.load(std::memory_order_relaxed) != 0) return true;
      if (s.cur_left.load(std::memory_order_relaxed)) return true;  // an unfinished round
    }
    return false;
  }

 private:
  struct alignas(kCacheLine) Slot {
    SlotLock next_lock;
    std::vector<std::uint32_t> next;         // guarded by next_lock; in schedule order
    std::atomic<std::size_t> next_count{0};  // == next.size()
    alignas(kCacheLine) SlotLock cur_lock;
    std::vector<std::uint32_t> cur;     // guarded by cur_lock; this round's queue
    std::size_t pos = 0;                // guarded by cur_lock; cur[pos..] not yet handed out
    std::atomic<bool> cur_left{false};  // pos < cur.size(), except briefly before a pop sees it
  };

  std::vector<Slot> slots_;
};

// ---- sweep -----------------------------------------------------------------------------------

/// Two bitmaps (current and next round) of atomic words. Workers claim blocks of kBlockWords
/// words of the current bitmap from a shared cursor and hand out their set bits in increasing
/// index order; when no block is left they steal from blocks other slots have claimed.
class SweepScheduler final : public RoundScheduler {
 public:
  SweepScheduler(std::uint32_t size, unsigned workers)
      : RoundScheduler(size, workers),
        words_((static_cast<std::size_t>(size) + 63) / 64),
        maps_{Bitmap(words_), Bitmap(words_)},
        cursor_(words_),
        slots_(slot_count()) {}

  void schedule(std::uint32_t i, double priority) override {
    if (pending_.mark(i, priority) != PendingSet::Mark::kNew) return;
    Bitmap& next = maps_[cur_map_.load(std::memory_order_acquire) ^ 1];
    next[i / 64].fetch_or(std::uint64_t{1} << (i % 64), std::memory_order_relaxed);
  }

  std::size_t begin_round() override {
    carry_over();           // afterwards every word of the current bitmap was read and cleared
    std::size_t total = 0;  // the next round's vertices: one bit each
    for (const auto& word : maps_[cur_map_.load(std::memory_order_relaxed) ^ 1]) {
      // Without -mpopcnt std::popcount is a library call: skip the (common) empty words.
      if (std::uint64_t bits = word.load(std::memory_order_relaxed)) {
        total += static_cast<std::size_t>(std::popcount(bits));
      }
    }
    for (Slot& s : slots_) {
      std::lock_guard guard(s.lock);
      s.word = s.end = 0;
      s.bits = 0;
      s.busy.store(false, std::memory_order_relaxed);
    }
    cur_map_.store(cur_map_.load(std::memory_order_relaxed) ^ 1, std::memory_order_release);
    cursor_.store(total == 0 ? words_ : 0, std::memory_order_release);
    pending_.advance();
    return total;
  }

  void schedule_all(double priority) override {
    pending_.mark_all(priority, [](std::uint32_t) {});
    // Every index is now pending for the next round: its bitmap is all ones.
    Bitmap& next = maps_[cur_map_.load(std::memory_order_relaxed) ^ 1];
    for (std::size_t w = 0; w < words_; ++w) {
      std::size_t bits = std::min<std::size_t>(64, size() - w * 64);
      next[w].store(bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1,
                    std::memory_order_relaxed);
    }
  }

  void take_round() override {
    pending_.take_all();
    Bitmap& map = maps_[cur_map_.load(std::memory_order_relaxed)];
    for (auto& word : map) word.store(0, std::memory_order_relaxed);
    cursor_.store(words_, std::memory_order_relaxed);
    for (Slot& s : slots_) {
      std::lock_guard guard(s.lock);
      s.word = s.end = 0;
      s.bits = 0;
      s.busy.store(false, std::memory_order_relaxed);
    }
  }

  bool pop(std::uint32_t& i) override { return pop_batch({&i, 1}) == 1; }

  /// Fills the batch from the caller's claimed block and then new blocks; steals from the
  /// blocks of other slots only when no block is left to claim.
  std::size_t pop_batch(std::span<std::uint32_t> out) override {
    if (out.empty()) return 0;
    Bitmap& map = maps_[cur_map_.load(std::memory_order_acquire)];
    const std::size_t n = slots_.size();
    const std::size_t own = slot_index();
    std::size_t got = 0;
    {
      Slot& s = slots_[own];
      std::lock_guard guard(s.lock);
      got = take_from_block(s, map, out);
      while (got < out.size() && claim(s, map)) got += take_from_block(s, map, out.subspan(got));
    }
    for (std::size_t k = 1, v = own; k < n && got == 0; ++k) {
      v = v + 1 == n ? 0 : v + 1;
      Slot& s = slots_[v];
      if (!s.busy.load(std::memory_order_relaxed)) continue;
      std::lock_guard guard(s.lock);
      got = take_from_block(s, map, out);
    }
    return got;
  }

  bool has_pending() const override {
    if (cursor_.load(std::memory_order_relaxed) < words_) return true;  // an unfinished round
    for (const Slot& s : slots_) {
      if (s.busy.load(std::memory_order_relaxed)) return true;
    }
    const Bitmap& next = maps_[cur_map_.load(std::memory_order_relaxed) ^ 1];
    return std::any_of(next.begin(), next.end(),
                       [](const auto& word) { return word.load(std::memory_order_relaxed) != 0; });
  }

 private:
  static constexpr std::size_t kBlockWords = 8;  // 512 indices per claim
  using Bitmap = std::vector<std::atomic<std::uint64_t>>;

  struct alignas(kCacheLine) Slot {
    SlotLock lock;
    // Guarded by lock: the claimed block. bits = the not yet handed out bits of word `word`;
    // the words in (word, end) were not read yet.
    std::size_t word = 0;
    std::size_t end = 0;
    std::uint64_t bits = 0;
    std::atomic<bool> busy{false};  // a claimed block may have bits left
  };

  /// Reads and clears one word of the current bitmap (its block is owned by the caller's slot).
  static std::uint64_t take_word(std::atomic<std::uint64_t>& word) noexcept {
    std::uint64_t bits = word.load(std::memory_order_relaxed);
    if (bits != 0) word.store(0, std::memory_order_relaxed);
    return bits;
  }

  /// Claims the next block for slot s (s.lock held); false when none is left.
  bool claim(Slot& s, Bitmap& map) noexcept {
    if (cursor_.load(std::memory_order_relaxed) >= words_) return false;
    std::size_t begin = cursor_.fetch_add(kBlockWords, std::memory_order_relaxed);
    if (begin >= words_) return false;
    s.word = begin;
    s.end = std::min(begin + kBlockWords, words_);
    s.bits = take_word(map[begin]);
    s.busy.store(true, std::memory_order_relaxed);
    return true;
  }

  /// Takes up to out.size() pending indices of s's block (s.lock held), in index order;
  /// returns the count. Fewer than out.size() means the block is exhausted.
  std::size_t take_from_block(Slot& s, Bitmap& map, std::span<std::uint32_t> out) noexcept {
    std::size_t got = 0;
    for (;;) {
      while (s.bits != 0) {
        if (got == out.size()) return got;
        auto bit = static_cast<unsigned>(std::countr_zero(s.bits));
        s.bits &= s.bits - 1;
        auto index = static_cast<std::uint32_t>(s.word * 64 + bit);
        // A bit is set once per round (on kNew) and read by one claimer: a unique entry.
        if (pending_.take_unique(index)) out[got++] = index;
      }
      if (s.word + 1 >= s.end) {
        s.busy.store(false, std::memory_order_relaxed);
        return got;
      }
      if (got == out.size()) return got;
      s.bits = take_word(map[++s.word]);
    }
  }

  std::size_t words_;
  Bitmap maps_[2];
  std::atomic<unsigned> cur_map_{0};  // maps_[cur_map_] is the current round's bitmap
  std::atomic<std::size_t> cursor_;   // first unclaimed word of the current bitmap
  std::vector<Slot> slots_;
};

// ---- priority --------------------------------------------------------------------------------

/// Per-slot binary max-heaps of (priority, index) (StealingHeaps for the current round). A
/// raised priority pushes another entry (lazy update); entries of vertices no longer pending in
/// the current round fail take() and are dropped.
class PriorityScheduler final : public RoundScheduler {
 public:
  PriorityScheduler(std::uint32_t size, unsigned workers)
      : RoundScheduler(size, workers), slots_(slot_count()), cur_(slot_count()) {}

  void schedule(std::uint32_t i, double priority) override {
    PendingSet::Mark mark = pending_.mark(i, priority);
    if (mark == PendingSet::Mark::kNone) return;
    if (std::isnan(priority)) priority = -std::numeric_limits<double>::infinity();
    const std::size_t slot = slot_index();
    if (mark == PendingSet::Mark::kRaisedCurrent) {
      // Frozen in this round but not popped yet: let the raised entry compete now.
      cur_.push(slot, {priority, i});
      return;
    }
    Slot& s = slots_[slot];
    std::lock_guard guard(s.next_lock);
    sched::heap_push(s.next, {priority, i});
    if (mark == PendingSet::Mark::kNew) {
      s.next_count.store(s.next_count.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
    }
  }

  std::size_t begin_round() override {
    carry_over();
    std::size_t total = 0;
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      Slot& s = slots_[k];
      std::lock_guard next_guard(s.next_lock);  // no other call runs
      cur_.swap(k, s.next);                     // cur was exhausted; keeps both capacities
      s.next.clear();
      total += s.next_count.exchange(0, std::memory_order_relaxed);
    }
    pending_.advance();
    return total;
  }

  void schedule_all(double priority) override {
    if (std::isnan(priority)) priority = -std::numeric_limits<double>::infinity();
    const std::size_t n = slots_.size();
    for (Slot& s : slots_) s.next_lock.lock();  // uncontended: between rounds
    std::vector<std::size_t> added(n, 0);
    pending_.mark_all(priority, [&](std::uint32_t i) {
      std::size_t slot = static_cast<std::size_t>(i) * n / size();
      sched::heap_push(slots_[slot].next, {priority, i});
      ++added[slot];
    });
    for (std::size_t k = 0; k < n; ++k) {
      Slot& s = slots_[k];
      s.next_count.store(s.next_count.load(std::memory_order_relaxed) + added[k],
                         std::memory_order_relaxed);
      s.next_lock.unlock();
    }
  }

  void take_round() override {
    pending_.take_all();
    cur_.clear();
  }

  bool pop(std::uint32_t& i) override { return pop_batch({&i, 1}) == 1; }

  std::size_t pop_batch(std::span<std::uint32_t> out) override {
    std::size_t got = 0;
    // Raised duplicates are in the heaps too: take() fails for them, and they are dropped.
    return cur_.pop(slot_index(), out.size(), [&](std::uint32_t index) {
      if (!pending_.take(index)) return false;
      out[got++] = index;
      return true;
    });
  }

  bool has_pending() const override {
    for (const Slot& s : slots_) {
      if (s.next_count.load(std::memory_order_relaxed) != 0) return true;
    }
    return cur_.any();  // an unfinished round
  }

 private:
  struct alignas(kCacheLine) Slot {
    SlotLock next_lock;
    sched::Heap next;                        // guarded by next_lock
    std::atomic<std::size_t> next_count{0};  // distinct vertices in next (written under lock)
  };

  std::vector<Slot> slots_;
  sched::StealingHeaps cur_;  // the current round
};

}  // namespace

SchedulerKind parse_scheduler(std::string_view name) {
  if (name == "fifo") return SchedulerKind::kFifo;
  if (name == "sweep") return SchedulerKind::kSweep;
  if (name == "priority") return SchedulerKind::kPriority;
  usage_fail("unknown scheduler ", quote_excerpt(name), " (valid: fifo, sweep, priority)");
}

std::string_view scheduler_name(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kFifo:
      return "fifo";
    case SchedulerKind::kSweep:
      return "sweep";
    case SchedulerKind::kPriority:
      return "priority";
  }
  return "?";
}

std::unique_ptr<Scheduler> make_scheduler(SchedulerKind kind, std::uint32_t size,
                                          unsigned workers) {
  switch (kind) {
    case SchedulerKind::kFifo:
      return std::make_unique<FifoScheduler>(size, workers);
    case SchedulerKind::kSweep:
      return std::make_unique<SweepScheduler>(size, workers);
    case SchedulerKind::kPriority:
      return std::make_unique<PriorityScheduler>(size, workers);
  }
  fail("make_scheduler: unknown scheduler kind ", static_cast<int>(kind));
}

}  // namespace atl
