#include "replication/host/group_host.h"

#include <chrono>

#include "datatypes/encoding.h"
#include "datatypes/storage.h"
#include "replication/codec.h"

namespace keel::replication {
namespace {

using Clock = std::chrono::steady_clock;

// Whether a batch changes the db map (SWAPDB), which must be applied with the db gate held
// exclusively.
class DbMapFinder : public rocksdb::WriteBatch::Handler {
 public:
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice&) override {
    if (cf == 0 && key == rocksdb::Slice("dbmap")) found = true;
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    found = true;  // FLUSHDB/FLUSHALL: readers must not see half of it either
    return rocksdb::Status::OK();
  }
  bool found = false;
};

}  // namespace

std::string GroupHost::AppliedKey(GroupId group) {
  std::string k("paxos\0applied", 13);
  PutFixed64BE(&k, group);
  return k;
}

uint64_t GroupHost::AppliedIndex(Storage& storage, GroupId group) {
  std::string v;
  if (!storage.db()
           ->Get(rocksdb::ReadOptions(), storage.default_cf(), AppliedKey(group), &v)
           .ok() ||
      v.size() != 8) {
    return 0;
  }
  return GetFixed64LE(v.data());
}

GroupHost::GroupHost(GroupHostOptions options, Storage* storage, LogStore* log,
                     Transport* transport)
    : options_(std::move(options)), storage_(storage), log_(log), transport_(transport) {}

GroupHost::~GroupHost() { Stop(); }

keel::Status GroupHost::Start() {
  GroupId group = options_.group;
  if (!log_->Exists(group) && !options_.bootstrap.empty()) {
    PersistentState boot = Bootstrap(options_.bootstrap);
    if (log_->Persist(group, boot.hard_state, boot.entries, true) != replication::Status::kOk) {
      return keel::Status(Code::kStorage, "cannot persist the group's bootstrap entry");
    }
  }
  PersistentState state;
  if (log_->Load(group, AppliedIndex(*storage_, group), &state) != replication::Status::kOk) {
    return keel::Status(Code::kStorage, "cannot load the Paxos log");
  }
  // The store may have applied past what the log still says is committed only if the log
  // lost a synced write: refuse rather than diverge.
  if (state.applied > state.hard_state.commit &&
      state.applied > (state.entries.empty() ? state.snapshot.index : state.entries.back().index)) {
    return keel::Status(Code::kStorage, "the data store is ahead of the Paxos log");
  }
  if (state.hard_state.commit < state.applied) state.hard_state.commit = state.applied;
  replication::Status st = PaxosNode::Create(options_.paxos, std::move(state), &node_);
  if (st != replication::Status::kOk) {
    return keel::Status(Code::kInvalidArgument,
                        std::string("cannot start the Paxos node: ") + StatusName(st));
  }
  PublishStatus();
  thread_ = std::thread([this] { Run(); });
  return keel::Status::Ok();
}

void GroupHost::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Whatever was submitted and not decided: the outcome is unknown to the submitter.
  std::deque<Submitted> left;
  {
    std::lock_guard<std::mutex> l(mu_);
    left.swap(proposals_);
  }
  FailPending(keel::Status(Code::kUnknownOutcome));
  for (auto& s : left) s.done(keel::Status(Code::kNotLeader, "0"), std::move(s.mutation));
  std::vector<std::function<void(keel::Status)>> reads;
  {
    std::lock_guard<std::mutex> l(mu_);
    reads.swap(reads_in_);
  }
  for (auto& done : reads) done(keel::Status(Code::kNotLeader, "0"));
  if (node_) FailReads();
}

void GroupHost::Deliver(Message m) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    inbox_.push_back(std::move(m));
  }
  cv_.notify_one();
}

void GroupHost::Propose(Mutation mutation, Committer::Done done) {
  {
    std::unique_lock<std::mutex> l(mu_);
    if (!stopping_) {
      proposals_.push_back(Submitted{std::move(mutation), std::move(done)});
      l.unlock();
      cv_.notify_one();
      return;
    }
  }
  done(keel::Status(Code::kNotLeader, "0"), std::move(mutation));
}

void GroupHost::ReadIndex(std::function<void(keel::Status)> done) {
  {
    std::unique_lock<std::mutex> l(mu_);
    if (!stopping_) {
      reads_in_.push_back(std::move(done));
      l.unlock();
      cv_.notify_one();
      return;
    }
  }
  done(keel::Status(Code::kNotLeader, "0"));
}

