#include "atoll/engine/pregel_aggregators.hpp"

namespace atl {

void PregelAggregatorTable::clear_partial(std::byte* partial) const {
  for (const Slot& slot : slots_) std::memcpy(partial + slot.offset, slot.zero.data(), slot.size);
}

void PregelAggregatorTable::merge_partial(std::byte* acc, const std::byte* in) const {
  for (const Slot& slot : slots_) slot.merge(acc + slot.offset, in + slot.offset);
}

void PregelAggregatorTable::finish_superstep(const std::byte* total) {
  for (const Slot& slot : slots_) {
    if (slot.persistent) {
      slot.merge(values_.data() + slot.offset, total + slot.offset);
    } else {
      std::memcpy(values_.data() + slot.offset, total + slot.offset, slot.size);
    }
  }
}

void PregelAggregatorTable::set_values(std::span<const std::byte> bytes) {
  if (bytes.size() != values_.size()) {
    fail("aggregator values of ", bytes.size(), " bytes where ", values_.size(), " were expected");
  }
  if (!bytes.empty()) std::memcpy(values_.data(), bytes.data(), bytes.size());
}

}  // namespace atl
