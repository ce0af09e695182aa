// Breadth-first levels as a Pregel program: in superstep 0 the source takes level 0 and tells its
// out-neighbours; a vertex that hears of a smaller level takes it and passes it on; every vertex
// votes to halt, so the run ends when no level moves. Messages to one vertex are combined (min)
// at the sender, and an aggregator counts the vertices reached.
//   pregel_bfs GRAPH SOURCE OUT
#include <atoll/atoll.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>

constexpr std::uint64_t kUnreached = std::numeric_limits<std::uint64_t>::max();

struct BfsLevels {
  using VertexValue = std::uint64_t;  ///< hops from the source (kUnreached: none)
  using EdgeValue = atl::EmptyData;
  using Message = std::uint64_t;  ///< a level offered by an in-neighbour
  atl::Gid source;
  atl::PregelAggregator<std::uint64_t> reached = {};

  std::uint64_t combine(std::uint64_t a, std::uint64_t b) const { return std::min(a, b); }

  void compute(atl::PregelVertex<BfsLevels>& vertex,
               std::span<const std::uint64_t> messages) const {
    std::uint64_t& level = vertex.value();
    std::uint64_t best = vertex.superstep() == 0 && vertex.gid() == source ? 0 : kUnreached;
    if (vertex.superstep() == 0) level = kUnreached;
    for (std::uint64_t m : messages) best = std::min(best, m);
    if (best < level) {
      level = best;
      vertex.aggregate(reached, std::uint64_t{1});
      vertex.send_to_neighbors(level + 1);
    }
    vertex.vote_to_halt();
  }
};

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: pregel_bfs GRAPH SOURCE OUT\n");
    return 2;
  }
  try {
    atl::Session session;  // one rank, or this process's rank of the job it was started in
    atl::LocalGraph<std::uint64_t, atl::EmptyData> graph(session.load_graph(argv[1]));
    BfsLevels program{std::stoull(argv[2])};
    const atl::Lid source = graph.topology().lid(program.source);  // kInvalidLid: not here
    if (session.sum(source < graph.topology().num_owned() ? 1 : 0) != 1) {
      atl::fail("source ", program.source, " is not a vertex of ", argv[1]);
    }
    atl::EngineOptions options;
    options.threads = session.threads_per_rank();
    atl::PregelEngine<BfsLevels> engine(graph, program, options, session.cluster());
    program.reached = engine.add_aggregator("reached", std::uint64_t{0}, atl::AggregateOp::kSum,
                                            atl::Persistence::kPersistent);
    const atl::PregelStats stats = engine.run();
    const auto all = session.gather<std::uint64_t>(graph.topology(), graph.vertex_data());
    if (session.rank() != 0) return 0;
    std::FILE* out = std::fopen(argv[3], "w");
    if (out == nullptr) atl::fail("cannot write ", argv[3]);
    for (const auto& [gid, level] : all) {
      if (level == kUnreached)
        std::fprintf(out, "%llu\tinf\n", static_cast<unsigned long long>(gid));
      else
        std::fprintf(out, "%llu\t%llu\n", static_cast<unsigned long long>(gid),
                     static_cast<unsigned long long>(level));
    }
    if (std::fclose(out) != 0) atl::fail("cannot write ", argv[3]);
    std::printf("pregel_bfs: %llu of %zu vertices reached in %llu supersteps on %d rank(s)\n",
                static_cast<unsigned long long>(engine.aggregated(program.reached)), all.size(),
                static_cast<unsigned long long>(stats.supersteps), session.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pregel_bfs: %s\n", e.what());
    return 1;
  }
  return 0;
}
