// Mutation batches between ranks in bounded rounds: per peer and round at most `budget` bytes
// (--message-buffer, as for messages) travel in one bulk exchange, and the receiver decodes
// them before the next round, so what is on the wire or waiting in an exchange buffer stays
// within ranks x budget however many requests a superstep made. Every rank knows how many
// rounds its batches need; one allreduce makes that the number every rank runs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/pregel_mutation_wire.hpp"

namespace atl {

/// Collective: sends out[r] to every rank r but this one and appends what arrives to `in`;
/// returns the rounds it took (0 when no rank had anything to send).
template <typename P>
std::uint32_t exchange_mutation_batches(Cluster& cluster,
                                        const std::vector<PregelMutationBatch<P>>& out,
                                        PregelMutationBatch<P>& in, std::size_t budget) {
  using Batch = PregelMutationBatch<P>;
  const int rank = cluster.rank();
  const int ranks = cluster.size();
  std::uint32_t rounds = 0;
  for (int r = 0; r < ranks; ++r) {
    if (r == rank) continue;
    typename Batch::Cursor c;
    std::uint32_t n = 0;
    while (!out[static_cast<std::size_t>(r)].done(c)) {
      out[static_cast<std::size_t>(r)].encode_some(c, budget, nullptr);
      ++n;
    }
    rounds = std::max(rounds, n);
  }
  rounds = cluster.collectives.allreduce<std::uint32_t>(rounds, ReduceOp::kMax);
  std::vector<typename Batch::Cursor> cursors(static_cast<std::size_t>(ranks));
  // A round's batch is within the budget, or one section of a single record.
  const std::size_t most =
      std::max(budget, 8 + *std::max_element(std::begin(Batch::kRecord), std::end(Batch::kRecord)));
  for (std::uint32_t round = 0; round < rounds; ++round) {
    std::vector<std::vector<std::byte>> bytes(static_cast<std::size_t>(ranks));
    for (int r = 0; r < ranks; ++r) {
      const auto p = static_cast<std::size_t>(r);
      if (r != rank) out[p].encode_some(cursors[p], budget, &bytes[p]);
    }
    std::vector<std::vector<std::byte>> received = cluster.exchange.all_to_all(std::move(bytes));
    for (int r = 0; r < ranks && r < static_cast<int>(received.size()); ++r) {
      if (r == rank) continue;
      const std::vector<std::byte>& batch = received[static_cast<std::size_t>(r)];
      if (batch.size() > most) {
        fail("rank ", r, " sent a Pregel mutation batch of ", batch.size(),
             " bytes, over the round's budget of ", most);
      }
      in.decode(batch, r, ranks);
    }
  }
  return rounds;
}

}  // namespace atl
