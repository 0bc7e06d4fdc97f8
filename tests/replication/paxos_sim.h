// Deterministic simulator for PaxosNode groups, used by paxos_sim_test.cc.
//
// One Simulation runs a 3- or 5-replica group (optionally with membership changes), a few
// clients doing writes and linearizable reads against a key/value register, and a network
// that drops, delays, duplicates and reorders messages, partitions and heals, while replicas
// crash (losing all volatile state, keeping exactly what their host persisted) and restart.
// Everything is driven by one std::mt19937_64 seeded from SimOptions::seed; there is no wall
// clock and no thread, so a seed reproduces a run exactly.
//
// The run alternates chaos phases (random faults) with stable phases (a majority of the
// voters up and connected, the rest crashed or cut off; with membership changes, everyone)
// and ends with a final phase where everything is healed. Checked throughout and at the end:
//   agreement     - every replica that commits index i commits the same value there;
//   durability    - the final commit index covers every index ever committed, with the same
//                   values, and all members converge to the same state;
//   exactly once  - every acknowledged write takes effect once, at the same log position on
//                   every replica, and no replica applies a request twice;
//   linearizable  - reads and writes on each key admit a linearization (register model);
//   progress      - every stable phase acknowledges writes; the final phase completes every
//                   outstanding client request.
// Single-threaded; a Simulation object runs once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "replication/codec.h"
#include "replication/paxos.h"
#include "replication/session.h"

namespace keel::replication::sim {

struct SimOptions {
  uint64_t seed = 1;
  int replicas = 3;
  bool membership_changes = false;
  int64_t duration_ms = 9000;  // including the final phase
  int64_t final_ms = 2500;
  int clients = 4;
  bool trace = false;
  // Deliberately broken hosts, to show that the checkers catch real bugs.
  bool bug_local_reads = false;     // serve reads from local state, skipping ReadIndex
  bool bug_forget_promise = false;  // do not persist the promised ballot
};

struct SimStats {
  uint64_t writes_acked = 0;
  uint64_t reads_acked = 0;
  uint64_t crashes = 0;
  uint64_t elections = 0;
  uint64_t messages = 0;
  uint64_t dropped = 0;
  uint64_t snapshots_installed = 0;
  uint64_t members_added = 0;
  uint64_t members_removed = 0;
  uint64_t final_commit = 0;
};

struct SimResult {
  bool ok = true;
  std::string failure;
  SimStats stats;
  uint64_t fingerprint = 0;  // hash of the observable history, to check determinism
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& opts) : opts_(opts), rng_(opts.seed) {}

  SimResult Run() {
    Setup();
    int64_t next_phase = 600;  // let the first leader settle
    phase_ = Phase::kStable;
    SetStableWorld(/*everyone=*/true);
    stable_start_ = 0;
    while (now_ < opts_.duration_ms && result_.ok) {
      if (now_ == next_phase) next_phase = NextPhase();
      if (phase_ == Phase::kStable && now_ == stable_start_ + kSettleMs) {
        writes_at_progress_mark_ = result_.stats.writes_acked;
      }
      if (phase_ == Phase::kChaos && now_ >= next_fault_) ChaosEvent();
      Deliver();
      if (now_ % kTickMs == 0) {
        for (auto& [id, h] : hosts_) {
          if (h.node) h.node->Tick();
        }
      }
      RunClients();
      ProcessAll();
      ++now_;
    }
    if (result_.ok) FinalChecks();
    result_.stats.final_commit = max_commit_;
    return result_;
  }

 private:
  static constexpr int64_t kTickMs = 10;
  static constexpr int64_t kSettleMs = 900;  // 90 ticks: several election timeouts
  static constexpr int kKeys = 3;

  enum class Phase { kChaos, kStable, kFinal };

  struct KvState {
    std::map<std::string, std::string> kv;
    SessionTable sessions;
    uint64_t applied = 0;

    std::string Encode() const {
      std::string out;
      out += std::to_string(kv.size()) + "\n";
      for (const auto& [k, v] : kv) out += k + "=" + v + "\n";
      out += sessions.Encode();
      return out;
    }
    static KvState Decode(const std::string& in) {
      KvState s;
      size_t pos = in.find('\n');
      size_t n = std::stoul(in.substr(0, pos));
      ++pos;
      for (size_t i = 0; i < n; ++i) {
        size_t nl = in.find('\n', pos);
        std::string line = in.substr(pos, nl - pos);
        size_t eq = line.find('=');
        s.kv[line.substr(0, eq)] = line.substr(eq + 1);
        pos = nl + 1;
      }
      if (SessionTable::Decode(std::string_view(in).substr(pos), &s.sessions) != Status::kOk) {
        std::abort();
      }
      return s;
    }
  };

