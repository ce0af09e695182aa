// Tests of phase-1 partitioning: hash and METIS atoms, the atom files and index written by
// write_atoms (checked against a serial recomputation), corruption of every part of a
// directory, determinism across thread counts, and `atoll partition` / `atoll info DIR`.
#include "atoll/graph/atoms.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/graph/generators.hpp"
#include "atoll/graph/read_graph.hpp"
#include "atom_part.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using atl::Atom;
using atl::AtomCut;
using atl::AtomIndex;
using atl::AtomMethod;
using atl::Edge;
using atl::EdgeList;
using atl::Gid;
using atl::PartitionOptions;
using atl::VertexRange;
using atl::test::error_of;
using atl::test::TempDir;
using testing::HasSubstr;

// ---- helpers ---------------------------------------------------------------------------------

/// A uniform random graph with self-loops and duplicates (some added on purpose), optionally
/// weighted, with a declared range that leaves some vertices isolated.
EdgeList messy_graph(bool weighted, bool declared) {
  atl::UniformParams p;
  p.vertices = 500;
  p.edges = 4000;
  p.seed = 7;
  if (weighted) p.weights = atl::WeightRange{1, 100};
  EdgeList g = atl::generate_uniform(p);
  for (int rep = 0; rep < 3; ++rep) {  // a repeated edge and a repeated self-loop
    g.edges.push_back({3, 4});
    g.edges.push_back({9, 9});
    if (weighted) {
      g.weights.push_back(0.5 + rep);
      g.weights.push_back(-2.25);
    }
  }
  // The generator declares 0..499; a wider range leaves 500..619 isolated.
  g.declared = declared ? std::optional(VertexRange{0, 620}) : std::nullopt;
  return g;
}

/// Ids spread over 64 bits (the sparse path of the vertex map).
EdgeList sparse_graph() {
  EdgeList g = messy_graph(false, false);
  for (Edge& e : g.edges) {
    e.src = e.src * 0x9e3779b97f4a7c15ull + 11;
    e.dst = e.dst * 0x9e3779b97f4a7c15ull + 11;
  }
  return g;
}

EdgeList grid(std::uint64_t rows, std::uint64_t cols) {
  return atl::generate_grid({rows, cols, 1, std::nullopt});
}

/// The vertex set, computed the slow way.
std::vector<Gid> reference_vertices(const EdgeList& g) {
  std::set<Gid> ids;
  for (const Edge& e : g.edges) ids.insert({e.src, e.dst});
  if (g.declared) {
    for (Gid v = g.declared->first; v < g.declared->first + g.declared->count; ++v) ids.insert(v);
  }
  return {ids.begin(), ids.end()};
}

/// What every atom and the index must hold, recomputed serially from the definitions.
struct Expected {
  std::vector<std::vector<Gid>> vertices;
  std::vector<EdgeList> out, in;
  std::vector<std::vector<std::pair<Gid, std::uint32_t>>> ghosts;
  std::vector<AtomCut> cuts;
};

Expected expected_atoms(const EdgeList& g, const std::vector<Gid>& vertices,
                        const std::vector<std::uint32_t>& atom_of_vertex, std::uint32_t k) {
  Expected x;
  x.vertices.resize(k);
  x.out.resize(k);
  x.in.resize(k);
  x.ghosts.resize(k);
  std::map<Gid, std::uint32_t> atom_of;
  for (std::size_t i = 0; i < vertices.size(); ++i) {
    atom_of[vertices[i]] = atom_of_vertex[i];
    x.vertices[atom_of_vertex[i]].push_back(vertices[i]);
  }
  for (EdgeList& l : x.out) l.weighted = g.weighted;
  for (EdgeList& l : x.in) l.weighted = g.weighted;
  std::vector<std::set<std::pair<Gid, std::uint32_t>>> ghosts(k);
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> cuts;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Edge& e = g.edges[i];
    const std::uint32_t a = atom_of.at(e.src);
    const std::uint32_t b = atom_of.at(e.dst);
    x.out[a].edges.push_back(e);
    if (g.weighted) x.out[a].weights.push_back(g.weights[i]);
    if (a == b) continue;
    x.in[b].edges.push_back(e);
    if (g.weighted) x.in[b].weights.push_back(g.weights[i]);
    ghosts[a].insert({e.dst, b});
    ghosts[b].insert({e.src, a});
    ++cuts[{a, b}];
  }
  for (std::uint32_t a = 0; a < k; ++a) x.ghosts[a].assign(ghosts[a].begin(), ghosts[a].end());
  for (const auto& [pair, n] : cuts) x.cuts.push_back({pair.first, pair.second, n});
  return x;
}

