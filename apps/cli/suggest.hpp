// "Did you mean ...?" for a misspelt option or subcommand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace atl::cli {

/// What `word` most likely meant: the candidate equal to it, else the first that starts with
/// it (a prefix of at least 3 characters after any "--"), else the nearest by edit distance
/// (insertions, deletions, substitutions and swaps of adjacent characters) when near enough
/// to be a typo (at most a third of the word's length, at least 1 and at most 3 edits; ties
/// go to the earlier candidate); else empty.
std::string closest_word(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace atl::cli
