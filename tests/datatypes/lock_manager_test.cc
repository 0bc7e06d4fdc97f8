#include "datatypes/lock_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace keel {
namespace {

// std::mutex::try_lock from the owning thread is undefined, so probes run on another thread.
bool StripeIsFree(LockManager& locks, size_t stripe) {
  return std::async(std::launch::async,
                    [&] {
                      if (!locks.TryLockStripe(stripe)) return false;
                      locks.UnlockStripe(stripe);
                      return true;
                    })
      .get();
}

TEST(LockManagerTest, StripeOfIsDeterministicAndInRange) {
  LockManager locks(64);
  std::set<size_t> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string key = "key:" + std::to_string(i);
    size_t s = locks.StripeOf(0, key);
    EXPECT_LT(s, 64u);
    EXPECT_EQ(s, locks.StripeOf(0, key));
    seen.insert(s);
  }
  EXPECT_GT(seen.size(), 32u);  // keys spread over the stripes
  // The db takes part in the hash: the same name in other dbs does not always collide.
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    std::string key = "key:" + std::to_string(i);
    differ += locks.StripeOf(0, key) != locks.StripeOf(1, key);
  }
  EXPECT_GT(differ, 50);
}

TEST(LockManagerTest, LockHoldsEveryStripeOfTheSetUntilTheGuardDies) {
  LockManager locks(16);
  {
    auto guard = locks.Lock({9, 3, 9, 12, 3});  // unsorted, with duplicates
    EXPECT_FALSE(StripeIsFree(locks, 3));
    EXPECT_FALSE(StripeIsFree(locks, 9));
    EXPECT_FALSE(StripeIsFree(locks, 12));
    EXPECT_TRUE(StripeIsFree(locks, 4));
  }
  for (size_t s : {3, 9, 12}) EXPECT_TRUE(StripeIsFree(locks, s));
}

TEST(LockManagerTest, GuardReleaseAndMoveUnlockExactlyOnce) {
  LockManager locks(16);
  auto a = locks.Lock({1, 2});
  LockManager::Guard b(std::move(a));
  a.Release();  // moved-from: nothing to release
  EXPECT_FALSE(StripeIsFree(locks, 1));

  std::string key = "x";
  while (locks.StripeOf(0, key) == 1 || locks.StripeOf(0, key) == 2) key += "x";
  LockManager::Guard c = locks.LockKey(0, key);
  size_t x = locks.StripeOf(0, key);
  c = std::move(b);  // releases c's own stripe, takes over b's
  EXPECT_TRUE(StripeIsFree(locks, x));
  EXPECT_FALSE(StripeIsFree(locks, 2));
  c.Release();
  EXPECT_TRUE(StripeIsFree(locks, 1));
  EXPECT_TRUE(StripeIsFree(locks, 2));
  c.Release();  // idempotent
  LockManager::Guard empty;
  empty.Release();
}

TEST(LockManagerTest, TryLockStripeFailsWhileHeldElsewhereAndSucceedsWhenFree) {
  LockManager locks(8);
  EXPECT_TRUE(locks.TryLockStripe(5));
  EXPECT_FALSE(StripeIsFree(locks, 5));
  EXPECT_TRUE(StripeIsFree(locks, 6));
  locks.UnlockStripe(5);
  EXPECT_TRUE(StripeIsFree(locks, 5));

  // Raw stripes and guards share the same mutexes.
  locks.LockStripe(2);
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    auto g = locks.Lock({2});
    acquired = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(acquired.load());
  locks.UnlockStripe(2);
  waiter.join();
  EXPECT_TRUE(acquired.load());
}

// Shared by the worker threads; leaked (with the threads detached) if they deadlock, so that a
// failure is reported instead of hanging the suite.
struct Contention {
  explicit Contention(size_t stripes) : locks(stripes), owners(stripes), counters(stripes) {}
  LockManager locks;
  std::vector<std::atomic<int>> owners;  // threads inside each stripe's critical section
  std::vector<uint64_t> counters;        // plain: protected by the stripe locks only
  std::atomic<int> done{0};
  std::atomic<bool> exclusion_violated{false};
};

TEST(LockManagerTest, OverlappingSetsLockedInDifferentOrdersFromManyThreadsNeverDeadlock) {
  constexpr size_t kStripes = 12;
  constexpr int kThreads = 8, kIterations = 3000;
  auto state = std::make_shared<Contention>(kStripes);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([state, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
      for (int i = 0; i < kIterations; ++i) {
        std::vector<size_t> set(kStripes);
        std::iota(set.begin(), set.end(), 0);
        std::shuffle(set.begin(), set.end(), rng);
        set.resize(1 + rng() % 5);
        if (rng() % 4 == 0) set.push_back(set.front());  // duplicates are allowed
        // Reverse or keep the random order: callers name keys in any order.
        if (rng() % 2) std::reverse(set.begin(), set.end());
        auto guard = state->locks.Lock(set);
        std::set<size_t> unique(set.begin(), set.end());
        for (size_t s : unique) {
          if (state->owners[s].fetch_add(1) != 0) state->exclusion_violated = true;
          ++state->counters[s];
        }
        if (i % 64 == 0) std::this_thread::yield();
        for (size_t s : unique) state->owners[s].fetch_sub(1);
      }
      state->done.fetch_add(1);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (state->done.load() < kThreads && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (state->done.load() < kThreads) {
    for (auto& th : threads) th.detach();  // `state` stays alive through their copies
    FAIL() << "lock acquisition deadlocked: " << state->done.load() << " of " << kThreads
           << " threads finished";
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(state->exclusion_violated.load());
}

}  // namespace
}  // namespace keel
