// Colouring a partitioned graph (see coloring.hpp): Jones-Plassmann in rounds, each round
// followed by a push of the new colours to the ghosts.
//
// Distance 1: an uncoloured owned vertex whose higher-priority neighbours (owned or ghost) are
// all coloured takes the smallest colour none of its coloured neighbours has.
//
// Distance 2: a vertex's two-hop neighbours may live on ranks that hold no copy of it, but the
// owner of each neighbour w sees w's whole neighbourhood. So a round first computes, for every
// owned w, the best (smallest) key of an uncoloured vertex in w's closed neighbourhood and the
// colours used there, and pushes both to w's replicas (incrementally: only the w next to a
// vertex coloured in the last round change); an uncoloured v is ready when it is
// that best vertex for every w in its closed neighbourhood, and takes the smallest colour
// used in none of them.
//
// Either way two vertices ready in the same round are never within the distance (each would
// have to beat the other), so a round's choices are independent and the result is the
// sequential greedy colouring in priority order, the same for any number of ranks.
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <compare>
#include <cstring>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/engine/coloring.hpp"
#include "atoll/engine/ghost_sync.hpp"

namespace atl {
namespace {

constexpr std::uint32_t kNoColor = UINT32_MAX;

std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// A priority: smaller is higher (degree descending, then hash of gid, then gid).
struct Key {
  std::uint64_t inverse_degree;
  std::uint64_t hash;
  Gid gid;
  friend auto operator<=>(const Key&, const Key&) = default;
};
constexpr Key kNoKey{UINT64_MAX, UINT64_MAX, UINT64_MAX};

/// Calls f(u) for every distinct undirected neighbour u != v of owned vertex v (owned or ghost).
template <typename F>
void for_each_neighbor(const Topology& g, Lid v, F&& f) {
  std::span<const Lid> out = g.out_neighbors(v);
  std::span<const Lid> in = g.in_neighbors(v);
  std::size_t i = 0, j = 0;
  Lid last = kInvalidLid;
  while (i < out.size() || j < in.size()) {
    Lid u = (j == in.size() || (i < out.size() && out[i] <= in[j])) ? out[i++] : in[j++];
    if (u == last || u == v) continue;
    last = u;
    f(u);
  }
}

/// The smallest colour not in used (sorts used).
std::uint32_t smallest_unused(std::vector<std::uint32_t>& used) {
  std::sort(used.begin(), used.end());
  std::uint32_t c = 0;
  for (std::uint32_t x : used) {
    if (x == c) {
      ++c;
    } else if (x > c) {
      break;
    }
  }
  return c;
}

class ColoringRounds {
 public:
  ColoringRounds(const Topology& g, Cluster& cluster, GhostSync& ghosts)
      : g_(g), cluster_(cluster), ghosts_(ghosts), color_(g.num_vertices(), kNoColor) {
    // Priorities need every vertex's degree at its owner, pushed to the ghosts.
    degree_.assign(g.num_vertices(), 0);
    tbb::parallel_for(tbb::blocked_range<Lid>(0, g.num_owned(), 1024), [&](const auto& r) {
      for (Lid v = r.begin(); v < r.end(); ++v) {
        std::uint32_t d = 0;
        for_each_neighbor(g, v, [&](Lid) { ++d; });
        degree_[v] = d;
      }
    });
    (void)ghosts.push_all(
        {reinterpret_cast<std::byte*>(degree_.data()), nullptr, sizeof(std::uint32_t)});
  }

  Key key(Lid v) const { return {~std::uint64_t{degree_[v]}, mix(g_.gid(v)), g_.gid(v)}; }

