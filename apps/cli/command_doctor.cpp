// `atoll doctor`: RDMA devices and ports, the UCX transports available, which backend a run
// would use, whether malloc has huge pages; run as several ranks it also checks every pair: an
// active-message ping-pong and a put+flush each way, and rank 0 prints a latency matrix naming any
// pair that failed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/transport/collectives.hpp"
#include "atoll/transport/device_probe.hpp"
#include "atoll/transport/transport.hpp"
#include "commands.hpp"
#include "huge_pages.hpp"

namespace atl::cli {
namespace {

struct DoctorOptions {
  std::string transport = "ucx";
  int rounds = 200;
  double peer_timeout = 10;
  JobOverrides job;  ///< --rank/--size/--coordinator/--token (else the environment)
};

constexpr HandlerId kPing = 1;
constexpr HandlerId kPong = 2;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// Per peer: AM round trip / 2 and put+flush latency in microseconds (negative: failed).
struct PairResult {
  double am_us = -1;
  double put_us = -1;
  bool data_ok = false;
};

void check_cluster(const DoctorOptions& opt, const JobInfo& job) {
  TransportOptions to;
  to.kind = parse_transport(opt.transport);
  to.peer_timeout = std::chrono::milliseconds(static_cast<long>(opt.peer_timeout * 1000));
  Transport t(job, to);
  Collectives coll(t);
  std::vector<std::uint64_t> pongs(static_cast<std::size_t>(job.size), 0);
  t.add_handler(
      kPing, [&t](int source, std::span<const std::byte> bytes) { t.send(source, kPong, bytes); });
  t.add_handler(kPong, [&pongs](int source, std::span<const std::byte>) { ++pongs[source]; });
  std::vector<std::uint64_t> window(static_cast<std::size_t>(job.size), 0);
  WindowId w = t.add_window(std::as_writable_bytes(std::span(window)));
  t.start();
  if (t.rank() == 0) std::printf("transport: %s\n", t.describe().c_str());

  std::vector<PairResult> row(static_cast<std::size_t>(job.size));
  const std::uint64_t stamp = 0xA7011000ull + static_cast<std::uint64_t>(t.rank());
  for (int peer = 0; peer < t.size(); ++peer) {
    if (peer == t.rank()) continue;
    std::vector<double> am, put;
    std::uint64_t payload = 0;
    for (int i = 0; i < opt.rounds; ++i) {
      auto start = std::chrono::steady_clock::now();
      std::uint64_t want = pongs[peer] + 1;
      t.send(peer, kPing, std::as_bytes(std::span(&payload, 1)));
      t.wait_for([&] { return pongs[peer] >= want; });
      am.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count() /
          2);
      start = std::chrono::steady_clock::now();
      t.put(peer, w, static_cast<std::uint64_t>(t.rank()) * 8, std::as_bytes(std::span(&stamp, 1)));
      t.flush(peer);
      put.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
    }
    row[peer] = {median(am), median(put), false};
  }
  coll.barrier();
  for (int source = 0; source < t.size(); ++source) {
    if (source != t.rank())
      row[source].data_ok = window[source] == 0xA7011000ull + static_cast<std::uint64_t>(source);
  }
  std::string mine(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(PairResult));
  std::vector<std::string> all = coll.allgather(mine);
  if (t.rank() == 0) {
    std::printf(
        "pair check: median of %d rounds; AM = ping-pong round trip / 2, put = 8-byte put + flush "
        "(us)\n",
        opt.rounds);
    std::printf("%8s", "from\\to");
    for (int c = 0; c < t.size(); ++c) std::printf("  %15d", c);
    std::printf("\n");
    int bad = 0;
    for (int r = 0; r < t.size(); ++r) {
      std::vector<PairResult> other(static_cast<std::size_t>(t.size()));
      std::memcpy(other.data(), all[r].data(),
                  std::min(all[r].size(), other.size() * sizeof(PairResult)));
      std::printf("%8d", r);
      for (int c = 0; c < t.size(); ++c) {
        if (c == r) {
          std::printf("  %15s", "-");
          continue;
        }
        std::printf("  AM %4.1f put %4.1f", other[c].am_us, other[c].put_us);
      }
      std::printf("\n");
      for (int c = 0; c < t.size(); ++c) {
        std::vector<PairResult> target(static_cast<std::size_t>(t.size()));
        std::memcpy(target.data(), all[c].data(),
                    std::min(all[c].size(), target.size() * sizeof(PairResult)));
        if (c != r && !target[r].data_ok) {
          std::printf("  FAILED: rank %d's put never reached rank %d\n", r, c);
          ++bad;
        }
      }
    }
    std::printf(bad == 0 ? "all %d pairs OK\n" : "%d pair(s) FAILED\n",
                bad == 0 ? t.size() * (t.size() - 1) : bad);
    if (bad != 0) fail(bad, " rank pair(s) failed the put check");
  }
  t.stop();
}

}  // namespace

void add_doctor_command(CLI::App& app) {
  auto opt = std::make_shared<DoctorOptions>();
  CLI::App* cmd = app.add_subcommand(
      "doctor", "Show RDMA devices and UCX transports; as several ranks, check every pair");
  cmd->add_option("--transport", opt->transport, "ucx or tcp (for the pair check)")
      ->capture_default_str();
  cmd->add_option("--rounds", opt->rounds, "Ping-pong rounds per pair")->capture_default_str();
  cmd->add_option("--peer-timeout", opt->peer_timeout, "Seconds before a silent peer is dead")
      ->capture_default_str();
  cmd->add_option("--rank", opt->job.rank, "This rank (with --size; else from the launcher)");
  cmd->add_option("--size", opt->job.size, "Number of ranks");
  cmd->add_option("--coordinator", opt->job.coordinator, "HOST:PORT where rank 0 listens");
  cmd->add_option("--token", opt->job.token, "The job's shared secret");
  cmd->callback([opt] {
    if (opt->rounds < 1) usage_fail("--rounds must be at least 1");
    (void)parse_transport(opt->transport);
    JobInfo job = detect_job(opt->job);
    if (job.rank == 0) {
      std::printf("%s", format_report(probe_devices()).c_str());
      std::printf("huge pages: %s\n", huge_pages_state().c_str());
    }
    if (job.size > 1) check_cluster(*opt, job);
    std::fflush(stdout);
  });
}

}  // namespace atl::cli
