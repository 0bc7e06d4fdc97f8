// Unit tests of datatypes/stream.h: id parsing, entries, Redis's node-granular trimming,
// consumer groups and their persistence across a reopen.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "datatypes/storage.h"
#include "datatypes/stream.h"
#include "datatypes/stream_internal.h"
#include "tests/datatypes/temp_dir.h"

namespace keel::streams {
namespace {

constexpr uint64_t kStartMs = 1'700'000'000'000;

using test::TempDir;

class StreamTest : public ::testing::Test {
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
    o.clock = [clock = clock_] { return clock->load(); };
    auto opened = Storage::Open(std::move(o));
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(opened).value();
  }

  template <typename Fn>
  auto Run(Fn fn) {
    Txn txn(storage_.get(), 0);
    auto result = fn(txn);
    EXPECT_TRUE(txn.Commit().ok());
    return result;
  }

  StreamId AddEntry(std::string_view key, std::vector<std::string_view> fields,
                    std::optional<StreamId> id = std::nullopt, TrimSpec trim = {}) {
    AddArgs a;
    if (id) {
      a.id_given = true;
      a.id = *id;
    }
    a.trim = trim;
    auto r = Run([&](Txn& t) { return Add(t, key, a, fields); });
    EXPECT_TRUE(r.ok()) << r.status().detail();
    return r.ok() ? r->id : StreamId{};
  }

  std::vector<StreamId> Ids(std::string_view key) {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    auto r = Range(txn, key, StreamId{}, StreamId::Max(), 0, false);
    EXPECT_TRUE(r.ok());
    std::vector<StreamId> out;
    for (const auto& e : *r) out.push_back(e.id);
    return out;
  }

  int64_t Length(std::string_view key) {
    return Run([&](Txn& t) { return Len(t, key); }).value();
  }

  std::optional<StreamReport> Info(std::string_view key) {
    Txn txn(storage_.get(), 0, TxnMode::kRead);
    auto r = Report(txn, key, false, 0);
    EXPECT_TRUE(r.ok());
    return *r;
  }

  void CreateGroupAt(std::string_view key, std::string_view group, StreamId id) {
    bool created = false;
    auto r = Run([&](Txn& t) {
      return CreateGroup(t, key, group, id, true, kEntriesReadUnknown, &created);
    });
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(*r, GroupOutcome::kOk);
  }

  ReadGroupResult ReadNew(std::string_view key, std::string_view group, std::string_view consumer,
                          uint64_t count = 0) {
    auto r =
        Run([&](Txn& t) { return ReadGroup(t, key, group, consumer, std::nullopt, count, false); });
    EXPECT_TRUE(r.ok());
    return *r;
  }