void GroupHost::FailReads() {
  auto reads = std::move(reads_);
  reads_.clear();
  for (auto& [context, done] : reads)
    done(keel::Status(Code::kNotLeader, std::to_string(node_->leader())));
}

void GroupHost::RunOnHost(std::function<void(PaxosNode&)> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    host_tasks_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

GroupHost::State GroupHost::state() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

void GroupHost::PublishStatus() {
  State s;
  s.role = node_->role();
  s.leader = node_->leader();
  s.leader_ready = node_->LeaderReady();
  s.commit = node_->commit_index();
  s.applied = node_->applied_index();
  s.last_index = node_->last_index();
  s.ballot = node_->promised();
  s.membership = node_->membership();
  if (s.role == Role::kLeader) {
    for (auto* ids : {&s.membership.voters, &s.membership.learners}) {
      for (ReplicaId id : *ids) {
        if (auto m = node_->MatchIndex(id)) s.match[id] = *m;
      }
    }
    if (s.leader_ready && s.applied >= s.commit && serving_ballot_ != s.ballot) {
      serving_ballot_ = s.ballot;
      ++epoch_;
      epoch_atomic_.store(epoch_, std::memory_order_release);
    }
  }
  s.serving = s.role == Role::kLeader && serving_ballot_ == s.ballot && !broken_;
  s.epoch = epoch_;
  serving_atomic_.store(s.serving, std::memory_order_release);
  std::lock_guard<std::mutex> l(mu_);
  s.applied = std::max(s.applied, state_.applied);
  state_ = s;
}

void GroupHost::Run() {
  auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  std::deque<Message> inbox;
  std::deque<Submitted> proposals;
  std::vector<std::function<void(PaxosNode&)>> tasks;
  std::vector<std::function<void(keel::Status)>> reads;
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_until(l, next_tick, [this] {
        return stopping_ || !inbox_.empty() || !proposals_.empty() || !host_tasks_.empty() ||
               !reads_in_.empty();
      });
      if (stopping_) return;
      inbox.swap(inbox_);
      proposals.swap(proposals_);
      tasks.swap(host_tasks_);
      reads.swap(reads_in_);
    }
    for (auto& done : reads) {
      std::string context = std::to_string(++read_seq_);
      if (node_->ReadIndex(context) != replication::Status::kOk) {
        done(keel::Status(Code::kNotLeader, std::to_string(node_->leader())));
        continue;
      }
      counters_.read_barriers.fetch_add(1, std::memory_order_relaxed);
      reads_[context] = std::move(done);
    }
    reads.clear();
    for (auto& task : tasks) task(*node_);
    tasks.clear();
    bool due = Clock::now() >= next_tick;
    if (due) next_tick += tick;
    if (Clock::now() > next_tick + 10 * tick) next_tick = Clock::now() + tick;  // after a stall
    Cycle(inbox, proposals, due);
    inbox.clear();
    proposals.clear();
  }
}

void GroupHost::Cycle(std::deque<Message>& inbox, std::deque<Submitted>& proposals, bool tick) {
  for (auto& m : inbox) (void)node_->Step(m);  // malformed or misaddressed: ignored
  for (auto& s : proposals) {
    if (broken_) {
      s.done(keel::Status(Code::kStorage, "the replica cannot apply its log"),
             std::move(s.mutation));
      continue;
    }
    if (s.mutation.epoch != epoch_ || serving_ballot_ != node_->promised() ||
        node_->role() != Role::kLeader) {
      // Evaluated under another leadership (or none): certainly not in the log.
      if (node_->role() != Role::kLeader) FailPending(keel::Status(Code::kUnknownOutcome));
      s.done(keel::Status(Code::kNotLeader, std::to_string(node_->leader())),
             std::move(s.mutation));
      continue;
    }
    ProposeResult r = node_->Propose(s.mutation.batch.Data());
    if (r.status == replication::Status::kOk) {
      counters_.proposals.fetch_add(1, std::memory_order_relaxed);
      pending_.push_back(Pending{r.index, node_->promised(), std::move(s.mutation),
                                 std::move(s.done), s.submitted});
      continue;
    }
    // Certainly not in the log. Earlier proposals still in flight are decided first, so
    // that outcomes keep submission order: if this replica cannot propose, they were
    // proposed under a leadership that is over.
    FailPending(keel::Status(Code::kUnknownOutcome));
    s.done(keel::Status(Code::kNotLeader, std::to_string(r.leader)), std::move(s.mutation));
  }
  if (tick) node_->Tick();
  while (node_->HasReady()) {
    Ready ready = node_->GetReady();
    ProcessReady(ready);
    node_->Advance(ready);
  }
  PublishStatus();
}

