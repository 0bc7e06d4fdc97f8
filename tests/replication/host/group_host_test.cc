// Replica groups of real stores in one process: three GroupHosts over an in-process network
// (every message goes through the wire codec), each applying the chosen log to its own
// RocksDB store. A write acknowledged by the leader's committer is on every replica; a
// follower refuses writes as not the leader; stopping the leader loses no acknowledged
// write; a replica restarted from its directories catches up.
#include "tests/replication/host/group_fixture.h"

#include <future>

namespace keel::replication {
namespace {

using namespace std::chrono_literals;

TEST_F(GroupHostTest, AWriteAcknowledgedByTheLeaderIsOnEveryReplica) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Set(leader, "k" + std::to_string(i), "v" + std::to_string(i)).ok());
  }
  // Followers apply the chosen entries in the same order: the same bytes everywhere.
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  for (auto& [id, r] : replicas_) {
    EXPECT_EQ(Get(r.get(), "k49"), "v49")
        << "replica " << id << " leader " << leader->id << " applied " << r->host->state().applied
        << " k0 " << Get(r.get(), "k0") << " dbsize " << r->storage->KeyCount(0);
    if (r.get() != leader) keel::test::ExpectSameStores(leader->storage.get(), r->storage.get());
  }
}

TEST_F(GroupHostTest, AFollowerRefusesAWriteAsCertainlyNotInTheLog) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  for (auto& [id, r] : replicas_) {
    if (r.get() == leader) continue;
    // A follower learns who leads from the leader's first message.
    ASSERT_TRUE(WaitFor([&] { return r->host->state().leader == leader->id; }));
    keel::Status st = Set(r.get(), "nope", "1");
    EXPECT_EQ(st.code(), Code::kNotLeader);
    EXPECT_EQ(st.detail(), std::to_string(leader->id));  // the leader hint
  }
  ASSERT_TRUE(Set(leader, "yes", "1").ok());
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  for (auto& [id, r] : replicas_) EXPECT_EQ(Get(r.get(), "nope"), "(nil)");
}

TEST_F(GroupHostTest, StoppingTheLeaderLosesNoAcknowledgedWrite) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Set(leader, "a" + std::to_string(i), "1").ok());
  ReplicaId old = leader->id;
  leader->Stop(&net_);
  // The two others elect a leader among themselves and carry on.
  Replica* next = Leader();
  ASSERT_NE(next, nullptr);
  EXPECT_NE(next->id, old);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get(next, "a" + std::to_string(i)), "1");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Set(next, "b" + std::to_string(i), "2").ok());
  // The old leader comes back from its directories and catches up from the log.
  replicas_[old]->Start(&net_, {1, 2, 3});
  ASSERT_TRUE(AllApplied(next->host->state().applied));
  Replica* back = replicas_[old].get();
  EXPECT_EQ(Get(back, "a19"), "1");
  EXPECT_EQ(Get(back, "b19"), "2");
  keel::test::ExpectSameStores(next->storage.get(), back->storage.get());
}

TEST_F(GroupHostTest, WithTwoOfThreeDownNoWriteIsAcknowledgedAndNoneIsLostWhenTheyReturn) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(Set(leader, "before", "1").ok());
  std::vector<ReplicaId> down;
  for (auto& [id, r] : replicas_) {
    if (r.get() != leader) down.push_back(id);
  }
  for (ReplicaId id : down) replicas_[id]->Stop(&net_);
  // Without a majority the write is never acknowledged; the submitter learns so once the
  // leader steps down (check-quorum), with an outcome it must treat as unknown.
  keel::Status st = Set(leader, "during", "1");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(st.code() == Code::kUnknownOutcome || st.code() == Code::kNotLeader) << st.detail();
  for (ReplicaId id : down) replicas_[id]->Start(&net_, {1, 2, 3});
  Replica* now = Leader();
  ASSERT_NE(now, nullptr);
  ASSERT_TRUE(Set(now, "after", "1").ok());
  ASSERT_TRUE(AllApplied(now->host->state().applied));
  for (auto& [id, r] : replicas_) {
    EXPECT_EQ(Get(r.get(), "before"), "1") << "replica " << id;
    EXPECT_EQ(Get(r.get(), "after"), "1") << "replica " << id;
  }
  // "during" was either chosen or not, but the same on every replica.
  std::string during = Get(replicas_[1].get(), "during");
  for (auto& [id, r] : replicas_) EXPECT_EQ(Get(r.get(), "during"), during);
}

// Waits for a read barrier's outcome (10 s at most).
keel::Status Barrier(Replica* r) {
  auto promise = std::make_shared<std::promise<keel::Status>>();
  auto future = promise->get_future();
  r->host->ReadIndex([promise](keel::Status st) { promise->set_value(st); });
  if (future.wait_for(10s) != std::future_status::ready) {
    return keel::Status(Code::kInvalidArgument, "no answer");
  }
  return future.get();
}

TEST_F(GroupHostTest, AReadBarrierNeedsAQuorumThatStillFollowsTheLeader) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(Set(leader, "k", "1").ok());
  EXPECT_TRUE(Barrier(leader).ok());
  for (auto& [id, r] : replicas_) {
    if (r.get() != leader) {
      EXPECT_EQ(Barrier(r.get()).code(), Code::kNotLeader);
    }
  }
  // Cut off from both followers, the leader cannot confirm a read: it fails once the
  // leader notices (check-quorum), and never succeeds.
  net_.Detach(leader->id);
  for (auto& [id, r] : replicas_) {
    if (r.get() != leader) net_.Detach(id);
  }
  EXPECT_EQ(Barrier(leader).code(), Code::kNotLeader);
  for (auto& [id, r] : replicas_) net_.Attach(id, r->host.get());
}

// The same group with each host loop on an executor's thread (as on the cluster bus).
class GroupHostOnExecutorTest : public GroupHostTest {
 protected:
  void Configure(Replica& r) override { r.on_executor = true; }
};

TEST_F(GroupHostOnExecutorTest, WritesReplicateAndSurviveTheLeadersStopAndRestart) {
  Replica* leader = Leader();
  ASSERT_NE(leader, nullptr);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Set(leader, "a" + std::to_string(i), "1").ok());
  ASSERT_TRUE(AllApplied(leader->host->state().applied));
  ReplicaId old = leader->id;
  leader->Stop(&net_);
  Replica* next = Leader();
  ASSERT_NE(next, nullptr);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Get(next, "a" + std::to_string(i)), "1");
  ASSERT_TRUE(Set(next, "b", "2").ok());
  replicas_[old]->Start(&net_, {1, 2, 3});
  ASSERT_TRUE(AllApplied(next->host->state().applied));
  EXPECT_EQ(Get(replicas_[old].get(), "b"), "2");
  for (auto& [id, r] : replicas_) {
    if (r.get() != next) keel::test::ExpectSameStores(next->storage.get(), r->storage.get());
  }
  EXPECT_TRUE(Barrier(next).ok());
}

}  // namespace
}  // namespace keel::replication