/// Reads dir back and checks every atom and the index against the serial recomputation.
void expect_directory_matches(const EdgeList& g, const fs::path& dir,
                              const PartitionOptions& options) {
  const std::vector<Gid> vertices = reference_vertices(g);
  ASSERT_EQ(atl::graph_vertices(g), vertices);
  std::vector<std::uint32_t> atom_of_vertex = atl::assign_atoms(g, vertices, options);
  ASSERT_EQ(atom_of_vertex.size(), vertices.size());
  for (std::size_t i = 0; i < vertices.size(); ++i) {
    ASSERT_LT(atom_of_vertex[i], options.atoms);
    if (options.method == AtomMethod::kHash) {
      ASSERT_EQ(atom_of_vertex[i], atl::hash_atom(vertices[i], options.atoms, options.seed));
    }
  }
  const Expected x = expected_atoms(g, vertices, atom_of_vertex, options.atoms);

  ASSERT_TRUE(atl::is_atom_directory(dir));
  const AtomIndex index = atl::read_atom_index(dir);
  EXPECT_EQ(index.method, options.method);
  EXPECT_EQ(index.seed, options.seed);
  EXPECT_EQ(index.weighted, g.weighted);
  EXPECT_EQ(index.num_vertices, vertices.size());
  EXPECT_EQ(index.num_edges, g.size());
  EXPECT_EQ(index.declared, g.declared);
  ASSERT_EQ(index.atoms.size(), options.atoms);
  EXPECT_EQ(index.cuts, x.cuts);

  std::vector<Gid> all_vertices;
  std::vector<std::pair<Edge, double>> all_edges;
  for (std::uint32_t a = 0; a < options.atoms; ++a) {
    SCOPED_TRACE("atom " + std::to_string(a));
    const Atom atom = atl::read_atom(dir, index, a);
    EXPECT_EQ(atom.id, a);
    EXPECT_EQ(atom.vertices, x.vertices[a]);
    EXPECT_TRUE(atom.out_edges == x.out[a]);
    EXPECT_TRUE(atom.in_cut_edges == x.in[a]);
    ASSERT_EQ(atom.ghosts.size(), atom.ghost_atoms.size());
    std::vector<std::pair<Gid, std::uint32_t>> ghosts;
    for (std::size_t i = 0; i < atom.ghosts.size(); ++i) {
      ghosts.push_back({atom.ghosts[i], atom.ghost_atoms[i]});
    }
    EXPECT_EQ(ghosts, x.ghosts[a]);
    const atl::AtomEntry& entry = index.atoms[a];
    EXPECT_EQ(entry.vertices, x.vertices[a].size());
    EXPECT_EQ(entry.edges, x.out[a].size());
    EXPECT_EQ(entry.in_cut_edges, x.in[a].size());
    EXPECT_EQ(entry.ghosts, x.ghosts[a].size());
    EXPECT_EQ(entry.bytes, fs::file_size(dir / entry.file));
    all_vertices.insert(all_vertices.end(), atom.vertices.begin(), atom.vertices.end());
    for (std::size_t i = 0; i < atom.out_edges.size(); ++i) {
      all_edges.push_back({atom.out_edges.edges[i], g.weighted ? atom.out_edges.weights[i] : 0});
    }
  }
  // Every vertex owned exactly once; the out-edges are the input edges as a multiset.
  std::sort(all_vertices.begin(), all_vertices.end());
  EXPECT_EQ(all_vertices, vertices);
  std::vector<std::pair<Edge, double>> input;
  for (std::size_t i = 0; i < g.size(); ++i) {
    input.push_back({g.edges[i], g.weighted ? g.weights[i] : 0});
  }
  auto order = [](const std::pair<Edge, double>& p, const std::pair<Edge, double>& q) {
    return std::tie(p.first.src, p.first.dst, p.second) <
           std::tie(q.first.src, q.first.dst, q.second);
  };
  std::sort(all_edges.begin(), all_edges.end(), order);
  std::sort(input.begin(), input.end(), order);
  EXPECT_TRUE(all_edges == input);
}

PartitionOptions options_of(std::uint32_t atoms, AtomMethod method, std::uint64_t seed = 0) {
  PartitionOptions o;
  o.atoms = atoms;
  o.method = method;
  o.seed = seed;
  return o;
}

std::uint64_t cut_edges(const AtomIndex& index) {
  std::uint64_t n = 0;
  for (const AtomCut& c : index.cuts) n += c.edges;
  return n;
}

/// Every file of dir by name, with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    files[entry.path().filename().string()] = atl::test::read_file(entry.path().string());
  }
  return files;
}

void flip_byte(const fs::path& path, std::size_t offset) {
  std::string bytes = atl::test::read_file(path.string());
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x40);
  atl::test::write_file(path.string(), bytes);
}

template <typename T>
void put(const fs::path& path, std::size_t offset, T value) {
  std::string bytes = atl::test::read_file(path.string());
  std::memcpy(bytes.data() + offset, &value, sizeof value);
  atl::test::write_file(path.string(), bytes);
}

/// A block as found by walking a file (docs/atoms.md): kind and offset of its header.
struct BlockAt {
  std::uint32_t kind;
  std::size_t offset;
  std::uint64_t payload_bytes;
};
constexpr std::size_t kAtomHeaderBytes = 80;
constexpr std::size_t kIndexHeaderBytes = 96;
constexpr std::size_t kBlockHeaderBytes = 24;

std::vector<BlockAt> blocks_of(const fs::path& path, std::size_t header_bytes) {
  const std::string bytes = atl::test::read_file(path.string());
  std::vector<BlockAt> blocks;
  std::size_t at = header_bytes;
  while (at + kBlockHeaderBytes <= bytes.size()) {
    BlockAt b{0, at, 0};
    std::memcpy(&b.kind, bytes.data() + at, 4);
    std::memcpy(&b.payload_bytes, bytes.data() + at + 8, 8);
    blocks.push_back(b);
    at += kBlockHeaderBytes + (b.payload_bytes + 7) / 8 * 8;
  }
  return blocks;
}

/// The first block of kind in the atom file.
BlockAt first_block(const fs::path& path, std::uint32_t kind) {
  for (const BlockAt& b : blocks_of(path, kAtomHeaderBytes)) {
    if (b.kind == kind) return b;
  }
  ADD_FAILURE() << "no block of kind " << kind << " in " << path;
  return {};
}

/// A partitioned messy graph in a temporary directory, for the corruption tests.
class AtomCorruption : public testing::Test {
 protected:
  void SetUp() override {
    graph_ = messy_graph(true, true);
    options_ = options_of(5, AtomMethod::kHash, 3);
    atl::write_atoms(graph_, dir_.path(), options_);
    index_ = atl::read_atom_index(dir_.path());
  }
  fs::path dir() const { return dir_.path(); }
  fs::path atom_path(std::uint32_t a) const { return dir() / index_.atoms[a].file; }
  fs::path index_path() const { return dir() / atl::kAtomIndexFileName; }
  std::string read_error(std::uint32_t a) const {
    return error_of([&] { atl::read_atom(dir(), index_, a); });
  }
  std::string index_error() const {
    return error_of([&] { atl::read_atom_index(dir()); });
  }

  TempDir dir_;
  EdgeList graph_;
  PartitionOptions options_;
  AtomIndex index_;
};

// ---- assignment ------------------------------------------------------------------------------

TEST(AtomsTest, HashAtomIsInRangeBalancedAndSeeded) {
  constexpr std::uint32_t k = 16;
  std::vector<std::uint64_t> counts(k, 0);
  std::uint64_t differ = 0;
  for (Gid v = 0; v < 160000; ++v) {
    const std::uint32_t a = atl::hash_atom(v, k, 1);
    ASSERT_LT(a, k);
    ASSERT_EQ(a, atl::hash_atom(v, k, 1));
    ++counts[a];
    differ += a != atl::hash_atom(v, k, 2);
    ASSERT_EQ(atl::hash_atom(v, 1, 1), 0u);
  }
  for (std::uint64_t c : counts) {
    EXPECT_GT(c, 9500u);
    EXPECT_LT(c, 10500u);
  }
  EXPECT_GT(differ, 140000u);  // another seed, another assignment (15/16 expected to move)
}

