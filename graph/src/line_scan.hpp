// Line-oriented parsing of text graph files in parallel over byte ranges.
//
// The text is cut into chunks at line boundaries; each chunk is parsed by one TBB task into its
// own output, and outputs are concatenated in file order, so the result does not depend on the
// thread count. A malformed line stops its chunk; the earliest failing line of the file is
// reported as "NAME:LINE: message".
#pragma once

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/graph/edge_list.hpp"

namespace atl::detail {

/// Thrown inside a chunk for a malformed line; the driver adds the file name and line number.
struct LineFailure {
  std::string message;
};

/// Reads fields from one line (without its '\n' and trailing '\r').
class LineCursor {
 public:
  explicit LineCursor(std::string_view line) : p_(line.data()), end_(line.data() + line.size()) {}

  /// Lets a ',' end a field too (comma-separated edge lists); skip_separator() then skips it.
  void allow_commas() { commas_ = true; }
  /// Skips blanks, one ',' (when allowed) and the blanks after it.
  void skip_separator() {
    skip_blanks();
    if (commas_ && p_ != end_ && *p_ == ',') {
      ++p_;
      skip_blanks();
    }
  }

  void skip_blanks() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t')) ++p_;
  }
  bool at_end() const { return p_ == end_; }
  char peek() const { return *p_; }
  void advance() { ++p_; }

  /// The text from here to the next blank, for error messages.
  std::string_view token() const {
    const char* q = p_;
    while (q != end_ && !ends_field(*q)) ++q;
    return {p_, static_cast<std::size_t>(q - p_)};
  }

  [[noreturn]] void expected(std::string_view what) const {
    if (at_end()) throw LineFailure{str_cat("expected ", what, ", got end of line")};
    throw LineFailure{str_cat("expected ", what, ", got ", quote_excerpt(token()))};
  }

  /// Skips blanks, then parses a non-negative decimal integer that must end at a blank or EOL.
  std::uint64_t parse_u64(std::string_view what) {
    skip_blanks();
    const char* start = p_;
    std::uint64_t value = 0;
    while (p_ != end_ && static_cast<unsigned>(*p_ - '0') < 10u) {
      auto digit = static_cast<std::uint64_t>(*p_ - '0');
      if (value > (UINT64_MAX - digit) / 10) {
        p_ = start;
        throw LineFailure{str_cat(what, " does not fit in 64 bits, got ", quote_excerpt(token()))};
      }
      value = value * 10 + digit;
      ++p_;
    }
    if (p_ == start || (p_ != end_ && !ends_field(*p_))) {
      p_ = start;
      expected(what);
    }
    return value;
  }

  /// Skips blanks, then parses a finite decimal or scientific number (no nan or inf).
  double parse_double(std::string_view what) {
    skip_blanks();
    const char* start = p_;
    // from_chars rejects a leading '+': skip one, but not one before another sign ("+-1").
    const char* first = p_;
    if (first != end_ && *first == '+') {
      ++first;
      if (first != end_ && (*first == '+' || *first == '-')) first = p_;
    }
    double value = 0;
    auto [ptr, ec] = std::from_chars(first, end_, value);
    if (ec != std::errc() || (ptr != end_ && !ends_field(*ptr)) || !std::isfinite(value)) {
      p_ = start;
      if (ec == std::errc::result_out_of_range) {
        throw LineFailure{str_cat(what, " is out of range, got ", quote_excerpt(token()))};
      }
      expected(what);
    }
    p_ = ptr;
    return value;
  }

  /// Skips blanks and requires the end of the line.
  void expect_end() {
    skip_blanks();
    if (!at_end()) expected("end of line");
  }

 private:
  bool ends_field(char c) const { return c == ' ' || c == '\t' || (commas_ && c == ','); }

  const char* p_;
  const char* end_;
  bool commas_ = false;
};

/// What one chunk produced. Extra is parser-specific bookkeeping merged by the caller.
template <typename Extra>
struct ChunkOutput {
  std::vector<Edge> edges;
  std::vector<double> weights;
  std::uint64_t newlines = 0;    ///< '\n' bytes in the chunk
  std::uint64_t error_line = 0;  ///< 0-based line within the chunk (if error)
  std::optional<std::string> error;
  std::size_t index = 0;  ///< which chunk (set before its first line is parsed)
  Extra extra{};
};

/// Splits text into line-aligned chunks; returns chunk start offsets plus text.size().
inline std::vector<std::size_t> line_aligned_cuts(std::string_view text) {
  std::size_t threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  std::size_t target = std::clamp<std::size_t>(text.size() / (8 * threads + 1), 1u << 16, 1u << 24);
  std::vector<std::size_t> cuts{0};
  std::size_t pos = 0;
  while (text.size() - pos > target) {
    const void* nl = std::memchr(text.data() + pos + target, '\n', text.size() - pos - target);
    if (nl == nullptr) break;
    pos = static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) + 1;
    if (pos >= text.size()) break;
    cuts.push_back(pos);
  }
  cuts.push_back(text.size());
  return cuts;
}

