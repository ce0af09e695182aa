// SSSP's local phase (apps/src/local_sssp.hpp) and the sssp app from both starts on every
// engine, against the serial Dijkstra of reference_algorithms.hpp: graphs with unreachable
// parts, long paths whose gids run against the lid order, zero weights, weights up to 1e12
// (bucket indices far beyond the ring of buckets), bucket widths from tiny to huge, and parts
// of a graph split over three ranks (no transport: each part is built as its rank would build
// it). Weights are integers, so every order of summation gives the same bits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "atoll/apps/pregel_sssp.hpp"
#include "atoll/apps/sssp.hpp"
#include "atoll/graph/generators.hpp"
#include "components_inputs.hpp"
#include "local_sssp.hpp"
#include "modulo_parts.hpp"
#include "reference_algorithms.hpp"
#include "weighted_inputs.hpp"

namespace atl {
namespace {

using test::many_components;
using test::paths;
using test::reference_sssp;
using test::reference_vertices;
using test::with_weights;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Named {
  std::string name;
  EdgeList list;
  Gid source;
};

std::vector<Named> graphs() {
  KroneckerParams k;
  k.scale = 11;
  k.edge_factor = 4;
  k.seed = 5;
  const EdgeList kron = generate_kronecker(k);
  UniformParams u;  // sparse: most vertices unreachable from any one
  u.vertices = 5000;
  u.edges = 6000;
  u.seed = 9;
  const EdgeList uniform = generate_uniform(u);
  const EdgeList many = many_components(30, 3000, 2);
  const EdgeList long_paths = paths(700);
  const Gid kron_source = kron.edges.front().src;
  return {{"kron11", kron, kron_source},
          {"kron11_w1_9", with_weights(kron, 1, 9, 1), kron_source},
          {"kron11_w0_2", with_weights(kron, 0, 2, 2), kron_source},  // a third of them zero
          {"kron11_huge", with_weights(kron, 1'000'000'000, 1'000'000'000'000, 3), kron_source},
          {"uniform_sparse_w1_255", with_weights(uniform, 1, 255, 4), uniform.edges.front().src},
          {"many_w0_5", with_weights(many, 0, 5, 5), many.edges.front().src},
          {"paths", long_paths, 699},
          {"paths_w1_100", with_weights(long_paths, 1, 100, 6), 2 * 700 + 349}};
}

std::size_t reached(const std::vector<double>& dist) {
  std::size_t r = 0;
  for (double d : dist) r += d < kInf;
  return r;
}

TEST(LocalSssp, OneRankIsDijkstra) {
  for (const Named& g : graphs()) {
    const std::vector<double> expected = reference_sssp(g.list, g.source);
    ASSERT_GT(reached(expected), 1u) << g.name;
    const Topology t = Topology::build(g.list);
    ASSERT_EQ(t.num_vertices(), expected.size()) << g.name;
    const double delta = detail::default_delta(t);
    ASSERT_GT(delta, 0) << g.name;
    for (double d : {delta, 0.5, 1e-6, 1e15}) {
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(g.name + " delta " + std::to_string(d) + " on " + std::to_string(threads) +
                     " threads");
        std::vector<double> dist(t.num_vertices(), kInf);
        const Lid source = t.lid(g.source);
        dist[source] = 0;
        const Lid sources[] = {source};
        detail::relax_shortest_paths(t, sources, d, threads, dist);
        EXPECT_EQ(dist, expected);
      }
    }
  }
}

TEST(LocalSssp, NoSourcesOrUnreachedSourcesLeaveDistancesAlone) {
  const Topology t = Topology::build(graphs().front().list);
  std::vector<double> dist(t.num_vertices(), kInf);
  detail::relax_shortest_paths(t, {}, 1.0, 2, dist);
  EXPECT_EQ(reached(dist), 0u);
  const Lid sources[] = {0};  // at +inf: nothing to expand
  detail::relax_shortest_paths(t, sources, 1.0, 2, dist);
  EXPECT_EQ(reached(dist), 0u);
}

TEST(LocalSssp, PartsGiveTheDistancesThroughTheirOwnEdges) {
  for (const Named& g : graphs()) {
    const std::vector<Gid> global_ids = reference_vertices(g.list);
    const std::vector<double> global = reference_sssp(g.list, g.source);
    std::map<Gid, double> global_dist;
    for (std::size_t i = 0; i < global_ids.size(); ++i) global_dist[global_ids[i]] = global[i];
    for (int rank = 0; rank < 3; ++rank) {
      SCOPED_TRACE(g.name + " rank " + std::to_string(rank));
      const GraphPart part = test::modulo_part(g.list, rank, 3);
      const Topology t = Topology::build_part(part);
      // The reference: Dijkstra over the part's own edges, from the source when it is here.
      std::map<Gid, double> expected;
      for (Gid v : part.owned) expected[v] = kInf;
      const std::vector<Gid> ids = reference_vertices(part.edges);
      const Lid source = t.lid(g.source);
      std::vector<double> local(ids.size(), kInf);
      if (source != kInvalidLid) local = reference_sssp(part.edges, g.source);
      for (std::size_t i = 0; i < ids.size(); ++i) expected[ids[i]] = local[i];
      std::vector<double> dist(t.num_vertices(), kInf);
      std::vector<Lid> sources;
      if (source != kInvalidLid) {
        dist[source] = 0;
        sources.push_back(source);
      }
      detail::relax_shortest_paths(t, sources, detail::default_delta(t), 2, dist);
      ASSERT_EQ(t.num_vertices(), expected.size());
      for (Lid v = 0; v < t.num_vertices(); ++v) {
        ASSERT_EQ(dist[v], expected.at(t.gid(v))) << "gid " << t.gid(v);
        ASSERT_GE(dist[v], global_dist.at(t.gid(v))) << "gid " << t.gid(v);
      }
    }
  }
}

TEST(Sssp, EveryEngineFromBothStartsGivesTheReference) {
  const EngineKind engines[] = {EngineKind::kChromatic, EngineKind::kLocking, EngineKind::kPregel};
  const SsspStart starts[] = {SsspStart::kLocal, SsspStart::kSource};
  for (const Named& g : graphs()) {
    const std::vector<double> expected = reference_sssp(g.list, g.source);
    for (EngineKind engine : engines) {
      for (SsspStart start : starts) {
        SCOPED_TRACE(g.name + " " + std::string(engine_name(engine)) +
                     (start == SsspStart::kSource ? " from the source" : " from the local phase"));
        EngineOptions eo;
        eo.engine = engine;
        eo.threads = 2;
        VertexValues<double> r;
        if (engine == EngineKind::kPregel) {
          r = pregel_sssp(Topology::build(g.list), g.source, eo, nullptr);
        } else {
          r = sssp(Topology::build(g.list), g.source, eo, nullptr, start);
        }
        EXPECT_EQ(r.gids, reference_vertices(g.list));
        EXPECT_EQ(r.values, expected);
        if (engine != EngineKind::kPregel) {
          if (start == SsspStart::kLocal) {
            EXPECT_EQ(r.stats.updates, 0u) << "one rank: nothing left to relax";
          } else {
            EXPECT_GT(r.stats.updates, 0u);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace atl
