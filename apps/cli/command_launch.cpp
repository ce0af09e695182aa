// `atoll launch -n N [--timeout-grace S] -- CMD ARGS...`: runs N local ranks of one job.
//
// The launcher owns the job's rendezvous socket (127.0.0.1, a kernel-chosen port) before any
// rank starts, so ranks may start in any order; rank 0 inherits it (ATOLL_COORDINATOR_FD) and
// accepts the others there. Every rank gets ATOLL_RANK, ATOLL_SIZE, ATOLL_COORDINATOR and a
// fresh random ATOLL_JOB_TOKEN.
//
// Output: every line a rank writes is forwarded with the prefix "[RANK] " (always, also for
// -n 1), stdout to stdout and stderr to stderr; a last line without '\n' is completed at EOF.
// When the launcher's stderr is a terminal, ranks get ATOLL_STDERR_TTY=1, and a status line a
// rank rewrites in place ('\r' without '\n', the live progress line) is shown in place, with
// its prefix; any other line first ends it.
// Ranks read stdin from /dev/null. Each rank runs in its own process group, so the launcher
// can stop everything a rank started (a shell's children too).
//
// Failure: when a rank exits non-zero or dies by a signal, the launcher reports it and gives
// the other ranks --failure-notice seconds to notice on their own (their transport names the
// failed rank within its peer timeout, and a rank that exits then still counts); then it sends
// SIGTERM (and SIGCONT, for stopped ranks) and SIGKILL after the grace period.
// SIGINT/SIGTERM/SIGHUP sent to the launcher are forwarded to every rank; a second one kills them.
// The exit code is the worst among the ranks that ended on their own (128+S for signal S); ranks
// the launcher stopped do not count.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/common/fd.hpp"
#include "atoll/common/terminal.hpp"
#include "atoll/transport/job.hpp"
#include "commands.hpp"

extern char** environ;

namespace atl::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxRanks = 1024;
constexpr std::size_t kMaxLineBytes = 64 * 1024;  ///< longer lines are forwarded in pieces

struct LaunchOptions {
  int ranks = 0;
  double grace_s = 3.0;
  double notice_s = 11.0;  ///< default peer timeout (10 s) plus one second
  int restarts = 0;        ///< start the job again (from its last checkpoint) this many times
  std::vector<std::string> command;
};

/// Moves a new close-on-exec descriptor above 0..2, so installing a rank's stdio with dup2
/// never overwrites it (the launcher may have been started with stdio closed).
Fd above_stdio(int fd, const char* what) {
  if (fd < 0) fail("launch: ", what, " failed: ", std::strerror(errno));
  if (fd > 2) return Fd(fd);
  Fd low(fd);
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (high < 0) fail("launch: fcntl(F_DUPFD_CLOEXEC) failed: ", std::strerror(errno));
  return Fd(high);
}

/// Writes all bytes (to our stdout/stderr); gives up quietly if that is gone.
void write_fully(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void report(const std::string& line) {
  write_fully(STDERR_FILENO, "atoll launch: " + line + "\n");
}

std::string random_token() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("launch: getrandom failed: ", std::strerror(errno));
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  return token;
}

/// The terminal shows a rank's status line that no '\n' has ended yet.
bool status_line_open = false;

/// One forwarded output stream of one rank.
struct Stream {
  Fd fd;         ///< read end of the rank's pipe; closed at EOF
  int out = -1;  ///< STDOUT_FILENO or STDERR_FILENO
  std::string prefix;
  std::string partial;     ///< bytes after the last '\n' seen
  bool in_place = false;   ///< stderr on a terminal: show '\r' rewrites in place
  std::string last_error;  ///< the last "atoll: error: ..." line the rank wrote (without "atoll: ")

  /// Remembers line when it is the error a rank stopped with.
  void note_error(std::string_view line) {
    for (std::string_view mark : {"atoll: error: ", "atoll: internal error: "}) {
      const std::size_t at = line.find(mark);
      if (at != std::string_view::npos) {
        last_error = std::string(line.substr(at + 7));  // from "error: "
        return;
      }
    }
  }

