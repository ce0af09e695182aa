// Keeping ghosts fresh: after a colour step each rank sends the data of the owned vertices it
// changed to the ranks that hold them as ghosts, one batch per peer written by one-sided puts
// into the peer's mailbox (transport/mailboxes.hpp), and applies the batches it receives to
// its ghost ranges. A batch is dense (every vertex of the peer's ghost range for this rank,
// in its order: the receiver copies one block) or sparse ((ghost lid, data) records),
// whichever is smaller. Schedule requests for vertices owned elsewhere travel in the same
// batches, one per ghost. Vertex data is moved as bytes of a fixed size. A push that follows
// a pass over every owned vertex may be streamed: its dense batches leave in parts while the
// pass runs (communication overlapped with computation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "atoll/engine/cluster.hpp"
#include "atoll/engine/worker_pool.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/transport/mailboxes.hpp"

namespace atl {
namespace detail {
class GhostStream;
}

/// A request to schedule a vertex: its lid (a ghost's when sent, the owner's when received).
struct ScheduleRequest {
  Lid lid;
  double priority;
};

class GhostSync {
 public:
  /// Collective: learns, for every peer, which owned vertices it holds and in which order,
  /// and for every ghost its lid at its owner.
  GhostSync(const Topology& graph, Cluster& cluster);
  ~GhostSync();

  /// Where the vertex data lives: `data` has one `bytes`-sized slot per local vertex (owned,
  /// then ghosts); received ghost values are also copied into `mirror` when it is not null.
  struct Arrays {
    std::byte* data;
    std::byte* mirror;
    std::size_t bytes;
  };

  /// Collective: sends the data of the `changed` owned vertices (lists of lids, duplicates
  /// allowed only across dense pushes) and the schedule requests for ghosts; applies what
  /// arrives; returns the schedule requests for owned vertices that other ranks sent. With
  /// `written`, appends the ghost lids whose data arrived (a dense batch: its whole range).
  std::vector<ScheduleRequest> push(const Arrays& arrays,
                                    std::span<const std::span<const Lid>> changed,
                                    std::span<const ScheduleRequest> remote_schedules,
                                    std::vector<Lid>* written = nullptr);
  /// Collective (full consistency, where updates may write neighbours): sends the data of the
  /// `written` ghosts (duplicates allowed) to their owners, which apply it; returns the owned
  /// vertices whose data arrived, for the owner to push to their other replicas.
  std::vector<Lid> write_back(const Arrays& arrays, std::span<const std::span<const Lid>> written);
  /// Collective: sends every owned vertex that has replicas (dense to every peer), and the
  /// schedule requests; returns the requests received, as push() does.
  std::vector<ScheduleRequest> push_all(const Arrays& arrays,
                                        std::span<const ScheduleRequest> remote_schedules = {});

  /// Overlap, for a pass that updates every owned vertex once in `blocks` (lid order, tiling
  /// the owned vertices): the push that follows it sends every owned vertex's `bytes`-sized
  /// slot of `data`, and each part of it is put while the pass runs, once the blocks holding
  /// its vertices are final (stream_block_done). Then stream_end() completes the push.
  void stream_begin(const std::byte* data, std::size_t bytes, std::span<const LidRange> blocks);
  /// Block b of the pass is final in the streamed data. Thread-safe; once per block.
  void stream_block_done(std::size_t b);
  /// Collective, after every block is done: as push() with every owned vertex changed (the
  /// arrays' data being the streamed data).
  std::vector<ScheduleRequest> stream_end(const Arrays& arrays,
                                          std::span<const ScheduleRequest> remote_schedules);

  /// Per ghost (lid - num_owned): its lid at its owner (the locking engine names lock groups,
  /// schedule requests and grant data by it).
  std::span<const Lid> ghost_owner_lids() const { return owner_lid_; }

  /// Bytes this rank has sent to other ranks so far, and in the last push.
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t last_bytes_sent() const { return last_bytes_sent_; }
  /// The smallest number of bytes the last push could have sent: changed boundary vertices
  /// times their replicas times the data size.
  std::uint64_t last_lower_bound() const { return last_lower_bound_; }
  /// Of the last push's bytes, those put while the pass computed (a streamed push).
  std::uint64_t last_overlapped_bytes() const { return last_overlapped_; }

 private:
  struct Peer {
    std::vector<Lid> send_lids;  ///< owned lids in the order of the peer's ghost range for us
    Lid remote_base = 0;         ///< the first lid of that range at the peer
    Lid ghost_begin = 0;         ///< our ghost range for the peer's vertices: [begin, end)
    Lid ghost_end = 0;
    bool has_batch = false;  ///< either side holds ghosts of the other: a batch each push
  };
  /// The mailboxes for data of this size (created collectively on first use).
  Mailboxes& mailboxes(std::size_t bytes);
  std::vector<ScheduleRequest> exchange(const Arrays& arrays,
                                        std::span<const std::span<const Lid>> changed,
                                        std::span<const ScheduleRequest> remote_schedules, bool all,
                                        std::vector<Lid>* written, bool streamed = false);

  const Topology& graph_;
  Cluster& cluster_;
  std::vector<Peer> peers_;
  std::vector<Lid> owner_lid_;  ///< per ghost (lid - num_owned): its lid at its owner
  std::vector<int> ghost_owner_;
  std::vector<std::uint32_t> request_mark_;  ///< per ghost: last push that requested it
  std::vector<double> request_priority_;     ///< per ghost: highest priority requested
  std::map<std::size_t, std::unique_ptr<Mailboxes>> mailboxes_;  ///< by data size
  std::unique_ptr<Mailboxes> write_back_mail_;  ///< ghost -> owner (one data size per engine)
  std::size_t write_back_bytes_ = 0;
  std::vector<std::uint32_t> write_mark_;  ///< per ghost: last write-back that listed it
  std::uint32_t write_count_ = 0;
  std::vector<std::uint32_t> mark_;  ///< per owned vertex: last push that counted it (dedup)
  std::uint32_t push_count_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t last_bytes_sent_ = 0;
  std::uint64_t last_lower_bound_ = 0;
  std::uint64_t last_overlapped_ = 0;
  std::unique_ptr<detail::GhostStream> stream_;  ///< the plan of the streamed pushes
  const std::byte* stream_data_ = nullptr;       ///< set from stream_begin to stream_end
  std::size_t stream_bytes_ = 0;
};

}  // namespace atl