void GroupHost::ProcessReady(Ready& ready) {
  GroupId group = options_.group;
  // 1. Snapshots are not produced yet (no log compaction): nothing to install.
  // 2. Durable before anything is sent.
  if (log_->Persist(group, ready.hard_state, ready.entries, options_.sync) !=
      replication::Status::kOk) {
    broken_ = true;  // cannot promise what is not durable: stop sending
    return;
  }
  // 3. Send.
  for (const Message& m : ready.messages) transport_->Send(group, m);
  // Leadership over: what was proposed under it may or may not be chosen. Decided before
  // applying, so that the proposers' locks are released before an entry of another leader
  // (which may need the db gate exclusively) is applied.
  if (ready.soft_state) {
    if (ready.soft_state->role == Role::kCandidate) {
      counters_.elections.fetch_add(1, std::memory_order_relaxed);
    }
    if (ready.soft_state->leader != last_leader_ && ready.soft_state->leader != kNoReplica) {
      counters_.leader_changes.fetch_add(1, std::memory_order_relaxed);
      last_leader_ = ready.soft_state->leader;
    }
  }
  if (ready.soft_state && ready.soft_state->role != Role::kLeader) {
    FailPending(keel::Status(Code::kUnknownOutcome));
    FailReads();  // the core drops them: the readers ask again (elsewhere)
  }
  // 4. Apply.
  for (const Entry& e : ready.committed_entries) ApplyEntry(e);
  // 5. Reads confirmed, with their index applied.
  for (const ReadState& rs : ready.read_states) {
    auto it = reads_.find(rs.context);
    if (it == reads_.end()) continue;
    auto done = std::move(it->second);
    reads_.erase(it);
    done(keel::Status::Ok());
  }
}

void GroupHost::ApplyEntry(const Entry& e) {
  if (broken_) return;
  // Proposals at slots below this one were not chosen there (another value was).
  while (!pending_.empty() && pending_.front().index < e.index) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    p.done(keel::Status(Code::kNotLeader, "0"), std::move(p.mutation));
  }
  std::string applied;
  PutFixed64LE(&applied, e.index);
  bool ours = !pending_.empty() && pending_.front().index == e.index &&
              pending_.front().ballot == e.ballot && e.type == EntryType::kNormal;
  if (ours) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    (void)p.mutation.batch.Put(storage_->default_cf(), AppliedKey(options_.group), applied);
    // The proposer holds the keys and, for whole-store commands, the db gate exclusively.
    keel::Status st = storage_->Apply(p.mutation);
    if (!st.ok()) {
      broken_ = true;
    } else {
      NoteApplied(e.index);  // an acknowledged write is visible in state() too
      counters_.entries_applied.fetch_add(1, std::memory_order_relaxed);
      counters_.proposals_applied.fetch_add(1, std::memory_order_relaxed);
      counters_.proposal_usec.fetch_add(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - p.submitted)
                                    .count()),
          std::memory_order_relaxed);
    }
    p.done(st, std::move(p.mutation));
    return;
  }
  if (!pending_.empty() && pending_.front().index == e.index) {
    Pending p = std::move(pending_.front());  // another value won this slot
    pending_.pop_front();
    p.done(keel::Status(Code::kNotLeader, "0"), std::move(p.mutation));
  }
  Mutation m;
  if (e.type == EntryType::kNormal) m.batch = rocksdb::WriteBatch(e.payload);
  DbMapFinder finder;
  if (e.type == EntryType::kNormal) (void)m.batch.Iterate(&finder);
  (void)m.batch.Put(storage_->default_cf(), AppliedKey(options_.group), applied);
  keel::Status st;
  if (finder.found) {
    std::unique_lock<SharedGate> gate(storage_->db_guard());
    st = storage_->Apply(m);
  } else {
    st = storage_->Apply(m);
  }
  if (!st.ok()) {
    broken_ = true;  // a replica that cannot apply a chosen entry must stop
  } else {
    NoteApplied(e.index);
    counters_.entries_applied.fetch_add(1, std::memory_order_relaxed);
  }
}

void GroupHost::NoteApplied(uint64_t index) {
  std::lock_guard<std::mutex> l(mu_);
  state_.applied = std::max(state_.applied, index);
}

void GroupHost::FailPending(const keel::Status& why) {
  counters_.proposals_failed.fetch_add(pending_.size(), std::memory_order_relaxed);
  while (!pending_.empty()) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    p.done(why, std::move(p.mutation));
  }
}

}  // namespace keel::replication
