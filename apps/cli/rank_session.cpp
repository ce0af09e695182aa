#include "rank_session.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "atoll/common/error.hpp"

namespace atl::cli {
namespace {

std::vector<std::string>& command_line() {
  static std::vector<std::string> args;
  return args;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) fail("cannot find this program's path (/proc/self/exe): ", std::strerror(errno));
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

void set_command_line(int argc, char** argv) {
  command_line().assign(argv, argv + argc);
}

bool in_job() {
  return detect_job({}).launcher != "single";
}

void relaunch_as_ranks(int ranks, int restarts) {
  const std::string self = self_exe();
  std::vector<std::string> args = {self, "launch", "-n", std::to_string(ranks)};
  if (restarts > 0) {
    args.push_back("--restarts");
    args.push_back(std::to_string(restarts));
  }
  args.push_back("--");
  args.push_back(self);
  const std::vector<std::string>& original = command_line();
  for (std::size_t i = 1; i < original.size(); ++i) {
    if (original[i] == "--ranks" || original[i] == "--restarts") {
      ++i;  // and its value
      continue;
    }
    if (original[i].rfind("--ranks=", 0) == 0 || original[i].rfind("--restarts=", 0) == 0) {
      continue;
    }
    args.push_back(original[i]);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(self.c_str(), argv.data());
  fail("cannot start ", self, " launch: ", std::strerror(errno));
}

RankSession::RankSession(TransportKind kind) {
  TransportOptions options;
  options.kind = kind;
  transport_ = std::make_unique<Transport>(detect_job({}), options);
  collectives_ = std::make_unique<Collectives>(*transport_);
  exchange_ = std::make_unique<Exchange>(*transport_);
  transport_->start();
  cluster_ = std::make_unique<Cluster>(Cluster{*transport_, *collectives_, *exchange_});
}

RankSession::~RankSession() = default;

}  // namespace atl::cli
