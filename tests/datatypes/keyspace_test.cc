#include "datatypes/keyspace.h"

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
#include <vector>

#include "cluster/slot.h"
#include "datatypes/hash.h"
#include "datatypes/set.h"
#include "datatypes/storage.h"
#include "datatypes/string.h"
#include "datatypes/zset.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::keys {
namespace {

// KEYS, SCAN and RANDOMKEY through a fresh read transaction of logical db `db`.
Result<std::vector<std::string>> Keys(Storage& storage, int db, std::string_view pattern) {
  Txn txn(&storage, db, TxnMode::kRead);
  return keys::Keys(txn, pattern);
}
Result<ScanResult> Scan(Storage& storage, ScanCursors& cursors, int db, uint64_t cursor,
                        std::optional<std::string_view> pattern, size_t count,
                        std::optional<ValueType> type) {
  Txn txn(&storage, db, TxnMode::kRead);
  return keys::Scan(txn, cursors, cursor, pattern, count, type);
}
Result<std::optional<std::string>> RandomKey(Storage& storage, int db, std::mt19937_64& rng) {
  Txn txn(&storage, db, TxnMode::kRead);
  return keys::RandomKey(txn, rng);
}

constexpr uint64_t kStartMs = 1'700'000'000'000;

using test::TempDir;

class KeyspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StorageOptions o;
    o.dir = dir_.path();
    o.fsync = FsyncPolicy::kNo;
    o.background = false;
    o.block_cache_bytes = 16u << 20;
    o.write_buffer_bytes = 8u << 20;
    o.clock = [clock = clock_] { return clock->load(); };
    auto opened = Storage::Open(std::move(o));
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(opened).value();
  }
  void TearDown() override { storage_.reset(); }

  uint64_t Now() const { return clock_->load(); }
  void Advance(uint64_t ms) { clock_->fetch_add(ms); }

  // One command in a fresh write transaction of logical db `db`, committed.
  template <typename Fn>
  auto Run(Fn fn, int db = 0) {
    Txn txn(storage_.get(), db);
    auto result = fn(txn);
    EXPECT_TRUE(txn.Commit().ok());
    return result;
  }
  void Put(std::string_view key, std::string_view value, uint64_t expire_at_ms = 0, int db = 0) {
    strings::SetOptions o;
    o.expire_at_ms = expire_at_ms;
    auto r = Run([&](Txn& t) { return strings::Set(t, key, value, o); }, db);
    ASSERT_TRUE(r.ok());
  }
  std::optional<std::string> Read(std::string_view key, int db = 0) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(db, key, &rec).ok());
    if (!rec.exists) return std::nullopt;
    return std::string(rec.body());
  }
  KeyRecord Record(std::string_view key, int db = 0) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(db, key, &rec).ok());
    return rec;
  }
  uint64_t ExpireAtOf(std::string_view key, int db = 0) {
    return Record(key, db).meta.expire_at_ms;
  }
  // A hash with elements f<i> -> v<i>; returns its version.
  uint64_t PutHash(std::string_view key, int fields, int db = 0, uint64_t expire_at_ms = 0) {
    Txn txn(storage_.get(), db);
    KeyRecord rec;
    EXPECT_TRUE(txn.Load(key, &rec).ok());
    Metadata meta;
    meta.type = ValueType::kHash;
    meta.version = storage_->NextVersion();
    meta.size = static_cast<uint64_t>(fields);
    meta.expire_at_ms = expire_at_ms;
    txn.Store(key, &rec, meta, "");
    for (int i = 0; i < fields; ++i) {
      txn.PutSub(key, meta.version, "f" + std::to_string(i), "v" + std::to_string(i));
    }
    EXPECT_TRUE(txn.Commit().ok());
    return meta.version;
  }
  std::map<std::string, std::string> Elements(std::string_view key, uint64_t version, int db = 0) {
    std::map<std::string, std::string> out;
    std::string prefix = SubKeyPrefix(storage_->PhysicalDb(db), key, version);
    std::unique_ptr<rocksdb::Iterator> it(
        storage_->db()->NewIterator(rocksdb::ReadOptions(), storage_->sub_cf()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      out.emplace(it->key().ToString().substr(prefix.size()), it->value().ToString());
    }
    return out;
  }
  // Bulk-loads keys into a db, 1000 per transaction.
  void PutMany(const std::vector<std::string>& keys, int db) {
    for (size_t i = 0; i < keys.size(); i += 1000) {
      Txn txn(storage_.get(), db);
      for (size_t j = i; j < std::min(keys.size(), i + 1000); ++j) {
        KeyRecord rec;
        ASSERT_TRUE(txn.Load(keys[j], &rec).ok());
        txn.Store(keys[j], &rec, Metadata{}, "v");
      }
      ASSERT_TRUE(txn.Commit().ok());
    }
  }

  TempDir dir_;
  std::shared_ptr<std::atomic<uint64_t>> clock_ = std::make_shared<std::atomic<uint64_t>>(kStartMs);
  std::unique_ptr<Storage> storage_;
};

