// Loading a graph on several ranks (real processes over UCX and TCP), checked against the
// input read serially. Run plainly, this is a GoogleTest suite that starts itself as N ranks
// through `atoll launch`; run as a rank (--dump given) it loads its part and writes it out.
#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/atoms.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/graph_part_load.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atoll/graph/write_graph.hpp"
#include "atoll/transport/collectives.hpp"
#include "atoll/transport/exchange.hpp"
#include "atoll/transport/transport.hpp"
#include "process_util.hpp"

namespace {

using namespace atl;
using test::Result;
using test::run;
using test::self_path;
using test::TempDir;

// ---- one rank --------------------------------------------------------------------------------

/// Writes this rank's part: "o gid" owned in lid order, "g lid gid owner" ghosts,
/// "e src dst weight" out-edges of owned vertices, "i dst src" in-edges of owned vertices,
/// "r gid rank lid" replicas.
void dump(const Topology& g, const std::string& path) {
  std::ofstream out(path);
  out.precision(17);
  for (Lid v = 0; v < g.num_owned(); ++v) out << "o " << g.gid(v) << "\n";
  for (const GhostRange& range : g.ghost_ranges()) {
    for (Lid v = range.begin; v < range.end; ++v) {
      out << "g " << v << " " << g.gid(v) << " " << range.owner_rank << "\n";
    }
  }
  for (Lid v = 0; v < g.num_owned(); ++v) {
    for (EdgeId e = g.out_begin(v); e < g.out_end(v); ++e) {
      out << "e " << g.gid(v) << " " << g.gid(g.out_targets()[e]) << " "
          << (g.weighted() ? g.weights()[e] : 0.0) << "\n";
    }
    for (Lid u : g.in_neighbors(v)) out << "i " << g.gid(v) << " " << g.gid(u) << "\n";
    for (const Replica& r : g.replicas(v)) {
      out << "r " << g.gid(v) << " " << r.rank << " " << r.lid << "\n";
    }
  }
  if (!out) fail("cannot write ", path);
}

/// Writes every array of this rank's part as it is (lids, offsets, targets, weights, in-CSR,
/// ghost ranges, replicas) and whether it was routed in two passes.
void dump_raw(const GraphPartLoad& load, const std::string& path) {
  const Topology& g = load.topology;
  std::ofstream out(path);
  auto line = [&out](const char* name, auto values) {
    out << name;
    for (auto v : values) out << " " << v;
    out << "\n";
  };
  out << "two_pass " << load.two_pass << "\nowned " << g.num_owned() << "\nsymmetric "
      << g.symmetric() << "\n";
  std::vector<Gid> gids;
  for (Lid v = 0; v < g.num_vertices(); ++v) gids.push_back(g.gid(v));
  line("gids", gids);
  line("out_offsets", g.out_offsets());
  line("out_targets", g.out_targets());
  if (g.weighted()) line("weights", g.weights());
  line("in_offsets", g.in_offsets());
  line("in_sources", g.in_sources());
  for (const GhostRange& r : g.ghost_ranges()) {
    out << "ghosts " << r.owner_rank << " " << r.begin << " " << r.end << "\n";
  }
  for (Lid v = 0; v < g.num_owned(); ++v) {
    for (const Replica& r : g.replicas(v))
      out << "r " << v << " " << r.rank << " " << r.lid << "\n";
  }
  if (!out) fail("cannot write ", path);
}

struct RankOptions {
  bool symmetrize = false;
  bool dedup = false;
  bool one_pass = false;
  bool raw = false;
  std::string tamper;  ///< rank 1's counts to rank 0: "fewer" / "more" arcs, "short", "huge"
  std::uint64_t route_edges = 0;
  int threads = 0;  ///< when set, TBB's parallelism (1: the loader's serial paths)
};

int run_rank(const std::string& graph, const std::string& dump_dir, TransportKind kind,
             const RankOptions& o) {
  std::optional<tbb::global_control> limit;
  if (o.threads > 0) {
    limit.emplace(tbb::global_control::max_allowed_parallelism,
                  static_cast<std::size_t>(o.threads));
  }
  JobInfo job = detect_job({});
  TransportOptions options;
  options.kind = kind;
  Transport t(job, options);
  Collectives coll(t);
  Exchange exchange(t);
  t.start();
  PartLoadOptions load;
  load.build.symmetrize = o.symmetrize;
  load.build.dedup = o.dedup;
  load.atoms = 16;
  load.two_pass = !o.one_pass;
  if (o.route_edges > 0) load.route_edges = o.route_edges;
  if (!o.tamper.empty() && t.rank() == 1) {
    load.tamper_counts = [&o](int peer, std::vector<std::byte>& counts) {
      if (peer != 0) return;
      if (o.tamper == "short") {
        counts.resize(counts.size() - 4);
        return;
      }
      if (o.tamper == "huge") {  // about 2^32 arcs a vertex: must not be allocated
        std::fill(counts.begin(), counts.end(), std::byte{0xff});
        return;
      }
      for (std::size_t at = 0; at + 4 <= counts.size(); at += 4) {  // the first vertex with arcs
        std::uint32_t n;
        std::memcpy(&n, counts.data() + at, 4);
        if (n == 0) continue;
        n = o.tamper == "more" ? n - 1 : n + 1;  // "more": rank 1 then sends more than it announced
        std::memcpy(counts.data() + at, &n, 4);
        return;
      }
    };
  }
  GraphPartLoad part = load_graph_part(graph, t, coll, exchange, load);
  const std::string path = dump_dir + "/rank-" + std::to_string(t.rank());
  if (o.raw) {
    dump_raw(part, path);
  } else {
    dump(part.topology, path);
  }
  t.stop();
  return 0;
}

// ---- the checks ------------------------------------------------------------------------------

struct RankPart {
  std::vector<Gid> owned;
  struct Ghost {
    Lid lid;
    Gid gid;
    int owner;
  };
  std::vector<Ghost> ghosts;
  std::multiset<std::tuple<Gid, Gid, double>> out_edges;
  std::map<Gid, std::multiset<Gid>> in_edges;
  std::map<Gid, std::set<std::pair<int, Lid>>> replicas;
};

RankPart read_part(const std::string& path) {
  std::ifstream in(path);
  RankPart p;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    char kind;
    s >> kind;
    if (kind == 'o') {
      Gid g;
      s >> g;
      p.owned.push_back(g);
    } else if (kind == 'g') {
      RankPart::Ghost gh{};
      s >> gh.lid >> gh.gid >> gh.owner;
      p.ghosts.push_back(gh);
    } else if (kind == 'e') {
      Gid a, b;
      double w;
      s >> a >> b >> w;
      p.out_edges.insert({a, b, w});
    } else if (kind == 'i') {
      Gid v, u;
      s >> v >> u;
      p.in_edges[v].insert(u);
    } else if (kind == 'r') {
      Gid v;
      int r;
      Lid lid;
      s >> v >> r >> lid;
      p.replicas[v].insert({r, lid});
    }
  }
  return p;
}

