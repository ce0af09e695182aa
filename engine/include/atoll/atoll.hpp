// Atoll for user programs: one header with everything a user's main needs.
//   - the program model: Scope, Context, consistency, schedulers, aggregators (GraphLab) and
//     PregelVertex, combiners, aggregators, the master hook (Pregel);
//   - the engines: run_graphlab (chromatic or locking, chosen at run time), PregelEngine;
//   - graphs: LocalGraph, Topology, reading files and generators;
//   - jobs: Session (joins atoll launch / mpirun / srun, loads this rank's part of a graph,
//     gathers results on rank 0).
// docs/programming.md is the guide; examples/ has complete programs.
#pragma once

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"
#include "atoll/common/timer.hpp"
#include "atoll/engine/aggregator.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/consistency.hpp"
#include "atoll/engine/context.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/engine/graphlab_engines.hpp"
#include "atoll/engine/pregel_engine.hpp"
#include "atoll/engine/pregel_program.hpp"
#include "atoll/engine/program.hpp"
#include "atoll/engine/run_stats.hpp"
#include "atoll/engine/scope.hpp"
#include "atoll/engine/session.hpp"
#include "atoll/graph/edge_list.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/ids.hpp"
#include "atoll/graph/local_graph.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/topology.hpp"
#include "atoll/transport/job.hpp"