TEST(AtomsTest, ParseMethod) {
  EXPECT_EQ(atl::parse_atom_method("hash"), AtomMethod::kHash);
  EXPECT_EQ(atl::parse_atom_method("metis"), AtomMethod::kMetis);
  EXPECT_EQ(atl::atom_method_name(AtomMethod::kMetis), "metis");
  try {
    atl::parse_atom_method("random");
    FAIL() << "no throw";
  } catch (const atl::Error& e) {
    EXPECT_EQ(e.kind(), atl::ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("'random'"));
  }
}

TEST(AtomsTest, GraphVertices) {
  for (const EdgeList& g : {messy_graph(false, false), messy_graph(true, true), sparse_graph()}) {
    EXPECT_EQ(atl::graph_vertices(g), reference_vertices(g));
  }
  EdgeList empty;
  EXPECT_TRUE(atl::graph_vertices(empty).empty());
  empty.declared = VertexRange{5, 3};
  EXPECT_EQ(atl::graph_vertices(empty), (std::vector<Gid>{5, 6, 7}));
}

TEST(AtomsTest, MetisIsDeterministicAndSeeded) {
  const EdgeList g = grid(40, 40);
  const std::vector<Gid> vertices = atl::graph_vertices(g);
  const auto a = atl::assign_atoms(g, vertices, options_of(8, AtomMethod::kMetis, 1));
  EXPECT_EQ(a, atl::assign_atoms(g, vertices, options_of(8, AtomMethod::kMetis, 1)));
  EXPECT_EQ(a, atl::test::with_threads(1, [&] {
              return atl::assign_atoms(g, vertices, options_of(8, AtomMethod::kMetis, 1));
            }));
  for (std::uint32_t x : a) EXPECT_LT(x, 8u);
}

TEST(AtomsTest, MoreAtomsThanVertices) {
  EdgeList g;
  g.edges = {{1, 2}, {2, 3}, {3, 1}, {7, 7}};
  for (AtomMethod method : {AtomMethod::kHash, AtomMethod::kMetis}) {
    TempDir dir;
    const PartitionOptions o = options_of(16, method);
    const AtomIndex index = atl::write_atoms(g, dir.path(), o);
    EXPECT_EQ(index.atoms.size(), 16u);
    expect_directory_matches(g, dir.path(), o);
  }
}

TEST(AtomsTest, BadOptionsAndInputs) {
  TempDir dir;
  EdgeList g = messy_graph(false, false);
  PartitionOptions o;
  o.atoms = 0;
  try {
    atl::write_atoms(g, dir.path(), o);
    FAIL() << "no throw";
  } catch (const atl::Error& e) {
    EXPECT_EQ(e.kind(), atl::ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("number of atoms"));
  }
  o.atoms = atl::kMaxAtoms + 1;
  EXPECT_THAT(error_of([&] { atl::write_atoms(g, dir.path(), o); }), HasSubstr("number of atoms"));
  g.declared = VertexRange{0, 10};
  EXPECT_THAT(error_of([&] { atl::write_atoms(g, dir.path(), options_of(4, AtomMethod::kHash)); }),
              HasSubstr("outside the declared vertex range"));
  EXPECT_FALSE(atl::is_atom_directory(dir.path()));
  EXPECT_FALSE(atl::is_atom_directory(dir.file("nonexistent")));
}

// ---- round trips -----------------------------------------------------------------------------

TEST(AtomsRoundTrip, HashAndMetisWeightedAndUnweighted) {
  for (bool weighted : {false, true}) {
    for (AtomMethod method : {AtomMethod::kHash, AtomMethod::kMetis}) {
      for (std::uint32_t k : {1u, 7u, 64u}) {
        SCOPED_TRACE(std::string(atl::atom_method_name(method)) + " k=" + std::to_string(k) +
                     (weighted ? " weighted" : ""));
        const EdgeList g = messy_graph(weighted, true);
        const PartitionOptions o = options_of(k, method, 5);
        TempDir dir;
        const AtomIndex written = atl::write_atoms(g, dir.path(), o);
        const AtomIndex read = atl::read_atom_index(dir.path());
        EXPECT_EQ(written.graph_id, read.graph_id);
        EXPECT_EQ(written.cuts, read.cuts);
        EXPECT_EQ(written.atoms.size(), read.atoms.size());
        for (std::size_t a = 0; a < read.atoms.size(); ++a) {
          EXPECT_EQ(written.atoms[a].crc, read.atoms[a].crc);
          EXPECT_EQ(written.atoms[a].bytes, read.atoms[a].bytes);
        }
        expect_directory_matches(g, dir.path(), o);
      }
    }
  }
}

TEST(AtomsRoundTrip, SparseIdsWithoutDeclaredRange) {
  const EdgeList g = sparse_graph();
  for (AtomMethod method : {AtomMethod::kHash, AtomMethod::kMetis}) {
    TempDir dir;
    atl::write_atoms(g, dir.path(), options_of(9, method));
    expect_directory_matches(g, dir.path(), options_of(9, method));
  }
}

TEST(AtomsRoundTrip, EmptyAndEdgelessGraphs) {
  EdgeList empty;
  EdgeList isolated;
  isolated.declared = VertexRange{10, 50};
  for (const EdgeList* g : {&empty, &isolated}) {
    for (AtomMethod method : {AtomMethod::kHash, AtomMethod::kMetis}) {
      TempDir dir;
      atl::write_atoms(*g, dir.path(), options_of(4, method));
      expect_directory_matches(*g, dir.path(), options_of(4, method));
    }
  }
}

/// The edges of g as a sorted multiset (with weights), for comparing edge orders.
std::vector<std::pair<Edge, double>> sorted_edges(const EdgeList& g) {
  std::vector<std::pair<Edge, double>> out;
  for (std::size_t i = 0; i < g.size(); ++i) {
    out.emplace_back(g.edges[i], g.weighted ? g.weights[i] : 0.0);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.src, a.first.dst, a.second) <
           std::tie(b.first.src, b.first.dst, b.second);
  });
  return out;
}

