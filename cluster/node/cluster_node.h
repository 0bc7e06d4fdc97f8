// ClusterNode: what makes a keel-server started with `cluster-enabled yes` a member of a
// replica group: its identity, its group's Paxos host (replication/host/group_host.h), the
// cluster bus (replication/host/tcp_transport.h), and the group's topology (which node is
// where, who leads), from which the server answers CLUSTER, ROLE and INFO and decides MOVED.
//
// Identity and membership (persisted in the node's LogStore under <dir>/paxos, as named
// records): "id" the node id (40 hex characters, random at first start, never reused),
// "group" the group it belongs to (decimal). The replica id in the Paxos group is the node
// id's first 15 hex digits. A node started with an empty directory founds a group of one,
// owning all 16384 slots, and leads it at once.
//
// Topology is replicated state: the leader writes one record per member into the data store
// through the log (default column family, key "cluster\0node" + u64 replica big-endian,
// value "<node id> <ip> <port> <bus port>"), so every node knows every member's address
// from what it applied. A maintenance thread (every 50 ms) refreshes the topology cache and
// the bus's peer addresses from those records, gives expiry decisions to the leader only,
// and has the leader write its own record when it is missing or stale.
//
// Joining (CLUSTER MEET ip port, sent to the leader): the leader asks the node at ip's bus
// port over a Request frame; that node accepts only if it is alone in its group and holds
// no keys (nothing is merged or lost), leaves its group, and waits as an empty replica of
// the leader's group. The leader then writes its record and adds it as a learner; the core
// promotes it to voter once it has caught up (from the log, or from a snapshot if the log
// was compacted: chunks arrive as Request frames and go to GroupHost::OnSnapshotChunk;
// they are staged under dir/paxos-snapshots).
//
// Thread-safety: every public method is thread-safe. Owned by the Server; Stop() before the
// Storage closes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datatypes/status.h"
#include "replication/host/group_host.h"
#include "replication/host/log_store.h"
#include "replication/host/tcp_transport.h"

namespace keel {
class Storage;
}

namespace keel::cluster {

using replication::GroupId;
using replication::ReplicaId;

struct ClusterNodeOptions {
  std::string dir;                 // the data directory; the Paxos log lives in dir/paxos
  std::string ip = "127.0.0.1";    // the address announced to clients and peers
  std::string bind = "127.0.0.1";  // where the bus listens
  uint16_t port = 6379;            // the client port
  uint16_t bus_port = 0;           // 0: port + 10000
  uint32_t node_timeout_ms = 300;  // election timeout (a tick is a tenth of it)
  // How the Paxos log reaches the disk, after appendfsync: always = every Ready cycle's
  // write is fsynced before anything it promises is sent; everysec = written to the OS each
  // cycle (an acknowledged write survives kill -9 of any number of nodes) and fsynced once a
  // second by the maintenance thread; no = left to the OS.
  bool sync = true;
  bool sync_every_second = false;
  uint64_t compact_bytes = 64u << 20;  // GroupHostOptions::compact_bytes
  // GroupHostOptions::on_progress (WAIT).
  std::function<void()> on_progress;
  // A PUBLISH from another node of the group (on the bus thread).
  replication::TcpTransport::PublishHandler on_publish;
};

struct NodeInfo {
  ReplicaId replica = 0;
  std::string node_id;
  std::string ip;
  uint16_t port = 0;
  uint16_t bus_port = 0;
  bool voter = false;
  bool leader = false;
  bool myself = false;
  uint64_t match = 0;  // known on the leader only
};

class ClusterNode {
 public:
  static Result<std::unique_ptr<ClusterNode>> Start(ClusterNodeOptions options, Storage* storage);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;
  void Stop();

