// Unit tests of PaxosNode behaviours, each on a small controlled cluster (test_cluster.h).
#include "replication/paxos.h"

#include <gtest/gtest.h>

#include "tests/replication/test_cluster.h"

namespace keel::replication {
namespace {

using testing::TestCluster;
using Strings = std::vector<std::string>;

// Ticks until exactly one live replica among `among` (all if empty) leads and has committed
// its no-op. Returns it, or 0.
ReplicaId WaitForLeader(TestCluster& c, std::vector<ReplicaId> among = {}, int max_ticks = 300) {
  if (among.empty()) among = c.ids();
  for (int i = 0; i < max_ticks; ++i) {
    ReplicaId found = kNoReplica;
    int leaders = 0;
    for (ReplicaId id : among) {
      if (c.up(id) && c.node(id).role() == Role::kLeader) {
        ++leaders;
        found = id;
      }
    }
    if (leaders == 1 && c.node(found).LeaderReady()) return found;
    c.TickAll(1);
  }
  return kNoReplica;
}

ReplicaId OtherThan(const TestCluster& c, std::initializer_list<ReplicaId> not_these) {
  for (ReplicaId id : c.ids()) {
    if (std::find(not_these.begin(), not_these.end(), id) == not_these.end()) return id;
  }
  return kNoReplica;
}

bool ProposeOk(TestCluster& c, ReplicaId leader, const std::string& payload) {
  return c.node(leader).Propose(payload).status == Status::kOk;
}

TEST(PaxosTest, CreateRejectsInconsistentPersistentState) {
  std::unique_ptr<PaxosNode> n;
  Config cfg;
  EXPECT_EQ(PaxosNode::Create(cfg, Bootstrap({1}), &n), Status::kInvalidArgument);  // id 0
  cfg.id = 1;
  PersistentState commit_beyond_log = Bootstrap({1});
  commit_beyond_log.hard_state.commit = 5;
  EXPECT_EQ(PaxosNode::Create(cfg, commit_beyond_log, &n), Status::kInvalidArgument);
  PersistentState applied_beyond_commit = Bootstrap({1});
  applied_beyond_commit.applied = 2;
  EXPECT_EQ(PaxosNode::Create(cfg, applied_beyond_commit, &n), Status::kInvalidArgument);
  PersistentState gap = Bootstrap({1});
  gap.entries.push_back(Entry{3, Ballot{1, 1}, EntryType::kNoop, 0, 0, ""});
  EXPECT_EQ(PaxosNode::Create(cfg, gap, &n), Status::kInvalidArgument);
  Config lease_without_check_quorum = cfg;
  lease_without_check_quorum.lease_reads = true;
  lease_without_check_quorum.check_quorum = false;
  EXPECT_EQ(PaxosNode::Create(lease_without_check_quorum, Bootstrap({1}), &n),
            Status::kInvalidArgument);
  EXPECT_EQ(PaxosNode::Create(cfg, Bootstrap({1}), &n), Status::kOk);
}

TEST(PaxosTest, SingleReplicaGroupElectsItselfAndCommits) {
  TestCluster c(1);
  ASSERT_EQ(WaitForLeader(c), 1u);
  ASSERT_TRUE(ProposeOk(c, 1, "a"));
  ASSERT_TRUE(ProposeOk(c, 1, "b"));
  c.Stabilize();
  EXPECT_EQ(c.replica(1).state, (Strings{"a", "b"}));
  EXPECT_EQ(c.node(1).commit_index(), c.node(1).last_index());
}

TEST(PaxosTest, ThreeReplicasElectExactlyOneLeaderByTimeout) {
  TestCluster c(3);
  ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  for (ReplicaId id : c.ids()) {
    EXPECT_EQ(c.node(id).leader(), leader) << id;
    if (id != leader) {
      EXPECT_EQ(c.node(id).role(), Role::kFollower);
    }
  }
}

TEST(PaxosTest, LeaderReplicatesAndCommitsOnEveryReplicaInOrder) {
  TestCluster c(5);
  ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  Strings want;
  for (int i = 0; i < 20; ++i) {
    want.push_back("v" + std::to_string(i));
    ASSERT_TRUE(ProposeOk(c, leader, want.back()));
  }
  c.TickAll(2);  // heartbeats carry the final commit index to followers
  for (ReplicaId id : c.ids()) EXPECT_EQ(c.replica(id).state, want) << id;
}

TEST(PaxosTest, ProposalsBetweenReadyCyclesAreBatchedIntoOneAcceptPerFollower) {
  TestCluster c(3);
  ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const uint64_t before = c.delivered(MessageType::kAccept);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(ProposeOk(c, leader, "x"));
  c.Stabilize();
  EXPECT_EQ(c.delivered(MessageType::kAccept) - before, 2u);
  EXPECT_EQ(c.replica(leader).state.size(), 50u);
}

TEST(PaxosTest, ReplicaMissingAnAcceptedEntryCanWinAndStillCommitsIt) {
  TestCluster c(3);
  const ReplicaId a = WaitForLeader(c);
  ASSERT_NE(a, kNoReplica);
  const ReplicaId b = OtherThan(c, {a});
  const ReplicaId d = OtherThan(c, {a, b});
  // "x" reaches a and b but nobody learns that it was accepted by a majority.
  c.Cut(a, d);
  c.SetFilter([](const Message& m) { return m.type != MessageType::kAccepted; });
  ASSERT_TRUE(ProposeOk(c, a, "x"));
  c.Stabilize();
  EXPECT_TRUE(c.replica(d).state.empty());
  EXPECT_TRUE(c.replica(b).state.empty());
  // a disappears; b may campaign but its Prepares are lost, so d, whose log lacks "x",
  // must become leader, and phase 1 must recover "x" from b.
  c.Isolate(a);
  c.SetFilter([b](const Message& m) { return !(m.from == b && m.type == MessageType::kPrepare); });
  ReplicaId leader = WaitForLeader(c, {b, d}, 500);
  ASSERT_EQ(leader, d);
  c.SetFilter(nullptr);
  c.TickAll(2);
  EXPECT_EQ(c.replica(d).state, (Strings{"x"}));
  EXPECT_EQ(c.replica(b).state, (Strings{"x"}));
}

TEST(PaxosTest, UnchosenEntryOfAnIsolatedLeaderIsReplacedByTheNewLeadersValue) {
  TestCluster c(3);
  const ReplicaId a = WaitForLeader(c);
  ASSERT_NE(a, kNoReplica);
  c.Isolate(a);
  ASSERT_TRUE(ProposeOk(c, a, "lost"));  // accepted by a alone
  c.Stabilize();
  const ReplicaId b = OtherThan(c, {a});
  const ReplicaId d = OtherThan(c, {a, b});
  ReplicaId leader = WaitForLeader(c, {b, d});
  ASSERT_NE(leader, kNoReplica);
  ASSERT_TRUE(ProposeOk(c, leader, "kept"));
  c.Stabilize();
  c.HealAll();
  c.TickAll(30);
  for (ReplicaId id : c.ids()) EXPECT_EQ(c.replica(id).state, (Strings{"kept"})) << id;
}

TEST(PaxosTest, DeposedLeaderStepsDownOnHigherBallot) {
  Config cfg;
  cfg.check_quorum = false;  // isolate the higher-ballot path from check-quorum
  TestCluster c(3, cfg);
  const ReplicaId old_leader = WaitForLeader(c);
  ASSERT_NE(old_leader, kNoReplica);
  c.Isolate(old_leader);
  const ReplicaId b = OtherThan(c, {old_leader});
  const ReplicaId d = OtherThan(c, {old_leader, b});
  const ReplicaId new_leader = WaitForLeader(c, {b, d});
  ASSERT_NE(new_leader, kNoReplica);
  EXPECT_EQ(c.node(old_leader).role(), Role::kLeader);  // it has not noticed yet
  EXPECT_GT(c.node(new_leader).promised(), c.node(old_leader).promised());
  c.HealAll();
  c.Tick(old_leader);  // its heartbeats are rejected with the higher ballot
  c.Stabilize();
  EXPECT_EQ(c.node(old_leader).role(), Role::kFollower);
  EXPECT_EQ(c.node(new_leader).role(), Role::kLeader);
  c.TickAll(1);
  EXPECT_EQ(c.node(old_leader).leader(), new_leader);
}

TEST(PaxosTest, PartitionedLeaderStepsDownByCheckQuorum) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  c.Isolate(leader);
  c.Tick(leader, 20);  // a full check-quorum period (election_ticks) without hearing anyone
  EXPECT_EQ(c.node(leader).role(), Role::kFollower);
  EXPECT_EQ(c.node(leader).Propose("x").status, Status::kNotLeader);
}

TEST(PaxosTest, FollowerInContactWithLeaderIgnoresPrepareFromDisruptiveCandidate) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId rogue = OtherThan(c, {leader});
  const ReplicaId other = OtherThan(c, {leader, rogue});
  const Ballot leader_ballot = c.node(leader).promised();
  c.node(rogue).Campaign();
  c.DeliverOnce();  // Prepares reach the leader and the other follower
  EXPECT_EQ(c.node(other).promised(), leader_ballot);
  EXPECT_EQ(c.node(leader).role(), Role::kLeader);
  EXPECT_NE(c.node(rogue).role(), Role::kLeader);
}

