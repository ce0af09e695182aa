// Resuming an epoch that carries its own topology (Pregel after a mutation): the records are
// the graph, so they are placed anew instead of matched to the input graph's vertices.
//
// A vertex is owned by the rank that owns it in the input graph's placement for this run
// (every rank claims the input vertices it owns), and a vertex the input graph does not have
// by new_vertex_owner(gid), as the mutation phase places new vertices. Three all-to-all
// rounds: (1) records and claims go to directory ranks (a hash of the gid: vertices and
// messages by their vertex, edges by their source); (2) each directory rank sends vertex and
// message records to their owners and the edges, with their source's owner, to the directory
// rank of their target; (3) that one adds the target's owner and sends each edge to both
// owners (once when they are the same rank). Every check fails on every rank together.
#pragma once

#include <span>
#include <string>

#include "atoll/engine/checkpoint_store.hpp"
#include "checkpoint_file.hpp"

namespace atl::detail {

/// Collective. `sections` are the records this rank read, `claims` the input vertices it owns;
/// fills out.vertices, edges, messages (sorted as RestoredEpoch says), topology and
/// ghost_owners. Inconsistent records (two of one vertex, an edge or message naming a vertex
/// the epoch does not have, counts other than the manifest's) fail naming `dir`.
void route_saved_topology(CheckpointSections sections, const CheckpointRecordSizes& sizes,
                          const CheckpointTopology& topology, const std::string& dir,
                          std::span<const Gid> claims, Cluster* cluster, RestoredEpoch& out);

}  // namespace atl::detail
