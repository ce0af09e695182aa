#include "commands.hpp"

int main(int argc, char** argv) {
  return atl::cli::run_cli(argc, argv);
}
