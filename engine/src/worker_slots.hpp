// What the schedulers' per-worker slots are built from (scheduler.cpp, continuous_scheduler.cpp):
// a spinlock guarding one slot, a bounded busy-wait step, and the calling thread's ordinal that
// picks its slot. Namespace atl::sched keeps these apart from other layers' helpers.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace atl::sched {

inline constexpr std::size_t kCacheLine = 64;

/// One busy-wait step: pause for the first few spins, then yield (the machine may be
/// oversubscribed and the thread we wait for preempted).
inline void spin_wait(unsigned& spins) noexcept {
  if (++spins < 16) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

/// A test-and-test-and-set lock for a slot's short critical sections (BasicLockable).
class SlotLock {
 public:
  void lock() noexcept {
    unsigned spins = 0;
    while (flag_.test_and_set(std::memory_order_acquire)) {
      while (flag_.test(std::memory_order_relaxed)) spin_wait(spins);
    }
  }
  void unlock() noexcept { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_;  // clear on construction (C++20)
};

/// A process-wide ordinal of the calling thread, assigned on its first call. Unlike
/// tbb::this_task_arena::current_thread_index() it is unique across task arenas.
inline unsigned thread_ordinal() noexcept {
  static std::atomic<unsigned> next{0};
  thread_local const unsigned ordinal = next.fetch_add(1, std::memory_order_relaxed);
  return ordinal;
}

}  // namespace atl::sched
