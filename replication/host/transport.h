// Transport: how a replica group's host hands Paxos messages to the other replicas.
//
// An interface with two implementations: an in-process network for tests
// (tests/replication/host/) and the cluster bus over TCP (tcp_transport.h). Every message
// travels with the id of the group it belongs to, so one process can host several groups
// (shards) without changing any format. Implementations must be thread-safe; Send never
// blocks and may drop a message (the Paxos core resends what matters). Call is the one
// blocking exchange, for bulk transfers beside the Paxos messages (snapshot chunks,
// replication/host/snapshot.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "datatypes/status.h"
#include "replication/types.h"

namespace keel::replication {

using GroupId = uint64_t;

// A single thread that runs posted work in order: a host loop may run on it instead of a
// thread of its own (GroupHostOptions::executor), so that messages from the network reach
// the core, and its messages reach the network, without a thread hand-off.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> fn) = 0;
  virtual void PostAfter(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // Whether the calling thread is the executor's.
  virtual bool InThread() const = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `m` to replica m.to of `group`.
  virtual void Send(GroupId group, const Message& m) = 0;
  // Sends `body` to replica `to`'s host and waits at most `timeout` for its reply (the
  // receiving side hands snapshot chunks to GroupHost::OnSnapshotChunk). Never called on a
  // transport thread.
  virtual keel::Result<std::string> Call(ReplicaId to, std::string body,
                                         std::chrono::milliseconds timeout) = 0;
};

}  // namespace keel::replication
