#include <cstdio>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "commands.hpp"
#include "rank_session.hpp"
#include "suggest.hpp"

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

/// The subcommands and long options valid in app, in the order they were added.
std::vector<std::string> valid_list(CLI::App* app) {
  std::vector<std::string> words;
  for (const CLI::App* sub : app->get_subcommands({})) words.push_back(sub->get_name());
  for (const CLI::Option* opt : app->get_options()) {
    for (const std::string& name : opt->get_lnames()) words.push_back("--" + name);
  }
  return words;
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

/// Unsigned options reject a leading '-' (CLI11 would wrap "-1" to 2^64-1), in every command.
void reject_negative_unsigned(CLI::App* app) {
  for (CLI::Option* opt : app->get_options()) {
    if (opt->get_type_name().rfind("UINT", 0) != 0) continue;
    opt->check(CLI::Validator(
        [](std::string& value) {
          const std::size_t first = value.find_first_not_of(" \t");
          if (first != std::string::npos && value[first] == '-') {
            return "must be a non-negative integer, got " + value;
          }
          return std::string();
        },
        ""));
  }
  for (CLI::App* sub : app->get_subcommands({})) reject_negative_unsigned(sub);
}

/// `atoll help [COMMAND...]`: the help of that command (of atoll without one).
void add_help_command(CLI::App& app) {
  auto words = std::make_shared<std::vector<std::string>>();
  CLI::App* help = app.add_subcommand("help", "Show the help of atoll or of a command");
  help->add_option("command", *words, "A command, e.g. run, or run pagerank");
  help->callback([&app, words] {
    CLI::App* cmd = &app;
    for (const std::string& w : *words) {
      CLI::App* sub = nullptr;
      for (CLI::App* s : cmd->get_subcommands({})) {
        if (s->get_name() == w) sub = s;
      }
      if (sub == nullptr) {
        std::vector<std::string> names;
        for (const CLI::App* s : cmd->get_subcommands({})) names.push_back(s->get_name());
        const std::string near = closest_word(w, names);
        usage_fail("help: '", command_path(cmd), "' has no command '", w, "'",
                   near.empty() ? "" : " (did you mean '" + near + "'?)",
                   "; valid: ", valid_words(cmd));
      }
      cmd = sub;
    }
    // App::help() would show the selected subcommand (help itself): format cmd directly.
    std::cout << cmd->get_formatter()->make_help(cmd, command_path(cmd),
                                                 CLI::AppFormatMode::Normal);
  });
}

}  // namespace

int run_cli(int argc, char** argv, std::string_view version) {
  set_command_line(argc, argv);
  CLI::App app{"Atoll: a distributed graph-analytics engine (GraphLab and Pregel models)", "atoll"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "atoll " + std::string(version.empty() ? "unknown" : version),
                       "Print the version and exit");
  app.footer("Run 'atoll help COMMAND' or 'atoll COMMAND --help' for a command's options.");
  add_help_command(app);
  add_generate_command(app);
  add_convert_command(app);
  add_info_command(app);
  add_partition_command(app);
  add_run_command(app);
  add_launch_command(app);
  add_doctor_command(app);
  add_plot_command(app);
  add_completion_command(app);
  reject_negative_unsigned(&app);
  try {
    app.parse(argc, argv);
    return 0;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    // A command that already reported its failure and only sets the exit code (launch).
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    CLI::App* cmd = active_command(&app);
    std::string message = e.what();
    std::vector<std::string> extra = cmd->remaining();
    std::string unknown;  // the word the suggestion is for
    if (!extra.empty() && !cmd->get_subcommands({}).empty() && cmd->get_subcommands().empty()) {
      message = "unknown subcommand '" + extra.front() + "'";
      unknown = extra.front();
    } else {
      for (const std::string& word : extra) {
        if (word.starts_with("--")) {
          unknown = word.substr(0, word.find('='));
          message = "unknown option '" + unknown + "'";
          break;
        }
      }
    }
    if (!unknown.empty()) {
      const std::string near = closest_word(unknown, valid_list(cmd));
      if (!near.empty()) message += "; did you mean '" + near + "'?";
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
