// The write door at the storage level: every change reaches RocksDB as a mutation through
// the committer, and a store that applies the recorded mutations, whatever its clock, ends
// up with the same bytes and the same in-memory state.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "datatypes/committer.h"
#include "datatypes/storage.h"
#include "tests/datatypes/replay.h"

namespace keel {
namespace {

constexpr uint64_t kStartMs = 1'700'000'000'000;
constexpr uint64_t kHours = 3'600'000;

class WriteDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = test::OpenStore(writer_dir_.path(), writer_clock_, /*decide_expiry=*/true);
    recorder_ = std::make_unique<test::RecordingCommitter>(writer_.get());
    writer_->set_committer(recorder_.get());
    replica_ = test::OpenStore(replica_dir_.path(), replica_clock_, /*decide_expiry=*/false);
  }
  void TearDown() override {
    writer_.reset();
    replica_.reset();
  }

  void Set(std::string_view key, std::string_view value, uint64_t expire_at_ms = 0) {
    Txn txn(writer_.get(), 0);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load(key, &rec).ok());
    Metadata meta;
    meta.expire_at_ms = expire_at_ms;
    txn.Store(key, &rec, meta, value);
    ASSERT_TRUE(txn.Commit().ok());
  }
  uint64_t WriteHash(std::string_view key, int fields, uint64_t expire_at_ms = 0) {
    Txn txn(writer_.get(), 0);
    KeyRecord rec;
    EXPECT_TRUE(txn.Load(key, &rec).ok());
    Metadata meta;
    meta.type = ValueType::kHash;
    meta.expire_at_ms = expire_at_ms;
    meta.version = txn.NewVersion();
    meta.size = static_cast<uint64_t>(fields);
    txn.Store(key, &rec, meta, "");
    for (int i = 0; i < fields; ++i) txn.PutSub(key, meta.version, "f" + std::to_string(i), "v");
    EXPECT_TRUE(txn.Commit().ok());
    return meta.version;
  }
  // Applies what the writer committed since the last call to the replica.
  void Replay() { ASSERT_TRUE(recorder_->ReplayNew(replica_.get()).ok()); }
  bool RawPresent(Storage* s, std::string_view key) {
    std::string raw;
    return s->db()
        ->Get(rocksdb::ReadOptions(), s->meta_cf(), MetaKey(s->PhysicalDb(0), key), &raw)
        .ok();
  }

  test::TempDir writer_dir_, replica_dir_;
  std::shared_ptr<std::atomic<uint64_t>> writer_clock_ =
      std::make_shared<std::atomic<uint64_t>>(kStartMs);
  std::shared_ptr<std::atomic<uint64_t>> replica_clock_ =
      std::make_shared<std::atomic<uint64_t>>(kStartMs + 5 * kHours);
  std::unique_ptr<Storage> writer_, replica_;
  std::unique_ptr<test::RecordingCommitter> recorder_;
};

TEST_F(WriteDoorTest, EveryWriteReachesRocksDbThroughTheCommitter) {
  Set("a", "1");
  WriteHash("h", 3);
  ASSERT_TRUE(writer_->FlushDb(1).ok());
  ASSERT_TRUE(writer_->SwapDb(2, 3).ok());
  EXPECT_EQ(recorder_->count(), 4u);
}

TEST_F(WriteDoorTest, ReplayedStoreMatchesByteForByteWithItsClockHoursAhead) {
  Set("a", "1");
  Set("ttl", "x", kStartMs + 1000);
  uint64_t v = WriteHash("h", 10, kStartMs + 2000);
  WriteHash("h2", 5);
  ASSERT_TRUE(writer_->SwapDb(0, 1).ok());
  ASSERT_TRUE(writer_->FlushDb(0).ok());  // the old db 1, now logical 0: empty anyway
  ASSERT_TRUE(writer_->SwapDb(0, 1).ok());
  Replay();
  test::ExpectSameStores(writer_.get(), replica_.get());
  // Past its deadline by the replica's clock, yet still there: only the writer decides.
  test::CompactAll(replica_.get());
  EXPECT_TRUE(RawPresent(replica_.get(), "ttl"));
  std::string prefix = SubKeyPrefix(replica_->PhysicalDb(0), "h", v);
  std::unique_ptr<rocksdb::Iterator> it(
      replica_->db()->NewIterator(rocksdb::ReadOptions(), replica_->sub_cf()));
  size_t n = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++n;
  EXPECT_EQ(n, 10u);
}

