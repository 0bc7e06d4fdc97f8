// Storage: the RocksDB instance under every Keel data type, and the transaction (Txn) and
// read helpers each command uses.
//
// Ownership: Storage owns the rocksdb::DB, its column families, the key LockManager, the
// per-db key counters, a LocalCommitter (used unless another Committer is set) and one
// background thread (the "housekeeper") that runs the active expiry cycle and, under
// `appendfsync everysec`, syncs the WAL once a second.
//
// The write door: Apply(mutation) is the only code that writes data to RocksDB, and the
// in-memory state beside the data (key counters, the db map, the highest allocated
// version) is derived from the applied batch, never updated beside it. Everything else
// builds a Mutation and submits it through committer() (datatypes/committer.h): command
// batches (server/exec_batch.h), FLUSHDB/FLUSHALL/SWAPDB, and expiry, which the node that
// accepts writes decides by its clock and submits as deletions. A store that only applies
// mutations never deletes by its own clock: its reads treat a key past its deadline as
// absent, and its compaction filter drops only elements of dead key versions.
//
// Thread-safety: Storage is thread-safe. Its concurrency contract with callers:
//   1. Every command holds db_guard() shared for its whole run and until its mutation is
//      applied; FLUSHDB, FLUSHALL and SWAPDB take it exclusively (through the methods below).
//   2. A command that writes holds the LockManager stripes of every key it touches
//      (taken after the db guard) from its first read of a key until its mutation is
//      applied (the committer's done callback).
//   3. Reads without locks see committed data only (single Get or a snapshot).
// A Txn belongs to one thread and one command (or one MULTI/EXEC).
//
// Durability: Apply() uses the fsync policy (FsyncPolicy): kAlways syncs the WAL before
// acknowledging; kEverySec (default) writes the WAL to the OS before acknowledging (so an
// acknowledged write survives kill -9 of the server) and fsyncs it once a second (so an
// OS crash or power loss loses at most about one second); kNo leaves fsync to the OS.
//
// Persisted records in the "default" column family:
//   "dbmap"        -> one byte per logical db: its physical db id (SWAPDB swaps two bytes)
//   "keys" | db:u8 -> int64 LE, merged by addition: keys physically present in physical db
//   "exps" | db:u8 -> int64 LE, merged by addition: of those, keys with an expiry
//   "version"      -> uint64 LE, merged by maximum: the highest key version a batch used
//                     (new versions are allocated above it, also on a store that only
//                     applied batches)
// A batch sets a counter with Put (FLUSHDB, FLUSHALL) and moves it with Merge; Apply reads
// those records back out of the batch to update the in-memory copies.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include "datatypes/clock.h"
#include "datatypes/committer.h"
#include "datatypes/encoding.h"
#include "datatypes/lock_manager.h"
#include "datatypes/status.h"

namespace keel {

enum class FsyncPolicy : uint8_t { kAlways = 0, kEverySec = 1, kNo = 2 };
std::string_view FsyncPolicyName(FsyncPolicy p);
std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name);

inline constexpr int kMaxDatabases = 256;

struct StorageOptions {
  std::string dir = "./data";
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  int databases = 16;
  size_t block_cache_bytes = 256u << 20;
  size_t write_buffer_bytes = 64u << 20;
  // Milliseconds since the Unix epoch (the server's one clock); tests inject a fake clock.
  Clock clock;
  // Run the housekeeper thread (active expiry, WAL sync). Tests may drive it by hand.
  bool background = true;
  // Whether this store decides expiry (the node that accepts writes): its housekeeper
  // submits deletions of keys past their deadline. A store that only applies another's
  // mutations (a replica) never deletes by its own clock.
  bool decide_expiry = true;
  // Keys examined per active expiry cycle (10 cycles a second).
  size_t expiry_cycle_keys = 2000;
};

// A key as read from storage. Expired keys are never returned: they read as absent.
struct KeyRecord {
  bool exists = false;
  Metadata meta;
  std::string raw;  // the metadata value as stored
  std::string_view body() const {
    return std::string_view(raw).substr(meta.is_compound() ? kCompoundHeaderSize : kMetaHeaderSize);
  }
};

// Counters for INFO / metrics. Monotonic unless noted.
struct StorageStats {
  std::atomic<uint64_t> expired_keys{0};
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
  std::atomic<uint64_t> wal_syncs{0};
  std::atomic<uint64_t> writes{0};
};

class Txn;

// Receives key creations and read misses as a Txn sees them (keyspace events "new" and
// "keymiss"). Called on the Txn's thread; logical db numbers.
class KeyEventSink {
 public:
  virtual ~KeyEventSink() = default;
  virtual void OnNewKey(int logical_db, std::string_view key) = 0;
  virtual void OnKeyMiss(int logical_db, std::string_view key) = 0;
};

