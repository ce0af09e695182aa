// Ghost pushes (see ghost_sync.hpp). A batch to one peer is
//   u64 mode (0 sparse, 1 dense), u64 count, then count x data (dense) or count x
//   (u32 ghost lid at the peer, data) (sparse), then u64 requests, requests x (u32 lid, f64).
// Batches travel as one-sided puts into the peer's mailbox (one set per data size).
// Everything received is checked against this rank's ghost range for the sender before use.
// Batches are packed and unpacked in parallel blocks on the calling thread's arena.
#include "atoll/engine/ghost_sync.hpp"

#include <algorithm>
#include <cstring>

#include "atoll/common/error.hpp"
#include "atoll/transport/mailboxes.hpp"
#include "batch_decode.hpp"
#include "ghost_stream.hpp"
#include "slot_gather.hpp"
#include "sparse_pack.hpp"

namespace atl {
using detail::decode_ghost_batch;
using detail::decode_write_back;
using detail::GhostBatchLimits;
using detail::kDenseBatch;
using detail::kSparseBatch;

namespace {
/// A batch starts with u64 mode and u64 count.
constexpr std::size_t kBatchHead = 2 * sizeof(std::uint64_t);
}  // namespace

GhostSync::GhostSync(const Topology& graph, Cluster& cluster) : graph_(graph), cluster_(cluster) {
  const int ranks = cluster.size();
  const int me = cluster.rank();
  const Lid owned = graph.num_owned();
  peers_.resize(static_cast<std::size_t>(ranks));
  mark_.assign(owned, 0);
  std::vector<std::vector<std::pair<Lid, Lid>>> by_peer(static_cast<std::size_t>(ranks));
  for (Lid v = 0; v < owned; ++v) {
    for (const Replica& r : graph.replicas(v)) {
      if (r.rank < 0 || r.rank >= ranks || r.rank == me)
        fail("replica of ", v, " on rank ", r.rank);
      by_peer[static_cast<std::size_t>(r.rank)].emplace_back(r.lid, v);
    }
  }
  for (int p = 0; p < ranks; ++p) {
    auto& list = by_peer[static_cast<std::size_t>(p)];
    std::sort(list.begin(), list.end());
    Peer& peer = peers_[static_cast<std::size_t>(p)];
    peer.remote_base = list.empty() ? 0 : list.front().first;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i].first != peer.remote_base + i) {
        fail("rank ", p, "'s ghosts of rank ", me, " are not one contiguous range");
      }
      peer.send_lids.push_back(list[i].second);
    }
  }
  ghost_owner_.assign(graph.num_vertices() - owned, -1);
  for (const GhostRange& range : graph.ghost_ranges()) {
    Peer& peer = peers_[static_cast<std::size_t>(range.owner_rank)];
    peer.ghost_begin = range.begin;
    peer.ghost_end = range.end;
    for (Lid g = range.begin; g < range.end; ++g) ghost_owner_[g - owned] = range.owner_rank;
  }
  // Every owner tells each peer its own lids in the order of the peer's ghost range.
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(ranks));
  for (int p = 0; p < ranks; ++p) {
    const auto& lids = peers_[static_cast<std::size_t>(p)].send_lids;
    out[static_cast<std::size_t>(p)].resize(lids.size() * sizeof(Lid));
    if (!lids.empty()) std::memcpy(out[p].data(), lids.data(), lids.size() * sizeof(Lid));
  }
  std::vector<std::vector<std::byte>> in = cluster.exchange.all_to_all(std::move(out));
  for (int p = 0; p < ranks; ++p) {  // both sides of a pair agree: either holds ghosts of the other
    Peer& peer = peers_[static_cast<std::size_t>(p)];
    peer.has_batch = p != me && (!peer.send_lids.empty() || peer.ghost_end > peer.ghost_begin);
  }
  request_mark_.assign(graph.num_vertices() - owned, 0);
  request_priority_.assign(graph.num_vertices() - owned, 0.0);
  owner_lid_.assign(graph.num_vertices() - owned, kInvalidLid);
  for (int o = 0; o < ranks; ++o) {
    const Peer& peer = peers_[static_cast<std::size_t>(o)];
    const std::size_t count = peer.ghost_end - peer.ghost_begin;
    if (in[o].size() != count * sizeof(Lid)) {
      fail("rank ", o, " describes ", in[o].size() / sizeof(Lid),
           " of its vertices as ghosts here; rank ", me, " holds ", count);
    }
    for (std::size_t i = 0; i < count; ++i) {
      Lid lid;
      std::memcpy(&lid, in[o].data() + i * sizeof(Lid), sizeof(Lid));
      owner_lid_[peer.ghost_begin - owned + i] = lid;
    }
  }
}

