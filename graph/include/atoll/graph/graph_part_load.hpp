// Phase 2 at job start: every rank loads its part of a graph. From an atom directory, rank 0
// places the atoms over the ranks (placement.hpp) and broadcasts the map; each rank reads
// only its own atoms, in parallel, and replays them. From a plain graph file, the same path
// runs on in-memory hash atoms: each rank parses its share of the file and sends every edge
// to the ranks owning its endpoints in one bulk exchange. Then each rank builds its local
// graph (owned vertices, then ghosts grouped by owner) and learns where its owned vertices'
// replicas live. Errors are collective: every rank fails with the first rank's message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "atoll/graph/atoms.hpp"
#include "atoll/graph/graph_format.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/transport/collectives.hpp"
#include "atoll/transport/exchange.hpp"

namespace atl {

struct PartLoadOptions {
  GraphFormat format = GraphFormat::kAuto;  ///< of a plain file (atom directories are detected)
  MtxLayout mtx_layout = MtxLayout::kAuto;  ///< of a Matrix Market file
  BuildOptions build;                       ///< symmetrize / dedup, applied on every rank
  std::uint32_t atoms = kDefaultAtoms;      ///< in-memory hash atoms of a plain file
  std::uint64_t seed = 0;                   ///< hash seed of those atoms
  /// Edges of a rank's share of a plain file routed to their owners per exchange: the send
  /// and receive buffers hold one such round's records at a time.
  std::uint64_t route_edges = std::uint64_t{1} << 20;
  /// A plain file whose ids span a small range (weighted: under 2^31 edges, 2^30 symmetrized)
  /// is routed in two passes: the arcs of each vertex are counted and announced to the ranks
  /// holding it, then every arc is written straight into its final slot (no edge records
  /// held). Atom directories are read the same way (their atoms decoded twice into rows;
  /// weighted ones not symmetrized). False: always one pass.
  bool two_pass = true;
  /// Tests only: alters the arc counts this rank announces to rank `peer` in a two-pass
  /// route (4 bytes an id of the span), to check that receivers reject inconsistent ones.
  std::function<void(int peer, std::vector<std::byte>& counts)> tamper_counts;
};

/// This rank's part of the graph and how it got there.
struct GraphPartLoad {
  Topology topology;
  std::vector<int> atom_rank;  ///< the placement, by atom
  bool from_atoms = false;     ///< read from an atom directory (else a plain file)
  bool two_pass = false;       ///< routed in two passes (PartLoadOptions::two_pass)
  std::uint64_t global_vertices = 0;
  std::uint64_t global_edges = 0;  ///< after symmetrize/dedup
  std::uint64_t bytes_sent = 0;    ///< edge records this rank sent to other ranks
  double read_seconds = 0;         ///< reading and parsing (or reading atoms)
  double exchange_seconds = 0;     ///< routing edges to their owners
  double build_seconds = 0;        ///< local CSR and replica lists
};

/// Collective over all ranks of transport (coll and exchange created on it before start).
GraphPartLoad load_graph_part(const std::string& path, Transport& transport, Collectives& coll,
                              Exchange& exchange, const PartLoadOptions& options = {});

/// Collective: every rank tells the owners of its ghosts where they are; installs this rank's
/// replica lists (after build_part or Topology::without).
void install_replicas(Topology& g, Exchange& exchange, int rank, int ranks);

/// Collective: builds this rank's part of a graph whose partition every rank already knows
/// (e.g. a pixel grid split by rows) and installs its replica lists.
Topology build_known_part(const GraphPart& part, Exchange& exchange, int ranks,
                          const BuildOptions& options = {});

}  // namespace atl