  const std::string& node_id() const { return node_id_; }
  ReplicaId replica() const { return replica_; }
  GroupId group() const { return group_.load(); }
  uint16_t bus_port() const;
  replication::GroupHost::State state() const;
  // Whether this node leads and may evaluate commands.
  bool serving() const {
    auto* host = host_.load();
    return host != nullptr && host->serving();
  }
  // The current host's counters (keel_paxos_* metrics).
  // CONFIG SET appendfsync: how the Paxos log reaches the disk from now on (see
  // ClusterNodeOptions::sync).
  void SetLogSync(bool every_cycle, bool every_second);
  const replication::GroupHost::Counters& counters() const { return host_.load()->counters(); }
  // A linearizable read barrier on the leader (GroupHost::ReadIndex).
  void ReadIndex(std::function<void(Status)> done) { host_.load()->ReadIndex(std::move(done)); }
  // The leader as far as this node knows (nullopt: none known, or its address unknown).
  std::optional<NodeInfo> Leader() const;
  // Every member, the leader first, then by replica id.
  std::vector<NodeInfo> Nodes() const;

  // PUBLISH reaches subscribers on every node: sends to the other members (messages from
  // them go to ClusterNodeOptions::on_publish).
  void PublishToPeers(std::string_view channel, std::string_view message) {
    bus_->Broadcast(channel, message);
  }

  // CLUSTER MEET, on the leader; waits (bounded, a few seconds) for the other node's answer
  // and for the membership change to be proposed.
  Status Meet(const std::string& ip, uint16_t port, uint16_t bus_port);
  // The same on the node's worker thread, so that no io thread waits; `done` runs there
  // (or at Stop, with an error, if it never ran).
  void MeetAsync(const std::string& ip, uint16_t port, uint16_t bus_port,
                 std::function<void(Status)> done);
  // CLUSTER FORGET, on the leader: removes the member (a voter is demoted by the removal).
  Status Forget(const std::string& node_id);
  // CLUSTER FAILOVER, on a follower: campaigns to take over leadership.
  Status Failover();

 private:
  ClusterNode(ClusterNodeOptions options, Storage* storage);
  Status Open();
  replication::GroupHostOptions HostOptions(bool bootstrap) const;
  Status StartHost(bool bootstrap);
  void Maintain();
  void Work();
  void Refresh();
  std::string OnRequest(const replication::TcpTransport::Hello& from, std::string_view body);
  std::string RecordValue() const;
  Status WriteRecord(ReplicaId replica, const std::string& value);
  // Runs `fn` on the host thread and waits for its result (bounded).
  Result<replication::ProposeResult> OnHost(
      std::function<replication::ProposeResult(replication::PaxosNode&)> fn);

  ClusterNodeOptions options_;
  Storage* storage_;
  std::string node_id_;
  ReplicaId replica_ = 0;
  std::atomic<GroupId> group_{0};
  std::atomic<bool> sync_every_cycle_{true};
  std::atomic<bool> sync_every_second_{false};
  std::unique_ptr<replication::LogStore> log_;
  std::unique_ptr<replication::TcpTransport> bus_;
  // The group's host. Joining another group starts a new host; the old one is stopped and
  // kept until the node stops, so a pointer read from host_ stays valid.
  std::atomic<replication::GroupHost*> host_{nullptr};
  std::vector<std::unique_ptr<replication::GroupHost>> hosts_;  // guarded by host_mu_
  std::mutex host_mu_;
  // The storage's committer: proposes through whichever host is current.
  class Committer final : public keel::Committer {
   public:
    explicit Committer(ClusterNode* node) : node_(node) {}
    void Submit(Mutation mutation, Done done) override {
      node_->host_.load()->Propose(std::move(mutation), std::move(done));
    }
    uint64_t Epoch() const override { return node_->host_.load()->epoch(); }

   private:
    ClusterNode* node_;
  };
  Committer committer_{this};

  mutable std::mutex topo_mu_;
  std::vector<NodeInfo> records_;  // from the applied node records

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread maintainer_;
  // MeetAsync's worker: one thread, started on first use, joined by Stop.
  std::thread worker_;
  struct MeetTask {
    std::string ip;
    uint16_t port = 0, bus_port = 0;
    std::function<void(Status)> done;
  };
  std::deque<MeetTask> work_;  // under stop_mu_
};

}  // namespace keel::cluster