/// Calls parse_line(std::string_view line, ChunkOutput<Extra>&, std::uint64_t line_in_chunk)
/// for every line of text, in parallel chunks. Lines exclude '\n' and a trailing '\r'.
/// `cuts` as line_aligned_cuts returns them; `reserve`: size out.edges for the chunk's bytes
/// (parsers that write edges elsewhere pass false).
template <typename Extra, typename ParseLine>
std::vector<ChunkOutput<Extra>> parse_lines_parallel(std::string_view text, ParseLine parse_line,
                                                     const std::vector<std::size_t>& cuts,
                                                     bool reserve = true) {
  std::vector<ChunkOutput<Extra>> chunks(cuts.size() - 1);
  tbb::parallel_for(std::size_t{0}, chunks.size(), [&](std::size_t c) {
    ChunkOutput<Extra>& out = chunks[c];
    out.index = c;
    std::string_view chunk = text.substr(cuts[c], cuts[c + 1] - cuts[c]);
    if (reserve) out.edges.reserve(chunk.size() / 12);
    const char* p = chunk.data();
    const char* end = p + chunk.size();
    std::uint64_t line_no = 0;
    try {
      while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        const char* line_end = nl != nullptr ? nl : end;
        const char* content_end = line_end;
        if (content_end != p && content_end[-1] == '\r') --content_end;
        parse_line(std::string_view(p, content_end - p), out, line_no);
        if (nl == nullptr) break;
        ++line_no;
        p = nl + 1;
      }
      out.newlines = line_no;
    } catch (const LineFailure& failure) {
      out.error = failure.message;
      out.error_line = line_no;
      out.newlines = static_cast<std::uint64_t>(std::count(chunk.begin(), chunk.end(), '\n'));
    }
  });
  return chunks;
}

template <typename Extra, typename ParseLine>
std::vector<ChunkOutput<Extra>> parse_lines_parallel(std::string_view text, ParseLine parse_line) {
  return parse_lines_parallel<Extra>(text, parse_line, line_aligned_cuts(text));
}

/// Throws "name:LINE: message" for the earliest chunk error; first_line is the 1-based line
/// number of the text's first line.
template <typename Extra>
void throw_first_error(const std::vector<ChunkOutput<Extra>>& chunks, std::string_view name,
                       std::uint64_t first_line) {
  std::uint64_t line = first_line;
  for (const auto& chunk : chunks) {
    if (chunk.error) fail(name, ":", line + chunk.error_line, ": ", *chunk.error);
    line += chunk.newlines;
  }
}

/// 1-based line number of the first line of chunk c.
template <typename Extra>
std::uint64_t chunk_first_line(const std::vector<ChunkOutput<Extra>>& chunks, std::size_t c,
                               std::uint64_t first_line) {
  for (std::size_t i = 0; i < c; ++i) first_line += chunks[i].newlines;
  return first_line;
}

/// Concatenates chunk outputs in order into list (edges, and weights when weighted).
template <typename Extra>
void concat_chunks(std::vector<ChunkOutput<Extra>>& chunks, EdgeList& list, bool weighted) {
  std::vector<std::size_t> offsets(chunks.size() + 1, 0);
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    offsets[c + 1] = offsets[c] + chunks[c].edges.size();
  }
  list.edges.resize(offsets.back());
  list.weighted = weighted;
  if (weighted) list.weights.resize(offsets.back());
  tbb::parallel_for(std::size_t{0}, chunks.size(), [&](std::size_t c) {
    std::copy(chunks[c].edges.begin(), chunks[c].edges.end(), list.edges.begin() + offsets[c]);
    if (weighted) {
      std::copy(chunks[c].weights.begin(), chunks[c].weights.end(),
                list.weights.begin() + offsets[c]);
    }
    std::vector<Edge>().swap(chunks[c].edges);
    std::vector<double>().swap(chunks[c].weights);
  });
}

/// Returns the next line of text starting at pos (without '\n' / trailing '\r') and advances
/// pos past it. For serial header scanning.
inline std::string_view next_line(std::string_view text, std::size_t& pos) {
  std::size_t nl = text.find('\n', pos);
  std::size_t end = nl == std::string_view::npos ? text.size() : nl;
  std::string_view line = text.substr(pos, end - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = nl == std::string_view::npos ? text.size() : nl + 1;
  return line;
}

}  // namespace atl::detail
