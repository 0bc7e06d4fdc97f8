// Client: the per-connection session state commands see (db, protocol, name, auth...).
//
// Owned by its Connection and mutated only on the connection's io thread, except the fields
// marked atomic or guarded by `mu`, which CLIENT LIST / CLIENT KILL / INFO read from other
// threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "datatypes/status.h"

namespace keel::server {

struct CommandSpec;
class Connection;
class ExecBatch;

// What a thread that did a blocked command's work leaves for its retry (Client::async_result).
struct AsyncResult {
  std::mutex mu;
  std::optional<Status> status;
};

struct Client {
  uint64_t id = 0;
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of the local end
  int fd = -1;
  uint64_t created_ms = 0;

  // Session state (io thread only, except where noted).
  int db = 0;
  int protocol = 2;
  bool authenticated = false;
  bool close_after_reply = false;  // QUIT, protocol errors, CLIENT KILL of itself
  bool retrying = false;           // the current command is a blocked command's retry
  bool block_timed_out = false;    // ... its last one, after the timeout (TimeoutReply::kRetry)
  uint64_t wait_index = 0;         // WAIT: the log index the replicas must reach
  // The outcome of work a blocked command handed to another thread (CLUSTER MEET), set
  // there, read when the command is retried.
  std::shared_ptr<AsyncResult> async_result;
  Connection* connection = nullptr;
  ExecBatch* batch = nullptr;  // the connection's pending group commit

  // Pub/sub subscriptions (io thread only; the shared registry is server/pubsub.h).
  std::set<std::string> channels, patterns, shard_channels;
  size_t subscriptions() const { return channels.size() + patterns.size(); }
  bool in_pubsub() const { return subscriptions() + shard_channels.size() > 0; }

  // MULTI/EXEC state (io thread only).
  bool readonly = false;  // READONLY: reads may be served by a follower (cluster mode)
  // Linearizable reads on a cluster leader: socket reads so far, and the count when the last
  // read barrier (a quorum round) was requested: a read runs only behind a barrier requested
  // after its bytes arrived.
  uint64_t read_burst = 0;
  uint64_t read_barrier_burst = ~uint64_t{0};
  bool in_multi = false;
  bool in_exec = false;
  bool multi_error = false;  // a command failed to queue: EXEC aborts
  struct QueuedCommand {
    const CommandSpec* spec;
    std::vector<std::string> argv;
  };
  std::vector<QueuedCommand> queued;
  // An EXEC block stopped between two of its commits (Server::ExecTransaction): what it
  // runs and where it goes on.
  struct ExecResume {
    std::vector<QueuedCommand> queued;
    size_t next = 0;
  };
  std::optional<ExecResume> exec_resume;
  struct WatchedKey {
    int db;
    std::string key;
    uint64_t expire_at_ms;  // the key's expiry when watched (0 = none or absent)
  };
  std::vector<WatchedKey> watched;
  std::shared_ptr<std::atomic<bool>> watch_dirty = std::make_shared<std::atomic<bool>>(false);

  // Read by other threads.
  std::atomic<int> db_shared{0};
  std::atomic<uint64_t> last_active_ms{0};
  std::atomic<const CommandSpec*> last_command{nullptr};
  std::atomic<uint64_t> query_buffer_bytes{0};
  std::atomic<uint64_t> output_buffer_bytes{0};
  std::atomic<uint64_t> commands{0};
  std::atomic<bool> blocked{false};  // parked by a blocking command
  std::atomic<uint64_t> net_in{0};
  std::atomic<uint64_t> net_out{0};
  // CLIENT LIST's sub= psub= ssub= multi= fields and P/x flags: copies of the io-thread-only
  // state above (multi = commands queued, -1 outside MULTI and EXEC), refreshed by
  // SyncShared() and, when a command is queued, by the dispatcher.
  std::atomic<uint32_t> sub_count{0};
  std::atomic<uint32_t> psub_count{0};
  std::atomic<uint32_t> ssub_count{0};
  std::atomic<int64_t> multi_count{-1};
  // Call on the io thread after changing the subscriptions or the MULTI state.
  void SyncShared() {
    sub_count.store(static_cast<uint32_t>(channels.size()), std::memory_order_relaxed);
    psub_count.store(static_cast<uint32_t>(patterns.size()), std::memory_order_relaxed);
    ssub_count.store(static_cast<uint32_t>(shard_channels.size()), std::memory_order_relaxed);
    if (!in_exec) {  // EXEC keeps the count of what it runs until it returns
      multi_count.store(in_multi ? static_cast<int64_t>(queued.size()) : -1,
                        std::memory_order_relaxed);
    }
  }
  // in_pubsub() from any thread.
  bool in_pubsub_shared() const {
    return sub_count.load(std::memory_order_relaxed) > 0 ||
           psub_count.load(std::memory_order_relaxed) > 0 ||
           ssub_count.load(std::memory_order_relaxed) > 0;
  }

  mutable std::mutex mu;  // guards the strings below
  std::string name;
  std::string lib_name;
  std::string lib_ver;
};

}  // namespace keel::server
