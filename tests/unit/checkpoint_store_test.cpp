// Tests of CheckpointStore's write-behind on one rank (the distributed checkpoint tests cover
// it across ranks) and of TempFile::write_uncached, which rank files are written with.
#include "atoll/engine/checkpoint_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "atoll/common/temp_file.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;

class CheckpointStoreTest : public testing::Test {
 protected:
  static atl::CheckpointShape shape() {
    atl::CheckpointShape s;
    s.engine = "test";
    s.identity = "app test";
    s.types = "vertex double:8";
    s.vertices = 3;
    s.vertex_bytes = sizeof(double);
    return s;
  }
  /// Three vertex records (gids 1, 2, 3) whose data is `value`.
  static atl::CheckpointPart part(double value) {
    atl::CheckpointPart p;
    for (atl::Gid g = 1; g <= 3; ++g) {
      const atl::CheckpointVertexHeader h{g, 0.0, 0, 0};
      const std::size_t at = p.vertices.size();
      p.vertices.resize(at + sizeof h + sizeof value);
      std::memcpy(p.vertices.data() + at, &h, sizeof h);
      std::memcpy(p.vertices.data() + at + sizeof h, &value, sizeof value);
    }
    return p;
  }
  bool manifest(int epoch) const {
    char name[32];
    std::snprintf(name, sizeof name, "epoch-%08d", epoch);
    return fs::exists(dir_ / name / "MANIFEST");
  }
  atl::test::TempDir tmp_;
  fs::path dir_{tmp_.path()};
};

TEST_F(CheckpointStoreTest, AnEpochWrittenBehindIsValidOnlyOnceSettled) {
  atl::CheckpointOptions options;
  options.dir = dir_.string();
  options.every = 1;
  {
    atl::CheckpointStore store(options, shape(), nullptr);
    store.write_behind(1, part(0.5));
    EXPECT_FALSE(manifest(1));  // the manifest comes at a settle
    while (!store.settle(false)) {
    }
    EXPECT_TRUE(manifest(1));
    EXPECT_EQ(store.stats().written.size(), 1u);
    store.write_behind(2, part(0.25));
    store.settle(true);
    EXPECT_TRUE(manifest(2));
    // A store destroyed with an epoch still being written leaves no manifest for it.
    store.write_behind(3, part(0.125));
  }
  EXPECT_FALSE(manifest(3));

  atl::CheckpointOptions resume;
  resume.resume = dir_.string();
  atl::CheckpointStore store(resume, shape(), nullptr);
  const std::vector<atl::Gid> gids{1, 2, 3};
  const atl::RestoredEpoch epoch = store.resume(gids, {});
  EXPECT_EQ(epoch.epoch, 2u);  // the newest valid one
  const std::size_t record = sizeof(atl::CheckpointVertexHeader) + sizeof(double);
  ASSERT_EQ(epoch.vertices.size(), 3 * record);
  double value = 0;
  std::memcpy(&value, epoch.vertices.data() + record + sizeof(atl::CheckpointVertexHeader),
              sizeof value);
  EXPECT_EQ(value, 0.25);
}

