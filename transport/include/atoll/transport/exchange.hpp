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

  /// Collective: from now on bulk calls keep their window and reuse it while it holds what
  /// every rank receives (grown, collectively, when it does not), instead of allocating and
  /// freeing one per call: for a series of bulk calls (a load's routing rounds).
  void keep_bulk_window();
  /// Collective: frees the kept window; bulk calls allocate their own again.
  void free_bulk_window();
  /// Not collective: bulk calls allocate their own again; a kept window stays allocated until
  /// the transport stops (for error paths, where the ranks may not meet again).
  void forget_bulk_window();

  /// Chunk size on the wire (bytes of payload per active message).
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 16;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atl