  /// Runs rounds until every rank's vertices are coloured; choose(pending, chosen) marks the
  /// ready vertices of a round with their colour (runs after prepare()).
  template <typename Prepare, typename Choose>
  Coloring run(Prepare prepare, Choose choose) {
    std::vector<Lid> pending(g_.num_owned());
    for (Lid v = 0; v < g_.num_owned(); ++v) pending[v] = v;
    std::uint32_t max_color = 0;
    std::vector<Lid> newly;  // coloured in the last round, owned and ghosts (once each)
    std::vector<char> known(g_.num_vertices(), 0);
    for (std::uint64_t round = 0;; ++round) {
      prepare(newly);
      std::vector<std::uint32_t> chosen(pending.size(), kNoColor);
      choose(pending, chosen);
      std::vector<Lid> coloured, still;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (chosen[i] == kNoColor) {
          still.push_back(pending[i]);
        } else {
          color_[pending[i]] = chosen[i];
          max_color = std::max(max_color, chosen[i] + 1);
          coloured.push_back(pending[i]);
        }
      }
      pending = std::move(still);
      const std::span<const Lid> changed[1] = {coloured};
      std::vector<Lid> written;
      (void)ghosts_.push(
          {reinterpret_cast<std::byte*>(color_.data()), nullptr, sizeof(std::uint32_t)}, changed,
          {}, &written);
      newly = std::move(coloured);
      for (Lid u : newly) known[u] = 1;
      for (Lid u : written) {
        if (color_[u] != kNoColor && !known[u]) {
          known[u] = 1;
          newly.push_back(u);
        }
      }
      const auto left =
          cluster_.collectives.allreduce<std::uint64_t>(pending.size(), ReduceOp::kSum);
      if (left == 0) break;
      if (round > 4 * std::uint64_t{g_.num_vertices()} + 1000) fail("colouring did not converge");
    }
    Coloring result;
    result.num_colors = cluster_.collectives.allreduce<std::uint32_t>(
        std::max<std::uint32_t>(max_color, 1), ReduceOp::kMax);
    result.color.assign(color_.begin(), color_.begin() + g_.num_owned());
    return result;
  }