/// Loads `graph` on `ranks` ranks and checks the parts against `input` (the same graph read
/// serially, with symmetrize applied when asked).
void check_load(const std::string& graph, EdgeList input, int ranks, const std::string& transport,
                bool symmetrize = false, const std::string& extra = "") {
  SCOPED_TRACE(graph + " on " + std::to_string(ranks) + " ranks over " + transport);
  if (symmetrize) {
    const std::size_t m = input.size();
    for (std::size_t i = 0; i < m; ++i) {
      if (input.edges[i].src == input.edges[i].dst) continue;
      input.edges.push_back({input.edges[i].dst, input.edges[i].src});
      if (input.weighted) input.weights.push_back(input.weights[i]);
    }
  }
  TempDir out;
  Result r = run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " +
                 self_path() + " --graph " + graph + " --dump " + out.file("") + " --transport " +
                 transport + (symmetrize ? " --symmetrize" : "") + extra);
  ASSERT_EQ(r.code, 0) << r.output;

  std::vector<RankPart> parts;
  for (int k = 0; k < ranks; ++k) parts.push_back(read_part(out.file("rank-" + std::to_string(k))));
  std::map<Gid, int> owner;
  for (int k = 0; k < ranks; ++k) {
    EXPECT_TRUE(std::is_sorted(parts[k].owned.begin(), parts[k].owned.end()));
    for (Gid g : parts[k].owned) {
      EXPECT_TRUE(owner.emplace(g, k).second) << "vertex " << g << " owned twice";
    }
  }
  // Every input vertex is owned exactly once; the owned out-edges are the input, with data.
  std::set<Gid> vertices;
  std::multiset<std::tuple<Gid, Gid, double>> expected, got;
  std::map<Gid, std::multiset<Gid>> expected_in;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const Edge& e = input.edges[i];
    vertices.insert({e.src, e.dst});
    expected.insert({e.src, e.dst, input.weighted ? input.weights[i] : 0.0});
    expected_in[e.dst].insert(e.src);
  }
  if (input.declared) {
    for (Gid g = input.declared->first; g < input.declared->first + input.declared->count; ++g) {
      vertices.insert(g);
    }
  }
  ASSERT_EQ(owner.size(), vertices.size());
  for (Gid g : vertices) EXPECT_TRUE(owner.count(g)) << "vertex " << g << " not owned";
  for (const RankPart& p : parts) got.insert(p.out_edges.begin(), p.out_edges.end());
  EXPECT_TRUE(got == expected) << "owned out-edges differ from the input";

  // Per rank: in-edges complete; ghosts exactly the off-rank endpoints, grouped by owner.
  std::map<std::pair<int, Gid>, Lid> ghost_lid;  // (rank, gid) -> lid there
  for (int k = 0; k < ranks; ++k) {
    const RankPart& p = parts[k];
    std::set<Gid> off_rank;
    for (const auto& [a, b, w] : p.out_edges) {
      if (owner[b] != k) off_rank.insert(b);
    }
    for (Gid v : p.owned) {
      auto it = p.in_edges.find(v);
      std::multiset<Gid> in = it == p.in_edges.end() ? std::multiset<Gid>{} : it->second;
      EXPECT_TRUE(in == expected_in[v]) << "in-edges of " << v << " on rank " << k;
      for (Gid u : in) {
        if (owner[u] != k) off_rank.insert(u);
      }
    }
    std::set<Gid> ghosts;
    Lid next = static_cast<Lid>(p.owned.size());
    for (std::size_t i = 0; i < p.ghosts.size(); ++i) {
      const auto& gh = p.ghosts[i];
      EXPECT_EQ(gh.lid, next++);
      EXPECT_EQ(gh.owner, owner[gh.gid]) << "ghost " << gh.gid << " on rank " << k;
      if (i > 0) {
        const auto& prev = p.ghosts[i - 1];
        EXPECT_TRUE(prev.owner < gh.owner || (prev.owner == gh.owner && prev.gid < gh.gid));
      }
      ghosts.insert(gh.gid);
      ghost_lid[{k, gh.gid}] = gh.lid;
    }
    EXPECT_TRUE(ghosts == off_rank) << "ghosts of rank " << k;
  }
  // Replica lists: exactly where the ghosts are.
  std::map<Gid, std::set<std::pair<int, Lid>>> expected_replicas;
  for (const auto& [key, lid] : ghost_lid) expected_replicas[key.second].insert({key.first, lid});
  std::map<Gid, std::set<std::pair<int, Lid>>> got_replicas;
  for (const RankPart& p : parts) got_replicas.insert(p.replicas.begin(), p.replicas.end());
  EXPECT_TRUE(got_replicas == expected_replicas) << "replica lists";
}

