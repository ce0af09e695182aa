// Sync operation (aggregators): fold over vertices, merge partial results, finalize; run by
// the engine at its sync points (chromatic: between colour steps). Updates read the last
// finalized value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

/// What an aggregator's fold sees besides the vertex data.
struct VertexInfo {
  Lid lid;
  Gid gid;
  std::size_t in_degree;
  std::size_t out_degree;
};

/// Names one registered aggregator whose value has type T.
template <typename T>
struct AggregatorHandle {
  std::uint32_t index = 0;
};

/// When an aggregator runs: at the end of every iteration (chromatic: sweep over all colours),
/// or at the first sync point after the engine's update count crossed another multiple of
/// `updates` (chromatic: after that colour step).
struct SyncInterval {
  std::uint64_t updates = 0;  ///< 0: every iteration
  static SyncInterval every_iteration() { return {0}; }
  static SyncInterval every_updates(std::uint64_t n) { return {n}; }
};

/// The registered aggregators and their last finalized values (type-erased; values are
/// trivially copyable so they can be reduced across ranks as bytes).
class AggregatorTable {
 public:
  /// compute(out) folds, merges and finalizes into out (a T).
  template <typename T>
  AggregatorHandle<T> add(std::string name, const T& initial, SyncInterval when,
                          std::function<void(void*)> compute) {
    static_assert(std::is_trivially_copyable_v<T>, "aggregator values must be trivially copyable");
    Slot slot;
    slot.name = std::move(name);
    slot.when = when;
    slot.size = sizeof(T);
    slot.storage.resize((sizeof(T) + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
    std::memcpy(slot.storage.data(), &initial, sizeof(T));
    slot.compute = std::move(compute);
    slots_.push_back(std::move(slot));
    return {static_cast<std::uint32_t>(slots_.size() - 1)};
  }

  /// The last finalized value.
  template <typename T>
  const T& value(AggregatorHandle<T> h) const {
    const Slot& slot = slots_.at(h.index);
    if (slot.size != sizeof(T)) fail("aggregator '", slot.name, "' read with the wrong type");
    return *reinterpret_cast<const T*>(slot.storage.data());
  }

  /// Runs every aggregator due at the end of an iteration (end_of_iteration) or because
  /// `updates` total updates crossed its interval since it last ran.
  void run_due(bool end_of_iteration, std::uint64_t updates) {
    for (Slot& slot : slots_) {
      bool due = slot.when.updates == 0
                     ? end_of_iteration
                     : updates / slot.when.updates != slot.last_updates / slot.when.updates;
      if (due) run(slot, updates);
    }
  }
  void run_all(std::uint64_t updates) {
    for (Slot& slot : slots_) run(slot, updates);
  }
  std::size_t size() const { return slots_.size(); }

  /// Calls f(name, bytes) for every aggregator's last value (checkpoints).
  template <typename F>
  void for_each_value(F&& f) const {
    for (const Slot& s : slots_) {
      f(s.name, std::string_view(reinterpret_cast<const char*>(s.storage.data()), s.size));
    }
  }
  /// Sets the last value of the aggregator `name` (checkpoints); false when there is none of
  /// that name and size.
  bool set_value(std::string_view name, std::string_view bytes) {
    for (Slot& s : slots_) {
      if (s.name != name) continue;
      if (s.size != bytes.size()) return false;
      std::memcpy(s.storage.data(), bytes.data(), bytes.size());
      return true;
    }
    return false;
  }

 private:
  struct Slot {
    std::string name;
    SyncInterval when;
    std::size_t size = 0;
    std::vector<std::max_align_t> storage;
    std::function<void(void*)> compute;
    std::uint64_t last_updates = 0;
  };
  static void run(Slot& slot, std::uint64_t updates) {
    slot.compute(slot.storage.data());
    slot.last_updates = updates;
  }
  std::vector<Slot> slots_;
};

}  // namespace atl
