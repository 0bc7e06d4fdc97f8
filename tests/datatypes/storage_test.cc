#include "datatypes/storage.h"
#include "tests/datatypes/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <rocksdb/options.h>

namespace keel {
namespace {

constexpr uint64_t kStartMs = 1'700'000'000'000;

using test::TempDir;

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { storage_.reset(); }

  void Open() {
    StorageOptions o;
    o.dir = dir_.path();
    o.fsync = fsync_;
    o.databases = databases_;
    o.block_cache_bytes = 8u << 20;
    o.write_buffer_bytes = 4u << 20;
    o.clock = [clock = clock_] { return clock->load(); };
    o.background = false;
    auto opened = Storage::Open(std::move(o));
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(opened).value();
  }
  void Reopen() {
    storage_.reset();
    Open();
  }
  void Advance(uint64_t ms) { clock_->fetch_add(ms); }
  uint64_t Now() const { return clock_->load(); }

  // One write command in its own transaction.
  void Set(int db, std::string_view key, std::string_view value, uint64_t expire_at_ms = 0) {
    Txn txn(storage_.get(), db);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load(key, &rec).ok());
    Metadata meta;
    meta.expire_at_ms = expire_at_ms;
    txn.Store(key, &rec, meta, value);
    ASSERT_TRUE(txn.Commit().ok());
  }
  bool Del(int db, std::string_view key) {
    Txn txn(storage_.get(), db);
    KeyRecord rec;
    EXPECT_TRUE(txn.Load(key, &rec).ok());
    bool existed = rec.exists;
    txn.Remove(key, &rec);
    EXPECT_TRUE(txn.Commit().ok());
    return existed;
  }
  std::optional<std::string> Get(int db, std::string_view key) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(db, key, &rec).ok());
    if (!rec.exists) return std::nullopt;
    return std::string(rec.body());
  }
  // Whether the metadata record is physically present (expired or not).
  bool RawPresent(int db, std::string_view key) {
    std::string value;
    return storage_->db()
        ->Get(rocksdb::ReadOptions(), storage_->meta_cf(), MetaKey(storage_->PhysicalDb(db), key),
              &value)
        .ok();
  }
  size_t CountRecords(rocksdb::ColumnFamilyHandle* cf) {
    std::unique_ptr<rocksdb::Iterator> it(storage_->db()->NewIterator(rocksdb::ReadOptions(), cf));
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }
  // Writes a compound key of type kHash with `fields` elements "f<i>" -> "v<i>"; returns its
  // version.
  uint64_t WriteHash(int db, std::string_view key, int fields, uint64_t expire_at_ms = 0) {
    Txn txn(storage_.get(), db);
    KeyRecord rec;
    EXPECT_TRUE(txn.Load(key, &rec).ok());
    Metadata meta;
    meta.type = ValueType::kHash;
    meta.expire_at_ms = expire_at_ms;
    meta.version = txn.NewVersion();
    meta.size = static_cast<uint64_t>(fields);
    txn.Store(key, &rec, meta, "");
    for (int i = 0; i < fields; ++i) {
      txn.PutSub(key, meta.version, "f" + std::to_string(i), "v" + std::to_string(i));
    }
    EXPECT_TRUE(txn.Commit().ok());
    return meta.version;
  }
  // The sub-keys of one incarnation of a compound key, as stored.
  std::map<std::string, std::string> Elements(int db, std::string_view key, uint64_t version) {
    std::map<std::string, std::string> out;
    std::string prefix = SubKeyPrefix(storage_->PhysicalDb(db), key, version);
    std::unique_ptr<rocksdb::Iterator> it(
        storage_->db()->NewIterator(rocksdb::ReadOptions(), storage_->sub_cf()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      out.emplace(it->key().ToString().substr(prefix.size()), it->value().ToString());
    }
    return out;
  }
  void CompactSubkeys() {
    rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    ASSERT_TRUE(storage_->db()->CompactRange(o, storage_->sub_cf(), nullptr, nullptr).ok());
  }

  TempDir dir_;
  std::shared_ptr<std::atomic<uint64_t>> clock_ = std::make_shared<std::atomic<uint64_t>>(kStartMs);
  FsyncPolicy fsync_ = FsyncPolicy::kNo;
  int databases_ = 16;
  std::unique_ptr<Storage> storage_;
};

// ------------------------------------------------------------------ options

TEST(StorageOpenTest, RejectsDatabaseCountsOutsideOneTo256) {
  TempDir dir;
  for (int n : {0, -1, 257}) {
    StorageOptions o;
    o.dir = dir.path();
    o.databases = n;
    o.background = false;
    auto r = Storage::Open(std::move(o));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Code::kInvalidArgument);
  }
}

TEST(StorageOpenTest, FsyncPolicyNamesRoundTrip) {
  for (FsyncPolicy p : {FsyncPolicy::kAlways, FsyncPolicy::kEverySec, FsyncPolicy::kNo}) {
    EXPECT_EQ(ParseFsyncPolicy(FsyncPolicyName(p)), p);
  }
  EXPECT_EQ(ParseFsyncPolicy("EverySec"), FsyncPolicy::kEverySec);
  EXPECT_FALSE(ParseFsyncPolicy("sometimes").has_value());
  EXPECT_FALSE(ParseFsyncPolicy("").has_value());
}

// ------------------------------------------------------------------ Txn basics

TEST_F(StorageTest, StoredKeyIsInvisibleToOthersUntilCommit) {
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("k", &rec).ok());
  EXPECT_FALSE(rec.exists);
  Metadata meta;
  txn.Store("k", &rec, meta, "v1");
  EXPECT_TRUE(rec.exists);
  EXPECT_EQ(txn.pending_writes(), 1u);
  EXPECT_GT(txn.pending_bytes(), 0u);

  // The transaction reads its own write; nobody else does.
  KeyRecord again;
  ASSERT_TRUE(txn.Load("k", &again).ok());
  EXPECT_TRUE(again.exists);
  EXPECT_EQ(again.body(), "v1");
  EXPECT_EQ(Get(0, "k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);

  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Get(0, "k"), "v1");
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(txn.pending_writes(), 0u);
}