class Storage {
 public:
  static Result<std::unique_ptr<Storage>> Open(StorageOptions options);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* meta_cf() const { return cfs_[kMetaCf]; }
  rocksdb::ColumnFamilyHandle* sub_cf() const { return cfs_[kSubCf]; }
  rocksdb::ColumnFamilyHandle* expiry_cf() const { return cfs_[kExpiryCf]; }
  rocksdb::ColumnFamilyHandle* default_cf() const { return cfs_[kDefaultCf]; }
  // Every column family, indexed by its number in snapshots (replication/host/snapshot.h):
  // 0 default, 1 metadata, 2 subkeys, 3 expiry. The numbers are a wire format.
  const std::vector<rocksdb::ColumnFamilyHandle*>& column_families() const { return cfs_; }

  uint64_t NowMs() const;
  // A fresh version for a new incarnation of a compound key, above every version of an
  // applied batch (Txn::NewVersion records it in the transaction's batch).
  uint64_t NextVersion() { return next_version_.fetch_add(1, std::memory_order_relaxed); }
  int databases() const { return options_.databases; }
  uint8_t PhysicalDb(int logical_db) const { return db_map_[logical_db]; }
  SharedGate& db_guard() { return db_guard_; }
  LockManager& locks() { return locks_; }
  StorageStats& stats() { return stats_; }
  const StorageOptions& options() const { return options_; }

  // Whether this store decides expiry (StorageOptions::decide_expiry): with replication,
  // only while it leads its group.
  bool decide_expiry() const { return decide_expiry_.load(std::memory_order_relaxed); }
  void set_decide_expiry(bool on) { decide_expiry_.store(on, std::memory_order_relaxed); }

  FsyncPolicy fsync_policy() const { return fsync_.load(std::memory_order_relaxed); }
  void set_fsync_policy(FsyncPolicy p) { fsync_.store(p, std::memory_order_relaxed); }

  // The write door's last step: writes the mutation's batch under the fsync policy, then
  // derives the in-memory state from it (key counters, db map, highest version). Called
  // by committers only, in submission order. A batch that changes the db map (SWAPDB) must
  // be applied with db_guard() held exclusively. Thread-safe otherwise.
  Status Apply(Mutation& mutation);

  // Where mutations are submitted: the LocalCommitter unless set_committer installed
  // another (tests inject failures; replication installs its own). Set before traffic.
  Committer* committer() const { return committer_.load(std::memory_order_acquire); }
  void set_committer(Committer* committer) {
    committer_.store(committer != nullptr ? committer : &local_committer_,
                     std::memory_order_release);
  }
  // Runs the "expired" after-effects of an applied mutation (the expired hook per key).
  void RunExpiredEffects(const MutationEffects& effects);

  // Reads one key without locks (expired keys read as absent and are queued for deletion).
  Status ReadKey(int logical_db, std::string_view key, KeyRecord* out,
                 const rocksdb::Snapshot* snapshot = nullptr);
  Status ReadPhysical(uint8_t db, std::string_view key, KeyRecord* out,
                      const rocksdb::Snapshot* snapshot = nullptr);

  // Keys physically present / with an expiry in a logical db (DBSIZE, INFO keyspace).
  int64_t KeyCount(int logical_db) const;
  int64_t ExpiresCount(int logical_db) const;

  // Whole-database operations for callers off the io threads (tests, tools); each takes the
  // db guard exclusively itself unless the caller holds it (`guard_held`), builds a mutation
  // (range deletions, counter resets, a db map record) and commits it through committer(),
  // waiting for the outcome while it holds the whole store. Connections use Build* instead.
  Status FlushDb(int logical_db, bool guard_held = false);
  Status FlushAll(bool guard_held = false);
  Status SwapDb(int a, int b, bool guard_held = false);
  // The mutations of those operations, for a caller that submits them itself (a
  // connection's batch). The db guard must be held exclusively until they are applied.
  Mutation BuildFlushDb(int logical_db);
  Mutation BuildFlushAll();
  Mutation BuildSwapDb(int a, int b);

  // Runs one active expiry pass over at most `max_keys` index entries that are due, plus
  // every key queued by reads: each expired key becomes a deletion mutation submitted
  // through committer(). Returns how many keys it deleted. Thread-safe; the housekeeper
  // calls it ten times a second on a store that accepts writes.
  size_t RunExpiryCycle(size_t max_keys);

  // Called (from the deleting thread, with the key's stripe locked) for every key the
  // expiry machinery deletes; used for keyspace notifications. Set before traffic starts.
  using ExpiredHook = std::function<void(int logical_db, std::string_view key)>;
  void set_expired_hook(ExpiredHook hook) { expired_hook_ = std::move(hook); }

