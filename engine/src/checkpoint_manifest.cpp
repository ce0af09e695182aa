#include "checkpoint_manifest.hpp"

#include <charconv>
#include <cstdio>
#include <sstream>

#include "atoll/common/crc32c.hpp"
#include "atoll/common/error.hpp"

namespace atl::detail {
namespace {

// Version 2: compact vertex blocks in the rank files, and the graph digest of graph_digest.cpp.
constexpr std::string_view kFormat = "atoll-checkpoint ";
constexpr int kVersion = 2;
const std::string kFirstLine = str_cat(kFormat, kVersion);

/// Newlines would end a field early.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool unhex(std::string_view text, std::string& out) {
  if (text.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
    if (ec != std::errc() || end != text.data() + i + 2) return false;
    out.push_back(static_cast<char>(value));
  }
  return true;
}

template <typename T>
bool number(std::string_view text, T& out, int base = 10) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

/// Splits "key rest of line" at the first space.
std::pair<std::string_view, std::string_view> split_key(std::string_view line) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return {line, {}};
  return {line.substr(0, space), line.substr(space + 1)};
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < s.size()) {
    const std::size_t space = s.find(' ', at);
    const std::size_t end = space == std::string_view::npos ? s.size() : space;
    if (end > at) out.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

}  // namespace

std::string format_manifest(const Manifest& m) {
  const CheckpointShape& s = m.shape;
  std::ostringstream out;
  out << kFirstLine << '\n'
      << "epoch " << m.epoch << '\n'
      << "iteration " << m.iteration << '\n'
      << "ranks " << m.files.size() << '\n'
      << "engine " << one_line(s.engine) << '\n'
      << "identity " << one_line(s.identity) << '\n'
      << "types " << one_line(s.types) << '\n'
      << "graph " << std::hex << s.graph_digest << std::dec << ' ' << s.vertices << ' ' << s.edges
      << '\n'
      << "records " << s.vertex_bytes << ' ' << s.edge_bytes << ' ' << s.message_bytes << '\n';
  if (m.topology.saved) {
    out << "topology " << m.topology.vertices << ' ' << m.topology.edges << ' '
        << m.topology.weight_bytes << '\n';
  }
  for (std::size_t r = 0; r < m.files.size(); ++r) {
    out << "file " << r << ' ' << m.files[r].bytes << ' ' << std::hex << m.files[r].crc << std::dec
        << '\n';
  }
  for (const auto& [name, value] : m.state)
    out << "state " << hex(name) << ' ' << hex(value) << '\n';
  std::string text = out.str();
  char end[32];
  std::snprintf(end, sizeof end, "end %08x\n", crc32c(0, text.data(), text.size()));
  return text + end;
}

