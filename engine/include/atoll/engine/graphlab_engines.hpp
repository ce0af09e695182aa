// One way to hand a GraphLab program to any engine that runs GraphLab programs: the engine is
// picked at run time from EngineOptions::engine, and `body(engine)` drives it through the
// interface every such engine has:
//   init_vertices(f(lid, VertexData&)), init_edges(f(edge id, EdgeData&)),
//   add_aggregator(name, zero, fold, merge, finalize, SyncInterval) -> handle, aggregate(handle),
//   schedule(lid, priority), schedule_all(priority), consistency(), topology(),
//   run(IterationHook) -> RunStats.
// A user's own main does the same as the built-in apps:
//   RunStats stats = run_graphlab(graph, program, options, cluster, [&](auto& engine) {
//     engine.init_vertices(...); engine.schedule_all(); return engine.run();
//   });
#pragma once

#include <array>
#include <span>
#include <string>
#include <utility>

#include "atoll/common/error.hpp"
#include "atoll/engine/chromatic_engine.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/engine/locking_engine.hpp"
#include "atoll/engine/program.hpp"

namespace atl {

/// The engines that run GraphLab programs (update functions over scopes).
inline std::span<const EngineKind> graphlab_engines() {
  static constexpr std::array kinds = {EngineKind::kChromatic, EngineKind::kLocking};
  return kinds;
}

/// Constructs the engine options.engine names over graph and program (collective with a
/// cluster) and returns body(engine). A usage Error names the valid engines when that engine
/// does not run GraphLab programs.
template <GraphProgram P, typename Body>
decltype(auto) run_graphlab(LocalGraph<typename P::VertexData, typename P::EdgeData>& graph,
                            const P& program, const EngineOptions& options, Cluster* cluster,
                            Body&& body) {
  switch (options.engine) {
    case EngineKind::kChromatic: {
      ChromaticEngine<P> engine(graph, program, options, cluster);
      return std::forward<Body>(body)(engine);
    }
    case EngineKind::kLocking: {
      LockingEngine<P> engine(graph, program, options, cluster);
      return std::forward<Body>(body)(engine);
    }
    default:
      break;
  }
  usage_fail("engine '", engine_name(options.engine),
             "' does not run GraphLab programs (engines that do: ", engine_list(graphlab_engines()),
             ")");
}

}  // namespace atl
