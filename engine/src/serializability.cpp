#include "atoll/engine/serializability.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "atoll/common/error.hpp"
#include "batch_decode.hpp"

namespace atl {

void UpdateHistory::add(std::span<const VersionedAccess> reads,
                        std::span<const VersionedAccess> writes) {
  updates_.push_back({{origin_, next_seq_++}, accesses_.size()});
  for (const VersionedAccess& a : reads) accesses_.push_back({a.vertex, a.version, false});
  for (const VersionedAccess& a : writes) accesses_.push_back({a.vertex, a.version, true});
}

void UpdateHistory::append(const UpdateHistory& other) {
  const std::size_t base = accesses_.size();
  for (const Update& u : other.updates_) updates_.push_back({u.ref, base + u.begin});
  accesses_.insert(accesses_.end(), other.accesses_.begin(), other.accesses_.end());
}

std::vector<std::byte> UpdateHistory::encode() const {
  std::vector<std::byte> out;
  detail::append_value(out, static_cast<std::uint64_t>(updates_.size()));
  for (std::size_t i = 0; i < updates_.size(); ++i) {
    const std::size_t end = i + 1 < updates_.size() ? updates_[i + 1].begin : accesses_.size();
    detail::append_value(out, updates_[i].ref.origin);
    detail::append_value(out, updates_[i].ref.seq);
    detail::append_value(out, static_cast<std::uint32_t>(end - updates_[i].begin));
    for (std::size_t a = updates_[i].begin; a < end; ++a) {
      detail::append_value(out, accesses_[a].vertex);
      detail::append_value(out, accesses_[a].version);
      detail::append_value(out, static_cast<std::uint8_t>(accesses_[a].write));
    }
  }
  return out;
}

UpdateHistory UpdateHistory::decode(std::span<const std::byte> bytes, int source) {
  detail::BatchReader in(bytes, source, "update history");
  UpdateHistory h;
  const auto n = in.value<std::uint64_t>();
  in.expect_records(n, 4 + 8 + 4);
  h.updates_.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    Update u;
    u.ref.origin = in.value<std::uint32_t>();
    u.ref.seq = in.value<std::uint64_t>();
    u.begin = h.accesses_.size();
    const auto accesses = in.value<std::uint32_t>();
    in.expect_records(accesses, 8 + 8 + 1);
    for (std::uint32_t a = 0; a < accesses; ++a) {
      Access x;
      x.vertex = in.value<Gid>();
      x.version = in.value<std::uint64_t>();
      const auto write = in.value<std::uint8_t>();
      if (write > 1) fail("rank ", source, " sent an update history with access kind ", int{write});
      x.write = write != 0;
      h.accesses_.push_back(x);
    }
    h.updates_.push_back(u);
  }
  in.expect_end();
  return h;
}

struct SerializabilityCheck {
  const UpdateHistory& h;
  SerializabilityReport report;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;  ///< (from, to) update indices

  std::string name(std::uint32_t u) const {
    return str_cat("update ", h.updates_[u].ref.seq, " of origin ", h.updates_[u].ref.origin);
  }

  void violation(std::string what) {
    if (report.ok) {
      report.ok = false;
      report.violation = std::move(what);
    }
  }

  /// Builds the precedence edges vertex by vertex, versions ascending, writes before reads.
  void build_edges() {
    struct Entry {
      Gid vertex;
      std::uint64_t version;
      std::uint8_t read;  ///< 0: write (sorts first)
      std::uint32_t update;
    };
    std::vector<Entry> all;
    all.reserve(h.accesses_.size());
    for (std::uint32_t u = 0; u < h.updates_.size(); ++u) {
      const std::size_t end =
          u + 1 < h.updates_.size() ? h.updates_[u + 1].begin : h.accesses_.size();
      for (std::size_t a = h.updates_[u].begin; a < end; ++a) {
        const auto& x = h.accesses_[a];
        all.push_back({x.vertex, x.version, static_cast<std::uint8_t>(!x.write), u});
      }
    }
    std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
      if (a.vertex != b.vertex) return a.vertex < b.vertex;
      if (a.version != b.version) return a.version < b.version;
      return a.read < b.read;
    });
    constexpr std::uint32_t kNone = UINT32_MAX;
    std::vector<std::uint32_t> readers;  // of the versions since the last write
    for (std::size_t i = 0; i < all.size();) {
      const Gid vertex = all[i].vertex;
      std::uint32_t last_writer = kNone;
      std::uint64_t last_written = 0;
      readers.clear();
      for (; i < all.size() && all[i].vertex == vertex; ++i) {
        const Entry& e = all[i];
        if (e.read == 0) {
          if (last_writer != kNone && last_written == e.version) {
            violation(str_cat(name(last_writer), " and ", name(e.update), " both wrote version ",
                              e.version, " of vertex ", vertex, " (a lost update)"));
            continue;
          }
          if (last_writer != kNone) edges.emplace_back(last_writer, e.update);
          for (std::uint32_t r : readers) {
            if (r != e.update) edges.emplace_back(r, e.update);
          }
          readers.clear();
          last_writer = e.update;
          last_written = e.version;
        } else {
          if (e.version != last_written) {
            violation(str_cat(name(e.update), " read version ", e.version, " of vertex ", vertex,
                              ", which no update wrote"));
            continue;
          }
          if (last_writer != kNone && last_writer != e.update) {
            edges.emplace_back(last_writer, e.update);
          }
          readers.push_back(e.update);
        }
      }
    }
  }

  /// Finds a cycle by an iterative depth-first search.
  void find_cycle() {
    const std::size_t n = h.updates_.size();
    std::vector<std::uint64_t> offsets(n + 1, 0);
    for (const auto& [from, to] : edges) ++offsets[from + 1];
    for (std::size_t u = 0; u < n; ++u) offsets[u + 1] += offsets[u];
    std::vector<std::uint32_t> targets(edges.size());
    std::vector<std::uint64_t> fill(offsets.begin(), offsets.end() - 1);
    for (const auto& [from, to] : edges) targets[fill[from]++] = to;

    enum : std::uint8_t { kWhite, kGrey, kBlack };
    std::vector<std::uint8_t> colour(n, kWhite);
    std::vector<std::uint64_t> next(n);
    std::vector<std::uint32_t> stack;
    for (std::uint32_t root = 0; root < n; ++root) {
      if (colour[root] != kWhite) continue;
      stack.push_back(root);
      colour[root] = kGrey;
      next[root] = offsets[root];
      while (!stack.empty()) {
        const std::uint32_t u = stack.back();
        if (next[u] == offsets[u + 1]) {
          colour[u] = kBlack;
          stack.pop_back();
          continue;
        }
        const std::uint32_t w = targets[next[u]++];
        if (colour[w] == kWhite) {
          colour[w] = kGrey;
          next[w] = offsets[w];
          stack.push_back(w);
        } else if (colour[w] == kGrey) {
          auto at = std::find(stack.begin(), stack.end(), w);
          std::ostringstream text;
          text << "precedence cycle: ";
          for (auto it = at; it != stack.end(); ++it) {
            report.cycle.push_back(h.updates_[*it].ref);
            text << name(*it) << " -> ";
          }
          text << name(w);
          violation(text.str());
          return;
        }
      }
    }
  }
};

SerializabilityReport check_serializable(const UpdateHistory& history) {
  SerializabilityCheck check{history, {}, {}};
  check.report.updates = history.size();
  check.build_edges();
  if (check.report.ok) check.find_cycle();
  return check.report;
}

}  // namespace atl