TEST_F(WriteDoorTest, ExpiredKeyReachesTheReplicaOnlyAsADeletionMutation) {
  Set("ttl", "x", kStartMs + 1000);
  Replay();
  // The replica's clock says the key is long dead; it keeps it, and reads treat it as absent.
  EXPECT_EQ(replica_->RunExpiryCycle(100), 0u);  // a replica's own clock deletes nothing
  EXPECT_TRUE(RawPresent(replica_.get(), "ttl"));
  KeyRecord rec;
  ASSERT_TRUE(replica_->ReadKey(0, "ttl", &rec).ok());
  EXPECT_FALSE(rec.exists);
  EXPECT_EQ(replica_->KeyCount(0), 1);

  // The writer decides: the deletion is a mutation like any other.
  writer_clock_->fetch_add(1000);
  size_t before = recorder_->count();
  EXPECT_EQ(writer_->RunExpiryCycle(100), 1u);
  EXPECT_EQ(recorder_->count(), before + 1);
  Replay();
  EXPECT_FALSE(RawPresent(replica_.get(), "ttl"));
  EXPECT_EQ(replica_->KeyCount(0), 0);
  EXPECT_EQ(replica_->ExpiresCount(0), 0);
  test::ExpectSameStores(writer_.get(), replica_.get());
}

TEST_F(WriteDoorTest, ReplicaDerivesCountersDbMapAndVersionsFromTheBatches) {
  for (int i = 0; i < 20; ++i)
    Set("k" + std::to_string(i), "v", i % 2 ? kStartMs + 10 * kHours : 0);
  uint64_t v = WriteHash("h", 2);
  ASSERT_TRUE(writer_->SwapDb(0, 4).ok());
  Replay();
  EXPECT_EQ(replica_->KeyCount(4), 21);
  EXPECT_EQ(replica_->ExpiresCount(4), 10);
  EXPECT_EQ(replica_->KeyCount(0), 0);
  EXPECT_EQ(replica_->PhysicalDb(4), writer_->PhysicalDb(4));
  EXPECT_GT(replica_->NextVersion(), v);  // a new leader would allocate above every version
  ASSERT_TRUE(writer_->FlushAll().ok());
  Replay();
  for (int db = 0; db < 16; ++db) EXPECT_EQ(replica_->KeyCount(db), 0) << db;
}

TEST_F(WriteDoorTest, VersionRecordKeepsTheHighestVersionWhateverTheCommitOrder) {
  // Two writers allocate versions; the later allocation commits first. The persisted record
  // (and a replica replaying the batches) must keep the higher one, or a new incarnation of
  // a key could reuse a version whose dead elements are still on disk.
  Txn first(writer_.get(), 0), second(writer_.get(), 0);
  uint64_t low = first.NewVersion();
  uint64_t high = second.NewVersion();
  ASSERT_LT(low, high);
  using Write = std::pair<Txn*, const char*>;
  for (auto [txn, key] : {Write{&second, "b"}, Write{&first, "a"}}) {
    KeyRecord rec;
    ASSERT_TRUE(txn->Load(key, &rec).ok());
    txn->Store(key, &rec, Metadata(), "v");
    ASSERT_TRUE(txn->Commit().ok());
  }
  Replay();
  EXPECT_GT(replica_->NextVersion(), high);
  writer_.reset();
  recorder_.reset();
  writer_ = test::OpenStore(writer_dir_.path(), writer_clock_, true);
  EXPECT_GT(writer_->NextVersion(), high);
}

TEST_F(WriteDoorTest, FailedCommitAppliesNothingAndReportsTheError) {
  recorder_->FailNext(1);
  Txn txn(writer_.get(), 0);
  KeyRecord rec;
  ASSERT_TRUE(txn.Load("a", &rec).ok());
  txn.Store("a", &rec, Metadata(), "1");
  EXPECT_FALSE(txn.Commit().ok());
  EXPECT_EQ(writer_->KeyCount(0), 0);
  EXPECT_FALSE(RawPresent(writer_.get(), "a"));
  Set("a", "2");  // the next one goes through
  EXPECT_EQ(writer_->KeyCount(0), 1);
}

}  // namespace
}  // namespace keel
