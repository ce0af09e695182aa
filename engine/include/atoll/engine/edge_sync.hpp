// Keeping both copies of a cut edge equal: an edge between vertices owned by two ranks is
// held by both, and under edge or full consistency an update of either end may write it.
// After a colour step each rank sends the data of every cut edge adjacent to a vertex it
// updated to the other end's rank, in one batch per peer put into its mailbox. The two ranks index
// their common cut edges the same way (sorted by source gid, target gid, then CSR order, which both
// keep in input order), so a record is just (index, data); the lists are checked at set-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "atoll/engine/cluster.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/transport/mailboxes.hpp"

namespace atl {

class EdgeSync {
 public:
  /// Collective: indexes the cut edges shared with every peer and checks both sides agree.
  EdgeSync(const Topology& graph, Cluster& cluster);

  /// Collective: sends the data (edge_bytes each, in `edge_data` by edge id) of the cut edges
  /// adjacent to the updated owned vertices, and writes what arrives.
  void push(std::byte* edge_data, std::size_t edge_bytes,
            std::span<const std::span<const Lid>> updated);

  std::uint64_t last_bytes_sent() const { return last_bytes_sent_; }

  /// The rank holding the other copy of local edge e, or -1 when e is not on the cut.
  int peer_of(EdgeId e) const { return peer_of_[e]; }
  /// A cut edge's index in the list this rank and peer_of(e) agree on.
  std::uint32_t shared_index(EdgeId e) const { return index_[e]; }
  /// The cut edges shared with `peer`, in the agreed order (local edge ids).
  std::span<const EdgeId> shared_with(int peer) const { return shared_[peer]; }

 private:
  const Topology& graph_;
  Cluster& cluster_;
  std::vector<std::vector<EdgeId>> shared_;       ///< per peer: common cut edges in agreed order
  std::vector<std::uint32_t> index_;              ///< per local edge: its index in its peer's list
  std::vector<int> peer_of_;                      ///< per local edge: the other end's rank, or -1
  std::vector<std::vector<std::uint32_t>> sent_;  ///< per peer, per shared edge: last push
  std::uint32_t push_count_ = 0;
  std::unique_ptr<Mailboxes> mailboxes_;
  std::size_t mail_edge_bytes_ = 0;
  std::uint64_t last_bytes_sent_ = 0;
};

}  // namespace atl
