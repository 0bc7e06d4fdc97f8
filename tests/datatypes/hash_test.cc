// Hash operations on Storage (datatypes/hash.h).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "datatypes/hash.h"
#include "datatypes/storage.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::hashes {
namespace {

using test::TempDir;

class HashTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { storage_.reset(); }

  void Open() {
    StorageOptions o;
    o.dir = dir_.path();
    o.fsync = FsyncPolicy::kNo;
    o.background = false;
    o.block_cache_bytes = 8u << 20;
    o.write_buffer_bytes = 4u << 20;
    auto opened = Storage::Open(std::move(o));
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(opened).value();
  }

  template <typename Fn>
  auto Write(Fn fn) {
    Txn txn(storage_.get(), 0, TxnMode::kWrite);
    auto r = fn(txn);
    EXPECT_TRUE(txn.Commit().ok());
    return r;
  }
  template <typename Fn>
  auto Read(Fn fn) {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    return fn(txn);
  }

  int64_t HSet(const std::string& key, std::vector<std::string_view> pairs) {
    auto r = Write([&](Txn& t) { return Set(t, key, pairs); });
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : -1;
  }
  std::vector<std::string> Fields(const std::string& key) {
    auto r = Read([&](Txn& t) { return GetAll(t, key); });
    std::vector<std::string> out;
    for (auto& fv : *r) out.push_back(fv.field);
    return out;
  }
  std::string Encoding(const std::string& key) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(0, key, &rec).ok());
    if (!rec.exists) return "none";
    return rec.body()[0] == '\1' ? "hashtable" : "listpack";
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(HashTest, SetCountsOnlyNewFieldsAndGetReadsThemBack) {
  EXPECT_EQ(HSet("h", {"a", "1", "b", "2"}), 2);
  EXPECT_EQ(HSet("h", {"a", "10", "c", "3", "c", "4"}), 1);
  auto v = Read([&](Txn& t) { return Get(t, "h", "a"); });
  EXPECT_EQ(**v, "10");
  v = Read([&](Txn& t) { return Get(t, "h", "c"); });
  EXPECT_EQ(**v, "4");
  auto n = Read([&](Txn& t) { return Len(t, "h"); });
  EXPECT_EQ(*n, 3);
}

TEST_F(HashTest, CompactHashesListFieldsInInsertionOrder) {
  HSet("h", {"z", "1", "a", "2", "m", "3"});
  HSet("h", {"a", "changed"});
  (void)Write([&](Txn& t) {
    std::vector<std::string_view> f = {"z"};
    return Del(t, "h", f);
  });
  HSet("h", {"z", "back", "b", "new"});
  EXPECT_EQ(Fields("h"), (std::vector<std::string>{"a", "m", "z", "b"}));
}

TEST_F(HashTest, ALongValueOrTooManyFieldsMakeItAHashtableForGood) {
  HSet("h", {"f", std::string(64, 'x')});
  EXPECT_EQ(Encoding("h"), "listpack");
  std::string long_value(65, 'x');
  HSet("h", {"g", long_value});
  EXPECT_EQ(Encoding("h"), "hashtable");
  (void)Write([&](Txn& t) {
    std::vector<std::string_view> f = {"g"};
    return Del(t, "h", f);
  });
  EXPECT_EQ(Encoding("h"), "hashtable");

  std::vector<std::string> names;
  for (uint64_t i = 0; i <= kMaxCompactEntries; ++i) names.push_back("f" + std::to_string(i));
  std::vector<std::string_view> pairs;
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    pairs.push_back(names[i]);
    pairs.push_back("v");
  }
  HSet("many", pairs);
  EXPECT_EQ(Encoding("many"), "listpack");
  HSet("many", {names.back(), "v"});
  EXPECT_EQ(Encoding("many"), "hashtable");
}

TEST_F(HashTest, DeletingTheLastFieldDeletesTheKey) {
  HSet("h", {"a", "1"});
  auto r = Write([&](Txn& t) {
    std::vector<std::string_view> f = {"a", "a", "nope"};
    return Del(t, "h", f);
  });
  EXPECT_EQ(r->deleted, 1);
  EXPECT_TRUE(r->key_removed);
  EXPECT_EQ(Encoding("h"), "none");
}