TEST(AtomsRoundTrip, WholeGraphOnOneProcess) {
  for (bool weighted : {false, true}) {
    SCOPED_TRACE(weighted ? "weighted" : "unweighted");
    const EdgeList g = messy_graph(weighted, true);  // 500..619 isolated
    TempDir dir;
    atl::write_atoms(g, dir.path(), options_of(7, AtomMethod::kHash, 3));
    const EdgeList back = atl::read_atom_graph(dir.path());
    EXPECT_EQ(back.weighted, weighted);
    EXPECT_EQ(back.declared, g.declared);  // the vertex set, isolated vertices included
    EXPECT_EQ(sorted_edges(back), sorted_edges(g));
    // read_edge_list takes the directory too (format auto only).
    EXPECT_EQ(sorted_edges(atl::read_edge_list(dir.path())), sorted_edges(g));
    EXPECT_THAT(error_of([&] { atl::read_edge_list(dir.path(), atl::GraphFormat::kSnap); }),
                HasSubstr("is an atom directory"));
  }
}

TEST(AtomsRoundTrip, LargeAtomsSpanSeveralBlocks) {
  // In random order a weighted edge takes about 15 bytes (varints and the weight); atom 0
  // gets ~200k edges, about 3 MiB: at least three 1 MiB blocks.
  atl::UniformParams p;
  p.vertices = 100000;
  p.edges = 400000;
  p.weights = atl::WeightRange{1, 9};
  const EdgeList g = atl::generate_uniform(p);
  TempDir dir;
  const PartitionOptions o = options_of(2, AtomMethod::kHash);
  atl::write_atoms(g, dir.path(), o);
  std::size_t edge_blocks = 0;
  for (const BlockAt& b : blocks_of(dir.file("atom-00000.atom"), kAtomHeaderBytes)) {
    edge_blocks += b.kind == 2;
  }
  EXPECT_GE(edge_blocks, 3u);
  expect_directory_matches(g, dir.path(), o);
}

TEST(AtomsRoundTrip, MetisCoarsensLargeGraphs) {
  const EdgeList g = grid(60, 60);
  PartitionOptions o = options_of(8, AtomMethod::kMetis, 2);
  o.metis_max_vertices = 500;  // 3600 vertices: three rounds of matching
  o.metis_max_edges = 1000;
  TempDir dir;
  const AtomIndex coarse = atl::write_atoms(g, dir.path(), o);
  expect_directory_matches(g, dir.path(), o);
  TempDir hashed;
  const AtomIndex hash = atl::write_atoms(g, hashed.path(), options_of(8, AtomMethod::kHash));
  EXPECT_LT(cut_edges(coarse) * 4, cut_edges(hash));
}

TEST(AtomsRoundTrip, RepartitionReplacesTheDirectory) {
  const EdgeList g = messy_graph(false, false);
  TempDir dir;
  atl::write_atoms(g, dir.path(), options_of(12, AtomMethod::kHash));
  atl::test::write_file(dir.file("notes.txt"), "mine");
  atl::write_atoms(g, dir.path(), options_of(3, AtomMethod::kMetis));
  const auto files = snapshot(dir.path());
  std::vector<std::string> names;
  for (const auto& [name, bytes] : files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"atom-00000.atom", "atom-00001.atom",
                                             "atom-00002.atom", "atoms.index", "notes.txt"}));
  expect_directory_matches(g, dir.path(), options_of(3, AtomMethod::kMetis));
}

// ---- METIS quality -------------------------------------------------------------------------

TEST(AtomsPartitionQuality, MetisCutsFewerEdgesThanHashOnAGrid) {
  const EdgeList g = grid(64, 64);
  TempDir a, b;
  const std::uint64_t hash =
      cut_edges(atl::write_atoms(g, a.path(), options_of(16, AtomMethod::kHash)));
  const std::uint64_t metis =
      cut_edges(atl::write_atoms(g, b.path(), options_of(16, AtomMethod::kMetis)));
  EXPECT_GT(hash, 7000u);  // ~15/16 of 8064 edges
  EXPECT_LT(metis, 800u);  // 16 blocks of 16x16: ~ 2*3*64 = 384 edges
  const AtomIndex index = atl::read_atom_index(b.path());
  for (const atl::AtomEntry& e : index.atoms) EXPECT_LT(e.edges, 8064u / 16 * 13 / 10);
}

TEST(AtomsPartitionQuality, MetisCutsFewerEdgesThanHashOnRome99) {
  const std::string path = atl::test::shared_data("rome99.gr.zst");
  if (path.empty()) GTEST_SKIP() << "rome99.gr.zst not found under " << ATOLL_SHARED_DATA;
  const EdgeList g = atl::read_edge_list(path);
  TempDir a, b;
  const std::uint64_t hash =
      cut_edges(atl::write_atoms(g, a.path(), options_of(32, AtomMethod::kHash)));
  const std::uint64_t metis =
      cut_edges(atl::write_atoms(g, b.path(), options_of(32, AtomMethod::kMetis)));
  EXPECT_LT(metis * 5, hash) << "metis " << metis << ", hash " << hash;
  expect_directory_matches(g, b.path(), options_of(32, AtomMethod::kMetis));
}

// ---- determinism ---------------------------------------------------------------------------

TEST(AtomsDeterminism, SameBytesForAnyThreadCount) {
  atl::UniformParams p;
  p.vertices = 30000;
  p.edges = 300000;  // several counting-sort chunks
  p.weights = atl::WeightRange{1, 1000};
  const EdgeList g = atl::generate_uniform(p);
  for (AtomMethod method : {AtomMethod::kHash, AtomMethod::kMetis}) {
    SCOPED_TRACE(std::string(atl::atom_method_name(method)));
    const PartitionOptions o = options_of(10, method, 42);
    TempDir one, two, again;
    atl::test::with_threads(1, [&] { return atl::write_atoms(g, one.path(), o); });
    atl::test::with_threads(2, [&] { return atl::write_atoms(g, two.path(), o); });
    atl::test::with_threads(4, [&] { return atl::write_atoms(g, again.path(), o); });
    const auto reference = snapshot(one.path());
    EXPECT_EQ(reference.size(), 11u);
    EXPECT_TRUE(reference == snapshot(two.path()));
    EXPECT_TRUE(reference == snapshot(again.path()));
  }
}

