#include "replication/host/group_host.h"

#include <chrono>
#include <future>
#include <thread>

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
    : options_(std::move(options)), storage_(storage), log_(log), transport_(transport) {
  sync_.store(options_.sync);
}

GroupHost::~GroupHost() { Stop(); }

keel::Status GroupHost::Start() {
  GroupId group = options_.group;
  if (!log_->Exists(group) && !options_.bootstrap.empty()) {
    PersistentState boot = Bootstrap(options_.bootstrap);
    if (log_->Persist(group, boot.hard_state, boot.entries, true) != replication::Status::kOk) {
      return keel::Status(Code::kStorage, "cannot persist the group's bootstrap entry");
    }
  }
  // An install that a crash interrupted: put the same snapshot in place before anything
  // reads the store.
  SnapshotMeta marked;
  std::string marked_dir;
  replication::Status marker_status = replication::Status::kOk;
  if (log_->GetInstallMarker(group, &marked, &marked_dir, &marker_status)) {
    StagedSnapshot staged;
    if (!SnapshotStager::Load(marked_dir, &staged) || staged.index != marked.index) {
      return keel::Status(Code::kStorage,
                          "an interrupted snapshot install cannot be redone: " + marked_dir);
    }
    keel::Status st = ReplaceStore(staged);
    if (!st.ok()) return st;
    if (log_->PersistSnapshotMeta(group, marked, true) != replication::Status::kOk) {
      return keel::Status(Code::kStorage, "cannot persist the installed snapshot's meta");
    }
    SnapshotStager::Remove(marked_dir);
  } else if (marker_status != replication::Status::kOk) {
    return keel::Status(Code::kStorage, "the snapshot install marker is corrupt");
  }
  if (!options_.snapshot_dir.empty()) {
    stager_ = std::make_unique<SnapshotStager>(options_.snapshot_dir + "/g" + std::to_string(group),
                                               group);
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
  CountLogBytes();
  PublishStatus();
  next_tick_ = Clock::now() + std::chrono::milliseconds(options_.tick_ms);
  if (options_.executor != nullptr) {
    options_.executor->Post([this, alive = alive_] {
      if (alive->load()) ScheduleTick();
    });
  } else {
    thread_ = std::thread([this] { Run(); });
  }
  return keel::Status::Ok();
}

void GroupHost::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ && !thread_.joinable() && !alive_->load()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (alive_->exchange(false) && options_.executor != nullptr && !options_.executor->InThread()) {
    // Wait for a Step that may be running on the executor: everything posted after this
    // barrier sees alive_ false and does nothing.
    auto barrier = std::make_shared<std::promise<void>>();
    auto done = barrier->get_future();
    options_.executor->Post([barrier] { barrier->set_value(); });
    (void)done.wait_for(std::chrono::seconds(30));  // a stopped executor runs nothing
  }
  cancel_senders_.store(true);
  for (auto& [peer, sender] : senders_) {
    if (sender->thread.joinable()) sender->thread.join();
  }
  senders_.clear();
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
  Kick();
}

void GroupHost::Propose(Mutation mutation, Committer::Done done) {
  {
    std::unique_lock<std::mutex> l(mu_);
    if (!stopping_) {
      proposals_.push_back(Submitted{std::move(mutation), std::move(done)});
      l.unlock();
      Kick();
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
      Kick();
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
  Kick();
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
  leading_.store(s.role == Role::kLeader, std::memory_order_relaxed);
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
  bool progress = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    s.applied = std::max(s.applied, state_.applied);
    progress = s.role == Role::kLeader && s.match != state_.match;
    state_ = std::move(s);
  }
  if (progress && options_.on_progress) options_.on_progress();
}

void GroupHost::Run() {
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_until(l, next_tick_, [this] {
        return stopping_ || !inbox_.empty() || !proposals_.empty() || !host_tasks_.empty() ||
               !reads_in_.empty();
      });
      if (stopping_) return;
    }
    Step();
  }
}

