#include "replication/paxos.h"

#include <algorithm>
#include <limits>

#include "replication/codec.h"

namespace keel::replication {
namespace {

size_t Majority(size_t voters) { return voters / 2 + 1; }

bool HasMajority(const Membership& m, const std::set<ReplicaId>& ids) {
  if (m.voters.empty()) return false;
  size_t n = 0;
  for (ReplicaId v : m.voters) n += ids.count(v);
  return n >= Majority(m.voters.size());
}

}  // namespace

PersistentState Bootstrap(const std::vector<ReplicaId>& voters) {
  PersistentState s;
  ConfChange cc;
  cc.type = ConfChangeType::kBootstrap;
  cc.voters = voters;
  Entry e;
  e.index = 1;
  e.type = EntryType::kConfChange;
  e.payload = EncodeConfChange(cc);
  s.entries.push_back(std::move(e));
  s.hard_state.commit = 1;
  return s;
}

PaxosNode::PaxosNode(const Config& config) : config_(config) {}

Status PaxosNode::Create(const Config& config, PersistentState state,
                         std::unique_ptr<PaxosNode>* out) {
  if (config.id == kNoReplica || config.election_ticks < 2 || config.heartbeat_ticks == 0 ||
      config.heartbeat_ticks >= config.election_ticks || config.max_entries_per_message == 0 ||
      config.max_inflight_messages == 0 || config.max_apply_entries == 0 ||
      (config.lease_reads &&
       (!config.check_quorum || config.lease_drift_ticks >= config.election_ticks))) {
    return Status::kInvalidArgument;
  }
  std::unique_ptr<PaxosNode> n(new PaxosNode(config));
  Status s = n->log_.Reset(state.snapshot, std::move(state.entries));
  if (s != Status::kOk) return s;
  const HardState& hs = state.hard_state;
  const uint64_t commit = std::max(hs.commit, state.snapshot.index);
  const uint64_t applied = std::max(state.applied, state.snapshot.index);
  if (commit > n->log_.last_index() || applied > commit) return Status::kInvalidArgument;
  n->promised_ = hs.promised;
  n->highest_seen_ = hs.promised;
  n->commit_ = commit;
  n->applied_ = applied;
  n->persisted_hard_state_ = hs;
  // Entries after the commit index that carry the promised ballot were accepted from that
  // ballot's leader, in order, so they still match its log (README.md, "Restart").
  n->match_ballot_ = hs.promised;
  n->match_point_ = commit;
  while (!hs.promised.IsZero()) {
    const Entry* e = n->log_.At(n->match_point_ + 1);
    if (e == nullptr || e->ballot != hs.promised) break;
    ++n->match_point_;
  }
  n->stable_index_ = n->log_.last_index();
  n->rng_state_ = config.random_seed;
  n->ResetElectionTimer();
  // A restarted replica may have acked a leader just before crashing; it behaves as if it
  // had just heard from one, so it cannot help unseat a leased leader early.
  n->leader_contact_elapsed_ = 0;
  n->reported_soft_state_ = n->CurrentSoftState();
  *out = std::move(n);
  return Status::kOk;
}

uint64_t PaxosNode::NextRandom() {
  // splitmix64
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void PaxosNode::ResetElectionTimer() {
  election_elapsed_ = 0;
  randomized_timeout_ =
      config_.election_ticks + static_cast<uint32_t>(NextRandom() % config_.election_ticks);
}

std::optional<uint64_t> PaxosNode::MatchIndex(ReplicaId peer) const {
  if (role_ != Role::kLeader) return std::nullopt;
  if (peer == config_.id) return stable_index_;
  auto it = progress_.find(peer);
  if (it == progress_.end()) return std::nullopt;
  return it->second.match;
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

Status PaxosNode::Step(const Message& m) {
  if (m.to != config_.id || m.from == kNoReplica || m.from == config_.id) {
    return Status::kInvalidArgument;
  }
  switch (m.type) {
    case MessageType::kPrepare:
    case MessageType::kAccept:
    case MessageType::kHeartbeat:
    case MessageType::kInstallSnapshot:
      // Requests of a ballot come from the replica that owns the ballot.
      if (m.ballot.replica != m.from) return Status::kInvalidArgument;
      break;
    default:
      break;
  }
  if (m.type == MessageType::kAccept) {
    for (size_t i = 0; i < m.entries.size(); ++i) {
      if (m.entries[i].index != m.index + 1 + i || m.entries[i].ballot > m.ballot) {
        return Status::kInvalidArgument;
      }
    }
  }
  if (m.type == MessageType::kInstallSnapshot && !m.snapshot) return Status::kInvalidArgument;
  // Only a chosen removal retires a replica: an uncommitted one may never take effect, and
  // ignoring the sender on its strength could cut this replica off from the real leader.
  if (log_.MembershipAt(commit_ + 1).IsRemoved(m.from)) return Status::kOk;
  if (m.ballot > highest_seen_) highest_seen_ = m.ballot;

  switch (m.type) {
    case MessageType::kPrepare:
      OnPrepare(m);
      break;
    case MessageType::kPromise:
      OnPromise(m);
      break;
    case MessageType::kAccept:
      OnAccept(m);
      break;
    case MessageType::kAccepted:
      OnAccepted(m);
      break;
    case MessageType::kHeartbeat:
      OnHeartbeat(m);
      break;
    case MessageType::kHeartbeatAck:
      OnHeartbeatAck(m);
      break;
    case MessageType::kInstallSnapshot:
      OnInstallSnapshot(m);
      break;
    case MessageType::kForward:
      OnForward(m);
      break;
    case MessageType::kReadIndex:
      OnReadIndexRequest(m);
      break;
    case MessageType::kReadIndexReply:
      OnReadIndexReply(m);
      break;
  }
  return Status::kOk;
}

void PaxosNode::Tick() {
  ++now_;
  if (leader_contact_elapsed_ < std::numeric_limits<uint32_t>::max()) ++leader_contact_elapsed_;
  if (role_ == Role::kLeader) {
    for (auto& [peer, pr] : progress_) {
      if (pr.state == ProgressState::kSnapshot &&
          ++pr.snapshot_wait_ticks >= 2 * config_.election_ticks) {
        // The snapshot (or its ack) was lost, or the host never produced it: probe again.
        pr.state = ProgressState::kProbe;
        pr.probe_sent = false;
        SendAccepts(peer, pr, true);
      }
    }
    if (++heartbeat_elapsed_ >= config_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      BroadcastHeartbeat();
    }
    if (++check_quorum_elapsed_ >= config_.election_ticks) {
      check_quorum_elapsed_ = 0;
      std::set<ReplicaId> active{config_.id};
      for (auto& [peer, pr] : progress_) {
        if (pr.active) active.insert(peer);
        pr.active = false;
      }
      if (config_.check_quorum && !QuorumOf(active)) {
        BecomeFollower(kNoReplica);
        return;
      }
    }
    MaybePromoteLearner();
    return;
  }
  if (++election_elapsed_ >= randomized_timeout_) Campaign();
}

ProposeResult PaxosNode::Propose(std::string payload, uint64_t client_id, uint64_t client_seq) {
  if (role_ == Role::kLeader) {
    uint64_t index = AppendAsLeader(EntryType::kNormal, std::move(payload), client_id, client_seq);
    return ProposeResult{Status::kOk, index, config_.id};
  }
  if (config_.forward_proposals && leader_ != kNoReplica) {
    Message m;
    m.type = MessageType::kForward;
    m.to = leader_;
    Entry e;
    e.type = EntryType::kNormal;
    e.client_id = client_id;
    e.client_seq = client_seq;
    e.payload = std::move(payload);
    m.entries.push_back(std::move(e));
    Send(std::move(m));
    return ProposeResult{Status::kForwarded, 0, leader_};
  }
  return ProposeResult{Status::kNotLeader, 0, leader_};
}

ProposeResult PaxosNode::ProposeAddMember(ReplicaId id) {
  ConfChange cc;
  cc.type = ConfChangeType::kAddLearner;
  cc.replica = id;
  return ProposeConfChange(cc);
}

ProposeResult PaxosNode::ProposeRemoveMember(ReplicaId id) {
  ConfChange cc;
  cc.type = ConfChangeType::kRemove;
  cc.replica = id;
  return ProposeConfChange(cc);
}

ProposeResult PaxosNode::ProposeConfChange(const ConfChange& cc) {
  if (role_ != Role::kLeader) return ProposeResult{Status::kNotLeader, 0, leader_};
  if (!LeaderReady()) return ProposeResult{Status::kLeaderNotReady, 0, config_.id};
  if (log_.HasConfChangeAfter(commit_)) {
    return ProposeResult{Status::kConfChangePending, 0, config_.id};
  }
  if (cc.replica == kNoReplica) return ProposeResult{Status::kInvalidArgument, 0, config_.id};
  const Membership& current = log_.latest_membership();
  if (cc.type == ConfChangeType::kAddLearner && current.IsRemoved(cc.replica)) {
    return ProposeResult{Status::kReplicaIdReused, 0, config_.id};
  }
  Membership next = current;
  if (!next.Apply(cc)) return ProposeResult{Status::kInvalidConfChange, 0, config_.id};
  uint64_t index = AppendAsLeader(EntryType::kConfChange, EncodeConfChange(cc), 0, 0);
  return ProposeResult{Status::kOk, index, config_.id};
}

Status PaxosNode::ReadIndex(std::string context) {
  if (role_ == Role::kLeader) {
    LeaderRead(std::move(context), config_.id);
    return Status::kOk;
  }
  if (config_.forward_proposals && leader_ != kNoReplica) {
    Message m;
    m.type = MessageType::kReadIndex;
    m.to = leader_;
    m.context = std::move(context);
    Send(std::move(m));
    return Status::kForwarded;
  }
  return Status::kNotLeader;
}

Status PaxosNode::SendSnapshot(ReplicaId to, uint64_t index, std::string data) {
  if (role_ != Role::kLeader) return Status::kUnavailable;
  auto it = progress_.find(to);
  if (it == progress_.end() || it->second.state != ProgressState::kSnapshot) {
    return Status::kUnavailable;
  }
  if (index < log_.snapshot_index() || index > applied_) return Status::kInvalidArgument;
  Progress& pr = it->second;
  Message m;
  m.type = MessageType::kInstallSnapshot;
  m.to = to;
  m.ballot = promised_;
  m.snapshot = Snapshot{SnapshotMeta{index, log_.MembershipAt(index + 1)}, std::move(data)};
  pr.pending_snapshot = index;
  pr.next = index + 1;
  pr.snapshot_wait_ticks = 0;
  Send(std::move(m));
  return Status::kOk;
}

Status PaxosNode::Compact(uint64_t index) {
  if (index > applied_ || index < log_.snapshot_index()) return Status::kInvalidArgument;
  log_.CompactTo(index);
  if (dirty_lo_ <= index) dirty_lo_ = index + 1;
  return Status::kOk;
}

// ---------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------

void PaxosNode::BecomeFollower(ReplicaId leader) {
  role_ = Role::kFollower;
  leader_ = leader;
  progress_.clear();
  reads_.clear();
  round_sent_tick_.clear();
  promises_.clear();
  prepared_.clear();
  merged_.clear();
  promise_commits_.clear();
  snapshot_requests_.clear();
  lease_until_ = 0;
  flush_needed_ = false;
  ResetElectionTimer();
}

void PaxosNode::StepDownIfHigher(const Ballot& b) {
  if (b > promised_ && role_ != Role::kFollower) BecomeFollower(kNoReplica);
}

void PaxosNode::Campaign() {
  if (role_ == Role::kLeader) return;
  // With leases, this replica's own promise must not help unseat a leader it acked within
  // election_ticks, even when the host asks for an election explicitly.
  if (config_.lease_reads && leader_contact_elapsed_ < config_.election_ticks) return;
  ResetElectionTimer();
  if (!log_.latest_membership().IsVoter(config_.id)) return;
  BecomeFollower(kNoReplica);
  role_ = Role::kCandidate;
  // A fresh ballot above everything seen; it is durable (hard state) before any Prepare
  // leaves, so a restarted replica never reuses it.
  promised_ = Ballot{std::max(promised_.round, highest_seen_.round) + 1, config_.id};
  highest_seen_ = promised_;
  promises_.insert(config_.id);
  for (uint64_t i = commit_ + 1; i <= log_.last_index(); ++i) merged_[i] = *log_.At(i);
  if (Phase1Complete()) {
    BecomeLeader();
  } else {
    SendPrepares();
  }
}

std::vector<Membership> PaxosNode::Phase1Memberships() const {
  // Phase 1 must reach a majority of every membership that may govern a slot above the
  // commit index: the committed one, and the one after each conf change reported so far.
  std::vector<Membership> out;
  Membership m = log_.MembershipAt(commit_ + 1);
  out.push_back(m);
  for (const auto& [slot, e] : merged_) {
    if (e.type != EntryType::kConfChange) continue;
    ConfChange cc;
    if (DecodeConfChange(e.payload, &cc) == Status::kOk && m.Apply(cc)) out.push_back(m);
  }
  return out;
}

bool PaxosNode::Phase1Complete() const {
  for (const Membership& m : Phase1Memberships()) {
    if (!HasMajority(m, promises_)) return false;
  }
  return true;
}

void PaxosNode::SendPrepares() {
  for (const Membership& m : Phase1Memberships()) {
    for (ReplicaId v : m.voters) {
      if (v == config_.id || !prepared_.insert(v).second) continue;
      Message p;
      p.type = MessageType::kPrepare;
      p.to = v;
      p.ballot = promised_;
      p.index = commit_ + 1;
      p.commit = commit_;
      Send(std::move(p));
    }
  }
}

void PaxosNode::BecomeLeader() {
  role_ = Role::kLeader;
  leader_ = config_.id;
  leader_base_ = commit_;
  // Re-propose, at this ballot, every slot learned in phase 1; fill holes with no-ops.
  uint64_t max_slot = std::max(commit_, log_.last_index());
  if (!merged_.empty()) max_slot = std::max(max_slot, merged_.rbegin()->first);
  for (uint64_t s = commit_ + 1; s <= max_slot; ++s) {
    Entry e;
    auto it = merged_.find(s);
    if (it != merged_.end()) {
      e = std::move(it->second);
    } else {
      e.type = EntryType::kNoop;
    }
    e.index = s;
    e.ballot = promised_;
    log_.Put(std::move(e));
    MarkDirty(s);
  }
  merged_.clear();
  // The no-op: once it is chosen, everything chosen before this leadership is below the
  // commit index, so reads and membership changes may proceed.
  leader_start_index_ = AppendAsLeader(EntryType::kNoop, std::string(), 0, 0);
  progress_.clear();
  RefreshPeers();
  for (auto& [peer, pr] : progress_) {
    auto it = promise_commits_.find(peer);
    pr.next =
        (it != promise_commits_.end() ? std::min(it->second, leader_base_) : leader_base_) + 1;
  }
  promises_.clear();
  prepared_.clear();
  promise_commits_.clear();
  heartbeat_elapsed_ = 0;
  check_quorum_elapsed_ = 0;
  read_round_ = 0;
  round_sent_tick_.clear();
  lease_until_ = 0;
  for (auto& [peer, pr] : progress_) SendAccepts(peer, pr, true);
  flush_needed_ = false;
}

// ---------------------------------------------------------------------------------------
// Acceptor / follower side
// ---------------------------------------------------------------------------------------

bool PaxosNode::AcceptFromLeader(const Message& m, MessageType reply_type) {
  if (m.ballot < promised_) {
    Message r;
    r.type = reply_type;
    r.to = m.from;
    r.ballot = promised_;
    r.reject = Reject::kBallot;
    r.round = m.round;
    Send(std::move(r));
    return false;
  }
  promised_ = m.ballot;
  if (role_ != Role::kFollower || leader_ != m.from) BecomeFollower(m.from);
  election_elapsed_ = 0;
  leader_contact_elapsed_ = 0;
  if (match_ballot_ != m.ballot) {
    match_ballot_ = m.ballot;
    match_point_ = commit_;
  }
  return true;
}

void PaxosNode::OnPrepare(const Message& m) {
  Message r;
  r.type = MessageType::kPromise;
  r.to = m.from;
  r.ballot = m.ballot;
  r.index = m.index;
  if (m.ballot < promised_) {
    r.ballot = promised_;
    r.reject = Reject::kBallot;
    Send(std::move(r));
    return;
  }
  if (m.commit < log_.snapshot_index()) {
    // Slots (m.commit, snapshot_index] are chosen but compacted here: this replica cannot
    // report them, so it must not help this candidate. A better-informed replica will win.
    r.reject = Reject::kSnapshotNeeded;
    Send(std::move(r));
    return;
  }
  if (m.ballot > promised_) {
    const bool in_lease =
        config_.check_quorum &&
        (role_ == Role::kLeader || leader_contact_elapsed_ < config_.election_ticks);
    if (in_lease) return;
    promised_ = m.ballot;
    BecomeFollower(kNoReplica);
  }
  // Granted (or re-granted, if this is a retransmission).
  r.commit = commit_;
  r.entries = log_.Slice(std::max(m.index, log_.first_index()), log_.last_index(),
                         std::numeric_limits<size_t>::max(), std::numeric_limits<size_t>::max());
  Send(std::move(r));
}

void PaxosNode::AdvanceFollowerCommit(uint64_t leader_commit) {
  uint64_t c = std::min(leader_commit, match_point_);
  if (c > commit_) commit_ = c;
}

void PaxosNode::OnAccept(const Message& m) {
  if (!AcceptFromLeader(m, MessageType::kAccepted)) return;
  Message r;
  r.type = MessageType::kAccepted;
  r.to = m.from;
  r.ballot = m.ballot;
  const uint64_t prev = m.index;
  if (prev > match_point_) {
    r.reject = Reject::kGap;
    r.index = prev;
    r.hint = match_point_;
    Send(std::move(r));
    return;
  }
  for (const Entry& e : m.entries) {
    if (e.index <= commit_) continue;  // chosen; already held
    const Entry* cur = log_.At(e.index);
    // Same (index, ballot) is the same value. An entry below the leader's ballot is a chosen
    // value being copied; never replace a higher-ballot copy of that same value with it, as
    // the higher ballot may be the evidence a future phase 1 needs (README.md, invariant 3).
    if (cur != nullptr &&
        (cur->ballot == e.ballot || (cur->ballot > e.ballot && cur->SameValue(e)))) {
      continue;
    }
    log_.Put(e);
    MarkDirty(e.index);
  }
  match_point_ = std::max(match_point_, prev + m.entries.size());
  AdvanceFollowerCommit(m.commit);
  r.index = match_point_;
  Send(std::move(r));
}

void PaxosNode::OnHeartbeat(const Message& m) {
  if (!AcceptFromLeader(m, MessageType::kHeartbeatAck)) return;
  AdvanceFollowerCommit(m.commit);
  Message r;
  r.type = MessageType::kHeartbeatAck;
  r.to = m.from;
  r.ballot = m.ballot;
  r.round = m.round;
  r.index = match_point_;
  Send(std::move(r));
}

void PaxosNode::OnInstallSnapshot(const Message& m) {
  if (!AcceptFromLeader(m, MessageType::kAccepted)) return;
  const SnapshotMeta& meta = m.snapshot->meta;
  if (meta.index > commit_) {
    log_.InstallSnapshot(meta);
    commit_ = meta.index;
    applied_ = meta.index;
    match_point_ = meta.index;
    stable_index_ = std::min(stable_index_, meta.index);
    if (dirty_lo_ <= meta.index) dirty_lo_ = meta.index + 1;
    pending_snapshot_ = *m.snapshot;
  }
  Message r;
  r.type = MessageType::kAccepted;
  r.to = m.from;
  r.ballot = m.ballot;
  r.index = match_point_;
  Send(std::move(r));
}

void PaxosNode::OnReadIndexReply(const Message& m) {
  if (m.reject != Reject::kNone) return;
  ready_reads_.push_back(ReadState{m.context, m.index});
}

// ---------------------------------------------------------------------------------------
// Candidate side
// ---------------------------------------------------------------------------------------

void PaxosNode::OnPromise(const Message& m) {
  if (role_ != Role::kCandidate) return;
  if (m.reject == Reject::kBallot) {
    StepDownIfHigher(m.ballot);
    return;
  }
  if (m.ballot != promised_) return;  // answers an older campaign
  if (m.reject == Reject::kSnapshotNeeded) {
    // This replica is too far behind to lead; wait to be caught up by whoever wins.
    BecomeFollower(kNoReplica);
    return;
  }
  if (m.reject != Reject::kNone || !promises_.insert(m.from).second) return;
  promise_commits_[m.from] = m.commit;
  for (const Entry& e : m.entries) {
    if (e.index <= commit_) continue;
    auto it = merged_.find(e.index);
    if (it == merged_.end() || it->second.ballot < e.ballot) merged_[e.index] = e;
  }
  if (Phase1Complete()) {
    BecomeLeader();
  } else {
    SendPrepares();
  }
}

// ---------------------------------------------------------------------------------------
// Leader side
// ---------------------------------------------------------------------------------------

uint64_t PaxosNode::AppendAsLeader(EntryType type, std::string payload, uint64_t client_id,
                                   uint64_t client_seq) {
  Entry e;
  e.index = log_.last_index() + 1;
  e.ballot = promised_;
  e.type = type;
  e.client_id = client_id;
  e.client_seq = client_seq;
  e.payload = std::move(payload);
  const uint64_t index = e.index;
  log_.Put(std::move(e));
  MarkDirty(index);
  flush_needed_ = true;
  if (type == EntryType::kConfChange) RefreshPeers();
  return index;
}

std::vector<Membership> PaxosNode::ActiveMemberships() const {
  std::vector<Membership> out;
  Membership m = log_.MembershipAt(commit_ + 1);
  out.push_back(m);
  const auto& changes = log_.conf_changes();
  for (auto it = changes.upper_bound(commit_); it != changes.end(); ++it) {
    if (m.Apply(it->second)) out.push_back(m);
  }
  return out;
}

bool PaxosNode::QuorumOf(const std::set<ReplicaId>& ids) const {
  for (const Membership& m : ActiveMemberships()) {
    if (!HasMajority(m, ids)) return false;
  }
  return true;
}

void PaxosNode::RefreshPeers() {
  std::set<ReplicaId> ids;
  for (const Membership& m : ActiveMemberships()) {
    ids.insert(m.voters.begin(), m.voters.end());
    ids.insert(m.learners.begin(), m.learners.end());
  }
  ids.erase(config_.id);
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = ids.count(it->first) ? std::next(it) : progress_.erase(it);
  }
  for (ReplicaId id : ids) {
    if (progress_.count(id)) continue;
    Progress pr;
    pr.next = log_.last_index() + 1;
    pr.active = true;
    progress_.emplace(id, std::move(pr));
  }
}

void PaxosNode::SendAccepts(ReplicaId peer, Progress& pr, bool allow_empty) {
  if (pr.state == ProgressState::kSnapshot) return;
  if (pr.state == ProgressState::kProbe && pr.probe_sent) return;
  while (pr.state != ProgressState::kReplicate ||
         pr.inflight.size() < config_.max_inflight_messages) {
    if (pr.next <= log_.snapshot_index()) {
      pr.state = ProgressState::kSnapshot;
      pr.pending_snapshot = 0;
      pr.snapshot_wait_ticks = 0;
      pr.inflight.clear();
      snapshot_requests_.push_back(SnapshotRequest{peer, log_.snapshot_index()});
      return;
    }
    const uint64_t last = log_.last_index();
    const bool probing = pr.state == ProgressState::kProbe;
    if (pr.next > last && !allow_empty) return;
    Message m;
    m.type = MessageType::kAccept;
    m.to = peer;
    m.ballot = promised_;
    m.index = pr.next - 1;
    m.commit = commit_;
    m.entries =
        log_.Slice(pr.next, last, config_.max_entries_per_message, config_.max_bytes_per_message);
    const uint64_t sent_last = pr.next - 1 + m.entries.size();
    Send(std::move(m));
    allow_empty = false;
    if (probing) {
      pr.probe_sent = true;
      return;
    }
    if (sent_last < pr.next) return;  // an empty Accept; nothing in flight
    pr.next = sent_last + 1;
    pr.inflight.push_back(sent_last);
  }
}

void PaxosNode::OnAccepted(const Message& m) {
  if (m.reject == Reject::kBallot) {
    StepDownIfHigher(m.ballot);
    return;
  }
  if (role_ != Role::kLeader || m.ballot != promised_) return;
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.active = true;
  if (m.reject == Reject::kGap) {
    if (pr.state == ProgressState::kSnapshot) return;
    if (pr.state == ProgressState::kProbe && m.index + 1 != pr.next) return;  // stale
    // The follower only knows its log matches ours up to m.hint: resend from there.
    pr.state = ProgressState::kProbe;
    pr.probe_sent = false;
    pr.inflight.clear();
    pr.next = m.hint + 1;
    SendAccepts(m.from, pr, true);
    return;
  }
  if (m.reject != Reject::kNone) return;
  pr.match = std::max(pr.match, m.index);
  pr.next = std::max(pr.next, m.index + 1);
  while (!pr.inflight.empty() && pr.inflight.front() <= m.index) pr.inflight.pop_front();
  if (pr.state == ProgressState::kProbe ||
      (pr.state == ProgressState::kSnapshot && m.index >= log_.snapshot_index() &&
       m.index >= pr.pending_snapshot)) {
    pr.state = ProgressState::kReplicate;
    pr.probe_sent = false;
    pr.inflight.clear();
  }
  const ReplicaId from = m.from;
  MaybeAdvanceLeaderCommit();
  if (role_ != Role::kLeader) return;
  auto again = progress_.find(from);
  if (again != progress_.end()) SendAccepts(from, again->second, false);
  MaybePromoteLearner();
}

void PaxosNode::OnHeartbeatAck(const Message& m) {
  if (m.reject == Reject::kBallot) {
    StepDownIfHigher(m.ballot);
    return;
  }
  if (role_ != Role::kLeader || m.ballot != promised_) return;
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.active = true;
  pr.acked_round = std::max(pr.acked_round, m.round);
  // The follower's match index is relative to this ballot, so it is as good as an Accepted.
  bool matched_more = m.index > pr.match;
  pr.match = std::max(pr.match, m.index);
  if (pr.state == ProgressState::kSnapshot) {
    if (m.index >= log_.snapshot_index() && m.index >= pr.pending_snapshot) {
      pr.state = ProgressState::kProbe;
      pr.probe_sent = false;
      pr.next = m.index + 1;
      SendAccepts(m.from, pr, true);
    }
  } else if (m.index < log_.last_index()) {
    // Behind: resend. If what we sent was lost (e.g. the follower restarted), the Accept
    // from `next`, possibly empty, is rejected with a gap and we probe from its match.
    if (pr.state == ProgressState::kProbe) {
      pr.probe_sent = false;
    } else if (pr.inflight.size() >= config_.max_inflight_messages) {
      pr.inflight.pop_front();
    }
    SendAccepts(m.from, pr, true);
  }
  if (matched_more) MaybeAdvanceLeaderCommit();
  ConfirmReads();
}

void PaxosNode::OnForward(const Message& m) {
  if (role_ != Role::kLeader) return;  // dropped; the client retries
  for (const Entry& e : m.entries) {
    if (e.type != EntryType::kNormal) continue;
    AppendAsLeader(EntryType::kNormal, e.payload, e.client_id, e.client_seq);
  }
}

void PaxosNode::OnReadIndexRequest(const Message& m) {
  if (role_ == Role::kLeader) {
    LeaderRead(m.context, m.from);
    return;
  }
  Message r;
  r.type = MessageType::kReadIndexReply;
  r.to = m.from;
  r.reject = Reject::kNotLeader;
  r.context = m.context;
  Send(std::move(r));
}

void PaxosNode::MaybeAdvanceLeaderCommit() {
  if (role_ != Role::kLeader) return;
  auto match_of = [this](ReplicaId r) -> uint64_t {
    if (r == config_.id) return stable_index_;
    auto it = progress_.find(r);
    return it == progress_.end() ? 0 : it->second.match;
  };
  // Slots (commit, k1] are governed by the committed membership, (k1, k2] by the one after
  // the conf change at k1, and so on. Commit advances through a segment only as far as a
  // majority of that segment's voters match, and only contiguously.
  uint64_t new_commit = commit_;
  Membership m = log_.MembershipAt(commit_ + 1);
  const auto& changes = log_.conf_changes();
  auto change = changes.upper_bound(commit_);
  uint64_t seg_lo = commit_ + 1;
  while (true) {
    const uint64_t seg_hi = change == changes.end() ? log_.last_index() : change->first;
    if (m.voters.empty() || seg_lo > seg_hi) break;
    std::vector<uint64_t> matches;
    for (ReplicaId v : m.voters) matches.push_back(match_of(v));
    std::sort(matches.begin(), matches.end(), std::greater<uint64_t>());
    const uint64_t q = matches[Majority(matches.size()) - 1];
    if (q < seg_lo) break;
    new_commit = std::min(q, seg_hi);
    if (q < seg_hi || change == changes.end()) break;
    m.Apply(change->second);
    seg_lo = seg_hi + 1;
    ++change;
  }
  if (new_commit <= commit_) return;
  const bool was_ready = LeaderReady();
  commit_ = new_commit;
  if (!was_ready && LeaderReady() && !reads_.empty()) flush_needed_ = true;
  RefreshPeers();
  if (!log_.MembershipAt(commit_ + 1).IsVoter(config_.id)) {
    // This leader's removal is chosen: stop leading. The host should retire the replica.
    BecomeFollower(kNoReplica);
    return;
  }
  MaybePromoteLearner();
}

void PaxosNode::MaybePromoteLearner() {
  if (!LeaderReady() || log_.HasConfChangeAfter(commit_)) return;
  for (ReplicaId learner : log_.latest_membership().learners) {
    auto it = progress_.find(learner);
    if (it == progress_.end() || it->second.match == 0 || !it->second.active) continue;
    if (it->second.match + config_.learner_promotion_lag >= commit_) {
      ConfChange cc;
      cc.type = ConfChangeType::kPromoteLearner;
      cc.replica = learner;
      (void)ProposeConfChange(cc);
      return;
    }
  }
}

void PaxosNode::BroadcastHeartbeat() {
  ++read_round_;
  // Only rounds younger than election_ticks can still grant a lease; forget older ones so an
  // isolated leader (check-quorum off) does not accumulate them.
  if (config_.lease_reads) {
    round_sent_tick_[read_round_] = now_;
    while (!round_sent_tick_.empty() &&
           round_sent_tick_.begin()->second + config_.election_ticks <= now_) {
      round_sent_tick_.erase(round_sent_tick_.begin());
    }
  }
  if (LeaderReady()) {
    for (PendingRead& r : reads_) {
      if (r.round != 0) continue;
      r.round = read_round_;
      r.index = commit_;
    }
  }
  for (const auto& [peer, pr] : progress_) {
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = peer;
    m.ballot = promised_;
    m.commit = commit_;
    m.round = read_round_;
    Send(std::move(m));
  }
  ConfirmReads();
}

void PaxosNode::LeaderRead(std::string context, ReplicaId from) {
  if (config_.lease_reads && LeaderReady() && now_ < lease_until_) {
    ReleaseRead(PendingRead{std::move(context), from, commit_, 0});
    return;
  }
  reads_.push_back(PendingRead{std::move(context), from, 0, 0});
  flush_needed_ = true;
}

void PaxosNode::ConfirmReads() {
  if (role_ != Role::kLeader) return;
  // The highest round that a quorum (of every active membership) has acknowledged.
  std::vector<uint64_t> rounds{read_round_};
  for (const auto& [peer, pr] : progress_) rounds.push_back(pr.acked_round);
  std::sort(rounds.begin(), rounds.end(), std::greater<uint64_t>());
  uint64_t confirmed = 0;
  for (uint64_t r : rounds) {
    if (r == 0) break;
    std::set<ReplicaId> ids{config_.id};
    for (const auto& [peer, pr] : progress_) {
      if (pr.acked_round >= r) ids.insert(peer);
    }
    if (QuorumOf(ids)) {
      confirmed = r;
      break;
    }
  }
  if (confirmed == 0) return;
  if (config_.lease_reads) {
    auto it = round_sent_tick_.find(confirmed);
    if (it != round_sent_tick_.end()) {
      lease_until_ = std::max<uint64_t>(
          lease_until_, it->second + config_.election_ticks - config_.lease_drift_ticks);
    }
  }
  round_sent_tick_.erase(round_sent_tick_.begin(), round_sent_tick_.upper_bound(confirmed));
  while (!reads_.empty() && reads_.front().round != 0 && reads_.front().round <= confirmed) {
    PendingRead r = std::move(reads_.front());
    reads_.pop_front();
    ReleaseRead(std::move(r));
  }
}

void PaxosNode::ReleaseRead(PendingRead read) {
  if (read.from == config_.id) {
    ready_reads_.push_back(ReadState{std::move(read.context), read.index});
    return;
  }
  Message m;
  m.type = MessageType::kReadIndexReply;
  m.to = read.from;
  m.ballot = promised_;
  m.index = read.index;
  m.context = std::move(read.context);
  Send(std::move(m));
}

// ---------------------------------------------------------------------------------------
// Ready / Advance
// ---------------------------------------------------------------------------------------

void PaxosNode::Send(Message m) {
  m.from = config_.id;
  msgs_.push_back(std::move(m));
}

void PaxosNode::MarkDirty(uint64_t index) {
  dirty_lo_ = std::min(dirty_lo_, index);
  dirty_hi_ = std::max(dirty_hi_, index);
  stable_index_ = std::min(stable_index_, index - 1);
}

void PaxosNode::Flush() {
  if (role_ == Role::kLeader) {
    if (flush_needed_) {
      for (auto& [peer, pr] : progress_) SendAccepts(peer, pr, false);
    }
    bool unassigned = std::any_of(reads_.begin(), reads_.end(),
                                  [](const PendingRead& r) { return r.round == 0; });
    if (unassigned && LeaderReady()) BroadcastHeartbeat();
  }
  flush_needed_ = false;
}

bool PaxosNode::HasReady() const {
  if (flush_needed_ || !msgs_.empty() || pending_snapshot_ || dirty_lo_ <= dirty_hi_ ||
      commit_ > applied_ || !snapshot_requests_.empty()) {
    return true;
  }
  if (CurrentHardState() != persisted_hard_state_ || CurrentSoftState() != reported_soft_state_) {
    return true;
  }
  for (const ReadState& r : ready_reads_) {
    if (r.index <= applied_) return true;
  }
  return false;
}

Ready PaxosNode::GetReady() {
  Flush();
  Ready rd;
  SoftState ss = CurrentSoftState();
  if (ss != reported_soft_state_) {
    rd.soft_state = ss;
    reported_soft_state_ = ss;
  }
  HardState hs = CurrentHardState();
  if (hs != persisted_hard_state_) {
    rd.hard_state = hs;
    persisted_hard_state_ = hs;
  }
  rd.snapshot = std::move(pending_snapshot_);
  pending_snapshot_.reset();
  if (dirty_lo_ <= dirty_hi_) {
    const uint64_t lo = std::max(dirty_lo_, log_.first_index());
    const uint64_t hi = std::min(dirty_hi_, log_.last_index());
    for (uint64_t i = lo; i <= hi; ++i) rd.entries.push_back(*log_.At(i));
  }
  dirty_lo_ = UINT64_MAX;
  dirty_hi_ = 0;
  rd.messages.swap(msgs_);
  const uint64_t apply_hi = std::min(commit_, applied_ + config_.max_apply_entries);
  for (uint64_t i = applied_ + 1; i <= apply_hi; ++i) rd.committed_entries.push_back(*log_.At(i));
  const uint64_t applied_after = std::max(applied_, apply_hi);
  for (auto it = ready_reads_.begin(); it != ready_reads_.end();) {
    if (it->index <= applied_after) {
      rd.read_states.push_back(std::move(*it));
      it = ready_reads_.erase(it);
    } else {
      ++it;
    }
  }
  rd.snapshot_requests.swap(snapshot_requests_);
  return rd;
}

void PaxosNode::Advance(const Ready& ready) {
  if (!ready.committed_entries.empty()) {
    applied_ = std::max(applied_, ready.committed_entries.back().index);
  }
  stable_index_ = log_.last_index();
  if (role_ == Role::kLeader) MaybeAdvanceLeaderCommit();
}

}  // namespace keel::replication
