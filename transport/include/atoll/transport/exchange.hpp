// Personalised all-to-all: every rank hands one byte buffer (any size) to every rank and gets
// one from each. Bulk data (edges on their way to their owners at load) goes by one put per
// pair into a window the receiver allocates for the call; small calls (ghost lists, summaries)
// travel in bounded chunks on active messages.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "atoll/transport/transport.hpp"

namespace atl {

class Exchange {
 public:
  /// Must be created before transport.start() (it registers a handler); one per Transport.
  explicit Exchange(Transport& transport);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  /// Collective: outgoing[r] goes to rank r (outgoing.size() == ranks); returns incoming[r]
  /// from rank r. Every rank calls all_to_all in the same order.
  std::vector<std::vector<std::byte>> all_to_all(std::vector<std::vector<std::byte>> outgoing);

  /// Chunk size on the wire (bytes of payload per active message).
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 16;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atl
