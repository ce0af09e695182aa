// Safra's termination detection: by hand (a token waits for an active rank; a message in
// flight keeps the run going; malformed tokens are errors), and with simulated ranks as
// threads that send random messages and go passive and active again: the end is never
// declared while a rank is active or a message in flight, and always declared eventually.
#include "atoll/engine/termination.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "atoll/common/error.hpp"
#include "sim_network.hpp"

namespace {

using namespace atl;

/// Ranks whose tokens the test moves by hand.
struct Ring {
  struct Token {
    int from, to;
    std::vector<std::byte> bytes;
  };
  std::deque<Token> tokens;
  std::vector<std::unique_ptr<TerminationDetector>> d;
  int ended = 0;
  explicit Ring(int n) {
    for (int r = 0; r < n; ++r) {
      d.push_back(std::make_unique<TerminationDetector>(
          r, n,
          [this, r](int to, std::span<const std::byte> b) {
            tokens.push_back({r, to, {b.begin(), b.end()}});
          },
          [this] { ++ended; }));
    }
  }
  /// Delivers tokens until none moves.
  void run() {
    while (!tokens.empty()) {
      Token t = std::move(tokens.front());
      tokens.pop_front();
      d[t.to]->receive_token(t.from, t.bytes);
    }
  }
};

TEST(Termination, OneRankEndsWhenPassive) {
  Ring ring(1);
  EXPECT_FALSE(ring.d[0]->ended());
  ring.d[0]->set_passive(true);
  EXPECT_TRUE(ring.d[0]->ended());
  EXPECT_EQ(ring.ended, 1);
}

TEST(Termination, TokenWaitsForAnActiveRank) {
  Ring ring(3);
  ring.d[0]->set_passive(true);
  ring.d[2]->set_passive(true);
  ring.run();  // the token stops at rank 1, which is still active
  for (auto& d : ring.d) EXPECT_FALSE(d->ended());
  ring.d[1]->set_passive(true);
  ring.run();
  for (auto& d : ring.d) EXPECT_TRUE(d->ended());
  EXPECT_EQ(ring.ended, 3);
}

TEST(Termination, MessageInFlightKeepsTheRunGoing) {
  Ring ring(3);
  ring.d[2]->sent();  // rank 2 sent a message that rank 1 has not received
  for (auto& d : ring.d) d->set_passive(true);
  // Every round sums to +1: no end however often the token goes round (20 hops here).
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(ring.tokens.size(), 1u);
    Ring::Token t = std::move(ring.tokens.front());
    ring.tokens.pop_front();
    ring.d[t.to]->receive_token(t.from, t.bytes);
  }
  EXPECT_FALSE(ring.d[0]->ended());
  EXPECT_GE(ring.d[0]->rounds(), 6u);
}

TEST(Termination, AReceiptBlackensTheRound) {
  Ring ring(3);
  ring.d[2]->sent();
  ring.d[0]->set_passive(true);
  ring.d[2]->set_passive(true);
  ring.run();  // the token waits at rank 1, active
  ring.d[1]->received();
  ring.d[1]->set_passive(true);  // passes a black token: that round cannot end the run
  ring.run();
  EXPECT_TRUE(ring.d[0]->ended());
  EXPECT_EQ(ring.d[0]->rounds(), 2u);
}

TEST(Termination, WorkBehindTheTokenIsNotMissed) {
  // The token has passed ranks 0 and 1 and waits at rank 2; rank 2 wakes rank 1 with a
  // message, rank 1 answers it and stays active. The counts then sum to zero, but rank 1 is
  // active: only the colour of the round shows it.
  Ring ring(3);
  ring.d[0]->set_passive(true);
  ring.d[1]->set_passive(true);
  ring.run();
  ring.d[2]->sent();
  ring.d[1]->received();
  ring.d[1]->set_passive(false);
  ring.d[1]->sent();
  ring.d[2]->received();
  ring.d[2]->set_passive(true);
  ring.run();  // rank 0 must start another round, which waits at rank 1
  EXPECT_FALSE(ring.d[0]->ended());
  ring.d[1]->set_passive(true);
  ring.run();
  EXPECT_TRUE(ring.d[0]->ended());
}

TEST(Termination, MalformedTokensAreErrors) {
  Ring ring(3);
  ring.d[0]->set_passive(true);
  ASSERT_EQ(ring.tokens.size(), 1u);
  const std::vector<std::byte> good = ring.tokens.front().bytes;
  EXPECT_THROW(ring.d[1]->receive_token(2, good), Error);  // not from its predecessor
  EXPECT_THROW(ring.d[1]->receive_token(0, std::span(good).first(5)), Error);
  std::vector<std::byte> kind = good;
  kind[0] = std::byte{7};
  EXPECT_THROW(ring.d[1]->receive_token(0, kind), Error);
  std::vector<std::byte> colour = good;
  colour[17] = std::byte{2};
  EXPECT_THROW(ring.d[1]->receive_token(0, colour), Error);
  ring.d[1]->receive_token(0, good);                       // rank 1 is active: it keeps the token
  EXPECT_THROW(ring.d[1]->receive_token(0, good), Error);  // a second token
  std::vector<std::byte> end = good;
  end[0] = std::byte{2};
  EXPECT_THROW(ring.d[0]->receive_token(2, end), Error);  // the end token never goes to 0
}

