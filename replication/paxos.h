// PaxosNode: the Multi-Paxos replication core for one replica of one replica group.
//
// A pure, deterministic state machine. It owns no socket, thread, clock or file: the host
// feeds it messages (Step), logical clock ticks (Tick), client proposals (Propose), read
// requests (ReadIndex) and membership changes, then collects a Ready batch describing what
// to persist, send, apply and serve, carries it out in the documented order, and calls
// Advance. Given the same Config (including random_seed) and the same sequence of calls, it
// produces the same outputs. The protocol and its invariants are specified in
// replication/README.md.
//
// Ownership: the node owns its in-memory copy of the log (entries after the last
// compaction) and all volatile state. The host owns durable storage, the state machine,
// snapshots and the transport.
//
// Thread-safety: none. A PaxosNode is owned by one host thread; all calls, including the
// const accessors, must come from it (or be externally serialized).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replication/log.h"
#include "replication/types.h"

namespace keel::replication {

struct Config {
  ReplicaId id = kNoReplica;  // this replica; non-zero

  // Logical clock, in Tick() calls. A follower that hears nothing from a leader for a random
  // number of ticks in [election_ticks, 2 * election_ticks) starts an election; a leader
  // heartbeats every heartbeat_ticks. Needs heartbeat_ticks < election_ticks.
  uint32_t election_ticks = 10;
  uint32_t heartbeat_ticks = 1;

  // Seeds the generator of election-timeout jitter. Give each replica a different seed.
  uint64_t random_seed = 0;

  // Check-quorum: a leader that has not heard from a quorum within election_ticks steps
  // down, and a replica that heard from a leader within election_ticks ignores phase-1
  // requests from other candidates (so a partitioned replica cannot depose a healthy leader
  // just by raising its ballot). Required by lease_reads.
  bool check_quorum = true;

  // Followers forward proposals and read-index requests to the leader they know instead of
  // answering kNotLeader.
  bool forward_proposals = false;

  // Leader leases (off by default). A leader that got a quorum of heartbeat acks for a round
  // it sent at tick t serves reads without a round until tick
  //   t + election_ticks - lease_drift_ticks.
  // Safe only if, over any interval, no replica's tick counter advances more than
  // lease_drift_ticks more than the leader's over election_ticks ticks (bounded clock drift),
  // and check_quorum is on. Otherwise a deposed leader may serve a stale read.
  bool lease_reads = false;
  uint32_t lease_drift_ticks = 2;

  // Phase-2 batching and pipelining limits.
  size_t max_entries_per_message = 256;
  size_t max_bytes_per_message = 1 << 20;
  size_t max_inflight_messages = 64;
  // Bound on committed entries handed out per Ready.
  size_t max_apply_entries = 4096;

  // A learner is proposed for promotion to voter once it has been heard from in the current
  // check-quorum period and its match index is within this many entries of the leader's
  // commit index.
  uint64_t learner_promotion_lag = 16;
};

// What the host loaded from durable storage; an empty value is a brand-new replica that
// joins an existing group (it waits, as a non-member, to be contacted by a leader).
struct PersistentState {
  HardState hard_state;
  SnapshotMeta snapshot;       // compaction point; index 0 = none
  std::vector<Entry> entries;  // all persisted entries after snapshot.index, contiguous
  uint64_t applied = 0;        // host state machine's applied index (>= snapshot.index)
};

// The durable state each founding member of a new group writes before creating its node:
// one committed kConfChange/kBootstrap entry at index 1 naming the voters.
PersistentState Bootstrap(const std::vector<ReplicaId>& voters);

// A leader's request for a snapshot to send to a follower whose missing entries were
// compacted. The host answers with PaxosNode::SendSnapshot.
struct SnapshotRequest {
  ReplicaId to = kNoReplica;
  uint64_t min_index = 0;  // the snapshot must cover at least this index
};

// The output of one cycle. Process the fields in this order, then call Advance:
//   1. snapshot: if set, replace the state machine with it (applied index = meta.index),
//      persist meta, delete persisted entries at or below meta.index.
//   2. hard_state and entries: persist them atomically and durably (one synced write batch).
//      Each entry is put at its index, overwriting what was there; nothing is truncated.
//   3. messages: send them. Only now: every message may promise or acknowledge what 2 made
//      durable (a Promise for a ballot, an Accepted for entries).
//   4. committed_entries: apply them in order (they may include entries from 2).
//   5. read_states: serve them (they need only what 1 and 4 have applied).
//   6. snapshot_requests: produce snapshots, answer with SendSnapshot (may be later).
// soft_state is informational (role/leader changes, e.g. to fail pending client requests).
struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<Snapshot> snapshot;
  std::optional<HardState> hard_state;
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Entry> committed_entries;
  std::vector<ReadState> read_states;
  std::vector<SnapshotRequest> snapshot_requests;
};