class GraphLoad : public testing::TestWithParam<std::string> {};

TEST_P(GraphLoad, PlainFilesOnOneToFourRanks) {
  TempDir dir;
  // Weighted SNAP text with self-loops and repeats; a .gr with isolated vertices; binary.
  EdgeList uniform = generate_uniform(
      {.vertices = 700, .edges = 5000, .seed = 11, .weights = WeightRange{1, 100}});
  std::string snap = dir.file("uniform.txt");
  write_edge_list(uniform, snap);
  EdgeList road = generate_grid({.rows = 20, .cols = 30, .seed = 2, .weights = WeightRange{1, 9}});
  for (Edge& e : road.edges) {
    e.src += 1;
    e.dst += 1;
  }
  road.declared = VertexRange{1, 20 * 30 + 17};  // 17 isolated vertices at the end
  std::string gr = dir.file("road.gr");
  write_edge_list(road, gr);
  EdgeList kron = generate_kronecker({.scale = 10, .edge_factor = 8, .seed = 4, .weights = {}});
  std::string bin = dir.file("kron.bin");
  write_edge_list(kron, bin);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    check_load(snap, read_edge_list(snap), ranks, GetParam());
    check_load(gr, read_edge_list(gr), ranks, GetParam());
    check_load(bin, read_edge_list(bin), ranks, GetParam());
  }
  check_load(snap, read_edge_list(snap), 3, GetParam(), /*symmetrize=*/true);
}

