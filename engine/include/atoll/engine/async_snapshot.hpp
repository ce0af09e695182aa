// GraphLab's asynchronous snapshot (Distributed GraphLab, section 4.3), the locking engine's
// checkpoint taken while updates run: a Chandy-Lamport snapshot of the data graph. This class is
// one rank's bookkeeping; the engine captures vertices and carries the markers (docs/checkpoints.md
// has the protocol and the argument). In short, for snapshot k under edge consistency:
//  - a rank starts k when rank 0 tells it, or the moment any record stamped k reaches it (the
//    marker rule: it starts before it applies the record);
//  - from then on every update of an uncaptured vertex captures it first, under the update's
//    locks, and a sweep of high-priority "snapshot updates" captures the rest;
//  - a capture saves the vertex (with its schedule) and its edges to neighbours not yet
//    captured: every edge is saved by whichever end is captured first;
//  - schedule requests made before the cut that arrive after their target's capture are the
//    channel state: records are stamped with their sender's epoch and counted per peer, and
//    a rank's part is complete when every owned vertex is captured and every peer's count of
//    earlier records has arrived.
// Each rank writes its file on its own thread; rank 0 writes the MANIFEST when every file is in.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "atoll/common/timer.hpp"
#include "atoll/engine/checkpoint_store.hpp"
#include "atoll/engine/scheduler.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

class AsyncSnapshot {
 public:
  /// Runs on the writer thread when this rank's file of snapshot k is written (error empty) or
  /// could not be; the engine tells rank 0.
  using Written = std::function<void(std::uint32_t k, const CheckpointFileInfo& file,
                                     const std::string& error)>;

  /// `vertex_record`: bytes of one vertex record; `edge_buffers`: one per capturing thread.
  AsyncSnapshot(CheckpointStore& store, int rank, int ranks, Lid owned, Lid vertices,
                std::size_t vertex_record, unsigned edge_buffers, Written written);
  ~AsyncSnapshot();
  AsyncSnapshot(const AsyncSnapshot&) = delete;
  AsyncSnapshot& operator=(const AsyncSnapshot&) = delete;

  // ---- the cut ----
  /// The newest snapshot started here (0: none yet).
  std::uint32_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  /// Starts snapshot k here (k == epoch() + 1, validated by the caller); false when it had
  /// started. Rank 0 passes the iteration and shared state its manifest records.
  bool start(std::uint32_t k, std::uint64_t iteration = 0,
             std::map<std::string, std::string> state = {});
  /// The snapshot vertex v was captured in (a ghost: as its owner last said).
  std::uint32_t captured_in(Lid v) const { return captured_[v].load(std::memory_order_acquire); }
  void set_ghost_captured(Lid ghost, std::uint32_t k) {
    captured_[ghost].store(k, std::memory_order_release);
  }
  /// Marks owned v captured in the current snapshot and returns its record to fill; the
  /// scheduled flag and priority are set here (pending or running in `scheduler`, or scheduled
  /// late, see note_schedule). Then end_capture().
  std::byte* begin_capture(Lid v, const ContinuousScheduler& scheduler, Gid gid);
  /// Edge records captured by thread i (one buffer per thread; no lock).
  std::vector<std::byte>& edge_buffer(unsigned i) { return edges_[i]; }
  void end_capture() { uncaptured_.fetch_sub(1, std::memory_order_acq_rel); }
  /// Owned vertices not yet captured in the current snapshot.
  std::size_t uncaptured() const { return uncaptured_.load(std::memory_order_acquire); }
  /// Owned v was scheduled by an update or record of snapshot epoch `tag`: kept as channel
  /// state when v was captured before it in a later snapshot. Call after scheduling v.
  void note_schedule(Lid v, double priority, std::uint32_t tag);
  /// The next owned vertex for the snapshot sweep (owned when it returns < owned).
  Lid next_in_sweep() { return sweep_.fetch_add(1, std::memory_order_acq_rel); }
  bool sweep_done() const { return sweep_.load(std::memory_order_acquire) >= owned_; }

