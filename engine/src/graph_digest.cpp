#include <cstdint>
#include <span>
#include <vector>

#include "atoll/common/mix64.hpp"
#include "atoll/engine/checkpoint_records.hpp"

namespace atl {

void digest_graph(const Topology& t, Cluster* cluster, CheckpointShape& shape) {
  // Each vertex's gid hashed once; an out-edge then costs one load and one add (this pass runs
  // before every checkpointed run, so it must stay a small fraction of one sweep per edge).
  std::vector<std::uint64_t> hashed(t.num_vertices());
  for (Lid v = 0; v < t.num_vertices(); ++v) hashed[v] = detail::mix64(t.gid(v) + detail::kGolden);
  std::uint64_t digest = 0;
  for (Lid v = 0; v < t.num_owned(); ++v) {
    std::uint64_t neighbours = t.out_degree(v);  // a multiset hash: the order of the list is free
    for (Lid w : t.out_neighbors(v)) neighbours += hashed[w];
    digest += detail::mix64(hashed[v] ^ detail::mix64(neighbours));
  }
  std::uint64_t sums[3] = {digest, t.num_owned(), t.owned_edges()};
  if (cluster != nullptr)
    cluster->collectives.allreduce(std::span<std::uint64_t>(sums), ReduceOp::kSum);
  shape.graph_digest = sums[0];
  shape.vertices = sums[1];
  shape.edges = sums[2];
}

}  // namespace atl
