// Personalised PageRank from one source vertex as a GraphLab update function: a vertex's rank is
// (1 - d) at the source plus d times the shares (rank / out-degree) of its in-neighbours; a
// vertex whose rank moved by more than the tolerance reschedules its out-neighbours, so the run
// ends at the fixpoint. Runs on one rank or several (atoll launch, mpirun, srun).
//   personalized_pagerank GRAPH SOURCE OUT [chromatic|locking]
#include <atoll/atoll.hpp>

#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

struct Rank {
  double rank;   ///< this vertex's personalised PageRank
  double share;  ///< rank / out-degree: what each out-neighbour reads
};

struct PersonalizedPageRank {
  using VertexData = Rank;
  using EdgeData = atl::EmptyData;
  static constexpr atl::Consistency kConsistency = atl::Consistency::kVertex;
  atl::Gid source;
  double damping = 0.85;
  double tolerance = 1e-13;

  void update(atl::Scope<PersonalizedPageRank>& scope, atl::Context& context) const {
    double sum = 0;
    for (auto edge : scope.in_edges()) sum += edge.neighbor_value().share;
    const double rank = (scope.gid() == source ? 1 - damping : 0) + damping * sum;
    Rank& self = scope.vertex();
    const double change = std::abs(rank - self.rank);
    const std::size_t out = scope.out_degree();
    self = {rank, out > 0 ? rank / static_cast<double>(out) : 0.0};
    if (change > tolerance) context.schedule_out_neighbors(scope);
  }
};

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: personalized_pagerank GRAPH SOURCE OUT [chromatic|locking]\n");
    return 2;
  }
  try {
    atl::Session session;  // one rank, or this process's rank of the job it was started in
    atl::LocalGraph<Rank, atl::EmptyData> graph(session.load_graph(argv[1]));
    const PersonalizedPageRank program{std::stoull(argv[2])};
    const atl::Lid source = graph.topology().lid(program.source);  // kInvalidLid: not here
    if (session.sum(source < graph.topology().num_owned() ? 1 : 0) != 1) {
      atl::fail("source ", program.source, " is not a vertex of ", argv[1]);
    }
    atl::EngineOptions options;
    options.engine = argc == 5 ? atl::parse_engine(argv[4]) : atl::EngineKind::kChromatic;
    options.threads = session.threads_per_rank();
    const atl::RunStats stats =
        atl::run_graphlab(graph, program, options, session.cluster(), [&](auto& engine) {
          engine.init_vertices([](atl::Lid, Rank& r) { r = {0.0, 0.0}; });
          engine.schedule_all();
          return engine.run();
        });
    const auto all = session.gather<Rank>(graph.topology(), graph.vertex_data());
    if (session.rank() != 0) return 0;
    std::FILE* out = std::fopen(argv[3], "w");
    if (out == nullptr) atl::fail("cannot write ", argv[3]);
    double total = 0;
    for (const auto& [gid, r] : all) {
      std::fprintf(out, "%llu\t%.17g\n", static_cast<unsigned long long>(gid), r.rank);
      total += r.rank;
    }
    if (std::fclose(out) != 0) atl::fail("cannot write ", argv[3]);
    std::printf("personalized_pagerank: %zu vertices, %llu updates on %d rank(s), rank sum %.6f\n",
                all.size(), static_cast<unsigned long long>(stats.updates), session.size(), total);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "personalized_pagerank: %s\n", e.what());
    return 1;
  }
  return 0;
}