  // Approximate last-access clock for OBJECT IDLETIME: a fixed table of times indexed by
  // a hash of (db, key). Colliding keys share a slot, so a key may look more recently used
  // than it was, never less. Lock-free.
  void NoteAccess(uint8_t db, std::string_view key);
  uint64_t IdleSeconds(uint8_t db, std::string_view key) const;
  // RESTORE ... IDLETIME: makes the key look idle for `seconds`.
  void SetIdleSeconds(uint8_t db, std::string_view key, uint64_t seconds);

  // The logical db currently mapped to a physical one (-1 if none). Db guard held.
  int LogicalDbOf(uint8_t physical) const;

  // Syncs the WAL now (kEverySec housekeeping, SHUTDOWN, before a replica compacts its log).
  Status SyncWal();

  // Replaces the whole store with the sorted SST files in `files` (files[i] for column
  // family i, as column_families() numbers them): a replica installing a snapshot. Deletes
  // every key of every column family, ingests the files (copied; the originals stay) in one
  // atomic ingestion, syncs, and reloads the in-memory records (db map, counters, version).
  // Not atomic as a whole: a caller that crashes half-way runs it again (it is idempotent).
  // The caller holds db_guard() exclusively.
  Status ReplaceContents(const std::vector<std::vector<std::string>>& files);

  // A RocksDB property of the whole DB, summed over column families when numeric.
  uint64_t IntProperty(const std::string& name) const;

 private:
  friend class Txn;
  enum { kDefaultCf = 0, kMetaCf = 1, kSubCf = 2, kExpiryCf = 3, kCfCount = 4 };

  explicit Storage(StorageOptions options);
  Status LoadServerRecords();
  void Housekeep();
  void NoteExpiredOnRead(uint8_t db, std::string_view key);
  bool ExpireOne(uint8_t db, std::string_view key, uint64_t index_time, bool from_index);
  void NotifyExpired(uint8_t db, std::string_view key);
  Status CommitWhole(Mutation mutation);

  StorageOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::atomic<FsyncPolicy> fsync_;
  std::atomic<bool> decide_expiry_;
  std::atomic<uint64_t> next_version_{0};
  LockManager locks_;  // before db_guard_, which wakes its parking lot
  SharedGate db_guard_{&locks_.parking()};
  LocalCommitter local_committer_{this};
  std::atomic<Committer*> committer_{&local_committer_};
  std::array<uint8_t, kMaxDatabases> db_map_{};
  std::array<std::atomic<int64_t>, kMaxDatabases> key_counts_{};
  std::array<std::atomic<int64_t>, kMaxDatabases> expire_counts_{};
  StorageStats stats_;
  ExpiredHook expired_hook_;

  static constexpr size_t kAccessSlots = size_t{1} << 20;
  std::unique_ptr<std::atomic<uint64_t>[]> access_;  // last access, ms since the epoch

  std::mutex lazy_mu_;
  std::vector<std::pair<uint8_t, std::string>> lazy_expired_;
  std::atomic<bool> writes_since_sync_{false};

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stopping_ = false;
  std::thread housekeeper_;
};

// A transaction over one or more keys: what one command (or one MULTI/EXEC) reads and
// writes. Reads see the transaction's own writes; nothing is visible to others before
// Commit(). In kWrite mode the caller holds the stripe locks of every key it loads or stores
// (see Storage) and expired keys found by Load are deleted in the transaction. In kRead mode
// no locks are held, nothing may be stored, and expired keys are queued for the housekeeper.
enum class TxnMode : uint8_t { kRead, kWrite };

class Txn {
 public:
  Txn(Storage* storage, int logical_db, TxnMode mode = TxnMode::kWrite);
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Storage* storage() const { return storage_; }
  uint8_t db() const { return db_; }
  int logical_db() const { return logical_db_; }
  uint64_t now_ms() const { return now_ms_; }
  TxnMode mode() const { return mode_; }
  // Whether Load counts as an access for OBJECT IDLETIME (Redis's LOOKUP_NOTOUCH when off).
  void set_touch(bool touch) { touch_ = touch; }
  // Where key creations and read misses are reported (null = nowhere).
  void set_event_sink(KeyEventSink* sink) { sink_ = sink; }

  // A transaction may span several commands (a pipelined batch, MULTI/EXEC). Each command
  // starts with BeginCommand (its mode, db and clock) and ends with EndCommand; a failed
  // command's writes are rolled back to where it began, the others stay pending.
  void BeginCommand(TxnMode mode, int logical_db);
  void EndCommand(bool rollback);
  // Keys this transaction has created minus those it removed so far in physical db `db`
  // (DBSIZE inside MULTI/EXEC or a pipeline counts the transaction's own writes).
  int64_t PendingKeyDelta(uint8_t db) const;
  // Number of pending writes and their size in bytes.
  size_t pending_writes() const;
  size_t pending_bytes() const;
  // Switches the transaction's db (SELECT inside MULTI).
  void SelectDb(int logical_db);
  // kRead mode: read every following key from one consistent snapshot (multi-key reads).
  void PinSnapshot();