TEST_F(StorageTest, DestroyedTxnWritesNothing) {
  uint64_t seq = storage_->db()->GetLatestSequenceNumber();
  {
    Txn txn(storage_.get(), 0);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("k", &rec).ok());
    txn.Store("k", &rec, Metadata{}, "v");
    txn.PutSub("k", 1, "f", "v");
  }
  EXPECT_EQ(storage_->db()->GetLatestSequenceNumber(), seq);
  EXPECT_EQ(Get(0, "k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

TEST_F(StorageTest, RemoveDeletesTheKeyOnCommit) {
  Set(0, "k", "v");
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("k", &rec).ok());
  ASSERT_TRUE(rec.exists);
  txn.Remove("k", &rec);
  EXPECT_FALSE(rec.exists);
  KeyRecord again;
  ASSERT_TRUE(txn.Load("k", &again).ok());
  EXPECT_FALSE(again.exists);
  EXPECT_EQ(Get(0, "k"), "v");
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Get(0, "k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  // Removing an absent key is a no-op.
  Txn txn2(storage_.get(), 0);
  txn2.Remove("k", &again);
  EXPECT_EQ(txn2.pending_writes(), 0u);
}

TEST_F(StorageTest, KeysOfDifferentDbsAreIndependent) {
  Set(0, "k", "zero");
  Set(1, "k", "one");
  EXPECT_EQ(Get(0, "k"), "zero");
  EXPECT_EQ(Get(1, "k"), "one");
  EXPECT_EQ(Get(2, "k"), std::nullopt);
  // LoadIn reaches another physical db from the same transaction.
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.LoadIn(storage_->PhysicalDb(1), "k", &rec).ok());
  ASSERT_TRUE(rec.exists);
  EXPECT_EQ(rec.body(), "one");
}

TEST_F(StorageTest, CommitOfAnEmptyTxnSucceedsWithoutWriting) {
  uint64_t writes = storage_->stats().writes.load();
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("absent", &rec).ok());
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(storage_->stats().writes.load(), writes);
}

// ------------------------------------------------------------------ counters

TEST_F(StorageTest, KeyAndExpiresCountsStayExactAcrossSetOverwriteDeleteAndReopen) {
  const uint64_t later = Now() + 100'000;
  Set(0, "a", "1");
  Set(0, "b", "2", later);
  Set(0, "c", "3", later + 1);
  Set(1, "a", "x", later);
  EXPECT_EQ(storage_->KeyCount(0), 3);
  EXPECT_EQ(storage_->ExpiresCount(0), 2);
  EXPECT_EQ(storage_->KeyCount(1), 1);
  EXPECT_EQ(storage_->ExpiresCount(1), 1);

  Set(0, "a", "1b", later);      // gains a TTL
  Set(0, "b", "2b");             // loses its TTL
  Set(0, "c", "3b", later + 5);  // TTL changes
  EXPECT_EQ(storage_->KeyCount(0), 3);
  EXPECT_EQ(storage_->ExpiresCount(0), 2);

  EXPECT_TRUE(Del(0, "a"));
  EXPECT_FALSE(Del(0, "never"));
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);

  Reopen();
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
  EXPECT_EQ(storage_->KeyCount(1), 1);
  EXPECT_EQ(storage_->ExpiresCount(1), 1);
  // The expiry index holds exactly one entry per key with a TTL.
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 2u);
  EXPECT_EQ(CountRecords(storage_->meta_cf()), 3u);
}

