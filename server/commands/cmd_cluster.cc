// CLUSTER, READONLY, READWRITE, ROLE and WAIT: what Redis Cluster clients ask a node about its
// replica group (cluster/node/cluster_node.h). Keel's group owns all 16384 slots: CLUSTER
// SLOTS and SHARDS show one shard whose primary is the group's leader and whose replicas are
// the followers.
#include <algorithm>
#include <string>

#include "cluster/slot.h"
#include "datatypes/encoding.h"
#include "datatypes/storage.h"
#include "server/blocking.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/net/client.h"
#include "server/net/connection.h"
#include "server/server.h"

namespace keel::server {
namespace {

using keel::cluster::ClusterNode;
using keel::cluster::NodeInfo;

constexpr char kDisabled[] = "ERR This instance has cluster support disabled";

ClusterNode* Node(CommandContext& c) {
  ClusterNode* n = c.server.cluster();
  if (n == nullptr) c.ErrorText(kDisabled);
  return n;
}

std::string Addr(const NodeInfo& n) { return n.ip + ":" + std::to_string(n.port); }

void ClusterMyId(CommandContext& c) {
  if (auto* n = Node(c)) c.reply.Bulk(n->node_id());
}

void ClusterInfo(CommandContext& c) {
  auto* n = Node(c);
  if (n == nullptr) return;
  auto s = n->state();
  auto nodes = n->Nodes();
  bool ok = s.leader != 0;
  std::string o;
  auto line = [&](std::string_view k, const std::string& v) {
    o.append(k).append(":").append(v).append("\r\n");
  };
  line("cluster_state", ok ? "ok" : "fail");
  line("cluster_slots_assigned", "16384");
  line("cluster_slots_ok", ok ? "16384" : "0");
  line("cluster_slots_pfail", "0");
  line("cluster_slots_fail", ok ? "0" : "16384");
  line("cluster_known_nodes", std::to_string(nodes.size()));
  line("cluster_size", "1");
  line("cluster_current_epoch", std::to_string(s.ballot.round));
  line("cluster_my_epoch", std::to_string(s.ballot.round));
  line("cluster_stats_messages_sent", "0");
  line("cluster_stats_messages_received", "0");
  line("total_cluster_links_buffer_limit_exceeded", "0");
  // Keel's own: the replica group behind the slots.
  line("keel_group_id", std::to_string(n->group()));
  line("keel_role", replication::RoleName(s.role));
  line("keel_commit_index", std::to_string(s.commit));
  line("keel_applied_index", std::to_string(s.applied));
  c.reply.Verbatim(o);
}

// One node as CLUSTER SLOTS lists it: ip, port, id, {} (no hostname).
void SlotNode(CommandContext& c, const NodeInfo& n) {
  c.reply.Array(4);
  c.reply.Bulk(n.ip);
  c.reply.Integer(n.port);
  c.reply.Bulk(n.node_id);
  c.reply.Map(0);
}

// The members with the primary first: the leader, or (none known) this node.
std::vector<NodeInfo> Ordered(ClusterNode* n) {
  auto nodes = n->Nodes();
  bool has_leader = std::any_of(nodes.begin(), nodes.end(), [](auto& x) { return x.leader; });
  if (!has_leader) {
    std::stable_partition(nodes.begin(), nodes.end(), [](auto& x) { return x.myself; });
  }
  return nodes;
}

void ClusterSlots(CommandContext& c) {
  auto* n = Node(c);
  if (n == nullptr) return;
  auto nodes = Ordered(n);
  c.reply.Array(1);
  c.reply.Array(2 + nodes.size());
  c.reply.Integer(0);
  c.reply.Integer(keel::cluster::kSlotCount - 1);
  for (auto& x : nodes) SlotNode(c, x);
}

void ClusterShards(CommandContext& c) {
  auto* n = Node(c);
  if (n == nullptr) return;
  auto nodes = Ordered(n);
  c.reply.Array(1);
  c.reply.Map(2);
  c.reply.Bulk("slots");
  c.reply.Array(2);
  c.reply.Integer(0);
  c.reply.Integer(keel::cluster::kSlotCount - 1);
  c.reply.Bulk("nodes");
  c.reply.Array(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& x = nodes[i];
    c.reply.Map(7);
    c.reply.Bulk("id");
    c.reply.Bulk(x.node_id);
    c.reply.Bulk("port");
    c.reply.Integer(x.port);
    c.reply.Bulk("ip");
    c.reply.Bulk(x.ip);
    c.reply.Bulk("endpoint");
    c.reply.Bulk(x.ip);
    c.reply.Bulk("role");
    c.reply.Bulk(i == 0 ? "master" : "replica");
    c.reply.Bulk("replication-offset");
    c.reply.Integer(static_cast<int64_t>(x.match));
    c.reply.Bulk("health");
    c.reply.Bulk("online");
  }
}

void ClusterNodes(CommandContext& c) {
  auto* n = Node(c);
  if (n == nullptr) return;
  auto nodes = Ordered(n);
  auto s = n->state();
  std::string o;
  const std::string primary = nodes.empty() ? "-" : nodes[0].node_id;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& x = nodes[i];
    std::string flags = x.myself ? "myself," : "";
    flags += i == 0 ? "master" : "slave";
    o += x.node_id + " " + Addr(x) + "@" + std::to_string(x.bus_port) + " " + flags + " " +
         (i == 0 ? "-" : primary) + " 0 0 " + std::to_string(s.ballot.round) + " connected";
    if (i == 0) o += " 0-16383";
    o += "\n";
  }
  c.reply.Verbatim(o);
}

void ClusterKeySlot(CommandContext& c) {
  if (Node(c) == nullptr) return;
  c.reply.Integer(keel::cluster::KeySlot(c.argv[2]));
}

// The keys of `slot` in db 0 (cluster mode has one db), at most `limit`.
std::vector<std::string> KeysInSlot(CommandContext& c, uint16_t slot, int64_t limit) {
  Storage& st = c.server.storage();
  std::vector<std::string> out;
  uint8_t pdb = st.PhysicalDb(0);
  std::string start = MetaKeyPrefix(slot, pdb);
  std::unique_ptr<rocksdb::Iterator> it(st.db()->NewIterator(rocksdb::ReadOptions(), st.meta_cf()));
  uint64_t now = st.NowMs();
  for (it->Seek(start); it->Valid() && static_cast<int64_t>(out.size()) < limit; it->Next()) {
    auto k = DecodeMetaKey(std::string_view(it->key().data(), it->key().size()));
    if (!k || k->slot != slot || k->db != pdb) break;
    Metadata meta;
    if (DecodeMetadata(std::string_view(it->value().data(), it->value().size()), &meta, nullptr) &&
        meta.ExpiredAt(now)) {
      continue;
    }
    out.emplace_back(k->user_key);
  }
  return out;
}

std::optional<uint16_t> ParseSlot(CommandContext& c, std::string_view arg) {
  auto v = ToInt64(arg);
  if (!v || *v < 0 || *v >= keel::cluster::kSlotCount) {
    c.ErrorText("ERR Invalid slot");
    return std::nullopt;
  }
  return static_cast<uint16_t>(*v);
}

void ClusterCountKeysInSlot(CommandContext& c) {
  if (Node(c) == nullptr) return;
  auto slot = ParseSlot(c, c.argv[2]);
  if (!slot) return;
  c.reply.Integer(static_cast<int64_t>(KeysInSlot(c, *slot, INT64_MAX).size()));
}

void ClusterGetKeysInSlot(CommandContext& c) {
  if (Node(c) == nullptr) return;
  auto slot = ParseSlot(c, c.argv[2]);
  if (!slot) return;
  auto count = ToInt64(c.argv[3]);
  if (!count || *count < 0) return c.ErrorText("ERR Invalid number of keys");
  c.reply.BulkArray(KeysInSlot(c, *slot, *count));
}

void ClusterMeet(CommandContext& c) {
  auto* n = Node(c);
  if (n == nullptr) return;
  if (c.argv.size() > 5) return c.ErrorText("ERR syntax error");
  auto port = ToInt64(c.argv[3]);
  std::optional<int64_t> bus = int64_t{0};
  if (c.argv.size() == 5) bus = ToInt64(c.argv[4]);
  if (!port || *port <= 0 || *port > 65535 || !bus || *bus < 0 || *bus > 65535) {
    return c.ErrorText("ERR Invalid base port specified: " + std::string(c.argv[3]));
  }
  auto answer = [&c](const Status& st) {
    if (!st.ok()) return c.ErrorText("ERR " + st.detail());
    c.reply.Ok();
  };
  std::string ip(c.argv[2]);
  if (c.client.connection == nullptr || c.client.in_exec) {
    return answer(n->Meet(ip, static_cast<uint16_t>(*port), static_cast<uint16_t>(*bus)));
  }
  // The other node's answer takes up to a few seconds: the meeting runs on the cluster
  // node's worker and the client waits blocked, its io thread free; the worker's outcome
  // retries the command, which then answers it.
  if (c.retry && c.client.async_result) {
    std::optional<Status> outcome;
    {
      std::lock_guard<std::mutex> l(c.client.async_result->mu);
      outcome = c.client.async_result->status;
    }
    if (outcome) {
      c.client.async_result.reset();
      return answer(*outcome);
    }
    return c.Block(BlockRequest{});  // not yet: stay blocked
  }
  auto result = std::make_shared<AsyncResult>();
  c.client.async_result = result;
  std::weak_ptr<Connection> conn = c.client.connection->weak_from_this();
  n->MeetAsync(ip, static_cast<uint16_t>(*port), static_cast<uint16_t>(*bus),
               [result, conn](Status st) {
                 {
                   std::lock_guard<std::mutex> l(result->mu);
                   result->status = std::move(st);
                 }
                 if (auto live = conn.lock()) live->PostRetry();
               });
  c.Block(BlockRequest{});
}

void ClusterForget(CommandContext& c) {
  auto* n = Node(c);
  if (n == nullptr) return;
  Status st = n->Forget(std::string(c.argv[2]));
  if (!st.ok()) return c.ErrorText("ERR " + st.detail());
  c.reply.Ok();
}

void ClusterFailover(CommandContext& c) {
  auto* n = Node(c);
  if (n == nullptr) return;
  if (c.argv.size() == 3 && !EqualsIgnoreCase(c.argv[2], "force") &&
      !EqualsIgnoreCase(c.argv[2], "takeover")) {
    return c.ErrorText("ERR syntax error");
  }
  if (c.argv.size() > 3) return c.ErrorText("ERR syntax error");
  Status st = n->Failover();
  if (!st.ok()) return c.ErrorText("ERR " + st.detail());
  c.reply.Ok();
}

void ReadOnly(CommandContext& c) {
  if (Node(c) == nullptr) return;
  c.client.readonly = true;
  c.reply.Ok();
}

void ReadWrite(CommandContext& c) {
  if (Node(c) == nullptr) return;
  c.client.readonly = false;
  c.reply.Ok();
}

void Role(CommandContext& c) {
  ClusterNode* n = c.server.cluster();
  if (n == nullptr) {
    c.reply.Array(3);
    c.reply.Bulk("master");
    c.reply.Integer(0);
    c.reply.Array(0);
    return;
  }
  auto s = n->state();
  auto nodes = n->Nodes();
  if (s.role == replication::Role::kLeader) {
    c.reply.Array(3);
    c.reply.Bulk("master");
    c.reply.Integer(static_cast<int64_t>(s.applied));
    size_t followers = 0;
    for (auto& x : nodes) followers += x.myself ? 0 : 1;
    c.reply.Array(followers);
    for (auto& x : nodes) {
      if (x.myself) continue;
      c.reply.Array(3);
      c.reply.Bulk(x.ip);
      c.reply.Bulk(std::to_string(x.port));
      c.reply.Bulk(std::to_string(x.match));
    }
    return;
  }
  auto leader = n->Leader();
  c.reply.Array(5);
  c.reply.Bulk("slave");
  c.reply.Bulk(leader ? leader->ip : "?");
  c.reply.Integer(leader ? leader->port : -1);
  c.reply.Bulk(leader ? "connected" : "connect");
  c.reply.Integer(static_cast<int64_t>(s.applied));
}

// WAIT numreplicas timeout: blocks until `numreplicas` replicas hold the log up to every
// write this client saw acknowledged (at most the leader's applied index when WAIT was
// called), or until the timeout (ms, 0 = forever); answers how many replicas hold it then.
// (Acknowledged writes are already on a majority: WAIT only adds "and on these replicas".)
// Woken by the group's replication progress (Server wakes kReplicationProgressKey).
void Wait(CommandContext& c) {
  auto want = ToInt64(c.argv[1]);
  auto timeout = ToInt64(c.argv[2]);
  if (!want || !timeout) return c.Error(Code::kNotInteger);
  if (*timeout < 0) return c.ErrorText("ERR timeout is negative");
  ClusterNode* n = c.server.cluster();
  if (n == nullptr) return c.reply.Integer(0);
  auto s = n->state();
  if (s.role != replication::Role::kLeader) {
    return c.ErrorText(
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
        "if a replica is configured to be writable (which is not the default) writes to "
        "replicas are just local and are not propagated.");
  }
  std::vector<std::string> keys = {std::string(kReplicationProgressKey)};
  Connection* conn = c.client.connection;
  bool may_block = conn != nullptr && !c.client.in_exec && !c.client.block_timed_out;
  if (may_block && !c.retry) {
    // In line for progress before the replicas are counted: an acknowledgement that lands
    // between the count and the block still wakes it (the wake-up runs after this command).
    c.server.blocking().Add(conn->shared_from_this(), c.client.db, keys, true);
  }
  if (!c.retry) c.client.wait_index = s.applied;
  int64_t count = 0;
  for (auto& [id, match] : s.match) {
    if (id != n->replica() && match >= c.client.wait_index) ++count;
  }
  if (count >= *want || !may_block) {
    if (may_block && !c.retry) c.server.blocking().Remove(conn, c.client.db, keys);
    return c.reply.Integer(count);
  }
  BlockRequest req;
  req.keys = std::move(keys);
  req.wake_all = true;
  req.timeout_ms = static_cast<uint64_t>(*timeout);
  req.timeout_reply = BlockRequest::TimeoutReply::kRetry;
  c.Block(std::move(req));
}

constexpr uint32_t kLocal = kCmdNoStorage | kCmdLoading | kCmdStale;

CommandSpec Sub(std::string_view name, int arity, CommandHandler handler, std::string_view summary,
                std::string_view complexity) {
  return CommandRows("cluster")(name, arity, kLocal, 0, 0, 0, handler, summary, "3.0.0", complexity,
                                "@slow");
}

}  // namespace

