// The asynchronous snapshot's bookkeeping under concurrency (run by the ThreadSanitizer stage):
// worker threads capture vertices while another thread schedules them as updates from before
// the cut do (the centre of those updates is captured last, as its locks make it), and a
// simulated peer's earlier records arrive; the part is handed to the writer
// thread exactly when it is complete, every schedule from before the cut is in the saved
// schedule (captured as pending, or kept as channel state), and the manifest follows the last
// rank's report.
#include "atoll/engine/async_snapshot.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "atoll/engine/checkpoint_records.hpp"
#include "checkpoint_file.hpp"

namespace {

using namespace atl;

/// A temporary directory, removed with everything in it.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string tmpl = "/tmp/atoll-snapshot-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

constexpr Lid kVertices = 20000;
constexpr unsigned kCapturers = 4;
constexpr std::uint64_t kPeerRecords = 1000;

TEST(AsyncSnapshot, ConcurrentCapturesKeepEveryScheduleFromBeforeTheCut) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path.empty());
  CheckpointOptions options;
  options.dir = dir.file("ck");
  options.snapshot_every = 1;
  CheckpointShape shape;
  shape.engine = "locking";
  shape.vertex_bytes = 8;
  shape.edge_bytes = 8;
  CheckpointStore store(options, shape, nullptr);
  auto scheduler = make_continuous_scheduler(SchedulerKind::kFifo, kVertices, kCapturers);
  std::atomic<int> reports{0};
  std::string error;
  // This is rank 0 of 2; rank 1 is simulated by the test.
  AsyncSnapshot* self = nullptr;
  AsyncSnapshot snapshot(
      store, 0, 2, kVertices, kVertices, sizeof(CheckpointVertexHeader) + 8, kCapturers,
      [&](std::uint32_t k, const CheckpointFileInfo& file, const std::string& e) {
        error = e;
        ++reports;
        self->file_written(0, k, file, e);
      });
  self = &snapshot;
  ASSERT_TRUE(snapshot.start(1, 7, {{"engine:updates", std::string(8, '\0')}}));
  EXPECT_FALSE(snapshot.start(1));
  EXPECT_EQ(snapshot.uncaptured(), kVertices);

  std::vector<std::thread> threads;
  for (unsigned i = 0; i < kCapturers; ++i) {
    threads.emplace_back([&, i] {
      for (Lid v = i; v < kVertices - 1; v += kCapturers) {
        std::byte* data = snapshot.begin_capture(v, *scheduler, Gid{v} + 100);
        const std::uint64_t value = v * 3;
        std::memcpy(data, &value, 8);
        if (v + 1 < kVertices)
          append_edge_record(snapshot.edge_buffer(i), Gid{v} + 100, Gid{v} + 101, value);
        snapshot.end_capture();
        if (snapshot.uncaptured() == 0) snapshot.submit_if_complete();
      }
    });
  }
  threads.emplace_back([&] {  // updates from before the cut schedule every vertex
    std::vector<Lid> order(kVertices);
    for (Lid v = 0; v < kVertices; ++v) order[v] = v;
    std::shuffle(order.begin(), order.end(), std::mt19937(5));
    for (Lid v : order) {
      scheduler->schedule(v, 1.0 + v);
      snapshot.note_schedule(v, 1.0 + v, 0);
    }
  });
  threads.emplace_back([&] {  // the peer's records stamped before the cut, then its count
    for (std::uint64_t i = 0; i < kPeerRecords; ++i) {
      snapshot.count_received(1, 0);
      if (i == kPeerRecords / 2) snapshot.expect(1, 1, kPeerRecords);
      snapshot.submit_if_complete();  // too early until the last record is in
    }
  });
  for (auto& t : threads) t.join();
  // The last vertex plays the centre of an update from before the cut that made the schedule
  // requests: its capture waits for that update's locks, so it comes after every request.
  EXPECT_FALSE(snapshot.submitted());
  std::byte* last = snapshot.begin_capture(kVertices - 1, *scheduler, Gid{kVertices - 1} + 100);
  const std::uint64_t value = (kVertices - 1) * 3;
  std::memcpy(last, &value, 8);
  snapshot.end_capture();
  EXPECT_TRUE(snapshot.submit_if_complete());
  EXPECT_TRUE(snapshot.submitted());
  CheckpointFileInfo file;
  ASSERT_EQ(snapshot.wait_written(file), "");
  EXPECT_EQ(reports.load(), 1) << "the part must be handed over exactly once";
  EXPECT_GT(file.bytes, 0u);
  EXPECT_EQ(snapshot.finished(), 0u) << "no manifest before every rank reported";

  // Rank 1 reports; the writer thread writes the manifest.
  snapshot.file_written(1, 1, {123, 456}, "");
  (void)snapshot.wait_written(file);
  EXPECT_EQ(snapshot.finished(), 1u);
  EXPECT_EQ(snapshot.failure(), "");
  const std::string epoch = options.dir + "/epoch-00000001";
  EXPECT_TRUE(std::filesystem::exists(epoch + "/MANIFEST"));

  detail::CheckpointSections sections;
  const detail::CheckpointRecordSizes sizes{sizeof(CheckpointVertexHeader) + 8,
                                            sizeof(CheckpointEdgeHeader) + 8, 8};
  detail::read_checkpoint_file(epoch + "/rank-00000.ckpt", 1, sizes, {}, sections);
  ASSERT_EQ(sections.vertices.size(), std::size_t{kVertices} * sizes.vertex);
  EXPECT_EQ(sections.edges.size(), std::size_t{kVertices - 1} * sizes.edge);
  for (Lid v = 0; v < kVertices; ++v) {
    CheckpointVertexHeader h;
    std::uint64_t value;
    std::memcpy(&h, sections.vertices.data() + v * sizes.vertex, sizeof h);
    std::memcpy(&value, sections.vertices.data() + v * sizes.vertex + sizeof h, 8);
    ASSERT_EQ(h.gid, Gid{v} + 100);
    ASSERT_EQ(value, v * 3u);
    ASSERT_TRUE(h.flags & kCheckpointScheduled) << "vertex " << v << " lost its schedule";
    ASSERT_EQ(h.priority, 1.0 + v);
  }
}

TEST(AsyncSnapshot, AFailedRankIsRankZerosFailureAndNoManifestIsWritten) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path.empty());
  CheckpointOptions options;
  options.dir = dir.file("ck");
  options.snapshot_every = 1;
  CheckpointShape shape;
  shape.vertex_bytes = 8;
  CheckpointStore store(options, shape, nullptr);
  AsyncSnapshot snapshot(store, 0, 3, 0, 0, sizeof(CheckpointVertexHeader) + 8, 1,
                         [](std::uint32_t, const CheckpointFileInfo&, const std::string&) {});
  ASSERT_TRUE(snapshot.start(1));
  snapshot.file_written(2, 1, {}, "disk full");
  snapshot.file_written(0, 1, {1, 2}, "");
  EXPECT_EQ(snapshot.finished(), 0u);
  snapshot.file_written(1, 1, {1, 2}, "");
  EXPECT_EQ(snapshot.finished(), 1u);
  EXPECT_NE(snapshot.failure().find("rank 2: disk full"), std::string::npos) << snapshot.failure();
  EXPECT_FALSE(std::filesystem::exists(options.dir + "/epoch-00000001/MANIFEST"));
  // A report of an older snapshot, or a second one, changes nothing.
  snapshot.file_written(1, 0, {}, "late");
  EXPECT_EQ(snapshot.failure().find("late"), std::string::npos);
}

}  // namespace