  struct Host {
    ReplicaId id = 0;
    std::unique_ptr<PaxosNode> node;
    bool retired = false;
    int64_t retire_at = -1;
    int group = 0;
    // Durable storage.
    HardState hard_state;
    SnapshotMeta snapshot_meta;
    std::string snapshot_data;
    std::map<uint64_t, Entry> log;
    // Volatile.
    KvState sm;
    uint64_t checked_commit = 0;
    std::map<std::pair<uint64_t, uint64_t>, uint64_t> applied_ops;  // this incarnation
    Role last_role = Role::kFollower;
  };

  struct Flight {
    int64_t at;
    uint64_t seq;
    Message m;
    bool operator>(const Flight& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  enum class OpKind { kNone, kWrite, kRead };
  struct Client {
    uint64_t id = 0;
    uint64_t seq = 0;  // last write sequence number used
    OpKind op = OpKind::kNone;
    std::string key;
    std::string value;  // write: value written
    int64_t invoked = 0;
    int64_t deadline = 0;
    int64_t next_action = 0;
    ReplicaId target = 0;
    ReplicaId hint = 0;
    std::string read_ctx;
    uint64_t attempts = 0;
    bool waiting = false;  // an attempt is in flight at `target`
  };

  struct WriteRecord {
    uint64_t client, seq;
    std::string key, value;
    int64_t invoked;
    int64_t responded = std::numeric_limits<int64_t>::max();
  };
  struct ReadRecord {
    std::string key, value;
    int64_t invoked, responded;
  };

  // --- setup -----------------------------------------------------------------------------

  void Setup() {
    std::uniform_int_distribution<int> coin(0, 3);
    forward_ = coin(rng_) < 2;
    // Without check-quorum (and its stickiness) stale replicas win elections more easily,
    // which membership runs want: that is where reconfiguration bugs show.
    check_quorum_ = opts_.membership_changes ? coin(rng_) < 2 : coin(rng_) != 0;
    lease_ = check_quorum_ && coin(rng_) == 0;
    max_inflight_ = std::uniform_int_distribution<size_t>(1, 16)(rng_);
    max_entries_ = std::uniform_int_distribution<size_t>(1, 32)(rng_);
    compact_every_ = std::uniform_int_distribution<uint64_t>(8, 120)(rng_);
    std::vector<ReplicaId> ids;
    for (int i = 1; i <= opts_.replicas; ++i) ids.push_back(static_cast<ReplicaId>(i));
    next_id_ = ids.size() + 1;
    for (ReplicaId id : ids) {
      Host& h = hosts_[id];
      h.id = id;
      PersistentState ps = Bootstrap(ids);
      h.hard_state = ps.hard_state;
      for (const Entry& e : ps.entries) h.log[e.index] = e;
      Start(h);
    }
    for (int i = 0; i < opts_.clients; ++i) {
      Client c;
      c.id = 1000 + i;
      c.next_action = 300 + i * 7;
      clients_.push_back(c);
    }
    Trace("options: check_quorum=%d forward=%d lease=%d inflight=%zu entries=%zu compact=%lu",
          check_quorum_, forward_, lease_, max_inflight_, max_entries_,
          static_cast<unsigned long>(compact_every_));
  }

  Config NodeConfig(ReplicaId id) {
    Config c;
    c.id = id;
    c.random_seed = rng_();
    c.forward_proposals = forward_;
    c.check_quorum = check_quorum_;
    c.lease_reads = lease_;
    c.max_inflight_messages = max_inflight_;
    c.max_entries_per_message = max_entries_;
    return c;
  }

  void Start(Host& h) {
    PersistentState ps;
    ps.hard_state = h.hard_state;
    ps.snapshot = h.snapshot_meta;
    for (const auto& [index, e] : h.log) {
      if (index > h.snapshot_meta.index) ps.entries.push_back(e);
    }
    h.sm = h.snapshot_data.empty() ? KvState() : KvState::Decode(h.snapshot_data);
    h.sm.applied = h.snapshot_meta.index;
    ps.applied = h.sm.applied;
    h.checked_commit = h.snapshot_meta.index;
    h.applied_ops.clear();
    h.last_role = Role::kFollower;
    Status s = PaxosNode::Create(NodeConfig(h.id), std::move(ps), &h.node);
    if (s != Status::kOk) Fail("replica %lu failed to restart: %s", Id(h.id), StatusName(s));
  }

  void Crash(Host& h) {
    Trace("crash %lu", Id(h.id));
    ++result_.stats.crashes;
    h.node.reset();
    if (opts_.bug_forget_promise) h.hard_state.promised = Ballot{};
  }

  // --- phases and faults -----------------------------------------------------------------

  int64_t NextPhase() {
    const int64_t final_start = opts_.duration_ms - opts_.final_ms;
    if (phase_ == Phase::kStable) CheckStableProgress();
    if (now_ >= final_start) {
      phase_ = Phase::kFinal;
      SetStableWorld(/*everyone=*/true);
      Trace("final phase");
      stable_start_ = now_;
      return opts_.duration_ms;  // never
    }
    if (phase_ == Phase::kStable) {
      phase_ = Phase::kChaos;
      drop_ = std::uniform_real_distribution<double>(0, 0.25)(rng_);
      dup_ = std::uniform_real_distribution<double>(0, 0.1)(rng_);
      max_delay_ = std::uniform_int_distribution<int>(2, 40)(rng_);
      next_fault_ = now_ + 20;
      for (Client& c : clients_) c.target = 0;
      Trace("chaos phase: drop=%.2f dup=%.2f delay<=%d", drop_, dup_, max_delay_);
      return std::min(final_start, now_ + std::uniform_int_distribution<int64_t>(400, 1800)(rng_));
    }
    phase_ = Phase::kStable;
    SetStableWorld(opts_.membership_changes);
    stable_start_ = now_;
    return std::min(final_start, now_ + 1800);
  }

  // Brings up a majority of the voters (or everyone), fully connected; the rest are crashed
  // or cut off. Network becomes reliable and fast.
  void SetStableWorld(bool everyone) {
    drop_ = 0;
    dup_ = 0;
    max_delay_ = 3;
    std::vector<ReplicaId> voters = CurrentVoters();
    std::set<ReplicaId> majority;
    if (everyone) {
      for (auto& [id, h] : hosts_) {
        if (!h.retired) majority.insert(id);
      }
    } else {
      std::shuffle(voters.begin(), voters.end(), rng_);
      size_t need = voters.size() / 2 + 1;
      size_t size = std::uniform_int_distribution<size_t>(need, voters.size())(rng_);
      majority.insert(voters.begin(), voters.begin() + size);
    }
    reachable_ = majority;
    int group = 1;
    for (auto& [id, h] : hosts_) {
      if (h.retired) continue;
      if (majority.count(id)) {
        h.group = 0;
        if (!h.node) Start(h);
      } else if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) {
        if (h.node) Crash(h);
      } else {
        h.group = group++;
      }
    }
    for (Client& c : clients_) {
      if (!reachable_.count(c.target)) c.target = 0;
    }
    std::string members;
    for (ReplicaId id : majority) members += " " + std::to_string(id);
    Trace("stable phase: connected {%s }", members.c_str());
  }

