#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "atoll/apps/app.hpp"
#include "atoll/common/error.hpp"
#include "builtin_apps.hpp"
#include "value_lines.hpp"

namespace atl {
namespace {

std::vector<AppSpec>& registry() {
  static std::vector<AppSpec> apps;
  return apps;
}

void ensure_builtin() {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_apps(); });
}

template <typename T>
AppOutput output_of(VertexValues<T>&& r, void (*format)(std::string&, const std::byte*)) {
  AppOutput out;
  out.stats = std::move(r.stats);
  out.gids = std::move(r.gids);
  out.value_bytes = sizeof(T);
  out.values.resize(r.values.size() * sizeof(T));
  if (!r.values.empty()) std::memcpy(out.values.data(), r.values.data(), out.values.size());
  out.format = format;
  return out;
}

}  // namespace

void register_app(AppSpec spec) {
  if (spec.engines.empty()) fail("app '", spec.name, "' names no engine");
  std::vector<AppSpec>& apps = registry();
  if (std::any_of(apps.begin(), apps.end(),
                  [&](const AppSpec& a) { return a.name == spec.name; })) {
    fail("app '", spec.name, "' registered twice");
  }
  apps.push_back(std::move(spec));
}

std::span<const AppSpec> registered_apps() {
  ensure_builtin();
  return registry();
}

const AppSpec* find_app(std::string_view name) {
  for (const AppSpec& app : registered_apps()) {
    if (app.name == name) return &app;
  }
  return nullptr;
}

std::string apps_for_engine(EngineKind engine) {
  std::string out;
  for (const AppSpec& app : registered_apps()) {
    if (std::find(app.engines.begin(), app.engines.end(), engine) != app.engines.end()) {
      out += (out.empty() ? "" : ", ") + app.name;
    }
  }
  return out.empty() ? "none" : out;
}

AppOutput make_output(VertexValues<double>&& r) {
  return output_of(std::move(r), [](std::string& out, const std::byte* v) {
    double d;
    std::memcpy(&d, v, sizeof d);
    detail::append_double(out, d);
  });
}

AppOutput make_output(VertexValues<std::uint64_t>&& r) {
  return output_of(std::move(r), [](std::string& out, const std::byte* v) {
    std::uint64_t u;
    std::memcpy(&u, v, sizeof u);
    detail::append_unsigned(out, u);
  });
}

AppOutput make_output(VertexVectors&& r) {
  AppOutput out;
  out.stats = std::move(r.stats);
  out.gids = std::move(r.gids);
  const std::size_t k = r.width;
  out.value_bytes = k * sizeof(double);
  out.values.resize(r.values.size() * sizeof(double));
  if (!r.values.empty()) std::memcpy(out.values.data(), r.values.data(), out.values.size());
  out.format = [k](std::string& line, const std::byte* v) {
    for (std::size_t i = 0; i < k; ++i) {
      double d;
      std::memcpy(&d, v + i * sizeof d, sizeof d);
      if (i > 0) line += ' ';
      detail::append_double(line, d);
    }
  };
  return out;
}

void write_app_output(const std::string& path, const AppOutput& output) {
  if (output.format == nullptr) fail("app output without a value format");
  detail::write_value_lines(path, output.size(), output.gids.data(),
                            [&](std::string& line, std::size_t i) {
                              output.format(line, output.values.data() + i * output.value_bytes);
                            });
}

}  // namespace atl
