#include "server/exec_batch.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "datatypes/storage.h"
#include "datatypes/string.h"

namespace keel::server {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/keel-execbatch-test-XXXXXX";
    char* p = mkdtemp(tmpl);
    EXPECT_NE(p, nullptr);
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Everything the worker threads of a test touch; kept alive by them, so that a deadlocked
// test can detach its threads and fail instead of hanging.
struct Fixture {
  TempDir dir;
  std::unique_ptr<Storage> storage;
  Fixture() {
    StorageOptions o;
    o.dir = dir.path();
    o.fsync = FsyncPolicy::kNo;
    o.background = false;
    o.block_cache_bytes = 8u << 20;
    o.write_buffer_bytes = 4u << 20;
    auto opened = Storage::Open(std::move(o));
    EXPECT_TRUE(opened.ok()) << opened.status().detail();
    if (opened.ok()) storage = std::move(opened).value();
  }
  ~Fixture() { storage.reset(); }

  size_t Stripe(std::string_view key, int db = 0) {
    return storage->locks().StripeOf(storage->PhysicalDb(db), key);
  }
  std::optional<std::string> Read(std::string_view key, int db = 0) {
    KeyRecord rec;
    EXPECT_TRUE(storage->ReadKey(db, key, &rec).ok());
    if (!rec.exists) return std::nullopt;
    return std::string(rec.body());
  }
  // Whether another thread could take the stripe right now.
  bool StripeIsFree(size_t stripe) {
    return std::async(std::launch::async,
                      [&] {
                        if (!storage->locks().TryLockStripe(stripe)) return false;
                        storage->locks().UnlockStripe(stripe);
                        return true;
                      })
        .get();
  }
};

// SET key value as one write command of `batch`.
void SetIn(ExecBatch& batch, Fixture& f, std::string_view key, std::string_view value, int db = 0,
           bool fail = false) {
  auto txn = batch.BeginWrite(db, {f.Stripe(key, db)});
  ASSERT_TRUE(txn.ok());
  auto r = strings::Set(**txn, key, value, {});
  ASSERT_TRUE(r.ok());
  batch.EndCommand(fail);
}

class ExecBatchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(f_->storage, nullptr); }
  std::shared_ptr<Fixture> f_ = std::make_shared<Fixture>();
};

TEST_F(ExecBatchTest, SeveralCommandsThenCommitWriteEverythingInOneWrite) {
  uint64_t writes = f_->storage->stats().writes.load();
  ExecBatch batch(f_->storage.get());
  EXPECT_FALSE(batch.pending());
  SetIn(batch, *f_, "a", "1");
  SetIn(batch, *f_, "b", "2");
  SetIn(batch, *f_, "c", "3", /*db=*/4);
  // INCR on a key written earlier in the batch sees the pending value.
  {
    auto txn = batch.BeginWrite(0, {f_->Stripe("a")});
    ASSERT_TRUE(txn.ok());
    auto n = strings::IncrBy(**txn, "a", 10);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 11);
    batch.EndCommand(false);
  }
  EXPECT_TRUE(batch.pending());
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_FALSE(batch.pending());
  EXPECT_FALSE(batch.commit_failed());
  EXPECT_EQ(f_->storage->stats().writes.load(), writes + 1);
  EXPECT_EQ(f_->Read("a"), "11");
  EXPECT_EQ(f_->Read("b"), "2");
  EXPECT_EQ(f_->Read("c", 4), "3");
  EXPECT_EQ(f_->storage->KeyCount(0), 2);
  EXPECT_EQ(f_->storage->KeyCount(4), 1);
  // Locks are released by the commit.
  for (auto key : {"a", "b"}) EXPECT_TRUE(f_->StripeIsFree(f_->Stripe(key)));
}

TEST_F(ExecBatchTest, FailedCommandIsRolledBackAndTheOthersCommit) {
  ExecBatch batch(f_->storage.get());
  SetIn(batch, *f_, "ok1", "1");
  SetIn(batch, *f_, "bad", "x", 0, /*fail=*/true);
  {
    // A failing command that first overwrote a pending key.
    auto txn = batch.BeginWrite(0, {f_->Stripe("ok1"), f_->Stripe("bad2")});
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(strings::Set(**txn, "ok1", "clobbered", {}).ok());
    ASSERT_TRUE(strings::Set(**txn, "bad2", "x", {}).ok());
    batch.EndCommand(true);
  }
  SetIn(batch, *f_, "ok2", "2");
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_EQ(f_->Read("ok1"), "1");
  EXPECT_EQ(f_->Read("ok2"), "2");
  EXPECT_EQ(f_->Read("bad"), std::nullopt);
  EXPECT_EQ(f_->Read("bad2"), std::nullopt);
  EXPECT_EQ(f_->storage->KeyCount(0), 2);
}