TEST_F(CheckpointStoreTest, DeletedEpochsFilesAreOverwrittenByTheNextOnes) {
  atl::CheckpointOptions options;
  options.dir = dir_.string();
  options.every = 1;
  options.keep = 1;
  auto inode = [](const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : ino_t{0};
  };
  {
    atl::CheckpointStore store(options, shape(), nullptr);
    store.write(1, part(1.0));
    store.write(2, part(0.5));  // epoch 1 deleted: its file waits in DIR/recycle
    const ino_t recycled = inode(dir_ / "recycle" / "rank-00000.ckpt");
    ASSERT_NE(recycled, ino_t{0});
    store.write(3, part(1.0 / 3));
    EXPECT_EQ(inode(dir_ / "epoch-00000003" / "rank-00000.ckpt"), recycled);  // the same file
    store.write(4, part(0.25));
  }
  EXPECT_FALSE(manifest(1));
  EXPECT_FALSE(manifest(3));
  EXPECT_TRUE(manifest(4));
  EXPECT_FALSE(fs::exists(dir_ / "epoch-00000002"));              // its file became epoch 4's
  EXPECT_TRUE(fs::exists(dir_ / "recycle" / "rank-00000.ckpt"));  // epoch 3's, for epoch 5

  atl::CheckpointOptions resume;
  resume.resume = dir_.string();
  atl::CheckpointStore store(resume, shape(), nullptr);
  const std::vector<atl::Gid> gids{1, 2, 3};
  const atl::RestoredEpoch epoch = store.resume(gids, {});
  EXPECT_EQ(epoch.epoch, 4u);
  double value = 0;
  std::memcpy(&value, epoch.vertices.data() + sizeof(atl::CheckpointVertexHeader), sizeof value);
  EXPECT_EQ(value, 0.25);
}

// A store destroyed while rank 0's background thread writes the manifest (a run that fails
// right after a settle) waits for it: no thread outlives the store (ASan, TSan).
TEST_F(CheckpointStoreTest, AStoreDestroyedWhileTheManifestIsWrittenWaitsForIt) {
  atl::CheckpointOptions options;
  options.dir = dir_.string();
  options.every = 1;
  for (int round = 0; round < 20; ++round) {
    const fs::path dir = dir_ / std::to_string(round);
    options.dir = dir.string();
    atl::CheckpointStore store(options, shape(), nullptr);
    store.write_behind(1, part(0.5));
    while (!fs::exists(dir / "epoch-00000001" / "rank-00000.ckpt")) {  // the file is written
      std::this_thread::yield();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // and the writer is done
    EXPECT_FALSE(store.settle(false));  // starts the manifest's thread; destroyed meanwhile
  }
}

TEST_F(CheckpointStoreTest, ARecycledFileIsCutToItsNewSize) {
  const std::string old_file = (dir_ / "old").string();
  {
    std::ofstream out(old_file, std::ios::binary);
    out << std::string(10000, 'x');
  }
  const std::string path = (dir_ / "new").string();
  {
    atl::TempFile file(path, "test", old_file);
    file.write(std::string_view("fresh"));
    file.commit(false);
  }
  EXPECT_FALSE(fs::exists(old_file));  // moved, not copied
  std::ifstream in(path, std::ios::binary);
  const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "fresh");
  // No recycled file: a new one.
  {
    atl::TempFile file((dir_ / "other").string(), "test", (dir_ / "absent").string());
    file.write(std::string_view("new"));
    file.commit(false);
  }
  EXPECT_EQ(fs::file_size(dir_ / "other"), 3u);
}

TEST_F(CheckpointStoreTest, WritesPastThePageCacheKeepEveryByte) {
  std::vector<std::byte> storage(5 * 4096 + 8192);
  auto* base = storage.data() + (4096 - reinterpret_cast<std::uintptr_t>(storage.data()) % 4096);
  for (std::size_t i = 0; i < 5 * 4096; ++i) base[i] = std::byte(i * 131 % 251);
  // Aligned with a tail, whole blocks only, short, unaligned memory, and after a plain write.
  for (std::size_t size :
       {std::size_t{3 * 4096 + 17}, std::size_t{2 * 4096}, std::size_t{100}, std::size_t{0}}) {
    for (std::size_t skew : {0, 1}) {
      const std::string path = (dir_ / "f").string();
      {
        atl::TempFile file(path, "test");
        if (skew == 1) file.write(base, 10);
        file.write_uncached(base + skew * 10, size);
        file.commit(false);
      }
      std::ifstream in(path, std::ios::binary);
      const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::string want;
      if (skew == 1) want.append(reinterpret_cast<const char*>(base), 10);
      want.append(reinterpret_cast<const char*>(base + skew * 10), size);
      EXPECT_EQ(got, want) << "size " << size << " skew " << skew;
    }
  }
}

}  // namespace