  TempDir dir_;
  std::shared_ptr<std::atomic<uint64_t>> clock_ = std::make_shared<std::atomic<uint64_t>>(kStartMs);
  std::unique_ptr<Storage> storage_;
};

StreamId Id(uint64_t ms, uint64_t seq) { return {ms, seq}; }

// ------------------------------------------------------------------ ids

TEST(StreamIdTest, ParsesRedisIdSyntax) {
  auto p = ParseId("5-3", {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, Id(5, 3));
  EXPECT_EQ(ParseId("5", {.missing_seq = 7})->id, Id(5, 7));
  EXPECT_EQ(ParseId("-", {})->id, Id(0, 0));
  EXPECT_EQ(ParseId("+", {})->id, StreamId::Max());
  EXPECT_FALSE(ParseId("-", {.strict = true}));
  EXPECT_FALSE(ParseId("1-2-3", {}));
  EXPECT_FALSE(ParseId("-1", {}));
  EXPECT_FALSE(ParseId("", {}));
  EXPECT_FALSE(ParseId("abc", {}));
  EXPECT_EQ(ParseId("18446744073709551615-18446744073709551615", {})->id, StreamId::Max());
  EXPECT_FALSE(ParseId("18446744073709551616", {}));
  auto ex = ParseId("(5-3", {.allow_exclusive = true});
  ASSERT_TRUE(ex);
  EXPECT_TRUE(ex->exclusive);
  EXPECT_FALSE(ParseId("(5-3", {}));
  auto star = ParseId("5-*", {.allow_auto_seq = true});
  ASSERT_TRUE(star);
  EXPECT_FALSE(star->seq_given);
  EXPECT_FALSE(ParseId("5-*", {}));
  EXPECT_EQ(ParseId("0001-2", {})->id, Id(1, 2));  // strtoull accepts leading zeros
  EXPECT_FALSE(ParseId(std::string(128, '1'), {}));
}

TEST(StreamIdTest, IncrementAndDecrementCarryAcrossTheSequence) {
  StreamId a{1, UINT64_MAX};
  EXPECT_TRUE(Increment(&a));
  EXPECT_EQ(a, Id(2, 0));
  EXPECT_TRUE(Decrement(&a));
  EXPECT_EQ(a, Id(1, UINT64_MAX));
  StreamId max = StreamId::Max();
  EXPECT_FALSE(Increment(&max));
  StreamId zero;
  EXPECT_FALSE(Decrement(&zero));
}

TEST(StreamIdTest, RaxNodeCountMatchesRedisForSmallTrees) {
  EXPECT_EQ(internal::RaxNodeCount({}), 1u);
  EXPECT_EQ(internal::RaxNodeCount({Id(1, 1)}), 2u);
  // Keys differing only in the last byte: a compressed prefix, a branch, two leaves.
  EXPECT_EQ(internal::RaxNodeCount({Id(1, 1), Id(1, 2)}), 4u);
}

// ------------------------------------------------------------------ entries

TEST_F(StreamTest, AutoIdsUseTheClockAndNeverGoBack) {
  StreamId a = AddEntry("s", {"f", "v"});
  EXPECT_EQ(a, Id(kStartMs, 0));
  StreamId b = AddEntry("s", {"f", "v"});
  EXPECT_EQ(b, Id(kStartMs, 1));
  clock_->store(kStartMs - 1000);  // the clock going back does not move ids back
  EXPECT_EQ(AddEntry("s", {"f", "v"}), Id(kStartMs, 2));
  clock_->store(kStartMs + 5);
  EXPECT_EQ(AddEntry("s", {"f", "v"}), Id(kStartMs + 5, 0));
}

TEST_F(StreamTest, ExplicitIdsMustGrow) {
  AddEntry("s", {"f", "v"}, Id(5, 5));
  AddArgs a;
  a.id_given = true;
  a.id = Id(5, 5);
  std::vector<std::string_view> f{"f", "v"};
  auto r = Run([&](Txn& t) { return Add(t, "s", a, f); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Code::kStreamIdTooSmall);
  a.id = Id(5, 0);
  a.seq_given = false;  // "5-*"
  r = Run([&](Txn& t) { return Add(t, "s", a, f); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, Id(5, 6));
  a.id = Id(4, 0);
  r = Run([&](Txn& t) { return Add(t, "s", a, f); });
  EXPECT_FALSE(r.ok());
}

TEST_F(StreamTest, NoMkstreamLeavesAnAbsentKeyAbsent) {
  AddArgs a;
  a.no_mkstream = true;
  std::vector<std::string_view> f{"f", "v"};
  auto r = Run([&](Txn& t) { return Add(t, "s", a, f); });
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->added);
  EXPECT_EQ(storage_->KeyCount(0), 0);
}

TEST_F(StreamTest, RangeReturnsEntriesInBothDirections) {
  for (uint64_t i = 1; i <= 5; ++i) AddEntry("s", {"n", std::to_string(i)}, Id(i, 0));
  Txn txn(storage_.get(), 0, TxnMode::kRead);
  auto r = Range(txn, "s", Id(2, 0), Id(4, 0), 0, false);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].fields, std::vector<std::string>({"n", "2"}));
  r = Range(txn, "s", Id(0, 0), StreamId::Max(), 2, true);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, Id(5, 0));
  EXPECT_EQ((*r)[1].id, Id(4, 0));
}

