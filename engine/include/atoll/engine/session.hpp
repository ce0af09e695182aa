// One process's place in a job, for a user's own main: joins the job this process was started
// in (`atoll launch -n N -- PROGRAM`, mpirun, srun, PMI, or a single rank when started alone),
// starts the transport when there are several ranks, loads this rank's part of a graph and
// gathers per-vertex results on rank 0. On one rank there is no transport and cluster() is
// nullptr, which every engine accepts.
//
//   atl::Session session;                                  // collective
//   atl::Topology graph = session.load_graph("g.el");      // this rank's part
//   atl::LocalGraph<V, E> local(std::move(graph));
//   ... run an engine with session.cluster() ...
//   auto all = session.gather<V>(local.topology(), local.vertex_data());  // rank 0: every vertex
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/transport/job.hpp"
#include "atoll/transport/transport.hpp"

namespace atl {

struct SessionOptions {
  TransportKind transport = TransportKind::kUcx;
  JobOverrides job;  ///< explicit rank/size/coordinator/token (else from the environment)
};

class Session {
 public:
  /// Joins the job and, on several ranks, starts the transport (collective).
  explicit Session(const SessionOptions& options = {});
  /// Stops the transport (collective) if stop() was not called; when destroyed by an
  /// exception, closes at once instead, and the other ranks stop with an error naming this one.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const { return job_.rank; }
  int size() const { return job_.size; }
  /// "single", "atoll-launch", "mpirun", "srun", "pmi" or "manual".
  const std::string& launcher() const { return job_.launcher; }
  /// The ranks an engine runs across; nullptr on a single rank.
  Cluster* cluster() { return cluster_.get(); }
  /// Worker threads per rank that share this machine's cores fairly among its ranks.
  int threads_per_rank() const;

  /// Collective: this rank's part of the graph at path (an edge list, .gr, .mtx, binary, or an
  /// atom directory on several ranks). Bad input throws an Error naming the file and line.
  Topology load_graph(const std::string& path, const PartLoadOptions& options = {});

  /// Collective: the sum of value over all ranks (e.g. how many ranks own a vertex).
  std::uint64_t sum(std::uint64_t value);

  /// Collective: every rank's owned values (values[lid] for lid < graph.num_owned()) as
  /// (gid, value) pairs ordered by gid, on rank 0; an empty vector on the other ranks.
  template <typename T>
  std::vector<std::pair<Gid, T>> gather(const Topology& graph, std::span<const T> values);

  /// Collective: ends the job cleanly (also done by the destructor). A no-op on one rank.
  void stop();

 private:
  std::vector<std::vector<std::byte>> gather_bytes(std::vector<std::byte> mine);

  JobInfo job_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Collectives> collectives_;
  std::unique_ptr<Exchange> exchange_;
  std::unique_ptr<Cluster> cluster_;
};

template <typename T>
std::vector<std::pair<Gid, T>> Session::gather(const Topology& graph, std::span<const T> values) {
  static_assert(std::is_trivially_copyable_v<T>, "gathered values must be trivially copyable");
  const Lid n = graph.num_owned();
  if (values.size() < n) fail("Session::gather: ", values.size(), " values for ", n, " vertices");
  constexpr std::size_t kRecord = sizeof(Gid) + sizeof(T);
  std::vector<std::byte> mine(std::size_t{n} * kRecord);
  for (Lid v = 0; v < n; ++v) {
    const Gid gid = graph.gid(v);
    std::memcpy(mine.data() + std::size_t{v} * kRecord, &gid, sizeof(Gid));
    std::memcpy(mine.data() + std::size_t{v} * kRecord + sizeof(Gid), &values[v], sizeof(T));
  }
  std::vector<std::pair<Gid, T>> all;
  for (const std::vector<std::byte>& buf : gather_bytes(std::move(mine))) {
    if (buf.size() % kRecord != 0) fail("Session::gather: ragged buffer from a peer");
    for (std::size_t off = 0; off < buf.size(); off += kRecord) {
      std::pair<Gid, T> p;
      std::memcpy(&p.first, buf.data() + off, sizeof(Gid));
      std::memcpy(&p.second, buf.data() + off + sizeof(Gid), sizeof(T));
      all.push_back(p);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return all;
}

}  // namespace atl