// ------------------------------------------------------------------ EXISTS / TYPE / DEL

TEST_F(KeyspaceTest, ExistsTypeAndDelete) {
  Put("s", "v");
  PutHash("h", 2);
  Txn txn(storage_.get(), 0);
  EXPECT_TRUE(*Exists(txn, "s"));
  EXPECT_FALSE(*Exists(txn, "absent"));
  EXPECT_EQ(*Type(txn, "s"), ValueType::kString);
  EXPECT_EQ(*Type(txn, "h"), ValueType::kHash);
  EXPECT_EQ(*Type(txn, "absent"), std::nullopt);
  EXPECT_TRUE(*Delete(txn, "h"));
  EXPECT_FALSE(*Delete(txn, "h"));
  EXPECT_FALSE(*Delete(txn, "absent"));
  EXPECT_FALSE(*Exists(txn, "h"));
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(storage_->KeyCount(0), 1);
}

// ------------------------------------------------------------------ EXPIRE family

TEST_F(KeyspaceTest, ExpireAtSetsTheTtlAndAPastTimeDeletes) {
  Put("k", "v");
  auto r = Run([&](Txn& t) { return ExpireAt(t, "k", Now() + 1000, ExpireCondition::kAlways); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(ExpireAtOf("k"), Now() + 1000);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
  EXPECT_EQ(Read("k"), "v");  // the value is untouched

  r = Run([&](Txn& t) { return ExpireAt(t, "absent", Now() + 1000, ExpireCondition::kAlways); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(storage_->KeyCount(0), 1);

  r = Run([&](Txn& t) { return ExpireAt(t, "k", -5, ExpireCondition::kAlways); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);

  Put("n", "v");
  r = Run([&](Txn& t) {
    return ExpireAt(t, "n", static_cast<int64_t>(Now()), ExpireCondition::kAlways);
  });
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("n"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

struct ConditionCase {
  ExpireCondition cond;
  bool has_ttl;   // the key has a TTL of now + 1000 before
  int64_t delta;  // the new time is now + delta
  bool applied;   // expected result
};

TEST_F(KeyspaceTest, ExpireConditionsFollowRedisIncludingKeysWithoutTtl) {
  const ConditionCase cases[] = {
      {ExpireCondition::kNX, false, 500, true},
      {ExpireCondition::kNX, true, 500, false},
      {ExpireCondition::kXX, false, 500, false},
      {ExpireCondition::kXX, true, 500, true},
      // No TTL is an infinite TTL: nothing is greater, everything is less.
      {ExpireCondition::kGT, false, 500, false},
      {ExpireCondition::kGT, true, 2000, true},
      {ExpireCondition::kGT, true, 1000, false},
      {ExpireCondition::kGT, true, 500, false},
      {ExpireCondition::kLT, false, 500, true},
      {ExpireCondition::kLT, true, 500, true},
      {ExpireCondition::kLT, true, 1000, false},
      {ExpireCondition::kLT, true, 2000, false},
      {ExpireCondition::kAlways, true, 2000, true},
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string key = "k" + std::to_string(i++);
    Put(key, "v", c.has_ttl ? Now() + 1000 : 0);
    uint64_t before = ExpireAtOf(key);
    auto r = Run(
        [&](Txn& t) { return ExpireAt(t, key, static_cast<int64_t>(Now()) + c.delta, c.cond); });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, c.applied) << "case " << i - 1;
    EXPECT_EQ(ExpireAtOf(key), c.applied ? Now() + c.delta : before) << "case " << i - 1;
  }
  // Conditions never apply to absent keys.
  for (auto cond : {ExpireCondition::kNX, ExpireCondition::kLT}) {
    auto r = Run([&](Txn& t) { return ExpireAt(t, "absent", Now() + 10, cond); });
    EXPECT_FALSE(*r);
  }
  // A condition that fails does not delete the key even if the time is in the past.
  Put("keep", "v", Now() + 1000);
  auto r = Run([&](Txn& t) { return ExpireAt(t, "keep", 1, ExpireCondition::kNX); });
  EXPECT_FALSE(*r);
  EXPECT_EQ(Read("keep"), "v");
  // ... and one that holds does.
  r = Run([&](Txn& t) { return ExpireAt(t, "keep", 1, ExpireCondition::kLT); });
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("keep"), std::nullopt);
  int64_t with_ttl = 0;
  for (const auto& c : cases) with_ttl += (c.applied || c.has_ttl) ? 1 : 0;
  EXPECT_EQ(storage_->ExpiresCount(0), with_ttl);
}

TEST_F(KeyspaceTest, TtlAndExpireTimeValues) {
  Put("ttl", "v", Now() + 1500);
  Put("forever", "v");
  Txn txn(storage_.get(), 0, TxnMode::kRead);
  EXPECT_EQ(*TtlMs(txn, "absent"), -2);
  EXPECT_EQ(*TtlMs(txn, "forever"), -1);
  EXPECT_EQ(*TtlMs(txn, "ttl"), 1500);
  EXPECT_EQ(*ExpireTimeMs(txn, "absent"), -2);
  EXPECT_EQ(*ExpireTimeMs(txn, "forever"), -1);
  EXPECT_EQ(*ExpireTimeMs(txn, "ttl"), static_cast<int64_t>(Now() + 1500));
  Advance(1000);
  Txn later(storage_.get(), 0, TxnMode::kRead);
  EXPECT_EQ(*TtlMs(later, "ttl"), 500);
  EXPECT_EQ(*ExpireTimeMs(later, "ttl"), static_cast<int64_t>(Now() + 500));
  Advance(500);
  Txn gone(storage_.get(), 0, TxnMode::kRead);
  EXPECT_EQ(*TtlMs(gone, "ttl"), -2);
  EXPECT_EQ(*ExpireTimeMs(gone, "ttl"), -2);
}

TEST_F(KeyspaceTest, PersistRemovesTheTtlOnlyWhenThereIsOne) {
  Put("ttl", "v", Now() + 1000);
  Put("forever", "v");
  EXPECT_TRUE(*Run([](Txn& t) { return Persist(t, "ttl"); }));
  EXPECT_FALSE(*Run([](Txn& t) { return Persist(t, "forever"); }));
  EXPECT_FALSE(*Run([](Txn& t) { return Persist(t, "absent"); }));
  EXPECT_EQ(ExpireAtOf("ttl"), 0u);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  Advance(2000);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);
  EXPECT_EQ(Read("ttl"), "v");
}

// ------------------------------------------------------------------ RENAME / COPY / MOVE

TEST_F(KeyspaceTest, RenameMovesValueAndTtlAndReplacesTheDestination) {
  Put("src", "value", Now() + 1000);
  Put("dst", "old", Now() + 5000);
  Put("plain-dst", "old");
  auto r = Run([](Txn& t) { return Rename(t, "src", "dst", false); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("src"), std::nullopt);
  EXPECT_EQ(Read("dst"), "value");
  EXPECT_EQ(ExpireAtOf("dst"), Now() + 1000);
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);

  // A destination with a TTL renamed over by a key without one loses it.
  r = Run([](Txn& t) { return Rename(t, "plain-dst", "dst", false); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Read("dst"), "old");
  EXPECT_EQ(ExpireAtOf("dst"), 0u);
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  Advance(10'000);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 0u);
  EXPECT_EQ(Read("dst"), "old");
}

TEST_F(KeyspaceTest, RenameOfAnAbsentKeyIsNoSuchKey) {
  EXPECT_EQ(Run([](Txn& t) { return Rename(t, "absent", "dst", false); }).code(), Code::kNoSuchKey);
  EXPECT_EQ(Run([](Txn& t) { return Rename(t, "absent", "absent", false); }).code(),
            Code::kNoSuchKey);
  EXPECT_EQ(Run([](Txn& t) { return Rename(t, "absent", "dst", true); }).code(), Code::kNoSuchKey);
  Put("e", "v", Now() + 10);
  Advance(10);
  EXPECT_EQ(Run([](Txn& t) { return Rename(t, "e", "dst", false); }).code(), Code::kNoSuchKey);
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

TEST_F(KeyspaceTest, RenameOntoItselfKeepsTheKey) {
  Put("k", "v", Now() + 1000);
  auto r = Run([](Txn& t) { return Rename(t, "k", "k", false); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  r = Run([](Txn& t) { return Rename(t, "k", "k", true); });  // RENAMENX k k is 0
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(Read("k"), "v");
  EXPECT_EQ(ExpireAtOf("k"), Now() + 1000);
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
}

TEST_F(KeyspaceTest, RenameNxDoesNothingWhenTheDestinationExists) {
  Put("src", "a");
  Put("dst", "b");
  auto r = Run([](Txn& t) { return Rename(t, "src", "dst", true); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(Read("src"), "a");
  EXPECT_EQ(Read("dst"), "b");
  r = Run([](Txn& t) { return Rename(t, "src", "new", true); });
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("new"), "a");
  EXPECT_EQ(storage_->KeyCount(0), 2);
}

TEST_F(KeyspaceTest, RenameOfACompoundKeyCopiesItsElementsToANewVersion) {
  uint64_t v = PutHash("h", 20, 0, Now() + 1000);
  auto r = Run([](Txn& t) { return Rename(t, "h", "{tag}h2", false); });
  ASSERT_TRUE(r.ok());
  KeyRecord rec = Record("{tag}h2");
  ASSERT_TRUE(rec.exists);
  EXPECT_EQ(rec.meta.type, ValueType::kHash);
  EXPECT_EQ(rec.meta.size, 20u);
  EXPECT_EQ(rec.meta.expire_at_ms, Now() + 1000);
  EXPECT_NE(rec.meta.version, v);
  EXPECT_EQ(Elements("{tag}h2", rec.meta.version), Elements("h", v));
  EXPECT_EQ(Elements("{tag}h2", rec.meta.version).size(), 20u);
  EXPECT_EQ(storage_->KeyCount(0), 1);
}

TEST_F(KeyspaceTest, CopyOntoTheSameKeyInTheSameDbIsSameObject) {
  Put("k", "v");
  EXPECT_EQ(Run([](Txn& t) { return Copy(t, "k", "k", 0, false); }).code(), Code::kSameObject);
  EXPECT_EQ(Run([](Txn& t) { return Copy(t, "k", "k", 0, true); }).code(), Code::kSameObject);
  // The same name in another db is a real copy.
  auto r = Run([](Txn& t) { return Copy(t, "k", "k", 3, false); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("k", 3), "v");
  EXPECT_EQ(Read("k", 0), "v");
}

TEST_F(KeyspaceTest, CopyRespectsReplaceAndCopiesTheTtl) {
  Put("src", "v", Now() + 1000);
  Put("dst", "old");
  auto r = Run([](Txn& t) { return Copy(t, "absent", "x", 0, false); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  r = Run([](Txn& t) { return Copy(t, "src", "dst", 0, false); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(Read("dst"), "old");
  r = Run([](Txn& t) { return Copy(t, "src", "dst", 0, true); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("dst"), "v");
  EXPECT_EQ(ExpireAtOf("dst"), Now() + 1000);
  EXPECT_EQ(Read("src"), "v");
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 2);
  r = Run([](Txn& t) { return Copy(t, "src", "other", 5, false); });
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("other", 5), "v");
  EXPECT_EQ(storage_->KeyCount(5), 1);
  EXPECT_EQ(storage_->ExpiresCount(5), 1);
}

TEST_F(KeyspaceTest, CopyOfACompoundKeyDuplicatesItsElements) {
  uint64_t v = PutHash("h", 30);
  auto r = Run([](Txn& t) { return Copy(t, "h", "h", 2, false); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  KeyRecord copy = Record("h", 2);
  ASSERT_TRUE(copy.exists);
  EXPECT_NE(copy.meta.version, v);
  EXPECT_EQ(Elements("h", copy.meta.version, 2), Elements("h", v, 0));
  EXPECT_EQ(Elements("h", copy.meta.version, 2).size(), 30u);
  // Deleting the original does not affect the copy, even after compaction.
  ASSERT_TRUE(*Run([](Txn& t) { return Delete(t, "h"); }));
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  ASSERT_TRUE(storage_->db()->CompactRange(o, storage_->sub_cf(), nullptr, nullptr).ok());
  EXPECT_TRUE(Elements("h", v, 0).empty());
  EXPECT_EQ(Elements("h", copy.meta.version, 2).size(), 30u);
}

TEST_F(KeyspaceTest, CopyFollowsSwappedDbs) {
  Put("k", "v");
  ASSERT_TRUE(storage_->SwapDb(1, 2).ok());
  ASSERT_TRUE(*Run([](Txn& t) { return Copy(t, "k", "k", 1, false); }));
  EXPECT_EQ(Read("k", 1), "v");
  EXPECT_EQ(Read("k", 2), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(1), 1);
  EXPECT_EQ(storage_->KeyCount(2), 0);
}

TEST_F(KeyspaceTest, MoveToTheSameDbIsSameObject) {
  Put("k", "v");
  EXPECT_EQ(Run([](Txn& t) { return Move(t, "k", 0); }).code(), Code::kSameObject);
  EXPECT_EQ(Read("k"), "v");
}

TEST_F(KeyspaceTest, MoveTransfersTheKeyOnlyWhenTheTargetIsFree) {
  Put("k", "v", Now() + 1000);
  Put("taken", "here");
  Put("taken", "there", 0, 4);
  auto r = Run([](Txn& t) { return Move(t, "absent", 4); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  r = Run([](Txn& t) { return Move(t, "taken", 4); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(Read("taken", 0), "here");
  EXPECT_EQ(Read("taken", 4), "there");

  r = Run([](Txn& t) { return Move(t, "k", 4); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("k", 0), std::nullopt);
  EXPECT_EQ(Read("k", 4), "v");
  EXPECT_EQ(ExpireAtOf("k", 4), Now() + 1000);
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->KeyCount(4), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(4), 1);
  Advance(1000);
  EXPECT_EQ(storage_->RunExpiryCycle(100), 1u);
  EXPECT_EQ(storage_->KeyCount(4), 1);
}

// ------------------------------------------------------------------ KEYS

TEST_F(KeyspaceTest, KeysMatchesPatternsInOneDbAndSkipsExpiredKeys) {
  for (const char* k : {"hello", "hallo", "hxllo", "heeello", "user:1", "user:2", "other"}) {
    Put(k, "v");
  }
  Put("user:expired", "v", Now() + 10);
  Put("user:elsewhere", "v", 0, 1);
  Advance(10);
  auto sorted = [&](std::string_view pattern) {
    auto r = Keys(*storage_, 0, pattern);
    EXPECT_TRUE(r.ok());
    std::vector<std::string> keys = r.ok() ? *r : std::vector<std::string>{};
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(sorted("*").size(), 7u);
  EXPECT_EQ(sorted("user:*"), (V{"user:1", "user:2"}));
  EXPECT_EQ(sorted("h?llo"), (V{"hallo", "hello", "hxllo"}));
  EXPECT_EQ(sorted("h[ae]llo"), (V{"hallo", "hello"}));
  EXPECT_EQ(sorted("h*llo"), (V{"hallo", "heeello", "hello", "hxllo"}));
  EXPECT_EQ(sorted("hello"), (V{"hello"}));  // an exact name
  EXPECT_EQ(sorted("nope"), V{});
  EXPECT_EQ(sorted("user:expired"), V{});
  EXPECT_EQ(sorted("*elsewhere"), V{});
  auto other = Keys(*storage_, 1, "*");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, V{"user:elsewhere"});
  auto empty = Keys(*storage_, 7, "*");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// ------------------------------------------------------------------ SCAN

std::vector<std::string> SpreadKeys(int n) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) keys.push_back("key:" + std::to_string(i));
  // A crowded slot: more keys than any COUNT used below.
  for (int i = 0; i < 40; ++i) keys.push_back("{crowd}" + std::to_string(i));
  return keys;
}

TEST_F(KeyspaceTest, ScanVisitsEveryKeyAcrossManySlotsAndEndsWithCursorZero) {
  auto keys = SpreadKeys(20000);
  PutMany(keys, 1);
  // Neighbours in the other dbs of the same slots must not show up.
  PutMany(std::vector<std::string>(keys.begin(), keys.begin() + 3000), 0);
  PutMany(std::vector<std::string>(keys.begin(), keys.begin() + 3000), 2);
  std::set<std::uint16_t> slots;
  for (const auto& k : keys) slots.insert(cluster::KeySlot(k));
  EXPECT_GT(slots.size(), 10000u);

  ScanCursors cursors;
  std::set<std::string> seen;
  uint64_t cursor = 0;
  size_t calls = 0, returned = 0;
  do {
    auto r = Scan(*storage_, cursors, 1, cursor, std::nullopt, 17, std::nullopt);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(r->keys.size(), 17u);
    returned += r->keys.size();
    seen.insert(r->keys.begin(), r->keys.end());
    cursor = r->cursor;
    ASSERT_LT(++calls, 10000u) << "SCAN does not terminate";
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), keys.size());
  EXPECT_EQ(seen, std::set<std::string>(keys.begin(), keys.end()));
  EXPECT_EQ(returned, keys.size());  // no evictions, so no repeats
}

TEST_F(KeyspaceTest, ScanMissesNoKeyWhenCursorTokensAreEvicted) {
  auto keys = SpreadKeys(20000);
  PutMany(keys, 0);
  // A tiny cursor table, shared with other "clients" whose scans evict our tokens at random.
  ScanCursors cursors(3);
  std::mt19937 rng(11);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  size_t calls = 0, restarts = 0;
  do {
    auto r = Scan(*storage_, cursors, 0, cursor, std::nullopt, 50, std::nullopt);
    ASSERT_TRUE(r.ok());
    seen.insert(r->keys.begin(), r->keys.end());
    cursor = r->cursor;
    if (rng() % 3 == 0) {
      for (int i = 0; i < 3; ++i) (void)cursors.Save(static_cast<uint16_t>(rng() % 16384), "x");
      ++restarts;
    }
    ASSERT_LT(++calls, 20000u) << "SCAN does not terminate";
  } while (cursor != 0);
  EXPECT_GT(restarts, 10u);
  EXPECT_EQ(seen, std::set<std::string>(keys.begin(), keys.end()));
}

TEST_F(KeyspaceTest, ScanFiltersByPatternAndType) {
  std::vector<std::string> strings, hashes;
  for (int i = 0; i < 300; ++i) {
    strings.push_back("s:" + std::to_string(i));
    Put(strings.back(), "v");
  }
  for (int i = 0; i < 100; ++i) {
    hashes.push_back("h:" + std::to_string(i));
    PutHash(hashes.back(), 1);
  }
  Put("s:expired", "v", Now() + 10);
  Advance(10);
  auto scan_all = [&](std::optional<std::string_view> pattern, std::optional<ValueType> type) {
    ScanCursors cursors;
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int calls = 0;
    do {
      auto r = Scan(*storage_, cursors, 0, cursor, pattern, 10, type);
      EXPECT_TRUE(r.ok());
      if (!r.ok()) break;
      seen.insert(r->keys.begin(), r->keys.end());
      cursor = r->cursor;
    } while (cursor != 0 && ++calls < 1000);
    EXPECT_EQ(cursor, 0u);
    return seen;
  };
  EXPECT_EQ(scan_all(std::nullopt, ValueType::kHash),
            std::set<std::string>(hashes.begin(), hashes.end()));
  EXPECT_EQ(scan_all("*", ValueType::kString),
            std::set<std::string>(strings.begin(), strings.end()));
  EXPECT_TRUE(scan_all(std::nullopt, ValueType::kList).empty());
  EXPECT_EQ(scan_all("h:1?", std::nullopt).size(), 10u);
  EXPECT_EQ(scan_all("h:1?", ValueType::kString).size(), 0u);
  EXPECT_EQ(scan_all("*", std::nullopt).size(), 400u);
}

TEST_F(KeyspaceTest, ScanOfAnEmptyDbOrAnUnknownCursorIsDone) {
  ScanCursors cursors;
  auto r = Scan(*storage_, cursors, 0, 0, std::nullopt, 10, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cursor, 0u);
  EXPECT_TRUE(r->keys.empty());
  Put("k", "v");
  r = Scan(*storage_, cursors, 0, uint64_t{16384} << 40, std::nullopt, 10, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cursor, 0u);
  EXPECT_TRUE(r->keys.empty());
  r = Scan(*storage_, cursors, 0, ~uint64_t{0}, std::nullopt, 10, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cursor, 0u);
  // A forgotten token restarts its slot rather than skipping it.
  uint64_t slot = cluster::KeySlot("k");
  r = Scan(*storage_, cursors, 0, (slot << 40) | 12345, std::nullopt, 10, std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->keys, std::vector<std::string>{"k"});
}

// ------------------------------------------------------------------ RANDOMKEY

TEST_F(KeyspaceTest, RandomKeyOfAnEmptyDbIsNone) {
  std::mt19937_64 rng(1);
  auto r = RandomKey(*storage_, 0, rng);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::nullopt);
  // Only expired keys: none either.
  Put("e", "v", Now() + 10);
  Advance(10);
  r = RandomKey(*storage_, 0, rng);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::nullopt);
}

TEST_F(KeyspaceTest, RandomKeyReturnsLiveKeysOfItsDbOnly) {
  std::set<std::string> keys;
  for (int i = 0; i < 50; ++i) {
    keys.insert("k" + std::to_string(i));
    Put("k" + std::to_string(i), "v");
  }
  for (int i = 0; i < 50; ++i) Put("other" + std::to_string(i), "v", 0, 1);
  std::mt19937_64 rng(2);
  std::set<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    auto r = RandomKey(*storage_, 0, rng);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ(keys.count(**r), 1u) << **r;
    seen.insert(**r);
  }
  EXPECT_GT(seen.size(), 25u);
  // A single key is always found, wherever the random slot lands.
  Put("solo", "v", 0, 9);
  for (int i = 0; i < 50; ++i) {
    auto r = RandomKey(*storage_, 9, rng);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "solo");
  }
}

// ------------------------------------------------------------------ DUMP / RESTORE

TEST_F(KeyspaceTest, DumpAndRestoreRoundTrip) {
  const std::string value("binary\0value", 12);
  Put("k", value);
  auto dumped = Run([](Txn& t) { return Dump(t, "k"); });
  ASSERT_TRUE(dumped.ok());
  ASSERT_TRUE(dumped->has_value());
  auto absent = Run([](Txn& t) { return Dump(t, "absent"); });
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(*absent, std::nullopt);

  std::string payload = **dumped;
  ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, "copy", payload, {}); }).ok());
  EXPECT_EQ(Read("copy"), value);
  EXPECT_EQ(ExpireAtOf("copy"), 0u);
  EXPECT_EQ(storage_->KeyCount(0), 2);
  // And again, through a second DUMP of the restored key.
  auto again = Run([](Txn& t) { return Dump(t, "copy"); });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(**again, payload);
}

TEST_F(KeyspaceTest, RestoreOntoAnExistingKeyNeedsReplace) {
  Put("src", "new");
  Put("dst", "old", Now() + 1000);
  std::string payload = **Run([](Txn& t) { return Dump(t, "src"); });
  EXPECT_EQ(Run([&](Txn& t) { return Restore(t, "dst", payload, {}); }).code(), Code::kBusyKey);
  EXPECT_EQ(Read("dst"), "old");
  RestoreOptions replace;
  replace.replace = true;
  ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, "dst", payload, replace); }).ok());
  EXPECT_EQ(Read("dst"), "new");
  EXPECT_EQ(ExpireAtOf("dst"), 0u);
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(KeyspaceTest, RestoreWithRelativeAndAbsoluteTtl) {
  Put("src", "v");
  std::string payload = **Run([](Txn& t) { return Dump(t, "src"); });
  RestoreOptions rel;
  rel.ttl_ms = 2500;
  ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, "rel", payload, rel); }).ok());
  EXPECT_EQ(ExpireAtOf("rel"), Now() + 2500);
  RestoreOptions abs;
  abs.ttl_ms = static_cast<int64_t>(Now() + 7000);
  abs.absolute_ttl = true;
  ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, "abs", payload, abs); }).ok());
  EXPECT_EQ(ExpireAtOf("abs"), Now() + 7000);
  EXPECT_EQ(storage_->ExpiresCount(0), 2);
}

