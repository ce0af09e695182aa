// Errors: every failure Atoll reports to a user is an atl::Error carrying its kind, which the
// command line maps to an exit code (usage -> 2, runtime -> 1).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace atl {

enum class ErrorKind { kUsage, kRuntime };

/// An error with a message meant for the user ("FILE:LINE: expected ..., got '...'").
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

/// Concatenates any streamable values into one string.
template <typename... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

/// Throws a runtime Error whose message is the concatenation of args.
template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(ErrorKind::kRuntime, str_cat(std::forward<Args>(args)...));
}

/// Throws a usage Error (bad flag or argument value).
template <typename... Args>
[[noreturn]] void usage_fail(Args&&... args) {
  throw Error(ErrorKind::kUsage, str_cat(std::forward<Args>(args)...));
}

/// Quotes a short excerpt of untrusted text for an error message (control bytes escaped,
/// long text cut).
std::string quote_excerpt(std::string_view text, std::size_t max_len = 60);

}  // namespace atl