  void ChaosEvent() {
    next_fault_ = now_ + std::uniform_int_distribution<int64_t>(30, 300)(rng_);
    std::vector<Host*> up, down;
    for (auto& [id, h] : hosts_) {
      if (h.retired) continue;
      (h.node ? up : down).push_back(&h);
    }
    int event = std::uniform_int_distribution<int>(0, 5)(rng_);
    if (opts_.membership_changes && std::uniform_int_distribution<int>(0, 1)(rng_) == 0) {
      event = 6;
    }
    switch (event) {
      case 0:
        if (!up.empty()) Crash(*up[rng_() % up.size()]);
        break;
      case 1:
        if (!down.empty()) {
          Host& h = *down[rng_() % down.size()];
          Trace("restart %lu", Id(h.id));
          Start(h);
        }
        break;
      case 2: {
        std::string desc;
        for (auto& [id, h] : hosts_) {
          h.group = std::uniform_int_distribution<int>(0, 2)(rng_);
          desc += " " + std::to_string(id) + ":" + std::to_string(h.group);
        }
        Trace("partition%s", desc.c_str());
        break;
      }
      case 3:
        for (auto& [id, h] : hosts_) h.group = 0;
        Trace("heal");
        break;
      case 4: {
        // Cut off exactly the leader: it keeps believing it leads for a while, which is
        // where stale reads and lost writes would come from.
        Host* leader = nullptr;
        for (Host* h : up) {
          if (h->node->role() == Role::kLeader &&
              (!leader || h->node->promised() > leader->node->promised())) {
            leader = h;
          }
        }
        if (leader) {
          for (auto& [id, h] : hosts_) h.group = 0;
          leader->group = 1;
          Trace("isolate leader %lu", Id(leader->id));
        }
        break;
      }
      case 6:
        MembershipEvent();
        break;
      default:
        break;  // quiet
    }
    reachable_.clear();
    for (auto& [id, h] : hosts_) {
      if (!h.retired) reachable_.insert(id);
    }
  }