TEST(PaxosTest, ReadIndexIsServedOnlyAfterAQuorumConfirmsLeadership) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  ASSERT_TRUE(ProposeOk(c, leader, "w"));
  c.Stabilize();
  c.SetFilter([](const Message& m) { return m.type != MessageType::kHeartbeatAck; });
  ASSERT_EQ(c.node(leader).ReadIndex("r1"), Status::kOk);
  c.Stabilize();
  c.TickAll(3);
  EXPECT_TRUE(c.replica(leader).reads.empty());
  c.SetFilter(nullptr);
  c.TickAll(1);
  ASSERT_EQ(c.replica(leader).reads.size(), 1u);
  EXPECT_EQ(c.replica(leader).reads[0].context, "r1");
  EXPECT_EQ(c.replica(leader).reads[0].index, c.node(leader).commit_index());
}

TEST(PaxosTest, ManyReadsShareOneConfirmationRound) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const uint64_t heartbeats = c.delivered(MessageType::kHeartbeat);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(c.node(leader).ReadIndex(std::to_string(i)), Status::kOk);
  c.Stabilize();
  EXPECT_EQ(c.replica(leader).reads.size(), 100u);
  EXPECT_EQ(c.delivered(MessageType::kHeartbeat) - heartbeats, 2u);  // one per follower
}