/// Every rank's dump of `graph` loaded on `ranks` ranks, concatenated in rank order.
std::string dumps(const std::string& graph, int ranks, const std::string& transport,
                  const std::string& extra) {
  TempDir out;
  Result r =
      run(std::string(ATOLL_BINARY) + " launch -n " + std::to_string(ranks) + " -- " + self_path() +
          " --graph " + graph + " --dump " + out.file("") + " --transport " + transport + extra);
  EXPECT_EQ(r.code, 0) << r.output;
  std::string all;
  for (int k = 0; k < ranks; ++k) {
    std::ifstream in(out.file("rank-" + std::to_string(k)));
    all += std::string(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

TEST_P(GraphLoad, BinaryFilesRoutedInRoundsGiveTheSameParts) {
  // Weighted, with repeats (whose weights tell their order apart) and isolated vertices.
  TempDir dir;
  EdgeList g = generate_uniform(
      {.vertices = 300, .edges = 6000, .seed = 5, .weights = WeightRange{1, 1000}});
  const std::size_t m = g.size();
  for (std::size_t i = 0; i < m; i += 7) {
    g.edges.push_back(g.edges[i]);
    g.weights.push_back(g.weights[i] + 0.5);
  }
  g.declared = VertexRange{0, 310};
  // Ids spread over more than 2^32 too (each part keeps whole ids, not 32-bit offsets).
  EdgeList wide = g;
  wide.declared.reset();
  for (Edge& e : wide.edges) {
    e.src = e.src << 33;
    e.dst = e.dst << 33;
  }
  for (const auto& [name, input] : {std::pair{"uniform.bin", g}, std::pair{"wide.bin", wide}}) {
    std::string bin = dir.file(name);
    write_edge_list(input, bin);
    for (int ranks : {2, 3}) {
      check_load(bin, input, ranks, GetParam(), false, " --route-edges 100");
      const std::string whole = dumps(bin, ranks, GetParam(), "");
      EXPECT_FALSE(whole.empty());
      EXPECT_TRUE(whole == dumps(bin, ranks, GetParam(), " --route-edges 100"));
      EXPECT_TRUE(whole == dumps(bin, ranks, GetParam(), " --route-edges 777"));
    }
  }
}

TEST_P(GraphLoad, AtomDirectoriesOnOneToFourRanks) {
  TempDir dir;
  EdgeList uniform =
      generate_uniform({.vertices = 600, .edges = 4000, .seed = 21, .weights = WeightRange{1, 30}});
  EdgeList grid = generate_grid({.rows = 24, .cols = 24, .seed = 3, .weights = {}});
  grid.declared = VertexRange{0, 24 * 24 + 9};  // isolated vertices too
  PartitionOptions hash;
  hash.atoms = 37;
  PartitionOptions metis;
  metis.atoms = 16;
  metis.method = AtomMethod::kMetis;
  write_atoms(uniform, dir.file("uniform-hash"), hash);
  write_atoms(grid, dir.file("grid-metis"), metis);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    check_load(dir.file("uniform-hash"), uniform, ranks, GetParam());
    check_load(dir.file("grid-metis"), grid, ranks, GetParam());
  }
  check_load(dir.file("grid-metis"), grid, 2, GetParam(), /*symmetrize=*/true);
}

TEST_P(GraphLoad, RealGraphsFromFilesAndAtoms) {
  TempDir dir;
  int found = 0;
  for (const char* name : {"rome99.gr.zst", "email-Eu-core.txt.zst"}) {
    std::string path = std::string(ATOLL_SHARED_DATA) + "/" + name;
    if (!std::filesystem::is_regular_file(path)) continue;
    ++found;
    EdgeList input = read_edge_list(path);
    PartitionOptions metis;
    metis.method = AtomMethod::kMetis;
    std::string atoms = dir.file(std::string(name) + ".atoms");
    write_atoms(input, atoms, metis);
    for (int ranks : {2, 3}) {
      check_load(path, input, ranks, GetParam());
      check_load(atoms, input, ranks, GetParam());
    }
  }
  if (found == 0) GTEST_SKIP() << "no real graphs in " << ATOLL_SHARED_DATA;
}

TEST_P(GraphLoad, PlacementIsDeterministic) {
  TempDir dir;
  EdgeList g = generate_kronecker({.scale = 9, .edge_factor = 8, .seed = 8, .weights = {}});
  write_atoms(g, dir.file("atoms"), PartitionOptions{});
  std::string first, second;
  for (std::string* out : {&first, &second}) {
    TempDir dumps;
    Result r = run(std::string(ATOLL_BINARY) + " launch -n 3 -- " + self_path() + " --graph " +
                   dir.file("atoms") + " --dump " + dumps.file("") + " --transport " + GetParam());
    ASSERT_EQ(r.code, 0) << r.output;
    for (int k = 0; k < 3; ++k) {
      std::ifstream in(dumps.file("rank-" + std::to_string(k)));
      *out += std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  EXPECT_FALSE(first.empty());
  EXPECT_TRUE(first == second);
}

TEST_P(GraphLoad, ACorruptAtomStopsEveryRankNamingIt) {
  TempDir dir;
  EdgeList g = generate_uniform({.vertices = 400, .edges = 3000, .seed = 2, .weights = {}});
  AtomIndex index = write_atoms(g, dir.file("atoms"), PartitionOptions{.atoms = 8});
  // Flip one byte in the middle of atom 5's file.
  std::string victim = dir.file("atoms") + "/" + index.atoms[5].file;
  std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(index.atoms[5].bytes / 2));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(index.atoms[5].bytes / 2));
  f.put(static_cast<char>(c ^ 0x20));
  f.close();
  Result r = run(std::string(ATOLL_BINARY) + " launch -n 3 -- " + self_path() + " --graph " +
                 dir.file("atoms") + " --dump " + dir.file("") + " --transport " + GetParam());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find(index.atoms[5].file), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("dead"), std::string::npos) << r.output;
  // A missing atom file is named too.
  std::filesystem::remove(victim);
  r = run(std::string(ATOLL_BINARY) + " launch -n 2 -- " + self_path() + " --graph " +
          dir.file("atoms") + " --dump " + dir.file("") + " --transport " + GetParam());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find(index.atoms[5].file), std::string::npos) << r.output;
}

