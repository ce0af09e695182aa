// `atoll plot METRICS.json [MORE.json ...] --out FILE.png [--label L ...] [--title T]`: runs the
// plotting script installed next to the tool (share/atoll/atoll_plot.py, found from this
// executable's path: bin/../share/atoll in an installed prefix, apps/../share/atoll in a build
// tree; ATOLL_PLOT_SCRIPT overrides) with python3 and matplotlib.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "commands.hpp"

namespace atl::cli {
namespace {

struct PlotOptions {
  std::vector<std::string> metrics;
  std::string out;
  std::vector<std::string> labels;
  std::string title;
};

std::filesystem::path plot_script() {
  if (const char* env = std::getenv("ATOLL_PLOT_SCRIPT"); env != nullptr && *env != '\0') {
    if (!std::filesystem::is_regular_file(env)) fail("ATOLL_PLOT_SCRIPT=", env, ": no such file");
    return env;
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot find this program's path (/proc/self/exe): ", ec.message());
  const std::filesystem::path script =
      self.parent_path().parent_path() / "share" / "atoll" / "atoll_plot.py";
  if (!std::filesystem::is_regular_file(script)) {
    fail("plot script ", script.string(),
         " is missing (install Atoll with cmake --install, or set ATOLL_PLOT_SCRIPT)");
  }
  return script;
}

[[noreturn]] void run_plot(const PlotOptions& o) {
  std::vector<std::string> args = {"python3", plot_script().string()};
  args.insert(args.end(), o.metrics.begin(), o.metrics.end());
  args.insert(args.end(), {"--out", o.out});
  for (const std::string& label : o.labels) args.insert(args.end(), {"--label", label});
  if (!o.title.empty()) args.insert(args.end(), {"--title", o.title});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  ::execvp("python3", argv.data());
  fail("cannot run python3 for atoll plot: ", std::strerror(errno),
       " (Debian: apt-get install python3 python3-matplotlib)");
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto o = std::make_shared<PlotOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plot",
      "Plot --metrics files of atoll run: residual, updates and time per step, bytes per rank, "
      "updates/s over time");
  cmd->add_option("metrics", o->metrics, "metrics JSON files (one run each)")->required();
  cmd->add_option("--out", o->out, "the PNG to write")->required();
  cmd->add_option("--label", o->labels, "a name per metrics file, in order");
  cmd->add_option("--title", o->title, "the figure's title");
  cmd->callback([o] { run_plot(*o); });
}

}  // namespace atl::cli
