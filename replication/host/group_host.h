// GroupHost: runs one replica of one replica group: the Paxos core (replication/paxos.h), its
// durable log (LogStore), the transport to the other replicas, and the state machine, which
// is Keel's data store (datatypes/storage.h). PaxosCommitter (below) is the write door's
// Committer for a store whose writes are replicated: a mutation becomes a log entry, and its
// done runs once the entry is chosen and applied here.
//
// The host loop (a thread of its own, or an Executor's thread such as the cluster bus's, see
// GroupHostOptions::executor) follows the core's contract (replication/README.md): Step
// every message that arrived and Propose every mutation submitted since the last cycle (many
// mutations leave in one Accept), Tick when the tick interval passed, then for each Ready:
// persist the hard state and entries in one LogStore write (fsynced under appendfsync always,
// and whenever the promise changed), send the messages, apply the committed entries in order
// (all of the Ready's batches and the group's applied index in one RocksDB write,
// Storage::Apply), and Advance. Nothing the loop does blocks on a client; ticks are late only
// while an fsync, an apply or a snapshot install runs.
//
// Outcomes given to a submitter, in submission order:
//   ok               the entry was chosen and applied here;
//   Code::kNotLeader the mutation certainly never entered the log (this replica was not the
//                    leader, or another value was chosen at its slot); safe to retry
//                    elsewhere; detail is the leader's replica id as far as known ("0" if not);
//   Code::kUnknownOutcome leadership was lost while it was in flight: it may still be chosen.
//
// Applied-index record (in the data store's default column family, written in the same batch
// as the entry it applies): "paxos\0applied" u64 group (big-endian) -> u64 index
// (little-endian).
//
// Log compaction and snapshots (replication/host/snapshot.h): once the entries after the
// compaction point exceed options.compact_bytes, the host syncs the data store's WAL (the
// applied state must not depend on the entries it drops) and compacts the log up to its
// applied index, keeping the last entries (up to half the budget and compact_keep_entries)
// for replicas that lag a little. A replica that needs compacted entries gets a snapshot:
// the leader's host streams one RocksDB snapshot of the store in checksummed chunks from a
// sender thread (one per peer), the replica stages them as SST files, and the core's
// kInstallSnapshot names the complete staged transfer. The replica installs it with the db
// gate held exclusively: install marker (synced, in the LogStore), replace the store's
// contents, then the snapshot meta (which deletes the marker). A restart that finds the
// marker installs the same staged snapshot again before anything else.
//
// Thread-safety: Deliver, Propose, ReadIndex, RunOnHost, OnSnapshotChunk and the accessors
// are thread-safe; everything else runs on the host loop's thread. Snapshot senders run on
// threads of their own (one per peer at most), joined by Stop. Owned by the server (or a test);
// Stop() before destroying the Storage, LogStore or Transport it uses.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "datatypes/committer.h"
#include "replication/host/log_store.h"
#include "replication/host/snapshot.h"
#include "replication/host/transport.h"
#include "replication/paxos.h"

namespace keel {
class Storage;
}

namespace keel::replication {

struct GroupHostOptions {
  GroupId group = 1;
  Config paxos;                      // paxos.id is this replica
  uint32_t tick_ms = 30;             // one logical tick; election after paxos.election_ticks
  bool sync = true;                  // fsync each Ready's log write (appendfsync always)
  std::vector<ReplicaId> bootstrap;  // founding voters, if this replica founds the group
  // Where received snapshots are staged ("" = this replica cannot receive snapshots).
  std::string snapshot_dir;
  // Compact the log once its entries after the compaction point exceed this many bytes
  // (0 = never); keep at most compact_keep_entries of them.
  uint64_t compact_bytes = 64u << 20;
  uint64_t compact_keep_entries = 10000;
  // Called on the host thread whenever a leader learns that replicas hold more of the log
  // (WAIT wakes its waiters). Must not block.
  std::function<void()> on_progress;
  // Where the host loop runs: a thread of its own (null), or this executor's thread (the
  // cluster bus: messages reach the core and leave it without a thread hand-off). The
  // executor must outlive Stop().
  Executor* executor = nullptr;
  // How long a snapshot sender waits for each chunk's acknowledgement.
  std::chrono::milliseconds chunk_timeout{10000};
};

class GroupHost {
 public:
  GroupHost(GroupHostOptions options, Storage* storage, LogStore* log, Transport* transport);
  ~GroupHost();
  GroupHost(const GroupHost&) = delete;
  GroupHost& operator=(const GroupHost&) = delete;

