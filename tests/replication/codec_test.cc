#include "replication/codec.h"

#include <gtest/gtest.h>

namespace keel::replication {
namespace {

Entry SampleEntry() {
  Entry e;
  e.index = 42;
  e.ballot = Ballot{7, 3};
  e.type = EntryType::kNormal;
  e.client_id = 9;
  e.client_seq = 11;
  e.payload = std::string("batch\0bytes", 11);
  return e;
}

TEST(CodecTest, HardStateRoundTrips) {
  HardState hs{Ballot{5, 2}, 99};
  HardState out;
  ASSERT_EQ(DecodeHardState(EncodeHardState(hs), &out), Status::kOk);
  EXPECT_EQ(out, hs);
}

TEST(CodecTest, EntryRoundTripsIncludingEmbeddedZeroBytes) {
  Entry out;
  ASSERT_EQ(DecodeEntry(EncodeEntry(SampleEntry()), &out), Status::kOk);
  EXPECT_EQ(out, SampleEntry());
}

TEST(CodecTest, SnapshotMetaAndConfChangeRoundTrip) {
  SnapshotMeta meta{17, Membership{{1, 2, 4}, {5}, {3}}};
  SnapshotMeta meta_out;
  ASSERT_EQ(DecodeSnapshotMeta(EncodeSnapshotMeta(meta), &meta_out), Status::kOk);
  EXPECT_EQ(meta_out, meta);

  ConfChange cc{ConfChangeType::kBootstrap, 0, {1, 2, 3}};
  ConfChange cc_out;
  ASSERT_EQ(DecodeConfChange(EncodeConfChange(cc), &cc_out), Status::kOk);
  EXPECT_EQ(cc_out, cc);
}

TEST(CodecTest, MessageRoundTripsWithEntriesSnapshotAndContext) {
  Message m;
  m.type = MessageType::kAccept;
  m.from = 1;
  m.to = 2;
  m.ballot = Ballot{3, 1};
  m.reject = Reject::kGap;
  m.index = 10;
  m.commit = 8;
  m.hint = 4;
  m.round = 77;
  m.entries = {SampleEntry(), SampleEntry()};
  m.entries[1].index = 43;
  m.snapshot = Snapshot{SnapshotMeta{5, Membership{{1, 2, 3}, {}, {}}}, "state"};
  m.context = "read-1";
  Message out;
  ASSERT_EQ(DecodeMessage(EncodeMessage(m), &out), Status::kOk);
  EXPECT_EQ(out, m);
}

TEST(CodecTest, EveryTruncationOfAMessageIsRejectedAsCorrupt) {
  Message m;
  m.type = MessageType::kPromise;
  m.from = 1;
  m.to = 2;
  m.entries = {SampleEntry()};
  m.context = "ctx";
  const std::string bytes = EncodeMessage(m);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Message out;
    EXPECT_EQ(DecodeMessage(std::string_view(bytes).substr(0, n), &out), Status::kCorrupt) << n;
  }
  Message out;
  EXPECT_EQ(DecodeMessage(bytes + "x", &out), Status::kCorrupt);
}

TEST(CodecTest, UnknownVersionsAndEnumValuesAreRejected) {
  std::string e = EncodeEntry(SampleEntry());
  std::string bad_version = e;
  bad_version[0] = 2;
  Entry out;
  EXPECT_EQ(DecodeEntry(bad_version, &out), Status::kCorrupt);
  std::string bad_type = e;
  bad_type[1 + 8 + 16] = 9;  // the type byte
  EXPECT_EQ(DecodeEntry(bad_type, &out), Status::kCorrupt);

  Message m;
  std::string msg = EncodeMessage(m);
  msg[1] = 0;  // message type 0 does not exist
  Message mout;
  EXPECT_EQ(DecodeMessage(msg, &mout), Status::kCorrupt);
}

TEST(CodecTest, HugeCountsAreRejectedWithoutAllocating) {
  // A membership claiming 2^32-1 voters in a few bytes.
  std::string meta = EncodeSnapshotMeta(SnapshotMeta{});
  meta[9] = meta[10] = meta[11] = meta[12] = static_cast<char>(0xff);
  SnapshotMeta out;
  EXPECT_EQ(DecodeSnapshotMeta(meta, &out), Status::kCorrupt);
}

}  // namespace
}  // namespace keel::replication
