// Set operations on Storage (datatypes/set.h).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "datatypes/set.h"
#include "datatypes/storage.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::sets {
namespace {

using test::TempDir;

class SetTest : public ::testing::Test {
 protected:
  void SetUp() override {
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
  void TearDown() override { storage_.reset(); }

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
  int64_t SAdd(const std::string& key, std::vector<std::string_view> members) {
    auto r = Write([&](Txn& t) { return Add(t, key, members); });
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : -1;
  }
  std::vector<std::string> SMembers(const std::string& key) {
    auto r = Read([&](Txn& t) { return Members(t, key); });
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<std::string>();
  }
  std::string Encoding(const std::string& key) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(0, key, &rec).ok());
    if (!rec.exists) return "none";
    return rec.body()[0] == '\1' ? "hashtable" : "intset";
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TEST(IntsetMemberTest, OnlyCanonicalInt64sQualify) {
  EXPECT_TRUE(IsIntsetMember("0"));
  EXPECT_TRUE(IsIntsetMember("-9223372036854775808"));
  EXPECT_FALSE(IsIntsetMember("9223372036854775808"));
  EXPECT_FALSE(IsIntsetMember("-0"));
  EXPECT_FALSE(IsIntsetMember("007"));
  EXPECT_FALSE(IsIntsetMember(" 1"));
  EXPECT_FALSE(IsIntsetMember("1.0"));
}

TEST_F(SetTest, AddCountsNewMembersAndIntsetsListThemNumerically) {
  EXPECT_EQ(SAdd("s", {"10", "-5", "3", "3"}), 3);
  EXPECT_EQ(SAdd("s", {"3", "100"}), 1);
  EXPECT_EQ(SMembers("s"), (std::vector<std::string>{"-5", "3", "10", "100"}));
  EXPECT_EQ(Encoding("s"), "intset");
}

TEST_F(SetTest, ANonIntegerOrTooManyMembersMakeItAHashtableForGood) {
  SAdd("s", {"1", "2"});
  SAdd("s", {"x"});
  EXPECT_EQ(Encoding("s"), "hashtable");
  (void)Write([&](Txn& t) {
    std::vector<std::string_view> m = {"x"};
    return Rem(t, "s", m);
  });
  EXPECT_EQ(Encoding("s"), "hashtable");
  std::vector<std::string> names;
  for (uint64_t i = 0; i <= kMaxIntsetEntries; ++i) names.push_back(std::to_string(i));
  std::vector<std::string_view> members(names.begin(), names.end() - 1);
  SAdd("big", members);
  EXPECT_EQ(Encoding("big"), "intset");
  SAdd("big", {names.back()});
  EXPECT_EQ(Encoding("big"), "hashtable");
}

TEST_F(SetTest, RemovingTheLastMemberDeletesTheKey) {
  SAdd("s", {"a"});
  auto r = Write([&](Txn& t) {
    std::vector<std::string_view> m = {"a", "a"};
    return Rem(t, "s", m);
  });
  EXPECT_EQ(r->removed, 1);
  EXPECT_TRUE(r->key_removed);
  EXPECT_EQ(Encoding("s"), "none");
}

TEST_F(SetTest, AlgebraFollowsRedis) {
  SAdd("a", {"1", "2", "3", "4"});
  SAdd("b", {"3", "4", "5"});
  SAdd("c", {"x", "4"});
  std::vector<std::string_view> ab = {"a", "b"};
  auto inter = Read([&](Txn& t) { return Compute(t, ab, SetOp::kInter); });
  EXPECT_EQ(*inter, (std::vector<std::string>{"3", "4"}));
  auto uni = Read([&](Txn& t) { return Compute(t, ab, SetOp::kUnion); });
  EXPECT_EQ(*uni, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  auto diff = Read([&](Txn& t) { return Compute(t, ab, SetOp::kDiff); });
  EXPECT_EQ(*diff, (std::vector<std::string>{"1", "2"}));
  std::vector<std::string_view> abc = {"a", "b", "c"};
  auto card = Read([&](Txn& t) { return InterCard(t, abc, 0); });
  EXPECT_EQ(*card, 1);
  card = Read([&](Txn& t) { return InterCard(t, ab, 1); });
  EXPECT_EQ(*card, 1);
  std::vector<std::string_view> missing = {"a", "nope"};
  inter = Read([&](Txn& t) { return Compute(t, missing, SetOp::kInter); });
  EXPECT_TRUE(inter->empty());
}

TEST_F(SetTest, StoreWritesTheNaturalEncodingAndDeletesOnAnEmptyResult) {
  SAdd("a", {"1", "2"});
  SAdd("b", {"x", "2"});
  std::vector<std::string_view> ab = {"a", "b"};
  auto r = Write([&](Txn& t) { return Store(t, "d", ab, SetOp::kInter); });
  EXPECT_EQ(r->size, 1);
  EXPECT_EQ(Encoding("d"), "intset");
  r = Write([&](Txn& t) { return Store(t, "d", ab, SetOp::kUnion); });
  EXPECT_EQ(r->size, 3);
  EXPECT_EQ(Encoding("d"), "hashtable");
  std::vector<std::string_view> none = {"a", "nope"};
  r = Write([&](Txn& t) { return Store(t, "d", none, SetOp::kInter); });
  EXPECT_EQ(r->size, 0);
  EXPECT_TRUE(r->dst_deleted);
  EXPECT_EQ(Encoding("d"), "none");
}

TEST_F(SetTest, MoveRemovesFromSourceAndCreatesTheDestination) {
  SAdd("src", {"1", "x"});
  auto r = Write([&](Txn& t) { return Move(t, "src", "dst", "1"); });
  EXPECT_TRUE(r->moved);
  EXPECT_TRUE(r->dst_changed);
  EXPECT_EQ(Encoding("dst"), "intset");
  r = Write([&](Txn& t) { return Move(t, "src", "dst", "x"); });
  EXPECT_TRUE(r->src_removed);
  EXPECT_EQ(Encoding("src"), "none");
  EXPECT_EQ(Encoding("dst"), "hashtable");
  r = Write([&](Txn& t) { return Move(t, "dst", "dst", "x"); });
  EXPECT_TRUE(r->moved);
  EXPECT_FALSE(r->src_changed);
}

TEST_F(SetTest, PoppingMostOfASetOfIntegersRebuildsAnIntset) {
  std::vector<std::string> names;
  for (int i = 0; i < 600; ++i) names.push_back(std::to_string(i));
  std::vector<std::string_view> members(names.begin(), names.end());
  SAdd("s", members);
  EXPECT_EQ(Encoding("s"), "hashtable");
  std::mt19937_64 rng(5);
  auto r = Write([&](Txn& t) { return Pop(t, "s", 500, rng); });
  EXPECT_EQ(r->members.size(), 500u);
  EXPECT_EQ(std::set<std::string>(r->members.begin(), r->members.end()).size(), 500u);
  EXPECT_EQ(Encoding("s"), "intset");
  auto card = Read([&](Txn& t) { return Card(t, "s"); });
  EXPECT_EQ(*card, 100);
}

TEST_F(SetTest, PopsFromALargeSetAreDistinctAndRemoved) {
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i) names.push_back("member:" + std::to_string(i));
  std::vector<std::string_view> members(names.begin(), names.end());
  SAdd("s", members);
  std::mt19937_64 rng(9);
  std::set<std::string> popped;
  for (int i = 0; i < 20; ++i) {
    auto r = Write([&](Txn& t) { return Pop(t, "s", std::nullopt, rng); });
    ASSERT_EQ(r->members.size(), 1u);
    EXPECT_TRUE(popped.insert(r->members[0]).second);
  }
  auto r = Write([&](Txn& t) { return Pop(t, "s", 100, rng); });
  for (auto& m : r->members) EXPECT_TRUE(popped.insert(m).second);
  auto card = Read([&](Txn& t) { return Card(t, "s"); });
  EXPECT_EQ(*card, 4880);
  for (const auto& m : popped) {
    auto in = Read([&](Txn& t) { return IsMember(t, "s", m); });
    EXPECT_FALSE(*in);
  }
}

}  // namespace
}  // namespace keel::sets