  void MembershipEvent() {
    PaxosNode* leader = nullptr;
    for (auto& [id, h] : hosts_) {
      if (h.node && h.node->LeaderReady() && (!leader || h.node->promised() > leader->promised())) {
        leader = h.node.get();
      }
    }
    if (!leader) return;
    const Membership& m = leader->membership();
    const bool grow = m.voters.size() + m.learners.size() < 5 &&
                      (m.voters.size() <= 3 || std::uniform_int_distribution<int>(0, 1)(rng_));
    if (grow) {
      ReplicaId id = next_id_;
      ProposeResult r = leader->ProposeAddMember(id);
      Trace("add member %lu via %lu: %s", Id(id), Id(leader->id()), StatusName(r.status));
      if (r.status != Status::kOk) return;
      ++next_id_;
      ++result_.stats.members_added;
      Host& h = hosts_[id];
      h.id = id;
      Start(h);
    } else if (m.voters.size() > 3 || !m.learners.empty()) {
      std::vector<ReplicaId> all = m.voters;
      all.insert(all.end(), m.learners.begin(), m.learners.end());
      ReplicaId victim = all[rng_() % all.size()];
      ProposeResult r = leader->ProposeRemoveMember(victim);
      Trace("remove member %lu via %lu: %s", Id(victim), Id(leader->id()), StatusName(r.status));
    }
  }

  // Voters of the membership committed at the highest commit index any live replica knows.
  std::vector<ReplicaId> CurrentVoters() {
    const PaxosNode* best = nullptr;
    for (auto& [id, h] : hosts_) {
      if (h.node && (!best || h.node->commit_index() > best->commit_index())) best = h.node.get();
    }
    if (best == nullptr) {
      std::vector<ReplicaId> v;
      for (auto& [id, h] : hosts_) {
        if (!h.retired) v.push_back(id);
      }
      return v;
    }
    return best->committed_membership().voters;
  }

  void RetireRemoved() {
    for (auto& [id, h] : hosts_) {
      if (!h.node) continue;
      const Membership m = h.node->committed_membership();
      for (ReplicaId r : m.removed) {
        Host& victim = hosts_[r];
        // An operator shuts a removed replica down some time after its removal is
        // committed; until then it keeps running and answering.
        if (!victim.retired && victim.retire_at < 0) {
          victim.retire_at = now_ + std::uniform_int_distribution<int64_t>(0, 3000)(rng_);
        }
      }
    }
    for (auto& [id, h] : hosts_) {
      if (h.retired || h.retire_at < 0 || now_ < h.retire_at) continue;
      Trace("retire %lu", Id(id));
      h.retired = true;
      h.node.reset();
      ++result_.stats.members_removed;
    }
  }

  // --- network -----------------------------------------------------------------------------