  /// Forwards every complete line in partial (and, at EOF or when too long, the rest); with
  /// in_place, a line being rewritten ('\r') is shown as its latest state.
  void flush_lines(bool eof) {
    std::string lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::size_t from = start;
      if (in_place) {
        const std::size_t cr = partial.rfind('\r', nl);
        if (cr != std::string::npos && cr >= start) {
          lines += '\r';
          from = cr + 1;
        }
      }
      lines += prefix;
      lines.append(partial, from, nl + 1 - from);
      note_error(std::string_view(partial).substr(from, nl - from));
    }
    partial.erase(0, start);
    std::string status;
    if (in_place && !eof) {
      const std::size_t cr = partial.rfind('\r');
      if (cr != std::string::npos) {
        status = "\r" + prefix + partial.substr(cr + 1);
        partial.erase(0, cr);  // "\r<latest>": redrawn whole when its line ends
      }
    }
    if (!partial.empty() && (eof || partial.size() >= kMaxLineBytes)) {
      lines += prefix + partial + "\n";
      partial.clear();
    }
    if (!lines.empty()) {
      if (status_line_open && lines.front() != '\r') write_fully(STDERR_FILENO, "\n");
      status_line_open = false;
      write_fully(out, lines);
    }
    if (!status.empty()) {
      write_fully(out, status);
      status_line_open = true;
    }
  }

  /// Reads what is available; closes the stream at EOF.
  void pump() {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) {
        partial.append(buf, static_cast<std::size_t>(n));
        flush_lines(false);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      flush_lines(true);  // EOF or a broken pipe: the rank is done with this stream
      fd.reset();
      return;
    }
  }
};

struct Rank {
  int rank = 0;
  pid_t pid = -1;  ///< also its process group id; -1 once reaped
  int code = 0;    ///< exit code, 128+S for signal S
  Stream out, err;
};

/// The ranks' processes: whatever is still running when this goes away (an error in the
/// launcher) is killed and reaped, so no rank outlives a failed launch.
class RankSet {
 public:
  explicit RankSet(int n) : ranks_(static_cast<std::size_t>(n)) {}
  ~RankSet() {
    for (Rank& r : ranks_) {
      if (r.pid > 0) {
        ::kill(-r.pid, SIGKILL);
        ::waitpid(r.pid, nullptr, 0);
      }
    }
  }
  RankSet(const RankSet&) = delete;
  RankSet& operator=(const RankSet&) = delete;
  std::vector<Rank>& ranks() { return ranks_; }
  /// Signals every running rank's process group.
  void signal_all(int sig) {
    for (Rank& r : ranks_) {
      if (r.pid > 0) ::kill(-r.pid, sig);
    }
  }
  bool any_running() const {
    return std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& r) { return r.pid > 0; });
  }

 private:
  std::vector<Rank> ranks_;
};

