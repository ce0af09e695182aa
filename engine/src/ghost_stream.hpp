// Streaming a dense ghost push while the pass that computes it runs (GhostSync::stream_begin):
// each peer's send list is cut into segments (about kSegmentsPerBatch), and a segment is gathered
// into the peer's outbox and put as soon as every block of the pass holding one of its vertices is
// final. With owned lids and each peer's ghost range both in gid order (every load but
// --degree-order), a segment's vertices lie in a few neighbouring blocks, so the batch leaves
// in parts behind the pass. A segment whose vertices spread over more than kMaxSpan blocks is
// gathered at the end instead (finish), as an unstreamed push would.
//
// Invariant: a segment is gathered by the one thread whose block_done took its count of
// unfinished blocks to zero; the count moves with acquire-release, so that thread sees every
// write the pass made to the segment's vertices.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/engine/worker_pool.hpp"
#include "atoll/graph/ids.hpp"
#include "atoll/transport/mailboxes.hpp"
#include "slot_gather.hpp"

namespace atl::detail {

class GhostStream {
 public:
  /// A peer's batch leaves in about this many segments (one put each), of at least
  /// kMinSegmentLids vertices.
  static constexpr std::size_t kSegmentsPerBatch = 32;
  static constexpr std::size_t kMinSegmentLids = 1024;
  /// A segment spread over more blocks than this waits for the end of the pass.
  static constexpr std::size_t kMaxSpan = 64;

  /// One peer's dense batch: its send list (owned lids in the peer's ghost order), written
  /// at `offset` of the peer's outbox.
  struct PeerList {
    int peer;
    std::span<const Lid> lids;
    std::size_t offset;
  };

  /// Plans for `blocks` (in lid order, tiling [0, owned)).
  GhostStream(std::span<const LidRange> blocks, std::span<const PeerList> peers, Lid owned)
      : blocks_(blocks.begin(), blocks.end()), peers_(peers.begin(), peers.end()) {
    Lid next = 0;
    for (const LidRange& b : blocks_) {
      if (b.begin != next || b.end < b.begin)
        fail("ghost stream: blocks do not tile the owned lids");
      next = b.end;
    }
    if (next != owned) fail("ghost stream: blocks cover ", next, " of ", owned, " owned lids");
    std::vector<std::uint32_t> count(blocks_.size() + 1, 0);
    for (std::uint32_t p = 0; p < peers_.size(); ++p) {
      const std::span<const Lid> lids = peers_[p].lids;
      const std::size_t step = std::max(kMinSegmentLids, lids.size() / kSegmentsPerBatch + 1);
      for (std::size_t begin = 0; begin < lids.size(); begin += step) {
        const std::size_t end = std::min(begin + step, lids.size());
        const auto [low, high] = std::minmax_element(lids.begin() + begin, lids.begin() + end);
        if (*high >= owned) fail("ghost stream: lid ", *high, " is not owned");
        Segment s{p, begin, end, block_of(*low), block_of(*high)};
        if (s.last - s.first >= kMaxSpan) {
          late_.push_back(static_cast<std::uint32_t>(segments_.size()));
        } else {
          for (std::size_t b = s.first; b <= s.last; ++b) ++count[b];
        }
        segments_.push_back(s);
      }
    }
    first_dep_.assign(blocks_.size() + 1, 0);
    for (std::size_t b = 0; b < blocks_.size(); ++b) first_dep_[b + 1] = first_dep_[b] + count[b];
    deps_.resize(first_dep_.back());
    std::vector<std::uint32_t> at(first_dep_.begin(), first_dep_.end() - 1);
    for (std::uint32_t s = 0; s < segments_.size(); ++s) {
      const Segment& seg = segments_[s];
      if (seg.last - seg.first >= kMaxSpan) continue;
      for (std::size_t b = seg.first; b <= seg.last; ++b) deps_[at[b]++] = s;
    }
    waiting_ = std::make_unique<std::atomic<std::uint32_t>[]>(segments_.size());
  }

