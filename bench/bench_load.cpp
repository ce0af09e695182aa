// Load time of a graph on N ranks: atoll launch -n N -- bench_load GRAPH [--transport ucx|tcp]
// [--atoms K] [--repeat R]. Rank 0 prints one line per run: the phases' times (the slowest
// rank's), edges per second, bytes routed, and per-rank owned vertices, edges and ghosts.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "atoll/common/timer.hpp"
#include "atoll/graph/graph_part_load.hpp"

int main(int argc, char** argv) {
  using namespace atl;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_load GRAPH [--transport ucx|tcp] [--atoms K] [--repeat R]\n");
    return 2;
  }
  std::string graph = argv[1];
  TransportOptions options;
  PartLoadOptions load;
  int repeat = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--transport") options.kind = parse_transport(argv[i + 1]);
    if (a == "--atoms") load.atoms = static_cast<std::uint32_t>(std::atoi(argv[i + 1]));
    if (a == "--repeat") repeat = std::atoi(argv[i + 1]);
  }
  try {
    Transport t(detect_job({}), options);
    Collectives coll(t);
    Exchange exchange(t);
    t.start();
    for (int run = 0; run < repeat; ++run) {
      coll.barrier();
      Timer total;
      GraphPartLoad part = load_graph_part(graph, t, coll, exchange, load);
      double seconds = coll.allreduce(total.seconds(), ReduceOp::kMax);
      double phases[3] = {part.read_seconds, part.exchange_seconds, part.build_seconds};
      coll.allreduce(std::span<double>(phases), ReduceOp::kMax);
      std::uint64_t sent = coll.allreduce(part.bytes_sent, ReduceOp::kSum);
      std::string mine = std::to_string(part.topology.num_owned()) + "/" +
                         std::to_string(part.topology.owned_edges()) + "/" +
                         std::to_string(part.topology.num_vertices() - part.topology.num_owned());
      std::vector<std::string> all = coll.allgather(mine);
      if (t.rank() == 0) {
        std::printf(
            "%s ranks=%d transport=%s %s: %.3f s (read %.3f, exchange %.3f, build %.3f), "
            "%.1f M edges/s, %.1f MB routed; owned/edges/ghosts per rank:",
            graph.c_str(), t.size(), std::string(t.backend_name()).c_str(),
            part.from_atoms ? "atoms" : "plain", seconds, phases[0], phases[1], phases[2],
            static_cast<double>(part.global_edges) / seconds / 1e6,
            static_cast<double>(sent) / 1e6);
        for (const std::string& s : all) std::printf(" %s", s.c_str());
        std::printf("\n");
        std::fflush(stdout);
      }
    }
    t.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_load: %s\n", e.what());
    return 1;
  }
  return 0;
}
