#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datatypes/storage.h"
#include "datatypes/string.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::strings {
namespace {

constexpr uint64_t kStartMs = 1'700'000'000'000;

using test::TempDir;

class StringOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StorageOptions o;
    o.dir = dir_.path();
    o.fsync = FsyncPolicy::kNo;
    o.background = false;
    o.block_cache_bytes = 8u << 20;
    o.write_buffer_bytes = 4u << 20;
    o.clock = [clock = clock_] { return clock->load(); };
    auto opened = Storage::Open(std::move(o));
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(opened).value();
  }
  void TearDown() override { storage_.reset(); }

  uint64_t Now() const { return clock_->load(); }
  void Advance(uint64_t ms) { clock_->fetch_add(ms); }

  // Runs `fn` as one command in a fresh write transaction and commits it, as the server does.
  template <typename Fn>
  auto Run(Fn fn) {
    Txn txn(storage_.get(), 0);
    auto result = fn(txn);
    EXPECT_TRUE(txn.Commit().ok());
    return result;
  }

  std::optional<std::string> Read(std::string_view key) {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    auto r = Get(txn, key);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::nullopt;
  }
  uint64_t ExpireAt(std::string_view key) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(0, key, &rec).ok());
    return rec.exists ? rec.meta.expire_at_ms : 0;
  }
  void Put(std::string_view key, std::string_view value, uint64_t expire_at_ms = 0) {
    SetOptions o;
    o.expire_at_ms = expire_at_ms;
    auto r = Run([&](Txn& t) { return Set(t, key, value, o); });
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->written);
  }
  // A compound key (a hash with no elements) to provoke WRONGTYPE.
  void PutHash(std::string_view key) {
    Txn txn(storage_.get(), 0);
    KeyRecord rec;
    ASSERT_TRUE(txn.Load(key, &rec).ok());
    Metadata meta;
    meta.type = ValueType::kHash;
    meta.version = storage_->NextVersion();
    txn.Store(key, &rec, meta, "");
    ASSERT_TRUE(txn.Commit().ok());
  }

  TempDir dir_;
  std::shared_ptr<std::atomic<uint64_t>> clock_ = std::make_shared<std::atomic<uint64_t>>(kStartMs);
  std::unique_ptr<Storage> storage_;
};

using Cond = SetOptions::Condition;

// ------------------------------------------------------------------ GET / SET

TEST_F(StringOpsTest, SetThenGetReturnsTheValue) {
  EXPECT_EQ(Read("k"), std::nullopt);
  Put("k", std::string("bin\0ary", 7));
  EXPECT_EQ(Read("k"), std::string("bin\0ary", 7));
  Put("k", "");
  EXPECT_EQ(Read("k"), "");
  EXPECT_EQ(storage_->KeyCount(0), 1);
}