TEST_F(StorageTest, CountersStayExactWhenOneTxnTouchesAKeyRepeatedly) {
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("k", &rec).ok());
  Metadata meta;
  meta.expire_at_ms = Now() + 10'000;
  txn.Store("k", &rec, meta, "1");
  meta.expire_at_ms = Now() + 20'000;
  txn.Store("k", &rec, meta, "2");
  txn.Remove("k", &rec);
  meta.expire_at_ms = 0;
  txn.Store("k", &rec, meta, "3");
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 0u);
  Reopen();
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StorageTest, CountersStayExactUnderConcurrentWriters) {
  constexpr int kThreads = 4, kKeys = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kKeys; ++i) {
        // Overlapping key names between threads so that stripes really contend.
        std::string key = "k" + std::to_string((i * 7 + t) % kKeys);
        std::shared_lock<SharedGate> g(storage_->db_guard());
        auto lock = storage_->locks().LockKey(storage_->PhysicalDb(0), key);
        Txn txn(storage_.get(), 0);
        KeyRecord rec;
        ASSERT_TRUE(txn.Load(key, &rec).ok());
        if (rec.exists && (i + t) % 3 == 0) {
          txn.Remove(key, &rec);
        } else {
          Metadata meta;
          meta.expire_at_ms = (i % 2 == 0) ? Now() + 1'000'000 : 0;
          txn.Store(key, &rec, meta, "v");
        }
        ASSERT_TRUE(txn.Commit().ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  int64_t keys = static_cast<int64_t>(CountRecords(storage_->meta_cf()));
  int64_t exps = static_cast<int64_t>(CountRecords(storage_->expiry_cf()));
  EXPECT_EQ(storage_->KeyCount(0), keys);
  EXPECT_EQ(storage_->ExpiresCount(0), exps);
  Reopen();
  EXPECT_EQ(storage_->KeyCount(0), keys);
  EXPECT_EQ(storage_->ExpiresCount(0), exps);
}

TEST_F(StorageTest, CountersStayExactWhileTheExpiryCycleRacesWithWriters) {
  constexpr int kWriters = 3, kOps = 600, kKeys = 40;
  std::atomic<uint64_t> hook_calls{0};
  storage_->set_expired_hook([&](int, std::string_view) { hook_calls.fetch_add(1); });
  uint64_t expired_before = storage_->stats().expired_keys.load();
  std::atomic<bool> stop{false};
  std::thread expirer([&] {
    while (!stop.load()) storage_->RunExpiryCycle(50);
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([this, w] {
      std::mt19937 rng(static_cast<unsigned>(w) + 1);
      for (int i = 0; i < kOps; ++i) {
        std::string key = "k" + std::to_string(rng() % kKeys);
        if (i % 4 == 0) Advance(1);
        if (rng() % 5 == 0) {  // a reader finding expired keys queues them
          KeyRecord rec;
          ASSERT_TRUE(storage_->ReadKey(0, key, &rec).ok());
          continue;
        }
        std::shared_lock<SharedGate> g(storage_->db_guard());
        auto lock = storage_->locks().LockKey(storage_->PhysicalDb(0), key);
        Txn txn(storage_.get(), 0);
        KeyRecord rec;
        ASSERT_TRUE(txn.Load(key, &rec).ok());
        switch (rng() % 3) {
          case 0:
            txn.Remove(key, &rec);
            break;
          case 1: {
            Metadata meta;
            meta.expire_at_ms = Now() + 1 + rng() % 10;
            txn.Store(key, &rec, meta, "ttl");
            break;
          }
          default:
            txn.Store(key, &rec, Metadata{}, "plain");
        }
        ASSERT_TRUE(txn.Commit().ok());
      }
    });
  }
  for (auto& th : writers) th.join();
  stop = true;
  expirer.join();
  Advance(1000);
  while (storage_->RunExpiryCycle(1000) != 0) {
  }
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 0u);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  EXPECT_EQ(storage_->KeyCount(0), static_cast<int64_t>(CountRecords(storage_->meta_cf())));
  EXPECT_EQ(storage_->stats().expired_keys.load() - expired_before, hook_calls.load());
  EXPECT_GT(hook_calls.load(), 0u);
  int64_t keys = storage_->KeyCount(0);
  Reopen();
  EXPECT_EQ(storage_->KeyCount(0), keys);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

// ------------------------------------------------------------------ expiry

TEST_F(StorageTest, ExpiredKeyReadsAsAbsentImmediately) {
  Set(0, "k", "v", Now() + 1000);
  EXPECT_EQ(Get(0, "k"), "v");
  Advance(999);
  EXPECT_EQ(Get(0, "k"), "v");
  Advance(1);  // expire_at is inclusive
  EXPECT_EQ(Get(0, "k"), std::nullopt);
  {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("k", &rec).ok());
    EXPECT_FALSE(rec.exists);
  }
  {
    Txn txn(storage_.get(), 0, TxnMode::kWrite);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("k", &rec).ok());
    EXPECT_FALSE(rec.exists);
  }
  // Lazily: still physically present and counted until something deletes it.
  EXPECT_TRUE(RawPresent(0, "k"));
  EXPECT_EQ(storage_->KeyCount(0), 1);
}

TEST_F(StorageTest, ExpiryCycleDeletesDueKeysCountsThemAndFiresTheHook) {
  std::vector<std::pair<int, std::string>> fired;
  storage_->set_expired_hook(
      [&](int db, std::string_view key) { fired.emplace_back(db, std::string(key)); });
  Set(3, "soon1", "v", Now() + 100);
  Set(3, "soon2", "v", Now() + 200);
  Set(3, "later", "v", Now() + 10'000);
  Set(3, "forever", "v");
  EXPECT_EQ(storage_->KeyCount(3), 4);
  EXPECT_EQ(storage_->ExpiresCount(3), 3);

  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);  // nothing due yet
  Advance(200);
  uint64_t before = storage_->stats().expired_keys.load();
  EXPECT_EQ(storage_->RunExpiryCycle(100), 2u);
  EXPECT_EQ(storage_->stats().expired_keys.load(), before + 2);
  EXPECT_EQ(storage_->KeyCount(3), 2);
  EXPECT_EQ(storage_->ExpiresCount(3), 1);
  EXPECT_FALSE(RawPresent(3, "soon1"));
  EXPECT_FALSE(RawPresent(3, "soon2"));
  EXPECT_EQ(Get(3, "later"), "v");
  std::sort(fired.begin(), fired.end());
  EXPECT_EQ(fired, (std::vector<std::pair<int, std::string>>{{3, "soon1"}, {3, "soon2"}}));
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 1u);

  Reopen();
  EXPECT_EQ(storage_->KeyCount(3), 2);
  EXPECT_EQ(storage_->ExpiresCount(3), 1);
}

TEST_F(StorageTest, ExpiryCycleExaminesAtMostMaxKeysIndexEntries) {
  for (int i = 0; i < 10; ++i) Set(0, "k" + std::to_string(i), "v", Now() + 10);
  Advance(10);
  EXPECT_EQ(storage_->RunExpiryCycle(3), 3u);
  EXPECT_EQ(storage_->KeyCount(0), 7);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 7u);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StorageTest, KeyFoundExpiredOnReadIsDeletedByTheNextCycle) {
  Set(0, "k", "v", Now() + 10);
  Advance(10);
  EXPECT_EQ(Get(0, "k"), std::nullopt);
  // Even a cycle that examines no index entries deletes keys queued by reads.
  EXPECT_EQ(storage_->RunExpiryCycle(0), 1u);
  EXPECT_FALSE(RawPresent(0, "k"));
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 0u);
}