void GroupHost::Kick() {
  if (options_.executor == nullptr) {
    cv_.notify_one();
    return;
  }
  if (kick_pending_.exchange(true)) return;  // a Step is posted and has not started yet
  options_.executor->Post([this, alive = alive_] {
    if (!alive->load()) return;
    kick_pending_.store(false);
    Step();
  });
}

void GroupHost::ScheduleTick() {
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick_ - Clock::now());
  if (delay.count() < 0) delay = std::chrono::milliseconds(0);
  options_.executor->PostAfter(delay, [this, alive = alive_] {
    if (!alive->load()) return;
    Step();
    ScheduleTick();
  });
}

void GroupHost::Step() {
  auto tick = std::chrono::milliseconds(options_.tick_ms);
  std::deque<Message> inbox;
  std::deque<Submitted> proposals;
  std::vector<std::function<void(PaxosNode&)>> tasks;
  std::vector<std::function<void(keel::Status)>> reads;
  {
    std::lock_guard<std::mutex> l(mu_);
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
  for (auto& task : tasks) task(*node_);
  bool due = Clock::now() >= next_tick_;
  if (due) next_tick_ += tick;
  if (Clock::now() > next_tick_ + 10 * tick) next_tick_ = Clock::now() + tick;  // after a stall
  Cycle(inbox, proposals, due);
}

void GroupHost::Cycle(std::deque<Message>& inbox, std::deque<Submitted>& proposals, bool tick) {
  if (broken_) {
    // A replica that could not persist or apply what its core took as done must not
    // promise, acknowledge or lead anything more: it falls silent until restarted (a
    // restart redoes an interrupted snapshot install from its marker).
    for (auto& s : proposals) {
      s.done(keel::Status(Code::kStorage, "the replica cannot apply its log"),
             std::move(s.mutation));
    }
    FailPending(keel::Status(Code::kUnknownOutcome));
    FailReads();
    return;
  }
  for (auto& m : inbox) {
    // A snapshot is let in only once its data is staged here complete: the core takes it as
    // installed the moment it steps it.
    if (m.type == MessageType::kInstallSnapshot && m.snapshot &&
        m.snapshot->meta.index > node_->commit_index()) {
      ReplicaId leader = 0;
      uint64_t transfer = 0, index = 0;
      if (!stager_ || !ParseHandle(m.snapshot->data, &leader, &transfer, &index) ||
          index != m.snapshot->meta.index || !stager_->HasComplete(m.snapshot->data)) {
        continue;  // the leader sends it again after a timeout
      }
    }
    (void)node_->Step(m);  // malformed or misaddressed: ignored
  }
  for (auto& s : proposals) {
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
    if (!ready.snapshot_requests.empty()) HandleSnapshotRequests(ready.snapshot_requests);
  }
  MaybeCompact();
  PublishStatus();
}

void GroupHost::ProcessReady(Ready& ready) {
  GroupId group = options_.group;
  // 1. A snapshot replaces the store. Whatever this replica proposed is decided first: its
  //    batches hold the db gate the install needs.
  if (ready.snapshot) {
    FailPending(keel::Status(Code::kUnknownOutcome));
    if (!InstallSnapshot(*ready.snapshot)) {
      broken_ = true;  // the core took it as installed: stop; a restart redoes it
      return;
    }
  }
  // 2. Durable before anything is sent.
  // A promise is always fsynced (rare: once per election), whatever appendfsync says: an
  // acceptor that forgot one after a power loss could let two leaders choose at one slot.
  bool promise_changed = ready.hard_state && ready.hard_state->promised != synced_promise_;
  if (log_->Persist(group, ready.hard_state, ready.entries,
                    promise_changed || sync_.load(std::memory_order_relaxed)) !=
      replication::Status::kOk) {
    broken_ = true;  // cannot promise what is not durable: stop sending
    return;
  }
  if (promise_changed) synced_promise_ = ready.hard_state->promised;
  for (const Entry& e : ready.entries) log_bytes_ += EntryBytes(e);
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
  ApplyEntries(ready.committed_entries);
  // 5. Reads confirmed, with their index applied.
  for (const ReadState& rs : ready.read_states) {
    auto it = reads_.find(rs.context);
    if (it == reads_.end()) continue;
    auto done = std::move(it->second);
    reads_.erase(it);
    done(keel::Status::Ok());
  }
}

void GroupHost::ApplyEntries(const std::vector<Entry>& entries) {
  // Consecutive entries are applied as one RocksDB write (their batches' records in order,
  // then the applied index once): one WAL write and one applied-index record per cycle
  // instead of one per entry. An entry of another proposer that changes the whole store
  // (FLUSHALL, SWAPDB) is applied alone, with the db gate held exclusively.
  std::string rep(12, '\0');  // a WriteBatch's header: u64 sequence, u32 count
  uint32_t count = 0;
  uint64_t last = 0;
  size_t n = 0;
  std::vector<Pending> owners;
  auto append = [&](const std::string& data) {
    if (data.size() <= 12) return;
    rep.append(data, 12, std::string::npos);
    count += GetFixed32LE(data.data() + 8);
  };
  auto flush = [&] {
    if (n == 0) return;
    std::string applied;
    PutFixed64LE(&applied, last);
    Mutation m;
    std::string header;
    PutFixed64LE(&header, 0);
    PutFixed32LE(&header, count);
    rep.replace(0, 12, header);
    m.batch = rocksdb::WriteBatch(std::move(rep));
    (void)m.batch.Put(storage_->default_cf(), AppliedKey(options_.group), applied);
    // The proposers hold their keys (and, for whole-store commands, the db gate).
    keel::Status st = storage_->Apply(m);
    if (!st.ok()) {
      broken_ = true;  // a replica that cannot apply a chosen entry must stop
    } else {
      NoteApplied(last);
      counters_.entries_applied.fetch_add(n, std::memory_order_relaxed);
    }
    auto now = std::chrono::steady_clock::now();
    for (Pending& p : owners) {
      if (st.ok()) {
        counters_.proposals_applied.fetch_add(1, std::memory_order_relaxed);
        counters_.proposal_usec.fetch_add(
            static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(now - p.submitted).count()),
            std::memory_order_relaxed);
      }
      p.done(st, std::move(p.mutation));
    }
    owners.clear();
    rep.assign(12, '\0');
    count = 0;
    n = 0;
  };
  for (const Entry& e : entries) {
    if (broken_) break;
    // Proposals at slots below this one were not chosen there (another value was).
    while (!pending_.empty() && pending_.front().index < e.index) {
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      p.done(keel::Status(Code::kNotLeader, "0"), std::move(p.mutation));
    }
    bool ours = !pending_.empty() && pending_.front().index == e.index &&
                pending_.front().ballot == e.ballot && e.type == EntryType::kNormal;
    if (ours) {
      owners.push_back(std::move(pending_.front()));
      pending_.pop_front();
      append(owners.back().mutation.batch.Data());
      last = e.index;
      ++n;
      continue;
    }
    if (!pending_.empty() && pending_.front().index == e.index) {
      Pending p = std::move(pending_.front());  // another value won this slot
      pending_.pop_front();
      p.done(keel::Status(Code::kNotLeader, "0"), std::move(p.mutation));
    }
    if (e.type == EntryType::kNormal) {
      rocksdb::WriteBatch b(e.payload);
      DbMapFinder finder;
      (void)b.Iterate(&finder);
      if (finder.found) {
        flush();
        if (broken_) break;
        append(e.payload);
        last = e.index;
        n = 1;
        ClaimGate();
        std::unique_lock<SharedGate> gate(storage_->db_guard(), std::adopt_lock);
        flush();
        continue;
      }
      append(e.payload);
    }
    last = e.index;
    ++n;
  }
  flush();
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

namespace keel::replication {

// ---------------------------------------------------------------------------------------
// The db gate, from the host thread
// ---------------------------------------------------------------------------------------

void GroupHost::RefuseProposals() {
  std::deque<Submitted> submitted;
  {
    std::lock_guard<std::mutex> l(mu_);
    submitted.swap(proposals_);
  }
  std::deque<Submitted> keep;
  for (auto& s : submitted) {
    if (s.mutation.epoch == epoch_ && serving_ballot_ == node_->promised() &&
        node_->role() == Role::kLeader) {
      keep.push_back(std::move(s));  // still valid: proposed next cycle
      continue;
    }
    s.done(keel::Status(Code::kNotLeader, std::to_string(node_->leader())), std::move(s.mutation));
  }
  if (keep.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = keep.rbegin(); it != keep.rend(); ++it) proposals_.push_front(std::move(*it));
}

void GroupHost::ClaimGate() {
  SharedGate& gate = storage_->db_guard();
  while (!gate.try_claim()) {
    RefuseProposals();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  while (!gate.drained()) {
    RefuseProposals();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// ---------------------------------------------------------------------------------------
// Receiving and installing snapshots
// ---------------------------------------------------------------------------------------

std::string GroupHost::OnSnapshotChunk(ReplicaId from, std::string_view body) {
  if (!stager_) return "ERR this replica cannot receive snapshots";
  return stager_->OnChunk(from, body);
}

keel::Status GroupHost::ReplaceStore(const StagedSnapshot& staged) {
  keel::Status st = storage_->ReplaceContents(staged.files);
  if (!st.ok()) return st;
  uint64_t applied = AppliedIndex(*storage_, options_.group);
  if (applied != staged.index) {
    return keel::Status(Code::kStorage, "the installed snapshot records applied index " +
                                            std::to_string(applied) + ", not " +
                                            std::to_string(staged.index));
  }
  return keel::Status::Ok();
}

bool GroupHost::InstallSnapshot(const Snapshot& snapshot) {
  StagedSnapshot staged;
  if (!stager_ || !stager_->Claim(snapshot.data, &staged)) return false;
  GroupId group = options_.group;
  if (log_->PutInstallMarker(group, snapshot.meta, staged.dir) != replication::Status::kOk) {
    return false;
  }
  keel::Status st;
  {
    ClaimGate();
    std::unique_lock<SharedGate> gate(storage_->db_guard(), std::adopt_lock);
    st = ReplaceStore(staged);
  }
  if (!st.ok()) return false;
  if (log_->PersistSnapshotMeta(group, snapshot.meta, true) != replication::Status::kOk) {
    return false;
  }
  SnapshotStager::Remove(staged.dir);
  sent_.clear();
  NoteApplied(snapshot.meta.index);
  log_bytes_ = 0;
  counters_.snapshots_installed.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// ---------------------------------------------------------------------------------------
// Sending snapshots
// ---------------------------------------------------------------------------------------

void GroupHost::HandleSnapshotRequests(const std::vector<SnapshotRequest>& requests) {
  for (const SnapshotRequest& req : requests) {
    // A transfer the peer already holds complete serves again if it is recent enough.
    // (Once: if the peer no longer holds it, e.g. it restarted, it ignores the handle and
    // the next request streams a new one.)
    auto sent = sent_.find(req.to);
    if (sent != sent_.end()) {
      Sent reuse = std::move(sent->second);
      sent_.erase(sent);
      if (reuse.index >= req.min_index && reuse.index >= node_->snapshot_index() &&
          node_->SendSnapshot(req.to, reuse.index, reuse.handle) == replication::Status::kOk) {
        continue;
      }
    }
    auto& sender = senders_[req.to];
    if (sender && !sender->done.load()) continue;  // one transfer per peer at a time
    if (sender && sender->thread.joinable()) sender->thread.join();
    sender = std::make_unique<Sender>();
    // Unique across this host's restarts too: a replica may still hold a complete transfer
    // of an earlier run of this leader.
    uint64_t transfer = (static_cast<uint64_t>(random_()) << 32) ^ random_() ^ ++transfer_seq_;
    std::atomic<bool>* done = &sender->done;
    sender->thread =
        std::thread([this, to = req.to, transfer, done] { SendSnapshotTo(to, transfer, done); });
  }
}

void GroupHost::SendSnapshotTo(ReplicaId to, uint64_t transfer, std::atomic<bool>* done) {
  SnapshotSource source(storage_, options_.group);
  ChunkHeader h;
  h.group = options_.group;
  h.leader = id();
  h.transfer = transfer;
  h.index = source.index();
  bool ok = h.index > 0;
  uint64_t bytes = 0;
  std::string records, next;
  (void)source.Next(kChunkBytes, &records);
  while (ok) {
    if (cancel_senders_.load() || !leading_.load(std::memory_order_relaxed)) {
      ok = false;  // stopping, or no longer the leader: the new one sends its own
      break;
    }
    next.clear();
    h.last = !source.Next(kChunkBytes, &next);
    if (!source.status().ok()) {
      ok = false;
      break;
    }
    bytes += records.size();
    auto reply = transport_->Call(to, EncodeChunk(h, records), options_.chunk_timeout);
    if (!reply.ok() || *reply != "OK") {
      ok = false;
      break;
    }
    if (h.last) break;
    ++h.seq;
    records.swap(next);
  }
  if (!ok) {
    counters_.snapshots_failed.fetch_add(1, std::memory_order_relaxed);
    done->store(true);
    return;
  }
  counters_.snapshot_bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  std::string handle = MakeHandle(id(), transfer, h.index);
  // Done only on the host thread: compaction waits for it, so that the transfer's index is
  // still within the log when the core is given it.
  RunOnHost([this, to, index = h.index, handle, done](PaxosNode& n) {
    if (n.SendSnapshot(to, index, handle) == replication::Status::kOk) {
      sent_[to] = Sent{index, handle};
      counters_.snapshots_sent.fetch_add(1, std::memory_order_relaxed);
    }
    done->store(true);
  });
}

// ---------------------------------------------------------------------------------------
// Compaction
// ---------------------------------------------------------------------------------------

void GroupHost::CountLogBytes() {
  log_bytes_ = 0;
  for (uint64_t i = node_->snapshot_index() + 1; i <= node_->last_index(); ++i) {
    if (const Entry* e = node_->EntryAt(i)) log_bytes_ += EntryBytes(*e);
  }
  counters_.log_bytes.store(log_bytes_, std::memory_order_relaxed);
}

void GroupHost::MaybeCompact() {
  counters_.log_bytes.store(log_bytes_, std::memory_order_relaxed);
  const uint64_t applied = node_->applied_index();
  if (broken_ || options_.compact_bytes == 0 || log_bytes_ < options_.compact_bytes ||
      applied == compact_tried_at_) {
    return;
  }
  compact_tried_at_ = applied;
  for (auto& [peer, sender] : senders_) {
    if (!sender->done.load()) return;  // the transfer's index must stay in the log's reach
  }
  // Keep the newest applied entries, up to half the budget and compact_keep_entries.
  uint64_t point = applied, kept = 0;
  while (point > node_->snapshot_index() && applied - point < options_.compact_keep_entries) {
    const Entry* e = node_->EntryAt(point);
    if (e == nullptr || kept + EntryBytes(*e) > options_.compact_bytes / 2) break;
    kept += EntryBytes(*e);
    --point;
  }
  if (point <= node_->snapshot_index()) return;
  // The applied state up to `point` must outlive the entries dropped.
  if (!storage_->SyncWal().ok()) return;
  if (node_->Compact(point) != replication::Status::kOk) return;
  if (log_->PersistSnapshotMeta(options_.group, node_->snapshot_meta(), sync_.load()) !=
      replication::Status::kOk) {
    broken_ = true;
    return;
  }
  CountLogBytes();
  counters_.compactions.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace keel::replication