  void Send(Message m) {
    ++result_.stats.messages;
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < drop_) {
      ++result_.stats.dropped;
      return;
    }
    int copies = u(rng_) < dup_ ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      int64_t delay = std::uniform_int_distribution<int64_t>(1, max_delay_)(rng_);
      // In chaos, a few messages arrive very late: after elections and restarts.
      if (phase_ == Phase::kChaos && u(rng_) < 0.02) {
        delay = std::uniform_int_distribution<int64_t>(100, 1000)(rng_);
      }
      network_.push(Flight{now_ + delay, flight_seq_++, m});
    }
  }

  void Deliver() {
    while (!network_.empty() && network_.top().at <= now_) {
      Flight f = network_.top();
      network_.pop();
      auto it = hosts_.find(f.m.to);
      if (it == hosts_.end() || !it->second.node) continue;
      auto from = hosts_.find(f.m.from);
      if (from == hosts_.end() || from->second.group != it->second.group) continue;
      Status s = it->second.node->Step(f.m);
      if (s != Status::kOk) Fail("Step refused a message: %s", StatusName(s));
    }
  }

  // --- hosts -------------------------------------------------------------------------------

  void ProcessAll() {
    for (auto& [id, h] : hosts_) {
      for (int guard = 0; h.node && h.node->HasReady() && guard < 20; ++guard) Process(h);
      if (h.node) {
        Role role = h.node->role();
        if (role == Role::kLeader && h.last_role != Role::kLeader) {
          ++result_.stats.elections;
          Trace("%lu leads at ballot %lu.%lu", Id(id), Id(h.node->promised().round),
                Id(h.node->promised().replica));
        }
        h.last_role = role;
      }
    }
    RetireRemoved();
  }

  void Process(Host& h) {
    Ready rd = h.node->GetReady();
    CheckCommitted(h);
    if (!result_.ok) return;
    // A crash while handling this Ready: before persisting, or after persisting but before
    // sending. Either way the node's memory is gone.
    int crash_point = 0;
    if (phase_ == Phase::kChaos && std::uniform_int_distribution<int>(0, 999)(rng_) == 0) {
      crash_point = 1 + static_cast<int>(rng_() % 2);
    }
    if (crash_point == 1) {
      Crash(h);
      return;
    }
    if (rd.snapshot) {
      ++result_.stats.snapshots_installed;
      h.snapshot_meta = rd.snapshot->meta;
      h.snapshot_data = rd.snapshot->data;
      h.log.erase(h.log.begin(), h.log.upper_bound(rd.snapshot->meta.index));
      h.sm = KvState::Decode(rd.snapshot->data);
      h.sm.applied = rd.snapshot->meta.index;
      h.applied_ops.clear();
    }
    if (rd.hard_state) {
      Ballot keep = h.hard_state.promised;
      h.hard_state = *rd.hard_state;
      if (opts_.bug_forget_promise) h.hard_state.promised = keep;
    }
    for (const Entry& e : rd.entries) h.log[e.index] = e;
    if (crash_point == 2) {
      Crash(h);
      return;
    }
    for (Message& m : rd.messages) Send(std::move(m));
    for (const Entry& e : rd.committed_entries) Apply(h, e);
    for (const ReadState& rs : rd.read_states) ServeRead(h, rs);
    for (const SnapshotRequest& req : rd.snapshot_requests) {
      (void)h.node->SendSnapshot(req.to, h.sm.applied, h.sm.Encode());
    }
    h.node->Advance(rd);
    MaybeCompact(h);
  }

  void MaybeCompact(Host& h) {
    if (h.sm.applied < h.snapshot_meta.index + compact_every_) return;
    if (h.node->Compact(h.sm.applied) != Status::kOk) {
      Fail("Compact refused at %lu", Id(h.sm.applied));
      return;
    }
    h.snapshot_meta = h.node->snapshot_meta();
    h.snapshot_data = h.sm.Encode();
    h.log.erase(h.log.begin(), h.log.upper_bound(h.snapshot_meta.index));
  }

  // Agreement: whatever a replica believes committed must match what anyone else did.
  void CheckCommitted(Host& h) {
    const uint64_t commit = h.node->commit_index();
    max_commit_ = std::max(max_commit_, commit);
    for (uint64_t i = std::max(h.checked_commit, h.node->snapshot_index()) + 1; i <= commit; ++i) {
      const Entry* e = h.node->EntryAt(i);
      if (e == nullptr) {
        Fail("replica %lu committed %lu but does not hold it", Id(h.id), Id(i));
        return;
      }
      auto [it, inserted] = committed_.emplace(i, *e);
      if (!inserted && !it->second.SameValue(*e)) {
        Fail("agreement violated at index %lu: replica %lu has %s, before: %s", Id(i), Id(h.id),
             Describe(*e).c_str(), Describe(it->second).c_str());
        return;
      }
    }
    h.checked_commit = std::max(h.checked_commit, commit);
  }

  void Apply(Host& h, const Entry& e) {
    if (e.index != h.sm.applied + 1) {
      Fail("replica %lu applied %lu after %lu", Id(h.id), Id(e.index), Id(h.sm.applied));
      return;
    }
    h.sm.applied = e.index;
    auto committed = committed_.find(e.index);
    if (committed == committed_.end() || !committed->second.SameValue(e)) {
      Fail("replica %lu applied an unchecked or different entry at %lu", Id(h.id), Id(e.index));
      return;
    }
    if (e.type != EntryType::kNormal) return;
    const auto op = std::make_pair(e.client_id, e.client_seq);
    switch (h.sm.sessions.Check(e.client_id, e.client_seq)) {
      case SessionTable::Verdict::kApply: {
        size_t eq = e.payload.find('=');
        h.sm.kv[e.payload.substr(0, eq)] = e.payload.substr(eq + 1);
        h.sm.sessions.Record(e.client_id, e.client_seq, e.index, "OK");
        if (!h.applied_ops.emplace(op, e.index).second) {
          Fail("replica %lu applied client %lu seq %lu twice", Id(h.id), Id(op.first),
               Id(op.second));
          return;
        }
        auto [it, inserted] = effective_.emplace(op, e.index);
        if (!inserted && it->second != e.index) {
          Fail("client %lu seq %lu took effect at %lu on replica %lu but at %lu elsewhere",
               Id(op.first), Id(op.second), Id(e.index), Id(h.id), Id(it->second));
          return;
        }
        break;
      }
      case SessionTable::Verdict::kDuplicate:
        break;
      case SessionTable::Verdict::kStale:
      case SessionTable::Verdict::kExpired:
        return;
    }
    for (Client& c : clients_) {
      if (c.op == OpKind::kWrite && c.waiting && c.target == h.id && c.id == e.client_id &&
          c.seq == e.client_seq) {
        AckWrite(c);
      }
    }
  }

  void ServeRead(Host& h, const ReadState& rs) {
    if (rs.index > h.sm.applied) {
      Fail("read %s released at %lu before applying %lu", rs.context.c_str(), Id(h.sm.applied),
           Id(rs.index));
      return;
    }
    for (Client& c : clients_) {
      if (c.op == OpKind::kRead && c.waiting && c.target == h.id && c.read_ctx == rs.context) {
        AckRead(c, h);
      }
    }
  }

  // --- clients -----------------------------------------------------------------------------

  void RunClients() {
    const bool quiet = phase_ == Phase::kFinal && now_ >= opts_.duration_ms - opts_.final_ms / 2;
    for (Client& c : clients_) {
      if (c.op == OpKind::kNone) {
        if (quiet || now_ < c.next_action) continue;
        StartOp(c);
      } else if (!c.waiting || now_ >= c.deadline) {
        if (now_ >= c.next_action) Attempt(c, /*timed_out=*/c.waiting);
      }
    }
  }

  void StartOp(Client& c) {
    std::uniform_int_distribution<int> pct(0, 99);
    c.key = std::string(1, static_cast<char>('a' + rng_() % kKeys));
    c.invoked = now_;
    c.attempts = 0;
    if (pct(rng_) < 55) {
      c.op = OpKind::kWrite;
      ++c.seq;
      c.value = "c" + std::to_string(c.id) + "s" + std::to_string(c.seq);
      writes_.push_back(WriteRecord{c.id, c.seq, c.key, c.value, now_});
    } else {
      c.op = OpKind::kRead;
    }
    Attempt(c, false);
  }

  // One attempt at the client's current operation: at the leader it was told about, or after
  // a timeout (or every third attempt) at some other replica.
  void Attempt(Client& c, bool timed_out) {
    c.waiting = false;
    c.next_action = now_ + 5;
    if (reachable_.empty()) return;
    ReplicaId target = c.hint;
    if (timed_out || target == 0 || !reachable_.count(target) || (c.attempts % 3 == 2)) {
      std::vector<ReplicaId> choices;
      for (ReplicaId id : reachable_) {
        if (id != c.target || reachable_.size() == 1) choices.push_back(id);
      }
      target = choices[rng_() % choices.size()];
    }
    ++c.attempts;
    c.target = target;
    Host& h = hosts_[target];
    if (!h.node) {
      c.deadline = now_ + 50;
      c.waiting = true;
      return;
    }
    c.deadline = now_ + std::uniform_int_distribution<int64_t>(80, 300)(rng_);
    if (c.op == OpKind::kWrite) {
      ProposeResult r = h.node->Propose(c.key + "=" + c.value, c.id, c.seq);
      if (r.status == Status::kOk || r.status == Status::kForwarded) {
        c.waiting = true;
      } else {
        c.hint = r.leader;
      }
      return;
    }
    if (opts_.bug_local_reads) {
      c.target = target;
      c.waiting = true;
      AckRead(c, h);
      return;
    }
    c.read_ctx = "c" + std::to_string(c.id) + "a" + std::to_string(++read_attempts_);
    Status s = h.node->ReadIndex(c.read_ctx);
    if (s == Status::kOk || s == Status::kForwarded) {
      c.waiting = true;
    } else {
      c.hint = h.node->leader();
    }
  }

  void AckWrite(Client& c) {
    for (auto it = writes_.rbegin(); it != writes_.rend(); ++it) {
      if (it->client == c.id && it->seq == c.seq) {
        it->responded = now_;
        break;
      }
    }
    ++result_.stats.writes_acked;
    Fingerprint(c.id * 31 + c.seq);
    c.op = OpKind::kNone;
    c.waiting = false;
    c.hint = c.target;
    c.next_action = now_ + std::uniform_int_distribution<int64_t>(0, 20)(rng_);
  }

  void AckRead(Client& c, Host& h) {
    auto it = h.sm.kv.find(c.key);
    std::string value = it == h.sm.kv.end() ? "" : it->second;
    reads_.push_back(ReadRecord{c.key, value, c.invoked, now_});
    ++result_.stats.reads_acked;
    Fingerprint(std::hash<std::string>()(value) + static_cast<uint64_t>(now_));
    c.op = OpKind::kNone;
    c.waiting = false;
    c.hint = c.target;
    c.next_action = now_ + std::uniform_int_distribution<int64_t>(0, 20)(rng_);
  }

  // --- checks ------------------------------------------------------------------------------

  // Within kSettleMs of a majority being connected a leader must be elected and serving;
  // after that, writes must be acknowledged.
  void CheckStableProgress() {
    if (now_ - stable_start_ < kSettleMs + 300) return;  // truncated by the final phase
    if (result_.stats.writes_acked == writes_at_progress_mark_) {
      Fail("no progress during stable phase [%ld, %ld) with a connected majority",
           static_cast<long>(stable_start_ + kSettleMs), static_cast<long>(now_));
    }
  }

  void FinalChecks() {
    // Liveness: everything outstanding completed.
    for (const Client& c : clients_) {
      if (c.op != OpKind::kNone) {
        Fail("client %lu still waiting at the end (op started at %ld)", Id(c.id),
             static_cast<long>(c.invoked));
        return;
      }
    }
    // Convergence and durability, over the members of the final committed membership (a
    // host whose addition was never chosen is not one).
    const PaxosNode* best = nullptr;
    for (auto& [id, h] : hosts_) {
      if (h.node && (!best || h.node->commit_index() > best->commit_index())) best = h.node.get();
    }
    if (best == nullptr) {
      Fail("no replica is up at the end");
      return;
    }
    const Membership members = best->committed_membership();
    const Host* ref = nullptr;
    for (auto& [id, h] : hosts_) {
      if (!members.IsMember(id)) continue;
      if (h.retired || !h.node) {
        Fail("member %lu is down at the end", Id(id));
        return;
      }
      if (h.node->commit_index() < max_commit_) {
        Fail("member %lu ends at commit %lu below the highest ever committed %lu", Id(id),
             Id(h.node->commit_index()), Id(max_commit_));
        return;
      }
      if (h.sm.applied != h.node->commit_index()) {
        Fail("member %lu applied %lu of %lu", Id(id), Id(h.sm.applied), Id(h.node->commit_index()));
        return;
      }
      if (ref == nullptr) {
        ref = &h;
      } else if (h.sm.applied != ref->sm.applied || h.sm.Encode() != ref->sm.Encode()) {
        Fail("members %lu and %lu end with different state", Id(ref->id), Id(id));
        return;
      }
    }
    // Exactly once: each acknowledged write took effect.
    for (const WriteRecord& w : writes_) {
      if (w.responded != std::numeric_limits<int64_t>::max() &&
          !effective_.count({w.client, w.seq})) {
        Fail("acknowledged write client %lu seq %lu never took effect", Id(w.client), Id(w.seq));
        return;
      }
    }
    CheckLinearizable();
  }

  // Per key, writes are ordered by the log index where they took effect; a read returning the
  // value of write k must be placed between write k and write k+1. This history is
  // linearizable iff (1) that write order respects real time, (2) no write at or before k was
  // invoked after the read returned, (3) no write after k returned before the read was
  // invoked, and (4) a read that returned before another was invoked saw no later write.
  void CheckLinearizable() {
    std::map<std::string, uint64_t> value_pos;  // value -> position in its key's order
    std::map<std::string, std::vector<const WriteRecord*>> order;
    {
      std::map<std::string, std::vector<std::pair<uint64_t, const WriteRecord*>>> by_key;
      for (const WriteRecord& w : writes_) {
        auto it = effective_.find({w.client, w.seq});
        if (it != effective_.end()) by_key[w.key].push_back({it->second, &w});
      }
      for (auto& [key, v] : by_key) {
        std::sort(v.begin(), v.end());
        for (size_t i = 0; i < v.size(); ++i) {
          order[key].push_back(v[i].second);
          value_pos[v[i].second->value] = i + 1;
        }
      }
    }
    for (auto& [key, ws] : order) {
      int64_t max_inv = std::numeric_limits<int64_t>::min();
      for (const WriteRecord* w : ws) {
        if (w->responded < max_inv) {
          Fail("writes on %s applied in an order that contradicts real time", key.c_str());
          return;
        }
        max_inv = std::max(max_inv, w->invoked);
      }
    }
    std::map<std::string, std::vector<std::pair<const ReadRecord*, uint64_t>>> reads_by_key;
    for (const ReadRecord& r : reads_) {
      uint64_t pos = 0;
      if (!r.value.empty()) {
        auto it = value_pos.find(r.value);
        if (it == value_pos.end()) {
          Fail("read of %s returned %s, which never took effect", r.key.c_str(), r.value.c_str());
          return;
        }
        pos = it->second;
      }
      reads_by_key[r.key].push_back({&r, pos});
    }
    for (auto& [key, rs] : reads_by_key) {
      const std::vector<const WriteRecord*>& ws = order[key];
      std::vector<int64_t> prefix_max_inv(ws.size() + 1, std::numeric_limits<int64_t>::min());
      std::vector<int64_t> suffix_min_resp(ws.size() + 2, std::numeric_limits<int64_t>::max());
      for (size_t i = 1; i <= ws.size(); ++i) {
        prefix_max_inv[i] = std::max(prefix_max_inv[i - 1], ws[i - 1]->invoked);
      }
      for (size_t i = ws.size(); i >= 1; --i) {
        suffix_min_resp[i] = std::min(suffix_min_resp[i + 1], ws[i - 1]->responded);
      }
      for (const auto& [r, pos] : rs) {
        if (prefix_max_inv[pos] > r->responded) {
          Fail("read of %s returned a value from a write invoked after the read returned",
               key.c_str());
          return;
        }
        if (suffix_min_resp[pos + 1] < r->invoked) {
          Fail("stale read of %s at %ld: returned %s though a later write had completed",
               key.c_str(), static_cast<long>(r->invoked), r->value.c_str());
          return;
        }
      }
      // (4): sweep reads by invocation; every read that responded earlier saw at most pos.
      std::vector<std::pair<const ReadRecord*, uint64_t>> by_resp = rs;
      std::sort(by_resp.begin(), by_resp.end(), [](const auto& a, const auto& b) {
        return a.first->responded < b.first->responded;
      });
      std::vector<std::pair<const ReadRecord*, uint64_t>> by_inv = rs;
      std::sort(by_inv.begin(), by_inv.end(),
                [](const auto& a, const auto& b) { return a.first->invoked < b.first->invoked; });
      size_t j = 0;
      uint64_t max_seen = 0;
      for (const auto& [r, pos] : by_inv) {
        while (j < by_resp.size() && by_resp[j].first->responded < r->invoked) {
          max_seen = std::max(max_seen, by_resp[j].second);
          ++j;
        }
        if (pos < max_seen) {
          Fail("read of %s at %ld went back in time", key.c_str(), static_cast<long>(r->invoked));
          return;
        }
      }
    }
  }

  // --- utilities ---------------------------------------------------------------------------

  static unsigned long Id(uint64_t v) { return static_cast<unsigned long>(v); }

  static std::string Describe(const Entry& e) {
    std::ostringstream os;
    os << "{type " << static_cast<int>(e.type) << " client " << e.client_id << " seq "
       << e.client_seq << " '" << e.payload.substr(0, 32) << "' ballot " << e.ballot.round << "."
       << e.ballot.replica << "}";
    return os.str();
  }

  void Fingerprint(uint64_t v) { result_.fingerprint = result_.fingerprint * 1099511628211ULL ^ v; }

  template <typename... Args>
  void Trace(const char* fmt, Args... args) {
    if (!opts_.trace) return;
    std::fprintf(stderr, "[%6ld] ", static_cast<long>(now_));
    std::fprintf(stderr, fmt, args...);
    std::fprintf(stderr, "\n");
  }

  template <typename... Args>
  void Fail(const char* fmt, Args... args) {
    if (!result_.ok) return;
    char buf[512];
    std::snprintf(buf, sizeof(buf), fmt, args...);
    result_.ok = false;
    result_.failure = "t=" + std::to_string(now_) + "ms: " + buf;
    Trace("FAILURE: %s", buf);
    if (opts_.trace) DumpState();
  }

  void DumpState() {
    for (auto& [id, h] : hosts_) {
      if (!h.node) {
        Trace("  %lu: down%s", Id(id), h.retired ? " (retired)" : "");
        continue;
      }
      const PaxosNode& n = *h.node;
      Trace(
          "  %lu: %s leader=%lu promised=%lu.%lu commit=%lu applied=%lu last=%lu snap=%lu "
          "group=%d voters=%zu learners=%zu",
          Id(id), RoleName(n.role()), Id(n.leader()), Id(n.promised().round),
          Id(n.promised().replica), Id(n.commit_index()), Id(h.sm.applied), Id(n.last_index()),
          Id(n.snapshot_index()), h.group, n.membership().voters.size(),
          n.membership().learners.size());
      if (n.role() == Role::kLeader) {
        for (auto& [peer, p] : hosts_) {
          std::optional<uint64_t> match = n.MatchIndex(peer);
          if (match) Trace("     match[%lu]=%lu", Id(peer), Id(*match));
        }
      }
    }
  }

  SimOptions opts_;
  std::mt19937_64 rng_;
  SimResult result_;
  int64_t now_ = 0;
  Phase phase_ = Phase::kStable;
  int64_t next_fault_ = 0;
  int64_t stable_start_ = 0;
  uint64_t writes_at_progress_mark_ = std::numeric_limits<uint64_t>::max();
  double drop_ = 0;
  double dup_ = 0;
  int max_delay_ = 3;
  bool forward_ = false;
  bool lease_ = false;
  bool check_quorum_ = true;
  size_t max_inflight_ = 8;
  size_t max_entries_ = 8;
  uint64_t compact_every_ = 50;
  ReplicaId next_id_ = 1;
  std::map<ReplicaId, Host> hosts_;
  std::set<ReplicaId> reachable_;
  std::priority_queue<Flight, std::vector<Flight>, std::greater<Flight>> network_;
  uint64_t flight_seq_ = 0;
  std::vector<Client> clients_;
  uint64_t read_attempts_ = 0;
  std::vector<WriteRecord> writes_;
  std::vector<ReadRecord> reads_;
  std::map<uint64_t, Entry> committed_;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> effective_;
  uint64_t max_commit_ = 0;
};

}  // namespace keel::replication::sim