TEST_F(ExecBatchTest, FirstCommandFailingLeavesNothingBehind) {
  ExecBatch batch(f_->storage.get());
  SetIn(batch, *f_, "bad", "x", 0, /*fail=*/true);
  SetIn(batch, *f_, "good", "y");
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_EQ(f_->Read("bad"), std::nullopt);
  EXPECT_EQ(f_->Read("good"), "y");
  EXPECT_EQ(f_->storage->KeyCount(0), 1);
}

TEST_F(ExecBatchTest, NothingIsVisibleToOtherReadersBeforeCommit) {
  ExecBatch batch(f_->storage.get());
  SetIn(batch, *f_, "k", "v");
  EXPECT_EQ(f_->Read("k"), std::nullopt);
  EXPECT_EQ(f_->storage->KeyCount(0), 0);
  // Another connection's read-modify-write of the key has to wait for the commit.
  EXPECT_FALSE(f_->StripeIsFree(f_->Stripe("k")));
  // The batch's own reads see the pending write.
  Txn* reader = batch.BeginRead(0);
  ASSERT_NE(reader, nullptr);
  auto v = strings::Get(*reader, "k");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "v");
  batch.EndCommand(false);
  EXPECT_EQ(f_->Read("k"), std::nullopt);
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_EQ(f_->Read("k"), "v");
}

TEST_F(ExecBatchTest, BeginReadWithoutPendingWritesReadsCommittedData) {
  ExecBatch batch(f_->storage.get());
  EXPECT_EQ(batch.BeginRead(0), nullptr);
  batch.EndCommand(false);  // harmless without a transaction
  EXPECT_FALSE(batch.pending());
  ASSERT_TRUE(batch.Commit().ok());
}

TEST_F(ExecBatchTest, DestroyingABatchWithoutCommitWritesNothingAndReleasesLocks) {
  uint64_t seq = f_->storage->db()->GetLatestSequenceNumber();
  {
    ExecBatch batch(f_->storage.get());
    SetIn(batch, *f_, "a", "1");
    SetIn(batch, *f_, "b", "2", 3);
  }
  EXPECT_EQ(f_->storage->db()->GetLatestSequenceNumber(), seq);
  EXPECT_EQ(f_->Read("a"), std::nullopt);
  EXPECT_EQ(f_->Read("b", 3), std::nullopt);
  EXPECT_EQ(f_->storage->KeyCount(0), 0);
  EXPECT_TRUE(f_->StripeIsFree(f_->Stripe("a")));
  EXPECT_TRUE(f_->StripeIsFree(f_->Stripe("b", 3)));
  // And the db guard: FLUSHDB (exclusive) does not block.
  ASSERT_TRUE(f_->storage->FlushDb(0).ok());
}