TEST(PaxosTest, NewLeaderServesNoReadBeforeItsNoopIsCommitted) {
  TestCluster c(3);
  c.SetFilter([](const Message& m) { return m.type != MessageType::kAccepted; });
  ReplicaId leader = kNoReplica;
  for (int i = 0; i < 300 && leader == kNoReplica; ++i) {
    c.TickAll(1);
    for (ReplicaId id : c.ids()) {
      if (c.node(id).role() == Role::kLeader) leader = id;
    }
  }
  ASSERT_NE(leader, kNoReplica);
  EXPECT_FALSE(c.node(leader).LeaderReady());
  ASSERT_EQ(c.node(leader).ReadIndex("early"), Status::kOk);
  c.Stabilize();
  EXPECT_TRUE(c.replica(leader).reads.empty());
  EXPECT_EQ(c.node(leader).ProposeAddMember(9).status, Status::kLeaderNotReady);
  c.SetFilter(nullptr);
  c.TickAll(2);
  ASSERT_EQ(c.replica(leader).reads.size(), 1u);
  EXPECT_GE(c.replica(leader).reads[0].index, 2u);  // at or after the no-op
}

TEST(PaxosTest, FollowerAnswersNotLeaderWithALeaderHint) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId f = OtherThan(c, {leader});
  ProposeResult r = c.node(f).Propose("x");
  EXPECT_EQ(r.status, Status::kNotLeader);
  EXPECT_EQ(r.leader, leader);
  EXPECT_EQ(c.node(f).ReadIndex("r"), Status::kNotLeader);
  EXPECT_EQ(c.node(f).ProposeAddMember(9).status, Status::kNotLeader);
}

