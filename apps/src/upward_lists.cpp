// Building the upward lists: degrees of owned vertices, then (across ranks) the ghosts'
// degrees from their owners, the owned vertices' lists, then the ghosts' lists from their
// owners as gids. Bytes from peers are checked before use: a ghost lid must lie in the
// sender's ghost range and a list must fit its message.
#include "upward_lists.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <cstring>
#include <numeric>

#include "atoll/common/error.hpp"
#include "undirected_view.hpp"

namespace atl::detail {
namespace {

using Bytes = std::vector<std::byte>;

template <typename T>
void append(Bytes& out, T value) {
  const std::size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

/// Reads the messages one peer sent: records of fixed fields read in order, bounds-checked.
class Reader {
 public:
  Reader(const Bytes& bytes, int peer) : bytes_(bytes), peer_(peer) {}
  bool done() const { return at_ == bytes_.size(); }
  template <typename T>
  T next() {
    if (bytes_.size() - at_ < sizeof(T)) {
      fail("triangles: truncated adjacency message from rank ", peer_);
    }
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  /// The lid of a ghost this peer owns, validated.
  Lid ghost(const Topology& t) {
    const Lid lid = next<Lid>();
    for (const GhostRange& r : t.ghost_ranges()) {
      if (r.owner_rank == peer_ && lid >= r.begin && lid < r.end) return lid;
    }
    fail("triangles: rank ", peer_, " sent data for lid ", lid, ", not one of its ghosts here");
  }

 private:
  const Bytes& bytes_;
  int peer_;
  std::size_t at_ = 0;
};

/// For every owned vertex with replicas, append(record_bytes, replica) to the replica's rank.
template <typename Write>
std::vector<Bytes> to_replicas(const Topology& t, int ranks, Write&& write) {
  std::vector<Bytes> out(static_cast<std::size_t>(ranks));
  for (Lid v = 0; v < t.num_owned(); ++v) {
    for (const Replica& r : t.replicas(v)) write(out[static_cast<std::size_t>(r.rank)], v, r.lid);
  }
  return out;
}

}  // namespace

UpwardLists::UpwardLists(const Topology& t, Cluster* cluster) {
  const Lid n = t.num_vertices();
  const Lid owned = t.num_owned();
  std::vector<std::uint32_t> degree(n, 0);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, owned, 1024), [&](const auto& r) {
    for (Lid v = r.begin(); v < r.end(); ++v) {
      degree[v] = static_cast<std::uint32_t>(undirected_degree(t, v));
    }
  });
  if (cluster != nullptr) {
    auto in = cluster->exchange.all_to_all(
        to_replicas(t, cluster->size(), [&](Bytes& out, Lid v, Lid there) {
          append(out, there);
          append(out, degree[v]);
        }));
    for (std::size_t peer = 0; peer < in.size(); ++peer) {
      Reader reader(in[peer], static_cast<int>(peer));
      while (!reader.done()) {
        const Lid ghost = reader.ghost(t);
        degree[ghost] = reader.next<std::uint32_t>();
      }
    }
  }
  // Positions in the order by (degree, gid), descending: hubs first.
  std::vector<Lid> order(n);
  std::iota(order.begin(), order.end(), Lid{0});
  tbb::parallel_sort(order.begin(), order.end(), [&](Lid a, Lid b) {
    return degree[a] != degree[b] ? degree[a] > degree[b] : t.gid(a) > t.gid(b);
  });
  position_.resize(n);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, n, 4096), [&](const auto& r) {
    for (Lid i = r.begin(); i < r.end(); ++i) position_[order[i]] = i;
  });
  std::vector<Lid>().swap(order);
  auto before = [&](Lid a, Lid b) { return position_[a] > position_[b]; };
  auto for_each_upward = [&](Lid v, auto&& f) {
    for_each_undirected_neighbor(t, v, [&](Lid w) {
      if (before(v, w)) f(w);
    });
  };

  // Owned lists from the topology; ghosts' lists (gids from their owners) follow.
  std::vector<Bytes> in;
  if (cluster != nullptr) {
    in = cluster->exchange.all_to_all(
        to_replicas(t, cluster->size(), [&](Bytes& out, Lid v, Lid there) {
          append(out, there);
          const std::size_t count_at = out.size();
          append(out, std::uint32_t{0});
          std::uint32_t count = 0;
          for_each_upward(v, [&](Lid w) {
            append(out, t.gid(w));
            ++count;
          });
          std::memcpy(out.data() + count_at, &count, sizeof count);
        }));
  }
  offsets_.assign(std::size_t{n} + 1, 0);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, owned, 1024), [&](const auto& r) {
    for (Lid v = r.begin(); v < r.end(); ++v) {
      std::uint64_t c = 0;
      for_each_upward(v, [&](Lid) { ++c; });
      offsets_[v + 1] = c;
    }
  });
  // Ghost lists: count the entries this rank holds, then fill.
  auto for_each_ghost_list = [&](auto&& f) {
    for (std::size_t peer = 0; peer < in.size(); ++peer) {
      Reader reader(in[peer], static_cast<int>(peer));
      while (!reader.done()) {
        const Lid ghost = reader.ghost(t);
        const auto count = reader.next<std::uint32_t>();
        for (std::uint32_t i = 0; i < count; ++i) {
          const Lid w = t.lid(reader.next<Gid>());
          if (w != kInvalidLid) f(ghost, w);
        }
      }
    }
  };
  for_each_ghost_list([&](Lid ghost, Lid) { ++offsets_[ghost + 1]; });
  std::inclusive_scan(offsets_.begin(), offsets_.end(), offsets_.begin());
  targets_.resize(offsets_[n]);
  tbb::parallel_for(tbb::blocked_range<Lid>(0, owned, 1024), [&](const auto& r) {
    for (Lid v = r.begin(); v < r.end(); ++v) {
      Lid* out = targets_.data() + offsets_[v];
      for_each_upward(v, [&](Lid w) { *out++ = position_[w]; });
    }
  });
  std::vector<std::uint64_t> cursor(offsets_.begin() + owned, offsets_.end() - 1);
  for_each_ghost_list([&](Lid ghost, Lid w) { targets_[cursor[ghost - owned]++] = position_[w]; });
}

}  // namespace atl::detail
