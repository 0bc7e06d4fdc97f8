// Transport: how a replica group's host hands Paxos messages to the other replicas.
//
// An interface with two implementations: an in-process network for tests
// (tests/replication/host/) and, next, the cluster bus over TCP. Every message travels with
// the id of the group it belongs to, so one process can host several groups (shards) without
// changing any format. Implementations must be thread-safe; Send never blocks and may drop
// a message (the Paxos core resends what matters).
#pragma once

#include <cstdint>

#include "replication/types.h"

namespace keel::replication {

using GroupId = uint64_t;

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `m` to replica m.to of `group`.
  virtual void Send(GroupId group, const Message& m) = 0;
};

}  // namespace keel::replication
