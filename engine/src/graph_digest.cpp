#include <cstdint>
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
  std::uint64_t vertices = t.num_owned(), edges = t.owned_edges();
  if (cluster != nullptr) {
    digest = cluster->collectives.allreduce<std::uint64_t>(digest, ReduceOp::kSum);
    vertices = cluster->collectives.allreduce<std::uint64_t>(vertices, ReduceOp::kSum);
    edges = cluster->collectives.allreduce<std::uint64_t>(edges, ReduceOp::kSum);
  }
  shape.graph_digest = digest;
  shape.vertices = vertices;
  shape.edges = edges;
}

}  // namespace atl
