// PageRank in Pregel form (a sum combiner): the same power iteration as the chromatic
// engine's static PageRank (pagerank.hpp), one superstep per sweep; the dangling mass and the
// L1 change are aggregators and the master hook stops the run once the change is below the
// tolerance. --dynamic has no Pregel form.
#pragma once

#include "atoll/apps/pagerank.hpp"
#include "atoll/apps/pregel_values.hpp"
#include "atoll/engine/engine_options.hpp"

namespace atl {

struct Cluster;

struct PregelPageRankResult : PregelVertexValues<double> {
  double final_change = 0;  ///< L1 change of the last iteration
};

/// With a cluster, graph is this rank's part and the result holds its owned vertices.
PregelPageRankResult pregel_pagerank(Topology graph, const PageRankOptions& options,
                                     const EngineOptions& engine, Cluster* cluster = nullptr);

}  // namespace atl