TEST_P(GraphLoad, ABadFileStopsEveryRankWithItsLine) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + " " + std::to_string(i + 3) + "\n";
  text += "5 oops\n";
  std::ofstream(dir.file("bad.txt")) << text;
  Result r = run(std::string(ATOLL_BINARY) + " launch -n 3 -- " + self_path() + " --graph " +
                 dir.file("bad.txt") + " --dump " + dir.file("") + " --transport " + GetParam());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("bad.txt:20001: expected a destination vertex id"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("dead"), std::string::npos) << r.output;
}

TEST_P(GraphLoad, ACorruptBinaryPayloadStopsEveryRank) {
  // Each rank sums the checksum of its part of the payload; the parts, chained, must give the
  // file's. A flipped byte in any rank's part (here the first, the middle and the last edge)
  // stops them all. With a declared range, flipped high bytes put an id far outside it: the
  // checksum still speaks first (the range is checked only on a sound payload).
  TempDir dir;
  for (const bool declared : {false, true}) {
    EdgeList g = generate_uniform({.vertices = 500, .edges = 6000, .seed = 5, .weights = {}});
    if (!declared) g.declared.reset();
    ASSERT_EQ(g.declared.has_value(), declared);
    const std::string bin = dir.file("g.bin");
    write_edge_list(g, bin);
    const std::uintmax_t size = std::filesystem::file_size(bin);
    const std::vector<std::uintmax_t> offsets =
        declared ? std::vector<std::uintmax_t>{48 + 7, size - 9}  // high bytes of ids
                 : std::vector<std::uintmax_t>{48, size / 2, size - 9};
    for (const std::uintmax_t at : offsets) {
      SCOPED_TRACE(std::to_string(at) + (declared ? " declared" : ""));
      const std::string bad = dir.file("bad.bin");
      std::filesystem::copy_file(bin, bad, std::filesystem::copy_options::overwrite_existing);
      {
        std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(at));
        const char c = static_cast<char>(f.get() ^ 0x20);
        f.seekp(static_cast<std::streamoff>(at));
        f.put(c);
      }
      Result r = run(std::string(ATOLL_BINARY) + " launch -n 3 -- " + self_path() + " --graph " +
                     bad + " --dump " + dir.file("") + " --transport " + GetParam());
      EXPECT_NE(r.code, 0);
      EXPECT_NE(r.output.find("payload checksum mismatch"), std::string::npos) << r.output;
      EXPECT_EQ(r.output.find("dead"), std::string::npos) << r.output;
    }
  }
}

