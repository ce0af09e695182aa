#include "atom_dir_info.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "atoll/common/timer.hpp"
#include "atoll/graph/placement.hpp"

namespace atl::cli {
namespace {

unsigned long long ull(std::uint64_t v) {
  return static_cast<unsigned long long>(v);
}

/// One rank of a placement: what it owns and the ghosts it needs.
struct RankLoad {
  std::uint64_t atoms = 0, vertices = 0, edges = 0, ghosts = 0;
};

struct PlacementInfo {
  std::vector<RankLoad> ranks;
  PlacementCost cost;
  double replication = 0;  ///< ghosts per owned vertex, over all ranks
};

/// Places the atoms as a load on `ranks` ranks would and counts each rank's ghosts: the
/// distinct vertices of its atoms' ghost lists that live on other ranks (reads every atom).
PlacementInfo place(const std::filesystem::path& dir, const AtomIndex& index, int ranks) {
  PlacementInfo info;
  std::vector<int> atom_rank = place_atoms(index.atoms, index.cuts, ranks);
  info.cost = placement_cost(index.atoms, index.cuts, atom_rank, ranks);
  info.ranks.resize(static_cast<std::size_t>(ranks));
  std::vector<std::vector<Gid>> off_rank(index.atoms.size());
  tbb::parallel_for(std::uint32_t{0}, static_cast<std::uint32_t>(index.atoms.size()),
                    [&](std::uint32_t id) {
                      Atom atom = read_atom(dir, index, id);
                      for (std::size_t i = 0; i < atom.ghosts.size(); ++i) {
                        if (atom_rank[atom.ghost_atoms[i]] != atom_rank[id]) {
                          off_rank[id].push_back(atom.ghosts[i]);
                        }
                      }
                    });
  std::vector<std::vector<Gid>> ghosts(static_cast<std::size_t>(ranks));
  for (std::size_t a = 0; a < index.atoms.size(); ++a) {
    RankLoad& r = info.ranks[static_cast<std::size_t>(atom_rank[a])];
    ++r.atoms;
    r.vertices += index.atoms[a].vertices;
    r.edges += index.atoms[a].edges;
    auto& g = ghosts[static_cast<std::size_t>(atom_rank[a])];
    g.insert(g.end(), off_rank[a].begin(), off_rank[a].end());
  }
  std::uint64_t total_ghosts = 0;
  for (int r = 0; r < ranks; ++r) {
    auto& g = ghosts[static_cast<std::size_t>(r)];
    std::sort(g.begin(), g.end());
    info.ranks[static_cast<std::size_t>(r)].ghosts =
        static_cast<std::uint64_t>(std::unique(g.begin(), g.end()) - g.begin());
    total_ghosts += info.ranks[static_cast<std::size_t>(r)].ghosts;
  }
  info.replication = index.num_vertices > 0 ? static_cast<double>(total_ghosts) /
                                                  static_cast<double>(index.num_vertices)
                                            : 0;
  return info;
}

}  // namespace

AtomSummary summarize(const AtomIndex& index) {
  AtomSummary s;
  const std::size_t k = index.atoms.size();
  if (k == 0) return s;
  s.min_edges = s.min_vertices = ~std::uint64_t{0};
  for (const AtomEntry& e : index.atoms) {
    s.cut_edges += e.in_cut_edges;
    s.min_edges = std::min(s.min_edges, e.edges);
    s.max_edges = std::max(s.max_edges, e.edges);
    s.min_vertices = std::min(s.min_vertices, e.vertices);
    s.max_vertices = std::max(s.max_vertices, e.vertices);
    s.ghosts += e.ghosts;
    s.empty_atoms += e.vertices == 0;
    s.bytes += e.bytes;
  }
  s.mean_edges = static_cast<double>(index.num_edges) / static_cast<double>(k);
  s.mean_vertices = static_cast<double>(index.num_vertices) / static_cast<double>(k);
  s.imbalance = s.mean_edges > 0 ? static_cast<double>(s.max_edges) / s.mean_edges : 0;
  s.cut_fraction = index.num_edges > 0
                       ? static_cast<double>(s.cut_edges) / static_cast<double>(index.num_edges)
                       : 0;
  return s;
}

void add_summary_fields(JsonWriter& json, const AtomSummary& s) {
  auto spread = [&](const char* key, std::uint64_t min, std::uint64_t max, double mean) {
    json.key(key).begin_object().field("min", min).field("max", max).field("mean", mean);
    json.end_object();
  };
  json.field("cut_edges", s.cut_edges).field("cut_fraction", s.cut_fraction);
  spread("atom_edges", s.min_edges, s.max_edges, s.mean_edges);
  json.field("imbalance", s.imbalance);
  spread("atom_vertices", s.min_vertices, s.max_vertices, s.mean_vertices);
  json.field("ghosts", s.ghosts).field("empty_atoms", s.empty_atoms).field("atom_bytes", s.bytes);
}

void print_summary_lines(const AtomSummary& s) {
  std::printf("cut edges       %llu (%.2f%% of edges)\n", ull(s.cut_edges), 100 * s.cut_fraction);
  std::printf("atom edges      min %llu  max %llu  mean %.1f  (imbalance %.3f)\n", ull(s.min_edges),
              ull(s.max_edges), s.mean_edges, s.imbalance);
  std::printf("atom vertices   min %llu  max %llu  mean %.1f%s\n", ull(s.min_vertices),
              ull(s.max_vertices), s.mean_vertices,
              s.empty_atoms > 0 ? (" (" + std::to_string(s.empty_atoms) + " empty)").c_str() : "");
  std::printf("ghosts          %llu in all atoms\n", ull(s.ghosts));
  std::printf("atom files      %.1f MiB\n", static_cast<double>(s.bytes) / (1 << 20));
}

void print_atom_dir_info(const std::filesystem::path& dir, const AtomDirInfoOptions& options) {
  Timer timer;
  const AtomIndex index = read_atom_index(dir);
  if (options.verify) {
    tbb::parallel_for(std::uint32_t{0}, static_cast<std::uint32_t>(index.atoms.size()),
                      [&](std::uint32_t id) { (void)read_atom(dir, index, id); });
  }
  const double seconds = timer.seconds();
  const AtomSummary s = summarize(index);
  const std::string method(atom_method_name(index.method));
  char id[32];
  std::snprintf(id, sizeof id, "%016llx", ull(index.graph_id));
  if (options.json) {
    JsonWriter j;
    j.begin_object()
        .field("atom_directory", dir.string())
        .field("atoms", static_cast<std::uint64_t>(index.atoms.size()))
        .field("method", method)
        .field("seed", index.seed)
        .field("graph_id", std::string(id))
        .field("vertices", index.num_vertices)
        .field("edges", index.num_edges)
        .field("weighted", index.weighted);
    add_summary_fields(j, s);
    if (options.ranks > 0) {
      PlacementInfo p = place(dir, index, options.ranks);
      j.key("placement")
          .begin_object()
          .field("ranks", static_cast<std::uint64_t>(options.ranks))
          .field("cut_edges", p.cost.cut_edges)
          .field("imbalance", p.cost.imbalance)
          .field("replication_factor", p.replication)
          .key("per_rank")
          .begin_array();
      for (const RankLoad& r : p.ranks) {
        j.begin_object()
            .field("atoms", r.atoms)
            .field("owned_vertices", r.vertices)
            .field("edges", r.edges)
            .field("ghosts", r.ghosts)
            .end_object();
      }
      j.end_array().end_object();
    }
    j.field("verified", options.verify).field("seconds", seconds).end_object();
    std::cout << j.str() << '\n';
    return;
  }
  std::printf("atom directory  %s\n", dir.string().c_str());
  std::printf("atoms           %zu (%s, seed %llu)\n", index.atoms.size(), method.c_str(),
              ull(index.seed));
  std::printf("graph id        %s\n", id);
  std::printf("vertices        %llu\n", ull(index.num_vertices));
  std::printf("edges           %llu%s\n", ull(index.num_edges),
              index.weighted ? " (weighted)" : "");
  print_summary_lines(s);
  if (options.ranks > 0) {
    PlacementInfo p = place(dir, index, options.ranks);
    std::printf(
        "placement       %d ranks: cut edges %llu (%.2f%%), imbalance %.3f, "
        "replication factor %.3f ghosts per vertex\n",
        options.ranks, ull(p.cost.cut_edges),
        index.num_edges > 0
            ? 100.0 * static_cast<double>(p.cost.cut_edges) / static_cast<double>(index.num_edges)
            : 0.0,
        p.cost.imbalance, p.replication);
    std::printf("  rank   atoms   owned vertices        edges       ghosts\n");
    for (std::size_t r = 0; r < p.ranks.size(); ++r) {
      const RankLoad& l = p.ranks[r];
      std::printf("  %4zu  %6llu  %15llu  %11llu  %11llu\n", r, ull(l.atoms), ull(l.vertices),
                  ull(l.edges), ull(l.ghosts));
    }
  }
  if (options.verify) {
    std::printf("verified        all %zu atom files (%.3f s)\n", index.atoms.size(), seconds);
  }
}

}  // namespace atl::cli
