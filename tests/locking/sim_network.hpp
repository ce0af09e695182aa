// Simulated ranks in one process: each rank has an inbox and a network thread that moves its
// outgoing batches (the test's pump) and delivers what arrived, in order per sender thread.
// Plain std::threads, so ThreadSanitizer sees every synchronisation.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace atl::test {

class SimNetwork {
 public:
  struct Message {
    int from = 0;
    int channel = 0;
    std::vector<std::byte> bytes;
  };
  /// deliver(rank, message) on rank's network thread; pump(rank) there too, each round.
  SimNetwork(int ranks, std::function<void(int, const Message&)> deliver,
             std::function<void(int)> pump)
      : deliver_(std::move(deliver)), pump_(std::move(pump)), inbox_(ranks) {}
  ~SimNetwork() { stop(); }

  void start() {
    for (int r = 0; r < static_cast<int>(inbox_.size()); ++r) {
      threads_.emplace_back([this, r] { loop(r); });
    }
  }
  void stop() {
    for (Inbox& in : inbox_) {
      std::lock_guard lock(in.mutex);
      in.stop = true;
      in.cv.notify_all();
    }
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  /// Appends a message to `to`'s inbox (any thread) and wakes its network thread.
  void post(int from, int to, int channel, std::vector<std::byte> bytes) {
    pending_.fetch_add(1);
    Inbox& in = inbox_[to];
    std::lock_guard lock(in.mutex);
    in.messages.push_back({from, channel, std::move(bytes)});
    in.woken = true;
    in.cv.notify_one();
  }
  /// Counts a message about to be posted (from taking it until post) as pending.
  void hold() { pending_.fetch_add(1); }
  void unhold() { pending_.fetch_sub(1); }
  /// Messages posted (or held) and not yet delivered, and messages delivered so far.
  std::int64_t pending() const { return pending_.load(); }
  std::uint64_t delivered() const { return delivered_.load(); }
  /// Waits until nothing is pending, `idle()` holds and nothing was delivered meanwhile.
  template <typename Idle>
  void wait_quiet(Idle&& idle) {
    for (;;) {
      for (int r = 0; r < static_cast<int>(inbox_.size()); ++r) wake(r);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const std::uint64_t before = delivered();
      if (pending() != 0 || !idle()) continue;
      if (pending() == 0 && delivered() == before) return;
    }
  }
  /// Makes rank's network thread run its pump soon.
  void wake(int rank) {
    Inbox& in = inbox_[rank];
    std::lock_guard lock(in.mutex);
    in.woken = true;
    in.cv.notify_one();
  }

 private:
  struct Inbox {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Message> messages;
    bool woken = false;
    bool stop = false;
  };
  void loop(int rank) {
    Inbox& in = inbox_[rank];
    std::deque<Message> batch;
    for (;;) {
      pump_(rank);
      {
        std::unique_lock lock(in.mutex);
        if (in.messages.empty() && !in.woken && !in.stop) {
          in.cv.wait_for(lock, std::chrono::milliseconds(5));
        }
        if (in.stop) return;
        in.woken = false;
        batch.swap(in.messages);
      }
      for (const Message& m : batch) {
        deliver_(rank, m);
        delivered_.fetch_add(1);
        pending_.fetch_sub(1);
      }
      batch.clear();
    }
  }

  std::function<void(int, const Message&)> deliver_;
  std::function<void(int)> pump_;
  std::vector<Inbox> inbox_;
  std::vector<std::thread> threads_;
  std::atomic<std::int64_t> pending_{0};
  std::atomic<std::uint64_t> delivered_{0};
};

}  // namespace atl::test
