// Replica groups of real stores in one process: three GroupHosts over an in-process network
// (every message goes through the wire codec), each applying the chosen log to its own
// RocksDB store. A write acknowledged by the leader's committer is on every replica; a
// follower refuses writes as not the leader; stopping the leader loses no acknowledged
// write; a replica restarted from its directories catches up.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "datatypes/storage.h"
#include "replication/codec.h"
#include "replication/host/group_host.h"
#include "replication/host/log_store.h"
#include "tests/datatypes/replay.h"

namespace keel::replication {
namespace {

using namespace std::chrono_literals;

// Delivers every message to the addressed host after a round trip through the codec;
// messages to a detached replica are lost.
class LocalNetwork final : public Transport {
 public:
  void Attach(ReplicaId id, GroupHost* host) {
    std::lock_guard<std::mutex> l(mu_);
    hosts_[id] = host;
  }
  void Detach(ReplicaId id) {
    std::lock_guard<std::mutex> l(mu_);
    hosts_.erase(id);
  }
  void Send(GroupId, const Message& m) override {
    Message decoded;
    ASSERT_EQ(DecodeMessage(EncodeMessage(m), &decoded), Status::kOk);
    std::lock_guard<std::mutex> l(mu_);
    auto it = hosts_.find(m.to);
    if (it != hosts_.end()) it->second->Deliver(std::move(decoded));
  }

 private:
  std::mutex mu_;
  std::map<ReplicaId, GroupHost*> hosts_;
};

// One replica: its data store, its log store, its host and committer.
struct Replica {
  ReplicaId id;
  keel::test::TempDir data_dir, log_dir;
  std::shared_ptr<std::atomic<uint64_t>> clock =
      std::make_shared<std::atomic<uint64_t>>(1'700'000'000'000);
  std::unique_ptr<Storage> storage;
  std::unique_ptr<LogStore> log;
  std::unique_ptr<GroupHost> host;
  std::unique_ptr<PaxosCommitter> committer;

  void Start(LocalNetwork* net, std::vector<ReplicaId> voters) {
    storage = keel::test::OpenStore(data_dir.path(), clock, /*decide_expiry=*/false);
    ASSERT_NE(storage, nullptr);
    ASSERT_EQ(LogStore::Open(log_dir.path(), &log), Status::kOk);
    GroupHostOptions o;
    o.paxos.id = id;
    o.paxos.election_ticks = 10;
    o.paxos.random_seed = id * 7919;
    o.tick_ms = 10;
    o.sync = false;
    o.bootstrap = std::move(voters);
    host = std::make_unique<GroupHost>(o, storage.get(), log.get(), net);
    committer = std::make_unique<PaxosCommitter>(host.get());
    storage->set_committer(committer.get());
    net->Attach(id, host.get());
    keel::Status st = host->Start();
    ASSERT_TRUE(st.ok()) << st.detail();
  }
  void Stop(LocalNetwork* net) {
    net->Detach(id);
    if (host) host->Stop();
    if (storage) storage->set_committer(nullptr);
    host.reset();
    committer.reset();
    log.reset();
    storage.reset();
  }
  bool Serving() const {
    auto s = host->state();
    return s.role == Role::kLeader && s.leader_ready && s.applied >= s.commit;
  }
};

class GroupHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (ReplicaId id : {1, 2, 3}) {
      replicas_[id] = std::make_unique<Replica>();
      replicas_[id]->id = id;
    }
    for (auto& [id, r] : replicas_) r->Start(&net_, {1, 2, 3});
  }
  void TearDown() override {
    for (auto& [id, r] : replicas_) r->Stop(&net_);
  }

  // The serving leader among the running replicas (waits up to 10 s).
  Replica* Leader() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& [id, r] : replicas_) {
        if (r->host && r->Serving()) return r.get();
      }
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no leader";
    return nullptr;
  }

  static bool WaitFor(const std::function<bool()>& predicate) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return predicate();
  }

  // Every running replica applied at least `index` (waits up to 10 s).
  bool AllApplied(uint64_t index) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (auto& [id, r] : replicas_) {
        if (r->host && r->host->state().applied < index) all = false;
      }
      if (all) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  static keel::Status Set(Replica* r, const std::string& key, const std::string& value) {
    Txn txn(r->storage.get(), 0);
    KeyRecord rec;
    keel::Status st = txn.Load(key, &rec);
    if (!st.ok()) return st;
    Metadata meta;
    txn.Store(key, &rec, meta, value);
    return txn.Commit();
  }
  static std::string Get(Replica* r, const std::string& key) {
    KeyRecord rec;
    if (!r->storage->ReadKey(0, key, &rec).ok() || !rec.exists) return "(nil)";
    return std::string(rec.body());
  }

  LocalNetwork net_;
  std::map<ReplicaId, std::unique_ptr<Replica>> replicas_;
};

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

}  // namespace
}  // namespace keel::replication