TEST_F(StorageTest, KeyQueuedAsExpiredButRewrittenBeforeTheCycleSurvives) {
  Set(0, "k", "old", Now() + 10);
  Advance(10);
  EXPECT_EQ(Get(0, "k"), std::nullopt);  // queued for deletion
  Set(0, "k", "new");                    // rewritten without a TTL
  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);
  EXPECT_EQ(Get(0, "k"), "new");
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StorageTest, WriteTxnDeletesAnExpiredKeyItLoadsAndReportsItOnCommit) {
  std::vector<std::pair<int, std::string>> fired;
  storage_->set_expired_hook(
      [&](int db, std::string_view key) { fired.emplace_back(db, std::string(key)); });
  Set(2, "k", "v", Now() + 10);
  Advance(10);
  uint64_t before = storage_->stats().expired_keys.load();
  Txn txn(storage_.get(), 2);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("k", &rec).ok());
  EXPECT_FALSE(rec.exists);
  EXPECT_TRUE(fired.empty());  // not before commit
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_FALSE(RawPresent(2, "k"));
  EXPECT_EQ(storage_->KeyCount(2), 0);
  EXPECT_EQ(storage_->ExpiresCount(2), 0);
  EXPECT_EQ(storage_->stats().expired_keys.load(), before + 1);
  EXPECT_EQ(fired, (std::vector<std::pair<int, std::string>>{{2, "k"}}));
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 0u);
}

TEST_F(StorageTest, ExpiredKeyOverwrittenInOneTxnIsCountedOnce) {
  Set(0, "k", "v", Now() + 10);
  Advance(10);
  Set(0, "k", "fresh");
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);
  EXPECT_EQ(Get(0, "k"), "fresh");
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 0u);
}

TEST_F(StorageTest, KeyWhoseTtlWasChangedIsNotDeletedAtItsOldTime) {
  const uint64_t t1 = Now() + 100, t2 = Now() + 500;
  Set(0, "changed", "v", t1);
  Set(0, "changed", "v", t2);
  Set(0, "persisted", "v", t1);
  Set(0, "persisted", "v");
  Advance(100);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);
  EXPECT_EQ(Get(0, "changed"), "v");
  EXPECT_EQ(Get(0, "persisted"), "v");
  Advance(400);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 1u);
  EXPECT_EQ(Get(0, "changed"), std::nullopt);
  EXPECT_EQ(Get(0, "persisted"), "v");
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StorageTest, StaleExpiryIndexEntryIsDroppedWithoutDeletingTheKey) {
  // Index entries that no longer match the key's metadata (as left behind by FLUSHDB) must
  // neither delete the key nor touch the counters.
  const uint64_t stale = Now() + 50, real = Now() + 1000;
  Set(0, "no-ttl", "v");
  Set(0, "other-ttl", "v", real);
  Set(0, "gone", "v");
  ASSERT_TRUE(Del(0, "gone"));
  uint8_t db = storage_->PhysicalDb(0);
  for (const char* k : {"no-ttl", "other-ttl", "gone"}) {
    ASSERT_TRUE(
        storage_->db()
            ->Put(rocksdb::WriteOptions(), storage_->expiry_cf(), ExpiryKey(stale, db, k), "")
            .ok());
  }
  Advance(50);
  uint64_t before = storage_->stats().expired_keys.load();
  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);
  EXPECT_EQ(storage_->stats().expired_keys.load(), before);
  EXPECT_EQ(Get(0, "no-ttl"), "v");
  EXPECT_EQ(Get(0, "other-ttl"), "v");
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 1u);  // only the real entry is left
  Advance(950);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 1u);
  EXPECT_EQ(Get(0, "other-ttl"), std::nullopt);
}

TEST_F(StorageTest, KeyRecreatedAfterFlushDbSurvivesTheFlushedKeysExpiryTime) {
  Set(0, "k", "old", Now() + 100);
  ASSERT_TRUE(storage_->FlushDb(0).ok());
  Set(0, "k", "new");
  Set(0, "k2", "new", Now() + 5000);
  Advance(100);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);
  EXPECT_EQ(Get(0, "k"), "new");
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
}

// ------------------------------------------------------------------ whole-db operations

TEST_F(StorageTest, FlushDbTouchesOnlyItsDb) {
  for (int i = 0; i < 200; ++i) {
    std::string k = "key:" + std::to_string(i);
    Set(0, k, "zero");
    Set(1, k, "one", i % 2 ? Now() + 100'000 : 0);
    Set(2, k, "two");
  }
  uint64_t v0 = WriteHash(0, "h", 5);
  uint64_t v1 = WriteHash(1, "h", 5);
  ASSERT_TRUE(storage_->FlushDb(1).ok());
  EXPECT_EQ(storage_->KeyCount(1), 0);
  EXPECT_EQ(storage_->ExpiresCount(1), 0);
  EXPECT_EQ(storage_->KeyCount(0), 201);
  EXPECT_EQ(storage_->KeyCount(2), 200);
  for (int i = 0; i < 200; ++i) {
    std::string k = "key:" + std::to_string(i);
    ASSERT_EQ(Get(0, k), "zero");
    ASSERT_EQ(Get(1, k), std::nullopt);
    ASSERT_EQ(Get(2, k), "two");
  }
  EXPECT_EQ(Elements(0, "h", v0).size(), 5u);
  EXPECT_TRUE(Elements(1, "h", v1).empty());
  Reopen();
  EXPECT_EQ(storage_->KeyCount(1), 0);
  EXPECT_EQ(storage_->ExpiresCount(1), 0);
  EXPECT_EQ(storage_->KeyCount(0), 201);
  EXPECT_EQ(Get(2, "key:7"), "two");
}

TEST(StorageFlushEdgeTest, FlushDbOfTheLastDbKeepsTheNextSlotsOfDbZero) {
  // db 255 of slot s is followed directly by db 0 of slot s+1 in key order.
  TempDir dir;
  StorageOptions o;
  o.dir = dir.path();
  o.databases = 256;
  o.background = false;
  o.block_cache_bytes = 8u << 20;
  o.write_buffer_bytes = 4u << 20;
  auto opened = Storage::Open(std::move(o));
  ASSERT_TRUE(opened.ok());
  auto& s = *opened;
  auto set = [&](int db, const std::string& key) {
    Txn txn(s.get(), db);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load(key, &rec).ok());
    txn.Store(key, &rec, Metadata{}, "v");
    ASSERT_TRUE(txn.Commit().ok());
  };
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back("k" + std::to_string(i));
  for (const auto& k : keys) {
    set(254, k);
    set(255, k);
    set(0, k);
  }
  ASSERT_TRUE(s->FlushDb(255).ok());
  for (const auto& k : keys) {
    KeyRecord rec;
    ASSERT_TRUE(s->ReadKey(0, k, &rec).ok());
    EXPECT_TRUE(rec.exists) << k;
    ASSERT_TRUE(s->ReadKey(254, k, &rec).ok());
    EXPECT_TRUE(rec.exists) << k;
    ASSERT_TRUE(s->ReadKey(255, k, &rec).ok());
    EXPECT_FALSE(rec.exists) << k;
  }
  EXPECT_EQ(s->KeyCount(0), 300);
  EXPECT_EQ(s->KeyCount(254), 300);
  EXPECT_EQ(s->KeyCount(255), 0);
}

