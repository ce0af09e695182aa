// Where idle transport threads sleep: an eventfd that posters write to wake them, polled
// together with the backend's event descriptor by the one thread that blocks on the network.
//
// Lost wake-ups cannot happen: a sleeper counts itself in `sleepers` before it re-checks its
// condition (seq_cst), and a waker bumps its condition before it reads `sleepers`.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "atoll/common/error.hpp"
#include "atoll/common/fd.hpp"

namespace atl::detail {

class WakeEvent {
 public:
  WakeEvent() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_) fail("transport: eventfd() failed");
  }

  /// Wakes every sleeper (a system call only when someone sleeps).
  void wake() {
    if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof one);
  }

  /// Counts the caller as a sleeper; it must re-check its condition after this and before
  /// sleep(), then call leave().
  void enter() { sleepers_.fetch_add(1, std::memory_order_seq_cst); }
  void leave() { sleepers_.fetch_sub(1, std::memory_order_relaxed); }

  /// Between enter() and leave(): blocks until wake(), `network_fd` readable (if >= 0), or
  /// the timeout; returns false on the timeout.
  bool sleep(int network_fd, std::chrono::nanoseconds timeout) {
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {network_fd, POLLIN, 0}};
    const auto ns = std::max<std::int64_t>(timeout.count(), 0);
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000),
                      static_cast<long>(ns % 1'000'000'000)};
    const int n = ::ppoll(fds, network_fd >= 0 ? 2 : 1, &ts, nullptr);
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] ssize_t r = ::read(fd_.get(), &count, sizeof count);
    }
    return n != 0;
  }

 private:
  Fd fd_;
  std::atomic<int> sleepers_{0};
};

}  // namespace atl::detail