TEST(AtomsDeterminism, GraphIdDependsOnGraphAndCut) {
  const EdgeList g = messy_graph(true, true);
  TempDir d;
  const std::uint64_t base =
      atl::write_atoms(g, d.path(), options_of(4, AtomMethod::kHash)).graph_id;
  EXPECT_EQ(base, atl::write_atoms(g, d.path(), options_of(4, AtomMethod::kHash)).graph_id);
  EXPECT_NE(base, atl::write_atoms(g, d.path(), options_of(5, AtomMethod::kHash)).graph_id);
  EXPECT_NE(base, atl::write_atoms(g, d.path(), options_of(4, AtomMethod::kHash, 1)).graph_id);
  EXPECT_NE(base, atl::write_atoms(g, d.path(), options_of(4, AtomMethod::kMetis)).graph_id);
  EdgeList other = g;
  other.weights[17] += 1;
  EXPECT_NE(base, atl::write_atoms(other, d.path(), options_of(4, AtomMethod::kHash)).graph_id);
}

// ---- corruption ----------------------------------------------------------------------------

TEST_F(AtomCorruption, IntactDirectoryReads) {
  for (std::uint32_t a = 0; a < options_.atoms; ++a) EXPECT_EQ(read_error(a), "<no throw>");
  EXPECT_THAT(error_of([&] { atl::read_atom(dir(), index_, 5); }), HasSubstr("does not exist"));
}

TEST_F(AtomCorruption, FlippedHeaderByte) {
  flip_byte(atom_path(1), 20);  // inside graph_id
  const std::string e = read_error(1);
  EXPECT_THAT(e, HasSubstr("atom file '" + atom_path(1).string() + "'"));
  EXPECT_THAT(e, HasSubstr("header"));
  EXPECT_THAT(e, HasSubstr("checksum mismatch"));
  EXPECT_EQ(read_error(2), "<no throw>");  // the others are fine
}

TEST_F(AtomCorruption, FlippedByteInEachKindOfBlock) {
  const struct {
    std::uint32_t kind;
    const char* name;
  } kinds[] = {{1, "vertices"}, {2, "edges"}, {3, "cut in-edges"}, {4, "ghosts"}};
  for (const auto& k : kinds) {
    SCOPED_TRACE(k.name);
    atl::write_atoms(graph_, dir(), options_);  // fresh files
    const BlockAt block = first_block(atom_path(2), k.kind);
    ASSERT_GT(block.payload_bytes, 16u);
    flip_byte(atom_path(2), block.offset + kBlockHeaderBytes + 13);
    const std::string e = read_error(2);
    EXPECT_THAT(e, HasSubstr("atom file '" + atom_path(2).string() + "'"));
    EXPECT_THAT(e,
                HasSubstr(std::string("(") + k.name + ") at byte " + std::to_string(block.offset)));
    EXPECT_THAT(e, HasSubstr("payload checksum mismatch"));
  }
}

TEST_F(AtomCorruption, FlippedBlockHeader) {
  const BlockAt block = first_block(atom_path(0), 2);
  flip_byte(atom_path(0), block.offset + 8);  // payload size
  EXPECT_THAT(read_error(0), HasSubstr("at byte " + std::to_string(block.offset) +
                                       ": block header checksum mismatch"));
}

TEST_F(AtomCorruption, MissingAtomFile) {
  fs::remove(atom_path(3));
  const std::string e = read_error(3);
  EXPECT_THAT(e, HasSubstr(atom_path(3).string()));
  EXPECT_THAT(e, HasSubstr("missing"));
}

TEST_F(AtomCorruption, IndexDisagreesWithAtomHeader) {
  AtomIndex index = index_;
  index.atoms[1].edges += 1;
  EXPECT_THAT(error_of([&] { atl::read_atom(dir(), index, 1); }),
              HasSubstr("the header says " + std::to_string(index_.atoms[1].edges) +
                        " edges, the index says " + std::to_string(index.atoms[1].edges)));
  index = index_;
  index.atoms[1].crc ^= 1;
  EXPECT_THAT(error_of([&] { atl::read_atom(dir(), index, 1); }), HasSubstr("file checksum"));
  index = index_;
  index.weighted = false;
  EXPECT_THAT(error_of([&] { atl::read_atom(dir(), index, 1); }),
              HasSubstr("the header says weighted, the index says unweighted"));
  // Two atom files swapped: each is intact but holds another atom.
  fs::rename(atom_path(1), dir() / "tmp");
  fs::rename(atom_path(2), atom_path(1));
  fs::rename(dir() / "tmp", atom_path(2));
  EXPECT_THAT(read_error(1), HasSubstr("holds atom 2 but the index lists it as atom 1"));
}

TEST_F(AtomCorruption, VersionFromTheFuture) {
  put<std::uint32_t>(atom_path(0), 8, 7);
  EXPECT_THAT(read_error(0), HasSubstr("written by a newer Atoll (atom file version 7, this "
                                       "build reads 2)"));
  put<std::uint32_t>(index_path(), 8, 3);
  const std::string e = index_error();
  EXPECT_THAT(e, HasSubstr(index_path().string()));
  EXPECT_THAT(e, HasSubstr("written by a newer Atoll (atom index version 3"));
}

TEST_F(AtomCorruption, VersionOneIsNotReadAnyMore) {
  // Version 1 stored records as in memory; this build reads only the compact version 2.
  put<std::uint32_t>(atom_path(0), 8, 1);
  const std::string a = read_error(0);
  EXPECT_THAT(a, HasSubstr("atom file '" + atom_path(0).string() + "'"));
  EXPECT_THAT(a, HasSubstr("written by an older Atoll (atom file version 1, this build reads 2)"));
  EXPECT_THAT(a, HasSubstr("atoll partition"));
  put<std::uint32_t>(index_path(), 8, 1);
  const std::string e = index_error();
  EXPECT_THAT(e, HasSubstr("atom index '" + index_path().string() + "'"));
  EXPECT_THAT(e, HasSubstr("written by an older Atoll (atom index version 1, this build reads 2)"));
}