TEST_F(KeyspaceTest, RestoreWithAnAbsoluteTtlInThePastStoresNothing) {
  Put("src", "v");
  Put("existing", "old");
  std::string payload = **Run([](Txn& t) { return Dump(t, "src"); });
  RestoreOptions past;
  past.ttl_ms = static_cast<int64_t>(Now() - 1000);
  past.absolute_ttl = true;
  ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, "new", payload, past); }).ok());
  EXPECT_EQ(Read("new"), std::nullopt);
  // Without REPLACE an existing key is still BUSYKEY; with it, the key is deleted.
  EXPECT_EQ(Run([&](Txn& t) { return Restore(t, "existing", payload, past); }).code(),
            Code::kBusyKey);
  EXPECT_EQ(Read("existing"), "old");
  past.replace = true;
  ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, "existing", payload, past); }).ok());
  EXPECT_EQ(Read("existing"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 1);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(KeyspaceTest, HashesSetsAndSortedSetsRoundTripWithATtl) {
  std::vector<std::string_view> pairs = {"z", "1", "a", std::string_view("b\0in", 4)};
  ASSERT_TRUE(Run([&](Txn& t) { return hashes::Set(t, "h", pairs); }).ok());
  std::vector<std::string_view> members = {"10", "-2", "x"};
  ASSERT_TRUE(Run([&](Txn& t) { return sets::Add(t, "s", members); }).ok());
  std::vector<zsets::ScoreMemberArg> items = {{2.5, "b"}, {-1, "a"}};
  ASSERT_TRUE(Run([&](Txn& t) { return zsets::Add(t, "z", items, {}); }).ok());
  RestoreOptions ttl;
  ttl.ttl_ms = 5000;
  for (const char* key : {"h", "s", "z"}) {
    std::string payload = **Run([&](Txn& t) { return Dump(t, key); });
    std::string copy = std::string(key) + "2";
    ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, copy, payload, ttl); }).ok()) << key;
    EXPECT_EQ(ExpireAtOf(copy), Now() + 5000) << key;
    EXPECT_EQ(**Run([&](Txn& t) { return Dump(t, copy); }), payload) << key;
  }
  auto all = Run([](Txn& t) { return hashes::GetAll(t, "h2"); });
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].field, "z");
  EXPECT_EQ((*all)[1].value, std::string("b\0in", 4));
  EXPECT_EQ(storage_->KeyCount(0), 6);
  EXPECT_EQ(storage_->ExpiresCount(0), 3);
}

