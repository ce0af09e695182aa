// Pregel aggregators: vertices contribute values in superstep S; the contributions are merged
// per block of vertices, the blocks in order, then the ranks' totals in rank order (so the
// result is the same on every rank and for any thread count), and every vertex reads the
// result in S+1. A persistent aggregator keeps merging into its value; a reset one starts
// from its zero each superstep. The master hook may overwrite a value between supersteps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "atoll/common/error.hpp"

namespace atl {

/// Names one registered aggregator whose value has type T.
template <typename T>
struct PregelAggregator {
  std::uint32_t index = 0;
};

enum class AggregateOp { kSum, kMin, kMax };

/// Whether an aggregator's value carries over between supersteps.
enum class Persistence { kReset, kPersistent };

class PregelAggregatorTable {
 public:
  /// merge(acc, in) folds one value into another; zero must be its identity.
  template <typename T, typename Merge>
  PregelAggregator<T> add(std::string name, const T& zero, Merge merge, Persistence persistence) {
    static_assert(std::is_trivially_copyable_v<T>, "aggregator values must be trivially copyable");
    Slot slot;
    slot.name = std::move(name);
    slot.offset = bytes_;
    slot.size = sizeof(T);
    slot.persistent = persistence == Persistence::kPersistent;
    slot.zero.resize(sizeof(T));
    std::memcpy(slot.zero.data(), &zero, sizeof(T));
    slot.merge = [merge](std::byte* acc, const std::byte* in) {
      T a, b;
      std::memcpy(&a, acc, sizeof(T));
      std::memcpy(&b, in, sizeof(T));
      a = merge(a, b);
      std::memcpy(acc, &a, sizeof(T));
    };
    bytes_ += (sizeof(T) + 7) / 8 * 8;
    values_.resize(bytes_);
    std::memcpy(values_.data() + slot.offset, &zero, sizeof(T));
    slots_.push_back(std::move(slot));
    return {static_cast<std::uint32_t>(slots_.size() - 1)};
  }
  template <typename T>
  PregelAggregator<T> add(std::string name, const T& zero, AggregateOp op,
                          Persistence persistence) {
    PregelAggregator<T> h;
    switch (op) {
      case AggregateOp::kSum:
        h = add(
            std::move(name), zero, [](T a, T b) { return T(a + b); }, persistence);
        break;
      case AggregateOp::kMin:
        h = add(
            std::move(name), zero, [](T a, T b) { return b < a ? b : a; }, persistence);
        break;
      case AggregateOp::kMax:
        h = add(
            std::move(name), zero, [](T a, T b) { return a < b ? b : a; }, persistence);
        break;
      default:
        fail("unknown aggregate operation");
    }
    if constexpr (std::is_arithmetic_v<T>) {  // contribute() applies it inline
      slots_.back().builtin = true;
      slots_.back().op = op;
    }
    return h;
  }

  /// The value vertices read in this superstep.
  template <typename T>
  const T& value(PregelAggregator<T> h) const {
    return *reinterpret_cast<const T*>(values_.data() + checked(h.index, sizeof(T)).offset);
  }
  template <typename T>
  void set(PregelAggregator<T> h, const T& v) {
    std::memcpy(values_.data() + checked(h.index, sizeof(T)).offset, &v, sizeof(T));
  }
  /// Folds v into a partial (a buffer of partial_bytes() laid out like the values).
  /// A built-in operation on a number is applied inline (no indirect call per vertex).
  template <typename T>
  void contribute(std::byte* partial, PregelAggregator<T> h, const T& v) const {
    const Slot& slot = slots_[h.index];
    if constexpr (std::is_arithmetic_v<T>) {
      if (slot.builtin && slot.size == sizeof(T)) {
        T a;
        std::memcpy(&a, partial + slot.offset, sizeof(T));
        switch (slot.op) {
          case AggregateOp::kSum:
            a = T(a + v);
            break;
          case AggregateOp::kMin:
            a = v < a ? v : a;
            break;
          case AggregateOp::kMax:
            a = a < v ? v : a;
            break;
        }
        std::memcpy(partial + slot.offset, &a, sizeof(T));
        return;
      }
    }
    slot.merge(partial + slot.offset, reinterpret_cast<const std::byte*>(&v));
  }

  std::size_t size() const { return slots_.size(); }
  std::size_t partial_bytes() const { return bytes_; }
  /// Sets a partial to every aggregator's zero.
  void clear_partial(std::byte* partial) const;
  /// acc = merge(acc, in) for every aggregator.
  void merge_partial(std::byte* acc, const std::byte* in) const;
  /// After a superstep: `total` is the merged contributions of all ranks; persistent values
  /// merge it in, reset ones become it.
  void finish_superstep(const std::byte* total);
  /// Every value, as bytes (the master's broadcast), and back.
  std::span<const std::byte> values() const { return values_; }
  void set_values(std::span<const std::byte> bytes);

 private:
  struct Slot {
    std::string name;
    std::size_t offset = 0;
    std::size_t size = 0;
    bool persistent = false;
    bool builtin = false;  ///< op on an arithmetic type, applied inline by contribute()
    AggregateOp op = AggregateOp::kSum;
    std::vector<std::byte> zero;
    std::function<void(std::byte*, const std::byte*)> merge;
  };
  const Slot& checked(std::uint32_t index, std::size_t size) const {
    if (index >= slots_.size()) fail("no Pregel aggregator ", index);
    if (slots_[index].size != size)
      fail("aggregator '", slots_[index].name, "' used as another type");
    return slots_[index];
  }
  std::vector<Slot> slots_;
  std::size_t bytes_ = 0;
  std::vector<std::byte> values_;
};

}  // namespace atl
