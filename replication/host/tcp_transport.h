// TcpTransport: the cluster bus. Paxos messages between the replicas of a group travel over
// TCP (Boost.Asio) on the bus port (the client port + 10000 by default, as Redis Cluster).
//
// Connections: each replica dials every peer it knows an address for and sends on that
// connection only; it receives on the connections its peers dialled. So a pair of replicas
// shares two connections, one per direction, each with a single writer. A lost connection is
// dialled again with backoff (50 ms doubling to 1 s). Each peer's queue is bounded (frames
// and bytes); past the bound new frames are dropped (the Paxos core resends what matters).
//
// Frame format (all integers little-endian):
//   Frame   := u32 length (of kind + body; at most kMaxFrameBytes) | u8 kind | body
//   kind 1 Hello   := u8 version=1 | u64 cluster | u64 replica | u8[40] node id
//   kind 2 Paxos   := u64 group | Message (replication/codec.h)
//   kind 3 Request := bytes   (a request from a node outside the group: CLUSTER MEET)
//   kind 4 Reply   := bytes
//   kind 5 Publish := u32 n | channel[n] | message   (PUBLISH to every node of the cluster)
// Every connection starts with a Hello from the dialling side. A receiver drops the
// connection on a frame that is oversized, of an unknown kind or malformed, on a Hello of
// another cluster (a cluster is its group's id; 0 = a node in no group yet), and on a Paxos
// message that is not from the replica that said hello or not addressed to this replica.
// Enum values (kinds) are part of the wire format and never change.
//
// Threading: one bus thread runs the sockets (and, as an Executor, the group's host loop).
// Send, SetPeer, SetCluster are thread-safe (they post to the bus thread); handlers run on
// the bus thread and must not block long.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "datatypes/status.h"
#include "replication/host/transport.h"

namespace keel::replication {

class TcpTransport final : public Transport, public Executor {
 public:
  static constexpr size_t kMaxFrameBytes = 64u << 20;
  static constexpr size_t kMaxQueuedFrames = 4096;
  static constexpr size_t kMaxQueuedBytes = 128u << 20;
  enum class FrameKind : uint8_t { kHello = 1, kPaxos = 2, kRequest = 3, kReply = 4, kPublish = 5 };

  struct Hello {
    uint64_t cluster = 0;
    ReplicaId replica = kNoReplica;
    std::string node_id;  // 40 hex characters
  };
  using MessageHandler = std::function<void(GroupId group, Message m)>;
  // Answers a Request frame (from any node that said hello, whatever its cluster).
  using RequestHandler = std::function<std::string(const Hello& from, std::string_view body)>;
  // A Publish frame from a node of this cluster.
  using PublishHandler = std::function<void(std::string_view channel, std::string_view message)>;
  void set_publish_handler(PublishHandler handler);  // before Start

  TcpTransport(Hello self, MessageHandler on_message, RequestHandler on_request);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Binds the bus port (0 = any) and starts the bus thread.
  keel::Status Start(const std::string& ip, uint16_t port);
  void Stop();
  uint16_t port() const { return port_; }

  void SetCluster(uint64_t cluster);
  // Where `id` listens; an unknown or changed address (re)dials.
  void SetPeer(ReplicaId id, const std::string& host, uint16_t port);
  void RemovePeer(ReplicaId id);

  void Send(GroupId group, const Message& m) override;
  // The bus thread as an Executor (a group host may run its loop there). Work posted after
  // Stop is dropped.
  void Post(std::function<void()> fn) override;
  void PostAfter(std::chrono::milliseconds delay, std::function<void()> fn) override;
  bool InThread() const override;

  // A Request to the bus address last given for `to` by SetPeer.
  keel::Result<std::string> Call(ReplicaId to, std::string body,
                                 std::chrono::milliseconds timeout) override;
  // Sends a Publish frame to every peer with a known address (best effort, like Redis
  // Cluster's bus: a peer that is down misses it).
  void Broadcast(std::string_view channel, std::string_view message);

  // Sends one Request frame to host:port on a connection of its own and waits (this thread)
  // for the Reply, at most `timeout`. For CLUSTER MEET; never called on the bus thread.
  keel::Result<std::string> Request(const std::string& host, uint16_t port, std::string body,
                                    std::chrono::milliseconds timeout);

  // Frames, for tests of bad input.
  static std::string EncodeFrame(FrameKind kind, std::string_view body);
  static std::string EncodeHello(const Hello& hello);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint16_t> port_{0};
  std::mutex addresses_mu_;
  std::map<ReplicaId, std::pair<std::string, uint16_t>> addresses_;  // as given to SetPeer
};

}  // namespace keel::replication