TEST_F(KeyspaceTest, RestoreReplacesACollectionWithoutKeepingItsElements) {
  std::vector<std::string_view> big = {"a", "b", "c", "d"};
  std::vector<std::string_view> small = {"x"};
  ASSERT_TRUE(Run([&](Txn& t) { return sets::Add(t, "s", big); }).ok());
  ASSERT_TRUE(Run([&](Txn& t) { return sets::Add(t, "t", small); }).ok());
  std::string payload = **Run([](Txn& t) { return Dump(t, "t"); });
  RestoreOptions replace;
  replace.replace = true;
  ASSERT_TRUE(Run([&](Txn& t) { return Restore(t, "s", payload, replace); }).ok());
  auto members = Run([](Txn& t) { return sets::Members(t, "s"); });
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(*members, std::vector<std::string>{"x"});
}

TEST_F(KeyspaceTest, RestoreRejectsACorruptPayload) {
  Put("src", "v");
  std::string payload = **Run([](Txn& t) { return Dump(t, "src"); });
  std::string bad = payload;
  bad[bad.size() - 1] ^= 0x01;  // checksum
  EXPECT_EQ(Run([&](Txn& t) { return Restore(t, "k", bad, {}); }).code(), Code::kBadDumpPayload);
  EXPECT_EQ(Run([&](Txn& t) { return Restore(t, "k", "short", {}); }).code(),
            Code::kBadDumpPayload);
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 1);
}

}  // namespace
}  // namespace keel::keys
