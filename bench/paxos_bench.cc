// Throughput of the Paxos core alone: entries committed per second by a simulated
// 3-replica group whose "network" delivers every message at once, in order, and whose
// "disk" keeps nothing (each host only counts). This measures the state machines and the
// Ready/Advance cycle, not I/O.
//
//   BM_Commit/<entries per cycle>/<max entries per Accept>
//
// Each benchmark iteration proposes `entries per cycle` entries on the leader, then runs
// Ready cycles and delivers messages until all of them are committed on the leader.
//   <1>/<*>      no batching: one entry per round trip
//   <N>/<1>      pipelining only: N entries in flight, one per Accept message
//   <N>/<256>    batching: N entries per round trip, packed into one Accept per follower
// items_per_second is committed entries per second.
//
//   cmake --build <build> --target keel_paxos_bench && <build>/bench/keel_paxos_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "replication/paxos.h"

namespace keel::replication {
namespace {

class Group {
 public:
  Group(size_t max_entries_per_message, size_t max_inflight) {
    const std::vector<ReplicaId> ids = {1, 2, 3};
    for (ReplicaId id : ids) {
      Config c;
      c.id = id;
      c.random_seed = id;
      c.check_quorum = false;  // lets the benchmark elect replica 1 at once
      c.max_entries_per_message = max_entries_per_message;
      c.max_inflight_messages = max_inflight;
      if (PaxosNode::Create(c, Bootstrap(ids), &nodes_[id]) != Status::kOk) std::abort();
    }
    nodes_[1]->Campaign();
    Pump();
    if (!nodes_[1]->LeaderReady()) std::abort();
  }

  PaxosNode& leader() { return *nodes_[1]; }

  // Runs Ready cycles and delivers messages until nothing is left to do.
  void Pump() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (auto& [id, node] : nodes_) {
        while (node->HasReady()) {
          busy = true;
          Ready rd = node->GetReady();
          for (Message& m : rd.messages) queue_.push_back(std::move(m));
          if (!rd.committed_entries.empty()) {
            applied_[id] = rd.committed_entries.back().index;
          }
          node->Advance(rd);
          // Keep memory bounded the way a host would: compact well behind applied.
          if (applied_[id] > node->snapshot_index() + 8192) {
            (void)node->Compact(applied_[id] - 4096);
          }
        }
      }
      while (!queue_.empty()) {
        busy = true;
        Message m = std::move(queue_.front());
        queue_.pop_front();
        (void)nodes_[m.to]->Step(m);
      }
    }
  }

 private:
  std::map<ReplicaId, std::unique_ptr<PaxosNode>> nodes_;
  std::map<ReplicaId, uint64_t> applied_;
  std::deque<Message> queue_;
};

void BM_Commit(benchmark::State& state) {
  const int64_t per_cycle = state.range(0);
  const size_t per_message = static_cast<size_t>(state.range(1));
  Group g(per_message, /*max_inflight=*/1024);
  const std::string payload(128, 'x');  // a small RocksDB WriteBatch
  int64_t committed = 0;
  for (auto _ : state) {
    uint64_t target = 0;
    for (int64_t i = 0; i < per_cycle; ++i) target = g.leader().Propose(payload).index;
    g.Pump();
    if (g.leader().commit_index() < target) state.SkipWithError("not committed");
    committed += per_cycle;
  }
  state.SetItemsProcessed(committed);
  state.counters["entries_per_cycle"] = static_cast<double>(per_cycle);
}

BENCHMARK(BM_Commit)
    ->ArgNames({"per_cycle", "per_msg"})
    ->Args({1, 256})
    ->Args({64, 1})
    ->Args({256, 1})
    ->Args({16, 256})
    ->Args({64, 256})
    ->Args({256, 256})
    ->Args({1024, 256});

}  // namespace
}  // namespace keel::replication

BENCHMARK_MAIN();
