// The job's rendezvous over plain TCP: rank 0 listens at the coordinator address, every other
// rank connects and presents the job token, and blobs (transport addresses, window keys) are
// exchanged. The connections stay open as a small control channel until the job ends.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "atoll/transport/job.hpp"

namespace atl {

/// Not thread-safe: one thread at a time, and every rank calls the same collectives in the
/// same order. A job of one rank uses no sockets at all.
class Bootstrap {
 public:
  /// Connects this rank to the job's rendezvous; throws an Error naming the missing ranks when
  /// the job is not complete within timeout. A connection that does not present the token
  /// (or speaks garbage) is dropped and logged, never trusted. Rank 0 listens on
  /// job.listen_fd when given (left open), else binds the coordinator's port; the others
  /// retry connecting until timeout, since rank 0 may start last.
  Bootstrap(const JobInfo& job, std::chrono::milliseconds timeout);
  ~Bootstrap();
  Bootstrap(const Bootstrap&) = delete;
  Bootstrap& operator=(const Bootstrap&) = delete;

  int rank() const;
  int size() const;
  /// This host's IP address on the network the job's bootstrap uses (numeric, IPv4 or IPv6):
  /// the local end of this rank's connection to rank 0 (rank 0: of rank 1's connection), so
  /// an address the other ranks can reach. "127.0.0.1" in a job of one rank.
  const std::string& local_address() const;

  /// Every rank contributes one blob (at most 16 MiB); every rank gets all blobs by rank.
  /// Each call waits at most the constructor's timeout for the other ranks; a peer that died
  /// or went silent throws an Error naming it, never hangs.
  std::vector<std::string> allgather(const std::string& blob);
  /// Returns when every rank has entered.
  void barrier();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atl
