// The `atoll` subcommands. Each registers itself on the CLI11 app and runs when selected.
#pragma once

#include <CLI/CLI.hpp>
#include <string_view>

namespace atl::cli {

/// `atoll generate kronecker|uniform|grid ... --out FILE`
void add_generate_command(CLI::App& app);
/// `atoll generate ratings|image ...`: inputs of the machine-learning apps (under `gen`).
void add_generate_ml_commands(CLI::App* gen);
/// `atoll convert IN OUT [--format bin|snap|mtx] [--symmetrize] [--dedup]`
void add_convert_command(CLI::App& app);
/// `atoll info GRAPH|DIR [--json] ...`
void add_info_command(CLI::App& app);
/// `atoll partition GRAPH --atoms K --out DIR [--method hash|metis] ...`
void add_partition_command(CLI::App& app);
/// `atoll run pagerank|cc|sssp --graph PATH ...`
void add_run_command(CLI::App& app);
/// `atoll launch -n N -- CMD ARGS...`: N local ranks of one job (exits with the worst rank's
/// code, thrown as CLI::RuntimeError).
void add_launch_command(CLI::App& app);
/// `atoll doctor [--transport ucx|tcp]`
void add_doctor_command(CLI::App& app);

/// `atoll completion bash`: a completion script generated from the commands added before it.
void add_completion_command(CLI::App& app);

/// `atoll plot METRICS.json ... --out FILE.png [--label L ...]` (python3 + matplotlib)
void add_plot_command(CLI::App& app);

/// Runs the atoll command line; returns the process exit code (0 ok, 1 runtime, 2 usage).
/// `version` is what `atoll --version` prints after "atoll ".
int run_cli(int argc, char** argv, std::string_view version = {});

}  // namespace atl::cli