/// 400 vertices, 5000 uniform edges, every fifth repeated, a self-loop on every third vertex,
/// and a declared range (0..429) with isolated vertices past the edges' ids.
EdgeList uniform_with_repeats() {
  EdgeList g = generate_uniform({.vertices = 400, .edges = 5000, .seed = 9, .weights = {}});
  const std::size_t m = g.size();
  for (std::size_t i = 0; i < m; i += 5) g.edges.push_back(g.edges[i]);
  for (Gid v = 0; v < 400; v += 3) g.edges.push_back({v, v});
  g.declared = VertexRange{0, 430};
  return g;
}

/// The raw dumps of a load with and without two passes hold the same arrays.
void expect_same_arrays(const std::string& two, const std::string& one, bool two_pass) {
  EXPECT_EQ(two.find("two_pass 1") != std::string::npos, two_pass) << two.substr(0, 40);
  EXPECT_EQ(one.find("two_pass 1"), std::string::npos);
  std::string same = two;
  for (std::size_t at = 0; (at = same.find("two_pass 1", at)) != std::string::npos;) {
    same[at + 9] = '0';
  }
  EXPECT_TRUE(same == one) << "the two-pass part differs from the one-pass part";
}

TEST_P(GraphLoad, TwoPassRouteGivesTheSameArraysAsOnePass) {
  // Unweighted, with repeats and self-loops; a declared range with isolated vertices past the
  // edges' ids; SNAP text; and ids spread over more than 2^32 or too thinly for count arrays
  // (ranks^2 x span > 2 x edges + 2^20), which fall back to one pass.
  TempDir dir;
  EdgeList g = uniform_with_repeats();
  EdgeList undeclared = g;
  undeclared.declared.reset();
  for (Edge& e : undeclared.edges) {  // ids from 1000 on, some vertices absent
    e.src = 1000 + 2 * e.src;
    e.dst = 1000 + 2 * e.dst;
  }
  EdgeList wide = undeclared;
  for (Edge& e : wide.edges) {
    e.src = e.src << 33;
    e.dst = e.dst << 33;
  }
  EdgeList sparse = undeclared;  // a span under 2^32 but too wide for count arrays per rank
  for (Edge& e : sparse.edges) {
    e.src *= 4096;
    e.dst *= 4096;
  }
  EdgeList sorted = undeclared;  // rows arrive in gid order: lid order is (owner, gid)
  std::sort(sorted.edges.begin(), sorted.edges.end(), [](const Edge& a, const Edge& b) {
    return std::tie(a.src, a.dst) < std::tie(b.src, b.dst);
  });
  const std::pair<const char*, const EdgeList*> inputs[] = {
      {"declared.bin", &g},
      {"sorted.bin", &sorted},
      {"undeclared.bin", &undeclared},
      {"undeclared.txt", &undeclared},  // parsed text takes the same route
      {"wide.bin", &wide},
      {"sparse.bin", &sparse}};
  for (const auto& [name, input] : inputs) {
    const std::string bin = dir.file(name);
    write_edge_list(*input, bin);
    const bool falls_back = std::string(name) == "wide.bin" || std::string(name) == "sparse.bin";
    for (int ranks : {2, 3}) {
      for (const char* options : {"", " --symmetrize", " --dedup", " --symmetrize --dedup",
                                  " --threads 1", " --symmetrize --dedup --threads 1"}) {
        SCOPED_TRACE(std::string(name) + " on " + std::to_string(ranks) + " ranks," + options);
        const std::string extra = std::string(" --raw --route-edges 1000") + options;
        const std::string two = dumps(bin, ranks, GetParam(), extra);
        const std::string one = dumps(bin, ranks, GetParam(), extra + " --one-pass");
        expect_same_arrays(two, one, !falls_back);
      }
    }
    check_load(bin, *input, 3, GetParam(), /*symmetrize=*/true, " --route-edges 1000");
  }
  // Weighted, with repeats told apart by their weights (dedup keeps the first in file order,
  // whichever rank's share it is in, and a forward arc before a symmetrized reverse one).
  EdgeList weighted = generate_uniform(
      {.vertices = 300, .edges = 6000, .seed = 5, .weights = WeightRange{1, 1000}});
  for (std::size_t i = 0, m = weighted.size(); i < m; i += 7) {
    weighted.edges.push_back(weighted.edges[i]);
    weighted.weights.push_back(weighted.weights[i] + 0.5);
  }
  EdgeList weighted_text = weighted;  // SNAP text declares no range
  weighted.declared = VertexRange{0, 310};
  for (const auto& [name, input] :
       {std::pair{"weighted.bin", &weighted}, std::pair{"weighted.txt", &weighted_text}}) {
    const std::string file = dir.file(name);
    write_edge_list(*input, file);
    for (int ranks : {2, 3}) {
      if (ranks == 2 && std::string(name) == "weighted.txt") continue;  // parsed, then as a .bin
      for (const char* options :
           {"", " --dedup", " --threads 1", " --dedup --threads 1", " --symmetrize",
            " --symmetrize --dedup", " --symmetrize --dedup --threads 1"}) {
        SCOPED_TRACE(std::string(name) + " on " + std::to_string(ranks) + " ranks," + options);
        const std::string extra = std::string(" --raw --route-edges 1000") + options;
        expect_same_arrays(dumps(file, ranks, GetParam(), extra),
                           dumps(file, ranks, GetParam(), extra + " --one-pass"), true);
      }
    }
    check_load(file, *input, 3, GetParam(), false, " --route-edges 1000");
    check_load(file, *input, 2, GetParam(), true, " --route-edges 1000");
  }
}