TEST_F(StringOpsTest, SetNxWritesOnlyWhenTheKeyIsAbsent) {
  SetOptions nx;
  nx.condition = Cond::kIfAbsent;
  auto r = Run([&](Txn& t) { return Set(t, "k", "first", nx); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->written);
  r = Run([&](Txn& t) { return Set(t, "k", "second", nx); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->written);
  EXPECT_EQ(Read("k"), "first");

  // An expired key counts as absent.
  Put("e", "old", Now() + 10);
  Advance(10);
  r = Run([&](Txn& t) { return Set(t, "e", "new", nx); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->written);
  EXPECT_EQ(Read("e"), "new");
  EXPECT_EQ(ExpireAt("e"), 0u);
  EXPECT_EQ(storage_->KeyCount(0), 2);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StringOpsTest, SetXxWritesOnlyWhenTheKeyExists) {
  SetOptions xx;
  xx.condition = Cond::kIfPresent;
  auto r = Run([&](Txn& t) { return Set(t, "k", "v", xx); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->written);
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  Put("k", "old");
  r = Run([&](Txn& t) { return Set(t, "k", "new", xx); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->written);
  EXPECT_EQ(Read("k"), "new");
}

TEST_F(StringOpsTest, SetGetReturnsTheOldValueEvenWhenTheConditionFails) {
  SetOptions get;
  get.get = true;
  auto r = Run([&](Txn& t) { return Set(t, "k", "v1", get); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->written);
  EXPECT_EQ(r->old_value, std::nullopt);
  r = Run([&](Txn& t) { return Set(t, "k", "v2", get); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->old_value, "v1");
  EXPECT_EQ(Read("k"), "v2");

  get.condition = Cond::kIfAbsent;  // SET k v NX GET (allowed since Redis 7.0)
  r = Run([&](Txn& t) { return Set(t, "k", "v3", get); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->written);
  EXPECT_EQ(r->old_value, "v2");
  EXPECT_EQ(Read("k"), "v2");
}

TEST_F(StringOpsTest, SetGetOnANonStringIsWrongTypeAndWritesNothing) {
  PutHash("h");
  SetOptions get;
  get.get = true;
  auto r = Run([&](Txn& t) { return Set(t, "h", "v", get); });
  EXPECT_EQ(r.code(), Code::kWrongType);
  KeyRecord rec;
  ASSERT_TRUE(storage_->ReadKey(0, "h", &rec).ok());
  EXPECT_EQ(rec.meta.type, ValueType::kHash);
  // Without GET, SET replaces a value of any type.
  Put("h", "now a string");
  EXPECT_EQ(Read("h"), "now a string");
  EXPECT_EQ(storage_->KeyCount(0), 1);
}

TEST_F(StringOpsTest, SetWithExpiryAndKeepTtl) {
  Put("k", "v", Now() + 5000);
  EXPECT_EQ(ExpireAt("k"), Now() + 5000);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);

  SetOptions keep;
  keep.keep_ttl = true;
  ASSERT_TRUE(Run([&](Txn& t) { return Set(t, "k", "v2", keep); }).ok());
  EXPECT_EQ(Read("k"), "v2");
  EXPECT_EQ(ExpireAt("k"), Now() + 5000);

  // KEEPTTL on a new key: no TTL.
  ASSERT_TRUE(Run([&](Txn& t) { return Set(t, "fresh", "v", keep); }).ok());
  EXPECT_EQ(ExpireAt("fresh"), 0u);

  // A plain SET drops the TTL.
  Put("k", "v3");
  EXPECT_EQ(ExpireAt("k"), 0u);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StringOpsTest, SetWithAnExpiryTimeInThePastDeletesTheKey) {
  Put("k", "v", Now() + 5000);
  SetOptions past;
  past.expire_at_ms = Now() - 1;  // EXAT in the past
  auto r = Run([&](Txn& t) { return Set(t, "k", "new", past); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->written);
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);

  past.expire_at_ms = Now();  // "now" is not in the future either
  r = Run([&](Txn& t) { return Set(t, "absent", "new", past); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Read("absent"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

TEST_F(StringOpsTest, GetOfANonStringIsWrongType) {
  PutHash("h");
  Txn txn(storage_.get(), 0, TxnMode::kRead);
  EXPECT_EQ(Get(txn, "h").code(), Code::kWrongType);
  EXPECT_EQ(StrLen(txn, "h").code(), Code::kWrongType);
  EXPECT_EQ(GetDel(txn, "h").code(), Code::kWrongType);
}

TEST_F(StringOpsTest, GetDelReturnsAndDeletes) {
  Put("k", "v", Now() + 1000);
  auto r = Run([](Txn& t) { return GetDel(t, "k"); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v");
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  r = Run([](Txn& t) { return GetDel(t, "k"); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::nullopt);
}

// ------------------------------------------------------------------ GETEX

TEST_F(StringOpsTest, GetExPersistRemovesTheTtl) {
  Put("k", "v", Now() + 1000);
  auto r = Run([](Txn& t) { return GetEx(t, "k", {ExpiryChange::Kind::kPersist}); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v");
  EXPECT_EQ(ExpireAt("k"), 0u);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
  Advance(2000);
  EXPECT_EQ(Read("k"), "v");
}

TEST_F(StringOpsTest, GetExSetsOrChangesTheTtl) {
  Put("k", "v");
  ExpiryChange change{ExpiryChange::Kind::kSetAt, Now() + 3000};
  auto r = Run([&](Txn& t) { return GetEx(t, "k", change); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v");
  EXPECT_EQ(ExpireAt("k"), Now() + 3000);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
  change.at_ms = Now() + 100;
  ASSERT_TRUE(Run([&](Txn& t) { return GetEx(t, "k", change); }).ok());
  EXPECT_EQ(ExpireAt("k"), Now() + 100);
  EXPECT_EQ(storage_->ExpiresCount(0), 1);
  // GETEX without options leaves it alone.
  ASSERT_TRUE(Run([&](Txn& t) { return GetEx(t, "k", {}); }).ok());
  EXPECT_EQ(ExpireAt("k"), Now() + 100);
  Advance(100);
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(storage_->RunExpiryCycle(10), 1u);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StringOpsTest, GetExWithATimeInThePastReturnsTheValueAndDeletesTheKey) {
  Put("k", "v", Now() + 1000);
  ExpiryChange change{ExpiryChange::Kind::kSetAt, Now()};
  auto r = Run([&](Txn& t) { return GetEx(t, "k", change); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v");
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StringOpsTest, GetExOfAbsentOrWrongTypeKeys) {
  auto r = Run([](Txn& t) { return GetEx(t, "absent", {ExpiryChange::Kind::kPersist}); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  PutHash("h");
  r = Run([](Txn& t) { return GetEx(t, "h", {ExpiryChange::Kind::kPersist}); });
  EXPECT_EQ(r.code(), Code::kWrongType);
}

// ------------------------------------------------------------------ MSET / MSETNX

TEST_F(StringOpsTest, MSetWritesEveryPairAndDropsTtls) {
  Put("a", "old", Now() + 1000);
  std::vector<std::string_view> pairs = {"a", "1", "b", "2", "c", "3"};
  auto st = Run([&](Txn& t) { return MSet(t, pairs); });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(Read("a"), "1");
  EXPECT_EQ(Read("b"), "2");
  EXPECT_EQ(Read("c"), "3");
  EXPECT_EQ(ExpireAt("a"), 0u);
  EXPECT_EQ(storage_->KeyCount(0), 3);
  EXPECT_EQ(storage_->ExpiresCount(0), 0);
}

TEST_F(StringOpsTest, MSetNxIsAllOrNothing) {
  Put("b", "existing");
  std::vector<std::string_view> pairs = {"a", "1", "b", "2", "c", "3"};
  auto r = Run([&](Txn& t) { return MSetNx(t, pairs); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(Read("a"), std::nullopt);
  EXPECT_EQ(Read("b"), "existing");
  EXPECT_EQ(Read("c"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 1);

  std::vector<std::string_view> fresh = {"x", "1", "y", "2", "x", "3"};  // a repeated key
  r = Run([&](Txn& t) { return MSetNx(t, fresh); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("x"), "3");
  EXPECT_EQ(Read("y"), "2");
  EXPECT_EQ(storage_->KeyCount(0), 3);
}

// ------------------------------------------------------------------ INCRBY / INCRBYFLOAT

TEST_F(StringOpsTest, IncrByCountsFromZeroAndKeepsTheTtl) {
  auto r = Run([](Txn& t) { return IncrBy(t, "n", 5); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  Put("n", "10", Now() + 1000);
  r = Run([](Txn& t) { return IncrBy(t, "n", -15); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, -5);
  EXPECT_EQ(Read("n"), "-5");
  EXPECT_EQ(ExpireAt("n"), Now() + 1000);
}

TEST_F(StringOpsTest, IncrByOverflowIsAnErrorAndLeavesTheValue) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t min = std::numeric_limits<int64_t>::min();
  Put("n", std::to_string(max));
  EXPECT_EQ(Run([](Txn& t) { return IncrBy(t, "n", 1); }).code(), Code::kOverflow);
  EXPECT_EQ(Read("n"), std::to_string(max));
  auto r = Run([&](Txn& t) { return IncrBy(t, "n", min); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, -1);
  Put("n", std::to_string(min));
  EXPECT_EQ(Run([](Txn& t) { return IncrBy(t, "n", -1); }).code(), Code::kOverflow);
  EXPECT_EQ(Run([&](Txn& t) { return IncrBy(t, "n", min); }).code(), Code::kOverflow);
  EXPECT_EQ(Read("n"), std::to_string(min));
  r = Run([&](Txn& t) { return IncrBy(t, "n", max); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, -1);
}

TEST_F(StringOpsTest, IncrByOfANonIntegerIsAnError) {
  for (const char* bad : {"abc", "1.5", " 1", "1 ", "", "99999999999999999999"}) {
    Put("n", bad);
    EXPECT_EQ(Run([](Txn& t) { return IncrBy(t, "n", 1); }).code(), Code::kNotInteger) << bad;
    EXPECT_EQ(Read("n"), bad);
  }
  PutHash("h");
  EXPECT_EQ(Run([](Txn& t) { return IncrBy(t, "h", 1); }).code(), Code::kWrongType);
}

TEST_F(StringOpsTest, IncrByFloatFormatsLikeRedis) {
  Put("f", "10.50");
  auto r = Run([](Txn& t) { return IncrByFloat(t, "f", 0.1L); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "10.6");
  EXPECT_EQ(Read("f"), "10.6");
  r = Run([](Txn& t) { return IncrByFloat(t, "new", 3); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "3");
  Put("e", "5.0e3", Now() + 1000);
  r = Run([](Txn& t) { return IncrByFloat(t, "e", 200); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "5200");
  EXPECT_EQ(ExpireAt("e"), Now() + 1000);
}

TEST_F(StringOpsTest, IncrByFloatRejectsNanAndInfinity) {
  const long double inf = std::numeric_limits<long double>::infinity();
  const long double nan = std::numeric_limits<long double>::quiet_NaN();
  const long double big = std::numeric_limits<long double>::max();
  Put("f", "1");
  EXPECT_EQ(Run([&](Txn& t) { return IncrByFloat(t, "f", inf); }).code(), Code::kNanOrInfinity);
  EXPECT_EQ(Run([&](Txn& t) { return IncrByFloat(t, "f", -inf); }).code(), Code::kNanOrInfinity);
  EXPECT_EQ(Run([&](Txn& t) { return IncrByFloat(t, "f", nan); }).code(), Code::kNanOrInfinity);
  EXPECT_EQ(Read("f"), "1");
  EXPECT_EQ(Run([&](Txn& t) { return IncrByFloat(t, "absent", inf); }).code(),
            Code::kNanOrInfinity);
  EXPECT_EQ(Read("absent"), std::nullopt);
  EXPECT_EQ(storage_->KeyCount(0), 1);

  // Overflowing to infinity, and a stored "inf" plus anything.
  ASSERT_TRUE(Run([&](Txn& t) { return IncrByFloat(t, "f", big); }).ok());
  EXPECT_EQ(Run([&](Txn& t) { return IncrByFloat(t, "f", big); }).code(), Code::kNanOrInfinity);
  Put("i", "inf");
  EXPECT_EQ(Run([](Txn& t) { return IncrByFloat(t, "i", 1); }).code(), Code::kNanOrInfinity);
  EXPECT_EQ(Run([&](Txn& t) { return IncrByFloat(t, "i", -inf); }).code(), Code::kNanOrInfinity);
  EXPECT_EQ(Read("i"), "inf");
}

TEST_F(StringOpsTest, IncrByFloatOfANonFloatIsAnError) {
  for (const char* bad : {"abc", "1.5x", " 1", "", "nan"}) {
    Put("f", bad);
    EXPECT_EQ(Run([](Txn& t) { return IncrByFloat(t, "f", 1); }).code(), Code::kNotFloat) << bad;
  }
  PutHash("h");
  EXPECT_EQ(Run([](Txn& t) { return IncrByFloat(t, "h", 1); }).code(), Code::kWrongType);
}

// ------------------------------------------------------------------ APPEND / SETRANGE / STRLEN

TEST_F(StringOpsTest, AppendCreatesExtendsAndKeepsTheTtl) {
  auto r = Run([](Txn& t) { return Append(t, "k", "abc", 100); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3);
  Put("t", "x", Now() + 1000);
  r = Run([](Txn& t) { return Append(t, "t", "yz", 100); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3);
  EXPECT_EQ(Read("t"), "xyz");
  EXPECT_EQ(ExpireAt("t"), Now() + 1000);
}

TEST_F(StringOpsTest, AppendPastMaxBytesIsStringTooLong) {
  ASSERT_TRUE(Run([](Txn& t) { return Append(t, "k", "abc", 5); }).ok());
  auto r = Run([](Txn& t) { return Append(t, "k", "def", 5); });
  EXPECT_EQ(r.code(), Code::kStringTooLong);
  EXPECT_EQ(Read("k"), "abc");
  r = Run([](Txn& t) { return Append(t, "k", "de", 5); });  // exactly at the limit
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  PutHash("h");
  EXPECT_EQ(Run([](Txn& t) { return Append(t, "h", "x", 5); }).code(), Code::kWrongType);
}

TEST_F(StringOpsTest, SetRangePadsWithZeroBytesAndKeepsTheTtl) {
  auto r = Run([](Txn& t) { return SetRange(t, "k", 3, "ab", 100); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  EXPECT_EQ(Read("k"), std::string("\0\0\0ab", 5));
  Put("t", "Hello World", Now() + 1000);
  r = Run([](Txn& t) { return SetRange(t, "t", 6, "Redis", 100); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 11);
  EXPECT_EQ(Read("t"), "Hello Redis");
  EXPECT_EQ(ExpireAt("t"), Now() + 1000);
}

TEST_F(StringOpsTest, SetRangeLimitsAndNoOps) {
  EXPECT_EQ(Run([](Txn& t) { return SetRange(t, "k", 4, "ab", 5); }).code(), Code::kStringTooLong);
  EXPECT_EQ(Run([](Txn& t) {
              return SetRange(t, "k", std::numeric_limits<int64_t>::max(), "a", 512u << 20);
            }).code(),
            Code::kStringTooLong);
  EXPECT_EQ(Read("k"), std::nullopt);
  EXPECT_EQ(Run([](Txn& t) { return SetRange(t, "k", -1, "a", 5); }).code(),
            Code::kOffsetOutOfRange);
  // An empty value creates nothing and reports the current length.
  auto r = Run([](Txn& t) { return SetRange(t, "k", 100, "", 5); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(storage_->KeyCount(0), 0);
  Put("s", "abc");
  r = Run([](Txn& t) { return SetRange(t, "s", 100, "", 5); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3);
  r = Run([](Txn& t) { return SetRange(t, "s", 3, "de", 5); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  PutHash("h");
  EXPECT_EQ(Run([](Txn& t) { return SetRange(t, "h", 0, "x", 5); }).code(), Code::kWrongType);
}

TEST_F(StringOpsTest, StrLenOfPresentAndAbsentKeys) {
  Put("k", "hello");
  Txn txn(storage_.get(), 0, TxnMode::kRead);
  auto r = StrLen(txn, "k");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  r = StrLen(txn, "absent");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
}

TEST_F(StringOpsTest, OperationsInOneTxnSeeEachOthersPendingWrites) {
  Txn txn(storage_.get(), 0);
  ASSERT_TRUE(Set(txn, "k", "1", {}).ok());
  auto n = IncrBy(txn, "k", 41);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 42);
  auto len = Append(txn, "k", "!", 100);
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 3);
  EXPECT_EQ(Read("k"), std::nullopt);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Read("k"), "42!");
  EXPECT_EQ(storage_->KeyCount(0), 1);
}

TEST_F(StringOpsTest, StoreKeepTtlAndLoadString) {
  Put("k", "v", Now() + 1000);
  Txn txn(storage_.get(), 0);
  KeyRecord rec;
  std::string value;
  ASSERT_TRUE(LoadString(txn, "k", &rec, &value).ok());
  EXPECT_EQ(value, "v");
  StoreKeepTtl(txn, "k", &rec, "w");
  KeyRecord absent;
  ASSERT_TRUE(LoadString(txn, "absent", &absent, &value).ok());
  EXPECT_EQ(value, "");
  EXPECT_FALSE(absent.exists);
  StoreKeepTtl(txn, "absent", &absent, "new");
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(Read("k"), "w");
  EXPECT_EQ(ExpireAt("k"), Now() + 1000);
  EXPECT_EQ(Read("absent"), "new");
  EXPECT_EQ(ExpireAt("absent"), 0u);
  PutHash("h");
  Txn txn2(storage_.get(), 0);
  EXPECT_EQ(LoadString(txn2, "h", &rec, &value).code(), Code::kWrongType);
}

TEST_F(StringOpsTest, InPlaceEditsAreRawAndIncrByFloatIsNeverInt) {
  auto encoding = [&](std::string_view key) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(0, key, &rec).ok());
    return EncodingOf(rec.body(), rec.meta.encoding);
  };
  Put("n", "123");
  EXPECT_EQ(encoding("n"), "int");
  ASSERT_TRUE(Run([](Txn& t) { return Append(t, "n", "4", 100); }).ok());
  EXPECT_EQ(encoding("n"), "raw");  // APPEND edits in place, even an int-looking value
  ASSERT_TRUE(Run([](Txn& t) { return Append(t, "fresh", "5", 100); }).ok());
  EXPECT_EQ(encoding("fresh"), "int");  // a new key is encoded from its content
  ASSERT_TRUE(Run([](Txn& t) { return SetRange(t, "r", 0, "ab", 100); }).ok());
  EXPECT_EQ(encoding("r"), "raw");
  ASSERT_TRUE(Run([](Txn& t) { return IncrByFloat(t, "f", 3); }).ok());
  EXPECT_EQ(Read("f"), "3");
  EXPECT_EQ(encoding("f"), "embstr");
  ASSERT_TRUE(Run([](Txn& t) { return IncrBy(t, "f", 1); }).ok());
  EXPECT_EQ(encoding("f"), "int");
  Put("r", "plain");  // SET starts over
  EXPECT_EQ(encoding("r"), "embstr");
}

TEST(StringEncodingTest, EncodingOfFollowsRedisThresholds) {
  EXPECT_EQ(EncodingOf("12345"), "int");
  EXPECT_EQ(EncodingOf("-9223372036854775808"), "int");
  EXPECT_EQ(EncodingOf("abc"), "embstr");
  EXPECT_EQ(EncodingOf("01"), "embstr");
  EXPECT_EQ(EncodingOf(std::string(44, 'x')), "embstr");
  EXPECT_EQ(EncodingOf(std::string(45, 'x')), "raw");
  EXPECT_EQ(EncodingOf("99999999999999999999"), "embstr");  // out of int64 range
  EXPECT_EQ(EncodingOf("12", StringEncoding::kRaw), "raw");
  EXPECT_EQ(EncodingOf("12", StringEncoding::kNoInt), "embstr");
  EXPECT_EQ(EncodingOf(std::string(45, '1'), StringEncoding::kNoInt), "raw");
}

}  // namespace
}  // namespace keel::strings