void RegisterClusterCommands(std::vector<CommandSpec>* out) {
  out->push_back(
      {.name = "cluster",
       .arity = -2,
       .flags = kCmdNoStorage,
       .group = "cluster",
       .summary = "A container for cluster commands",
       .since = "3.0.0",
       .complexity = "Depends on subcommand.",
       .acl = "@slow",
       .subcommands = {
           Sub("cluster|info", 2, ClusterInfo, "Provides info about Redis Cluster node state",
               "O(1)"),
           Sub("cluster|myid", 2, ClusterMyId, "Return the node id", "O(1)"),
           Sub("cluster|slots", 2, ClusterSlots, "Get array of Cluster slot to node mappings",
               "O(N) where N is the total number of Cluster nodes"),
           Sub("cluster|shards", 2, ClusterShards, "Get array of cluster slots to node mappings",
               "O(N) where N is the total number of cluster nodes"),
           Sub("cluster|nodes", 2, ClusterNodes, "Get Cluster config for the node",
               "O(N) where N is the total number of Cluster nodes"),
           Sub("cluster|keyslot", 3, ClusterKeySlot, "Returns the hash slot of the specified key",
               "O(N) where N is the number of bytes in the key"),
           Sub("cluster|countkeysinslot", 3, ClusterCountKeysInSlot,
               "Return the number of local keys in the specified hash slot", "O(1)"),
           Sub("cluster|getkeysinslot", 4, ClusterGetKeysInSlot,
               "Return local key names in the specified hash slot",
               "O(log(N)) where N is the number of requested keys"),
           Sub("cluster|meet", -4, ClusterMeet,
               "Force a node cluster to handshake with another node", "O(1)"),
           Sub("cluster|forget", 3, ClusterForget, "Remove a node from the nodes table", "O(1)"),
           Sub("cluster|failover", -2, ClusterFailover,
               "Forces a replica to perform a manual failover of its master.", "O(1)"),
       }});
  const CommandRows ClusterRow("cluster"), ServerRow("server"), GenericRow("generic");
  out->push_back(ClusterRow("readonly", 1, kLocal | kCmdFast, 0, 0, 0, ReadOnly,
                            "Enables read queries for a connection to a cluster replica node",
                            "3.0.0", "O(1)", "@fast @connection"));
  out->push_back(ClusterRow("readwrite", 1, kLocal | kCmdFast, 0, 0, 0, ReadWrite,
                            "Disables read queries for a connection to a cluster replica node",
                            "3.0.0", "O(1)", "@fast @connection"));
  out->push_back(ServerRow("role", 1, kLocal | kCmdNoScript | kCmdFast, 0, 0, 0, Role,
                           "Return the role of the instance in the context of replication",
                           "2.8.12", "O(1)", "@admin @fast @dangerous"));
  out->push_back(GenericRow("wait", 3, kLocal | kCmdNoScript, 0, 0, 0, Wait,
                            "Wait for the synchronous replication of all the write commands sent "
                            "in the context of the current connection",
                            "3.0.0", "O(1)", "@slow @connection"));
}

}  // namespace keel::server
