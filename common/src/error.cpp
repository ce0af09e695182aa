#include "atoll/common/error.hpp"

#include <cstdio>

namespace atl {

std::string quote_excerpt(std::string_view text, std::size_t max_len) {
  std::string out = "'";
  std::size_t n = 0;
  for (char c : text) {
    if (n++ == max_len) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  out += "'";
  return out;
}

}  // namespace atl
