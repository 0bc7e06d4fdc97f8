// Many clients at once, each on its own connection and thread: no lost updates, no
// deadlocks, exact totals. A deadlock shows up as a bounded wait running out (the process then
// exits, since the stuck threads cannot be joined).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <random>
#include <set>
#include <string>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using ConcurrencyTest = ServerTest;

// Waits for every future; if one is not ready by the deadline the server (or the test) is
// stuck: report it and exit instead of hanging the whole suite.
template <typename T>
std::vector<T> JoinWithin(std::vector<std::future<T>>& futures, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::vector<T> out;
  for (auto& f : futures) {
    if (f.wait_until(deadline) != std::future_status::ready) {
      std::fprintf(stderr, "FATAL: clients did not finish within %lld s (deadlock?)\n",
                   static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::_Exit(1);
    }
    out.push_back(f.get());
  }
  return out;
}

TEST_F(ConcurrencyTest, FiftyClientsIncrementingOneKeyLoseNoUpdate) {
  constexpr int kClients = 50, kIncrements = 200;
  std::vector<std::future<std::vector<int64_t>>> futures;
  for (int i = 0; i < kClients; ++i) {
    futures.push_back(std::async(std::launch::async, [this] {
      Client c(port());
      std::vector<int64_t> seen;
      for (int j = 0; j < kIncrements; ++j) {
        std::string r = c.Cmd({"INCR", "counter"});
        seen.push_back(r.size() > 1 && r[0] == ':' ? std::atoll(r.c_str() + 1) : -1);
      }
      return seen;
    }));
  }
  auto results = JoinWithin(futures, 120s);
  EXPECT_EQ(Cmd({"GET", "counter"}), std::to_string(kClients * kIncrements));
  // Every INCR saw a distinct value: 1..10000 exactly once.
  std::vector<int64_t> all;
  for (auto& r : results) all.insert(all.end(), r.begin(), r.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kClients * kIncrements));
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i], static_cast<int64_t>(i + 1)) << "duplicate or missing INCR result";
  }
}

TEST_F(ConcurrencyTest, PipelinedMsetAndIncrOnOverlappingKeysFinishWithExactTotals) {
  constexpr int kClients = 20, kBatches = 5, kRoundsPerBatch = 40, kKeys = 8, kCounters = 4;
  std::vector<std::future<int>> futures;
  for (int id = 0; id < kClients; ++id) {
    futures.push_back(std::async(std::launch::async, [this, id] {
      Client c(port());
      std::mt19937 rng(static_cast<unsigned>(id));
      int errors = 0;
      for (int b = 0; b < kBatches; ++b) {
        int sent = 0;
        for (int r = 0; r < kRoundsPerBatch; ++r) {
          // The same keys in a different order for every client and round.
          std::vector<int> order(kKeys);
          for (int k = 0; k < kKeys; ++k) order[k] = k;
          std::shuffle(order.begin(), order.end(), rng);
          std::vector<std::string> mset = {"MSET"};
          for (int k : order) {
            mset.push_back("key:" + std::to_string(k));
            mset.push_back("c" + std::to_string(id) + "-b" + std::to_string(b));
          }
          c.Append(mset);
          ++sent;
          for (int k = 0; k < kCounters; ++k) {
            c.Append({"INCR", "ctr:" + std::to_string((k + id + r) % kCounters)});
            ++sent;
          }
          c.Append({"INCRBY", "total", std::to_string(id + 1)});
          ++sent;
        }
        for (int i = 0; i < sent; ++i) {
          std::string reply = c.GetReply();
          if (reply.empty() || (reply[0] != ':' && reply != "+OK")) ++errors;
        }
      }
      return errors;
    }));
  }
  auto errors = JoinWithin(futures, 180s);
  for (int e : errors) EXPECT_EQ(e, 0);
  for (int k = 0; k < kCounters; ++k) {
    EXPECT_EQ(Cmd({"GET", "ctr:" + std::to_string(k)}),
              std::to_string(kClients * kBatches * kRoundsPerBatch))
        << "ctr:" << k;
  }
  // total = sum over clients of (id + 1) * rounds.
  EXPECT_EQ(Cmd({"GET", "total"}),
            std::to_string(kClients * (kClients + 1) / 2 * kBatches * kRoundsPerBatch));
  // MSET is atomic: all keys hold the value of one and the same MSET.
  auto values = client_->Raw(
      {"MGET", "key:0", "key:1", "key:2", "key:3", "key:4", "key:5", "key:6", "key:7"});
  ASSERT_TRUE(values && values->elements == kKeys);
  std::set<std::string> distinct;
  for (size_t i = 0; i < values->elements; ++i) distinct.insert(FormatReply(values->element[i]));
  EXPECT_EQ(distinct.size(), 1u) << FormatReply(values.get());
  EXPECT_EQ(Cmd({"DBSIZE"}), ":" + std::to_string(kKeys + kCounters + 1));
}

