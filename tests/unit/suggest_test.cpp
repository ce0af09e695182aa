// Tests of the "did you mean" suggestion for misspelt options and subcommands.
#include "suggest.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using atl::cli::closest_word;

const std::vector<std::string> kOptions = {"--iterations", "--tol", "--top",      "--threads",
                                           "--transport",  "--out", "--out-graph"};

TEST(Suggest, TyposWithinReach) {
  EXPECT_EQ(closest_word("--iteratons", kOptions), "--iterations");   // a deletion
  EXPECT_EQ(closest_word("--itreations", kOptions), "--iterations");  // a swap
  EXPECT_EQ(closest_word("--trasnport", kOptions), "--transport");
  EXPECT_EQ(closest_word("--tol", kOptions), "--tol");  // exact
  EXPECT_EQ(closest_word("pagerang", {"pagerank", "partition"}), "pagerank");
}

TEST(Suggest, PrefixOfAnOption) {
  EXPECT_EQ(closest_word("--iter", kOptions), "--iterations");
  EXPECT_EQ(closest_word("--out-g", kOptions), "--out-graph");
}

TEST(Suggest, NothingCloseNoSuggestion) {
  EXPECT_EQ(closest_word("--bogus", kOptions), "");
  EXPECT_EQ(closest_word("--x", kOptions), "");
  EXPECT_EQ(closest_word("frobnicate", {"run", "info"}), "");
  EXPECT_EQ(closest_word("--tol", {}), "");
}

}  // namespace
