// Log compaction and snapshots: a replica whose missing entries were compacted away is
// caught up with a snapshot streamed in checksummed chunks, staged, and installed behind a
// crash-safe marker; a new member joins the same way; an interrupted install is redone at
// restart; bad chunks are refused and change nothing.
#include <filesystem>

#include "datatypes/hash.h"

#include "tests/replication/host/group_fixture.h"

namespace keel::replication {
namespace {

using namespace std::chrono_literals;

// Every replica compacts its log past 8 KiB, keeping at most 8 entries.
class SnapshotTest : public GroupHostTest {
 protected:
  void Configure(Replica& r) override {
    r.compact_bytes = 8 << 10;
    r.compact_keep_entries = 8;
  }

  // Strings, a hash (subkeys), a key with a TTL (expiry index), in several transactions.
  static void WriteLoad(Replica* leader, const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(Set(leader, prefix + std::to_string(i), std::string(100, 'a' + i % 26)).ok());
    }
    Txn txn(leader->storage.get(), 0);
    std::vector<std::string_view> pairs = {"f1", "v1", "f2", "v2"};
    ASSERT_TRUE(keel::hashes::Set(txn, prefix + "hash", pairs).ok());
    KeyRecord rec;
    ASSERT_TRUE(txn.Load(prefix + "ttl", &rec).ok());
    Metadata meta;
    meta.expire_at_ms = 1'900'000'000'000;
    txn.Store(prefix + "ttl", &rec, meta, "soon");
    ASSERT_TRUE(txn.Commit().ok());
  }

  static Replica* AnyFollower(std::map<ReplicaId, std::unique_ptr<Replica>>& replicas,
                              Replica* leader) {
    for (auto& [id, r] : replicas) {
      if (r.get() != leader) return r.get();
    }
    return nullptr;
  }
};

TEST_F(SnapshotTest, ALaggingReplicaWhoseEntriesWereCompactedCatchesUpFromASnapshot) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  Replica* lagging = AnyFollower(replicas_, leader);
  net_.Detach(lagging->id);  // hears nothing while the others go on
  WriteLoad(leader, "k", 300);
  const auto& counters = leader->host->counters();
  EXPECT_GT(counters.compactions.load(), 0u);
  // The leader no longer holds what the lagging replica needs.
  ASSERT_TRUE(WaitFor([&] { return leader->host->counters().log_bytes.load() < (8u << 10); }));
  net_.Attach(lagging->id, lagging->host.get());
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  EXPECT_GE(lagging->host->counters().snapshots_installed.load(), 1u);
  EXPECT_GE(leader->host->counters().snapshots_sent.load(), 1u);
  EXPECT_GT(leader->host->counters().snapshot_bytes_sent.load(), 300u * 100);
  EXPECT_EQ(Get(lagging, "k299"), std::string(100, 'a' + 299 % 26));
  // After the snapshot, the log again: a later write reaches it entry by entry.
  ASSERT_TRUE(Set(leader, "after", "1").ok());
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  EXPECT_EQ(Get(lagging, "after"), "1");
  keel::test::ExpectSameStores(leader->storage.get(), lagging->storage.get());
  // Nothing is left staged once installed.
  size_t staged = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(lagging->snapshot_dir.path())) {
    staged += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(staged, 0u);
}

TEST_F(SnapshotTest, ANewMemberJoinsAfterCompactionThroughASnapshot) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  WriteLoad(leader, "k", 200);
  ASSERT_GT(leader->host->counters().compactions.load(), 0u);
  auto joiner = std::make_unique<Replica>();
  joiner->id = 4;
  Configure(*joiner);
  joiner->Start(&net_, {});  // empty: waits to be contacted
  replicas_[4] = std::move(joiner);
  std::promise<Status> added;
  leader->host->RunOnHost(
      [&added](PaxosNode& n) { added.set_value(n.ProposeAddMember(4).status); });
  ASSERT_EQ(added.get_future().get(), Status::kOk);
  ASSERT_TRUE(WaitFor([&] { return leader->host->state().membership.IsVoter(4); }));
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  EXPECT_EQ(replicas_[4]->host->counters().snapshots_installed.load(), 1u);
  EXPECT_EQ(Get(replicas_[4].get(), "k199"), std::string(100, 'a' + 199 % 26));
  keel::test::ExpectSameStores(leader->storage.get(), replicas_[4]->storage.get());
}

// Stages the leader's store as a snapshot in `dir`, as a follower's stager would.
StagedSnapshot StageFrom(Replica* leader, const std::string& dir) {
  SnapshotStager stager(dir, 1);
  SnapshotSource source(leader->storage.get(), 1);
  ChunkHeader h;
  h.group = 1;
  h.leader = leader->id;
  h.transfer = 77;
  h.index = source.index();
  std::string records, next;
  (void)source.Next(512, &records);
  for (;; ++h.seq) {
    next.clear();
    h.last = !source.Next(512, &next);
    EXPECT_EQ(stager.OnChunk(leader->id, EncodeChunk(h, records)), "OK");
    if (h.last) break;
    records.swap(next);
  }
  EXPECT_GT(h.seq, 2u);  // several chunks
  StagedSnapshot staged;
  EXPECT_TRUE(stager.Claim(MakeHandle(leader->id, 77, h.index), &staged));
  return staged;
}