TEST_P(GraphLoad, AtomDirectoriesReadInTwoPassesGiveTheSameArraysAsOnePass) {
  // Atoms are decoded twice straight into rows (atom_part.hpp): the arrays must be
  // build_part's exactly. Sorted rows (a symmetrized Kronecker graph), repeats and self-loops
  // with a declared range of isolated vertices, METIS atoms, sparse ids, and weighted repeats
  // (the first one's weight stays); weighted atoms symmetrized keep the one-pass route.
  TempDir dir;
  EdgeList kron = generate_kronecker({.scale = 9, .edge_factor = 8, .seed = 4, .weights = {}});
  for (std::size_t i = 0, n = kron.size(); i < n; ++i) {  // symmetrized, deduplicated, sorted
    kron.edges.push_back({kron.edges[i].dst, kron.edges[i].src});
  }
  auto by_ends = [](const Edge& a, const Edge& b) {
    return std::tie(a.src, a.dst) < std::tie(b.src, b.dst);
  };
  std::sort(kron.edges.begin(), kron.edges.end(), by_ends);
  kron.edges.erase(
      std::unique(kron.edges.begin(), kron.edges.end(),
                  [](const Edge& a, const Edge& b) { return a.src == b.src && a.dst == b.dst; }),
      kron.edges.end());
  EdgeList repeats = uniform_with_repeats();
  EdgeList sparse = repeats;
  sparse.declared.reset();
  for (Edge& e : sparse.edges) {
    e.src = 1000 + 4096 * e.src;
    e.dst = 1000 + 4096 * e.dst;
  }
  EdgeList grid = generate_grid({.rows = 24, .cols = 24, .seed = 3, .weights = {}});
  grid.declared = VertexRange{0, 24 * 24 + 9};
  PartitionOptions metis;
  metis.atoms = 16;
  metis.method = AtomMethod::kMetis;
  const std::tuple<const char*, const EdgeList*, PartitionOptions> inputs[] = {
      {"kron", &kron, PartitionOptions{.atoms = 16}},
      {"repeats", &repeats, PartitionOptions{.atoms = 37}},
      {"sparse", &sparse, PartitionOptions{.atoms = 8}},
      {"grid-metis", &grid, metis}};
  for (const auto& [name, input, partition] : inputs) {
    const std::string atoms = dir.file(name);
    write_atoms(*input, atoms, partition);
    for (int ranks : {2, 3}) {
      for (const char* options :
           {"", " --symmetrize --dedup", " --threads 1", " --symmetrize --threads 1"}) {
        SCOPED_TRACE(std::string(name) + " on " + std::to_string(ranks) + " ranks," + options);
        const std::string extra = std::string(" --raw") + options;
        const std::string two = dumps(atoms, ranks, GetParam(), extra);
        const std::string one = dumps(atoms, ranks, GetParam(), extra + " --one-pass");
        expect_same_arrays(two, one, true);
      }
    }
    check_load(atoms, *input, 3, GetParam(), /*symmetrize=*/true);
  }
  EdgeList weighted =
      generate_uniform({.vertices = 200, .edges = 3000, .seed = 1, .weights = WeightRange{1, 9}});
  for (std::size_t i = 0, m = weighted.size(); i < m; i += 5) {  // repeats told apart by weight
    weighted.edges.push_back(weighted.edges[i]);
    weighted.weights.push_back(weighted.weights[i] + 0.5);
  }
  const std::string atoms = dir.file("weighted");
  write_atoms(weighted, atoms, PartitionOptions{.atoms = 8});
  for (int ranks : {1, 2, 3}) {
    for (const char* options : {"", " --dedup", " --threads 1", " --dedup --threads 1"}) {
      SCOPED_TRACE("weighted on " + std::to_string(ranks) + " ranks," + options);
      const std::string extra = std::string(" --raw") + options;
      expect_same_arrays(dumps(atoms, ranks, GetParam(), extra),
                         dumps(atoms, ranks, GetParam(), extra + " --one-pass"), true);
    }
  }
  check_load(atoms, weighted, 2, GetParam());
  EXPECT_NE(dumps(atoms, 2, GetParam(), " --raw --symmetrize").find("two_pass 0"),
            std::string::npos);
}