/// Blocks the signals the launcher handles through a signalfd; restores the mask when done.
class SignalGuard {
 public:
  SignalGuard() {
    sigemptyset(&handled_);
    for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&handled_, sig);
    if (::sigprocmask(SIG_BLOCK, &handled_, &old_) != 0) {
      fail("launch: sigprocmask failed: ", std::strerror(errno));
    }
    fd_ = Fd(::signalfd(-1, &handled_, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd_) {
      ::sigprocmask(SIG_SETMASK, &old_, nullptr);
      fail("launch: signalfd failed: ", std::strerror(errno));
    }
    // With SIGCHLD ignored (inherited from our parent) the kernel would reap the ranks itself
    // and waitpid could not report their exit codes.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGCHLD, &dfl, &old_chld_);
  }
  ~SignalGuard() {
    fd_.reset();
    // Discard our children's SIGCHLD (and nothing else) before unblocking.
    timespec zero{0, 0};
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    while (::sigtimedwait(&chld, nullptr, &zero) > 0) {
    }
    ::sigaction(SIGCHLD, &old_chld_, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  int fd() const { return fd_.get(); }
  /// The mask a rank must start with (the launcher's original one).
  const sigset_t& original_mask() const { return old_; }

 private:
  sigset_t handled_{};
  sigset_t old_{};
  struct sigaction old_chld_ {};
  Fd fd_;
};

/// Everything a rank's exec needs, built before fork (the child only calls async-signal-safe
/// functions).
struct Exec {
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string exec_failed;  ///< message prefix if execvp fails
};

Exec make_exec(const LaunchOptions& opt, int rank, int port, const std::string& token,
               int listen_fd) {
  Exec e;
  auto ours = [](std::string_view entry) {
    for (const char* name :
         {kEnvRank, kEnvSize, kEnvCoordinator, kEnvToken, kEnvListenFd, kEnvStderrTty}) {
      std::string prefix = std::string(name) + "=";
      if (entry.substr(0, prefix.size()) == prefix) return true;
    }
    return false;
  };
  for (char** p = environ; *p != nullptr; ++p) {
    if (!ours(*p)) e.env_strings.emplace_back(*p);
  }
  e.env_strings.push_back(str_cat(kEnvRank, "=", rank));
  e.env_strings.push_back(str_cat(kEnvSize, "=", opt.ranks));
  e.env_strings.push_back(str_cat(kEnvCoordinator, "=127.0.0.1:", port));
  e.env_strings.push_back(str_cat(kEnvToken, "=", token));
  if (rank == 0) e.env_strings.push_back(str_cat(kEnvListenFd, "=", listen_fd));
  if (::isatty(STDERR_FILENO) != 0) e.env_strings.push_back(str_cat(kEnvStderrTty, "=1"));
  for (std::string& s : e.env_strings) e.envp.push_back(s.data());
  e.envp.push_back(nullptr);
  // argv strings live in opt.command, which outlives the child's exec.
  for (const std::string& a : opt.command) e.argv.push_back(const_cast<char*>(a.c_str()));
  e.argv.push_back(nullptr);
  e.exec_failed = str_cat("atoll launch: rank ", rank, ": cannot run '", opt.command[0], "': ");
  return e;
}

/// In the forked child: installs stdio, the signal mask and the environment, then execs.
[[noreturn]] void exec_rank(const Exec& e, int devnull, int out_w, int err_w, int listen_fd,
                            bool keep_listener, pid_t launcher, const sigset_t& mask) {
  ::setpgid(0, 0);
  // Die with the launcher even if it is SIGKILLed.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != launcher) ::_exit(127);
  ::dup2(devnull, STDIN_FILENO);
  ::dup2(out_w, STDOUT_FILENO);
  ::dup2(err_w, STDERR_FILENO);
  // Only rank 0 keeps the rendezvous socket across exec (every other descriptor of the
  // launcher is close-on-exec).
  if (keep_listener) ::fcntl(listen_fd, F_SETFD, 0);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  ::execvpe(e.argv[0], e.argv.data(), e.envp.data());
  int err = errno;
  write_fully(STDERR_FILENO, e.exec_failed);
  write_fully(STDERR_FILENO, std::strerror(err));
  write_fully(STDERR_FILENO, "\n");
  ::_exit(127);
}

int run_launch(const LaunchOptions& opt) {
  if (opt.ranks < 1 || opt.ranks > kMaxRanks) {
    usage_fail("launch -n ", opt.ranks, ": the number of ranks must be 1..", kMaxRanks);
  }
  if (opt.command.empty()) usage_fail("launch: no command given (atoll launch -n N -- CMD ...)");
  if (!std::isfinite(opt.grace_s) || opt.grace_s < 0 || opt.grace_s > 3600) {
    usage_fail("launch --timeout-grace ", opt.grace_s, ": must be 0..3600 seconds");
  }
  auto grace =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.grace_s));
  if (!std::isfinite(opt.notice_s) || opt.notice_s < 0 || opt.notice_s > 3600) {
    usage_fail("launch --failure-notice ", opt.notice_s, ": must be 0..3600 seconds");
  }
  auto notice =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.notice_s));

  // The rendezvous socket: bound and listening before any rank starts.
  Fd listener = above_stdio(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket()");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), std::max(opt.ranks, SOMAXCONN)) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail("launch: cannot listen on 127.0.0.1: ", std::strerror(errno));
  }
  int port = ntohs(addr.sin_port);
  std::string token = random_token();
  Fd devnull = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open(/dev/null)");

  SignalGuard signals;
  RankSet set(opt.ranks);
  pid_t self = ::getpid();
  for (int r = 0; r < opt.ranks; ++r) {
    Rank& rank = set.ranks()[static_cast<std::size_t>(r)];
    rank.rank = r;
    Exec exec = make_exec(opt, r, port, token, listener.get());
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) fail("launch: pipe failed: ", std::strerror(errno));
    Fd out_r = above_stdio(out_pipe[0], "pipe"), out_w = above_stdio(out_pipe[1], "pipe");
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) fail("launch: pipe failed: ", std::strerror(errno));
    Fd err_r = above_stdio(err_pipe[0], "pipe"), err_w = above_stdio(err_pipe[1], "pipe");
    pid_t pid = ::fork();
    if (pid < 0) fail("launch: fork failed: ", std::strerror(errno));
    if (pid == 0) {
      exec_rank(exec, devnull.get(), out_w.get(), err_w.get(), listener.get(), r == 0, self,
                signals.original_mask());
    }
    ::setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
    rank.pid = pid;
    auto attach = [r](Stream& stream, Fd read_end, int out) {
      ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
      stream.fd = std::move(read_end);
      stream.out = out;
      stream.prefix = str_cat("[", r, "] ");
    };
    attach(rank.out, std::move(out_r), STDOUT_FILENO);
    attach(rank.err, std::move(err_r), STDERR_FILENO);
    rank.err.in_place = ::isatty(STDERR_FILENO) != 0;
  }
  listener.reset();  // rank 0 holds it now

  bool stopping = false;  // the launcher is stopping the job after a failure
  int forwarded = 0;      // signals forwarded from the user
  bool killed = false;    // SIGKILL sent to every remaining rank
  std::optional<Clock::time_point> term_at, kill_at, drain_until;
  int worst = 0;
  std::vector<pollfd> pfds;
  std::vector<Stream*> polled;

  for (;;) {
    // Reap (every loop, so a lost SIGCHLD cannot stall us).
    bool failed_now = false;
    for (Rank& r : set.ranks()) {
      if (r.pid <= 0) continue;
      int status = 0;
      pid_t got = ::waitpid(r.pid, &status, WNOHANG);
      if (got == 0 || (got < 0 && errno == EINTR)) continue;
      r.pid = -1;
      if (got < 0) {
        r.code = 1;
      } else if (WIFSIGNALED(status)) {
        r.code = 128 + WTERMSIG(status);
      } else {
        r.code = WEXITSTATUS(status);
      }
      if (r.code == 0 || stopping) continue;
      // A rank that ended on its own (or after a forwarded signal) counts.
      worst = std::max(worst, r.code);
      if (forwarded == 0) failed_now = true;
      if (got > 0 && WIFSIGNALED(status)) {
        report(str_cat("rank ", r.rank, " killed by signal ", WTERMSIG(status), " (",
                       ::strsignal(WTERMSIG(status)), ")"));
      } else {
        if (r.err.fd.get() >= 0) r.err.pump();  // it exited: its last words are in the pipe
        report(str_cat("rank ", r.rank, " exited with code ", r.code,
                       r.err.last_error.empty() ? "" : ": " + r.err.last_error));
      }
    }
    if (failed_now && set.any_running() && !term_at) {
      term_at = Clock::now() + notice;  // the others may notice and end on their own first
    }
    if (term_at && !stopping && set.any_running() && Clock::now() >= *term_at) {
      stopping = true;
      report("stopping the other ranks");
      set.signal_all(SIGTERM);
      set.signal_all(SIGCONT);  // a stopped rank acts on SIGTERM only once it runs again
      kill_at = Clock::now() + grace;
    }
    if (kill_at && !killed && Clock::now() >= *kill_at) {
      set.signal_all(SIGKILL);
      killed = true;
    }

    pfds.clear();
    polled.clear();
    pfds.push_back({signals.fd(), POLLIN, 0});
    for (Rank& r : set.ranks()) {
      for (Stream* s : {&r.out, &r.err}) {
        if (s->fd) {
          pfds.push_back({s->fd.get(), POLLIN, 0});
          polled.push_back(s);
        }
      }
    }
    bool running = set.any_running();
    if (!running) {
      if (polled.empty()) break;
      // Every rank has exited; something they started may still hold a pipe open.
      if (!drain_until) drain_until = Clock::now() + std::chrono::seconds(1);
      if (Clock::now() >= *drain_until) break;
    }
    auto wake = Clock::now() + std::chrono::milliseconds(500);
    if (kill_at && !killed) wake = std::min(wake, *kill_at);
    if (drain_until) wake = std::min(wake, *drain_until);
    auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
    int ready = ::poll(pfds.data(), pfds.size(), static_cast<int>(std::max<long long>(wait_ms, 0)));
    if (ready < 0 && errno != EINTR) fail("launch: poll failed: ", std::strerror(errno));
    if (ready <= 0) continue;

    if (pfds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(signals.fd(), &info, sizeof info) == sizeof info) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) continue;
        if (++forwarded == 1) {
          set.signal_all(sig);
        } else if (!killed) {
          set.signal_all(SIGKILL);
          killed = true;
        }
      }
    }
    for (std::size_t i = 0; i < polled.size(); ++i) {
      if (pfds[i + 1].revents != 0) polled[i]->pump();
    }
  }
  // Partial lines of streams that never reached EOF.
  for (Rank& r : set.ranks()) {
    r.out.flush_lines(true);
    r.err.flush_lines(true);
  }
  return worst;
}

