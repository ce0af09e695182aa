// A vector computed on first use: thread-safe, copyable, for derived arrays that only some
// callers need (Topology's in-edge ids), so that the others never pay their memory.
#pragma once

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace atl {

template <typename T>
class OnceVector {
 public:
  OnceVector() = default;
  OnceVector(const OnceVector& other) { *this = other; }
  OnceVector& operator=(const OnceVector& other) {
    if (this == &other) return *this;
    std::scoped_lock lock(mutex_, other.mutex_);
    values_ = other.values_;
    ready_.store(other.ready_.load(std::memory_order_acquire), std::memory_order_release);
    return *this;
  }
  OnceVector(OnceVector&& other) noexcept { *this = std::move(other); }
  OnceVector& operator=(OnceVector&& other) noexcept {
    if (this == &other) return *this;
    std::scoped_lock lock(mutex_, other.mutex_);
    values_ = std::move(other.values_);
    ready_.store(other.ready_.exchange(false), std::memory_order_release);
    return *this;
  }

  /// The values, made by `make()` (returning std::vector<T>) on the first call.
  template <typename Make>
  const std::vector<T>& get(Make&& make) const {
    if (!ready_.load(std::memory_order_acquire)) {
      std::scoped_lock lock(mutex_);
      if (!ready_.load(std::memory_order_relaxed)) {
        values_ = std::forward<Make>(make)();
        ready_.store(true, std::memory_order_release);
      }
    }
    return values_;
  }
  /// Sets the values (they are then ready).
  void set(std::vector<T> values) {
    std::scoped_lock lock(mutex_);
    values_ = std::move(values);
    ready_.store(true, std::memory_order_release);
  }
  /// Forgets the values; the next get() makes them again.
  void reset() {
    std::scoped_lock lock(mutex_);
    std::vector<T>().swap(values_);
    ready_.store(false, std::memory_order_release);
  }
  /// Bytes held now (0 before the first get()).
  std::size_t capacity_bytes() const {
    std::scoped_lock lock(mutex_);
    return values_.capacity() * sizeof(T);
  }

 private:
  mutable std::mutex mutex_;
  mutable std::atomic<bool> ready_{false};
  mutable std::vector<T> values_;
};

}  // namespace atl
