// ExecBatch: the storage side of one connection's run of commands between two flushes of
// its replies. Write commands of a pipelined batch share one Txn and become one Mutation,
// submitted through the storage's Committer (datatypes/committer.h) before any of their
// replies is sent, so an acknowledged write is always durable under the fsync policy, and a
// pipeline of N writes costs one WAL append (one log entry, with replication).
//
// Isolation: the stripes of every key written (and the shared db gate) stay held until the
// mutation is applied, so no other client can read-modify-write a key between a pending
// write and its commit. Growing the lock set uses try-lock only; if a stripe is busy the
// batch commits first (releasing everything) and then blocks for the new set, so two
// batches can never deadlock.
//
// Commit points: CommitAsync is the connection's one way to commit, without blocking its
// io thread: at the end of a read's worth of input, before a command that needs the pending
// writes applied (Server::Execute answers kCommitFirst: keyless reads, EXEC, whole-store
// commands, a full batch, a stripe busy elsewhere; see TryJoin), after a whole-store
// command, and between the pieces of a MULTI/EXEC block that contains a whole-store command
// (RequestResume). Commit() waits; only blocked-client retries and tests use it, on an empty
// or trivially committable batch.
//
// No waiting for locks either: from an empty batch, every acquisition (TryJoin, TryLockRead,
// TryBeginAtomic, TryBeginExclusive) only tries; on failure it holds nothing and the caller
// parks the connection in the lock manager's ParkingLot with wait_generation(), to try again
// when something is released (Server::Execute answers kWaitLocks).
//
// Owned by a Connection (or a test); used on one thread, except that a done callback may
// release the held stripes and gate from the committer's thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "datatypes/storage.h"
#include "server/commands/command.h"

namespace keel::server {

class ExecBatch : public KeyEventSink {
 public:
  static constexpr size_t kMaxPendingWrites = 1024;
  static constexpr size_t kMaxPendingBytes = 4u << 20;

  explicit ExecBatch(Storage* storage) : storage_(storage) {}
  ~ExecBatch();  // uncommitted writes are dropped (never acknowledged)
  using Events = MutationEffects;
  ExecBatch(const ExecBatch&) = delete;
  ExecBatch& operator=(const ExecBatch&) = delete;

  // Computes the lock stripes a command needs. Called with the db guard held (stripes depend
  // on the db map that SWAPDB changes), possibly twice.
  using StripesFn = std::function<std::vector<size_t>()>;
  // Locks the stripes (plus those already held) and returns the shared transaction, ready for
  // a write command in `logical_db`. Fails only if an early commit (to avoid deadlock) fails.
  Result<Txn*> BeginWrite(int logical_db, const StripesFn& stripes);
  Result<Txn*> BeginWrite(int logical_db, std::vector<size_t> stripes);
  // For a read command: the pending transaction if any (so the connection reads its own
  // pending writes), else nullptr (read committed data directly).
  Txn* BeginRead(int logical_db);
  // Ends the command started by BeginWrite/BeginRead; a failed command's writes are undone.
  void EndCommand(bool failed);

  // Whether a transaction or held locks wait for a commit.
  bool pending() const {
    return txn_.has_value() || !held_.empty() || guard_.owns_lock() || exclusive_.owns_lock() ||
           whole_.has_value();
  }

  // Whether a write command can join the batch without waiting: takes the db gate (shared,
  // if not held) and the command's stripes with try-locks only. False if the batch is full or
  // something is busy; then nothing new is held (the caller commits a pending batch first,
  // or parks an empty one). On true `*joined` holds the stripes (for BeginWrite).
  bool TryJoin(const StripesFn& stripes, std::vector<size_t>* joined);
  // A read outside any batch transaction: the db gate, shared, without waiting.
  bool TryLockRead(std::shared_lock<SharedGate>* guard);
  // The parking-lot generation read before the last failed attempt (see ParkingLot).
  uint64_t wait_generation() const { return wait_generation_; }

  // A whole-store command (FLUSHDB, FLUSHALL, SWAPDB) outside MULTI/EXEC: from an empty batch,
  // takes the db gate exclusively without waiting (false: not yet, park; the claim on the
  // gate is kept meanwhile, so readers cannot starve it). Its mutation (AddWholeStore) is the
  // batch's, and the batch is committed before anything else runs (commit_requested()).
  bool TryBeginExclusive();
  void AddWholeStore(Mutation mutation);
  bool commit_requested() const { return whole_.has_value(); }
  // Whether the pending transaction holds writes (not only reads).
  bool has_writes() const;

