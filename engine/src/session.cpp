#include "atoll/engine/session.hpp"

#include <algorithm>
#include <thread>

#include "atoll/graph/load_topology.hpp"
#include "atoll/transport/collectives.hpp"
#include "atoll/transport/exchange.hpp"

namespace atl {

Session::Session(const SessionOptions& options) : job_(detect_job(options.job)) {
  if (job_.launcher == "single") return;
  TransportOptions transport;
  transport.kind = options.transport;
  transport_ = std::make_unique<Transport>(job_, transport);
  collectives_ = std::make_unique<Collectives>(*transport_);
  exchange_ = std::make_unique<Exchange>(*transport_);
  transport_->start();
  cluster_ = std::make_unique<Cluster>(Cluster{*transport_, *collectives_, *exchange_});
}

// The transport's destructor stops it collectively, or, during stack unwinding (an error on
// this rank), closes at once so that the other ranks stop with an error naming this one.
Session::~Session() = default;

void Session::stop() {
  if (transport_) transport_->stop();
}

int Session::threads_per_rank() const {
  return rank_cores(job_);
}

Topology Session::load_graph(const std::string& path, const PartLoadOptions& options) {
  if (!cluster_) {
    return load_topology(path, options.format, options.mtx_layout, options.build);
  }
  return load_graph_part(path, *transport_, *collectives_, *exchange_, options).topology;
}

std::uint64_t Session::sum(std::uint64_t value) {
  return cluster_ ? collectives_->allreduce(value, ReduceOp::kSum) : value;
}

std::vector<std::vector<std::byte>> Session::gather_bytes(std::vector<std::byte> mine) {
  if (!cluster_) {
    std::vector<std::vector<std::byte>> all;
    all.push_back(std::move(mine));
    return all;
  }
  // all_to_all with everything addressed to rank 0.
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(size()));
  out[0] = std::move(mine);
  std::vector<std::vector<std::byte>> in = exchange_->all_to_all(std::move(out));
  if (rank() != 0) return {};
  return in;
}

}  // namespace atl