  // Loads the persisted state (bootstrapping the group first if options.bootstrap names
  // voters and nothing is persisted) and starts the host thread.
  keel::Status Start();
  // Stops the host thread; mutations still in flight get kUnknownOutcome.
  void Stop();

  // A message for this replica, from the transport. Thread-safe.
  void Deliver(Message m);
  // Runs `fn` on the host thread at the start of the next cycle, with the core (membership
  // changes, campaigns, leadership transfer). Thread-safe; dropped once stopping.
  void RunOnHost(std::function<void(PaxosNode&)> fn);
  // Proposes a mutation (see the outcomes above). Thread-safe.
  void Propose(Mutation mutation, Committer::Done done);
  // A linearizable read barrier: done(ok) once a quorum confirmed this replica still leads
  // after the call and the store has applied everything committed before it (one
  // confirmation round serves every read requested meanwhile; no log write). Fails with
  // kNotLeader if leadership is lost first. Thread-safe; done runs on the host thread.
  void ReadIndex(std::function<void(keel::Status)> done);
  // A snapshot chunk from replica `from` (the transport's request handler); returns the
  // reply. Thread-safe.
  std::string OnSnapshotChunk(ReplicaId from, std::string_view body);

  // A snapshot of the core's state, refreshed after every cycle. Thread-safe.
  struct State {
    Role role = Role::kFollower;
    ReplicaId leader = kNoReplica;
    bool leader_ready = false;  // leader with an entry of its own ballot committed
    uint64_t commit = 0;
    uint64_t applied = 0;
    uint64_t last_index = 0;
    Ballot ballot;
    // A leader that has applied everything up to its own first entry: it may evaluate
    // commands. `epoch` changes every time this starts being true; a mutation evaluated
    // under one epoch is refused under another (Mutation::epoch).
    bool serving = false;
    uint64_t epoch = 0;
    Membership membership;
    std::map<ReplicaId, uint64_t> match;  // leader only: each member's match index
  };
  State state() const;

  // Monotonic counters for metrics (keel_paxos_*). Lock-free reads.
  struct Counters {
    std::atomic<uint64_t> proposals{0};         // mutations proposed into the log
    std::atomic<uint64_t> proposals_failed{0};  // answered kNotLeader or kUnknownOutcome
    std::atomic<uint64_t> proposal_usec{0};     // submit-to-applied time of those applied
    std::atomic<uint64_t> proposals_applied{0};
    std::atomic<uint64_t> elections{0};       // times this replica became a candidate
    std::atomic<uint64_t> leader_changes{0};  // times the known leader changed
    std::atomic<uint64_t> read_barriers{0};
    std::atomic<uint64_t> entries_applied{0};
    std::atomic<uint64_t> snapshots_sent{0};       // transfers completed and handed to a peer
    std::atomic<uint64_t> snapshots_failed{0};     // transfers abandoned (peer refused, timeout)
    std::atomic<uint64_t> snapshots_installed{0};  // snapshots this replica installed
    std::atomic<uint64_t> snapshot_bytes_sent{0};
    std::atomic<uint64_t> compactions{0};
    std::atomic<uint64_t> log_bytes{0};  // gauge: bytes of the entries after the compaction point
  };
  const Counters& counters() const { return counters_; }
  // State::epoch, without a lock (read by every transaction).
  uint64_t epoch() const { return epoch_atomic_.load(std::memory_order_acquire); }
  // State::serving, without a lock.
  bool serving() const { return serving_atomic_.load(std::memory_order_acquire); }
  ReplicaId id() const { return options_.paxos.id; }
  // Whether each Ready cycle's log write is fsynced (GroupHostOptions::sync). Thread-safe.
  void set_sync(bool sync) { sync_.store(sync, std::memory_order_relaxed); }

