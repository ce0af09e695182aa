// A FIFO of pipeline slot numbers with room for every slot: the locking engine's granted
// scopes, run oldest first so that no scope holds its locks behind a stream of newer grants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace atl {

class SlotRing {
 public:
  /// Empties the ring and sizes it for `capacity` slots (each slot is queued at most once).
  void reset(std::size_t capacity) {
    ring_.assign(capacity, 0);
    head_ = 0;
    size_ = 0;
  }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  /// Appends `slot`; the caller never queues more slots than the capacity.
  void push(std::uint32_t slot) {
    std::size_t tail = head_ + size_;
    if (tail >= ring_.size()) tail -= ring_.size();
    ring_[tail] = slot;
    ++size_;
  }
  /// Takes the oldest slot into `slot`; false when empty.
  bool pop(std::uint32_t& slot) {
    if (size_ == 0) return false;
    slot = ring_[head_];
    if (++head_ == ring_.size()) head_ = 0;
    --size_;
    return true;
  }

 private:
  std::vector<std::uint32_t> ring_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace atl
