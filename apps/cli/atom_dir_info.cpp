#include "atom_dir_info.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "atoll/common/timer.hpp"

namespace atl::cli {
namespace {

unsigned long long ull(std::uint64_t v) {
  return static_cast<unsigned long long>(v);
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
  if (options.verify) {
    std::printf("verified        all %zu atom files (%.3f s)\n", index.atoms.size(), seconds);
  }
}

}  // namespace atl::cli