struct ProposeResult {
  Status status = Status::kOk;    // kOk, kForwarded, kNotLeader, kLeaderNotReady, ...
  uint64_t index = 0;             // kOk: the log index the entry was given (not yet chosen)
  ReplicaId leader = kNoReplica;  // the leader as far as this replica knows (0 = unknown)
};

class PaxosNode {
 public:
  // Creates a node from durable state. Fails with kInvalidArgument on a zero id, bad timing
  // parameters, or state that is not self-consistent (non-contiguous entries, commit beyond
  // the log, applied beyond commit).
  static Status Create(const Config& config, PersistentState state,
                       std::unique_ptr<PaxosNode>* out);

  PaxosNode(const PaxosNode&) = delete;
  PaxosNode& operator=(const PaxosNode&) = delete;

  // --- Inputs ---

  // Handles one message addressed to this replica (kInvalidArgument otherwise, or if it is
  // malformed). Messages from replicas whose removal is committed are ignored.
  Status Step(const Message& m);

  // Advances the logical clock by one tick.
  void Tick();

  // Proposes `payload` as a new log entry. On the leader: kOk with the index it was given
  // (the entry may still be lost if leadership changes before it is chosen; clients retry
  // with the same client_id/client_seq and SessionTable makes the retry harmless). On a
  // follower: kForwarded if forward_proposals and a leader is known, else kNotLeader with a
  // leader hint.
  ProposeResult Propose(std::string payload, uint64_t client_id = 0, uint64_t client_seq = 0);

  // Membership changes, one replica at a time, leader only, after the leader's no-op is
  // committed and while no other change is uncommitted. AddMember adds `id` as a learner;
  // the leader promotes it to voter by itself once it has caught up. Ids are never reused.
  ProposeResult ProposeAddMember(ReplicaId id);
  ProposeResult ProposeRemoveMember(ReplicaId id);

  // Requests a linearizable read tagged `context`. kOk: a ReadState with this context will
  // appear in a later Ready (batched with other reads into one confirmation round), unless
  // leadership is lost first, in which case it is dropped and the client must retry.
  // kForwarded: sent to the leader (forward_proposals). kNotLeader otherwise.
  Status ReadIndex(std::string context);

  // Starts an election now (e.g. for tests or leadership transfer). No-op on a leader, on a
  // non-voter, and (with lease_reads) within election_ticks of hearing from a leader.
  void Campaign();

  // Answers SnapshotRequest: `data` is the host state after applying log[1..index], with
  // snapshot_index() <= index <= applied_index(). kUnavailable if this replica no longer
  // leads or no longer waits to send a snapshot to `to`.
  Status SendSnapshot(ReplicaId to, uint64_t index, std::string data);

  // The host has durably stored a snapshot of its state machine covering log[1..index]
  // (index <= applied_index()); the node drops those entries from memory, and the host
  // persists snapshot_meta() with its snapshot and may delete them from disk. Followers whose
  // next entry is compacted are then caught up with a snapshot.
  Status Compact(uint64_t index);

  // --- Outputs ---

  bool HasReady() const;
  // The next batch. Until Advance is called the host must not call any non-const method.
  Ready GetReady();
  // Acknowledges that `ready` was processed as described on Ready.
  void Advance(const Ready& ready);

  // --- Accessors ---

  ReplicaId id() const { return config_.id; }
  Role role() const { return role_; }
  ReplicaId leader() const { return leader_; }
  Ballot promised() const { return promised_; }
  uint64_t commit_index() const { return commit_; }
  uint64_t applied_index() const { return applied_; }
  uint64_t last_index() const { return log_.last_index(); }
  uint64_t snapshot_index() const { return log_.snapshot_index(); }
  // The compaction point to persist with a host snapshot after Compact (and at restart).
  SnapshotMeta snapshot_meta() const {
    return SnapshotMeta{log_.snapshot_index(), log_.snapshot_membership()};
  }
  const Entry* EntryAt(uint64_t index) const { return log_.At(index); }
  // Membership after every conf change this replica holds (committed or not).
  const Membership& membership() const { return log_.latest_membership(); }
  // Membership as of the commit index.
  Membership committed_membership() const { return log_.MembershipAt(commit_ + 1); }
  // Leader only: the highest index `peer` is known to hold in agreement with this log.
  std::optional<uint64_t> MatchIndex(ReplicaId peer) const;
  // Leader only: whether the leader has committed an entry of its own ballot (serves reads).
  bool LeaderReady() const { return role_ == Role::kLeader && commit_ >= leader_start_index_; }

