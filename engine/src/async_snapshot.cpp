#include "atoll/engine/async_snapshot.hpp"

#include <algorithm>
#include <cstring>

#include "atoll/common/error.hpp"
#include "atoll/common/log.hpp"

namespace atl {

AsyncSnapshot::AsyncSnapshot(CheckpointStore& store, int rank, int ranks, Lid owned, Lid vertices,
                             std::size_t vertex_record, unsigned edge_buffers, Written written)
    : store_(store),
      rank_(rank),
      ranks_(ranks),
      owned_(owned),
      vertex_record_(vertex_record),
      written_(std::move(written)),
      captured_(std::make_unique<std::atomic<std::uint32_t>[]>(vertices)),
      edges_(edge_buffers),
      sent_(static_cast<std::size_t>(ranks)),
      received_(static_cast<std::size_t>(ranks)),
      expected_(static_cast<std::size_t>(ranks), -1),
      reported_(static_cast<std::size_t>(ranks), 0),
      files_(static_cast<std::size_t>(ranks)) {
  sweep_.store(owned_);  // no sweep before the first snapshot
  writer_ = std::thread([this] { run_writer(); });
}

AsyncSnapshot::~AsyncSnapshot() {
  {
    std::lock_guard guard(writer_lock_);
    stopping_ = true;
  }
  writer_wake_.notify_all();
  writer_.join();
}

bool AsyncSnapshot::start(std::uint32_t k, std::uint64_t iteration,
                          std::map<std::string, std::string> state) {
  std::lock_guard guard(start_lock_);
  if (epoch() >= k) return false;
  // The previous snapshot's buffers went to the writer thread with its part.
  file_epoch_ = store_.reserve_epoch();
  vertices_.resize(owned_ * vertex_record_);
  for (auto& e : edges_) e.clear();
  {
    std::lock_guard late(late_lock_);
    late_.clear();
  }
  {
    std::lock_guard counts(count_lock_);
    std::fill(expected_.begin(), expected_.end(), -1);
    expected_[static_cast<std::size_t>(rank_)] = 0;
  }
  uncaptured_.store(owned_, std::memory_order_release);
  if (rank_ == 0) {
    std::lock_guard m(manifest_lock_);
    iteration_ = iteration;
    state_ = std::move(state);
    started_.reset();
    std::fill(reported_.begin(), reported_.end(), 0);
  }
  epoch_.store(k, std::memory_order_release);  // the state above is the new snapshot's
  // Then the sweep restarts: whoever takes a vertex from it reads the new epoch after it (a
  // cursor reset before the epoch would let a worker skip vertices captured in the old one).
  sweep_.store(0, std::memory_order_release);
  return true;
}

std::byte* AsyncSnapshot::begin_capture(Lid v, const ContinuousScheduler& scheduler, Gid gid) {
  const std::uint32_t k = epoch();
  // Dekker with note_schedule(): mark, then read the schedule; it schedules, then reads the
  // mark. One of the two sees the other, so no schedule from before the cut is lost. A schedule
  // passed over as already pending (ScheduleOrder::kLocks) wrote nothing, but its acquire load
  // read the write that opened the pending period, which precedes the scheduler's fence: if
  // scheduled() here read an older state, this fence precedes that one and the mark is seen.
  captured_[v].store(k, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  CheckpointVertexHeader h{gid, 0.0, 0, 0};
  if (scheduler.scheduled(v, h.priority)) h.flags = kCheckpointScheduled;
  std::byte* record = vertices_.data() + static_cast<std::size_t>(v) * vertex_record_;
  std::memcpy(record, &h, sizeof h);
  return record + sizeof h;
}

void AsyncSnapshot::note_schedule(Lid v, double priority, std::uint32_t tag) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t in = captured_[v].load(std::memory_order_seq_cst);
  if (in <= tag || in != epoch() || submitted()) return;
  std::lock_guard guard(late_lock_);
  late_.push_back({v, priority});
}

void AsyncSnapshot::count_sent(int peer, std::uint32_t tag) {
  std::lock_guard guard(count_lock_);
  auto& by_tag = sent_[static_cast<std::size_t>(peer)];
  if (by_tag.size() <= tag) by_tag.resize(tag + 1, 0);
  ++by_tag[tag];
}

std::uint64_t AsyncSnapshot::sent_before(int peer, std::uint32_t k) const {
  std::lock_guard guard(count_lock_);
  const auto& by_tag = sent_[static_cast<std::size_t>(peer)];
  std::uint64_t n = 0;
  for (std::size_t t = 0; t < by_tag.size() && t < k; ++t) n += by_tag[t];
  return n;
}

void AsyncSnapshot::count_received(int peer, std::uint32_t tag) {
  std::lock_guard guard(count_lock_);
  auto& by_tag = received_[static_cast<std::size_t>(peer)];
  if (by_tag.size() <= tag) by_tag.resize(tag + 1, 0);
  ++by_tag[tag];
}

void AsyncSnapshot::expect(int peer, std::uint32_t k, std::uint64_t records) {
  std::lock_guard guard(count_lock_);
  if (k != epoch()) return;  // an older snapshot's count, which is complete here
  expected_[static_cast<std::size_t>(peer)] = static_cast<std::int64_t>(records);
}

bool AsyncSnapshot::claim_counts(std::uint32_t k) {
  std::uint32_t seen = counts_claimed_.load(std::memory_order_acquire);
  while (seen < k) {
    if (counts_claimed_.compare_exchange_weak(seen, k, std::memory_order_acq_rel)) return true;
  }
  return false;
}

bool AsyncSnapshot::submit_if_complete(bool at_rest) {
  const std::uint32_t k = epoch();
  if (k == 0 || submitted() || uncaptured() != 0) return false;
  if (!at_rest) {
    std::lock_guard guard(count_lock_);
    for (int p = 0; p < ranks_; ++p) {
      if (p == rank_) continue;
      const auto& by_tag = received_[static_cast<std::size_t>(p)];
      std::uint64_t got = 0;
      for (std::size_t t = 0; t < by_tag.size() && t < k; ++t) got += by_tag[t];
      const std::int64_t want = expected_[static_cast<std::size_t>(p)];
      if (want < 0 || got != static_cast<std::uint64_t>(want)) return false;
    }
  }
  std::uint32_t seen = submitted_.load(std::memory_order_acquire);
  if (seen >= k || !submitted_.compare_exchange_strong(seen, k, std::memory_order_acq_rel)) {
    return false;
  }
  // The part takes the buffers: the next snapshot fills new ones while this one is written.
  auto part = std::make_shared<CheckpointPart>();
  part->vertices = std::move(vertices_);
  vertices_.clear();
  for (auto& e : edges_) {
    part->edges.insert(part->edges.end(), e.begin(), e.end());
    e.clear();
  }
  std::vector<PendingVertex> late;
  {
    std::lock_guard guard(late_lock_);
    late.swap(late_);
  }
  post([this, k, epoch = file_epoch_, part, late = std::move(late)] {
    write_part(k, epoch, *part, late);
  });
  return true;
}

std::string AsyncSnapshot::describe() const {
  const std::uint32_t k = epoch();
  std::string text = str_cat("snapshot ", k, ": ", uncaptured(), " owned vertices not captured");
  std::lock_guard guard(count_lock_);
  for (int p = 0; p < ranks_; ++p) {
    if (p == rank_) continue;
    const auto& by_tag = received_[static_cast<std::size_t>(p)];
    std::uint64_t got = 0;
    for (std::size_t t = 0; t < by_tag.size() && t < k; ++t) got += by_tag[t];
    text += str_cat("; rank ", p, ": ", got, " earlier records in, ",
                    expected_[static_cast<std::size_t>(p)], " announced");
  }
  return text;
}

void AsyncSnapshot::write_part(std::uint32_t k, std::uint64_t epoch, CheckpointPart& part,
                               const std::vector<PendingVertex>& late) {
  for (const PendingVertex& l : late) {  // the channel state joins the vertices' schedule
    std::byte* r = part.vertices.data() + static_cast<std::size_t>(l.index) * vertex_record_;
    CheckpointVertexHeader h;
    std::memcpy(&h, r, sizeof h);
    h.priority = h.flags & kCheckpointScheduled ? std::max(h.priority, l.priority) : l.priority;
    h.flags |= kCheckpointScheduled;
    std::memcpy(r, &h, sizeof h);
  }
  CheckpointFileInfo file;
  std::string error;
  try {
    file = store_.write_part(epoch, part);
  } catch (const std::exception& e) {
    error = e.what();
  }
  {
    std::lock_guard guard(writer_lock_);
    result_ = error;
    file_ = file;
  }
  written_(k, file, error);
}

std::string AsyncSnapshot::wait_written(CheckpointFileInfo& file) {
  std::unique_lock guard(writer_lock_);
  writer_idle_.wait(guard, [&] { return tasks_.empty() && !writer_busy_; });
  file = file_;
  return result_;
}

void AsyncSnapshot::file_written(int rank, std::uint32_t k, const CheckpointFileInfo& file,
                                 const std::string& error) {
  std::lock_guard guard(manifest_lock_);
  if (k != epoch() || finished() >= k) return;  // the collective path wrote it already
  const auto r = static_cast<std::size_t>(rank);
  if (!error.empty() && failure_.empty()) {
    failure_ = str_cat("checkpoint snapshot epoch ", file_epoch_,
                       " not written (earlier epochs stay valid): rank ", rank, ": ", error);
  }
  reported_[r] = 1;
  files_[r] = file;
  if (std::count(reported_.begin(), reported_.end(), 1) < ranks_) return;
  if (!failure_.empty()) {
    finished_.store(k, std::memory_order_release);
    return;
  }
  std::vector<CheckpointFileInfo> files = files_;
  post([this, k, files] {
    std::lock_guard m(manifest_lock_);
    try {
      manifest_locked(k, files);
    } catch (const std::exception& e) {
      if (failure_.empty()) failure_ = e.what();
      finished_.store(k, std::memory_order_release);
    }
  });
}

void AsyncSnapshot::write_manifest(const std::vector<CheckpointFileInfo>& files) {
  std::lock_guard guard(manifest_lock_);
  const std::uint32_t k = epoch();
  if (k == 0 || finished() >= k) return;
  manifest_locked(k, files);
}

void AsyncSnapshot::manifest_locked(std::uint32_t k, const std::vector<CheckpointFileInfo>& files) {
  if (finished() >= k) return;
  store_.write_manifest(file_epoch_, iteration_, state_, files, started_.seconds(), true);
  since_finished_.reset();
  finished_.store(k, std::memory_order_release);
}

std::string AsyncSnapshot::failure() const {
  std::lock_guard guard(manifest_lock_);
  return failure_;
}

double AsyncSnapshot::since_finished() const {
  std::lock_guard guard(manifest_lock_);
  return since_finished_.seconds();
}

void AsyncSnapshot::post(std::function<void()> task) {
  {
    std::lock_guard guard(writer_lock_);
    tasks_.push_back(std::move(task));
  }
  writer_wake_.notify_one();
}

void AsyncSnapshot::run_writer() {
  std::unique_lock guard(writer_lock_);
  for (;;) {
    writer_wake_.wait(guard, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, nothing left
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    writer_busy_ = true;
    guard.unlock();
    try {
      task();
    } catch (const std::exception& e) {  // the tasks report their own errors; be safe
      log_warn(str_cat("checkpoint snapshot: ", e.what()));
    }
    guard.lock();
    writer_busy_ = false;
    if (tasks_.empty()) writer_idle_.notify_all();
  }
}

}  // namespace atl