TEST_F(SnapshotTest, AnInstallInterruptedByACrashIsRedoneAtRestart) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  WriteLoad(leader, "k", 50);
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  Replica* follower = AnyFollower(replicas_, leader);
  follower->Stop(&net_);
  // A staged snapshot and its marker, as left by a crash in the middle of the install (the
  // follower's store is then anything: here, an unrelated key).
  keel::test::TempDir stage_root;
  StagedSnapshot staged = StageFrom(leader, stage_root.path() + "/stage");
  SnapshotMeta meta{staged.index, leader->host->state().membership};
  {
    auto store = keel::test::OpenStore(follower->data_dir.path(), follower->clock, false);
    Mutation junk;
    (void)junk.batch.Put(store->meta_cf(), "junk", "junk");
    ASSERT_TRUE(store->Apply(junk).ok());
    std::unique_ptr<LogStore> log;
    ASSERT_EQ(LogStore::Open(follower->log_dir.path(), &log), Status::kOk);
    ASSERT_EQ(log->PutInstallMarker(1, meta, staged.dir), Status::kOk);
  }
  follower->Start(&net_, {1, 2, 3});
  // The restart put the snapshot in place before anything else, then caught up.
  ASSERT_TRUE(Set(leader, "later", "1").ok());
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  EXPECT_EQ(Get(follower, "later"), "1");
  keel::test::ExpectSameStores(leader->storage.get(), follower->storage.get());
  SnapshotMeta left;
  std::string left_dir;
  EXPECT_FALSE(follower->log->GetInstallMarker(1, &left, &left_dir));
  EXPECT_FALSE(std::filesystem::exists(staged.dir));
}

TEST(SnapshotChunkTest, BadChunksAreRefusedAndChangeNothing) {
  keel::test::TempDir dir;
  SnapshotStager stager(dir.path(), 5);
  std::string records;
  records.push_back(1);  // metadata column family
  records += std::string("\x01\x00\x00\x00", 4) + "k" + std::string("\x01\x00\x00\x00", 4) + "v";
  ChunkHeader h;
  h.group = 5;
  h.leader = 9;
  h.transfer = 1;
  h.index = 40;
  std::string good = EncodeChunk(h, records);

  std::string flipped = good;
  flipped.back() ^= 1;
  EXPECT_EQ(stager.OnChunk(9, flipped), "ERR malformed chunk or checksum mismatch");
  EXPECT_EQ(stager.OnChunk(9, good.substr(0, 20)), "ERR malformed chunk or checksum mismatch");
  EXPECT_EQ(stager.OnChunk(8, good), "ERR chunk not from its sender");
  ChunkHeader other = h;
  other.group = 6;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(other, records)), "ERR chunk of another group");
  ChunkHeader skipped = h;
  skipped.seq = 1;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(skipped, records)), "ERR no such transfer");
  std::string truncated = records.substr(0, records.size() - 1);
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(h, truncated)), "ERR truncated record");

  // A well-formed transfer completes only with its last chunk; a stale sender's chunk in
  // between (another transfer) is refused without disturbing it.
  EXPECT_EQ(stager.OnChunk(9, good), "OK");
  EXPECT_FALSE(stager.HasComplete(MakeHandle(9, 1, 40)));
  ChunkHeader stale = skipped;
  stale.transfer = 99;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(stale, records)), "ERR no such transfer");
  ChunkHeader last = h;
  last.seq = 1;
  last.last = true;
  std::string later;
  later.push_back(2);  // subkeys, after metadata
  later += std::string("\x01\x00\x00\x00", 4) + "a" + std::string("\x00\x00\x00\x00", 4);
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(last, later)), "OK");
  EXPECT_TRUE(stager.HasComplete(MakeHandle(9, 1, 40)));
  EXPECT_FALSE(stager.HasComplete(MakeHandle(9, 1, 41)));
  StagedSnapshot staged;
  ASSERT_TRUE(stager.Claim(MakeHandle(9, 1, 40), &staged));
  EXPECT_EQ(staged.index, 40u);
  ASSERT_EQ(staged.files.size(), 3u);
  EXPECT_EQ(staged.files[1].size(), 1u);
  EXPECT_EQ(staged.files[2].size(), 1u);
  StagedSnapshot loaded;
  ASSERT_TRUE(SnapshotStager::Load(staged.dir, &loaded));
  EXPECT_EQ(loaded.files, staged.files);
  // Column families going backwards are refused.
  ChunkHeader again = h;
  again.transfer = 2;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(again, later)), "OK");
  ChunkHeader back = again;
  back.seq = 1;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(back, records)), "ERR column families out of order");
  // So is a gap in the sequence of the transfer in progress (which it abandons).
  ChunkHeader third = again;
  third.transfer = 3;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(third, records)), "OK");
  third.seq = 2;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(third, records)), "ERR chunk out of order");
  third.seq = 1;
  EXPECT_EQ(stager.OnChunk(9, EncodeChunk(third, records)), "ERR no such transfer");
}

}  // namespace
}  // namespace keel::replication
