#include "atoll/engine/pregel_graph_output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <tuple>
#include <vector>

#include "atoll/common/error.hpp"

namespace atl {
namespace {

struct OutEdge {
  Gid src;
  Gid dst;
  double weight;
};

// A rank's share: u64 edges, u64 isolated vertices, u8 weighted, then the edges
// (u64 src, u64 dst, f64 weight) and the isolated vertices' gids.
constexpr std::size_t kHead = 17;
constexpr std::size_t kEdge = 24;

std::vector<std::byte> encode(const Topology& g) {
  std::vector<Gid> isolated;
  for (Lid v = 0; v < g.num_owned(); ++v) {
    if (g.out_degree(v) == 0 && g.in_degree(v) == 0) isolated.push_back(g.gid(v));
  }
  const std::uint64_t edges = g.owned_edges();
  const std::uint64_t lone = isolated.size();
  std::vector<std::byte> out(kHead + edges * kEdge + lone * sizeof(Gid));
  std::memcpy(out.data(), &edges, 8);
  std::memcpy(out.data() + 8, &lone, 8);
  out[16] = std::byte{g.weighted() ? std::uint8_t{1} : std::uint8_t{0}};
  std::byte* p = out.data() + kHead;
  for (Lid v = 0; v < g.num_owned(); ++v) {
    for (EdgeId e = g.out_begin(v); e < g.out_end(v); ++e) {
      const OutEdge r{g.gid(v), g.gid(g.out_targets()[e]), g.weighted() ? g.weights()[e] : 1.0};
      std::memcpy(p, &r.src, 8);
      std::memcpy(p + 8, &r.dst, 8);
      std::memcpy(p + 16, &r.weight, 8);
      p += kEdge;
    }
  }
  if (lone > 0) std::memcpy(p, isolated.data(), lone * sizeof(Gid));
  return out;
}

void decode(std::span<const std::byte> in, int source, std::vector<OutEdge>& edges,
            std::vector<Gid>& isolated, bool& weighted) {
  auto bad = [&] { fail("rank ", source, " sent a malformed part of the final graph"); };
  if (in.size() < kHead) bad();
  std::uint64_t n, lone;
  std::memcpy(&n, in.data(), 8);
  std::memcpy(&lone, in.data() + 8, 8);
  const std::size_t body = in.size() - kHead;
  if (n > body / kEdge || lone > (body - n * kEdge) / sizeof(Gid) ||
      body != n * kEdge + lone * sizeof(Gid)) {
    bad();
  }
  weighted = weighted || in[16] != std::byte{0};
  const std::byte* p = in.data() + kHead;
  for (std::uint64_t i = 0; i < n; ++i, p += kEdge) {
    OutEdge r;
    std::memcpy(&r.src, p, 8);
    std::memcpy(&r.dst, p + 8, 8);
    std::memcpy(&r.weight, p + 16, 8);
    edges.push_back(r);
  }
  for (std::uint64_t i = 0; i < lone; ++i, p += sizeof(Gid)) {
    Gid g;
    std::memcpy(&g, p, sizeof g);
    isolated.push_back(g);
  }
}

char* put_weight(char* p, double w) {
  constexpr double kExactLimit = 9007199254740992.0;  // 2^53
  if (std::fabs(w) < kExactLimit && w == std::trunc(w)) {
    return std::to_chars(p, p + 32, static_cast<std::int64_t>(w)).ptr;
  }
  return std::to_chars(p, p + 32, w).ptr;
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

void write_file(const std::string& path, std::vector<OutEdge>& edges, std::vector<Gid>& isolated,
                bool weighted, std::uint64_t vertices) {
  std::sort(edges.begin(), edges.end(), [](const OutEdge& a, const OutEdge& b) {
    return std::tie(a.src, a.dst, a.weight) < std::tie(b.src, b.dst, b.weight);
  });
  std::sort(isolated.begin(), isolated.end());
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(temp.c_str(), "w"));
  if (!f) fail(path, ": cannot write the final graph: ", std::strerror(errno));
  std::string out =
      str_cat("# Atoll Pregel final graph: ", vertices, " vertices, ", edges.size(), " edges\n");
  for (Gid g : isolated) out += str_cat("# vertex ", g, "\n");
  char line[96];
  auto flush = [&](bool last) {
    if ((last || out.size() > (1u << 20)) && !out.empty()) {
      if (std::fwrite(out.data(), 1, out.size(), f.get()) != out.size()) {
        const int err = errno;
        std::remove(temp.c_str());
        fail(path, ": cannot write the final graph: ", std::strerror(err));
      }
      out.clear();
    }
  };
  for (const OutEdge& e : edges) {
    char* p = std::to_chars(line, line + 20, e.src).ptr;
    *p++ = '\t';
    p = std::to_chars(p, p + 20, e.dst).ptr;
    if (weighted) {
      *p++ = '\t';
      p = put_weight(p, e.weight);
    }
    *p++ = '\n';
    out.append(line, p);
    flush(false);
  }
  flush(true);
  if (std::fflush(f.get()) != 0 || ::fsync(::fileno(f.get())) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    fail(path, ": cannot write the final graph: ", std::strerror(err));
  }
  f.reset();
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    fail(path, ": cannot write the final graph: ", std::strerror(err));
  }
}

}  // namespace

void write_pregel_graph(const Topology& graph, Cluster* cluster, const std::string& path) {
  std::vector<OutEdge> edges;
  std::vector<Gid> isolated;
  bool weighted = false;
  std::vector<std::byte> mine = encode(graph);
  std::uint64_t vertices = graph.num_owned();
  if (cluster == nullptr) {
    decode(mine, 0, edges, isolated, weighted);
    write_file(path, edges, isolated, weighted, vertices);
    return;
  }
  vertices = cluster->collectives.allreduce<std::uint64_t>(vertices, ReduceOp::kSum);
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(cluster->size()));
  if (cluster->rank() != 0) out[0] = std::move(mine);
  std::vector<std::vector<std::byte>> in = cluster->exchange.all_to_all(std::move(out));
  if (cluster->rank() != 0) return;
  decode(mine, 0, edges, isolated, weighted);
  for (int r = 1; r < cluster->size() && r < static_cast<int>(in.size()); ++r) {
    decode(in[static_cast<std::size_t>(r)], r, edges, isolated, weighted);
  }
  write_file(path, edges, isolated, weighted, vertices);
}

}  // namespace atl
