// The lock manager's batch encoding: records decode to what was encoded, and every kind of
// malformed batch is an Error naming the source rank and the problem.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "lock_batch.hpp"

namespace {

using namespace atl;
using namespace atl::detail;

struct Seen {
  std::vector<std::string> log;
  void request(bool is_try, ScopeId s, bool priority, std::span<const LockItem> locks) {
    std::string line = str_cat(is_try ? "try " : "queue ", s, priority ? " p" : "", ":");
    for (const LockItem& l : locks) {
      line += str_cat(" ", l.owner, "/", l.lid, l.mode == LockMode::kWrite ? "w" : "r", "@",
                      l.cached_version);
    }
    log.push_back(line);
  }
  void grant(ScopeId s, std::span<const std::byte> data) {
    log.push_back(str_cat("grant ", s, " +", data.size()));
  }
  void refuse(ScopeId s) { log.push_back(str_cat("refuse ", s)); }
  void release(std::span<const LockItem> locks, std::span<const std::byte> data) {
    std::string line = "release:";
    for (const LockItem& l : locks) {
      line += str_cat(" ", l.lid, l.mode == LockMode::kWrite ? "w" : "r");
    }
    log.push_back(line + str_cat(" +", data.size()));
  }
};

constexpr int kSource = 2;
constexpr int kHere = 1;
constexpr Lid kOwned = 10;

std::vector<std::string> decode(const std::vector<std::byte>& bytes) {
  Seen seen;
  std::vector<LockItem> scratch;
  decode_lock_batch(bytes, kSource, kHere, kOwned, scratch, seen);
  return seen.log;
}

std::string error_of(const std::vector<std::byte>& bytes) {
  try {
    decode(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LockBatch, RecordsRoundTrip) {
  std::vector<std::byte> b;
  const std::vector<LockItem> locks{{kHere, 3, LockMode::kRead, 7},
                                    {kHere, 9, LockMode::kWrite, 0}};
  append_lock_request(b, LockRecord::kTry, 5, false, locks);
  append_lock_request(b, LockRecord::kQueue, 6, true, locks);
  std::size_t at = begin_grant(b, 5);
  append_value(b, 1.5);
  finish_data(b, at);
  append_refuse(b, 8);
  at = begin_release(b, locks);
  finish_data(b, at);
  EXPECT_EQ(decode(b), (std::vector<std::string>{"try 5: 1/3r@7 1/9w@0", "queue 6 p: 1/3r@7 1/9w@0",
                                                 "grant 5 +8", "refuse 8", "release: 3r 9w +0"}));
  EXPECT_TRUE(decode({}).empty());
}

TEST(LockBatch, MalformedBatchesAreNamedErrors) {
  const std::vector<LockItem> one{{kHere, 3, LockMode::kRead, 0}};
  std::vector<std::byte> good;
  append_lock_request(good, LockRecord::kQueue, 1, false, one);
  // Every strict prefix is truncated.
  for (std::size_t n = 1; n < good.size(); ++n) {
    std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(error_of(cut).find("rank 2 sent a truncated lock batch"), std::string::npos) << n;
  }
  std::vector<std::byte> kind{std::byte{9}};
  EXPECT_NE(error_of(kind).find("unknown kind 9"), std::string::npos);

  std::vector<std::byte> lid;
  append_lock_request(lid, LockRecord::kTry, 1, false,
                      std::vector<LockItem>{{kHere, kOwned, LockMode::kRead, 0}});
  EXPECT_NE(error_of(lid).find("lock on lid 10, not owned here"), std::string::npos);

  std::vector<std::byte> order;
  append_lock_request(
      order, LockRecord::kTry, 1, false,
      std::vector<LockItem>{{kHere, 4, LockMode::kRead, 0}, {kHere, 4, LockMode::kWrite, 0}});
  EXPECT_NE(error_of(order).find("out of order (lid 4 after 4)"), std::string::npos);

  std::vector<std::byte> mode = good;
  mode[1 + 4 + 1 + 4 + 4] = std::byte{3};  // the first lock's mode
  EXPECT_NE(error_of(mode).find("unknown mode 3"), std::string::npos);

  std::vector<std::byte> priority = good;
  priority[1 + 4] = std::byte{2};
  EXPECT_NE(error_of(priority).find("priority 2"), std::string::npos);

  std::vector<std::byte> empty;
  append_lock_request(empty, LockRecord::kQueue, 1, false, {});
  EXPECT_NE(error_of(empty).find("no locks"), std::string::npos);

  std::vector<std::byte> huge;  // a lock count far beyond the bytes
  append_value(huge, static_cast<std::uint8_t>(LockRecord::kRelease));
  append_value(huge, std::uint32_t{0xFFFFFFFF});
  EXPECT_NE(error_of(huge).find("4294967295 records announced"), std::string::npos);

  std::vector<std::byte> data;  // grant data longer than the batch
  append_value(data, static_cast<std::uint8_t>(LockRecord::kGrant));
  append_value(data, ScopeId{1});
  append_value(data, std::uint32_t{100});
  EXPECT_NE(error_of(data).find("truncated"), std::string::npos);
}

}  // namespace
