// Transport latency and bandwidth between two ranks (Google Benchmark on rank 0; rank 1
// serves). Run through scripts/bench-transport.sh, or by hand:
//   atoll launch -n 2 -- build/bench/bench_transport --transport ucx [benchmark flags]
// Latencies are one-way (round trip / 2) except put+flush, which is the time until the put
// is known to be complete at the target. Latency benchmarks also report `median_ns`: the
// median over batches of 16 iterations of the time per iteration, comparable with
// ucx_perftest's typical latency and robust to a machine shared with other work (where a
// descheduled rank stretches a few iterations by milliseconds and with them the mean).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "atoll/transport/collectives.hpp"
#include "atoll/transport/mailboxes.hpp"
#include "atoll/transport/ring.hpp"
#include "atoll/transport/transport.hpp"

namespace {

using namespace atl;

constexpr HandlerId kCommand = 1;  // rank 0 -> 1: what to serve next
constexpr HandlerId kPing = 2;
constexpr HandlerId kPong = 3;

/// Times batches of kBatch iterations; median_ns() is the median time per iteration.
class MedianTimer {
 public:
  void tick() {
    if (++count_ % kBatch != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (count_ > kBatch) {
      samples_.push_back(std::chrono::duration<double, std::nano>(now - last_).count() / kBatch);
    }
    last_ = now;
  }
  double median_ns() {
    if (samples_.empty()) return 0;
    auto mid = samples_.begin() + static_cast<std::ptrdiff_t>(samples_.size() / 2);
    std::nth_element(samples_.begin(), mid, samples_.end());
    return *mid;
  }
  void report(benchmark::State& state) { state.counters["median_ns"] = median_ns(); }

 private:
  static constexpr std::uint64_t kBatch = 16;
  std::uint64_t count_ = 0;
  std::chrono::steady_clock::time_point last_;
  std::vector<double> samples_;
};

enum class Mode : std::uint32_t {
  kIdle,
  kEcho,
  kPutPong,
  kRingDrain,
  kCollectives,
  kMailboxes,
  kQuit
};

/// Rounds of BM_MailboxRound (both ranks run exactly these).
constexpr std::uint64_t kMailboxRounds = 400;

/// One rank's side of BM_MailboxRound: `bytes` to the other rank every round (the engine's
/// ghost push after a colour step: one put, a flush and a barrier).
void mailbox_rounds(std::size_t bytes, MedianTimer* timer, benchmark::State* state);

struct Bench {
  Transport* t = nullptr;
  Collectives* coll = nullptr;
  RingChannel* ring = nullptr;
  WindowId window;
  std::span<std::uint64_t> memory;  // the window (allocated by the transport): payload space
  std::atomic<std::uint64_t> pongs{0};
  std::uint32_t command = 0;  // written by the handler before commands_seen is bumped
  std::uint64_t argument = 0;
  std::atomic<std::uint64_t> commands_seen{0};
};
Bench g;

/// The put ping-pong's flag: the last word of a `size`-byte payload at offset 0.
std::uint64_t read_flag(std::size_t size) {
  return std::atomic_ref<std::uint64_t>(g.memory[size / 8 - 1]).load(std::memory_order_acquire);
}

/// Rank 0 tells rank 1 what to do (and waits until it has seen the command).
void command(Mode mode, std::uint64_t argument = 0) {
  std::uint64_t msg[2] = {static_cast<std::uint64_t>(mode), argument};
  g.t->send(1, kCommand, std::as_bytes(std::span(msg)));
  g.t->flush(1);
  g.coll->barrier();
}

/// Rank 1's loop: serve each mode until rank 0 says otherwise.
void serve() {
  std::uint64_t handled = 0;
  while (true) {
    g.t->wait_for([&] { return g.commands_seen.load() > handled; });
    ++handled;
    Mode mode = static_cast<Mode>(g.command);
    std::uint64_t arg = g.argument;
    if (mode == Mode::kPutPong)
      std::fill(g.memory.begin(), g.memory.end(), 0);  // before the barrier
    g.coll->barrier();
    switch (mode) {
      case Mode::kQuit:
        return;
      case Mode::kEcho:  // handled by the ping handler
        break;
      case Mode::kPutPong: {  // answer each put of sequence s with a put of s
        const std::size_t size = std::max<std::size_t>(arg, 8);
        std::vector<std::uint64_t> reply(size / 8);
        for (std::uint64_t seq = 1;; ++seq) {
          // Waiting drives progress itself (on two cores a bare spin starves the progress
          // threads that apply the puts).
          g.t->wait_for(
              [&] { return read_flag(size) >= seq || g.commands_seen.load() != handled; });
          if (g.commands_seen.load() != handled) break;
          reply.back() = seq;
          g.t->put(0, g.window, 0, std::as_bytes(std::span(reply)));
          g.t->flush(0);
        }
        break;
      }
      case Mode::kRingDrain: {
        std::uint64_t expected = arg, got = 0;
        g.t->wait_for([&] {
          got += g.ring->poll([](int, std::span<const std::byte>) {});
          return got >= expected;
        });
        g.coll->barrier();
        break;
      }
      case Mode::kMailboxes:
        mailbox_rounds(arg, nullptr, nullptr);
        break;
      case Mode::kCollectives: {
        for (std::uint64_t i = 0; i < arg; ++i) {
          g.coll->barrier();
          double x = 1.0;
          benchmark::DoNotOptimize(g.coll->allreduce(x, ReduceOp::kSum));
        }
        break;
      }
      case Mode::kIdle:
        break;
    }
  }
}

/// Time per iteration = one round trip (the script halves it).
void BM_ActiveMessagePingPong(benchmark::State& state) {
  command(Mode::kEcho);
  std::vector<std::byte> payload(static_cast<std::size_t>(state.range(0)));
  MedianTimer timer;
  for (auto _ : state) {
    std::uint64_t want = g.pongs.load() + 1;
    g.t->send(1, kPing, payload);
    g.t->wait_for([&] { return g.pongs.load() >= want; });
    timer.tick();
  }
  timer.report(state);
}

/// ucx_perftest ucp_put_lat style: each side puts, the other polls the payload's last word.
void BM_PutPingPong(benchmark::State& state) {
  const std::size_t size = std::max<std::size_t>(static_cast<std::size_t>(state.range(0)), 8);
  std::fill(g.memory.begin(), g.memory.end(), 0);
  command(Mode::kPutPong, size);
  std::vector<std::uint64_t> data(size / 8);
  std::uint64_t seq = 0;
  MedianTimer timer;
  for (auto _ : state) {
    data.back() = ++seq;
    g.t->put(1, g.window, 0, std::as_bytes(std::span(data)));
    g.t->flush(1);
    g.t->wait_for([&] { return read_flag(size) >= seq; });
    timer.tick();
  }
  timer.report(state);
  command(Mode::kIdle);
}

void BM_PutFlush(benchmark::State& state) {
  command(Mode::kIdle);
  std::vector<std::byte> data(static_cast<std::size_t>(state.range(0)));
  MedianTimer timer;
  for (auto _ : state) {
    g.t->put(1, g.window, 64, data);
    g.t->flush(1);
    timer.tick();
  }
  timer.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_PutBandwidth(benchmark::State& state) {
  command(Mode::kIdle);
  const std::size_t size = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> data(size);
  const std::size_t slots = (g.memory.size() * 8 - 64) / size;
  for (auto _ : state) {
    for (std::size_t i = 0; i < 64; ++i) g.t->put(1, g.window, 64 + (i % slots) * size, data);
    g.t->flush(1);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 64 * state.range(0));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 64);
}

void BM_Ring64ByteRecords(benchmark::State& state) {
  const std::uint64_t records = 1 << 18;
  std::vector<std::byte> record(64);
  for (auto _ : state) {
    command(Mode::kRingDrain, records);
    for (std::uint64_t i = 0; i < records; ++i) g.ring->append(1, record);
    g.ring->post_all();
    g.coll->barrier();  // rank 1 got them all
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * records));
}

/// Time per iteration = one barrier plus one 8-byte allreduce.
void BM_BarrierAndAllreduce(benchmark::State& state) {
  const std::uint64_t rounds = static_cast<std::uint64_t>(state.max_iterations);
  command(Mode::kCollectives, rounds);
  MedianTimer timer;
  for (auto _ : state) {
    g.coll->barrier();
    double x = 1.0;
    benchmark::DoNotOptimize(g.coll->allreduce(x, ReduceOp::kSum));
    timer.tick();
  }
  timer.report(state);
}

void mailbox_rounds(std::size_t bytes, MedianTimer* timer, benchmark::State* state) {
  const int other = 1 - g.t->rank();
  std::vector<std::size_t> capacity(2, 0), lengths(2, 0);
  capacity[static_cast<std::size_t>(other)] = bytes;
  lengths[static_cast<std::size_t>(other)] = bytes;
  Mailboxes mail(*g.t, *g.coll, capacity);
  std::fill(mail.outbox(other).begin(), mail.outbox(other).end(), std::byte{1});
  auto round = [&] {
    mail.deliver(lengths);
    benchmark::DoNotOptimize(mail.inbox(other).data());
  };
  if (state == nullptr) {
    for (std::uint64_t i = 0; i < kMailboxRounds; ++i) round();
    return;
  }
  for (auto _ : *state) {
    round();
    timer->tick();
  }
}

/// Time per round = both ranks send `bytes` to each other through their mailboxes.
void BM_MailboxRound(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  command(Mode::kMailboxes, bytes);
  MedianTimer timer;
  mailbox_rounds(bytes, &timer, &state);
  timer.report(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 2 * state.range(0));
}

BENCHMARK(BM_ActiveMessagePingPong)->Arg(8)->Arg(4096)->Arg(65536)->UseRealTime();
BENCHMARK(BM_PutPingPong)->Arg(8)->Arg(4096)->Arg(65536)->UseRealTime();
BENCHMARK(BM_PutFlush)->Arg(8)->Arg(4096)->Arg(65536)->UseRealTime();
BENCHMARK(BM_PutBandwidth)->Arg(8)->Arg(4096)->Arg(65536)->UseRealTime();
BENCHMARK(BM_Ring64ByteRecords)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BarrierAndAllreduce)->UseRealTime()->Iterations(2000);
BENCHMARK(BM_MailboxRound)
    ->Arg(4096)
    ->Arg(65536)
    ->Arg(4 << 20)
    ->UseRealTime()
    ->Iterations(kMailboxRounds)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  std::string transport = "ucx";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--transport") {
      transport = argv[i + 1];
      for (int j = i; j + 2 < argc; ++j) argv[j] = argv[j + 2];
      argc -= 2;
      break;
    }
  }
  try {
    JobInfo job = detect_job({});
    if (job.size != 2) {
      std::fprintf(stderr, "run as 2 ranks: atoll launch -n 2 -- %s --transport ucx|tcp\n",
                   argv[0]);
      return 2;
    }
    TransportOptions options;
    options.kind = parse_transport(transport);
    Transport t(job, options);
    Collectives coll(t);
    g.t = &t;
    g.coll = &coll;
    t.add_handler(kCommand, [](int, std::span<const std::byte> bytes) {
      std::uint64_t msg[2];
      std::memcpy(msg, bytes.data(), std::min(bytes.size(), sizeof msg));
      g.command = static_cast<std::uint32_t>(msg[0]);
      g.argument = msg[1];
      ++g.commands_seen;
    });
    t.add_handler(kPing, [](int source, std::span<const std::byte> bytes) {
      g.t->send(source, kPong, bytes);
    });
    t.add_handler(kPong, [](int, std::span<const std::byte>) { g.pongs.fetch_add(1); });
    g.window = t.allocate_window(1 << 20);
    std::span<std::byte> window = t.local_window(g.window);
    g.memory = {reinterpret_cast<std::uint64_t*>(window.data()), window.size() / 8};
    RingOptions ro;
    ro.ring_bytes = 4 << 20;
    ro.batch_bytes = 64 << 10;
    RingChannel ring(t, ro);
    g.ring = &ring;
    t.start();
    if (t.rank() == 0) {
      std::printf("transport: %s\n", t.describe().c_str());
      benchmark::Initialize(&argc, argv);
      benchmark::RunSpecifiedBenchmarks();
      benchmark::Shutdown();
      command(Mode::kQuit);
    } else {
      serve();
    }
    t.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_transport: %s\n", e.what());
    return 1;
  }
  return 0;
}