TEST(PaxosTest, FollowerForwardsProposalsAndReadsWhenEnabled) {
  Config cfg;
  cfg.forward_proposals = true;
  TestCluster c(3, cfg);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId f = OtherThan(c, {leader});
  ProposeResult r = c.node(f).Propose("via-follower");
  EXPECT_EQ(r.status, Status::kForwarded);
  EXPECT_EQ(r.leader, leader);
  c.Stabilize();
  ASSERT_EQ(c.node(f).ReadIndex("follower-read"), Status::kForwarded);
  c.TickAll(2);
  EXPECT_EQ(c.replica(leader).state, (Strings{"via-follower"}));
  ASSERT_EQ(c.replica(f).reads.size(), 1u);
  EXPECT_EQ(c.replica(f).state, (Strings{"via-follower"}));  // applied before serving
}

TEST(PaxosTest, LeaseReadIsServedWithoutARoundUntilTheLeaseExpires) {
  Config cfg;
  cfg.lease_reads = true;
  TestCluster c(3, cfg);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  c.TickAll(1);  // a confirmed heartbeat round grants the lease
  c.SetFilter([](const Message&) { return false; });  // the network goes silent
  ASSERT_EQ(c.node(leader).ReadIndex("leased"), Status::kOk);
  c.ProcessAll();
  ASSERT_EQ(c.replica(leader).reads.size(), 1u);
  c.Tick(leader, static_cast<int>(cfg.election_ticks - cfg.lease_drift_ticks));
  ASSERT_EQ(c.node(leader).role(), Role::kLeader);
  ASSERT_EQ(c.node(leader).ReadIndex("expired"), Status::kOk);
  c.ProcessAll();
  EXPECT_EQ(c.replica(leader).reads.size(), 1u);  // needs a round now, and none can finish
}

TEST(PaxosTest, NoOtherReplicaIsElectedWhileALeaderLeaseHolds) {
  Config cfg;
  cfg.lease_reads = true;
  TestCluster c(3, cfg);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId rogue = OtherThan(c, {leader});
  const ReplicaId other = OtherThan(c, {leader, rogue});
  // The rogue has been cut off long enough to campaign at will; it is bound by no lease.
  c.Isolate(rogue);
  c.TickAll(30);
  ASSERT_EQ(c.node(leader).role(), Role::kLeader);
  // Now the leader is cut off just after a confirmed round, and the rogue reaches `other`.
  c.HealAll();
  c.Isolate(leader);
  bool overlap_checked = false;
  for (int t = 0; t < 40; ++t) {
    c.node(rogue).Campaign();
    c.TickAll(1);
    const bool new_leader =
        c.node(rogue).role() == Role::kLeader || c.node(other).role() == Role::kLeader;
    if (c.node(leader).role() == Role::kLeader) {
      const size_t served = c.replica(leader).reads.size();
      ASSERT_EQ(c.node(leader).ReadIndex("probe" + std::to_string(t)), Status::kOk);
      c.ProcessAll();
      if (new_leader) {
        // The old leader must need a (hopeless) round by now: its lease has expired.
        EXPECT_EQ(c.replica(leader).reads.size(), served) << "lease read after re-election";
        overlap_checked = true;
      }
    }
    if (new_leader) break;
  }
  EXPECT_TRUE(overlap_checked) << "the old leader stepped down before anyone else won";
  EXPECT_FALSE(c.replica(leader).reads.empty()) << "the lease was never used";
}

TEST(PaxosTest, NewMemberJoinsAsLearnerAndIsPromotedOnceCaughtUp) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ProposeOk(c, leader, "e" + std::to_string(i)));
  c.Stabilize();
  c.AddEmptyReplica(4);
  c.Cut(leader, 4);  // it cannot catch up yet
  ASSERT_EQ(c.node(leader).ProposeAddMember(4).status, Status::kOk);
  c.TickAll(3);
  EXPECT_TRUE(c.node(leader).membership().IsLearner(4));
  EXPECT_EQ(c.node(leader).membership().voters.size(), 3u);
  c.HealAll();
  c.TickAll(5);
  EXPECT_TRUE(c.node(leader).committed_membership().IsVoter(4));
  EXPECT_EQ(c.replica(4).state, c.replica(leader).state);
  EXPECT_TRUE(c.node(4).membership().IsVoter(4));
}