TEST_F(StorageTest, FlushAllEmptiesEveryDbAndItsIndexes) {
  for (int db = 0; db < 16; db += 5) {
    Set(db, "a", "v");
    Set(db, "b", "v", Now() + 1000);
    WriteHash(db, "h", 3);
  }
  ASSERT_TRUE(storage_->FlushAll().ok());
  for (int db = 0; db < 16; ++db) {
    EXPECT_EQ(storage_->KeyCount(db), 0);
    EXPECT_EQ(storage_->ExpiresCount(db), 0);
  }
  EXPECT_EQ(CountRecords(storage_->meta_cf()), 0u);
  EXPECT_EQ(CountRecords(storage_->sub_cf()), 0u);
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 0u);
  Set(5, "after", "v");
  Reopen();
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->KeyCount(5), 1);
  EXPECT_EQ(Get(5, "after"), "v");
  EXPECT_EQ(Get(5, "a"), std::nullopt);
}

TEST_F(StorageTest, SwapDbSwapsContentsAndCountersAndPersists) {
  Set(1, "k", "one", Now() + 100'000);
  Set(1, "only-in-one", "x");
  Set(2, "k", "two");
  ASSERT_TRUE(storage_->SwapDb(1, 2).ok());
  EXPECT_EQ(Get(1, "k"), "two");
  EXPECT_EQ(Get(2, "k"), "one");
  EXPECT_EQ(Get(2, "only-in-one"), "x");
  EXPECT_EQ(storage_->KeyCount(1), 1);
  EXPECT_EQ(storage_->KeyCount(2), 2);
  EXPECT_EQ(storage_->ExpiresCount(1), 0);
  EXPECT_EQ(storage_->ExpiresCount(2), 1);

  // Writes after the swap go to the swapped physical dbs.
  Set(1, "new", "n");
  EXPECT_EQ(storage_->KeyCount(1), 2);

  Reopen();
  EXPECT_EQ(storage_->PhysicalDb(1), 2);
  EXPECT_EQ(storage_->PhysicalDb(2), 1);
  EXPECT_EQ(Get(1, "k"), "two");
  EXPECT_EQ(Get(1, "new"), "n");
  EXPECT_EQ(Get(2, "k"), "one");
  EXPECT_EQ(storage_->KeyCount(1), 2);
  EXPECT_EQ(storage_->KeyCount(2), 2);
  EXPECT_EQ(storage_->ExpiresCount(2), 1);

  // FLUSHDB after a swap empties the logical db the client named.
  ASSERT_TRUE(storage_->FlushDb(2).ok());
  EXPECT_EQ(Get(2, "k"), std::nullopt);
  EXPECT_EQ(Get(1, "k"), "two");
  EXPECT_EQ(storage_->KeyCount(1), 2);
  EXPECT_EQ(storage_->KeyCount(2), 0);

  ASSERT_TRUE(storage_->SwapDb(2, 1).ok());
  Reopen();
  EXPECT_EQ(storage_->PhysicalDb(1), 1);
  EXPECT_EQ(Get(2, "k"), "two");
  EXPECT_EQ(storage_->KeyCount(2), 2);
  EXPECT_EQ(storage_->KeyCount(1), 0);
}

TEST_F(StorageTest, ExpiredHookReportsTheLogicalDbAfterSwapDb) {
  std::vector<std::pair<int, std::string>> fired;
  storage_->set_expired_hook(
      [&](int db, std::string_view key) { fired.emplace_back(db, std::string(key)); });
  Set(2, "k", "v", Now() + 10);
  ASSERT_TRUE(storage_->SwapDb(2, 5).ok());
  Advance(10);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 1u);
  EXPECT_EQ(fired, (std::vector<std::pair<int, std::string>>{{5, "k"}}));
  EXPECT_EQ(storage_->KeyCount(5), 0);
  EXPECT_EQ(storage_->ExpiresCount(5), 0);
}

// ------------------------------------------------------------------ commands and rollback