GhostSync::~GhostSync() = default;

Mailboxes& GhostSync::mailboxes(std::size_t bytes) {
  std::unique_ptr<Mailboxes>& mail = mailboxes_[bytes];
  if (mail == nullptr) {  // collective: every rank pushes the same data sizes in the same order
    // Room for a dense batch (a sparse one is smaller, or it would be dense) and a request
    // for every ghost the peer owns.
    std::vector<std::size_t> capacity(peers_.size(), 0);
    for (std::size_t p = 0; p < peers_.size(); ++p) {
      const Peer& peer = peers_[p];
      if (!peer.has_batch) continue;
      capacity[p] = 3 * sizeof(std::uint64_t) + peer.send_lids.size() * bytes +
                    (peer.ghost_end - peer.ghost_begin) * (sizeof(Lid) + sizeof(double));
    }
    mail = std::make_unique<Mailboxes>(cluster_.transport, cluster_.collectives, capacity);
  }
  return *mail;
}

std::vector<ScheduleRequest> GhostSync::push(const Arrays& arrays,
                                             std::span<const std::span<const Lid>> changed,
                                             std::span<const ScheduleRequest> remote_schedules,
                                             std::vector<Lid>* written) {
  return exchange(arrays, changed, remote_schedules, false, written);
}

std::vector<Lid> GhostSync::write_back(const Arrays& arrays,
                                       std::span<const std::span<const Lid>> written) {
  const int ranks = cluster_.size();
  const int me = cluster_.rank();
  const Lid owned = graph_.num_owned();
  const std::size_t bytes = arrays.bytes;
  const std::size_t np = static_cast<std::size_t>(ranks);
  if (write_back_mail_ == nullptr) {  // collective: created on every rank's first write-back
    write_back_bytes_ = bytes;
    std::vector<std::size_t> capacity(np, 0);
    for (std::size_t p = 0; p < np; ++p) {
      const Peer& peer = peers_[p];
      if (peer.has_batch) {
        capacity[p] =
            sizeof(std::uint64_t) + (peer.ghost_end - peer.ghost_begin) * (sizeof(Lid) + bytes);
      }
    }
    write_back_mail_ =
        std::make_unique<Mailboxes>(cluster_.transport, cluster_.collectives, capacity);
    write_mark_.assign(graph_.num_vertices() - owned, 0);
  }
  if (bytes != write_back_bytes_) fail("ghost write-back: data size changed");
  Mailboxes& mail = *write_back_mail_;
  // Batch to an owner: u64 count, then count x (u32 lid at the owner, data); each ghost once.
  std::vector<std::byte*> cursor(np, nullptr);
  for (std::size_t p = 0; p < np; ++p) {
    if (static_cast<int>(p) != me && peers_[p].has_batch) {
      cursor[p] = mail.outbox(static_cast<int>(p)).data() + sizeof(std::uint64_t);
    }
  }
  std::vector<std::uint64_t> count(np, 0);
  if (++write_count_ == 0) {
    std::fill(write_mark_.begin(), write_mark_.end(), 0);
    write_count_ = 1;
  }
  for (std::span<const Lid> list : written) {
    for (Lid v : list) {
      if (v < owned || v >= graph_.num_vertices())
        fail("ghost write-back: lid ", v, " is not a ghost");
      const std::size_t g = v - owned;
      if (write_mark_[g] == write_count_) continue;
      write_mark_[g] = write_count_;
      const std::size_t p = static_cast<std::size_t>(ghost_owner_[g]);
      std::memcpy(cursor[p], &owner_lid_[g], sizeof(Lid));
      std::memcpy(cursor[p] + sizeof(Lid), arrays.data + std::size_t{v} * bytes, bytes);
      cursor[p] += sizeof(Lid) + bytes;
      ++count[p];
    }
  }
  std::vector<std::size_t> length(np, 0);
  for (std::size_t p = 0; p < np; ++p) {
    if (cursor[p] == nullptr) continue;
    std::byte* out = mail.outbox(static_cast<int>(p)).data();
    std::memcpy(out, &count[p], sizeof(std::uint64_t));
    length[p] = static_cast<std::size_t>(cursor[p] - out);
  }
  mail.deliver(length);
  last_bytes_sent_ = mail.last_bytes_sent();
  bytes_sent_ += last_bytes_sent_;

  std::vector<Lid> arrived;
  for (int o = 0; o < ranks; ++o) {
    if (o == me || !peers_[static_cast<std::size_t>(o)].has_batch) continue;
    decode_write_back(mail.inbox(o), o, owned, bytes, [&](Lid lid, const std::byte* src) {
      std::span<const Replica> reps = graph_.replicas(lid);
      if (std::none_of(reps.begin(), reps.end(), [o](const Replica& r) { return r.rank == o; })) {
        fail("rank ", o, " wrote back vertex ", graph_.gid(lid), ", of which it holds no copy");
      }
      std::memcpy(arrays.data + std::size_t{lid} * bytes, src, bytes);
      arrived.push_back(lid);
    });
  }
  return arrived;
}