  // ---- channel state: update records, stamped with their sender's epoch ----
  void count_sent(int peer, std::uint32_t tag);
  /// Records sent to peer stamped before k.
  std::uint64_t sent_before(int peer, std::uint32_t k) const;
  void count_received(int peer, std::uint32_t tag);
  /// Peer says it sent `records` records stamped before k.
  void expect(int peer, std::uint32_t k, std::uint64_t records);
  /// True for the one caller that is to tell every peer this rank's count for snapshot k;
  /// it calls counts_done(k) once they are sent.
  bool claim_counts(std::uint32_t k);
  void counts_done(std::uint32_t k) { counts_sent_.store(k, std::memory_order_release); }
  /// Whether the counts for the current snapshot have been sent (not merely claimed: a rank
  /// that still sends them must not count as passive).
  bool counts_sent() const { return counts_sent_.load(std::memory_order_acquire) >= epoch(); }

  // ---- this rank's part ----
  /// Hands the current snapshot's part to the writer thread once it is complete: every owned
  /// vertex captured and (unless `at_rest`: nothing is in flight) every channel's records
  /// stamped before it received. True when this call handed it over.
  bool submit_if_complete(bool at_rest = false);
  /// Why the current part is not complete yet (uncaptured vertices, records from each peer).
  std::string describe() const;
  /// True when the current snapshot's part was handed over (or no snapshot was started).
  bool submitted() const { return submitted_.load(std::memory_order_acquire) >= epoch(); }
  /// Blocks until the writer thread has nothing to do; returns this rank's result for the
  /// current snapshot ("" or the error) and its file.
  std::string wait_written(CheckpointFileInfo& file);

  // ---- rank 0 ----
  /// Rank r's file of snapshot k is written (error empty) or failed. When every rank's is in,
  /// the writer thread writes the manifest.
  void file_written(int rank, std::uint32_t k, const CheckpointFileInfo& file,
                    const std::string& error);
  /// Writes the manifest of the current snapshot from `files` unless it is written (between
  /// phases, after every rank reported through a collective). Throws an Error.
  void write_manifest(const std::vector<CheckpointFileInfo>& files);
  /// The newest snapshot whose manifest is on disk, or that failed (see failure()).
  std::uint32_t finished() const { return finished_.load(std::memory_order_acquire); }
  /// The first failure rank 0 heard of (empty: none).
  std::string failure() const;
  /// Seconds since the last snapshot finished (or since construction).
  double since_finished() const;

 private:
  void run_writer();
  void post(std::function<void()> task);
  void write_part(std::uint32_t k, std::uint64_t epoch, CheckpointPart& part,
                  const std::vector<PendingVertex>& late);
  void manifest_locked(std::uint32_t k, const std::vector<CheckpointFileInfo>& files);

  CheckpointStore& store_;
  const int rank_, ranks_;
  const Lid owned_;
  const std::size_t vertex_record_;
  Written written_;

  std::atomic<std::uint32_t> epoch_{0};
  std::mutex start_lock_;
  std::uint64_t file_epoch_ = 0;  ///< the current snapshot's epoch number on disk
  std::unique_ptr<std::atomic<std::uint32_t>[]> captured_;  ///< per local vertex
  std::vector<std::byte> vertices_;                         ///< owned vertices' records, by lid
  std::vector<std::vector<std::byte>> edges_;
  std::atomic<std::size_t> uncaptured_{0};
  std::atomic<Lid> sweep_{0};
  std::mutex late_lock_;
  std::vector<PendingVertex> late_;  ///< channel state: schedules after their target's capture

  mutable std::mutex count_lock_;
  std::vector<std::vector<std::uint64_t>> sent_, received_;  ///< [peer][stamp]
  std::vector<std::int64_t> expected_;                       ///< [peer], -1: not yet told
  std::atomic<std::uint32_t> counts_claimed_{0};
  std::atomic<std::uint32_t> counts_sent_{0};
  std::atomic<std::uint32_t> submitted_{0};

  // rank 0
  mutable std::mutex manifest_lock_;
  std::uint64_t iteration_ = 0;
  std::map<std::string, std::string> state_;
  Timer started_;
  Timer since_finished_;
  std::vector<int> reported_;  ///< per rank: 1 when its file of the current snapshot is in
  std::vector<CheckpointFileInfo> files_;
  std::string failure_;
  std::atomic<std::uint32_t> finished_{0};

  // the writer thread
  std::mutex writer_lock_;
  std::condition_variable writer_wake_, writer_idle_;
  std::deque<std::function<void()>> tasks_;
  bool writer_busy_ = false;
  bool stopping_ = false;
  std::string result_;  ///< this rank's result for the current snapshot
  CheckpointFileInfo file_;
  std::thread writer_;
};

}  // namespace atl