/// The value of --checkpoint-dir in a rank's command ("" when it has none).
std::string checkpoint_dir_of(const std::vector<std::string>& command) {
  for (std::size_t i = 0; i < command.size(); ++i) {
    if (command[i] == "--checkpoint-dir" && i + 1 < command.size()) return command[i + 1];
    if (command[i].rfind("--checkpoint-dir=", 0) == 0) return command[i].substr(17);
  }
  return {};
}

/// Whether dir holds a complete checkpoint epoch (one with a MANIFEST).
bool has_complete_epoch(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind("epoch-", 0) == 0 &&
        std::filesystem::exists(entry.path() / "MANIFEST", ec)) {
      return true;
    }
  }
  return false;
}

/// Runs the job; after a failure, runs it again up to opt.restarts times, resuming from the
/// newest checkpoint epoch of its --checkpoint-dir when there is one. Usage errors (exit code
/// 2) are not retried: the same command would fail the same way.
int run_with_restarts(const LaunchOptions& opt) {
  if (opt.restarts < 0 || opt.restarts > 1000) {
    usage_fail("launch --restarts ", opt.restarts, ": must be 0..1000");
  }
  const std::string dir = checkpoint_dir_of(opt.command);
  if (opt.restarts > 0 && dir.empty()) {
    usage_fail("launch --restarts needs a command that writes checkpoints (--checkpoint-dir)");
  }
  int code = run_launch(opt);
  for (int attempt = 1; attempt <= opt.restarts && code != 0 && code != 2; ++attempt) {
    LaunchOptions again = opt;
    again.command.clear();
    for (std::size_t i = 0; i < opt.command.size(); ++i) {  // drop an earlier --resume
      if (opt.command[i] == "--resume") {
        ++i;
        continue;
      }
      if (opt.command[i].rfind("--resume=", 0) == 0) continue;
      again.command.push_back(opt.command[i]);
    }
    const bool resume = has_complete_epoch(dir);
    if (resume) {
      again.command.push_back("--resume");
      again.command.push_back(dir);
    }
    report(str_cat("restart ", attempt, " of ", opt.restarts, " after exit code ", code, ": ",
                   resume ? "resuming from the last checkpoint in " + dir
                          : "no complete checkpoint yet, starting over"));
    code = run_launch(again);
  }
  return code;
}

}  // namespace

void add_launch_command(CLI::App& app) {
  auto opt = std::make_shared<LaunchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "launch", "Run N ranks of a job on this machine: atoll launch -n N -- CMD ARGS...");
  cmd->add_option("-n,--ranks", opt->ranks, "Number of ranks (1..1024)")->required();
  cmd->add_option("--timeout-grace", opt->grace_s,
                  "Seconds between SIGTERM and SIGKILL when stopping the ranks after a failure")
      ->capture_default_str();
  cmd->add_option("--failure-notice", opt->notice_s,
                  "Seconds the other ranks get to stop on their own after a rank fails")
      ->capture_default_str();
  cmd->add_option("--restarts", opt->restarts,
                  "After a failure, start the job again from its last checkpoint (at most R times)")
      ->capture_default_str();
  cmd->add_option("command", opt->command, "The command each rank runs (after --)")->required();
  cmd->callback([opt] {
    int code = run_with_restarts(*opt);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace atl::cli