/// Replaces the payload (and record count) of block `block` of an atom file, with fresh
/// checksums for the block, so that only the decoder can object; returns the new file size.
std::size_t rewrite_block(const fs::path& path, const BlockAt& block, const std::string& payload,
                          std::uint32_t records) {
  std::string bytes = atl::test::read_file(path.string());
  const std::size_t old_body = (block.payload_bytes + 7) / 8 * 8;
  std::string body = payload;
  body.resize((payload.size() + 7) / 8 * 8, '\0');
  std::string header = bytes.substr(block.offset, kBlockHeaderBytes);
  const std::uint64_t size = payload.size();
  const std::uint32_t payload_crc = atl::crc32c(0, payload.data(), payload.size());
  std::memcpy(header.data() + 4, &records, 4);
  std::memcpy(header.data() + 8, &size, 8);
  std::memcpy(header.data() + 16, &payload_crc, 4);
  const std::uint32_t header_crc = atl::crc32c(0, header.data(), 20);
  std::memcpy(header.data() + 20, &header_crc, 4);
  bytes.replace(block.offset, kBlockHeaderBytes + old_body, header + body);
  atl::test::write_file(path.string(), bytes);
  return bytes.size();
}

std::uint32_t records_of(const fs::path& path, const BlockAt& block) {
  std::uint32_t records = 0;
  std::memcpy(&records, atl::test::read_file(path.string()).data() + block.offset + 4, 4);
  return records;
}

std::string varint(std::uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
  out += static_cast<char>(v);
  return out;
}

