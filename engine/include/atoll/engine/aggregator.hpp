// Sync operation (aggregators): fold over vertices, merge partial results, finalize; run by
// the engine at its sync points (chromatic: between colour steps). Updates read the last
// finalized value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
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
  /// local(partial) folds this rank's vertices into partial (a T); finish(parts, out) merges
  /// the ranks' partials (parts[r]: rank r's bytes, or this rank's alone without ranks) and
  /// finalizes into out (a T).
  template <typename T>
  AggregatorHandle<T> add(std::string name, const T& initial, SyncInterval when,
                          std::function<void(void*)> local,
                          std::function<void(std::span<const std::string_view>, void*)> finish) {
    static_assert(std::is_trivially_copyable_v<T>, "aggregator values must be trivially copyable");
    Slot slot;
    slot.name = std::move(name);
    slot.when = when;
    slot.size = sizeof(T);
    slot.storage.resize((sizeof(T) + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
    std::memcpy(slot.storage.data(), &initial, sizeof(T));
    slot.local = std::move(local);
    slot.finish = std::move(finish);
    slots_.push_back(std::move(slot));
    return {static_cast<std::uint32_t>(slots_.size() - 1)};
  }

  /// Several ranks: every rank's concatenated partials, by rank (a collective: one allgather
  /// for all the aggregators due at a sync point). Unset: one rank.
  void set_reduce(std::function<std::vector<std::string>(const std::string&)> reduce) {
    reduce_ = std::move(reduce);
  }

  /// The last finalized value.
  template <typename T>
  const T& value(AggregatorHandle<T> h) const {
    const Slot& slot = slots_.at(h.index);
    if (slot.size != sizeof(T)) fail("aggregator '", slot.name, "' read with the wrong type");
    return *reinterpret_cast<const T*>(slot.storage.data());
  }

  /// Runs every aggregator due at the end of an iteration (end_of_iteration) or because
  /// `updates` total updates crossed its interval since it last ran. All the due ones fold
  /// before any finalizes: a fold reading an aggregator's value sees the last sync point's.
  void run_due(bool end_of_iteration, std::uint64_t updates) {
    std::vector<Slot*> due;
    for (Slot& slot : slots_) {
      if (slot.when.updates == 0
              ? end_of_iteration
              : updates / slot.when.updates != slot.last_updates / slot.when.updates) {
        due.push_back(&slot);
      }
    }
    run(due, updates);
  }
  void run_all(std::uint64_t updates) {
    std::vector<Slot*> all;
    for (Slot& slot : slots_) all.push_back(&slot);
    run(all, updates);
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
    std::function<void(void*)> local;
    std::function<void(std::span<const std::string_view>, void*)> finish;
    std::uint64_t last_updates = 0;
  };
  /// Runs the `due` slots (the same ones on every rank): their partials travel together.
  void run(std::span<Slot* const> due, std::uint64_t updates) {
    if (due.empty()) return;
    std::string mine;
    for (Slot* slot : due) {
      const std::size_t at = mine.size();
      mine.resize(at + slot->size);
      std::vector<std::max_align_t> partial(slot->storage.size());
      slot->local(partial.data());
      std::memcpy(mine.data() + at, partial.data(), slot->size);
    }
    const std::size_t bytes = mine.size();
    std::vector<std::string> all;
    if (reduce_) {
      all = reduce_(mine);
    } else {
      all.push_back(std::move(mine));
    }
    for (std::size_t r = 0; r < all.size(); ++r) {
      if (all[r].size() != bytes) {
        fail("aggregator partials of ", all[r].size(), " bytes from rank ", r, ", expected ",
             bytes);
      }
    }
    std::vector<std::string_view> parts(all.size());
    std::size_t at = 0;
    for (Slot* slot : due) {
      for (std::size_t r = 0; r < all.size(); ++r) {
        parts[r] = std::string_view(all[r]).substr(at, slot->size);
      }
      slot->finish(parts, slot->storage.data());
      slot->last_updates = updates;
      at += slot->size;
    }
  }
  std::vector<Slot> slots_;
  std::function<std::vector<std::string>(const std::string&)> reduce_;
};

}  // namespace atl