  // Loads `key` in the transaction's db (or in physical db `db`). An expired key is deleted
  // in this transaction and reads as absent.
  Status Load(std::string_view key, KeyRecord* out) { return LoadIn(db_, key, out); }
  Status LoadIn(uint8_t db, std::string_view key, KeyRecord* out);

  // Writes `key` with `meta` and `tail` (the string value, or a compound type's tail).
  // `rec` is what Load returned for this key in this transaction; it is updated to say the
  // key now exists with `meta` (its raw bytes are left as they were).
  void Store(std::string_view key, KeyRecord* rec, const Metadata& meta, std::string_view tail) {
    StoreIn(db_, key, rec, meta, tail);
  }
  void StoreIn(uint8_t db, std::string_view key, KeyRecord* rec, const Metadata& meta,
               std::string_view tail);
  // Deletes `key` (a compound key's elements are reclaimed by compaction); `rec` as above.
  void Remove(std::string_view key, KeyRecord* rec) { RemoveIn(db_, key, rec); }
  void RemoveIn(uint8_t db, std::string_view key, KeyRecord* rec);

  // Elements of compound types.
  Status GetSub(std::string_view key, uint64_t version, std::string_view sub, std::string* value,
                bool* found);
  void PutSub(std::string_view key, uint64_t version, std::string_view sub, std::string_view value);
  void DeleteSub(std::string_view key, uint64_t version, std::string_view sub);
  // Copies every element of (src_db, src_key, src_version) to (dst_db, dst_key, dst_version)
  // (COPY, RENAME and MOVE of compound keys: O(elements)).
  Status CopyElements(uint8_t src_db, std::string_view src_key, uint64_t src_version,
                      uint8_t dst_db, std::string_view dst_key, uint64_t dst_version);

  // An iterator over the "subkeys" family (committed data, the pinned snapshot if any);
  // seek it to SubKeyPrefix(...) to walk one incarnation of a compound key.
  std::unique_ptr<rocksdb::Iterator> NewSubIterator();
  // The same, merged with this transaction's pending writes (what GetSub sees: elements written
  // or deleted by earlier commands of the same pipeline or MULTI). Writing to the transaction
  // while the iterator is in use invalidates it: collect first, then write.
  std::unique_ptr<rocksdb::Iterator> NewSubIteratorWithPending();

  // An iterator over the "metadata" family merged with this transaction's pending writes
  // (KEYS, SCAN and RANDOMKEY inside MULTI/EXEC see the keys it wrote or deleted). Same
  // caveat as NewSubIteratorWithPending.
  std::unique_ptr<rocksdb::Iterator> NewMetaIteratorWithPending();

  // A fresh key version (Storage::NextVersion), recorded so that the batch carries the
  // highest version it uses.
  uint64_t NewVersion();

  // Moves the pending writes out as one mutation (the counter merges and the version
  // record appended; the keys this transaction deleted as expired in its effects) and
  // leaves the transaction empty. The caller submits it through storage()->committer().
  Mutation TakeMutation();
  // TakeMutation, submitted through the committer and waited for, its expired effects run
  // (tests and tools; the server submits asynchronously through ExecBatch).
  Status Commit();

 private:
  rocksdb::WriteBatchWithIndex& batch();
  rocksdb::ReadOptions read_options() const;

  Storage* storage_;
  int logical_db_;
  uint8_t db_;
  TxnMode mode_;
  bool touch_ = true;
  KeyEventSink* sink_ = nullptr;
  uint64_t now_ms_;
  uint64_t epoch_;  // the committer's epoch when the transaction began (Mutation::epoch)
  const rocksdb::Snapshot* snapshot_ = nullptr;
  std::unique_ptr<rocksdb::WriteBatchWithIndex> batch_;  // created by the first write
  struct CounterDelta {
    uint8_t db;
    int8_t keys;
    int8_t expires;
  };
  std::vector<CounterDelta> deltas_;  // applied to the key counters on Commit
  std::vector<std::pair<uint8_t, std::string>> expired_;
  uint64_t max_version_ = 0;  // highest NewVersion() so far (0: none)
  // Where the current command began (for EndCommand(rollback=true)).
  bool savepoint_set_ = false;
  size_t savepoint_deltas_ = 0;
  size_t savepoint_expired_ = 0;
};

}  // namespace keel