 private:
  enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
  struct Progress {
    uint64_t match = 0;
    uint64_t next = 1;
    ProgressState state = ProgressState::kProbe;
    bool probe_sent = false;
    std::deque<uint64_t> inflight;  // last index of each unacknowledged Accept (kReplicate)
    uint64_t pending_snapshot = 0;
    uint32_t snapshot_wait_ticks = 0;
    uint64_t acked_round = 0;
    bool active = false;  // heard from during the current check-quorum period
  };
  struct PendingRead {
    std::string context;
    ReplicaId from = kNoReplica;  // who asked; this replica or a forwarding follower
    uint64_t index = 0;
    uint64_t round = 0;  // 0 = not yet part of a round
  };

  explicit PaxosNode(const Config& config);

  // Roles.
  void BecomeFollower(ReplicaId leader);
  void BecomeLeader();
  void ResetElectionTimer();
  void StepDownIfHigher(const Ballot& b);

  // Follower / acceptor side.
  bool AcceptFromLeader(const Message& m, MessageType reply_type);
  void OnPrepare(const Message& m);
  void OnAccept(const Message& m);
  void OnHeartbeat(const Message& m);
  void OnInstallSnapshot(const Message& m);
  void OnReadIndexReply(const Message& m);
  void AdvanceFollowerCommit(uint64_t leader_commit);

  // Candidate side.
  void OnPromise(const Message& m);
  std::vector<Membership> Phase1Memberships() const;
  bool Phase1Complete() const;
  void SendPrepares();

  // Leader side.
  void OnAccepted(const Message& m);
  void OnHeartbeatAck(const Message& m);
  void OnForward(const Message& m);
  void OnReadIndexRequest(const Message& m);
  uint64_t AppendAsLeader(EntryType type, std::string payload, uint64_t client_id,
                          uint64_t client_seq);
  ProposeResult ProposeConfChange(const ConfChange& cc);
  void RefreshPeers();
  void SendAccepts(ReplicaId peer, Progress& pr, bool allow_empty);
  void BroadcastHeartbeat();
  void MaybeAdvanceLeaderCommit();
  void MaybePromoteLearner();
  bool QuorumOf(const std::set<ReplicaId>& ids) const;
  std::vector<Membership> ActiveMemberships() const;
  void LeaderRead(std::string context, ReplicaId from);
  void ConfirmReads();
  void ReleaseRead(PendingRead read);
  void Flush();

  void Send(Message m);
  void MarkDirty(uint64_t index);
  HardState CurrentHardState() const { return HardState{promised_, commit_}; }
  SoftState CurrentSoftState() const { return SoftState{role_, leader_, promised_}; }
  uint64_t NextRandom();

  Config config_;
  PaxosLog log_;

  // Durable (via Ready::hard_state) and volatile acceptor state.
  Ballot promised_;
  uint64_t commit_ = 0;
  uint64_t applied_ = 0;
  Ballot highest_seen_;
  // Follower: log[1..match_point_] is known to equal the log of the leader of match_ballot_.
  uint64_t match_point_ = 0;
  Ballot match_ballot_;

  Role role_ = Role::kFollower;
  ReplicaId leader_ = kNoReplica;

  // Clock.
  uint64_t now_ = 0;
  uint32_t election_elapsed_ = 0;
  uint32_t randomized_timeout_ = 0;
  uint32_t heartbeat_elapsed_ = 0;
  uint32_t check_quorum_elapsed_ = 0;
  uint32_t leader_contact_elapsed_ = 0;
  uint64_t rng_state_ = 0;

  // Candidate state.
  std::set<ReplicaId> promises_;
  std::set<ReplicaId> prepared_;      // voters a Prepare was sent to for the current ballot
  std::map<uint64_t, Entry> merged_;  // slot -> highest-ballot value reported in phase 1
  std::map<ReplicaId, uint64_t> promise_commits_;

  // Leader state.
  std::map<ReplicaId, Progress> progress_;
  uint64_t leader_base_ = 0;         // commit index when phase 1 completed
  uint64_t leader_start_index_ = 0;  // index of this leadership's no-op
  uint64_t stable_index_ = 0;        // log[1..stable_index_] is durable as currently held
  uint64_t read_round_ = 0;
  std::map<uint64_t, uint64_t> round_sent_tick_;
  std::deque<PendingRead> reads_;
  uint64_t lease_until_ = 0;
  bool flush_needed_ = false;

  // Outputs pending for the next Ready.
  std::vector<Message> msgs_;
  uint64_t dirty_lo_ = UINT64_MAX;
  uint64_t dirty_hi_ = 0;
  std::optional<Snapshot> pending_snapshot_;
  std::vector<SnapshotRequest> snapshot_requests_;
  std::deque<ReadState> ready_reads_;
  HardState persisted_hard_state_;
  SoftState reported_soft_state_;
};

}  // namespace keel::replication