TEST_P(GraphLoad, InconsistentArcCountsStopEveryRankNamingThePeer) {
  TempDir dir;
  EdgeList g = generate_uniform({.vertices = 300, .edges = 4000, .seed = 3, .weights = {}});
  const std::string bin = dir.file("g.bin");
  write_edge_list(g, bin);
  // One count off by one: without --symmetrize the sum no longer matches the edges rank 1
  // announced; symmetrized (one or two arcs an edge) it is found while the arcs arrive.
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"more", "rank 1 announced", "rank 1 sent rank 0 more arcs of vertex"},
      {"fewer", "rank 1 announced", "rank 1 sent rank 0 fewer arcs of vertex"},
      {"short", "bytes of arc counts, not 4 for each of the",
       "bytes of arc counts, not 4 for each of the"},
      {"huge", "rank 1 announced", "rank 1 announced"}};
  for (const auto& [tamper, plain, symmetrized] : cases) {
    for (const char* sym : {"", " --symmetrize --threads 1"}) {
      SCOPED_TRACE(std::string(tamper) + sym);
      const char* message = *sym == '\0' ? plain : symmetrized;
      Result r = run(std::string(ATOLL_BINARY) + " launch -n 2 -- " + self_path() + " --graph " +
                     bin + " --dump " + dir.file("") + " --transport " + GetParam() +
                     " --route-edges 500 --tamper " + tamper + sym);
      EXPECT_NE(r.code, 0);
      EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
      EXPECT_EQ(r.output.find("dead"), std::string::npos) << r.output;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, GraphLoad, testing::Values("ucx", "tcp"));

}  // namespace

int main(int argc, char** argv) {
  std::string graph, dump_dir, transport = "ucx";
  RankOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--graph" && i + 1 < argc) {
      graph = argv[++i];
    } else if (a == "--dump" && i + 1 < argc) {
      dump_dir = argv[++i];
    } else if (a == "--transport" && i + 1 < argc) {
      transport = argv[++i];
    } else if (a == "--symmetrize") {
      o.symmetrize = true;
    } else if (a == "--dedup") {
      o.dedup = true;
    } else if (a == "--one-pass") {
      o.one_pass = true;
    } else if (a == "--raw") {
      o.raw = true;
    } else if (a == "--threads" && i + 1 < argc) {
      o.threads = std::stoi(argv[++i]);
    } else if (a == "--tamper" && i + 1 < argc) {
      o.tamper = argv[++i];
    } else if (a == "--route-edges" && i + 1 < argc) {
      o.route_edges = std::stoull(argv[++i]);
    }
  }
  if (!dump_dir.empty()) {
    try {
      return run_rank(graph, dump_dir, parse_transport(transport), o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "load error: %s\n", e.what());
      return 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
