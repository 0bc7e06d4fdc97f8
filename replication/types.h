// Value types of the Paxos replication core: ballots, log entries, membership, persistent
// state, snapshots, messages and the error enum.
//
// Plain structs with public fields and no behaviour beyond comparisons and small lookups.
// They are values: copy them, move them between threads, keep them as long as you like. The
// core that produces and consumes them (paxos.h) is not thread-safe; these types are.
//
// Enums that reach disk or the wire carry explicit numeric values that must never be
// renumbered or reused. The byte layouts of the persisted and wire forms are in codec.h and
// in replication/README.md ("Persistent state", "Messages").
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keel::replication {

// A replica of one replica group. Ids are chosen by the host, are never 0 and are never
// reused once removed from the group (Membership::removed remembers them).
using ReplicaId = uint64_t;
inline constexpr ReplicaId kNoReplica = 0;

// Errors are values. kOk is the only success code except kForwarded (see Propose).
enum class Status : uint8_t {
  kOk = 0,
  kNotLeader = 1,          // this replica cannot serve the call; leader() is a hint (0 = unknown)
  kForwarded = 2,          // the proposal or read was sent to the leader; outcome not yet known
  kLeaderNotReady = 3,     // leader has not yet committed its first entry (no-op) of its ballot
  kConfChangePending = 4,  // another membership change is not yet committed
  kInvalidConfChange = 5,  // the change does not fit the current membership
  kReplicaIdReused = 6,    // the id was a member before and was removed; ids are never reused
  kInvalidArgument = 7,    // a precondition of the call is violated (see the call's comment)
  kCorrupt = 8,            // bytes given to a decoder are malformed or truncated
  kUnavailable = 9,        // the requested log range or snapshot is not available here
};

// A printable name for `status`, e.g. "kNotLeader".
const char* StatusName(Status status);

// A Paxos ballot (proposal number): totally ordered, unique per proposer because the replica
// id is part of it. Ballot{} (0, 0) is below every real ballot.
struct Ballot {
  uint64_t round = 0;
  ReplicaId replica = kNoReplica;

  friend auto operator<=>(const Ballot&, const Ballot&) = default;
  bool IsZero() const { return round == 0 && replica == kNoReplica; }
};

// Persisted in every log entry; numeric values are part of the disk format.
enum class EntryType : uint8_t {
  kNormal = 1,      // host payload (for Keel: a serialized RocksDB WriteBatch)
  kNoop = 2,        // written by a new leader; empty payload; applies as nothing
  kConfChange = 3,  // payload is an encoded ConfChange (codec.h)
};

// One slot of the replicated log.
//
// `ballot` is the ballot at which this replica accepted the value; a given (index, ballot)
// pair always names the same value on every replica (one proposer per ballot, one value per
// slot per ballot). client_id/client_seq identify a client request for exactly-once
// application (session.h); 0/0 means "not deduplicated".
struct Entry {
  uint64_t index = 0;
  Ballot ballot;
  EntryType type = EntryType::kNormal;
  uint64_t client_id = 0;
  uint64_t client_seq = 0;
  std::string payload;

  bool operator==(const Entry&) const = default;
  // Same value, ignoring the ballot it was accepted at.
  bool SameValue(const Entry& o) const {
    return index == o.index && type == o.type && client_id == o.client_id &&
           client_seq == o.client_seq && payload == o.payload;
  }
};

// Membership change kinds; persisted inside kConfChange entries.
enum class ConfChangeType : uint8_t {
  kBootstrap = 1,       // sets the initial voters; only ever at log index 1
  kAddLearner = 2,      // adds a non-voting learner (promoted automatically once caught up)
  kPromoteLearner = 3,  // learner becomes a voter
  kRemove = 4,          // removes a voter or learner; its id is retired forever
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddLearner;
  ReplicaId replica = kNoReplica;  // kAddLearner, kPromoteLearner, kRemove
  std::vector<ReplicaId> voters;   // kBootstrap only

  bool operator==(const ConfChange&) const = default;
};

// The members of the group as of some log position. All three lists are sorted and
// disjoint. A change at log index i governs the quorums of slots i+1 and later.
struct Membership {
  std::vector<ReplicaId> voters;
  std::vector<ReplicaId> learners;
  std::vector<ReplicaId> removed;  // retired ids, never to be reused

  bool operator==(const Membership&) const = default;
  bool IsVoter(ReplicaId id) const { return std::binary_search(voters.begin(), voters.end(), id); }
  bool IsLearner(ReplicaId id) const {
    return std::binary_search(learners.begin(), learners.end(), id);
  }
  bool IsRemoved(ReplicaId id) const {
    return std::binary_search(removed.begin(), removed.end(), id);
  }
  bool IsMember(ReplicaId id) const { return IsVoter(id) || IsLearner(id); }
  // Applies `cc` if it is valid here and returns whether it changed anything. Invalid changes
  // (adding a member or retired id, promoting a non-learner, removing the last voter) are
  // ignored, identically on every replica.
  bool Apply(const ConfChange& cc);
};

// The durable acceptor state besides the log. Persisted whenever Ready::hard_state is set.
struct HardState {
  Ballot promised;      // highest ballot promised or accepted; never decreases
  uint64_t commit = 0;  // highest index known chosen (an optimisation; not needed for safety)

  bool operator==(const HardState&) const = default;
};

// What a snapshot stands for: the state machine after applying log[1..index], and the
// membership in force after that index.
struct SnapshotMeta {
  uint64_t index = 0;
  Membership membership;

  bool operator==(const SnapshotMeta&) const = default;
};

// A snapshot travelling from a leader's host to a follower's host. `data` is opaque to the
// core: the full serialized state, or a handle (e.g. a RocksDB checkpoint name) that the
// hosts resolve out of band.
struct Snapshot {
  SnapshotMeta meta;
  std::string data;

  bool operator==(const Snapshot&) const = default;
};

// Wire message kinds; numeric values are part of the wire format (codec.h).
enum class MessageType : uint8_t {
  kPrepare = 1,          // phase 1a, candidate -> voters
  kPromise = 2,          // phase 1b reply (granted, or rejected with a reason)
  kAccept = 3,           // phase 2a, leader -> follower: entries after a prefix, plus commit
  kAccepted = 4,         // phase 2b reply: follower's match index, or a rejection
  kHeartbeat = 5,        // leader -> follower: commit index and read round
  kHeartbeatAck = 6,     // reply: read round echoed, follower's match index
  kInstallSnapshot = 7,  // leader -> follower: a snapshot (answered by kAccepted)
  kForward = 8,          // follower -> leader: client proposals to append
  kReadIndex = 9,        // follower -> leader: please confirm a read index for `context`
  kReadIndexReply = 10,  // leader -> follower: the confirmed read index for `context`
};

// Why a request was refused; numeric values are part of the wire format.
enum class Reject : uint8_t {
  kNone = 0,
  kBallot = 1,          // receiver promised a higher ballot, carried in Message::ballot
  kGap = 2,             // kAccept prefix not known to match; Message::hint is where it does
  kSnapshotNeeded = 3,  // kPrepare from a candidate below the receiver's compacted prefix
  kNotLeader = 4,       // kReadIndex sent to a replica that is not the leader
};

// One protocol message. Which fields are meaningful depends on `type`:
//
//   type            ballot              index             commit        other
//   kPrepare        candidate's         first slot asked  cand. commit  -
//   kPromise        candidate's / hi    first slot asked  resp. commit  entries (accepted >= index)
//   kAccept         leader's            prefix end (prev) leader commit entries (prev+1 ...)
//   kAccepted       leader's / hi       match index       -             hint (on kGap: match)
//   kHeartbeat      leader's            -                 leader commit round
//   kHeartbeatAck   leader's / hi       match index       -             round
//   kInstallSnapshot leader's           -                 -             snapshot
//   kForward        -                   -                 -             entries (index unset)
//   kReadIndex      -                   -                 -             context
//   kReadIndexReply leader's            read index        -             context, reject
//
// "hi" = on Reject::kBallot, the receiver's promised ballot instead.
struct Message {
  MessageType type = MessageType::kHeartbeat;
  ReplicaId from = kNoReplica;
  ReplicaId to = kNoReplica;
  Ballot ballot;
  Reject reject = Reject::kNone;
  uint64_t index = 0;
  uint64_t commit = 0;
  uint64_t hint = 0;
  uint64_t round = 0;
  std::vector<Entry> entries;
  std::optional<Snapshot> snapshot;
  std::string context;

  bool operator==(const Message&) const = default;
};

// A confirmed linearizable read: serve `context` from a state machine that has applied at
// least `index`. The core only releases it once that holds (see Ready::read_states).
struct ReadState {
  std::string context;
  uint64_t index = 0;

  bool operator==(const ReadState&) const = default;
};

// Volatile role; not persisted.
enum class Role : uint8_t { kFollower = 0, kCandidate = 1, kLeader = 2 };
const char* RoleName(Role role);

// Volatile view of who leads; reported in Ready::soft_state when it changes.
struct SoftState {
  Role role = Role::kFollower;
  ReplicaId leader = kNoReplica;
  Ballot ballot;  // the promised ballot (the leader's ballot if there is one)

  bool operator==(const SoftState&) const = default;
};

}  // namespace keel::replication
