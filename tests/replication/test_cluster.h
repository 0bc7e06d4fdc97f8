// TestCluster: a small, fully controlled host for unit tests of PaxosNode.
//
// Each replica gets durable storage (hard state, log, snapshot) and a trivial state machine
// (the list of applied normal payloads). Messages go into one FIFO queue; tests deliver them
// explicitly, optionally cutting links, and can crash (drop everything volatile) and restart
// replicas. Single-threaded; owned by one test.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "replication/paxos.h"

namespace keel::replication::testing {

class TestCluster {
 public:
  struct Replica {
    std::unique_ptr<PaxosNode> node;
    Config config;
    // Durable.
    HardState hard_state;
    SnapshotMeta snapshot_meta;
    std::vector<std::string> snapshot_state;
    std::map<uint64_t, Entry> log;
    // State machine (rebuilt from snapshot + log on restart).
    std::vector<std::string> state;
    uint64_t applied = 0;
    std::vector<ReadState> reads;  // served reads, in order
    std::vector<SoftState> soft_states;
  };

  // Creates `voters` founding replicas 1..voters with config `base` (id and seed replaced).
  explicit TestCluster(int voters, Config base = Config()) : base_(base) {
    std::vector<ReplicaId> ids;
    for (int i = 1; i <= voters; ++i) ids.push_back(static_cast<ReplicaId>(i));
    for (ReplicaId id : ids) {
      Replica& r = replicas_[id];
      PersistentState ps = Bootstrap(ids);
      r.hard_state = ps.hard_state;
      for (const Entry& e : ps.entries) r.log[e.index] = e;
      Start(id);
    }
  }

  // Adds a brand-new, empty replica (not yet a member) that can receive messages.
  void AddEmptyReplica(ReplicaId id) {
    replicas_[id];
    Start(id);
  }

  PaxosNode& node(ReplicaId id) { return *replicas_.at(id).node; }
  Replica& replica(ReplicaId id) { return replicas_.at(id); }
  bool up(ReplicaId id) const { return replicas_.at(id).node != nullptr; }
  std::vector<ReplicaId> ids() const {
    std::vector<ReplicaId> out;
    for (const auto& [id, r] : replicas_) out.push_back(id);
    return out;
  }

  // Link control: a cut link drops messages in both directions.
  void Isolate(ReplicaId id) {
    for (const auto& [other, r] : replicas_) {
      if (other != id) Cut(id, other);
    }
  }
  void Cut(ReplicaId a, ReplicaId b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void HealAll() { cut_.clear(); }
  // A filter that may drop a message; return false to drop.
  void SetFilter(std::function<bool(const Message&)> f) { filter_ = std::move(f); }

  // Processes every pending Ready of every live replica.
  void ProcessAll() {
    for (auto& [id, r] : replicas_) Process(id);
  }

  // Delivers queued messages (and the messages they cause) until the network is quiet.
  void Stabilize(int max_rounds = 1000) {
    ProcessAll();
    for (int i = 0; i < max_rounds && !queue_.empty(); ++i) {
      std::deque<Message> batch;
      batch.swap(queue_);
      for (Message& m : batch) DeliverOne(m);
      ProcessAll();
    }
  }

  // Delivers only the messages currently queued (one hop), then processes Ready.
  void DeliverOnce() {
    std::deque<Message> batch;
    batch.swap(queue_);
    for (Message& m : batch) DeliverOne(m);
    ProcessAll();
  }

  void DropQueued() { queue_.clear(); }
  const std::deque<Message>& queued() const { return queue_; }

  void Tick(ReplicaId id, int n = 1) {
    for (int i = 0; i < n; ++i) {
      if (up(id)) node(id).Tick();
      Process(id);
    }
  }
  // Ticks every live replica n times, stabilizing the network after each tick.
  void TickAll(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto& [id, r] : replicas_) {
        if (r.node) r.node->Tick();
      }
      Stabilize();
    }
  }

  // Makes `id` campaign and runs the network until quiet.
  void Elect(ReplicaId id) {
    node(id).Campaign();
    Stabilize();
  }

  ReplicaId Leader() const {
    ReplicaId leader = kNoReplica;
    for (const auto& [id, r] : replicas_) {
      if (r.node && r.node->role() == Role::kLeader) {
        EXPECT_EQ(leader, kNoReplica) << "two leaders in a stable cluster";
        leader = id;
      }
    }
    return leader;
  }