TEST_F(StorageTest, RolledBackCommandUndoesOnlyItsOwnWritesAndCounters) {
  Set(0, "existing", "e");
  Txn txn(storage_.get(), 0);
  auto store = [&](std::string_view key, std::string_view value, uint64_t exp = 0) {
    KeyRecord rec;
    ASSERT_TRUE(txn.Load(key, &rec).ok());
    Metadata meta;
    meta.expire_at_ms = exp;
    txn.Store(key, &rec, meta, value);
  };
  auto remove = [&](std::string_view key) {
    KeyRecord rec;
    ASSERT_TRUE(txn.Load(key, &rec).ok());
    txn.Remove(key, &rec);
  };

  txn.BeginCommand(TxnMode::kWrite, 0);  // creates the batch
  store("a", "1");
  txn.EndCommand(false);

  txn.BeginCommand(TxnMode::kWrite, 0);  // fails
  store("a", "overwritten");
  store("b", "2", Now() + 1000);
  remove("existing");
  txn.EndCommand(true);

  txn.BeginCommand(TxnMode::kWrite, 1);  // another db
  store("c", "3", Now() + 1000);
  txn.EndCommand(false);

  txn.BeginCommand(TxnMode::kWrite, 0);  // reads see the rolled-back state
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("a", &rec).ok());
  EXPECT_EQ(rec.body(), "1");
  ASSERT_TRUE(txn.Load("b", &rec).ok());
  EXPECT_FALSE(rec.exists);
  ASSERT_TRUE(txn.Load("existing", &rec).ok());
  EXPECT_TRUE(rec.exists);
  txn.EndCommand(false);

  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Get(0, "a"), "1");
  EXPECT_EQ(Get(0, "b"), std::nullopt);
  EXPECT_EQ(Get(0, "existing"), "e");
  EXPECT_EQ(Get(1, "c"), "3");
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  EXPECT_EQ(storage_->KeyCount(1), 1);
  EXPECT_EQ(storage_->ExpiresCount(1), 1);
  EXPECT_EQ(CountRecords(storage_->expiry_cf()), 1u);
  Reopen();
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->KeyCount(1), 1);
}

TEST_F(StorageTest, RollingBackTheCommandThatCreatedTheBatchLeavesLaterCommandsIntact) {
  Txn txn(storage_.get(), 0);
  txn.BeginCommand(TxnMode::kWrite, 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("x", &rec).ok());
  txn.Store("x", &rec, Metadata{}, "bad");
  txn.PutSub("x", 7, "f", "v");
  txn.EndCommand(true);
  EXPECT_EQ(txn.pending_writes(), 0u);

  txn.BeginCommand(TxnMode::kWrite, 0);
  KeyRecord rec2;
  ASSERT_TRUE(txn.Load("y", &rec2).ok());
  txn.Store("y", &rec2, Metadata{}, "good");
  txn.EndCommand(false);

  txn.BeginCommand(TxnMode::kWrite, 0);  // a second failure rolls back to the right place
  KeyRecord rec3;
  ASSERT_TRUE(txn.Load("z", &rec3).ok());
  txn.Store("z", &rec3, Metadata{}, "bad");
  txn.EndCommand(true);

  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Get(0, "x"), std::nullopt);
  EXPECT_EQ(Get(0, "y"), "good");
  EXPECT_EQ(Get(0, "z"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(CountRecords(storage_->sub_cf()), 0u);
}

TEST_F(StorageTest, RolledBackCommandDoesNotReportExpiredKeysItDeleted) {
  std::vector<std::string> fired;
  storage_->set_expired_hook([&](int, std::string_view key) { fired.emplace_back(key); });
  Set(0, "e1", "v", Now() + 10);
  Set(0, "e2", "v", Now() + 10);
  Advance(10);
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  txn.BeginCommand(TxnMode::kWrite, 0);
  ASSERT_TRUE(txn.Load("e1", &rec).ok());  // deletes e1 in the txn
  txn.EndCommand(false);
  txn.BeginCommand(TxnMode::kWrite, 0);
  ASSERT_TRUE(txn.Load("e2", &rec).ok());  // deletes e2, but the command fails
  txn.EndCommand(true);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(fired, std::vector<std::string>{"e1"});
  EXPECT_FALSE(RawPresent(0, "e1"));
  EXPECT_TRUE(RawPresent(0, "e2"));
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 1u);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StorageTest, ReadTxnNeverWrites) {
  Set(0, "live", "v");
  Set(0, "dead", "v", Now() + 10);
  Advance(10);
  uint64_t seq = storage_->db()->GetLatestSequenceNumber();
  uint64_t writes = storage_->stats().writes.load();
  {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("live", &rec).ok());
    EXPECT_TRUE(rec.exists);
    ASSERT_TRUE(txn.Load("dead", &rec).ok());
    EXPECT_FALSE(rec.exists);
    ASSERT_TRUE(txn.Load("absent", &rec).ok());
    EXPECT_EQ(txn.pending_writes(), 0u);
    ASSERT_TRUE(txn.Commit().ok());
  }
  EXPECT_EQ(storage_->db()->GetLatestSequenceNumber(), seq);
  EXPECT_EQ(storage_->stats().writes.load(), writes);
  EXPECT_TRUE(RawPresent(0, "dead"));
  EXPECT_EQ(storage_->KeyCount(0), 2);
}

TEST_F(StorageTest, ReadCommandInsideAWriteTxnQueuesExpiredKeysInsteadOfDeleting) {
  Set(0, "dead", "v", Now() + 10);
  Advance(10);
  Txn txn(storage_.get(), 0);
  txn.BeginCommand(TxnMode::kRead, 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("dead", &rec).ok());
  EXPECT_FALSE(rec.exists);
  EXPECT_EQ(txn.pending_writes(), 0u);
  txn.EndCommand(false);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_TRUE(RawPresent(0, "dead"));
  EXPECT_EQ(storage_->RunExpiryCycle(0), 1u);  // the queued key
  EXPECT_FALSE(RawPresent(0, "dead"));
}

