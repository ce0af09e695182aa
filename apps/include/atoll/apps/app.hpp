// An app: one algorithm that `atoll run APP` can run, written once and registered once. Its
// spec names the engines that run it, adds its own options to its subcommand, and returns what
// runs it over this rank's part of the graph. The command line does the rest for every app
// alike: loading, ranks, the engine choice, gathering values to rank 0, --out, the summary and
// --metrics.
#pragma once

#include <cstddef>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "atoll/apps/vertex_values.hpp"
#include "atoll/engine/consistency.hpp"
#include "atoll/engine/engine_options.hpp"
#include "atoll/graph/graph_format.hpp"
#include "atoll/graph/topology.hpp"

namespace CLI {
class App;
}

namespace atl {

struct Cluster;
class JsonWriter;

/// What an app's run gets.
struct AppInput {
  Topology graph;         ///< this rank's part (the whole graph on one rank)
  EngineOptions options;  ///< options.engine is one of the spec's engines
  Cluster* cluster;       ///< null on one rank
  std::string out;        ///< --out, for an app that writes it itself (AppSpec::writes_out)
};

/// What an app's run returns: one fixed-size value per owned vertex and the run's stats.
struct AppOutput {
  RunStats stats;
  std::vector<Gid> gids;  ///< owned vertices, ascending
  std::size_t value_bytes = 0;
  std::vector<std::byte> values;  ///< gids.size() x value_bytes
  /// Appends one value as --out writes it (after "gid<TAB>").
  std::function<void(std::string& out, const std::byte* value)> format;
  /// On rank 0 after the gather (gids and values then hold every vertex): prints the app's
  /// own summary lines to stdout.
  std::function<void(const AppOutput& all)> summarize;
  /// On rank 0: adds the app's own fields to the --metrics object (may be empty).
  std::function<void(JsonWriter& json)> metrics;

  std::size_t size() const { return gids.size(); }
  /// The i-th value as a T (T must be value_bytes long).
  template <typename T>
  T value(std::size_t i) const;
  /// Entry k of the i-th value, a vector of T (make_output(VertexVectors&&)).
  template <typename T>
  T value_at(std::size_t i, std::size_t k) const {
    T v;
    std::memcpy(&v, values.data() + i * value_bytes + k * sizeof(T), sizeof(T));
    return v;
  }
};

/// An AppOutput holding r's values (double: shortest round-trip, "inf"; uint64: decimal).
AppOutput make_output(VertexValues<double>&& r);
AppOutput make_output(VertexValues<std::uint64_t>&& r);
/// K doubles per vertex, written "v1 v2 ... vK".
AppOutput make_output(VertexVectors&& r);
/// Writes "gid<TAB>value" lines ordered as output.gids (temporary name, then renamed).
void write_app_output(const std::string& path, const AppOutput& output);

/// What the command line calls for one `atoll run APP`: check() before the graph is loaded
/// (option ranges; may be empty), then run().
struct AppRunner {
  std::function<void()> check;
  std::function<AppOutput(AppInput&)> run;
};

struct AppSpec {
  std::string name;
  std::string description;
  std::vector<EngineKind> engines;  ///< the engines that run it; the first is the default
  /// The model of its GraphLab program (for the configuration line; none for Pregel-only).
  std::optional<Consistency> consistency;
  /// Adds the app's own options to its subcommand and returns the runner bound to them.
  std::function<AppRunner(CLI::App& command)> bind;
  /// False: the app reads its own input (e.g. denoise's --image); --graph is not taken and
  /// the run gets an empty graph (and the cluster on several ranks).
  bool needs_graph = true;
  /// True: the app writes --out itself (AppInput::out) instead of "gid<TAB>value" lines.
  bool writes_out = false;
  /// How a Matrix Market --graph is read (als: rows and columns are two vertex sets).
  MtxLayout mtx_layout = MtxLayout::kAuto;
  /// True: the app's results do not depend on owned lids following gid order, so `atoll run
  /// --degree-order` may relabel its graph (Topology::by_degree).
  bool any_vertex_order = false;
};

/// Adds an app to the registry (at start-up, from register_builtin_apps or a user's main).
void register_app(AppSpec spec);
/// The registered apps, in registration order (the built-in ones first registered on use).
std::span<const AppSpec> registered_apps();
/// The app of that name, or null.
const AppSpec* find_app(std::string_view name);
/// "app (engines)" for every app that runs on `engine` (for error messages).
std::string apps_for_engine(EngineKind engine);

template <typename T>
T AppOutput::value(std::size_t i) const {
  T v;
  static_assert(std::is_trivially_copyable_v<T>);
  std::memcpy(&v, values.data() + i * sizeof(T), sizeof(T));
  return v;
}

}  // namespace atl
