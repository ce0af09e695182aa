// "Did you mean ...?" for a misspelt option or subcommand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace atl::cli {

/// The candidate nearest to `word` by edit distance (insertions, deletions, substitutions
/// and swaps of adjacent characters), if it is near enough to be a likely typo (at most a
/// third of the word's length, at least 1 and at most 3 edits) or starts with `word` (a
/// prefix of at least 3 characters); else empty. Ties go to the earlier candidate.
std::string closest_word(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace atl::cli