TEST_F(StorageTest, PinnedSnapshotGivesAConsistentViewWhileAnotherTxnCommits) {
  Set(0, "a", "a1");
  Set(0, "b", "b1");
  WriteHash(0, "h", 2);
  Txn reader(storage_.get(), 0, TxnMode::kRead);
  reader.PinSnapshot();
  KeyRecord rec;
  ASSERT_TRUE(reader.Load("a", &rec).ok());
  EXPECT_EQ(rec.body(), "a1");

  {
    Txn writer(storage_.get(), 0);
    KeyRecord ra, rb, rc;
    ASSERT_TRUE(writer.Load("a", &ra).ok());
    ASSERT_TRUE(writer.Load("b", &rb).ok());
    ASSERT_TRUE(writer.Load("c", &rc).ok());
    writer.Store("a", &ra, Metadata{}, "a2");
    writer.Remove("b", &rb);
    writer.Store("c", &rc, Metadata{}, "c2");
    ASSERT_TRUE(writer.Commit().ok());
  }
  Set(0, "h", "now a string");

  ASSERT_TRUE(reader.Load("b", &rec).ok());
  ASSERT_TRUE(rec.exists);
  EXPECT_EQ(rec.body(), "b1");
  ASSERT_TRUE(reader.Load("c", &rec).ok());
  EXPECT_FALSE(rec.exists);
  ASSERT_TRUE(reader.Load("a", &rec).ok());
  EXPECT_EQ(rec.body(), "a1");
  ASSERT_TRUE(reader.Load("h", &rec).ok());
  ASSERT_TRUE(rec.exists);
  EXPECT_EQ(rec.meta.type, ValueType::kHash);
  std::string value;
  bool found = false;
  ASSERT_TRUE(reader.GetSub("h", rec.meta.version, "f1", &value, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(value, "v1");

  // An unpinned reader sees the new state.
  Txn fresh(storage_.get(), 0, TxnMode::kRead);
  ASSERT_TRUE(fresh.Load("b", &rec).ok());
  EXPECT_FALSE(rec.exists);
  ASSERT_TRUE(fresh.Load("a", &rec).ok());
  EXPECT_EQ(rec.body(), "a2");

  // The snapshot ends with the command.
  reader.EndCommand(false);
  ASSERT_TRUE(reader.Load("a", &rec).ok());
  EXPECT_EQ(rec.body(), "a2");
}

// ------------------------------------------------------------------ compound keys

TEST_F(StorageTest, SubKeysReadBackThroughTheTxnIncludingPendingOnes) {
  uint64_t v = WriteHash(0, "h", 3);
  Txn txn(storage_.get(), 0);
  std::string value;
  bool found = false;
  ASSERT_TRUE(txn.GetSub("h", v, "f2", &value, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(value, "v2");
  ASSERT_TRUE(txn.GetSub("h", v, "nope", &value, &found).ok());
  EXPECT_FALSE(found);
  ASSERT_TRUE(txn.GetSub("h", v + 1, "f2", &value, &found).ok());
  EXPECT_FALSE(found);  // another incarnation

  txn.PutSub("h", v, "new", "n");
  txn.DeleteSub("h", v, "f0");
  ASSERT_TRUE(txn.GetSub("h", v, "new", &value, &found).ok());
  EXPECT_TRUE(found);
  ASSERT_TRUE(txn.GetSub("h", v, "f0", &value, &found).ok());
  EXPECT_FALSE(found);
  EXPECT_EQ(Elements(0, "h", v).count("new"), 0u);
  ASSERT_TRUE(txn.Commit().ok());
  auto elements = Elements(0, "h", v);
  EXPECT_EQ(elements.size(), 3u);
  EXPECT_EQ(elements.count("f0"), 0u);
  EXPECT_EQ(elements["new"], "n");
}

TEST_F(StorageTest, CompactionReclaimsSubKeysOfDeletedOverwrittenAndExpiredKeys) {
  uint64_t live = WriteHash(0, "live", 50);
  uint64_t live_ttl = WriteHash(0, "live-ttl", 50, Now() + 100'000);
  uint64_t deleted = WriteHash(0, "deleted", 50);
  uint64_t old_version = WriteHash(0, "overwritten", 50);
  uint64_t expired = WriteHash(0, "expired", 50, Now() + 10);
  uint64_t stringified = WriteHash(0, "stringified", 50);
  uint64_t other_db = WriteHash(1, "deleted", 50);  // same name, other db: stays
  ASSERT_TRUE(Del(0, "deleted"));
  uint64_t new_version = WriteHash(0, "overwritten", 20);
  ASSERT_NE(new_version, old_version);
  Set(0, "stringified", "plain");
  Advance(10);

  // Deletion is O(1): the elements are still there until compaction.
  EXPECT_EQ(Elements(0, "deleted", deleted).size(), 50u);
  EXPECT_EQ(Elements(0, "overwritten", old_version).size(), 50u);

  // Compaction never decides by the clock: a key past its deadline keeps its elements until
  // an expiry mutation deletes it.
  CompactSubkeys();
  EXPECT_EQ(Elements(0, "expired", expired).size(), 50u);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 1u);

  CompactSubkeys();
  EXPECT_TRUE(Elements(0, "deleted", deleted).empty());
  EXPECT_TRUE(Elements(0, "overwritten", old_version).empty());
  EXPECT_TRUE(Elements(0, "expired", expired).empty());
  EXPECT_TRUE(Elements(0, "stringified", stringified).empty());
  EXPECT_EQ(Elements(0, "overwritten", new_version).size(), 20u);
  EXPECT_EQ(Elements(0, "live", live).size(), 50u);
  EXPECT_EQ(Elements(0, "live-ttl", live_ttl).size(), 50u);
  EXPECT_EQ(Elements(1, "deleted", other_db).size(), 50u);
  EXPECT_EQ(CountRecords(storage_->sub_cf()), 20u + 50u + 50u + 50u);

  // Survivors are still readable, and survive a reopen and another compaction.
  Reopen();
  CompactSubkeys();
  EXPECT_EQ(Elements(0, "live", live)["f49"], "v49");
  EXPECT_EQ(CountRecords(storage_->sub_cf()), 170u);
}

TEST_F(StorageTest, CopyElementsCopiesEveryElement) {
  // Enough elements to span several blocks; binary sub-keys included.
  constexpr int kFields = 3000;
  uint64_t src = WriteHash(0, "src", kFields);
  {
    Txn txn(storage_.get(), 0);
    txn.PutSub("src", src, std::string("\0\xff", 2), std::string("bin\0", 4));
    ASSERT_TRUE(txn.Commit().ok());
  }
  WriteHash(0, "src-neighbour", 10);  // must not be picked up
  uint64_t dst = storage_->NextVersion();
  Txn txn(storage_.get(), 0);
  ASSERT_TRUE(
      txn.CopyElements(storage_->PhysicalDb(0), "src", src, storage_->PhysicalDb(4), "dst", dst)
          .ok());
  EXPECT_TRUE(Elements(4, "dst", dst).empty());  // pending until commit
  ASSERT_TRUE(txn.Commit().ok());
  auto copied = Elements(4, "dst", dst);
  EXPECT_EQ(copied, Elements(0, "src", src));
  EXPECT_EQ(copied.size(), static_cast<size_t>(kFields + 1));
  EXPECT_EQ(copied[std::string("\0\xff", 2)], std::string("bin\0", 4));
}

TEST_F(StorageTest, CopyElementsSeesElementsWrittenEarlierInTheSameTxn) {
  // A pipelined or MULTI "HSET h ...; COPY h h2" shares one Txn: the copy must include the
  // pending elements and leave out pending deletions.
  uint64_t src = WriteHash(0, "src", 5);
  uint64_t dst = storage_->NextVersion();
  Txn txn(storage_.get(), 0);
  txn.PutSub("src", src, "pending", "p");
  txn.DeleteSub("src", src, "f0");
  ASSERT_TRUE(
      txn.CopyElements(storage_->PhysicalDb(0), "src", src, storage_->PhysicalDb(0), "dst", dst)
          .ok());
  ASSERT_TRUE(txn.Commit().ok());
  auto copied = Elements(0, "dst", dst);
  EXPECT_EQ(copied, Elements(0, "src", src));
  EXPECT_EQ(copied.count("pending"), 1u);
  EXPECT_EQ(copied.count("f0"), 0u);
  EXPECT_EQ(copied.size(), 5u);
}

TEST_F(StorageTest, NextVersionIsMonotonicAcrossReopen) {
  uint64_t a = storage_->NextVersion();
  uint64_t b = WriteHash(0, "h", 1);  // a committed batch records the highest version it used
  EXPECT_LT(a, b);
  Reopen();
  EXPECT_GT(storage_->NextVersion(), b);
}

TEST_F(StorageTest, CompactionKeepsTheElementsOfAKeyPastItsDeadlineUntilItIsDeleted) {
  // A store whose clock runs ahead (a replica applying the writer's batches) must not drop
  // the elements of a key that the writer may still PERSIST.
  uint64_t v = WriteHash(0, "h", 30, Now() + 10);
  Advance(3'600'000);
  CompactSubkeys();
  EXPECT_EQ(Elements(0, "h", v).size(), 30u);
}

// ------------------------------------------------------------------ durability

class StorageDurabilityTest : public StorageTest,
                              public ::testing::WithParamInterface<FsyncPolicy> {
 protected:
  void SetUp() override {
    fsync_ = GetParam();
    Open();
  }
};

TEST_P(StorageDurabilityTest, DataCommittedBeforeCloseIsPresentOnReopen) {
  EXPECT_EQ(storage_->fsync_policy(), GetParam());
  uint64_t syncs = storage_->stats().wal_syncs.load();
  for (int i = 0; i < 100; ++i) Set(i % 3, "k" + std::to_string(i), "v" + std::to_string(i));
  uint64_t v = WriteHash(0, "h", 10);
  Set(0, "ttl", "t", Now() + 100'000);
  ASSERT_TRUE(storage_->SwapDb(0, 7).ok());
  ASSERT_TRUE(storage_->SyncWal().ok());
  EXPECT_GT(storage_->stats().wal_syncs.load(), syncs);
  Reopen();
  for (int i = 0; i < 100; ++i) {
    int db = i % 3 == 0 ? 7 : i % 3;
    ASSERT_EQ(Get(db, "k" + std::to_string(i)), "v" + std::to_string(i));
  }
  EXPECT_EQ(Elements(7, "h", v).size(), 10u);
  EXPECT_EQ(Get(7, "ttl"), "t");
  EXPECT_EQ(storage_->KeyCount(7), 36);
  EXPECT_EQ(storage_->ExpiresCount(7), 1);
}

INSTANTIATE_TEST_SUITE_P(Policies, StorageDurabilityTest,
                         ::testing::Values(FsyncPolicy::kAlways, FsyncPolicy::kEverySec),
                         [](const auto& info) { return std::string(FsyncPolicyName(info.param)); });

TEST_F(StorageTest, BackgroundHousekeeperExpiresKeysOnItsOwn) {
  storage_.reset();
  StorageOptions o;
  o.dir = dir_.path();
  o.background = true;
  o.block_cache_bytes = 8u << 20;
  o.write_buffer_bytes = 4u << 20;
  o.clock = [clock = clock_] { return clock->load(); };
  auto opened = Storage::Open(std::move(o));
  ASSERT_TRUE(opened.ok());
  storage_ = std::move(opened).value();
  Set(0, "k", "v", Now() + 10);
  Advance(10);
  for (int i = 0; i < 200 && storage_->KeyCount(0) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_FALSE(RawPresent(0, "k"));
}

TEST_F(StorageTest, IdleSecondsFollowsTheClockAndResetsOnAccess) {
  Set(0, "k", "v");
  Advance(5000);
  EXPECT_EQ(storage_->IdleSeconds(storage_->PhysicalDb(0), "k"), 5u);
  {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    txn.set_touch(false);  // OBJECT IDLETIME itself must not reset it
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("k", &rec).ok());
  }
  EXPECT_EQ(storage_->IdleSeconds(storage_->PhysicalDb(0), "k"), 5u);
  {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load("k", &rec).ok());
  }
  EXPECT_EQ(storage_->IdleSeconds(storage_->PhysicalDb(0), "k"), 0u);
}

}  // namespace
}  // namespace keel