  // Loses everything not yet persisted.
  void Crash(ReplicaId id) {
    Replica& r = replicas_.at(id);
    r.node.reset();
    r.state.clear();
    r.applied = 0;
  }
  void Restart(ReplicaId id) { Start(id); }

  // Host-side compaction: snapshot the state machine at its applied index.
  void CompactAt(ReplicaId id) {
    Replica& r = replicas_.at(id);
    const uint64_t index = r.applied;
    ASSERT_EQ(r.node->Compact(index), Status::kOk);
    r.snapshot_meta = r.node->snapshot_meta();
    r.snapshot_state = r.state;
    r.log.erase(r.log.begin(), r.log.upper_bound(index));
  }

  uint64_t messages_sent() const { return messages_sent_; }
  // Count of messages of `type` delivered so far.
  uint64_t delivered(MessageType type) const {
    auto it = delivered_.find(type);
    return it == delivered_.end() ? 0 : it->second;
  }

 private:
  void Start(ReplicaId id) {
    Replica& r = replicas_.at(id);
    Config c = base_;
    c.id = id;
    c.random_seed = id * 7919;
    r.config = c;
    PersistentState ps;
    ps.hard_state = r.hard_state;
    ps.snapshot = r.snapshot_meta;
    for (const auto& [index, e] : r.log) {
      if (index > r.snapshot_meta.index) ps.entries.push_back(e);
    }
    r.state = r.snapshot_state;
    r.applied = r.snapshot_meta.index;
    ps.applied = r.applied;
    ASSERT_EQ(PaxosNode::Create(c, std::move(ps), &r.node), Status::kOk);
  }

  void DeliverOne(const Message& m) {
    if (cut_.count({m.from, m.to})) return;
    if (filter_ && !filter_(m)) return;
    auto it = replicas_.find(m.to);
    if (it == replicas_.end() || !it->second.node) return;
    ++delivered_[m.type];
    EXPECT_EQ(it->second.node->Step(m), Status::kOk);
  }

  void Process(ReplicaId id) {
    Replica& r = replicas_.at(id);
    for (int guard = 0; r.node && r.node->HasReady() && guard < 100; ++guard) {
      Ready rd = r.node->GetReady();
      if (rd.soft_state) r.soft_states.push_back(*rd.soft_state);
      if (rd.snapshot) {
        r.snapshot_meta = rd.snapshot->meta;
        r.snapshot_state.clear();
        std::string data = rd.snapshot->data;
        size_t pos = 0;
        while (pos < data.size()) {
          size_t nl = data.find('\n', pos);
          r.snapshot_state.push_back(data.substr(pos, nl - pos));
          pos = nl + 1;
        }
        r.state = r.snapshot_state;
        r.applied = rd.snapshot->meta.index;
        r.log.erase(r.log.begin(), r.log.upper_bound(rd.snapshot->meta.index));
      }
      if (rd.hard_state) r.hard_state = *rd.hard_state;
      for (const Entry& e : rd.entries) r.log[e.index] = e;
      for (Message& m : rd.messages) {
        ++messages_sent_;
        queue_.push_back(std::move(m));
      }
      for (const Entry& e : rd.committed_entries) {
        EXPECT_EQ(e.index, r.applied + 1);
        r.applied = e.index;
        if (e.type == EntryType::kNormal) r.state.push_back(e.payload);
      }
      for (const ReadState& rs : rd.read_states) {
        EXPECT_GE(r.applied, rs.index);
        r.reads.push_back(rs);
      }
      for (const SnapshotRequest& req : rd.snapshot_requests) {
        std::string data;
        for (const std::string& s : r.state) data += s + "\n";
        EXPECT_EQ(r.node->SendSnapshot(req.to, r.applied, data), Status::kOk);
      }
      r.node->Advance(rd);
    }
  }

  Config base_;
  std::map<ReplicaId, Replica> replicas_;
  std::deque<Message> queue_;
  std::set<std::pair<ReplicaId, ReplicaId>> cut_;
  std::function<bool(const Message&)> filter_;
  uint64_t messages_sent_ = 0;
  std::map<MessageType, uint64_t> delivered_;
};

}  // namespace keel::replication::testing
