#include "replication/session.h"

#include <gtest/gtest.h>

namespace keel::replication {
namespace {

using Verdict = SessionTable::Verdict;

TEST(SessionTableTest, FirstOccurrenceAppliesAndRetryIsADuplicateWithCachedResult) {
  SessionTable t;
  EXPECT_EQ(t.Check(7, 1), Verdict::kApply);
  t.Record(7, 1, 10, "OK");
  EXPECT_EQ(t.Check(7, 1), Verdict::kDuplicate);
  ASSERT_NE(t.CachedResult(7, 1), nullptr);
  EXPECT_EQ(*t.CachedResult(7, 1), "OK");
  EXPECT_EQ(t.Check(7, 2), Verdict::kApply);
}

TEST(SessionTableTest, OlderSequenceNumbersAreStale) {
  SessionTable t;
  t.Record(7, 1, 10, "a");
  t.Record(7, 2, 11, "b");
  EXPECT_EQ(t.Check(7, 1), Verdict::kStale);
  EXPECT_EQ(t.CachedResult(7, 1), nullptr);
}

TEST(SessionTableTest, ClientZeroIsNeverDeduplicated) {
  SessionTable t;
  t.Record(0, 1, 1, "x");
  EXPECT_EQ(t.Check(0, 1), Verdict::kApply);
  EXPECT_EQ(t.size(), 0u);
}

TEST(SessionTableTest, ExpiredClientIsRefusedInsteadOfAppliedTwice) {
  SessionTable t;
  t.Record(7, 1, 10, "a");
  t.Record(8, 1, 20, "b");
  EXPECT_EQ(t.ExpireIdle(15), 1u);
  EXPECT_EQ(t.Check(7, 2), Verdict::kExpired);
  EXPECT_EQ(t.Check(7, 1), Verdict::kApply);  // seq 1 is how a new session starts
  EXPECT_EQ(t.Check(8, 1), Verdict::kDuplicate);
}

TEST(SessionTableTest, EncodeDecodeRoundTripsAndRejectsGarbage) {
  SessionTable t;
  t.Record(7, 3, 10, "a");
  t.Record(9, 1, 12, std::string("b\0c", 3));
  SessionTable out;
  ASSERT_EQ(SessionTable::Decode(t.Encode(), &out), Status::kOk);
  EXPECT_EQ(out, t);
  std::string bytes = t.Encode();
  EXPECT_EQ(SessionTable::Decode(bytes.substr(0, bytes.size() - 1), &out), Status::kCorrupt);
  EXPECT_EQ(SessionTable::Decode("", &out), Status::kCorrupt);
}

}  // namespace
}  // namespace keel::replication