std::vector<ScheduleRequest> GhostSync::push_all(
    const Arrays& arrays, std::span<const ScheduleRequest> remote_schedules) {
  return exchange(arrays, {}, remote_schedules, true, nullptr);
}

void GhostSync::stream_begin(const std::byte* data, std::size_t bytes,
                             std::span<const LidRange> blocks) {
  if (stream_ == nullptr || !stream_->plans(blocks)) {
    std::vector<detail::GhostStream::PeerList> lists;
    for (std::size_t p = 0; p < peers_.size(); ++p) {  // dense batches: data after the head
      if (peers_[p].has_batch && !peers_[p].send_lids.empty()) {
        lists.push_back({static_cast<int>(p), peers_[p].send_lids, kBatchHead});
      }
    }
    stream_ = std::make_unique<detail::GhostStream>(blocks, lists, graph_.num_owned());
  }
  stream_->begin(mailboxes(bytes), data, bytes);
  stream_data_ = data;
  stream_bytes_ = bytes;
}

void GhostSync::stream_block_done(std::size_t b) {
  stream_->block_done(b);
}

std::vector<ScheduleRequest> GhostSync::stream_end(
    const Arrays& arrays, std::span<const ScheduleRequest> remote_schedules) {
  if (stream_data_ == nullptr || arrays.data != stream_data_ || arrays.bytes != stream_bytes_) {
    fail("ghost stream: ended without a start or with other data");
  }
  stream_->finish();
  stream_data_ = nullptr;
  std::vector<ScheduleRequest> incoming =
      exchange(arrays, {}, remote_schedules, true, nullptr, true);
  last_overlapped_ = stream_->overlapped_bytes();
  return incoming;
}