TEST_F(StreamTest, DeleteTracksFirstAndMaxDeletedIds) {
  for (uint64_t i = 1; i <= 3; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  std::vector<StreamId> del{Id(1, 0), Id(9, 9), Id(1, 0)};
  auto r = Run([&](Txn& t) { return Delete(t, "s", del); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1);
  auto info = Info("s");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->info.length, 2u);
  EXPECT_EQ(info->info.first_id, Id(2, 0));
  EXPECT_EQ(info->info.max_deleted_id, Id(1, 0));
  EXPECT_EQ(info->info.entries_added, 3u);
  std::vector<StreamId> rest{Id(2, 0), Id(3, 0)};
  EXPECT_TRUE(Run([&](Txn& t) { return Delete(t, "s", rest); }).ok());
  info = Info("s");
  EXPECT_EQ(info->info.length, 0u);  // an emptied stream stays
  EXPECT_EQ(info->info.first_id, Id(0, 0));
  EXPECT_EQ(info->radix_keys, 0u);
  EXPECT_EQ(info->radix_nodes, 1u);
}

TEST_F(StreamTest, EntriesFillNodesOfAHundred) {
  for (uint64_t i = 1; i <= 250; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  auto info = Info("s");
  EXPECT_EQ(info->radix_keys, 3u);
}

TEST_F(StreamTest, LargeEntriesStartNewNodesByBytes) {
  std::string big(2000, 'x');
  for (uint64_t i = 1; i <= 4; ++i) AddEntry("s", {"f", big}, Id(i, 0));
  // 2000-byte values: a node takes two before reaching 4096 bytes.
  EXPECT_EQ(Info("s")->radix_keys, 2u);
}

TEST_F(StreamTest, ApproximateTrimRemovesWholeNodesOnly) {
  for (uint64_t i = 1; i <= 250; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  TrimSpec approx{.strategy = TrimStrategy::kMaxLen, .approx = true, .maxlen = 120, .limit = 10000};
  auto r = Run([&](Txn& t) { return Trim(t, "s", approx); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 100);  // one node of 100 fits; the next would go below 120
  EXPECT_EQ(Length("s"), 150);
  TrimSpec exact{.strategy = TrimStrategy::kMaxLen, .approx = false, .maxlen = 120};
  r = Run([&](Txn& t) { return Trim(t, "s", exact); });
  EXPECT_EQ(*r, 30);
  EXPECT_EQ(Length("s"), 120);
  EXPECT_EQ(Ids("s").front(), Id(131, 0));
  TrimSpec minid{.strategy = TrimStrategy::kMinId, .approx = false, .minid = Id(200, 0)};
  r = Run([&](Txn& t) { return Trim(t, "s", minid); });
  EXPECT_EQ(*r, 69);
  EXPECT_EQ(Ids("s").front(), Id(200, 0));
  TrimSpec limited{.strategy = TrimStrategy::kMaxLen, .approx = true, .maxlen = 0, .limit = 10};
  r = Run([&](Txn& t) { return Trim(t, "s", limited); });
  EXPECT_EQ(*r, 1);  // the node holding only 200-0 goes; the next (50 entries) is over the limit
}

TEST_F(StreamTest, SetIdChecksItsArguments) {
  AddEntry("s", {"f", "v"}, Id(5, 0));
  auto st = Run([&](Txn& t) { return SetId(t, "s", Id(4, 0), -1, StreamId{}); });
  EXPECT_EQ(st.code(), Code::kSetIdTooSmall);
  st = Run([&](Txn& t) { return SetId(t, "nokey", Id(4, 0), -1, StreamId{}); });
  EXPECT_EQ(st.code(), Code::kNoSuchKey);
  st = Run([&](Txn& t) { return SetId(t, "s", Id(9, 0), 0, StreamId{}); });
  EXPECT_EQ(st.code(), Code::kSetIdEntriesTooSmall);
  st = Run([&](Txn& t) { return SetId(t, "s", Id(9, 0), 7, Id(8, 0)); });
  ASSERT_TRUE(st.ok());
  auto info = Info("s");
  EXPECT_EQ(info->info.last_id, Id(9, 0));
  EXPECT_EQ(info->info.entries_added, 7u);
  EXPECT_EQ(info->info.max_deleted_id, Id(8, 0));
}

// ------------------------------------------------------------------ consumer groups

TEST_F(StreamTest, ReadGroupDeliversEachEntryOnceAndTracksThePel) {
  for (uint64_t i = 1; i <= 3; ++i) AddEntry("s", {"f", std::to_string(i)}, Id(i, 0));
  CreateGroupAt("s", "g", StreamId{});
  auto a = ReadNew("s", "g", "alice", 2);
  EXPECT_TRUE(a.consumer_created);
  ASSERT_EQ(a.entries.size(), 2u);
  auto b = ReadNew("s", "g", "bob");
  ASSERT_EQ(b.entries.size(), 1u);
  EXPECT_EQ(b.entries[0].id, Id(3, 0));
  auto none = ReadNew("s", "g", "bob");
  EXPECT_FALSE(none.served);
  GroupOutcome outcome;
  auto sum = Run([&](Txn& t) { return Pending(t, "s", "g", &outcome); });
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->count, 3u);
  EXPECT_EQ(sum->first, Id(1, 0));
  EXPECT_EQ(sum->last, Id(3, 0));
  ASSERT_EQ(sum->consumers.size(), 2u);
  EXPECT_EQ(sum->consumers[0], std::make_pair(std::string("alice"), uint64_t{2}));
  std::vector<StreamId> ack{Id(1, 0), Id(1, 0), Id(3, 0)};
  EXPECT_EQ(Run([&](Txn& t) { return Ack(t, "s", "g", ack); }).value(), 2);
  sum = Run([&](Txn& t) { return Pending(t, "s", "g", &outcome); });
  EXPECT_EQ(sum->count, 1u);
  ASSERT_EQ(sum->consumers.size(), 1u);
  EXPECT_EQ(sum->consumers[0].first, "alice");
  auto groups = Run([&](Txn& t) { return Groups(t, "s"); });
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ((*groups)->size(), 1u);
  EXPECT_EQ((**groups)[0].entries_read, 3);
  EXPECT_EQ((**groups)[0].lag, 0);
}

TEST_F(StreamTest, HistoryReadsReturnDeletedEntriesAsNil) {
  for (uint64_t i = 1; i <= 2; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  CreateGroupAt("s", "g", StreamId{});
  ReadNew("s", "g", "c");
  std::vector<StreamId> del{Id(1, 0)};
  EXPECT_TRUE(Run([&](Txn& t) { return Delete(t, "s", del); }).ok());
  clock_->fetch_add(100);
  auto h = Run([&](Txn& t) { return ReadGroup(t, "s", "g", "c", StreamId{}, 0, false); });
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->entries.size(), 2u);
  EXPECT_TRUE(h->entries[0].deleted);
  EXPECT_FALSE(h->entries[1].deleted);
  GroupOutcome outcome;
  PendingQuery q{.start = StreamId{}, .end = StreamId::Max(), .count = 10};
  auto p = Run([&](Txn& t) { return PendingRange(t, "s", "g", q, &outcome); });
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].deliveries, 1u);  // not redelivered: gone from the stream
  EXPECT_EQ((*p)[1].deliveries, 2u);
  EXPECT_EQ((*p)[1].delivery_ms, kStartMs + 100);
}

TEST_F(StreamTest, ClaimMovesEntriesBetweenConsumers) {
  for (uint64_t i = 1; i <= 3; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  CreateGroupAt("s", "g", StreamId{});
  ReadNew("s", "g", "alice");
  clock_->fetch_add(1000);
  std::vector<StreamId> ids{Id(1, 0), Id(2, 0), Id(7, 0)};
  ClaimArgs args{.min_idle_ms = 500};
  auto r = Run([&](Txn& t) { return Claim(t, "s", "g", "bob", ids, args); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->consumer_created);
  ASSERT_EQ(r->claimed.size(), 2u);
  auto again = Run([&](Txn& t) { return Claim(t, "s", "g", "carol", ids, args); });
  EXPECT_TRUE(again->claimed.empty());  // just claimed: not idle enough
  GroupOutcome outcome;
  auto consumers = Run([&](Txn& t) { return Consumers(t, "s", "g", &outcome); });
  ASSERT_EQ(consumers->size(), 2u);  // carol was never created: nothing was claimed
  EXPECT_EQ((*consumers)[0].name, "alice");
  EXPECT_EQ((*consumers)[0].pending, 1u);
  EXPECT_EQ((*consumers)[1].pending, 2u);
}

TEST_F(StreamTest, AForcedClaimAheadOfTheGroupIsTakenOverByTheNextRead) {
  for (uint64_t i = 1; i <= 2; ++i) AddEntry("s", {"f", "v"}, Id(i, 1));
  CreateGroupAt("s", "g", StreamId{});
  std::vector<StreamId> ids{Id(2, 1)};
  ClaimArgs force{.force = true, .just_id = true};
  auto c = Run([&](Txn& t) { return Claim(t, "s", "g", "bob", ids, force); });
  ASSERT_EQ(c->claimed.size(), 1u);
  auto r = ReadNew("s", "g", "alice");
  ASSERT_EQ(r.entries.size(), 2u);
  GroupOutcome outcome;
  auto sum = Run([&](Txn& t) { return Pending(t, "s", "g", &outcome); });
  EXPECT_EQ(sum->count, 2u);  // not 3: the forced entry was reassigned, not added again
  ASSERT_EQ(sum->consumers.size(), 1u);
  EXPECT_EQ(sum->consumers[0], std::make_pair(std::string("alice"), uint64_t{2}));
}

TEST_F(StreamTest, AutoClaimSkipsAndReportsDeletedEntries) {
  for (uint64_t i = 1; i <= 4; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  CreateGroupAt("s", "g", StreamId{});
  ReadNew("s", "g", "alice");
  std::vector<StreamId> del{Id(2, 0)};
  EXPECT_TRUE(Run([&](Txn& t) { return Delete(t, "s", del); }).ok());
  clock_->fetch_add(10);
  auto r = Run([&](Txn& t) { return AutoClaim(t, "s", "g", "bob", 0, StreamId{}, 2, false); });
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->claimed.size(), 1u);
  EXPECT_EQ(r->claimed[0].id, Id(1, 0));
  EXPECT_EQ(r->deleted, std::vector<StreamId>({Id(2, 0)}));
  EXPECT_EQ(r->next, Id(3, 0));
  r = Run([&](Txn& t) { return AutoClaim(t, "s", "g", "bob", 0, r->next, 10, true); });
  EXPECT_EQ(r->claimed.size(), 2u);
  EXPECT_EQ(r->next, Id(0, 0));
  GroupOutcome outcome;
  auto sum = Run([&](Txn& t) { return Pending(t, "s", "g", &outcome); });
  EXPECT_EQ(sum->count, 3u);
}

TEST_F(StreamTest, DeletingAConsumerDropsItsPendingEntries) {
  for (uint64_t i = 1; i <= 3; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  CreateGroupAt("s", "g", StreamId{});
  ReadNew("s", "g", "alice", 2);
  ReadNew("s", "g", "bob");
  int64_t pending = 0;
  bool existed = false;
  auto r = Run([&](Txn& t) { return DeleteConsumer(t, "s", "g", "alice", &pending, &existed); });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(existed);
  EXPECT_EQ(pending, 2);
  GroupOutcome outcome;
  auto sum = Run([&](Txn& t) { return Pending(t, "s", "g", &outcome); });
  EXPECT_EQ(sum->count, 1u);
  auto d = Run([&](Txn& t) { return DestroyGroup(t, "s", "g"); });
  EXPECT_EQ(*d, GroupOutcome::kOk);
  CreateGroupAt("s", "g", StreamId{});  // a new group of the same name starts empty
  sum = Run([&](Txn& t) { return Pending(t, "s", "g", &outcome); });
  EXPECT_EQ(sum->count, 0u);
  auto cons = Run([&](Txn& t) { return Consumers(t, "s", "g", &outcome); });
  EXPECT_TRUE(cons->empty());
}

TEST_F(StreamTest, GroupsAndPendingEntriesSurviveAReopen) {
  for (uint64_t i = 1; i <= 3; ++i) AddEntry("s", {"f", "v"}, Id(i, 0));
  CreateGroupAt("s", "g", StreamId{});
  ReadNew("s", "g", "c");
  std::vector<StreamId> ack{Id(2, 0)};
  EXPECT_TRUE(Run([&](Txn& t) { return Ack(t, "s", "g", ack); }).ok());
  storage_.reset();
  Open();
  GroupOutcome outcome;
  PendingQuery q{.start = StreamId{}, .end = StreamId::Max(), .count = 10};
  auto p = Run([&](Txn& t) { return PendingRange(t, "s", "g", q, &outcome); });
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].id, Id(1, 0));
  EXPECT_EQ((*p)[1].id, Id(3, 0));
  EXPECT_EQ((*p)[1].consumer, "c");
  auto more = ReadNew("s", "g", "c");
  EXPECT_FALSE(more.served);  // the group's last id survived too
}

TEST_F(StreamTest, AReadGroupSeesEntriesAddedEarlierInTheSameTransaction) {
  CreateGroupAt("s", "g", StreamId{});
  Txn txn(storage_.get(), 0);
  AddArgs a;
  std::vector<std::string_view> f{"f", "v"};
  ASSERT_TRUE(Add(txn, "s", a, f).ok());
  ASSERT_TRUE(Add(txn, "s", a, f).ok());
  auto r = ReadGroup(txn, "s", "g", "c", std::nullopt, 0, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries.size(), 2u);
  std::vector<StreamId> ids{r->entries[0].id};
  EXPECT_EQ(Ack(txn, "s", "g", ids).value(), 1);
  GroupOutcome outcome;
  auto sum = Pending(txn, "s", "g", &outcome);
  EXPECT_EQ(sum->count, 1u);
  ASSERT_TRUE(txn.Commit().ok());
}

}  // namespace
}  // namespace keel::streams