  // The applied index recorded in `storage` for `group` (0 if none).
  static uint64_t AppliedIndex(Storage& storage, GroupId group);
  static std::string AppliedKey(GroupId group);

 private:
  struct Pending {
    uint64_t index;
    Ballot ballot;
    Mutation mutation;
    Committer::Done done;
    std::chrono::steady_clock::time_point submitted;
  };
  struct Submitted {
    Mutation mutation;
    Committer::Done done;
    std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  };
  Counters counters_;
  ReplicaId last_leader_ = kNoReplica;

  void Run();   // the loop of the host's own thread
  void Step();  // one pass: what arrived since the last, and the tick if it is due
  void Kick();  // work arrived: wake the thread, or post a Step to the executor
  void ScheduleTick();
  void Cycle(std::deque<Message>& inbox, std::deque<Submitted>& proposals, bool tick);
  void ProcessReady(Ready& ready);
  void ApplyEntries(const std::vector<Entry>& entries);
  void FailPending(const keel::Status& why);
  void PublishStatus();
  void NoteApplied(uint64_t index);
  // Takes the db gate exclusively from the host thread, answering the proposals that arrive
  // meanwhile (their batches hold the gate shared until they are answered).
  void ClaimGate();
  void RefuseProposals();
  // Snapshots and compaction (host thread).
  bool InstallSnapshot(const Snapshot& snapshot);
  keel::Status ReplaceStore(const StagedSnapshot& staged);
  void HandleSnapshotRequests(const std::vector<SnapshotRequest>& requests);
  void SendSnapshotTo(ReplicaId to, uint64_t transfer, std::atomic<bool>* done);
  void MaybeCompact();
  void CountLogBytes();
  static uint64_t EntryBytes(const Entry& e) { return e.payload.size() + 48; }

  GroupHostOptions options_;
  Storage* storage_;
  LogStore* log_;
  Transport* transport_;
  std::unique_ptr<PaxosNode> node_;
  std::deque<Pending> pending_;  // proposed here, in index order, awaiting their slot
  Ballot serving_ballot_;        // the ballot under which this replica last started serving
  uint64_t epoch_ = 0;
  std::atomic<uint64_t> epoch_atomic_{0};
  std::atomic<bool> serving_atomic_{false};
  bool broken_ = false;  // the state machine failed to apply a chosen entry
  std::atomic<bool> sync_{true};

  // Snapshots (host thread unless noted).
  std::unique_ptr<SnapshotStager> stager_;  // thread-safe itself
  struct Sender {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::map<ReplicaId, std::unique_ptr<Sender>> senders_;
  std::atomic<bool> cancel_senders_{false};
  uint64_t transfer_seq_ = 0;
  std::random_device random_;
  std::atomic<bool> leading_{false};  // for the senders: whether this replica still leads
  Ballot synced_promise_;             // the promise last written with fsync
  struct Sent {
    uint64_t index = 0;
    std::string handle;
  };
  std::map<ReplicaId, Sent> sent_;  // complete transfers, reusable while the peer has them
  uint64_t log_bytes_ = 0;
  uint64_t compact_tried_at_ = 0;  // applied index of the last compaction attempt

  std::chrono::steady_clock::time_point next_tick_;  // host loop only
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  std::atomic<bool> kick_pending_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Message> inbox_;
  std::deque<Submitted> proposals_;
  std::vector<std::function<void(PaxosNode&)>> host_tasks_;
  std::vector<std::function<void(keel::Status)>> reads_in_;
  std::map<std::string, std::function<void(keel::Status)>> reads_;  // host thread: by context
  uint64_t read_seq_ = 0;
  void FailReads();
  State state_;
  std::thread thread_;
};

// The write door's Committer for a replicated store: Submit proposes through the host.
class PaxosCommitter final : public Committer {
 public:
  explicit PaxosCommitter(GroupHost* host) : host_(host) {}
  void Submit(Mutation mutation, Done done) override {
    host_->Propose(std::move(mutation), std::move(done));
  }
  uint64_t Epoch() const override { return host_->epoch(); }

 private:
  GroupHost* host_;
};

}  // namespace keel::replication