std::vector<ScheduleRequest> GhostSync::exchange(const Arrays& arrays,
                                                 std::span<const std::span<const Lid>> changed,
                                                 std::span<const ScheduleRequest> remote_schedules,
                                                 bool all, std::vector<Lid>* written,
                                                 bool streamed) {
  const int ranks = cluster_.size();
  const int me = cluster_.rank();
  const Lid owned = graph_.num_owned();
  const std::size_t bytes = arrays.bytes;
  Mailboxes& mail = mailboxes(bytes);
  const std::size_t np = static_cast<std::size_t>(ranks);
  // Count what changed per peer (each vertex once per push).
  if (++push_count_ == 0) {
    std::fill(mark_.begin(), mark_.end(), 0);
    std::fill(request_mark_.begin(), request_mark_.end(), 0);
    push_count_ = 1;
  }
  last_lower_bound_ = 0;
  // A dense step lists every owned vertex (a colour step updates each at most once): every
  // peer then gets its dense batch, without the per-vertex count and sparse pass below.
  std::size_t listed = 0;
  for (std::span<const Lid> list : changed) listed += list.size();
  if (!all && listed >= owned && owned > 0) {
    all = true;
    for (const Peer& peer : peers_) last_lower_bound_ += peer.send_lids.size() * bytes;
  }
  if (streamed) {  // every owned vertex was updated: the dense batches are the bound
    for (const Peer& peer : peers_) last_lower_bound_ += peer.send_lids.size() * bytes;
  }
  if (all) changed = {};
  // What changed, per peer: each vertex once per push (in parallel blocks when many).
  detail::SparsePack sparse(changed, np);
  const std::vector<std::uint64_t> count = sparse.claim(graph_, mark_, push_count_);
  for (const std::uint64_t n : count) last_lower_bound_ += n * bytes;
  // Schedule requests for ghosts go to their owners, by the owner's lid, once per ghost
  // (priorities combine by max, as the scheduler would).
  std::vector<std::uint64_t> nreq(np, 0);
  for (const ScheduleRequest& r : remote_schedules) {
    if (r.lid < owned || r.lid >= graph_.num_vertices()) fail("schedule request for lid ", r.lid);
    const std::size_t g = r.lid - owned;
    if (request_mark_[g] != push_count_) {
      request_mark_[g] = push_count_;
      request_priority_[g] = r.priority;
      ++nreq[static_cast<std::size_t>(ghost_owner_[g])];
    } else {
      request_priority_[g] = std::max(request_priority_[g], r.priority);
    }
  }
  // Batch layout: u64 mode, u64 count, the data, u64 requests, then (u32 lid, f64 priority)s.
  std::vector<char> dense(np, 0);
  std::vector<std::byte*> cursor(np, nullptr);
  std::vector<std::byte*> requests_at(np, nullptr);
  std::vector<detail::SlotBlock> dense_blocks;  // every dense batch's slots, gathered at once
  for (std::size_t p = 0; p < np; ++p) {
    const Peer& peer = peers_[p];
    if (static_cast<int>(p) == me || !peer.has_batch) continue;
    std::byte* out = mail.outbox(static_cast<int>(p)).data();
    dense[p] =
        all || (count[p] > 0 && count[p] * (sizeof(Lid) + bytes) >= peer.send_lids.size() * bytes);
    const std::uint64_t head[2] = {dense[p] ? kDenseBatch : kSparseBatch,
                                   dense[p] ? peer.send_lids.size() : count[p]};
    static_assert(sizeof head == kBatchHead);
    std::memcpy(out, head, sizeof head);
    out += sizeof head;
    if (dense[p]) {  // a streamed push put its data already
      if (!streamed) detail::add_slot_blocks(dense_blocks, out, bytes, peer.send_lids);
      out += peer.send_lids.size() * bytes;
    }
    cursor[p] = out;
    requests_at[p] = out + (dense[p] ? 0 : count[p] * (sizeof(Lid) + bytes));
  }
  detail::gather_slot_blocks(dense_blocks, arrays.data, bytes);
  std::vector<std::byte*> sparse_at(np, nullptr);  // each sparse batch's first entry
  for (std::size_t p = 0; p < np; ++p) {
    if (cursor[p] != nullptr && !dense[p]) sparse_at[p] = cursor[p];
  }
  sparse.write(sparse_at, arrays.data, bytes, graph_);
  for (std::size_t p = 0; p < np; ++p) {
    if (requests_at[p] == nullptr) continue;
    std::memcpy(requests_at[p], &nreq[p], sizeof(std::uint64_t));
    cursor[p] = requests_at[p] + sizeof(std::uint64_t);
  }
  for (const ScheduleRequest& r : remote_schedules) {
    const std::size_t g = r.lid - owned;
    if (request_mark_[g] != push_count_) continue;  // already written in this push
    request_mark_[g] = 0;
    const std::size_t p = static_cast<std::size_t>(ghost_owner_[g]);
    std::memcpy(cursor[p], &owner_lid_[g], sizeof(Lid));
    std::memcpy(cursor[p] + sizeof(Lid), &request_priority_[g], sizeof(double));
    cursor[p] += sizeof(Lid) + sizeof(double);
  }
  std::vector<std::size_t> length(np, 0);
  std::vector<Mailboxes::SentRange> sent;
  if (streamed) sent.resize(np);
  for (std::size_t p = 0; p < np; ++p) {
    if (cursor[p] != nullptr) {
      length[p] = static_cast<std::size_t>(cursor[p] - mail.outbox(static_cast<int>(p)).data());
      if (streamed && !peers_[p].send_lids.empty()) {
        sent[p] = {kBatchHead, kBatchHead + peers_[p].send_lids.size() * bytes};
      }
    }
  }
  mail.deliver(length, sent);
  last_bytes_sent_ = mail.last_bytes_sent();
  bytes_sent_ += last_bytes_sent_;
  last_overlapped_ = 0;

  std::vector<ScheduleRequest> scheduled;
  for (int o = 0; o < ranks; ++o) {
    const Peer& peer = peers_[static_cast<std::size_t>(o)];
    if (o == me || !peer.has_batch) continue;
    const GhostBatchLimits limits{peer.ghost_begin, peer.ghost_end, owned, bytes};
    decode_ghost_batch(
        mail.inbox(o), o, limits,
        [&](const std::byte* src) {
          const std::size_t n = peer.ghost_end - peer.ghost_begin;
          const std::size_t at = std::size_t{peer.ghost_begin} * bytes;
          detail::copy_bytes_parallel(arrays.data + at, src, n * bytes);
          if (arrays.mirror != nullptr)
            detail::copy_bytes_parallel(arrays.mirror + at, src, n * bytes);
          if (written != nullptr) {
            for (Lid g = peer.ghost_begin; g < peer.ghost_end; ++g) written->push_back(g);
          }
        },
        [&](const detail::SparseEntries& entries) {
          detail::scatter_entries(entries, arrays.data, arrays.mirror, bytes, written);
        },
        [&](Lid lid, double priority) {
          scheduled.push_back({lid, priority});
        });
  }
  return scheduled;
}

}  // namespace atl
