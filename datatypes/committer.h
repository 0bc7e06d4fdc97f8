// Mutation and Committer: the one write door. Every change to Keel's data is a Mutation (a
// RocksDB write batch plus the after-effects the server runs once it is applied), and every
// Mutation reaches RocksDB through a Committer, which ends in Storage::Apply.
//
// What is applied (and, with replication, what goes into the log) is `batch` alone: a store
// that applies the same batches in the same order reaches the same bytes and the same
// in-memory state (key counters, db map, highest version), because Storage::Apply derives
// that state from the batch. Relative times are resolved before the batch is built (an
// expiry is stored as an absolute deadline) and nothing in the batch depends on the
// applying store's clock. `effects` never leaves the node that built the mutation: they are
// the local consequences of the commands (WATCH invalidation, keyspace events, waking
// blocked clients, "expired" events).
//
// Committer contract (LocalCommitter today; the Paxos committer of replication/ next):
//   - Submit(mutation, done) takes the mutation and calls done(status, mutation) exactly
//     once, when the batch is applied (status ok) or certainly will never be (an error).
//     With replication a third outcome exists: the command ran and its fate is unknown
//     (leadership lost while in flight); the status says so and the client must be told
//     it may or may not have happened.
//   - done may run on the submitting thread before Submit returns (LocalCommitter) or later
//     on another thread (replication): callers hold no std::mutex across a submit, and the
//     key stripes and db gate they do hold are released from done (see lock_manager.h).
//   - Mutations are applied in submission order, and callbacks run in that order, except
//     that a mutation refused before it entered the log (Code::kNotLeader) may be answered
//     before earlier ones.
//   - A commit may fail after the command ran: the submitter must withhold the replies of
//     the commands in the mutation until done and fail exactly those on error.
// Thread-safety: Submit is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/write_batch.h>

#include "datatypes/status.h"

namespace keel {

class Storage;

// A keyspace event raised by a command, published once its mutation is applied.
struct KeyEvent {
  char type;          // Redis's event class: 'g' generic, '$' string, 'l' list, 's' set,
                      // 'h' hash, 'z' zset, 'x' expired, 'e' evicted, 't' stream, 'n' new
  std::string event;  // e.g. "set", "lpush", "hset", "del", "expire", "rename_from"
  int db;
  std::string key;
  // How far its client's output was when the command raised the event (a RESP3 client
  // subscribed to its own events gets the push there, where Redis would have written it).
  // kNoReplyOffset: unknown, append.
  static constexpr size_t kNoReplyOffset = ~size_t{0};
  static constexpr size_t kAfterReply = kNoReplyOffset - 1;  // resolved when the command ends
  size_t reply_offset = kNoReplyOffset;
};

// The local after-effects of a mutation, run by its submitter once it is applied.
struct MutationEffects {
  std::vector<std::pair<int, std::string>> modified;     // (logical db, key): WATCH, wake-ups
  std::vector<KeyEvent> notifications;                   // keyspace events, in order
  std::vector<std::pair<uint8_t, std::string>> expired;  // (physical db, key) deleted as expired
  bool empty() const { return modified.empty() && notifications.empty() && expired.empty(); }
};

struct Mutation {
  rocksdb::WriteBatch batch;  // the replicated part
  MutationEffects effects;    // the local part
  // Committer::Epoch() when the commands were evaluated: a replicated committer refuses a
  // mutation evaluated under a leadership that has ended (its reads may be stale).
  uint64_t epoch = 0;
};

class Committer {
 public:
  using Done = std::function<void(Status status, Mutation&& mutation)>;
  virtual ~Committer() = default;
  virtual void Submit(Mutation mutation, Done done) = 0;
  // Changes whenever the right to evaluate writes is (re)gained (a new leadership); 0 for a
  // local store. Read before evaluating, stored in Mutation::epoch.
  virtual uint64_t Epoch() const { return 0; }

  // Submits and waits for the outcome. Never on an io thread (connections commit with
  // ExecBatch::CommitAsync); for tests, tools and Storage's own whole-store helpers.
  Status SubmitAndWait(Mutation mutation, MutationEffects* effects = nullptr);
};

// Applies each mutation to the local store at once (RocksDB's own write group merges
// concurrent submitters into one WAL write; a connection's pipeline is already one
// mutation). done runs on the submitting thread before Submit returns.
class LocalCommitter final : public Committer {
 public:
  explicit LocalCommitter(Storage* storage) : storage_(storage) {}
  void Submit(Mutation mutation, Done done) override;

 private:
  Storage* storage_;
};

}  // namespace keel