TEST_F(AtomCorruption, MalformedPayloadsWithValidChecksums) {
  // Each case: the kind of block to rewrite, its payload given the block's record count, and
  // the error expected. The checksums are right, so the decoder itself must catch each one.
  const struct {
    std::uint32_t kind;
    const char* name;
    std::string (*payload)(std::uint32_t records);
    std::string error;
  } cases[] = {
      {1, "truncated varint", [](std::uint32_t n) { return std::string(n - 1, '\1') + "\x80"; },
       "bad or truncated varint"},
      {1, "varint longer than 64 bits",
       [](std::uint32_t n) { return std::string(10, '\xff') + "\x01" + std::string(n, '\0'); },
       "record 0: bad or truncated varint"},
      {1, "gap that overflows",
       [](std::uint32_t n) { return varint(~std::uint64_t{0} - 1) + std::string(n - 1, '\0'); },
       "record 2: id gap overflows 64 bits"},
      {1, "bytes left over", [](std::uint32_t n) { return std::string(n + 3, '\0'); },
       "3 bytes left after the"},
      {4, "owner beyond 32 bits",
       [](std::uint32_t n) {
         return varint(5) + varint(std::uint64_t{1} << 40) + std::string(2 * n, '\0');
       },
       "record 0: owner atom 1099511627776 out of range"},
      {2, "target out of range",
       [](std::uint32_t n) {
         return varint(0) + varint(std::uint64_t{n - 1} << 1 | 1) + varint(1000000) +
                std::string(n - 1, '\0') + std::string(8 * n, '\0');
       },
       "record 0: target 1000000 out of range"},
      {2, "sorted gap past the table",
       [](std::uint32_t n) {
         return varint(0) + varint(std::uint64_t{n - 1} << 1 | 1) + varint(0) +
                varint(~std::uint64_t{0}) + std::string(n - 2, '\0') + std::string(8 * n, '\0');
       },
       "record 1: target gap 18446744073709551615 runs past the table"},
      {3, "run longer than the block",
       [](std::uint32_t n) {
         return varint(0) + varint(std::uint64_t{n} << 1) + varint(0) + std::string(n, '\0') +
                std::string(8 * n, '\0');
       },
       "record 0: a run of "},
      {3, "source out of range",
       [](std::uint32_t n) {
         return varint(2 * 7777777) + varint(std::uint64_t{n - 1} << 1) +  // zigzag(7777777)
                std::string(n, '\0') + std::string(8 * n, '\0');
       },
       "record 0: source 7777777 out of range"},
      {2, "weights column cut short",
       [](std::uint32_t n) { return std::string(n, '\0') + std::string(8 * n - 8, '\0'); },
       "payload bytes cannot hold"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    atl::write_atoms(graph_, dir(), options_);  // fresh files
    const BlockAt block = first_block(atom_path(2), c.kind);
    const std::uint32_t records = records_of(atom_path(2), block);
    ASSERT_GE(records, 3u);
    AtomIndex index = index_;
    index.atoms[2].bytes = rewrite_block(atom_path(2), block, c.payload(records), records);
    const std::string e = error_of([&] { atl::read_atom(dir(), index, 2); });
    EXPECT_THAT(e, HasSubstr("atom file '" + atom_path(2).string() + "'"));
    EXPECT_THAT(e, HasSubstr(") at byte " + std::to_string(block.offset)));
    EXPECT_THAT(e, HasSubstr(c.error));
    // The two-pass route of a rank (atom_part.hpp) walks the blocks without an edge buffer:
    // with the whole file's checksum right too, its decoders must catch each one as well.
    // Atom 2 alone on rank 0, so every ghost is remote and every cut in-edge run is walked.
    const std::string bytes = atl::test::read_file(atom_path(2).string());
    index.atoms[2].crc = atl::crc32c(0, bytes.data(), bytes.size());
    std::vector<int> atom_rank(index.atoms.size(), 1);
    atom_rank[2] = 0;
    const std::uint32_t mine[] = {2};
    const std::string p = error_of([&] {
      atl::detail::read_atom_part(dir(), index, mine, atom_rank, 0, /*symmetrize=*/false);
    });
    EXPECT_THAT(p, HasSubstr("atom file '" + atom_path(2).string() + "'"));
    EXPECT_THAT(p, HasSubstr(") at byte " + std::to_string(block.offset)));
    EXPECT_THAT(p, HasSubstr(c.error));
  }
}

// A rank's two-pass part (atom_part.hpp) holding two atoms of five, the others on another
// rank: its cut in-edge blocks mix runs from ghosts on this rank (stepped over: those edges
// are out-edges of its other atom) and from ghosts elsewhere (kept). Checked against the
// input's edges directly: an arc x -> y (and y -> x symmetrized) is in row x whenever x or y
// is owned here.
TEST(AtomPartTest, APartHoldsEveryArcWithAnOwnedEndOnce) {
  for (const bool weighted : {false, true}) {
    for (const bool symmetrize : {false, true}) {
      if (weighted && symmetrize) continue;  // that route is one pass (graph_part_load.cpp)
      SCOPED_TRACE(testing::Message() << "weighted " << weighted << " symmetrize " << symmetrize);
      TempDir dir;
      const EdgeList g = messy_graph(weighted, false);
      atl::write_atoms(g, dir.path(), options_of(5, AtomMethod::kHash, 3));
      const AtomIndex index = atl::read_atom_index(dir.path());
      std::vector<int> atom_rank(index.atoms.size(), 1);
      atom_rank[1] = atom_rank[3] = 0;
      std::set<Gid> owned;
      for (const std::uint32_t a : {1u, 3u}) {
        const atl::Atom atom = atl::read_atom(dir.path(), index, a);
        owned.insert(atom.vertices.begin(), atom.vertices.end());
      }
      using Arc = std::tuple<Gid, Gid, double>;
      std::multiset<Arc> want;
      for (std::size_t i = 0; i < g.size(); ++i) {
        const Gid s = g.edges[i].src, d = g.edges[i].dst;
        const double w = weighted ? g.weights[i] : 0;
        if (owned.count(s) != 0 || owned.count(d) != 0) {
          want.insert({s, d, w});
          if (symmetrize && s != d) want.insert({d, s, w});
        }
      }
      const std::uint32_t mine[] = {1, 3};
      // One thread; and four, more than the rank's atoms: an unweighted atom's blocks are then
      // walked at once (AtomPartReader::parallel_blocks_), its rows written with atomics.
      for (const int threads : {1, 4}) {
        SCOPED_TRACE(testing::Message() << threads << " threads");
        atl::detail::PlacedPart part;
        tbb::task_arena arena(threads);
        arena.execute([&] {
          part = atl::detail::read_atom_part(dir.path(), index, mine, atom_rank, 0, symmetrize);
        });
        EXPECT_EQ(part.num_owned, owned.size());
        std::multiset<Arc> got;
        for (std::size_t x = 0; x + 1 < part.out_offsets.size(); ++x) {
          for (atl::EdgeId e = part.out_offsets[x]; e < part.out_offsets[x + 1]; ++e) {
            got.insert({part.lid_to_gid[x], part.lid_to_gid[part.out_targets[e]],
                        weighted ? part.out_weights[e] : 0});
          }
        }
        EXPECT_EQ(got, want);
      }
    }
  }
}

// Atoms of several 1 MiB blocks each, fewer atoms than threads: the blocks of one atom are
// walked at once (rows written with atomics), and the part is still exactly the input's arcs
// with an owned end.
TEST(AtomPartTest, AnAtomsBlocksWalkedAtOnceGiveTheSameArcs) {
  atl::UniformParams p;
  p.vertices = 20000;
  p.edges = 1500000;
  p.seed = 5;
  const EdgeList g = atl::generate_uniform(p);
  TempDir dir;
  atl::write_atoms(g, dir.path(), options_of(2, AtomMethod::kHash, 1));
  const AtomIndex index = atl::read_atom_index(dir.path());
  const std::vector<int> atom_rank = {0, 1};
  const atl::Atom mine_atom = atl::read_atom(dir.path(), index, 0);
  const std::set<Gid> owned(mine_atom.vertices.begin(), mine_atom.vertices.end());
  std::vector<std::pair<Gid, Gid>> want;
  for (const Edge& e : g.edges) {
    if (owned.count(e.src) != 0 || owned.count(e.dst) != 0) want.emplace_back(e.src, e.dst);
  }
  std::sort(want.begin(), want.end());
  const std::uint32_t mine[] = {0};
  atl::detail::PlacedPart part;
  tbb::task_arena arena(4);
  arena.execute(
      [&] { part = atl::detail::read_atom_part(dir.path(), index, mine, atom_rank, 0, false); });
  std::vector<std::pair<Gid, Gid>> got;
  for (std::size_t x = 0; x + 1 < part.out_offsets.size(); ++x) {
    for (atl::EdgeId e = part.out_offsets[x]; e < part.out_offsets[x + 1]; ++e) {
      got.emplace_back(part.lid_to_gid[x], part.lid_to_gid[part.out_targets[e]]);
    }
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

TEST_F(AtomCorruption, BlockCountsDisagreeWithTheHeader) {
  const BlockAt block = first_block(atom_path(2), 2);
  const std::uint32_t records = records_of(atom_path(2), block);
  std::string payload = atl::test::read_file(atom_path(2).string())
                            .substr(block.offset + kBlockHeaderBytes, block.payload_bytes);
  AtomIndex index = index_;
  index.atoms[2].bytes = rewrite_block(atom_path(2), block, payload, records - 1);
  const std::string e = error_of([&] { atl::read_atom(dir(), index, 2); });
  EXPECT_THAT(e, HasSubstr("atom file '" + atom_path(2).string() + "'"));
  EXPECT_THAT(
      e, HasSubstr("the blocks hold " + std::to_string(index_.atoms[2].edges - 1) +
                   " edges records, the header says " + std::to_string(index_.atoms[2].edges)));
}

TEST_F(AtomCorruption, AtomFromAnotherGraphsDirectory) {
  TempDir other;
  EdgeList g = graph_;
  g.edges[0].dst = 1;
  atl::write_atoms(g, other.path(), options_);
  fs::copy_file(fs::path(other.path()) / "atom-00004.atom", atom_path(4),
                fs::copy_options::overwrite_existing);
  const std::string e = read_error(4);
  EXPECT_THAT(e, HasSubstr(atom_path(4).string()));
  EXPECT_THAT(e, HasSubstr("belongs to another graph"));
  // And the whole index of the other directory over this one's atoms.
  fs::copy_file(fs::path(other.path()) / atl::kAtomIndexFileName, index_path(),
                fs::copy_options::overwrite_existing);
  const AtomIndex foreign = atl::read_atom_index(dir());
  EXPECT_THAT(error_of([&] { atl::read_atom(dir(), foreign, 0); }),
              HasSubstr("belongs to another graph"));
}

TEST_F(AtomCorruption, TruncatedFiles) {
  fs::resize_file(atom_path(2), fs::file_size(atom_path(2)) - 100);
  EXPECT_THAT(read_error(2), HasSubstr("truncated"));
  fs::resize_file(atom_path(3), 40);
  EXPECT_THAT(read_error(3), HasSubstr("truncated"));
  fs::resize_file(index_path(), fs::file_size(index_path()) - 8);
  const std::string e = index_error();
  EXPECT_THAT(e, HasSubstr(index_path().string()));
  EXPECT_THAT(e, HasSubstr("truncated"));
}

TEST_F(AtomCorruption, GarbageAndFlippedIndex) {
  const std::string good = atl::test::read_file(index_path().string());
  const auto blocks = blocks_of(index_path(), kIndexHeaderBytes);
  ASSERT_GE(blocks.size(), 3u);  // entries, cuts, end
  flip_byte(index_path(), blocks[1].offset + kBlockHeaderBytes + 4);
  EXPECT_THAT(index_error(),
              HasSubstr("block 1 (cuts) at byte " + std::to_string(blocks[1].offset) +
                        ": payload checksum mismatch"));
  atl::test::write_file(index_path().string(), good);
  flip_byte(index_path(), 30);
  EXPECT_THAT(index_error(), HasSubstr("header checksum mismatch"));
  atl::test::write_file(index_path().string(), std::string(300, 'x'));
  EXPECT_TRUE(atl::is_atom_directory(dir()));
  EXPECT_THAT(index_error(), HasSubstr("not an atom index (bad magic"));
  atl::test::write_file(index_path().string(), "");
  EXPECT_THAT(index_error(), HasSubstr("not an atom index"));
  fs::remove(index_path());
  EXPECT_FALSE(atl::is_atom_directory(dir()));
  EXPECT_THAT(index_error(), HasSubstr("missing"));
}

// ---- command line --------------------------------------------------------------------------

atl::test::CommandResult atoll(const std::string& args) {
  return atl::test::run_command(std::string("'") + ATOLL_BINARY + "' " + args);
}

std::string describe(const atl::test::CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

TEST(PartitionCli, PartitionThenInfo) {
  TempDir dir;
  const std::string graph = dir.file("g.txt");
  const std::string out = dir.file("atoms");
  atl::test::write_file(graph, "1 2\n2 3\n3 1\n3 4\n4 5\n5 3\n");
  auto r = atoll("partition '" + graph + "' --atoms 3 --out '" + out + "' --method metis --seed 4");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("into 3 atoms (metis, seed 4)"));
  EXPECT_THAT(r.out, HasSubstr("vertices        5\n"));
  EXPECT_THAT(r.out, HasSubstr("edges           6\n"));
  EXPECT_THAT(r.out, HasSubstr("cut edges"));
  EXPECT_THAT(r.out, HasSubstr("imbalance"));
  EXPECT_THAT(r.out, HasSubstr("edges/s"));
  EXPECT_TRUE(atl::is_atom_directory(out));

  auto info = atoll("info '" + out + "'");
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_THAT(info.out, HasSubstr("atoms           3 (metis, seed 4)\n"));
  EXPECT_THAT(info.out, HasSubstr("vertices        5\n"));
  EXPECT_THAT(info.out, HasSubstr("imbalance"));
  auto json = atoll("info '" + out + "' --json --verify");
  ASSERT_EQ(json.exit_code, 0) << describe(json);
  for (const char* want : {"\"atoms\":3", "\"method\":\"metis\"", "\"vertices\":5", "\"edges\":6",
                           "\"cut_edges\":", "\"imbalance\":", "\"verified\":true"}) {
    EXPECT_THAT(json.out, HasSubstr(want));
  }
  auto sym = atoll("partition '" + graph + "' --atoms 2 --out '" + out +
                   "' --symmetrize --dedup --threads 1 --json --force");
  ASSERT_EQ(sym.exit_code, 0) << describe(sym);
  EXPECT_THAT(sym.out, HasSubstr("\"edges\":12"));
  EXPECT_THAT(sym.out, HasSubstr("\"input_edges\":6"));
}

TEST(PartitionCli, BadFlagsAreUsageErrors) {
  TempDir dir;
  const std::string graph = dir.file("g.txt");
  atl::test::write_file(graph, "1 2\n");
  const std::string out = " --out '" + dir.file("atoms") + "'";
  for (const std::string& args : {"partition '" + graph + "'" + out + " --atoms 0",
                                  "partition '" + graph + "'" + out + " --atoms -3",
                                  "partition '" + graph + "'" + out + " --method random",
                                  "partition '" + graph + "'" + out + " --format xml",
                                  "partition '" + graph + "'" + out + " --bogus",
                                  "partition '" + graph + "'", "partition" + out}) {
    auto r = atoll(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << describe(r);
  }
  EXPECT_FALSE(fs::exists(dir.file("atoms")));
  auto missing = atoll("partition /nonexistent/g.txt" + out);
  EXPECT_EQ(missing.exit_code, 1) << describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/g.txt"));
}

TEST(PartitionCli, InfoOnCorruptAtomDirectory) {
  TempDir dir;
  const std::string graph = dir.file("g.txt");
  const std::string out = dir.file("atoms");
  atl::test::write_file(graph, "1 2\n2 3\n3 1\n");
  ASSERT_EQ(atoll("partition '" + graph + "' --atoms 2 --out '" + out + "'").exit_code, 0);
  EXPECT_EQ(atoll("info '" + out + "' --dedup").exit_code, 2);
  flip_byte(fs::path(out) / "atom-00001.atom", 20);
  EXPECT_EQ(atoll("info '" + out + "'").exit_code, 0);  // the index alone is intact
  auto r = atoll("info '" + out + "' --verify");
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("atom-00001.atom"));
  atl::test::write_file((fs::path(out) / atl::kAtomIndexFileName).string(), "garbage");
  auto g = atoll("info '" + out + "'");
  EXPECT_EQ(g.exit_code, 1) << describe(g);
  EXPECT_THAT(g.err, HasSubstr("not an atom index"));
}

}  // namespace