  /// Distance 1, by counting: each owned vertex waits for its uncoloured higher-priority
  /// neighbours (owned or ghost); a colour that arrives or is chosen releases the lower-priority
  /// owned neighbours, and a vertex whose count reaches zero is coloured in the next round. A
  /// round costs O(edges of the vertices coloured in it), not a scan of every uncoloured one.
  Coloring distance1() {
    const Lid owned = g_.num_owned();
    std::vector<std::uint32_t> waiting(owned, 0);
    tbb::parallel_for(tbb::blocked_range<Lid>(0, owned, 1024), [&](const auto& r) {
      for (Lid v = r.begin(); v < r.end(); ++v) {
        const Key kv = key(v);
        std::uint32_t n = 0;
        for_each_neighbor(g_, v, [&](Lid u) { n += key(u) < kv ? 1 : 0; });
        waiting[v] = n;
      }
    });
    std::vector<Lid> ready;
    for (Lid v = 0; v < owned; ++v) {
      if (waiting[v] == 0) ready.push_back(v);
    }
    tbb::enumerable_thread_specific<std::vector<Lid>> released;
    std::uint64_t coloured = 0;
    std::uint32_t max_color = 0;
    for (std::uint64_t round = 0;; ++round) {
      // Two ready vertices are never adjacent (each would wait for the other), so a vertex's
      // neighbours' colours do not change while it reads them.
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, ready.size(), 64), [&](const auto& r) {
        std::vector<std::uint32_t>& used = scratch_.local();
        for (std::size_t i = r.begin(); i < r.end(); ++i) {
          const Lid v = ready[i];
          used.clear();
          for_each_neighbor(g_, v, [&](Lid u) {
            if (color_[u] != kNoColor) used.push_back(color_[u]);
          });
          color_[v] = smallest_unused(used);
        }
      });
      for (Lid v : ready) max_color = std::max(max_color, color_[v] + 1);
      coloured += ready.size();
      const std::span<const Lid> changed[1] = {ready};
      std::vector<Lid> written;
      (void)ghosts_.push(
          {reinterpret_cast<std::byte*>(color_.data()), nullptr, sizeof(std::uint32_t)}, changed,
          {}, &written);
      // Newly coloured: this round's owned vertices and the ghosts whose colour arrived (a
      // ghost's colour is written once, so an arrival of an old colour is skipped).
      std::sort(written.begin(), written.end());
      written.erase(std::unique(written.begin(), written.end()), written.end());
      std::erase_if(written,
                    [&](Lid u) { return color_[u] == kNoColor || ghost_known_[u - owned]; });
      for (Lid u : written) ghost_known_[u - owned] = 1;
      auto release = [&](std::span<const Lid> newly) {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, newly.size(), 64), [&](const auto& r) {
          std::vector<Lid>& out = released.local();
          for (std::size_t i = r.begin(); i < r.end(); ++i) {
            const Lid u = newly[i];
            const Key ku = key(u);
            for_each_neighbor(g_, u, [&](Lid v) {
              if (v >= owned || !(ku < key(v))) return;
              if (std::atomic_ref<std::uint32_t>(waiting[v]).fetch_sub(1) == 1) out.push_back(v);
            });
          }
        });
      };
      release(ready);
      release(written);
      ready.clear();
      for (std::vector<Lid>& part : released) {
        ready.insert(ready.end(), part.begin(), part.end());
        part.clear();
      }
      std::sort(ready.begin(), ready.end());
      const auto progress = cluster_.collectives.allreduce<std::uint64_t>(
          static_cast<std::uint64_t>(owned - coloured) | (ready.empty() ? 0 : 1ull << 63),
          ReduceOp::kMax);
      if (progress == 0) break;
      if (progress >> 63 == 0) fail("colouring did not converge: no vertex is ready");
      if (round > 4 * std::uint64_t{g_.num_vertices()} + 1000) fail("colouring did not converge");
    }
    Coloring result;
    result.num_colors = cluster_.collectives.allreduce<std::uint32_t>(
        std::max<std::uint32_t>(max_color, 1), ReduceOp::kMax);
    result.color.assign(color_.begin(), color_.begin() + owned);
    return result;
  }

  Coloring distance2() {
    const Lid owned = g_.num_owned();
    std::vector<Key> best(g_.num_vertices(), kNoKey);      ///< per vertex, see the top
    std::vector<std::vector<std::uint32_t>> lists(owned);  ///< colours in owned closed nbhds
    std::vector<std::vector<std::uint32_t>> ghost_lists(g_.num_vertices() - owned);
    auto list_of = [&](Lid w) -> const std::vector<std::uint32_t>& {
      return w < owned ? lists[w] : ghost_lists[w - owned];
    };
    // Incremental: a round changes the lists and best keys only around the vertices coloured
    // in the last round, so only those owned vertices are recomputed and pushed (the first
    // round computes and pushes all).
    std::vector<std::uint32_t> mark(owned, 0);
    std::uint32_t stamp = 0;
    bool first = true;
    // A vertex can only become ready when a best key in its closed neighbourhood changed:
    // choose() looks at those candidates only (all of them in the first round).
    std::vector<std::uint32_t> candidate(owned, 0);
    std::uint32_t round_stamp = 0;
    bool all_candidates = true;
    auto prepare = [&](const std::vector<Lid>& newly) {
      std::vector<Lid> affected;
      if (first) {
        affected.resize(owned);
        for (Lid w = 0; w < owned; ++w) affected[w] = w;
      } else {
        ++stamp;
        auto touch = [&](Lid w, std::uint32_t c) {
          std::vector<std::uint32_t>& list = lists[w];
          auto at = std::lower_bound(list.begin(), list.end(), c);
          if (at == list.end() || *at != c) list.insert(at, c);
          if (mark[w] != stamp) {
            mark[w] = stamp;
            affected.push_back(w);
          }
        };
        for (Lid u : newly) {
          const std::uint32_t c = color_[u];
          if (u < owned) touch(u, c);
          for_each_neighbor(g_, u, [&](Lid w) {
            if (w < owned) touch(w, c);
          });
        }
      }
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, affected.size(), 256),
                        [&](const auto& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) {
                            const Lid w = affected[i];
                            Key b = color_[w] == kNoColor ? key(w) : kNoKey;
                            for_each_neighbor(g_, w, [&](Lid u) {
                              if (color_[u] == kNoColor) b = std::min(b, key(u));
                            });
                            best[w] = b;
                          }
                        });
      const GhostSync::Arrays keys{reinterpret_cast<std::byte*>(best.data()), nullptr, sizeof(Key)};
      std::vector<Lid> written;
      if (first) {
        (void)ghosts_.push_all(keys);
      } else {
        const std::span<const Lid> changed[1] = {affected};
        (void)ghosts_.push(keys, changed, {}, &written);
      }
      push_color_lists(lists, affected, ghost_lists);
      all_candidates = first;
      first = false;
      ++round_stamp;
      auto nominate = [&](Lid w) {  // w's best changed: w and its owned neighbours
        if (w < owned) candidate[w] = round_stamp;
        for_each_neighbor(g_, w, [&](Lid v) {
          if (v < owned) candidate[v] = round_stamp;
        });
      };
      if (!all_candidates) {
        for (Lid w : affected) nominate(w);
        for (Lid w : written) nominate(w);
      }
    };
    auto choose = [&](const std::vector<Lid>& pending, std::vector<std::uint32_t>& chosen) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, pending.size(), 64), [&](const auto& r) {
        std::vector<std::uint32_t>& used = scratch_.local();
        for (std::size_t i = r.begin(); i < r.end(); ++i) {
          const Lid v = pending[i];
          if (!all_candidates && candidate[v] != round_stamp) continue;
          const Key kv = key(v);
          bool ready = best[v] == kv;
          for_each_neighbor(g_, v, [&](Lid w) { ready = ready && best[w] == kv; });
          if (!ready) continue;
          used.assign(list_of(v).begin(), list_of(v).end());
          for_each_neighbor(
              g_, v, [&](Lid w) { used.insert(used.end(), list_of(w).begin(), list_of(w).end()); });
          chosen[i] = smallest_unused(used);
        }
      });
    };
    return run(prepare, choose);
  }

 private:
  /// Collective: sends the colour lists of the `changed` owned vertices to their replicas and
  /// writes the lists that arrive into ghost_lists (by lid - owned). Records: u32 lid at the
  /// receiver, u32 count, count x u32; all checked.
  void push_color_lists(const std::vector<std::vector<std::uint32_t>>& lists,
                        const std::vector<Lid>& changed,
                        std::vector<std::vector<std::uint32_t>>& ghost_lists) {
    const Lid owned = g_.num_owned();
    std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(cluster_.size()));
    auto put32 = [](std::vector<std::byte>& b, std::uint32_t v) {
      const std::size_t at = b.size();
      b.resize(at + 4);
      std::memcpy(b.data() + at, &v, 4);
    };
    for (Lid v : changed) {
      for (const Replica& r : g_.replicas(v)) {
        std::vector<std::byte>& b = out[static_cast<std::size_t>(r.rank)];
        put32(b, r.lid);
        put32(b, static_cast<std::uint32_t>(lists[v].size()));
        for (std::uint32_t c : lists[v]) put32(b, c);
      }
    }
    std::vector<std::vector<std::byte>> in = cluster_.exchange.all_to_all(std::move(out));
    for (const GhostRange& range : g_.ghost_ranges()) {
      const std::vector<std::byte>& b = in[static_cast<std::size_t>(range.owner_rank)];
      std::size_t at = 0;
      auto get32 = [&] {
        if (b.size() - at < 4) fail("rank ", range.owner_rank, " sent a truncated colour list");
        std::uint32_t v;
        std::memcpy(&v, b.data() + at, 4);
        at += 4;
        return v;
      };
      while (at < b.size()) {
        const Lid lid = get32();
        const std::uint32_t n = get32();
        if (lid < range.begin || lid >= range.end || n > (b.size() - at) / 4) {
          fail("rank ", range.owner_rank, " sent a colour list for lid ", lid,
               " outside its ghosts here");
        }
        std::vector<std::uint32_t>& list = ghost_lists[lid - owned];
        list.resize(n);
        for (std::uint32_t i = 0; i < n; ++i) list[i] = get32();
      }
    }
  }

  const Topology& g_;
  Cluster& cluster_;
  GhostSync& ghosts_;
  std::vector<std::uint32_t> degree_;
  std::vector<std::uint32_t> color_;
  std::vector<char> ghost_known_ = std::vector<char>(g_.num_vertices() - g_.num_owned(), 0);
  tbb::enumerable_thread_specific<std::vector<std::uint32_t>> scratch_;
};

}  // namespace

Coloring color_graph_across_ranks(const Topology& g, Consistency consistency, Cluster& cluster,
                                  GhostSync& ghosts) {
  if (consistency == Consistency::kVertex) {
    Coloring result;
    result.color.assign(g.num_owned(), 0);
    result.num_colors = 1;
    return result;
  }
  ColoringRounds rounds(g, cluster, ghosts);
  return consistency == Consistency::kFull ? rounds.distance2() : rounds.distance1();
}

}  // namespace atl
