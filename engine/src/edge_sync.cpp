// Cut-edge pushes (see edge_sync.hpp). A batch is u64 count, then count x (u32 index, data);
// indices are checked against the shared list of the sender.
#include "atoll/engine/edge_sync.hpp"

#include <algorithm>
#include <cstring>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"
#include "atoll/transport/mailboxes.hpp"
#include "batch_decode.hpp"

namespace atl {

EdgeSync::EdgeSync(const Topology& g, Cluster& cluster) : graph_(g), cluster_(cluster) {
  const int ranks = cluster.size();
  const Lid owned = g.num_owned();
  std::vector<int> owner(g.num_vertices(), cluster.rank());
  for (const GhostRange& r : g.ghost_ranges()) {
    for (Lid v = r.begin; v < r.end; ++v) owner[v] = r.owner_rank;
  }
  // Every local edge has an owned end; it is cut when the other end is a ghost. CSR order is
  // (source lid, target lid, input order); lids differ between ranks, gids do not: a stable
  // sort by (source gid, target gid) gives both sides the same order, repeats in input order.
  struct Cut {
    Gid src, dst;
    EdgeId e;
  };
  std::vector<std::vector<Cut>> cuts(static_cast<std::size_t>(ranks));
  shared_.assign(static_cast<std::size_t>(ranks), {});
  peer_of_.assign(g.num_edges(), -1);
  index_.assign(g.num_edges(), 0);
  for (Lid v = 0; v < g.num_vertices(); ++v) {
    for (EdgeId e = g.out_begin(v); e < g.out_end(v); ++e) {
      const Lid u = g.out_targets()[e];
      const Lid other = v < owned ? u : v;  // the ghost end, if any
      if (other < owned) continue;
      peer_of_[e] = owner[other];
      cuts[static_cast<std::size_t>(owner[other])].push_back({g.gid(v), g.gid(u), e});
    }
  }
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(ranks));
  std::vector<std::uint32_t> crcs(static_cast<std::size_t>(ranks), 0);
  for (int p = 0; p < ranks; ++p) {
    std::vector<Cut>& list = cuts[static_cast<std::size_t>(p)];
    std::stable_sort(list.begin(), list.end(), [](const Cut& a, const Cut& b) {
      return a.src != b.src ? a.src < b.src : a.dst < b.dst;
    });
    std::uint32_t crc = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      index_[list[i].e] = static_cast<std::uint32_t>(i);
      shared_[static_cast<std::size_t>(p)].push_back(list[i].e);
      const Gid pair[2] = {list[i].src, list[i].dst};
      crc = crc32c(crc, pair, sizeof pair);
    }
    crcs[static_cast<std::size_t>(p)] = crc;
    const std::uint64_t summary[2] = {list.size(), crc};
    out[static_cast<std::size_t>(p)].resize(sizeof summary);
    std::memcpy(out[static_cast<std::size_t>(p)].data(), summary, sizeof summary);
  }
  std::vector<std::vector<std::byte>> in = cluster.exchange.all_to_all(std::move(out));
  for (int p = 0; p < ranks; ++p) {
    if (p == cluster.rank()) continue;
    std::uint64_t summary[2];
    if (in[p].size() != sizeof summary) fail("rank ", p, " sent a bad cut-edge summary");
    std::memcpy(summary, in[p].data(), sizeof summary);
    const std::vector<EdgeId>& list = shared_[static_cast<std::size_t>(p)];
    const std::uint32_t crc = crcs[static_cast<std::size_t>(p)];
    if (summary[0] != list.size() || summary[1] != crc) {
      fail("ranks ", cluster.rank(), " and ", p, " disagree on the edges between them (",
           list.size(), " vs ", summary[0], " edges)");
    }
  }
  sent_.resize(shared_.size());
  for (std::size_t p = 0; p < shared_.size(); ++p) sent_[p].assign(shared_[p].size(), 0);
}

void EdgeSync::push(std::byte* edge_data, std::size_t edge_bytes,
                    std::span<const std::span<const Lid>> updated) {
  const int ranks = cluster_.size();
  const auto np = static_cast<std::size_t>(ranks);
  if (mailboxes_ == nullptr || edge_bytes != mail_edge_bytes_) {
    // Collective (every rank pushes the same edge size): room for every shared edge once.
    std::vector<std::size_t> capacity(np, 0);
    for (std::size_t p = 0; p < np; ++p) {
      if (!shared_[p].empty()) capacity[p] = 8 + shared_[p].size() * (4 + edge_bytes);
    }
    mailboxes_ = std::make_unique<Mailboxes>(cluster_.transport, cluster_.collectives, capacity);
    mail_edge_bytes_ = edge_bytes;
  }
  if (++push_count_ == 0) {
    for (auto& marks : sent_) std::fill(marks.begin(), marks.end(), 0);
    push_count_ = 1;
  }
  // Batch: u64 count, then count x (u32 index in the shared list, data).
  std::vector<std::byte*> cursor(np, nullptr);
  for (std::size_t p = 0; p < np; ++p) {
    if (!shared_[p].empty()) cursor[p] = mailboxes_->outbox(static_cast<int>(p)).data() + 8;
  }
  auto add = [&](EdgeId e) {
    const int p = peer_of_[e];
    if (p < 0) return;
    const auto pi = static_cast<std::size_t>(p);
    std::uint32_t& mark = sent_[pi][index_[e]];
    if (mark == push_count_) return;  // adjacent to two updated vertices, or listed twice
    mark = push_count_;
    std::memcpy(cursor[pi], &index_[e], 4);
    std::memcpy(cursor[pi] + 4, edge_data + e * edge_bytes, edge_bytes);
    cursor[pi] += 4 + edge_bytes;
  };
  for (std::span<const Lid> list : updated) {
    for (Lid v : list) {
      for (EdgeId e = graph_.out_begin(v); e < graph_.out_end(v); ++e) add(e);
      for (EdgeId e : graph_.in_edges(v)) add(e);
    }
  }
  std::vector<std::size_t> length(np, 0);
  for (std::size_t p = 0; p < np; ++p) {
    if (cursor[p] == nullptr) continue;
    std::byte* begin = mailboxes_->outbox(static_cast<int>(p)).data();
    length[p] = static_cast<std::size_t>(cursor[p] - begin);
    const std::uint64_t count = (length[p] - 8) / (4 + edge_bytes);
    std::memcpy(begin, &count, 8);
  }
  mailboxes_->deliver(length);
  last_bytes_sent_ = mailboxes_->last_bytes_sent();
  for (int p = 0; p < ranks; ++p) {
    const std::vector<EdgeId>& list = shared_[static_cast<std::size_t>(p)];
    if (p == cluster_.rank() || list.empty()) continue;
    detail::decode_cut_edge_batch(mailboxes_->inbox(p), p, list.size(), edge_bytes,
                                  [&](std::uint32_t index, const std::byte* src) {
                                    std::memcpy(edge_data + list[index] * edge_bytes, src,
                                                edge_bytes);
                                  });
  }
}

}  // namespace atl
