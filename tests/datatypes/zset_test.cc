// Sorted-set operations on Storage (datatypes/zset.h) and the rank trie under them
// (datatypes/zset_index.h), checked against an in-memory model.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "datatypes/storage.h"
#include "datatypes/zset.h"
#include "datatypes/zset_index.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::zsets {
namespace {

using test::TempDir;

class ZSetTest : public ::testing::Test {
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
  void Reopen() {
    storage_.reset();
    Open();
  }

  // Runs `fn` in a fresh write transaction and commits it, as the server does per command.
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

  void Add(const std::string& key, double score, const std::string& member) {
    ScoreMemberArg item{score, member};
    auto r = Write([&](Txn& t) { return zsets::Add(t, key, std::span(&item, 1), AddOptions()); });
    ASSERT_TRUE(r.ok());
  }
  std::vector<std::string> Members(const std::string& key, RangeSpec spec = RangeSpec()) {
    auto r = Read([&](Txn& t) { return Range(t, key, spec); });
    EXPECT_TRUE(r.ok());
    std::vector<std::string> out;
    if (r.ok()) {
      for (auto& m : *r) out.push_back(m.member);
    }
    return out;
  }
  std::string Encoding(const std::string& key) {
    KeyRecord rec;
    EXPECT_TRUE(storage_->ReadKey(0, key, &rec).ok());
    if (!rec.exists) return "none";
    return std::string(rec.body()).substr(0, 1) == std::string(1, '\1') ? "skiplist" : "listpack";
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

// A model of a sorted set: (score, member) pairs in Redis order.
struct Model {
  std::map<std::string, double> scores;
  std::set<std::pair<double, std::string>> order;
  void Add(const std::string& m, double s) {
    auto it = scores.find(m);
    if (it != scores.end()) order.erase({it->second, m});
    scores[m] = s;
    order.insert({s, m});
  }
  void Erase(const std::string& m) {
    auto it = scores.find(m);
    if (it == scores.end()) return;
    order.erase({it->second, m});
    scores.erase(it);
  }
  std::vector<std::string> InOrder() const {
    std::vector<std::string> out;
    for (auto& [s, m] : order) out.push_back(m);
    return out;
  }
};

TEST(OrderedScoreTest, ByteOrderIsNumericOrder) {
  std::vector<double> v = {
      -std::numeric_limits<double>::infinity(), -1e300, -2.5, -1, -1e-300, 0, 1e-300, 1, 2.5, 1e300,
      std::numeric_limits<double>::infinity()};
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    EXPECT_LT(OrderedScore(v[i]), OrderedScore(v[i + 1])) << v[i] << " " << v[i + 1];
    EXPECT_EQ(ScoreFromOrdered(OrderedScore(v[i])), v[i]);
  }
  EXPECT_EQ(OrderedScore(-0.0), OrderedScore(0.0));
  EXPECT_EQ(NextOrdered(OrderedScore(1)), OrderedScore(std::nextafter(1.0, 2.0)));
  EXPECT_EQ(NextOrdered(OrderedScore(-1)), OrderedScore(std::nextafter(-1.0, 0.0)));
}

TEST(ZSetParseTest, ScoreRangesFollowRedisStrtodRules) {
  ScoreRange r;
  ASSERT_TRUE(ParseScoreRange("(1.5", "+inf", &r));
  EXPECT_TRUE(r.min.exclusive);
  EXPECT_EQ(r.min.value, 1.5);
  EXPECT_FALSE(r.max.exclusive);
  EXPECT_TRUE(std::isinf(r.max.value));
  EXPECT_TRUE(ParseScoreRange("", "(", &r));  // strtod of "" is 0
  EXPECT_TRUE(ParseScoreRange(" 1", "0x10", &r));
  EXPECT_EQ(r.max.value, 16);
  EXPECT_FALSE(ParseScoreRange("nan", "1", &r));
  EXPECT_FALSE(ParseScoreRange("1", "1x", &r));
  EXPECT_FALSE(ParseScoreRange("abc", "1", &r));
}

TEST(ZSetParseTest, LexRangesNeedABracketOrAnInfinity) {
  LexRange r;
  ASSERT_TRUE(ParseLexRange("[a", "(b", &r));
  EXPECT_EQ(r.min.kind, LexBound::Kind::kInclusive);
  EXPECT_EQ(r.min.value, "a");
  EXPECT_EQ(r.max.kind, LexBound::Kind::kExclusive);
  EXPECT_TRUE(ParseLexRange("-", "+", &r));
  EXPECT_FALSE(ParseLexRange("a", "+", &r));
  EXPECT_FALSE(ParseLexRange("-a", "+", &r));
  EXPECT_FALSE(ParseLexRange("", "+", &r));
}

TEST(ZSetParseTest, ScanScoresPrintLikeAListpack) {
  EXPECT_EQ(FormatScanScore(1e18), "1000000000000000000");
  EXPECT_EQ(FormatScanScore(1e20), "1e+20");
  EXPECT_EQ(FormatScanScore(2.5), "2.5");
  EXPECT_EQ(FormatScanScore(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST_F(ZSetTest, AddReportsAddedAndUpdatedMembersAndKeepsScoreOrder) {
  std::vector<ScoreMemberArg> items = {{3, "c"}, {1, "a"}, {2, "b"}};
  auto r = Write([&](Txn& t) { return zsets::Add(t, "z", items, AddOptions()); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->added, 3);
  std::vector<ScoreMemberArg> again = {{5, "a"}, {2, "b"}};
  r = Write([&](Txn& t) { return zsets::Add(t, "z", again, AddOptions()); });
  EXPECT_EQ(r->added, 0);
  EXPECT_EQ(r->updated, 1);
  EXPECT_EQ(Members("z"), (std::vector<std::string>{"b", "c", "a"}));
}

TEST_F(ZSetTest, IncrementToNaNIsAnErrorAndChangesNothing) {
  Add("z", std::numeric_limits<double>::infinity(), "a");
  AddOptions opt;
  opt.incr = true;
  ScoreMemberArg item{-std::numeric_limits<double>::infinity(), "a"};
  auto r = Write([&](Txn& t) { return zsets::Add(t, "z", std::span(&item, 1), opt); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Code::kScoreNaN);
  auto s = Read([&](Txn& t) { return Score(t, "z", "a"); });
  EXPECT_TRUE(std::isinf(**s));
}

TEST_F(ZSetTest, CompactSetsStoreNegativeZeroAsZeroButLargeOnesKeepIt) {
  Add("small", -0.0, "a");
  auto s = Read([&](Txn& t) { return Score(t, "small", "a"); });
  EXPECT_FALSE(std::signbit(**s));
  Add("large", -0.0, std::string(65, 'x'));
  EXPECT_EQ(Encoding("large"), "skiplist");
  s = Read([&](Txn& t) { return Score(t, "large", std::string(65, 'x')); });
  EXPECT_TRUE(std::signbit(**s));
  auto range = Read([&](Txn& t) { return Range(t, "large", RangeSpec()); });
  ASSERT_EQ(range->size(), 1u);
  EXPECT_TRUE(std::signbit(range->front().score));
}

TEST_F(ZSetTest, EncodingTurnsSkiplistPastOneHundredTwentyEightMembersAndStays) {
  for (int i = 0; i < 128; ++i) Add("z", i, "m" + std::to_string(i));
  EXPECT_EQ(Encoding("z"), "listpack");
  Add("z", 1000, "one-more");
  EXPECT_EQ(Encoding("z"), "skiplist");
  auto r = Write([&](Txn& t) {
    std::vector<std::string_view> gone = {"one-more", "m0", "m1"};
    return Rem(t, "z", gone);
  });
  EXPECT_EQ(r->removed, 3);
  EXPECT_EQ(Encoding("z"), "skiplist");
}

TEST_F(ZSetTest, RemovingTheLastMemberDeletesTheKey) {
  Add("z", 1, "a");
  auto r = Write([&](Txn& t) {
    std::vector<std::string_view> gone = {"a"};
    return Rem(t, "z", gone);
  });
  EXPECT_TRUE(r->key_removed);
  EXPECT_EQ(Encoding("z"), "none");
}

TEST_F(ZSetTest, WrongTypeIsReported) {
  {
    Txn t(storage_.get(), 0, TxnMode::kWrite);
    KeyRecord rec;
    ASSERT_TRUE(t.Load("s", &rec).ok());
    Metadata m;
    m.type = ValueType::kString;
    t.Store("s", &rec, m, "v");
    ASSERT_TRUE(t.Commit().ok());
  }
  auto r = Read([&](Txn& t) { return Card(t, "s"); });
  EXPECT_EQ(r.code(), Code::kWrongType);
}

// The rank trie against a model, through thresholds, updates, removals and a restart.
TEST_F(ZSetTest, RanksAndRangesMatchAModelThroughRandomChanges) {
  std::mt19937_64 rng(42);
  Model model;
  auto check = [&] {
    std::vector<std::string> expect = model.InOrder();
    ASSERT_EQ(Members("z"), expect);
    auto card = Read([&](Txn& t) { return Card(t, "z"); });
    ASSERT_EQ(*card, static_cast<int64_t>(expect.size()));
    for (int probe = 0; probe < 20 && !expect.empty(); ++probe) {
      size_t i = rng() % expect.size();
      auto rank = Read([&](Txn& t) { return Rank(t, "z", expect[i], false); });
      ASSERT_TRUE(rank.ok());
      ASSERT_EQ(**rank, static_cast<int64_t>(i)) << expect[i];
      RangeSpec spec;
      spec.start = static_cast<int64_t>(i);
      spec.stop = static_cast<int64_t>(i + 3);
      auto got = Members("z", spec);
      std::vector<std::string> want(
          expect.begin() + static_cast<ptrdiff_t>(i),
          expect.begin() + static_cast<ptrdiff_t>(std::min(i + 4, expect.size())));
      ASSERT_EQ(got, want);
    }
    // Counts of random score windows.
    for (int probe = 0; probe < 10; ++probe) {
      double lo = static_cast<double>(rng() % 40) - 5, hi = lo + static_cast<double>(rng() % 15);
      ScoreRange range{{lo, probe % 2 == 0}, {hi, probe % 3 == 0}};
      int64_t want = 0;
      for (auto& [s, m] : model.order) {
        bool above = range.min.exclusive ? s > lo : s >= lo;
        bool below = range.max.exclusive ? s < hi : s <= hi;
        want += above && below;
      }
      auto got = Read([&](Txn& t) { return Count(t, "z", range); });
      ASSERT_EQ(*got, want);
    }
  };
  for (int step = 0; step < 4000; ++step) {
    int op = static_cast<int>(rng() % 10);
    // Few distinct scores, so many members share one; members of varied length and shared
    // prefixes (a prefix of another member at the same score exercises terminal nodes).
    double score = static_cast<double>(rng() % 30);
    std::string member = "m" + std::string(rng() % 3, 'p') + std::to_string(rng() % 1200);
    // Grow for the first half, then shrink: nodes fill past the threshold and drain again.
    if (step < 2000 ? op < 7 : op < 3) {
      Add("z", score, member);
      model.Add(member, score);
    } else {
      (void)Write([&](Txn& t) {
        std::vector<std::string_view> gone = {member};
        return Rem(t, "z", gone);
      });
      model.Erase(member);
    }
    if (step % 400 == 0) check();
  }
  check();
  Reopen();
  check();
}

TEST_F(ZSetTest, ManyEqualScoresRankThroughMemberBytes) {
  std::vector<ScoreMemberArg> items;
  std::vector<std::string> names;
  for (int i = 0; i < 3000; ++i) {
    char buf[16];
    snprintf(buf, sizeof(buf), "member:%05d", i);
    names.emplace_back(buf);
  }
  for (const auto& n : names) items.push_back({7, n});
  ASSERT_TRUE(Write([&](Txn& t) { return zsets::Add(t, "eq", items, AddOptions()); }).ok());
  for (int i : {0, 1, 63, 64, 65, 1500, 2999}) {
    auto rank = Read([&](Txn& t) { return Rank(t, "eq", names[i], false); });
    EXPECT_EQ(**rank, i);
    RangeSpec spec;
    spec.start = spec.stop = i;
    EXPECT_EQ(Members("eq", spec), std::vector<std::string>{names[i]});
  }
  LexRange lex;
  ASSERT_TRUE(ParseLexRange("[member:01000", "(member:02000", &lex));
  auto n = Read([&](Txn& t) { return LexCount(t, "eq", lex); });
  EXPECT_EQ(*n, 1000);
}

TEST_F(ZSetTest, ScoreRangesWithOffsetsUseRanks) {
  std::vector<ScoreMemberArg> items;
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) names.push_back("k" + std::to_string(i));
  for (int i = 0; i < 1000; ++i) items.push_back({static_cast<double>(i), names[i]});
  ASSERT_TRUE(Write([&](Txn& t) { return zsets::Add(t, "z", items, AddOptions()); }).ok());
  RangeSpec spec;
  spec.kind = RangeKind::kScore;
  ASSERT_TRUE(ParseScoreRange("(100", "900", &spec.score));
  spec.offset = 500;
  spec.limit = 3;
  EXPECT_EQ(Members("z", spec), (std::vector<std::string>{"k601", "k602", "k603"}));
  spec.reverse = true;
  EXPECT_EQ(Members("z", spec), (std::vector<std::string>{"k400", "k399", "k398"}));
  spec.offset = 799;
  EXPECT_EQ(Members("z", spec), (std::vector<std::string>{"k101"}));
  spec.offset = 800;
  EXPECT_TRUE(Members("z", spec).empty());
}

TEST_F(ZSetTest, RemovingAWholeRangeDeletesTheKeyInOneStep) {
  std::vector<ScoreMemberArg> items;
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i) names.push_back("k" + std::to_string(i));
  for (int i = 0; i < 500; ++i) items.push_back({static_cast<double>(i), names[i]});
  ASSERT_TRUE(Write([&](Txn& t) { return zsets::Add(t, "z", items, AddOptions()); }).ok());
  RangeSpec spec;
  spec.start = 100;
  spec.stop = 199;
  auto r = Write([&](Txn& t) { return RemRange(t, "z", spec); });
  EXPECT_EQ(r->removed, 100);
  EXPECT_FALSE(r->key_removed);
  auto rank = Read([&](Txn& t) { return Rank(t, "z", "k300", false); });
  EXPECT_EQ(**rank, 200);
  spec.start = 0;
  spec.stop = -1;
  r = Write([&](Txn& t) { return RemRange(t, "z", spec); });
  EXPECT_EQ(r->removed, 400);
  EXPECT_TRUE(r->key_removed);
  EXPECT_EQ(Encoding("z"), "none");
}

TEST_F(ZSetTest, PopsTakeTheEndsInOrder) {
  for (int i = 0; i < 5; ++i) Add("z", i, std::string(1, static_cast<char>('a' + i)));
  auto r = Write([&](Txn& t) { return Pop(t, "z", 2, false); });
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->items[0].member, "a");
  EXPECT_EQ(r->items[1].member, "b");
  r = Write([&](Txn& t) { return Pop(t, "z", 10, true); });
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(r->items[0].member, "e");
  EXPECT_TRUE(r->key_removed);
}

TEST_F(ZSetTest, UnionAggregatesAndTurnsNaNIntoZero) {
  Add("a", std::numeric_limits<double>::infinity(), "x");
  Add("b", -std::numeric_limits<double>::infinity(), "x");
  Add("b", 2, "y");
  CombineSpec spec;
  std::vector<std::string_view> keys = {"a", "b"};
  auto r = Read([&](Txn& t) { return Combine(t, keys, spec); });
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].member, "x");
  EXPECT_EQ((*r)[0].score, 0);
  spec.op = SetOp::kInter;
  spec.aggregate = Aggregate::kMax;
  r = Read([&](Txn& t) { return Combine(t, keys, spec); });
  ASSERT_EQ(r->size(), 1u);
  EXPECT_TRUE(std::isinf((*r)[0].score));
}

TEST_F(ZSetTest, StoredResultsGetTheirNaturalEncoding) {
  for (int i = 0; i < 200; ++i) Add("big", i, "m" + std::to_string(i));
  RangeSpec spec;
  spec.start = 0;
  spec.stop = 9;
  auto r = Write([&](Txn& t) { return RangeStore(t, "small", "big", spec); });
  EXPECT_EQ(r->size, 10);
  EXPECT_EQ(Encoding("small"), "listpack");
  spec.stop = -1;
  r = Write([&](Txn& t) { return RangeStore(t, "copy", "big", spec); });
  EXPECT_EQ(r->size, 200);
  EXPECT_EQ(Encoding("copy"), "skiplist");
  auto rank = Read([&](Txn& t) { return Rank(t, "copy", "m150", false); });
  EXPECT_EQ(**rank, 150);
}

TEST_F(ZSetTest, RandomMembersWithoutRepeatsAreDistinct) {
  for (int i = 0; i < 2000; ++i) Add("z", i % 7, "m" + std::to_string(i));
  std::mt19937_64 rng(1);
  auto r = Read([&](Txn& t) { return RandomMembers(t, "z", 50, rng); });
  std::set<std::string> seen;
  for (auto& m : *r) seen.insert(m.member);
  EXPECT_EQ(seen.size(), 50u);
  r = Read([&](Txn& t) { return RandomMembers(t, "z", -30, rng); });
  EXPECT_EQ(r->size(), 30u);
}

TEST_F(ZSetTest, ScanOfALargeSetVisitsEveryMemberOnce) {
  for (int i = 0; i < 300; ++i) Add("z", i, "m" + std::to_string(i));
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    auto r = Read([&](Txn& t) { return Scan(t, "z", cursor, std::nullopt, 17); });
    ASSERT_TRUE(r.ok());
    for (auto& m : r->items) seen.insert(m.member);
    cursor = r->cursor;
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 300u);
}

}  // namespace
}  // namespace keel::zsets
