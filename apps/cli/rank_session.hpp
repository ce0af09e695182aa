// One rank of a multi-rank `atoll run`: joins the job (atoll launch, mpirun, srun or by hand),
// starts the transport and loads this rank's part of the graph. `--ranks N` outside a job
// re-executes the command under `atoll launch -n N`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "atoll/engine/cluster.hpp"
#include "atoll/graph/graph_part_load.hpp"

namespace atl::cli {

/// The command line this process was started with (set by run_cli).
void set_command_line(int argc, char** argv);

/// True when this process is one rank of a job of several ranks (or launched as one).
bool in_job();

/// Replaces this process by `atoll launch -n ranks -- <this command without --ranks>`; returns
/// only on failure (throws).
[[noreturn]] void relaunch_as_ranks(int ranks, int restarts = 0);

class RankSession {
 public:
  /// Joins the job and starts the transport (collective).
  explicit RankSession(TransportKind kind);
  ~RankSession();

  Cluster& cluster() { return *cluster_; }
  int rank() const { return transport_->rank(); }
  int size() const { return transport_->size(); }
  std::string describe() const { return transport_->describe(); }
  /// This rank stops with an error: the other ranks fail at once with its message.
  void abort(const std::string& why) { transport_->abort(why); }
  /// Collective: ends the job cleanly.
  void stop() { transport_->stop(); }

 private:
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Collectives> collectives_;
  std::unique_ptr<Exchange> exchange_;
  std::unique_ptr<Cluster> cluster_;
};

}  // namespace atl::cli