TEST_F(ExecBatchTest, FlushDbWaitsForAPendingBatch) {
  auto batch = std::make_unique<ExecBatch>(f_->storage.get());
  SetIn(*batch, *f_, "k", "v");
  auto flush = std::async(std::launch::async, [f = f_] { return f->storage->FlushDb(0).ok(); });
  EXPECT_EQ(flush.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  ASSERT_TRUE(batch->Commit().ok());
  ASSERT_EQ(flush.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(flush.get());
  EXPECT_EQ(f_->Read("k"), std::nullopt);  // the flush ran after the commit
  EXPECT_EQ(f_->storage->KeyCount(0), 0);
}

TEST_F(ExecBatchTest, FullBatchCommitsEarly) {
  ExecBatch batch(f_->storage.get());
  size_t i = 0;
  for (; !batch.full(); ++i) {
    SetIn(batch, *f_, "k" + std::to_string(i), "v");
    ASSERT_LT(i, ExecBatch::kMaxPendingWrites + 10);
  }
  EXPECT_EQ(f_->Read("k0"), std::nullopt);
  SetIn(batch, *f_, "last", "v");  // commits the full batch first
  EXPECT_EQ(f_->Read("k0"), "v");
  EXPECT_EQ(f_->Read("last"), std::nullopt);
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_EQ(f_->Read("last"), "v");
  EXPECT_EQ(f_->storage->KeyCount(0), static_cast<int64_t>(i + 1));
}

TEST_F(ExecBatchTest, GrowingTheLockSetOntoABusyStripeCommitsFirst) {
  // This thread holds stripe B; a batch holding A with a pending write now needs B.
  std::string a = "a", b = "b";
  while (f_->Stripe(b) == f_->Stripe(a)) b += "b";
  f_->storage->locks().LockStripe(f_->Stripe(b));
  std::promise<void> first_done, go;
  std::thread connection([&, go_future = go.get_future()]() mutable {
    ExecBatch batch(f_->storage.get());  // used on this thread only
    SetIn(batch, *f_, a, "1");
    first_done.set_value();
    go_future.wait();
    SetIn(batch, *f_, b, "2");  // blocks on B after committing "a"
    EXPECT_TRUE(batch.Commit().ok());
  });
  first_done.get_future().wait();
  EXPECT_EQ(f_->Read(a), std::nullopt);
  go.set_value();
  // Before blocking on B the batch commits its pending write and releases A.
  for (int i = 0; i < 1000 && !f_->Read(a).has_value(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(f_->Read(a), "1");
  EXPECT_TRUE(f_->StripeIsFree(f_->Stripe(a)));
  EXPECT_EQ(f_->Read(b), std::nullopt);
  f_->storage->locks().UnlockStripe(f_->Stripe(b));
  connection.join();
  EXPECT_EQ(f_->Read(b), "2");
}

// Two connections whose pipelines take overlapping keys in opposite orders.
TEST_F(ExecBatchTest, TwoBatchesLockingOverlappingStripesInOppositeOrdersBothComplete) {
  std::string x = "x", y = "y";
  while (f_->Stripe(y) == f_->Stripe(x)) y += "y";
  struct Shared {
    std::atomic<int> arrived{0};
    std::atomic<int> done{0};
  };
  auto shared = std::make_shared<Shared>();
  auto run = [f = f_, shared](std::string first, std::string second, std::string tag) {
    ExecBatch batch(f->storage.get());
    SetIn(batch, *f, first, tag + "-first");
    // Both hold their first stripe before either asks for its second.
    shared->arrived.fetch_add(1);
    while (shared->arrived.load() < 2) std::this_thread::yield();
    SetIn(batch, *f, second, tag + "-second");
    EXPECT_TRUE(batch.Commit().ok());
    shared->done.fetch_add(1);
  };
  std::thread t1(run, x, y, "t1");
  std::thread t2(run, y, x, "t2");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (shared->done.load() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (shared->done.load() < 2) {
    t1.detach();  // the fixture and counters stay alive through the threads' copies
    t2.detach();
    FAIL() << "two ExecBatches deadlocked";
  }
  t1.join();
  t2.join();
  // Every write was committed; each key holds one of the two writers' values.
  auto vx = f_->Read(x), vy = f_->Read(y);
  ASSERT_TRUE(vx.has_value());
  ASSERT_TRUE(vy.has_value());
  EXPECT_TRUE(*vx == "t1-first" || *vx == "t2-second") << *vx;
  EXPECT_TRUE(*vy == "t2-first" || *vy == "t1-second") << *vy;
  EXPECT_EQ(f_->storage->KeyCount(0), 2);
}

TEST_F(ExecBatchTest, ManyBatchesWithRandomOverlappingKeysNeverDeadlockOrLoseIncrements) {
  constexpr int kThreads = 4, kRounds = 300, kKeys = 8;
  struct Shared {
    std::atomic<int> done{0};
  };
  auto shared = std::make_shared<Shared>();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([f = f_, shared, t] {
      std::mt19937 rng(static_cast<unsigned>(t) + 100);
      ExecBatch batch(f->storage.get());
      for (int round = 0; round < kRounds; ++round) {
        // A pipeline of 1-4 INCRs, some of them multi-key commands.
        int commands = 1 + static_cast<int>(rng() % 4);
        for (int c = 0; c < commands; ++c) {
          std::string k1 = "n" + std::to_string(rng() % kKeys);
          std::string k2 = "n" + std::to_string(rng() % kKeys);
          auto txn = batch.BeginWrite(0, {f->Stripe(k1), f->Stripe(k2)});
          ASSERT_TRUE(txn.ok());
          ASSERT_TRUE(strings::IncrBy(**txn, k1, 1).ok());
          ASSERT_TRUE(strings::IncrBy(**txn, k2, 1).ok());
          batch.EndCommand(false);
        }
        ASSERT_TRUE(batch.Commit().ok());
      }
      shared->done.fetch_add(1);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (shared->done.load() < kThreads && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (shared->done.load() < kThreads) {
    for (auto& th : threads) th.detach();
    FAIL() << "ExecBatches deadlocked: " << shared->done.load() << " of " << kThreads << " done";
  }
  for (auto& th : threads) th.join();
  // Each command adds exactly 2 in total; count what the threads did from the same seeds.
  int64_t expected = 0;
  for (int t = 0; t < kThreads; ++t) {
    std::mt19937 rng(static_cast<unsigned>(t) + 100);
    for (int round = 0; round < kRounds; ++round) {
      int commands = 1 + static_cast<int>(rng() % 4);
      for (int c = 0; c < commands; ++c) {
        (void)rng();
        (void)rng();
        expected += 2;
      }
    }
  }
  int64_t total = 0;
  for (int k = 0; k < kKeys; ++k) {
    auto v = f_->Read("n" + std::to_string(k));
    if (v) total += std::stoll(*v);
  }
  EXPECT_EQ(total, expected);
}

}  // namespace
}  // namespace keel::server