/// Ranks as threads sending random messages: a message of generation g gives its receiver a
/// few units of work, each of which may send a message of generation g + 1 (up to a bound).
class RandomRun {
 public:
  RandomRun(int ranks, std::uint64_t seed)
      : n_(ranks),
        net_(
            ranks, [this](int r, const test::SimNetwork::Message& m) { deliver(r, m); },
            [this](int r) { step(r); }) {
    for (int r = 0; r < n_; ++r) {
      auto rank = std::make_unique<Rank>();
      rank->rng.seed(seed * 31 + r);
      rank->work = 1 + rank->rng() % 20;
      rank->detector = std::make_unique<TerminationDetector>(
          r, n_,
          [this, r](int to, std::span<const std::byte> b) {
            std::lock_guard lock(delayed_mutex_);
            delayed_.push_back({r, to, kToken, {b.begin(), b.end()}});
          },
          [this, r] { on_end(r); });
      ranks_.push_back(std::move(rank));
    }
    active_.store(n_);
  }

  void run() {
    net_.start();
    std::thread delay([this] { delay_messages(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (ended_.load() < n_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    stop_.store(true);
    delay.join();
    net_.stop();
    EXPECT_EQ(ended_.load(), n_) << "the end was never declared";
    EXPECT_EQ(early_.load(), 0) << "the end was declared while work remained";
    EXPECT_EQ(errors_.load(), 0);
    EXPECT_GT(messages_.load(), 0u);
  }

 private:
  enum { kWork = 1, kToken = 2 };
  static constexpr int kGenerations = 8;
  struct Rank {
    std::mt19937_64 rng;
    int work = 0;
    std::vector<int> generation;  ///< of each pending unit
    bool passive = false;
    std::unique_ptr<TerminationDetector> detector;
  };

  void deliver(int r, const test::SimNetwork::Message& m) {
    Rank& me = *ranks_[r];
    try {
      if (m.channel == kToken) {
        me.detector->receive_token(m.from, m.bytes);
        return;
      }
      me.detector->received();
      if (me.passive) {
        me.passive = false;
        active_.fetch_add(1);
        me.detector->set_passive(false);
      }
      in_flight_.fetch_sub(1);
      const int g = static_cast<int>(m.bytes.size());  // the generation, as a length
      const int units = 1 + static_cast<int>(me.rng() % 3);
      for (int i = 0; i < units; ++i) me.generation.push_back(g);
    } catch (const Error&) {
      errors_.fetch_add(1);
    }
  }

  /// One unit of work, or going passive when there is none.
  void step(int r) {
    Rank& me = *ranks_[r];
    if (me.passive) return;
    if (me.work > 0 || !me.generation.empty()) {
      int g = 0;
      if (me.work > 0) {
        --me.work;
      } else {
        g = me.generation.back();
        me.generation.pop_back();
      }
      if (g + 1 < kGenerations && me.rng() % 3 != 0) {
        const int to = static_cast<int>(me.rng() % n_);
        me.detector->sent();
        in_flight_.fetch_add(1);
        messages_.fetch_add(1);
        std::lock_guard lock(delayed_mutex_);
        delayed_.push_back({r, to, kWork, std::vector<std::byte>(g + 1)});
      }
      if (me.rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      net_.wake(r);  // more to do: come back soon
      return;
    }
    me.passive = true;
    active_.fetch_sub(1);
    me.detector->set_passive(true);
  }

  /// The network: delivers messages and tokens in random order after random delays, so that
  /// messages reach ranks the token has already passed.
  void delay_messages() {
    std::mt19937 rng(99);
    while (!stop_.load()) {
      Delayed m{-1, 0, 0, {}};
      {
        std::lock_guard lock(delayed_mutex_);
        if (!delayed_.empty()) {
          const std::size_t at = rng() % delayed_.size();
          m = delayed_[at];
          delayed_[at] = delayed_.back();
          delayed_.pop_back();
        }
      }
      if (m.from >= 0) net_.post(m.from, m.to, m.channel, std::move(m.bytes));
      if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    }
  }

  void on_end(int r) {
    if (r == 0 && (active_.load() != 0 || in_flight_.load() != 0)) early_.fetch_add(1);
    ended_.fetch_add(1);
  }

  struct Delayed {
    int from, to, channel;
    std::vector<std::byte> bytes;
  };
  int n_;
  std::vector<std::unique_ptr<Rank>> ranks_;
  std::mutex delayed_mutex_;
  std::vector<Delayed> delayed_;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> ended_{0};
  std::atomic<int> early_{0};
  std::atomic<int> errors_{0};
  std::atomic<std::uint64_t> messages_{0};
  test::SimNetwork net_;
};

TEST(Termination, RandomMessagesNeverEndEarlyAndAlwaysEnd) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(seed);
    RandomRun(2 + static_cast<int>(seed % 4), seed).run();
  }
}

}  // namespace