TEST_F(ConcurrencyTest, FlushAllAndSwapDbDuringPipelinedWritesDoNotDeadlock) {
  constexpr int kWriters = 8, kRounds = 30;
  std::atomic<bool> stop{false};
  std::vector<std::future<int>> writers;
  for (int id = 0; id < kWriters; ++id) {
    writers.push_back(std::async(std::launch::async, [this, id] {
      Client c(port());
      int errors = 0;
      for (int r = 0; r < kRounds; ++r) {
        c.Append({"SELECT", std::to_string(r % 3)});
        for (int i = 0; i < 20; ++i) {
          c.Append({"INCR", "n:" + std::to_string((i + id) % 5)});
          c.Append({"MSET", "a", std::to_string(id), "b", std::to_string(r)});
        }
        for (int i = 0; i < 41; ++i) {
          std::string reply = c.GetReply();
          if (reply.empty() || (reply[0] != ':' && reply != "+OK")) ++errors;
        }
      }
      return errors;
    }));
  }
  auto admin = std::async(std::launch::async, [this, &stop] {
    Client c(port());
    int errors = 0;
    for (int i = 0; !stop.load(); ++i) {
      std::string r = i % 3 == 0   ? c.Cmd({"FLUSHALL"})
                      : i % 3 == 1 ? c.Cmd({"SWAPDB", "0", "1"})
                                   : c.Cmd({"FLUSHDB"});
      if (r != "+OK") ++errors;
    }
    return errors;
  });
  for (int e : JoinWithin(writers, 180s)) EXPECT_EQ(e, 0);
  stop = true;
  std::vector<std::future<int>> admins;
  admins.push_back(std::move(admin));
  for (int e : JoinWithin(admins, 60s)) EXPECT_EQ(e, 0);
  // Whatever survived the flushes is consistent: counters are small positive integers.
  for (int db = 0; db < 3; ++db) {
    ASSERT_EQ(Cmd({"SELECT", std::to_string(db)}), "+OK");
    for (int k = 0; k < 5; ++k) {
      std::string v = Cmd({"GET", "n:" + std::to_string(k)});
      if (v == "(nil)") continue;
      int64_t n = std::atoll(v.c_str());
      EXPECT_GT(n, 0) << v;
      EXPECT_LE(n, kWriters * kRounds * 20) << v;
    }
  }
  EXPECT_EQ(Cmd({"PING"}), "+PONG");
}

TEST_F(ConcurrencyTest, ConcurrentSetNxHasExactlyOneWinner) {
  constexpr int kClients = 20, kKeys = 50;
  std::vector<std::future<int>> futures;
  for (int id = 0; id < kClients; ++id) {
    futures.push_back(std::async(std::launch::async, [this, id] {
      Client c(port());
      int wins = 0;
      for (int k = 0; k < kKeys; ++k) {
        wins += c.Cmd({"SETNX", "lock:" + std::to_string(k), std::to_string(id)}) == ":1";
      }
      return wins;
    }));
  }
  auto wins = JoinWithin(futures, 120s);
  int total = 0;
  for (int w : wins) total += w;
  EXPECT_EQ(total, kKeys);
  EXPECT_EQ(Cmd({"DBSIZE"}), ":" + std::to_string(kKeys));
}

TEST_F(ConcurrencyTest, ConcurrentRenamesNeitherLoseNorDuplicateTheKey) {
  // Clients keep moving one value between two names; it must always exist exactly once.
  ASSERT_EQ(Cmd({"SET", "left", "payload"}), "+OK");
  constexpr int kClients = 8, kMoves = 200;
  std::vector<std::future<int>> futures;
  for (int id = 0; id < kClients; ++id) {
    futures.push_back(std::async(std::launch::async, [this, id] {
      Client c(port());
      int ok = 0;
      for (int i = 0; i < kMoves; ++i) {
        bool forward = (i + id) % 2 == 0;
        std::string r = c.Cmd({"RENAME", forward ? "left" : "right", forward ? "right" : "left"});
        if (r == "+OK") {
          ++ok;
        } else if (r != "-ERR no such key") {
          return -1;
        }
      }
      return ok;
    }));
  }
  auto oks = JoinWithin(futures, 120s);
  for (int ok : oks) EXPECT_GE(ok, 0);
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
  EXPECT_EQ(Cmd({"EXISTS", "left", "right"}), ":1");
  std::string v = Cmd({"GET", "left"}) == "(nil)" ? Cmd({"GET", "right"}) : Cmd({"GET", "left"});
  EXPECT_EQ(v, "payload");
}

}  // namespace
}  // namespace keel::server::test