TEST_F(HashTest, IncrByChecksTheValueAndOverflow) {
  auto r = Write([&](Txn& t) { return IncrBy(t, "h", "n", 5); });
  EXPECT_EQ(*r, 5);
  r = Write([&](Txn& t) { return IncrBy(t, "h", "n", INT64_MAX); });
  EXPECT_EQ(r.code(), Code::kOverflow);
  HSet("h", {"s", "abc", "lead", "01"});
  r = Write([&](Txn& t) { return IncrBy(t, "h", "s", 1); });
  EXPECT_EQ(r.code(), Code::kHashNotInteger);
  r = Write([&](Txn& t) { return IncrBy(t, "h", "lead", 1); });
  EXPECT_EQ(r.code(), Code::kHashNotInteger);
}

TEST_F(HashTest, IncrByFloatFormatsLikeRedis) {
  auto r = Write([&](Txn& t) { return IncrByFloat(t, "h", "f", 10.5L); });
  EXPECT_EQ(*r, "10.5");
  r = Write([&](Txn& t) { return IncrByFloat(t, "h", "f", 0.1L); });
  EXPECT_EQ(*r, "10.6");
  HSet("h", {"s", "x"});
  r = Write([&](Txn& t) { return IncrByFloat(t, "h", "s", 1); });
  EXPECT_EQ(r.code(), Code::kHashNotFloat);
}

TEST_F(HashTest, WritesEarlierInTheSameTransactionAreSeenByGetAll) {
  Txn txn(storage_.get(), 0, TxnMode::kWrite);
  txn.BeginCommand(TxnMode::kWrite, 0);
  std::vector<std::string_view> pairs = {"a", "1", "b", "2"};
  ASSERT_TRUE(Set(txn, "h", pairs).ok());
  txn.EndCommand(false);
  txn.BeginCommand(TxnMode::kRead, 0);
  auto all = GetAll(txn, "h");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  txn.EndCommand(false);
  ASSERT_TRUE(txn.Commit().ok());
}

TEST_F(HashTest, RandomFieldsAreDistinctForAPositiveCountAndRepeatForANegativeOne) {
  std::vector<std::string> names;
  for (int i = 0; i < 3000; ++i) names.push_back("field:" + std::to_string(i));
  std::vector<std::string_view> pairs;
  for (auto& n : names) {
    pairs.push_back(n);
    pairs.push_back("v");
  }
  HSet("h", pairs);
  std::mt19937_64 rng(3);
  for (int64_t count : {1, 10, 1000, 2999}) {
    auto r = Read([&](Txn& t) { return RandomFields(t, "h", count, rng); });
    std::set<std::string> seen;
    for (auto& fv : *r) seen.insert(fv.field);
    EXPECT_EQ(seen.size(), static_cast<size_t>(count));
  }
  auto r = Read([&](Txn& t) { return RandomFields(t, "h", -5000, rng); });
  EXPECT_EQ(r->size(), 5000u);
  r = Read([&](Txn& t) { return RandomFields(t, "h", 5000, rng); });
  EXPECT_EQ(r->size(), 3000u);
}

TEST_F(HashTest, ScanPagesThroughALargeHashWithoutMissingFields) {
  std::vector<std::string> names;
  for (int i = 0; i < 700; ++i) names.push_back("f" + std::to_string(i));
  std::vector<std::string_view> pairs;
  for (auto& n : names) {
    pairs.push_back(n);
    pairs.push_back("v");
  }
  HSet("h", pairs);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int pages = 0;
  do {
    auto r = Read([&](Txn& t) { return Scan(t, "h", cursor, std::nullopt, 50); });
    ASSERT_TRUE(r.ok());
    for (auto& fv : r->items) seen.insert(fv.field);
    cursor = r->cursor;
    ++pages;
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 700u);
  EXPECT_GE(pages, 14);
  auto r = Read([&](Txn& t) { return Scan(t, "h", 0, std::string_view("f69*"), 10000); });
  EXPECT_EQ(r->items.size(), 11u);  // f69, f690..f699
}

}  // namespace
}  // namespace keel::hashes
