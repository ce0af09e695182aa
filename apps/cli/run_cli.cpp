#include <cstdio>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "commands.hpp"
#include "rank_session.hpp"

namespace atl::cli {
namespace {

/// The deepest subcommand the parser had entered (for naming valid options in errors).
CLI::App* active_command(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands()) return active_command(sub);
  return app;
}

std::string command_path(CLI::App* app) {
  std::string path = app->get_name();
  for (CLI::App* p = app->get_parent(); p != nullptr; p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

std::string valid_words(CLI::App* app) {
  std::string words;
  auto append = [&](const std::string& w) { words += (words.empty() ? "" : ", ") + w; };
  for (const CLI::App* sub : app->get_subcommands({})) append(sub->get_name());
  for (const CLI::Option* opt : app->get_options()) {
    if (!opt->get_lnames().empty()) append("--" + opt->get_lnames().front());
  }
  return words;
}

}  // namespace

int run_cli(int argc, char** argv) {
  set_command_line(argc, argv);
  CLI::App app{"Atoll: a distributed graph-analytics engine (GraphLab and Pregel models)", "atoll"};
  app.require_subcommand(1);
  add_generate_command(app);
  add_info_command(app);
  add_partition_command(app);
  add_run_command(app);
  add_launch_command(app);
  add_doctor_command(app);
  add_plot_command(app);
  try {
    app.parse(argc, argv);
    return 0;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    // A command that already reported its failure and only sets the exit code (launch).
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    CLI::App* cmd = active_command(&app);
    std::string message = e.what();
    std::vector<std::string> extra = cmd->remaining();
    if (!extra.empty() && !cmd->get_subcommands({}).empty() && cmd->get_subcommands().empty()) {
      message = "unknown subcommand '" + extra.front() + "'";
    }
    std::cerr << command_path(cmd) << ": " << message << "\n"
              << "valid here: " << valid_words(cmd) << "\n"
              << "run '" << command_path(cmd) << " --help' for details\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "atoll: error: " << e.what() << "\n";
    return e.kind() == ErrorKind::kUsage ? 2 : 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "atoll: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "atoll: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace atl::cli
