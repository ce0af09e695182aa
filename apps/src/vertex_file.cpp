#include "vertex_file.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "atoll/common/error.hpp"
#include "atoll/engine/cluster.hpp"
#include "atoll/graph/input_file.hpp"

namespace atl {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

/// The next whitespace-separated field of line from pos (empty at the end).
std::string_view next_field(std::string_view line, std::size_t& pos) {
  while (pos < line.size() && is_blank(line[pos])) ++pos;
  std::size_t start = pos;
  while (pos < line.size() && !is_blank(line[pos])) ++pos;
  return line.substr(start, pos - start);
}

struct Parsed {
  Gid gid;
  std::uint64_t line;
};

}  // namespace

VertexRows read_vertex_rows(const std::string& path, const VertexFileSpec& spec,
                            const Topology& graph, Cluster* cluster) {
  InputFile file = InputFile::open(path);
  std::string_view text = file.bytes();
  std::vector<Parsed> lines;  // every data line of the file
  std::vector<double> values;
  std::vector<char> owned_here;
  VertexRows rows;
  std::uint64_t line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::size_t at = 0;
    std::string_view field = next_field(line, at);
    if (field.empty() || field[0] == '#' || field[0] == '%') continue;
    auto where = [&] { return str_cat(path, ":", line_no, ": "); };
    Gid gid = 0;
    auto [gend, gerr] = std::from_chars(field.data(), field.data() + field.size(), gid);
    if (gerr != std::errc() || gend != field.data() + field.size()) {
      fail(where(), "expected a vertex id, got ", quote_excerpt(field));
    }
    const std::size_t first = values.size();
    for (std::string_view v = next_field(line, at); !v.empty(); v = next_field(line, at)) {
      double x = 0;
      auto [vend, verr] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (verr != std::errc() || vend != v.data() + v.size() || !std::isfinite(x)) {
        fail(where(), "expected a number for the ", spec.value_name, ", got ", quote_excerpt(v));
      }
      values.push_back(x);
    }
    const std::size_t count = values.size() - first;
    if (count != spec.width) {
      fail(where(), "expected ", spec.width, " ", spec.value_name, spec.width == 1 ? "" : "s",
           " after the vertex id", *spec.width_flag ? str_cat(" (", spec.width_flag, ")") : "",
           ", got ", count);
    }
    for (std::size_t k = first; k < values.size(); ++k) {
      const double x = values[k];
      if (spec.rule == VertexFileSpec::Rule::kNonNegative && x < 0) {
        fail(where(), "negative ", spec.value_name, " ", x);
      }
      if (spec.rule == VertexFileSpec::Rule::kIndexBelow &&
          (x < 0 || x >= static_cast<double>(spec.bound) || x != std::floor(x))) {
        fail(where(), spec.value_name, " ", x, " is not an integer in 0..", spec.bound - 1);
      }
    }
    if (spec.some_positive && std::none_of(values.begin() + static_cast<std::ptrdiff_t>(first),
                                           values.end(), [](double x) { return x > 0; })) {
      fail(where(), "every ", spec.value_name, " is zero (at least one must be positive)");
    }
    lines.push_back({gid, line_no});
    const Lid lid = graph.lid(gid);
    const bool owned = lid != kInvalidLid && lid < graph.num_owned();
    owned_here.push_back(owned ? 1 : 0);
    if (owned) {
      rows.lids.push_back(lid);
      rows.values.insert(rows.values.end(), values.begin() + static_cast<std::ptrdiff_t>(first),
                         values.end());
    }
  }
  // Each vertex at most once.
  std::vector<std::pair<Gid, std::uint64_t>> by_gid(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) by_gid[i] = {lines[i].gid, lines[i].line};
  std::sort(by_gid.begin(), by_gid.end());
  std::uint64_t dup_line = 0, dup_first = 0;
  Gid dup_gid = 0;
  for (std::size_t i = 1; i < by_gid.size(); ++i) {
    if (by_gid[i].first == by_gid[i - 1].first && (dup_line == 0 || by_gid[i].second < dup_line)) {
      dup_line = by_gid[i].second;
      dup_first = by_gid[i - 1].second;
      dup_gid = by_gid[i].first;
    }
  }
  if (dup_line != 0) {
    fail(path, ":", dup_line, ": vertex ", dup_gid, " already has a line (line ", dup_first, ")");
  }
  // Every gid must be a vertex of the graph (owned by some rank).
  if (cluster != nullptr && !owned_here.empty()) {
    cluster->collectives.allreduce(std::span<char>(owned_here), ReduceOp::kMax);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (owned_here[i] == 0) {
      fail(path, ":", lines[i].line, ": vertex ", lines[i].gid, " is not in the graph");
    }
  }
  return rows;
}

}  // namespace atl