Manifest parse_manifest(std::string_view text, const std::string& what) {
  const std::size_t last = text.rfind("end ");
  if (last == std::string_view::npos || (last > 0 && text[last - 1] != '\n')) {
    fail(what, ": no end line (truncated)");
  }
  // Exactly "end " and 8 lowercase hex digits and a newline: the line the checksum misses.
  std::uint32_t crc = 0;
  const std::string_view end_value = text.substr(last + 4);
  if (end_value.size() != 9 || end_value.back() != '\n' ||
      end_value.find_first_not_of("0123456789abcdef") != 8 ||
      !number(end_value.substr(0, 8), crc, 16)) {
    fail(what, ": malformed end line (truncated?)");
  }
  if (crc32c(0, text.data(), last) != crc) fail(what, ": checksum mismatch (the file is corrupt)");
  Manifest m;
  bool first = true;
  std::size_t ranks = 0;
  bool seen_epoch = false, seen_iteration = false, seen_ranks = false, seen_graph = false,
       seen_records = false;
  std::size_t at = 0;
  for (std::size_t line_no = 1; at < last; ++line_no) {
    const std::size_t nl = text.find('\n', at);
    const std::string_view line = text.substr(at, nl - at);
    at = nl + 1;
    const std::string where = str_cat(what, ": line ", line_no);
    if (first) {
      if (line.starts_with(kFormat) && line != kFirstLine) {
        fail(what, ": written by another Atoll (checkpoint version ", line.substr(kFormat.size()),
             ", this build reads ", kVersion, ")");
      }
      if (line != kFirstLine) {
        fail(what, ": not an Atoll checkpoint manifest (version ", kVersion, ")");
      }
      first = false;
      continue;
    }
    auto [key, rest] = split_key(line);
    const std::vector<std::string_view> w = words(rest);
    bool ok = true;
    if (key == "epoch") {
      ok = w.size() == 1 && number(w[0], m.epoch);
      seen_epoch = true;
    } else if (key == "iteration") {
      ok = w.size() == 1 && number(w[0], m.iteration);
      seen_iteration = true;
    } else if (key == "ranks") {
      ok = w.size() == 1 && number(w[0], ranks) && ranks > 0 && ranks <= (1u << 20);
      if (ok) m.files.assign(ranks, {});
      seen_ranks = true;
    } else if (key == "engine") {
      m.shape.engine = rest;
    } else if (key == "identity") {
      m.shape.identity = rest;
    } else if (key == "types") {
      m.shape.types = rest;
    } else if (key == "graph") {
      ok = w.size() == 3 && number(w[0], m.shape.graph_digest, 16) &&
           number(w[1], m.shape.vertices) && number(w[2], m.shape.edges);
      seen_graph = true;
    } else if (key == "records") {
      ok = w.size() == 3 && number(w[0], m.shape.vertex_bytes) &&
           number(w[1], m.shape.edge_bytes) && number(w[2], m.shape.message_bytes);
      seen_records = true;
    } else if (key == "topology") {
      CheckpointTopology& t = m.topology;
      ok = !t.saved && w.size() == 3 && number(w[0], t.vertices) && number(w[1], t.edges) &&
           number(w[2], t.weight_bytes) && (t.weight_bytes == 0 || t.weight_bytes == 8);
      t.saved = true;
    } else if (key == "file") {
      std::size_t r = 0;
      WrittenFile f;
      ok = w.size() == 3 && number(w[0], r) && r < m.files.size() && number(w[1], f.bytes) &&
           number(w[2], f.crc, 16);
      if (ok) m.files[r] = f;
    } else if (key == "state") {
      std::string name, value;
      // An empty value (e.g. no aggregators) leaves the second word out.
      ok = (w.size() == 1 || w.size() == 2) && unhex(w[0], name) &&
           (w.size() == 1 || unhex(w[1], value));
      if (ok) m.state[name] = value;
    } else {
      fail(where, ": unknown field '", key, "'");
    }
    if (!ok) fail(where, ": malformed '", key, "' line");
  }
  if (!seen_epoch || !seen_iteration || !seen_ranks || !seen_graph || !seen_records) {
    fail(what, ": incomplete (a required field is missing)");
  }
  for (std::size_t r = 0; r < m.files.size(); ++r) {
    if (m.files[r].bytes == 0) fail(what, ": no file line for rank ", r);
  }
  return m;
}

std::string shape_mismatch(const CheckpointShape& saved, const CheckpointShape& now) {
  auto differ = [](std::string_view field, const auto& a, const auto& b) {
    return str_cat("it was written by a run with another ", field, " (epoch: '", a,
                   "', this run: '", b, "')");
  };
  if (saved.engine != now.engine) return differ("engine", saved.engine, now.engine);
  if (saved.graph_digest != now.graph_digest || saved.vertices != now.vertices ||
      saved.edges != now.edges) {
    return str_cat("it belongs to another graph (epoch: ", saved.vertices, " vertices, ",
                   saved.edges, " edges, digest ", saved.graph_digest, "; this run: ", now.vertices,
                   " vertices, ", now.edges, " edges, digest ", now.graph_digest, ")");
  }
  if (saved.identity != now.identity) return differ("app or options", saved.identity, now.identity);
  if (saved.types != now.types || saved.vertex_bytes != now.vertex_bytes ||
      saved.edge_bytes != now.edge_bytes || saved.message_bytes != now.message_bytes) {
    return differ("program data types", saved.types, now.types);
  }
  return {};
}

}  // namespace atl::detail
