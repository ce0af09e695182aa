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
  static const char* mode(LockMode m) { return m == LockMode::kWrite ? "w" : "r"; }
  void request(bool is_try, ScopeId s, bool priority, Lid key, LockMode m) {
    log.push_back(str_cat(is_try ? "try " : "queue ", s, priority ? " p" : "", ": ", key, mode(m)));
  }
  void grant(ScopeId s, std::span<const std::byte> data) {
    log.push_back(str_cat("grant ", s, " +", data.size()));
  }
  void refuse(ScopeId s) { log.push_back(str_cat("refuse ", s)); }
  void release(Lid key, LockMode m, std::span<const std::byte> data) {
    log.push_back(str_cat("release: ", key, mode(m), " +", data.size()));
  }
};

constexpr int kSource = 2;

std::vector<std::string> decode(const std::vector<std::byte>& bytes) {
  Seen seen;
  decode_lock_batch(bytes, kSource, seen);
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
  append_lock_request(b, LockRecord::kTry, 5, false, 3, LockMode::kRead);
  append_lock_request(b, LockRecord::kQueue, 6, true, 9, LockMode::kWrite);
  std::size_t at = begin_grant(b, 5);
  append_value(b, 1.5);
  finish_data(b, at);
  append_refuse(b, 8);
  at = begin_release(b, 3, LockMode::kRead);
  finish_data(b, at);
  at = begin_release(b, 9, LockMode::kWrite);
  append_value(b, std::uint16_t{7});
  finish_data(b, at);
  EXPECT_EQ(decode(b), (std::vector<std::string>{"try 5: 3r", "queue 6 p: 9w", "grant 5 +8",
                                                 "refuse 8", "release: 3r +0", "release: 9w +2"}));
  EXPECT_TRUE(decode({}).empty());
}

TEST(LockBatch, MalformedBatchesAreNamedErrors) {
  std::vector<std::byte> good;
  append_lock_request(good, LockRecord::kQueue, 1, false, 3, LockMode::kRead);
  std::vector<std::byte> release;
  finish_data(release, begin_release(release, 3, LockMode::kWrite));
  // Every strict prefix is truncated.
  for (const auto& whole : {good, release}) {
    for (std::size_t n = 1; n < whole.size(); ++n) {
      std::vector<std::byte> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_NE(error_of(cut).find("rank 2 sent a truncated lock batch"), std::string::npos) << n;
    }
  }
  std::vector<std::byte> kind{std::byte{9}};
  EXPECT_NE(error_of(kind).find("unknown kind 9"), std::string::npos);

  std::vector<std::byte> flags = good;
  flags[1 + 4] = std::byte{4};
  EXPECT_NE(error_of(flags).find("flags 4"), std::string::npos);

  std::vector<std::byte> mode = release;
  mode[1 + 4] = std::byte{3};  // the release's mode
  EXPECT_NE(error_of(mode).find("unknown mode 3"), std::string::npos);

  std::vector<std::byte> data;  // grant data longer than the batch
  append_value(data, static_cast<std::uint8_t>(LockRecord::kGrant));
  append_value(data, ScopeId{1});
  append_value(data, std::uint32_t{100});
  EXPECT_NE(error_of(data).find("truncated"), std::string::npos);
}

}  // namespace