TEST(PaxosTest, LearnerDoesNotCountTowardsAQuorum) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  c.AddEmptyReplica(4);
  // Keep 4 a learner: its acks never reach the leader, so it never looks caught up.
  c.SetFilter([](const Message& m) { return m.from != 4; });
  ASSERT_EQ(c.node(leader).ProposeAddMember(4).status, Status::kOk);
  c.TickAll(3);
  ASSERT_TRUE(c.node(leader).committed_membership().IsLearner(4));
  c.SetFilter(nullptr);  // from now on the learner acks everything
  for (ReplicaId id : c.ids()) {
    if (id != leader && id != 4) c.Isolate(id);
  }
  const uint64_t commit = c.node(leader).commit_index();
  ASSERT_TRUE(ProposeOk(c, leader, "needs-a-voter"));
  c.Stabilize();
  EXPECT_EQ(c.node(leader).commit_index(), commit);  // leader + learner is no majority
}

TEST(PaxosTest, OnlyOneMembershipChangeIsInFlightAtATime) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  c.SetFilter([](const Message& m) { return m.type != MessageType::kAccepted; });
  EXPECT_EQ(c.node(leader).ProposeAddMember(4).status, Status::kOk);
  EXPECT_EQ(c.node(leader).ProposeAddMember(5).status, Status::kConfChangePending);
  EXPECT_EQ(c.node(leader).ProposeRemoveMember(leader == 1 ? 2 : 1).status,
            Status::kConfChangePending);
}

TEST(PaxosTest, RemovedReplicaIdIsNeverReused) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId victim = OtherThan(c, {leader});
  ASSERT_EQ(c.node(leader).ProposeRemoveMember(victim).status, Status::kOk);
  c.Stabilize();
  EXPECT_TRUE(c.node(leader).committed_membership().IsRemoved(victim));
  EXPECT_EQ(c.node(leader).ProposeAddMember(victim).status, Status::kReplicaIdReused);
  EXPECT_EQ(c.node(leader).ProposeAddMember(leader).status, Status::kInvalidConfChange);
  // Messages from the retired replica are ignored.
  c.node(victim).Campaign();
  c.Stabilize();
  EXPECT_EQ(c.node(leader).role(), Role::kLeader);
}

TEST(PaxosTest, LeaderRemovingItselfStepsDownAndTheRestElectANewLeader) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  ASSERT_EQ(c.node(leader).ProposeRemoveMember(leader).status, Status::kOk);
  c.Stabilize();
  EXPECT_NE(c.node(leader).role(), Role::kLeader);
  const ReplicaId b = OtherThan(c, {leader});
  const ReplicaId d = OtherThan(c, {leader, b});
  const ReplicaId next = WaitForLeader(c, {b, d});
  ASSERT_NE(next, kNoReplica);
  ASSERT_TRUE(ProposeOk(c, next, "after"));
  c.TickAll(30);
  EXPECT_NE(c.node(leader).role(), Role::kLeader);
  EXPECT_EQ(c.node(next).committed_membership().voters.size(), 2u);
  EXPECT_EQ(c.replica(b).state, (Strings{"after"}));
}

TEST(PaxosTest, LaggingFollowerCatchesUpFromASnapshotAfterCompaction) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId lagging = OtherThan(c, {leader});
  c.Isolate(lagging);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(ProposeOk(c, leader, "s" + std::to_string(i)));
  c.Stabilize();
  c.CompactAt(leader);
  const uint64_t compacted = c.node(leader).snapshot_index();
  ASSERT_GT(compacted, c.node(lagging).last_index());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ProposeOk(c, leader, "t" + std::to_string(i)));
  c.Stabilize();
  c.HealAll();
  c.TickAll(5);
  EXPECT_GE(c.replica(lagging).snapshot_meta.index, compacted);  // the leader's applied index
  EXPECT_EQ(c.replica(lagging).state, c.replica(leader).state);
  EXPECT_EQ(c.replica(lagging).state.size(), 35u);
  // After a restart it rebuilds from its snapshot plus log.
  c.Crash(lagging);
  c.Restart(lagging);
  c.TickAll(3);
  EXPECT_EQ(c.replica(lagging).state, c.replica(leader).state);
}