  // The output the running command replies into (null between commands). A keyspace event
  // records how far that output is when the event is raised (KeyEvent::reply_offset), so a
  // RESP3 client's own pushes land where Redis puts them: before the reply of a command that
  // publishes before replying (SET), after it for one that replies first (EXPIRE).
  void set_output(const std::string* output) { output_ = output; }
  size_t output_pos() const {
    return output_ != nullptr ? output_->size() : KeyEvent::kNoReplyOffset;
  }

  // Effects of the pending writes, delivered to the Server after a successful commit (and
  // dropped with the writes of a failed command or batch).
  Events& events() { return events_; }
  // Called with the committed batch's effects (set by the Server): `locked` right after the
  // apply while the batch still holds its key locks (WATCH invalidation must happen before
  // anyone else can lock those keys; may run on the committer's thread), `after` once the
  // locks are released (by the synchronous commit points; CommitAsync hands the effects to
  // its done instead, for the connection to deliver on its own thread).
  void set_on_commit(std::function<void(const Events&)> locked,
                     std::function<void(Events&&)> after) {
    on_commit_locked_ = std::move(locked);
    on_commit_ = std::move(after);
  }

  // MULTI/EXEC: from an empty batch, locks all `stripes` at once without waiting (false:
  // nothing held, park), then keeps every following command in this one batch, with no early
  // commit, until EndAtomic(). `exclusive` (a block containing FLUSHDB, FLUSHALL or SWAPDB)
  // takes the db gate exclusively instead: no other command runs until the block ends, so
  // the block may commit in several mutations (RequestResume before and after each
  // whole-store command) and still no client observes half of it.
  bool TryBeginAtomic(const StripesFn& stripes, bool exclusive);
  Status EndAtomic();
  bool atomic() const { return atomic_; }
  bool exclusive() const { return exclusive_.owns_lock(); }
  // Inside an exclusive block: the next CommitAsync commits what is pending but keeps the
  // locks and the atomic mode, and the connection then runs the EXEC again, which resumes
  // the block (Client::exec_resume). A failed piece: the connection calls Abort().
  void RequestResume() { resume_requested_ = true; }
  bool resume_requested() const { return resume_requested_; }
  // Drops whatever is pending and lets every lock go (after a failed commit of a piece).
  void Abort();

  // Keyspace events "new" and "keymiss" are recorded only while the server's
  // notify-keyspace-events asks for them (`flags` points at its live flag word).
  void set_notify_flags(const std::atomic<int>* flags) { notify_flags_ = flags; }
  void OnNewKey(int logical_db, std::string_view key) override;
  void OnKeyMiss(int logical_db, std::string_view key) override;
  bool holds_guard() const { return guard_.owns_lock(); }
  bool holds_gate() const { return guard_.owns_lock() || exclusive_.owns_lock(); }
  bool has_txn() const { return txn_.has_value() || atomic_; }  // reads go through BeginRead
  // Set when a commit failed: the replies produced since the batch began must be discarded.
  bool commit_failed() const { return commit_failed_; }
  void clear_commit_failed() { commit_failed_ = false; }
  bool full() const;
  // Commits pending writes and releases locks and the db guard, waiting for the outcome. On
  // failure nothing of the batch is applied and its replies must not be sent.
  Status Commit();
  // The same without waiting: done(status, effects) runs once the mutation is applied (or
  // failed), after the locks are released, possibly on another thread; on success the
  // caller delivers the effects (the `after` callback is not called).
  using AsyncDone = std::function<void(Status, Events&&)>;
  void CommitAsync(AsyncDone done);

 private:
  // Moves the pending mutation and the held locks out, leaving the batch empty; the
  // returned closure, called with the commit's outcome, runs the locked effects and
  // releases the locks.
  struct Held;
  std::shared_ptr<Held> TakeHeld();
  static void Finish(Held& held, const Status& st, Events& effects);

  Storage* storage_;
  std::shared_lock<SharedGate> guard_;
  std::unique_lock<SharedGate> exclusive_;
  std::optional<Txn> txn_;
  std::optional<Mutation> whole_;  // a whole-store command's mutation (BeginExclusive)
  std::vector<size_t> held_;       // sorted
  bool claimed_ = false;           // the gate's writer bit is ours, readers still inside
  bool resume_requested_ = false;
  uint64_t wait_generation_ = 0;
  bool commit_failed_ = false;
  Events events_;
  size_t cmd_modified_mark_ = 0;  // where the current command's events begin
  size_t cmd_notify_mark_ = 0;
  std::function<void(const Events&)> on_commit_locked_;
  std::function<void(Events&&)> on_commit_;
  bool atomic_ = false;
  const std::string* output_ = nullptr;
  const std::atomic<int>* notify_flags_ = nullptr;
};

}  // namespace keel::server
