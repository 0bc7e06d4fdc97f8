// Test support for replica groups of real stores in one process: LocalNetwork (an
// in-process Transport that round-trips every message through the wire codec and hands
// snapshot chunks to the addressed host), Replica (one replica's data store, log store, host
// and committer) and GroupHostTest (a fixture starting replicas 1, 2 and 3 as one group).
// Used by group_host_test.cc and snapshot_test.cc. Not thread-safe beyond what LocalNetwork
// guards; one test at a time.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
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
#include "replication/host/snapshot.h"
#include "tests/datatypes/replay.h"

namespace keel::replication {

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
  // Snapshot chunks, from the sender the chunk names.
  keel::Result<std::string> Call(ReplicaId to, std::string body,
                                 std::chrono::milliseconds) override {
    ChunkHeader h;
    std::string_view records;
    if (!DecodeChunk(body, &h, &records)) return std::string("ERR malformed");
    std::lock_guard<std::mutex> l(mu_);
    auto it = hosts_.find(to);
    if (it == hosts_.end()) return keel::Status(keel::Code::kInvalidArgument, "unreachable");
    return it->second->OnSnapshotChunk(h.leader, body);
  }

 private:
  std::mutex mu_;
  std::map<ReplicaId, GroupHost*> hosts_;
};

// A single thread running posted work in time order: a host loop's executor in tests, as
// the cluster bus is in the server.
class ThreadExecutor final : public Executor {
 public:
  ThreadExecutor() : thread_([this] { Loop(); }) {}
  ~ThreadExecutor() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Post(std::function<void()> fn) override { PostAfter(std::chrono::milliseconds(0), fn); }
  void PostAfter(std::chrono::milliseconds delay, std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      work_.emplace(std::chrono::steady_clock::now() + delay, std::move(fn));
    }
    cv_.notify_all();
  }
  bool InThread() const override { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (!stopping_) {
      if (work_.empty()) {
        cv_.wait(l);
        continue;
      }
      auto due = work_.begin()->first;
      if (std::chrono::steady_clock::now() < due) {
        cv_.wait_until(l, due);
        continue;
      }
      auto fn = std::move(work_.begin()->second);
      work_.erase(work_.begin());
      l.unlock();
      fn();
      l.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> work_;
  std::thread thread_;  // last: starts once the rest is built
};

// One replica: its data store, its log store, its host and committer.
struct Replica {
  ReplicaId id;
  keel::test::TempDir data_dir, log_dir, snapshot_dir;
  uint64_t compact_bytes = 0;  // GroupHostOptions::compact_bytes (0 = never compact)
  uint64_t compact_keep_entries = 10000;
  bool on_executor = false;  // run the host loop on an executor rather than its own thread
  std::unique_ptr<ThreadExecutor> executor;
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
    o.snapshot_dir = snapshot_dir.path();
    o.compact_bytes = compact_bytes;
    o.compact_keep_entries = compact_keep_entries;
    if (on_executor) {
      if (!executor) executor = std::make_unique<ThreadExecutor>();
      o.executor = executor.get();
    }
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
      Configure(*replicas_[id]);
    }
    for (auto& [id, r] : replicas_) r->Start(&net_, {1, 2, 3});
  }
  // Adjusts a replica's options before it starts.
  virtual void Configure(Replica&) {}
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

}  // namespace keel::replication