TEST(PaxosTest, CandidateBehindACompactedPrefixCannotWinAndIsCaughtUp) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId lagging = OtherThan(c, {leader});
  const ReplicaId other = OtherThan(c, {leader, lagging});
  c.Isolate(lagging);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ProposeOk(c, leader, "s" + std::to_string(i)));
  c.TickAll(2);
  c.CompactAt(leader);
  c.CompactAt(other);
  c.Tick(lagging, 40);  // it times out and campaigns in vain, raising its ballot
  c.HealAll();
  c.node(lagging).Campaign();
  c.Stabilize();
  EXPECT_NE(c.node(lagging).role(), Role::kLeader);
  // Its raised ballot costs one leader change (there is no pre-vote), then it is caught up.
  for (int i = 0; i < 300 && c.replica(lagging).state.size() < 10; ++i) c.TickAll(1);
  const ReplicaId next = WaitForLeader(c);
  ASSERT_NE(next, kNoReplica);
  EXPECT_NE(next, lagging);
  EXPECT_EQ(c.replica(lagging).state, c.replica(next).state);
  for (const SoftState& s : c.replica(lagging).soft_states) EXPECT_NE(s.role, Role::kLeader);
}

TEST(PaxosTest, RestartedReplicaKeepsItsPromiseAndLogAndRejoins) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId f = OtherThan(c, {leader});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ProposeOk(c, leader, "a" + std::to_string(i)));
  c.TickAll(1);
  const Ballot promised = c.node(f).promised();
  const uint64_t last = c.node(f).last_index();
  c.Crash(f);
  ASSERT_TRUE(ProposeOk(c, leader, "while-down"));
  c.Stabilize();
  c.Restart(f);
  EXPECT_EQ(c.node(f).promised(), promised);
  EXPECT_EQ(c.node(f).last_index(), last);
  c.TickAll(3);
  EXPECT_EQ(c.replica(f).state, c.replica(leader).state);
  EXPECT_EQ(c.replica(f).state.size(), 6u);
}

TEST(PaxosTest, RestartedReplicaIgnoresPreparesForOneElectionTimeout) {
  TestCluster c(3);
  const ReplicaId leader = WaitForLeader(c);
  ASSERT_NE(leader, kNoReplica);
  const ReplicaId f = OtherThan(c, {leader});
  const ReplicaId g = OtherThan(c, {leader, f});
  c.Crash(f);
  c.Restart(f);
  const Ballot before = c.node(f).promised();
  c.Isolate(leader);
  c.node(g).Campaign();  // g heard from the leader too, but g is the one asking
  c.DeliverOnce();
  EXPECT_EQ(c.node(f).promised(), before);
}

TEST(PaxosTest, MessagesForAnotherReplicaOrMalformedAreRejected) {
  TestCluster c(3);
  Message m;
  m.type = MessageType::kHeartbeat;
  m.from = 2;
  m.to = 3;
  m.ballot = Ballot{1, 2};
  EXPECT_EQ(c.node(1).Step(m), Status::kInvalidArgument);
  m.to = 1;
  m.ballot = Ballot{1, 3};  // a ballot owned by someone else
  EXPECT_EQ(c.node(1).Step(m), Status::kInvalidArgument);
  Message accept;
  accept.type = MessageType::kAccept;
  accept.from = 2;
  accept.to = 1;
  accept.ballot = Ballot{1, 2};
  accept.index = 4;
  accept.entries.push_back(Entry{6, Ballot{1, 2}, EntryType::kNoop, 0, 0, ""});  // not 5
  EXPECT_EQ(c.node(1).Step(accept), Status::kInvalidArgument);
}

}  // namespace
}  // namespace keel::replication
