// End-to-end transport tests with real processes. Run plainly, this is a GoogleTest suite that
// starts itself as N ranks through `atoll launch` (and once through mpirun); run as a rank
// (ATOLL_RANK or a launcher's variables set, --scenario given), it executes one scenario and
// exits 0 on success.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "atoll/common/error.hpp"
#include "atoll/transport/channel.hpp"
#include "atoll/transport/collectives.hpp"
#include "atoll/transport/exchange.hpp"
#include "atoll/transport/mailboxes.hpp"
#include "atoll/transport/ring.hpp"
#include "atoll/transport/transport.hpp"

namespace {

using namespace atl;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "scenario failed: %s\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}
#define CHECK(cond, msg)                                \
  do {                                                  \
    if (!(cond)) die(std::string(#cond " : ") + (msg)); \
  } while (0)

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Deterministic content: byte i of message (source, index).
std::byte content(int source, std::uint64_t index, std::size_t i) {
  return static_cast<std::byte>(mix(static_cast<std::uint64_t>(source) * 1000003 + index) >>
                                (i % 56));
}

// ---- scenarios (one rank's side) -------------------------------------------------------------

/// Many threads send mixed-size messages to every peer; per (source, thread) order holds.
void scenario_messages(Transport& t, Collectives& coll, std::atomic<std::uint64_t>* received,
                       std::atomic<bool>& bad) {
  const int threads = 3;
  const std::uint64_t per_thread = 3000;
  std::vector<std::thread> senders;
  for (int th = 0; th < threads; ++th) {
    senders.emplace_back([&, th] {
      std::vector<std::byte> buf;
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        for (int peer = 0; peer < t.size(); ++peer) {
          std::size_t size =
              12 + mix(i * 7 + static_cast<std::uint64_t>(th)) % (i % 100 == 0 ? 70000 : 200);
          buf.resize(size);
          std::uint32_t thread_id = static_cast<std::uint32_t>(th);
          std::memcpy(buf.data(), &thread_id, 4);
          std::memcpy(buf.data() + 4, &i, 8);
          for (std::size_t k = 12; k < size; ++k) buf[k] = content(t.rank(), i, k);
          t.send(peer, 7, buf);
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  t.flush_all();
  const std::uint64_t expected = static_cast<std::uint64_t>(threads) * per_thread * t.size();
  t.wait_for([&] { return received->load() == expected || bad.load(); });
  CHECK(!bad.load(), "a message arrived out of order or corrupted");
  coll.barrier();
}

void scenario_puts(Transport& t, Collectives& coll, WindowId window, std::span<std::byte> mine) {
  // Rank r writes slot r of every peer's window; the last rank's slot ends at the last byte.
  const std::size_t slot = mine.size() / t.size();
  std::vector<std::byte> data(slot);
  for (int peer = 0; peer < t.size(); ++peer) {
    for (std::size_t k = 0; k < slot; ++k)
      data[k] = content(t.rank(), static_cast<std::uint64_t>(peer), k);
    std::size_t offset = mine.size() - slot * static_cast<std::size_t>(t.size() - t.rank());
    t.put(peer, window, offset, data);
    t.flush(peer);  // data may be reused after this
  }
  // Out of bounds is refused locally.
  bool refused = false;
  try {
    t.put((t.rank() + 1) % t.size(), window, mine.size() - 1, std::span(data.data(), 2));
  } catch (const Error&) {
    refused = true;
  }
  CHECK(refused, "a put past the end of a window was accepted");
  coll.barrier();
  for (int source = 0; source < t.size(); ++source) {
    std::size_t offset = mine.size() - slot * static_cast<std::size_t>(t.size() - source);
    for (std::size_t k = 0; k < slot; ++k) {
      CHECK(mine[offset + k] == content(source, static_cast<std::uint64_t>(t.rank()), k),
            "put data from rank " + std::to_string(source) + " wrong at byte " + std::to_string(k));
    }
  }
  coll.barrier();
}

/// Rank r sends `rounds` 4 KiB slots to rank r+1, each followed by a fence and a flag word
/// (the round number) in an allocated window. The receiver checks that a flag it sees never
/// overtakes the slots before it, then that every slot arrived. Over shared memory the flag
/// is a plain store into the mapped window while slots in caller memory travel through the
/// backend: the fence must still order them.
void windows_phase(Transport& t, Collectives& coll, WindowId slots, std::span<std::byte> slot_mem,
                   std::size_t slot_base, WindowId flags, std::span<std::byte> flag_mem,
                   std::size_t flag_offset, std::uint64_t rounds) {
  const int n = t.size();
  const int target = (t.rank() + 1) % n;
  const int source = (t.rank() + n - 1) % n;
  constexpr std::size_t kSlot = 4096;
  auto* flag = reinterpret_cast<std::uint64_t*>(flag_mem.data() + flag_offset);
  std::uint64_t checked = 0;
  auto check_slots = [&] {
    const std::uint64_t seen =
        std::atomic_ref<std::uint64_t>(*flag).load(std::memory_order_acquire);
    CHECK(seen <= rounds, "flag " + std::to_string(seen));
    for (; checked < seen; ++checked) {
      const std::byte* got = slot_mem.data() + slot_base + checked * kSlot;
      for (std::size_t k = 0; k < kSlot; ++k) {
        CHECK(got[k] == content(source, checked, k),
              "flag " + std::to_string(seen) + " visible before slot " + std::to_string(checked) +
                  " (byte " + std::to_string(k) + ")");
      }
    }
  };
  std::vector<std::vector<std::byte>> data(rounds, std::vector<std::byte>(kSlot));
  std::vector<std::uint64_t> values(rounds);
  for (std::uint64_t r = 0; r < rounds; ++r) {
    for (std::size_t k = 0; k < kSlot; ++k) data[r][k] = content(t.rank(), r, k);
    values[r] = r + 1;
    t.put(target, slots, slot_base + r * kSlot, data[r]);
    t.fence(target);
    t.put(target, flags, flag_offset, std::as_bytes(std::span(&values[r], 1)));
    check_slots();
  }
  t.flush(target);
  t.wait_for([&] {
    return std::atomic_ref<std::uint64_t>(*flag).load(std::memory_order_acquire) == rounds;
  });
  check_slots();
  coll.barrier();
}

void scenario_windows(Transport& t, Collectives& coll, WindowId caller,
                      std::span<std::byte> caller_mem, WindowId allocated) {
  std::span<std::byte> mine = t.local_window(allocated);
  constexpr std::uint64_t kRounds = 200;
  // Slots in caller memory, flags in the allocated window (mixed paths).
  windows_phase(t, coll, caller, caller_mem, 0, allocated, mine, 0, kRounds);
  // Slots and flags both in the allocated window.
  windows_phase(t, coll, allocated, mine, 4096, allocated, mine, 8, kRounds);
}

/// Windows created after start() (collectively): allocated ones take puts like any other,
/// and caller memory of a different size on every rank reports each peer's size.
void scenario_late_windows(Transport& t, Collectives& coll) {
  for (int round = 0; round < 3; ++round) {
    WindowId allocated = t.allocate_window(std::size_t{65536} * static_cast<std::size_t>(t.size()));
    scenario_puts(t, coll, allocated, t.local_window(allocated));
  }
  auto size_of = [](int rank) { return std::size_t{1000} + 17 * static_cast<std::size_t>(rank); };
  auto memory = std::make_shared<std::vector<std::byte>>(size_of(t.rank()));
  WindowId caller = t.add_window(*memory, memory);
  std::vector<std::uint64_t> stamps(static_cast<std::size_t>(t.size()));
  for (int peer = 0; peer < t.size(); ++peer) {
    CHECK(t.window_size(peer, caller) == size_of(peer),
          "late window of rank " + std::to_string(peer) + " has the wrong size");
    stamps[static_cast<std::size_t>(peer)] = 1000 * static_cast<std::uint64_t>(t.rank()) + 7;
    t.put(peer, caller, size_of(peer) - 8 * static_cast<std::size_t>(t.size() - t.rank()),
          std::as_bytes(std::span(&stamps[static_cast<std::size_t>(peer)], 1)));
  }
  t.flush_all();
  coll.barrier();
  for (int source = 0; source < t.size(); ++source) {
    std::uint64_t got = 0;
    std::memcpy(
        &got, memory->data() + memory->size() - 8 * static_cast<std::size_t>(t.size() - source), 8);
    CHECK(got == 1000 * static_cast<std::uint64_t>(source) + 7,
          "late window: rank " + std::to_string(source) + "'s put is missing");
  }
  coll.barrier();
  // Freed windows refuse puts; windows created afterwards work as before.
  for (int round = 0; round < 3; ++round) {
    WindowId allocated = t.allocate_window(std::size_t{4096} * static_cast<std::size_t>(t.size()));
    scenario_puts(t, coll, allocated, t.local_window(allocated));
    t.free_window(allocated);
  }
  t.free_window(caller);
  bool refused = false;
  try {
    t.put((t.rank() + 1) % t.size(), caller, 0, std::as_bytes(std::span(&stamps[0], 1)));
  } catch (const Error&) {
    refused = true;
  }
  CHECK(refused, "a put into a freed window was accepted");
  WindowId after = t.allocate_window(std::size_t{4096} * static_cast<std::size_t>(t.size()));
  scenario_puts(t, coll, after, t.local_window(after));
}

/// Mailboxes: every round each rank sends every peer a batch of a different length (up to
/// its capacity, sometimes empty); every batch must arrive whole and from the right round,
/// also when one rank lags in reading (so the others write their next round meanwhile), and
/// when a middle part of it was put early (put_early, from other threads) and skipped by
/// deliver.
void scenario_mailboxes(Transport& t, Collectives& coll) {
  const int n = t.size();
  auto capacity_of = [&](int from, int to) {
    return from == to ? std::size_t{0} : 100 * static_cast<std::size_t>(from + 1) + 31 * to;
  };
  std::vector<std::size_t> capacity(static_cast<std::size_t>(n));
  for (int p = 0; p < n; ++p) capacity[static_cast<std::size_t>(p)] = capacity_of(t.rank(), p);
  Mailboxes mail(t, coll, capacity);
  auto length_of = [&](int from, int to, std::uint64_t round) {
    const std::size_t cap = capacity_of(from, to);
    return cap == 0 ? 0 : (round * 37 + static_cast<std::uint64_t>(from) * 5 + to) % (cap + 1);
  };
  for (std::uint64_t round = 0; round < 60; ++round) {
    std::vector<std::size_t> lengths(static_cast<std::size_t>(n));
    for (int p = 0; p < n; ++p) {
      const std::size_t len = length_of(t.rank(), p, round);
      std::span<std::byte> out = mail.outbox(p);
      CHECK(out.size() == capacity_of(t.rank(), p), "outbox of the wrong size");
      for (std::size_t k = 0; k < len; ++k) out[k] = content(t.rank(), round * 64 + p, k);
      lengths[static_cast<std::size_t>(p)] = len;
    }
    // Every third round: [len/4, 3len/4) of each batch goes early, in two puts from two
    // threads (while rank 0 may still read the last round), and the rest with deliver.
    std::vector<Mailboxes::SentRange> early;
    if (round % 3 == 1) {
      early.resize(static_cast<std::size_t>(n));
      std::vector<std::thread> putters;
      for (int p = 0; p < n; ++p) {
        const std::size_t len = lengths[static_cast<std::size_t>(p)];
        if (p == t.rank() || len == 0) continue;
        const std::size_t a = len / 4, m = len / 2, b = 3 * len / 4;
        early[static_cast<std::size_t>(p)] = {a, b};
        putters.emplace_back([&mail, p, a, m] { mail.put_early(p, a, m - a); });
        putters.emplace_back([&mail, p, m, b] { mail.put_early(p, m, b - m); });
      }
      for (std::thread& th : putters) th.join();
    }
    mail.deliver(lengths, early);
    std::uint64_t expected = 0;  // each batch once, with its 64-byte header, early part or not
    for (int p = 0; p < n; ++p) {
      if (p != t.rank()) expected += 64 + lengths[static_cast<std::size_t>(p)];
    }
    CHECK(mail.last_bytes_sent() == expected, "round " + std::to_string(round) + " sent " +
                                                  std::to_string(mail.last_bytes_sent()) +
                                                  " bytes, expected " + std::to_string(expected));
    // Rank 0 lags before reading: the others write the next round meanwhile (other slots).
    if (t.rank() == 0 && round % 7 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (int source = 0; source < n; ++source) {
      std::span<const std::byte> in = mail.inbox(source);
      CHECK(in.size() == length_of(source, t.rank(), round),
            "mailbox from rank " + std::to_string(source) + " has " + std::to_string(in.size()) +
                " bytes in round " + std::to_string(round));
      for (std::size_t k = 0; k < in.size(); ++k) {
        CHECK(in[k] == content(source, round * 64 + t.rank(), k),
              "mailbox from rank " + std::to_string(source) + " wrong at byte " +
                  std::to_string(k) + " in round " + std::to_string(round));
      }
    }
  }
  bool refused = false;
  try {
    std::vector<std::size_t> too_long(static_cast<std::size_t>(n), 0);
    too_long[static_cast<std::size_t>((t.rank() + 1) % n)] = 100000;
    mail.deliver(too_long);
  } catch (const Error&) {
    refused = true;
  }
  CHECK(refused, "a batch beyond its capacity was accepted");
  refused = false;
  try {
    const int peer = (t.rank() + 1) % n;
    mail.put_early(peer, capacity_of(t.rank(), peer) - 1, 2);
  } catch (const Error&) {
    refused = true;
  }
  CHECK(refused, "an early put beyond the outbox was accepted");
  coll.barrier();
}

/// Exchange::all_to_all on both paths: small calls (active-message chunks), calls where one
/// buffer anywhere is large (one-sided puts into a window per call), empty buffers, and a
/// large call followed at once by a small one; every byte must arrive from the right source.
/// Then the same with a kept bulk window (keep_bulk_window): reused, and grown when a call
/// needs more somewhere.
void scenario_exchange(Transport& t, Exchange& exchange) {
  const int n = t.size();
  // Bytes rank `from` sends rank `to` in call c.
  auto size_of = [](int c, int from, int to) -> std::size_t {
    switch (c % 4) {
      case 0:
        return static_cast<std::size_t>(37 * from + 11 * to + c);  // small
      case 1:
        return from == 0 && to == 1 ? (std::size_t{3} << 20) + 5
                                    : 100u * static_cast<std::size_t>(to);
      case 2:
        return 0;
      default:
        return (std::size_t{1} << 20) + 4096 * static_cast<std::size_t>(from) + 7 * to;
    }
  };
  for (int c = 0; c < 20; ++c) {
    if (c == 10) exchange.keep_bulk_window();
    std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(n));
    for (int p = 0; p < n; ++p) {
      out[p].resize(size_of(c, t.rank(), p));
      for (std::size_t k = 0; k < out[p].size(); ++k) {
        out[p][k] = content(t.rank(), static_cast<std::uint64_t>(c) * 64 + p, k);
      }
    }
    std::vector<std::vector<std::byte>> in = exchange.all_to_all(std::move(out));
    CHECK(in.size() == static_cast<std::size_t>(n), "all_to_all returned the wrong count");
    for (int source = 0; source < n; ++source) {
      const std::vector<std::byte>& got = in[source];
      CHECK(got.size() == size_of(c, source, t.rank()), "call " + std::to_string(c) + ": rank " +
                                                            std::to_string(source) + " sent " +
                                                            std::to_string(got.size()) + " bytes");
      for (std::size_t k = 0; k < got.size(); ++k) {
        if (got[k] != content(source, static_cast<std::uint64_t>(c) * 64 + t.rank(), k)) {
          die("call " + std::to_string(c) + ": byte " + std::to_string(k) + " from rank " +
              std::to_string(source) + " is wrong");
        }
      }
    }
  }
  exchange.free_bulk_window();
}

void scenario_collectives(Transport& t, Collectives& coll) {
  const int n = t.size();
  for (int round = 0; round < 20; ++round) {
    coll.barrier();
    std::vector<std::int64_t> v(100);
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<std::int64_t>(mix(t.rank() * 100 + i + round) % 1000) - 500;
    std::vector<std::int64_t> sum = v, mn = v, mx = v;
    coll.allreduce(std::span(sum), ReduceOp::kSum);
    coll.allreduce(std::span(mn), ReduceOp::kMin);
    coll.allreduce(std::span(mx), ReduceOp::kMax);
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::int64_t es = 0, emn = INT64_MAX, emx = INT64_MIN;
      for (int r = 0; r < n; ++r) {
        std::int64_t x = static_cast<std::int64_t>(mix(r * 100 + i + round) % 1000) - 500;
        es += x;
        emn = std::min(emn, x);
        emx = std::max(emx, x);
      }
      CHECK(sum[i] == es && mn[i] == emn && mx[i] == emx, "allreduce result differs from serial");
    }
    double d = coll.allreduce(0.1 * (t.rank() + 1), ReduceOp::kSum);
    // The documented order: a binomial tree, rank r adding the partial of ranks
    // [r + step, r + 2 step) to its own, for step = 1, 2, 4, ...
    std::vector<double> partial(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) partial[r] = 0.1 * (r + 1);
    for (int step = 1; step < n; step *= 2) {
      for (int r = 0; r + step < n; r += 2 * step) partial[r] = partial[r] + partial[r + step];
    }
    CHECK(d == partial[0], "double sum not in the documented tree order");
    std::string mine(static_cast<std::size_t>(t.rank() * 37 + round),
                     static_cast<char>('a' + t.rank()));
    auto all = coll.allgather(mine);
    for (int r = 0; r < n; ++r) {
      CHECK(all[r] ==
                std::string(static_cast<std::size_t>(r * 37 + round), static_cast<char>('a' + r)),
            "allgather");
    }
    int root = round % n;
    std::string b = t.rank() == root ? "from " + std::to_string(root) : "junk";
    coll.broadcast(root, b);
    CHECK(b == "from " + std::to_string(root), "broadcast");
  }
}

void scenario_rings(Transport& t, Collectives& coll, RingChannel& ring, std::uint64_t records) {
  const int n = t.size();
  std::vector<std::uint64_t> next(static_cast<std::size_t>(n), 0);
  std::uint64_t got = 0;
  const std::uint64_t expected = records * static_cast<std::uint64_t>(n);
  auto check = [&](int source, std::span<const std::byte> bytes) {
    std::uint64_t index;
    CHECK(bytes.size() >= 8, "short record");
    std::memcpy(&index, bytes.data(), 8);
    CHECK(index == next[source], "record " + std::to_string(index) + " from rank " +
                                     std::to_string(source) + " arrived when " +
                                     std::to_string(next[source]) + " was due");
    std::size_t size = 8 + mix(index ^ static_cast<std::uint64_t>(source)) % 120;
    CHECK(bytes.size() == size, "record size");
    for (std::size_t k = 8; k < size; ++k)
      CHECK(bytes[k] == content(source, index, k), "record content");
    ++next[source];
    ++got;
  };
  std::vector<std::byte> rec;
  const bool slow = t.rank() == n - 1;  // a slow receiver forces back-pressure on the others
  for (std::uint64_t i = 0; i < records; ++i) {
    for (int peer = 0; peer < n; ++peer) {
      std::size_t size = 8 + mix(i ^ static_cast<std::uint64_t>(t.rank())) % 120;
      rec.resize(size);
      std::memcpy(rec.data(), &i, 8);
      for (std::size_t k = 8; k < size; ++k) rec[k] = content(t.rank(), i, k);
      ring.append(peer, rec);
    }
    if (i % 4096 == 0) {
      ring.post_all();
      if (!slow) ring.poll(check);
    }
  }
  ring.post_all();
  t.wait_for([&] { return true; });
  while (got < expected) {
    ring.poll(check);
    t.check_peers();
  }
  coll.barrier();
}

/// Handlers opened after start(): the same id on every rank, messages that arrive before the
/// receiver opened the handler delivered in order once it does, closed in turn. Rank 0 opens
/// at once and sends; the others open later, so its messages come first.
void handlers_after_start(Transport& t, Collectives& coll) {
  const int n = t.size();
  for (std::uint64_t round = 0; round < 3; ++round) {
    if (t.rank() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));
    constexpr std::uint64_t kMessages = 20;
    std::vector<std::uint64_t> next(static_cast<std::size_t>(n), 0);
    std::uint64_t got = 0;
    const HandlerId id = t.open_handler([&](int source, std::span<const std::byte> bytes) {
      std::uint64_t msg[2];
      CHECK(bytes.size() == sizeof msg, "handler message of " + std::to_string(bytes.size()));
      std::memcpy(msg, bytes.data(), sizeof msg);
      CHECK(msg[0] == round && msg[1] == next[static_cast<std::size_t>(source)]++,
            "message " + std::to_string(msg[1]) + " of round " + std::to_string(msg[0]) +
                " from rank " + std::to_string(source) + " out of order");
      ++got;
    });
    CHECK(coll.allreduce(id, ReduceOp::kMin) == id && coll.allreduce(id, ReduceOp::kMax) == id,
          "ranks opened different handler ids");
    for (int peer = 0; peer < n; ++peer) {
      for (std::uint64_t i = 0; i < kMessages; ++i) {
        const std::uint64_t msg[2] = {round, i};
        t.send(peer, id, std::as_bytes(std::span(msg)));
      }
    }
    t.wait_for([&] { return got == kMessages * static_cast<std::uint64_t>(n); });
    t.close_handler(id);
    bool refused = false;
    try {
      t.close_handler(id);
    } catch (const Error&) {
      refused = true;
    }
    CHECK(refused, "a closed handler was closed again");
  }
}

/// A record of a channel test: writer thread, index, then content() bytes.
std::vector<std::byte> channel_record(int source, std::uint32_t thread, std::uint64_t index) {
  std::vector<std::byte> rec(12 + mix(index * 31 + thread) % 40);
  std::memcpy(rec.data(), &thread, 4);
  std::memcpy(rec.data() + 4, &index, 8);
  for (std::size_t k = 12; k < rec.size(); ++k) rec[k] = content(source, index * 8 + thread, k);
  return rec;
}

/// Channels opened and closed after start(), each fed by several writer threads at once while
/// another thread flushes: every record arrives once, in order per (source, writer).
void channels_after_start(Transport& t) {
  const int n = t.size();
  constexpr std::uint32_t kThreads = 4;
  constexpr std::uint64_t kRecords = 1500;
  for (std::size_t batch : {std::size_t{256}, std::size_t{64} << 10}) {
    std::vector<std::vector<std::uint64_t>> next(static_cast<std::size_t>(n),
                                                 std::vector<std::uint64_t>(kThreads, 0));
    std::uint64_t got = 0;  // handlers are serialized; read in wait_for (the same lock)
    ChannelOptions options;
    options.batch_bytes = batch;
    options.max_delay = std::chrono::microseconds(100);
    Channel channel(
        t,
        [&](int source, std::span<const std::byte> rec) {
          std::uint32_t thread = 0;
          std::uint64_t index = 0;
          CHECK(rec.size() >= 12, "short channel record");
          std::memcpy(&thread, rec.data(), 4);
          std::memcpy(&index, rec.data() + 4, 8);
          CHECK(thread < kThreads, "channel record of writer " + std::to_string(thread));
          auto& due = next[static_cast<std::size_t>(source)][thread];
          CHECK(index == due, "channel record " + std::to_string(index) + " from rank " +
                                  std::to_string(source) + " writer " + std::to_string(thread) +
                                  " arrived when " + std::to_string(due) + " was due");
          const std::vector<std::byte> want = channel_record(source, thread, index);
          CHECK(std::equal(rec.begin(), rec.end(), want.begin(), want.end()),
                "channel record content");
          ++due;
          ++got;
        },
        options);
    std::vector<Channel::Writer*> writers;
    for (std::uint32_t th = 0; th < kThreads; ++th) writers.push_back(&channel.add_writer());
    std::atomic<bool> writing{true};
    std::thread flusher([&] {
      while (writing.load()) {
        channel.flush_if_due();
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
    std::vector<std::thread> threads;
    for (std::uint32_t th = 0; th < kThreads; ++th) {
      threads.emplace_back([&, th] {
        for (std::uint64_t i = 0; i < kRecords; ++i) {
          for (int peer = 0; peer < n; ++peer) {
            writers[th]->append(peer, channel_record(t.rank(), th, i));
          }
        }
      });
    }
    for (auto& thread : threads) thread.join();
    writing.store(false);
    flusher.join();
    channel.flush_all();
    const std::uint64_t expected = kRecords * kThreads * static_cast<std::uint64_t>(n);
    t.wait_for([&] { return got == expected; });
    CHECK(channel.records_sent() == expected && channel.records_received() == expected,
          "channel counted " + std::to_string(channel.records_sent()) + " sent, " +
              std::to_string(channel.records_received()) + " received");
  }
}

/// Rings and mailboxes created and freed after start(), a few times over.
void rings_and_mailboxes_after_start(Transport& t, Collectives& coll) {
  const int n = t.size();
  for (int round = 0; round < 2; ++round) {
    RingOptions options;
    options.ring_bytes = 16 * 1024;  // small: back-pressure and wrap-arounds
    options.batch_bytes = 1024;
    RingChannel ring(t, options);
    constexpr std::uint64_t kRecords = 2000;
    std::vector<std::uint64_t> next(static_cast<std::size_t>(n), 0);
    std::uint64_t got = 0;
    auto check = [&](int source, std::span<const std::byte> rec) {
      const std::vector<std::byte> want =
          channel_record(source, 0, next[static_cast<std::size_t>(source)]++);
      CHECK(std::equal(rec.begin(), rec.end(), want.begin(), want.end()), "ring record");
      ++got;
    };
    for (std::uint64_t i = 0; i < kRecords; ++i) {
      for (int peer = 0; peer < n; ++peer) ring.append(peer, channel_record(t.rank(), 0, i));
      if (i % 64 == 0) ring.poll(check);
    }
    ring.post_all();
    while (got < kRecords * static_cast<std::uint64_t>(n)) {
      ring.poll(check);
      t.check_peers();
    }
    coll.barrier();  // nobody frees the ring while a peer still waits for its credit
  }
  for (std::uint64_t round = 0; round < 3; ++round) {
    std::vector<std::size_t> capacity(static_cast<std::size_t>(n), 64), lengths(capacity);
    lengths[static_cast<std::size_t>(t.rank())] = 0;  // a rank never mails itself
    Mailboxes mail(t, coll, capacity);
    for (int p = 0; p < n; ++p) {
      std::span<std::byte> out = mail.outbox(p);
      for (std::size_t k = 0; k < out.size(); ++k) out[k] = content(t.rank(), round * 64 + p, k);
    }
    mail.deliver(lengths);
    for (int source = 0; source < n; ++source) {
      std::span<const std::byte> in = mail.inbox(source);
      CHECK(in.size() == (source == t.rank() ? 0 : 64), "mailbox batch size");
      for (std::size_t k = 0; k < in.size(); ++k)
        CHECK(in[k] == content(source, round * 64 + t.rank(), k), "mailbox content");
    }
  }
}

void scenario_channels(Transport& t, Collectives& coll) {
  handlers_after_start(t, coll);
  channels_after_start(t);
  rings_and_mailboxes_after_start(t, coll);
  coll.barrier();
}

/// Rank 0 sends a channel batch whose record overruns it: rank 1 must fail, naming it.
void scenario_bad_channel_batch(Transport& t, Collectives& coll) {
  Channel channel(t, [](int, std::span<const std::byte>) {});
  if (t.rank() == 0) {
    const std::uint32_t batch[2] = {100, 7};  // a 100-byte record with 4 bytes behind it
    t.send(1, channel.id(), std::as_bytes(std::span(batch)));
  }
  coll.barrier();
  if (t.rank() == 1) t.wait_for([] { return false; });  // fails when the batch arrives
  coll.barrier();
}

/// Rank 0 sends on a handler every rank has closed: rank 1 must fail, naming it.
void scenario_closed_handler(Transport& t, Collectives& coll) {
  const HandlerId id = t.open_handler([](int, std::span<const std::byte>) {});
  t.close_handler(id);
  if (t.rank() == 0) t.send(1, id, {});
  coll.barrier();
  if (t.rank() == 1) t.wait_for([] { return false; });  // fails when the message arrives
  coll.barrier();
}

/// Rank 0 abandons a handler (as an owner destroyed while unwinding does) while the others
/// still send on it, and only then tells them to stop: the handler is never called again,
/// what arrives after is dropped, and every rank ends cleanly.
void scenario_abandoned_handler(Transport& t, Collectives& coll) {
  std::atomic<bool> abandoned{false}, stop{false};
  auto state = std::make_unique<std::atomic<std::uint64_t>>(0);
  std::atomic<std::uint64_t>* received = state.get();
  const HandlerId id = t.open_handler([&abandoned, received](int, std::span<const std::byte>) {
    if (abandoned.load()) die("a handler ran after abandon_handler returned");
    received->fetch_add(1);
  });
  const HandlerId stop_id =
      t.open_handler([&stop](int, std::span<const std::byte>) { stop = true; });
  coll.barrier();
  if (t.rank() != 0) {
    const std::uint64_t payload = 7;
    // Until rank 0's stop, sent after it abandoned: some of these arrive after the abandon.
    for (int i = 0; i < 200000 && !stop.load(); ++i) {
      t.send(0, id, std::as_bytes(std::span(&payload, 1)));
    }
    t.wait_for([&] { return stop.load(); });
  } else {
    t.wait_for([&] { return received->load() > 0; });  // while the messages still come
    t.abandon_handler(id);
    abandoned.store(true);
    state.reset();  // the handler's state is gone (a later call would read freed memory)
    for (int peer = 1; peer < t.size(); ++peer) t.send(peer, stop_id, {});
  }
  coll.barrier();  // sent before it, so delivered (or dropped) before it completes here
}

/// Rank 1 dies (SIGKILL: its connections break) or stalls (SIGSTOP: only the heartbeat
/// timeout can tell); the others must fail on their own, naming it.
void scenario_die(Transport& t, Collectives& coll, int signal) {
  coll.barrier();
  if (t.rank() == 1) raise(signal);
  // The survivors block in a collective that can never complete: they must fail, not hang.
  coll.barrier();
  die("the barrier completed although rank 1 is dead");
}

/// Polled mode (Transport::set_polled): rank 0 and rank 1 ping-pong 300 times, each driving
/// the network only by poll(): a poll that did not drive would leave each message to the
/// progress thread's next heartbeat (0.4 s here), far past the deadline. Then every rank sleeps
/// longer than the peer timeout without polling: the progress thread must still drive the
/// heartbeats, or the ranks declare each other dead.
void scenario_polled(Transport& t, Collectives& coll) {
  std::atomic<int> pongs{0};
  const HandlerId id = t.open_handler([&](int source, std::span<const std::byte>) {
    pongs.fetch_add(1);
    if (t.rank() == 1) t.send(source, id, {});  // from the handler, as lock managers answer
  });
  t.set_polled(true);
  CHECK(t.polled(), "set_polled(true) did not take");
  coll.barrier();
  if (t.rank() == 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (int i = 0; i < 300; ++i) {
      t.send(1, id, {});
      while (pongs.load() <= i) {
        t.poll();
        if (std::chrono::steady_clock::now() > deadline) {
          die("polled ping-pong: " + std::to_string(i) + " of 300 round trips in 20 s");
        }
      }
    }
    t.send(1, id, {});  // the end
  } else if (t.rank() == 1) {
    while (pongs.load() < 301) t.poll();
  }
  // Past the 2 s peer timeout by two heartbeats (every 0.4 s): without the progress thread's
  // drives a peer's silence would be seen here.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  t.check_peers();
  coll.barrier();
  t.set_polled(false);
  coll.barrier();
}

int run_rank(const std::string& scenario, TransportKind kind, std::uint64_t ring_records) {
  std::vector<std::byte> window_memory(1'000'003);  // outlives the transport
  JobInfo job = detect_job({});
  TransportOptions options;
  options.kind = kind;
  options.peer_timeout = std::chrono::milliseconds(scenario == "die" || scenario == "stall" ? 3000
                                                   : scenario == "polled"                   ? 2000
                                                                          : 10000);
  options.bootstrap_timeout = std::chrono::milliseconds(30000);
  Transport t(job, options);
  Collectives coll(t);
  Exchange exchange(t);

  // Messages: per (source, thread) sequence numbers must arrive in order.
  std::atomic<std::uint64_t> received{0};
  std::atomic<bool> bad{false};
  std::vector<std::vector<std::uint64_t>> next_seq(static_cast<std::size_t>(job.size),
                                                   std::vector<std::uint64_t>(8, 0));
  t.add_handler(7, [&](int source, std::span<const std::byte> bytes) {
    if (bytes.size() < 12) {
      bad = true;
      return;
    }
    std::uint32_t th;
    std::uint64_t i;
    std::memcpy(&th, bytes.data(), 4);
    std::memcpy(&i, bytes.data() + 4, 8);
    if (th >= 8 || next_seq[source][th] != i) bad = true;
    for (std::size_t k = 12; k < bytes.size(); ++k) {
      if (bytes[k] != content(source, i, k)) bad = true;
    }
    if (th < 8) next_seq[source][th] = i + 1;
    received.fetch_add(1);
  });
  WindowId window = t.add_window(window_memory);
  const std::size_t allocated_size = (std::size_t{1} << 20) + 3;
  WindowId allocated = t.allocate_window(allocated_size);
  {
    std::span<std::byte> mem = t.local_window(allocated);
    CHECK(mem.size() == allocated_size, "allocated window of " + std::to_string(mem.size()));
    CHECK(reinterpret_cast<std::uintptr_t>(mem.data()) % sysconf(_SC_PAGESIZE) == 0,
          "allocated window not page-aligned");
    CHECK(std::all_of(mem.begin(), mem.end(), [](std::byte b) { return b == std::byte{0}; }),
          "allocated window not zeroed");
  }
  RingOptions ring_options;
  ring_options.ring_bytes = 64 * 1024;  // small: many wrap-arounds
  ring_options.batch_bytes = 4096;
  RingChannel ring(t, ring_options);
  t.start();

  if (scenario == "messages")
    scenario_messages(t, coll, &received, bad);
  else if (scenario == "puts") {
    scenario_puts(t, coll, window, window_memory);
    scenario_puts(t, coll, allocated, t.local_window(allocated));
  } else if (scenario == "windows")
    scenario_windows(t, coll, window, window_memory, allocated);
  else if (scenario == "exchange")
    scenario_exchange(t, exchange);
  else if (scenario == "mailboxes")
    scenario_mailboxes(t, coll);
  else if (scenario == "late_windows")
    scenario_late_windows(t, coll);
  else if (scenario == "collectives")
    scenario_collectives(t, coll);
  else if (scenario == "rings")
    scenario_rings(t, coll, ring, ring_records);
  else if (scenario == "channels")
    scenario_channels(t, coll);
  else if (scenario == "bad_channel_batch")
    scenario_bad_channel_batch(t, coll);
  else if (scenario == "closed_handler")
    scenario_closed_handler(t, coll);
  else if (scenario == "abandoned_handler")
    scenario_abandoned_handler(t, coll);
  else if (scenario == "polled")
    scenario_polled(t, coll);
  else if (scenario == "die")
    scenario_die(t, coll, SIGKILL);
  else if (scenario == "stall")
    scenario_die(t, coll, SIGSTOP);
  else
    die("unknown scenario " + scenario);
  t.stop();
  // Allocated memory stays the transport's until it is destroyed.
  std::span<std::byte> after = t.local_window(allocated);
  after.back() = std::byte{42};
  CHECK(after.back() == std::byte{42}, "allocated window after stop()");
  return 0;
}

// ---- the test driver -------------------------------------------------------------------------

std::string self_path() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<std::size_t>(n));
}

struct Result {
  int code;
  std::string output;
  double seconds;
};

Result run(const std::string& command) {
  auto start = std::chrono::steady_clock::now();
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  while (pipe != nullptr && fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  int status = pipe != nullptr ? pclose(pipe) : -1;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out, seconds};
}

std::string launch(int ranks, const std::string& scenario, const std::string& transport,
                   const std::string& extra = "", double notice = 4) {
  return std::string(ATOLL_BINARY) + " launch --failure-notice " + std::to_string(notice) + " -n " +
         std::to_string(ranks) + " -- " + self_path() + " --scenario " + scenario +
         " --transport " + transport + " " + extra;
}

struct Case {
  std::string transport;
  int ranks;
};

class TransportRanks : public testing::TestWithParam<Case> {
 protected:
  /// Runs one scenario on this case's ranks and transport; every rank must exit cleanly.
  void expect_passes(const std::string& scenario, const std::string& extra = "") {
    Result r = run(launch(GetParam().ranks, scenario, GetParam().transport, extra));
    EXPECT_EQ(r.code, 0) << r.output;
  }
};

TEST_P(TransportRanks, MessagesArriveInOrderFromManyThreads) {
  expect_passes("messages");
}
TEST_P(TransportRanks, PutsAreVisibleAfterFlushUpToTheLastByte) {
  expect_passes("puts");
}
TEST_P(TransportRanks, FencesOrderPutsIntoAllocatedAndCallerWindows) {
  expect_passes("windows");
}
TEST_P(TransportRanks, WindowsCreatedAfterStartTakePuts) {
  expect_passes("late_windows");
}
TEST_P(TransportRanks, AllToAllDeliversSmallAndBulkCalls) {
  expect_passes("exchange");
}
TEST_P(TransportRanks, MailboxesDeliverEveryBatchOfEveryRound) {
  expect_passes("mailboxes");
}
TEST_P(TransportRanks, CollectivesMatchSerialResults) {
  expect_passes("collectives");
}
TEST_P(TransportRanks, RingsDeliverEveryRecordOnceInOrderUnderBackPressure) {
  expect_passes("rings", "--records 200000");
}
TEST_P(TransportRanks, HandlersChannelsRingsAndMailboxesOpenAndCloseAfterStart) {
  expect_passes("channels");
}
TEST_P(TransportRanks, AMessageForAClosedHandlerFailsTheReceiverNamingIt) {
  Result r = run(launch(GetParam().ranks, "closed_handler", GetParam().transport, "", 0.5));
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("rank 0 sent a message for closed handler"), std::string::npos)
      << r.output;
}
TEST_P(TransportRanks, PolledRanksDriveTheNetworkAndKeepTheirHeartbeats) {
  expect_passes("polled");
}
TEST_P(TransportRanks, AnAbandonedHandlerIsNeverCalledAgain) {
  expect_passes("abandoned_handler");
}
TEST_P(TransportRanks, AMalformedChannelBatchFailsTheReceiverNamingIt) {
  Result r = run(launch(GetParam().ranks, "bad_channel_batch", GetParam().transport, "", 0.5));
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("bad message from rank 0: channel 1087: record of 100 bytes from rank 0 "
                          "overruns its batch (4 bytes left)"),
            std::string::npos)
      << r.output;
}
TEST_P(TransportRanks, AKilledRankStopsTheOthersWithItsNumber) {
  Result r = run(launch(GetParam().ranks, "die", GetParam().transport));
  EXPECT_NE(r.code, 0) << r.output;
  // A survivor's own report (atoll launch also stops the others once a rank dies, so only
  // the fastest survivor may get to say it).
  EXPECT_NE(r.output.find(": lost rank 1"), std::string::npos) << r.output;
  EXPECT_LT(r.seconds, 3.0 + 1.0) << "peer timeout 3 s plus one second";
}
TEST_P(TransportRanks, AStalledRankIsDeclaredDeadByTheHeartbeatTimeout) {
  Result r = run(launch(GetParam().ranks, "stall", GetParam().transport, "", 0.5));
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("rank 1 sent nothing for"), std::string::npos) << r.output;
  // The survivors report soon after the 3 s timeout (well before the 10 s default); then
  // launch stops the stalled rank. The margin covers start-up on a loaded machine (5.3 s seen).
  EXPECT_LT(r.seconds, 3.0 + 4.0) << "peer timeout 3 s plus start-up and reporting";
}

TEST(TransportTree, CollectivesOnRankCountsThatAreNotPowersOfTwo) {
  // Incomplete binomial trees: ranks whose children or grandchildren are missing.
  for (const auto& [ranks, transport] :
       {std::pair{5, "ucx"}, std::pair{6, "tcp"}, std::pair{7, "ucx"}}) {
    Result r = run(launch(ranks, "collectives", transport));
    EXPECT_EQ(r.code, 0) << ranks << " ranks over " << transport << ": " << r.output;
  }
}

INSTANTIATE_TEST_SUITE_P(Transport, TransportRanks,
                         testing::Values(Case{"tcp", 2}, Case{"tcp", 3}, Case{"tcp", 4},
                                         Case{"ucx", 2}, Case{"ucx", 3}, Case{"ucx", 4}),
                         [](const testing::TestParamInfo<Case>& info) {
                           return info.param.transport + "_" + std::to_string(info.param.ranks);
                         });

// Two "hosts": network namespaces joined by a veth pair (198.51.100.1 and .2, TEST-NET-2, on
// this machine only). Rank 0 runs in one, rank 1 in the other, so the bootstrap and the
// backends must use the namespaces' addresses, not loopback. Needs root and iproute2.
class NetworkNamespaces {
 public:
  NetworkNamespaces() {
    const std::string id = std::to_string(getpid());
    a_ = "atlA" + id;
    b_ = "atlB" + id;
    const std::string va = "atlva" + id, vb = "atlvb" + id;
    Result r =
        run("ip netns add " + a_ + " && ip netns add " + b_ + " && ip link add " + va +
            " type veth peer name " + vb + " && ip link set " + va + " netns " + a_ +
            " && ip link set " + vb + " netns " + b_ + " && ip -n " + a_ + " addr add " + kHostA +
            "/24 dev " + va + " && ip -n " + b_ + " addr add " + kHostB + "/24 dev " + vb +
            " && ip -n " + a_ + " link set " + va + " up && ip -n " + b_ + " link set " + vb +
            " up && ip -n " + a_ + " link set lo up && ip -n " + b_ + " link set lo up");
    ok_ = r.code == 0;
    error_ = r.output;
  }
  ~NetworkNamespaces() { run("ip netns del " + a_ + "; ip netns del " + b_); }
  NetworkNamespaces(const NetworkNamespaces&) = delete;
  NetworkNamespaces& operator=(const NetworkNamespaces&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  /// Runs the scenario as rank 0 in namespace A and rank 1 in namespace B.
  Result run_job(const std::string& scenario, const std::string& transport,
                 const std::string& env = "") const {
    const std::string port = std::to_string(20000 + getpid() % 20000);
    auto rank = [&](const std::string& ns, int r) {
      return "ip netns exec " + ns + " env ATOLL_RANK=" + std::to_string(r) +
             " ATOLL_SIZE=2 ATOLL_COORDINATOR=" + kHostA + ":" + port +
             " ATOLL_JOB_TOKEN=netns-test " + env + " " + self_path() + " --scenario " + scenario +
             " --transport " + transport;
    };
    return run("bash -c '" + rank(a_, 0) + " & a=$!; " + rank(b_, 1) +
               "; b=$?; wait $a; a=$?; exit $((a | b))'");
  }

  static constexpr const char* kHostA = "198.51.100.1";
  static constexpr const char* kHostB = "198.51.100.2";

 private:
  std::string a_, b_;
  bool ok_ = false;
  std::string error_;
};

TEST(MultiHost, RanksInTwoNetworkNamespaces) {
  if (geteuid() != 0 || std::system("command -v ip >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs root and iproute2";
  }
  NetworkNamespaces hosts;
  if (!hosts.ok()) GTEST_SKIP() << "cannot create network namespaces: " << hosts.error();
  for (const char* scenario : {"collectives", "puts", "windows"}) {
    Result tcp = hosts.run_job(scenario, "tcp");
    EXPECT_EQ(tcp.code, 0) << scenario << " over tcp:\n" << tcp.output;
    // UCX over its TCP transport: the namespaces share shared memory, which UCX would use.
    Result ucx = hosts.run_job(scenario, "ucx", "UCX_TLS=tcp");
    EXPECT_EQ(ucx.code, 0) << scenario << " over ucx (UCX_TLS=tcp):\n" << ucx.output;
  }
}

TEST(Doctor, ReportsDevicesOnOneRank) {
  Result r = run(std::string(ATOLL_BINARY) + " doctor");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("RDMA devices"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("UCX "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("atoll run would use: "), std::string::npos) << r.output;
}

// atoll re-executes itself with malloc's huge pages (apps/cli/huge_pages.hpp) where the kernel
// offers THP, and ATOLL_HUGE_PAGES=0 keeps it from doing so.
TEST(Doctor, ReportsHugePages) {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(thp, modes);
  const bool offered =
      modes.find("[always]") != std::string::npos || modes.find("[madvise]") != std::string::npos;
  Result r =
      run("env -u GLIBC_TUNABLES -u ATOLL_HUGE_PAGES " + std::string(ATOLL_BINARY) + " doctor");
  EXPECT_EQ(r.code, 0) << r.output;
  if (r.output.find("huge pages: off (sanitized build") == std::string::npos) {
    EXPECT_NE(r.output.find(offered ? "huge pages: on (GLIBC_TUNABLES names glibc.malloc.hugetlb"
                                    : "huge pages: off (kernel THP mode"),
              std::string::npos)
        << modes << "\n"
        << r.output;
    Result off =
        run("env -u GLIBC_TUNABLES ATOLL_HUGE_PAGES=0 " + std::string(ATOLL_BINARY) + " doctor");
    EXPECT_EQ(off.code, 0) << off.output;
    EXPECT_NE(off.output.find("huge pages: off (ATOLL_HUGE_PAGES=0)"), std::string::npos)
        << off.output;
  }
}

TEST(Doctor, ChecksEveryPairAsSeveralRanks) {
  for (const char* transport : {"tcp", "ucx"}) {
    Result r = run(std::string(ATOLL_BINARY) + " launch -n 3 -- " + ATOLL_BINARY +
                   " doctor --rounds 20 --transport " + transport);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("all 6 pairs OK"), std::string::npos) << r.output;
  }
}

TEST(Transport, RunsUnderMpirun) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  Result r = run("mpirun --allow-run-as-root --oversubscribe -n 2 " + self_path() +
                 " --scenario collectives --transport tcp");
  EXPECT_EQ(r.code, 0) << r.output;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario;
  std::string transport = "ucx";
  std::uint64_t records = 100000;
  for (int i = 1; i + 1 < argc; ++i) {
    std::string a = argv[i];
    if (a == "--scenario")
      scenario = argv[++i];
    else if (a == "--transport")
      transport = argv[++i];
    else if (a == "--records")
      records = std::strtoull(argv[++i], nullptr, 10);
  }
  if (!scenario.empty()) {
    try {
      return run_rank(scenario, parse_transport(transport), records);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "rank error: %s\n", e.what());
      return 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
