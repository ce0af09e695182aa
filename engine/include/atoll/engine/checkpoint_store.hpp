// Checkpoint epochs on disk, engine-neutral (the engines turn their state into records).
// An epoch is a directory DIR/epoch-NNNNNNNN with one file per rank and a MANIFEST that rank 0
// writes last, once every rank's file is on disk: an epoch without a valid manifest does not
// exist. Resume reads an epoch written by any number of ranks: each rank reads some of the
// files and routes every record to a directory rank (by a hash of its vertex); every rank asks
// the directory ranks for the vertices it now owns. Every call below is collective.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "atoll/engine/checkpoint_options.hpp"
#include "atoll/engine/run_stats.hpp"
#include "atoll/graph/ids.hpp"

namespace atl {

struct Cluster;

/// Record headers; the program's data follows each one.
struct CheckpointVertexHeader {
  Gid gid;
  double priority;      ///< with kCheckpointScheduled
  std::uint32_t flags;  ///< kCheckpoint* bits
  std::uint32_t reserved;
};
struct CheckpointEdgeHeader {
  Gid src;
  Gid dst;
};
struct CheckpointMessageHeader {
  Gid dst;
};
inline constexpr std::uint32_t kCheckpointScheduled = 1;  ///< pending, with its priority
inline constexpr std::uint32_t kCheckpointHalted = 2;     ///< Pregel: voted to halt
/// Pregel: not a vertex of the graph but the last value of one removed by a mutation (kept
/// for the app, PregelEngine::keep_removed_values); only in an epoch that saved its topology.
inline constexpr std::uint32_t kCheckpointRemoved = 4;

/// An epoch that carries its own topology (Pregel after a mutation): its vertex records are
/// every vertex of the graph as it is now and its edge records every edge (also without edge
/// data), each followed by the edge's weight when the graph is weighted. The input graph
/// (CheckpointShape::graph_digest) still identifies the run.
struct CheckpointTopology {
  bool saved = false;
  std::uint64_t vertices = 0;      ///< over all ranks, removed-value records not counted
  std::uint64_t edges = 0;         ///< over all ranks
  std::uint32_t weight_bytes = 0;  ///< after each edge record's data: 0, or 8 (a double)
};

/// What an epoch must match to be resumed from.
struct CheckpointShape {
  std::string engine;
  std::string identity;  ///< CheckpointOptions::run_identity
  std::string types;     ///< the program's data types, by size and name
  std::uint64_t graph_digest = 0;
  std::uint64_t vertices = 0;
  std::uint64_t edges = 0;
  std::uint32_t vertex_bytes = 0;   ///< data bytes, without the record header
  std::uint32_t edge_bytes = 0;     ///< 0: edges are not saved
  std::uint32_t message_bytes = 0;  ///< 0: no messages
};

/// This rank's part of an epoch: records (header + data), and named values that are the same
/// on every rank (aggregators, counters, the app's own; rank 0's go into the manifest).
struct CheckpointPart {
  std::vector<std::byte> vertices;
  std::vector<std::byte> edges;
  std::vector<std::byte> messages;
  std::map<std::string, std::string> state;
  CheckpointTopology topology;  ///< saved: the records are the graph (the same on every rank)
};

/// What resume hands this rank: the records of the vertices it asked for, sorted by gid
/// (edges by source, then target, in the order they were saved; messages by target).
struct RestoredEpoch {
  std::string dir;
  std::uint64_t epoch = 0;
  std::uint64_t iteration = 0;
  std::map<std::string, std::string> state;
  std::vector<std::byte> vertices;
  std::vector<std::byte> edges;
  std::vector<std::byte> messages;
  /// The epoch carries its own topology: `vertices` are the vertices this rank owns now (the
  /// ones it claimed that still exist, and new ones placed by new_vertex_owner), with removed
  /// values (kCheckpointRemoved) among them; `edges` every edge with an endpoint it owns, each
  /// once; ghost_owners the owner of every other endpoint, sorted by gid.
  CheckpointTopology topology;
  std::vector<std::pair<Gid, int>> ghost_owners;
};

/// A rank file's size and CRC32C, as the manifest records them.
struct CheckpointFileInfo {
  std::uint64_t bytes = 0;
  std::uint32_t crc = 0;
};

class CheckpointStore {
 public:
  /// Collective. A fresh run (no options.resume) refuses a directory that already holds valid
  /// epochs; a resumed run continues the directory's numbering.
  CheckpointStore(const CheckpointOptions& options, CheckpointShape shape, Cluster* cluster);
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  /// Collective: whether an epoch is due after `iterations` iterations (by count or time).
  bool due(std::uint64_t iterations);
  /// Collective: writes this rank's part; rank 0 then writes the manifest and deletes epochs
  /// beyond options.keep. A rank that cannot write makes every rank fail, naming it.
  void write(std::uint64_t iteration, CheckpointPart part);
  /// Collective: the same epoch, but this rank's file is written by a background thread while
  /// the run goes on; the epoch becomes valid (its manifest written) at the settle() that
  /// finds every rank's file written. Settles an earlier one first.
  void write_behind(std::uint64_t iteration, CheckpointPart part);
  /// Collective, at a point every rank reaches together: commits the write_behind epoch when
  /// every rank's file is written (`wait`: waits for them). True when none is pending now;
  /// a write error fails every rank as write() does.
  bool settle(bool wait);
  /// The buffers of the last epoch written (contents unspecified), for reuse.
  CheckpointPart take_spare();
  // The asynchronous snapshot writes the same epochs without collectives, on its own thread:
  /// Takes the next epoch number; every rank must take the same numbers in the same order.
  std::uint64_t reserve_epoch();
  /// Writes this rank's file of `epoch`; throws an Error naming the path.
  CheckpointFileInfo write_part(std::uint64_t epoch, const CheckpointPart& part);
  /// Rank 0, once every rank's file of `epoch` is on disk (files by rank): writes the
  /// MANIFEST, deletes epochs beyond options.keep and records the epoch. Throws an Error.
  void write_manifest(std::uint64_t epoch, std::uint64_t iteration,
                      const std::map<std::string, std::string>& state,
                      std::span<const CheckpointFileInfo> files, double seconds, bool asynchronous,
                      const CheckpointTopology& topology = {});

  /// Collective: the newest valid epoch of options.resume (older ones when newer ones are
  /// damaged, saying so on rank 0), with the records of `vertices` (vertex and message
  /// records) and of `edge_sources` (edge records). Fails when no epoch is usable or the
  /// newest valid one belongs to another graph, app, option set or program. From an epoch
  /// that carries its topology, `vertices` are the input vertices this rank owns (its claim
  /// on them where they still exist) and edge_sources is not used: see RestoredEpoch.
  RestoredEpoch resume(std::span<const Gid> vertices, std::span<const Gid> edge_sources);

  /// The epochs written so far (and the one resumed from), for RunStats.
  const CheckpointStats& stats() const { return stats_; }

 private:
  /// Collective: every rank's file info (rank 0 uses them); fails on every rank, naming the
  /// rank, when some rank could not write its file.
  std::vector<CheckpointFileInfo> gather_files(std::uint64_t epoch,
                                               const CheckpointFileInfo& written,
                                               std::string error);
  /// Collective: rank 0's manifest error fails every rank; else the epoch is recorded.
  void end_epoch(std::uint64_t epoch, std::uint64_t iteration, std::string manifest_error,
                 double seconds);

  struct State;
  std::unique_ptr<State> state_;
  CheckpointStats stats_;
};

}  // namespace atl
