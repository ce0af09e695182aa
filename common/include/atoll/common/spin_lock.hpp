// A test-and-test-and-set spinlock for short critical sections (Lockable), shared by every
// layer: the transport's backend lock, the schedulers' queues, channel outboxes.
#pragma once

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace atl {

/// One busy-wait step: pause for the first spins, then yield (the machine may be
/// oversubscribed and the holder preempted).
inline void spin_wait(unsigned& spins) noexcept {
  if (++spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

class SpinLock {
 public:
  void lock() noexcept {
    unsigned spins = 0;
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) spin_wait(spins);
    }
  }
  bool try_lock() noexcept { return !flag_.exchange(true, std::memory_order_acquire); }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace atl