  /// True when this plan was made for these blocks.
  bool plans(std::span<const LidRange> blocks) const {
    return std::equal(
        blocks.begin(), blocks.end(), blocks_.begin(), blocks_.end(),
        [](const LidRange& a, const LidRange& b) { return a.begin == b.begin && a.end == b.end; });
  }

  /// A pass starts: its results go to `data` (`bytes` a vertex); segments go to `mail`.
  void begin(Mailboxes& mail, const std::byte* data, std::size_t bytes) {
    mail_ = &mail;
    data_ = data;
    bytes_ = bytes;
    for (std::size_t s = 0; s < segments_.size(); ++s) {
      const Segment& seg = segments_[s];
      const auto span = static_cast<std::uint32_t>(seg.last - seg.first + 1);
      waiting_[s].store(span, std::memory_order_relaxed);
    }
    blocks_left_.store(blocks_.size(), std::memory_order_relaxed);
    overlapped_.store(0, std::memory_order_relaxed);
  }

  /// Bytes put while the pass ran (before finish), since begin().
  std::uint64_t overlapped_bytes() const { return overlapped_.load(std::memory_order_relaxed); }

  /// Block b is final in the data: puts every segment it completes. Once per block and pass.
  void block_done(std::size_t b) {
    for (std::uint32_t i = first_dep_[b]; i < first_dep_[b + 1]; ++i) {
      const std::uint32_t s = deps_[i];
      if (waiting_[s].fetch_sub(1, std::memory_order_acq_rel) == 1) {
        overlapped_.fetch_add(send(segments_[s]), std::memory_order_relaxed);
      }
    }
    blocks_left_.fetch_sub(1, std::memory_order_acq_rel);
  }

  /// After the pass (every block done): puts the segments left for the end.
  void finish() {
    if (blocks_left_.load(std::memory_order_acquire) != 0) {
      fail("ghost stream: the pass ended with ", blocks_left_.load(), " blocks not done");
    }
    for (std::uint32_t s : late_) send(segments_[s]);
  }

 private:
  struct Segment {
    std::uint32_t peer;  ///< index into peers_
    std::size_t begin;   ///< [begin, end) of the peer's send list
    std::size_t end;
    std::size_t first;  ///< blocks [first, last] hold its vertices
    std::size_t last;
  };

  /// The block holding owned lid v (the last one starting at or before it).
  std::size_t block_of(Lid v) const {
    auto it = std::upper_bound(blocks_.begin(), blocks_.end(), v,
                               [](Lid lid, const LidRange& r) { return lid < r.begin; });
    return static_cast<std::size_t>(it - blocks_.begin()) - 1;
  }

  /// Gathers and puts segment s; returns its bytes.
  std::size_t send(const Segment& s) {
    const PeerList& p = peers_[s.peer];
    const std::size_t at = p.offset + s.begin * bytes_;
    const std::size_t length = (s.end - s.begin) * bytes_;
    gather_slots(mail_->outbox(p.peer).data() + at, data_, bytes_,
                 p.lids.subspan(s.begin, s.end - s.begin));
    mail_->put_early(p.peer, at, length);
    return length;
  }

  std::vector<LidRange> blocks_;
  std::vector<PeerList> peers_;
  std::vector<Segment> segments_;
  std::vector<std::uint32_t> first_dep_;  ///< per block: its segments in deps_ (CSR)
  std::vector<std::uint32_t> deps_;
  std::vector<std::uint32_t> late_;                        ///< segments put by finish()
  std::unique_ptr<std::atomic<std::uint32_t>[]> waiting_;  ///< per segment: blocks not done
  std::atomic<std::size_t> blocks_left_{0};
  std::atomic<std::uint64_t> overlapped_{0};
  Mailboxes* mail_ = nullptr;
  const std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace atl::detail
