// LogStore: the durable Paxos state of the replica groups hosted by one process: each
// group's hard state, snapshot meta (compaction point) and log entries, in a RocksDB
// instance of their own (separate from the data, as TiKV keeps its raft logs apart).
//
// Layout (every key names its group; integers big-endian so entries sort by index):
//   'g' u64 group 'h'            -> HardState     (replication/codec.h)
//   'g' u64 group 's'            -> SnapshotMeta
//   'g' u64 group 'e' u64 index  -> Entry
//   'g' u64 group 'i'            -> install marker: u32 n | SnapshotMeta[n] | staging dir
//                                   (present only while a snapshot is being installed)
//   'n' name                     -> the node's own records (identity, group membership;
//                                   cluster/node/cluster_node.h), written synced
// A Ready cycle's hard state and entries are one WriteBatch, written with sync unless the
// caller's fsync policy says otherwise. The state machine's applied index is not here: it
// lives in the data store, written in the same batch as the data it applies (see
// GroupHost).
//
// Thread-safe (RocksDB is); a group is written by its host thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

#include "replication/host/transport.h"
#include "replication/paxos.h"

namespace keel::replication {

class LogStore {
 public:
  // Opens (creating if missing) the store in directory `dir`.
  static Status Open(const std::string& dir, std::unique_ptr<LogStore>* out,
                     std::string* error = nullptr);

  // Loads what a group persisted (empty if nothing: a replica that has never been part of
  // the group). `applied` comes from the state machine.
  Status Load(GroupId group, uint64_t applied, PersistentState* out);

  // Persists one Ready cycle: the hard state (if set) and the entries, atomically.
  Status Persist(GroupId group, const std::optional<HardState>& hard_state,
                 const std::vector<Entry>& entries, bool sync);
  // Persists a compaction point and deletes the entries at or below it (and the install
  // marker, if any: the snapshot it names is now in place).
  Status PersistSnapshotMeta(GroupId group, const SnapshotMeta& meta, bool sync);

  // Snapshot install, crash-safe: the marker is written (synced) before the data store is
  // replaced with the staged snapshot in `staged_dir`, and removed by PersistSnapshotMeta
  // once it is in place. A restart that finds it installs the same snapshot again.
  Status PutInstallMarker(GroupId group, const SnapshotMeta& meta, const std::string& staged_dir);
  // False if there is none (or it is unreadable: kCorrupt is reported through `status`).
  bool GetInstallMarker(GroupId group, SnapshotMeta* meta, std::string* staged_dir,
                        Status* status = nullptr);

  // Fsyncs what earlier unsynced writes left in the OS (appendfsync everysec).
  Status SyncWal();

  // Whether anything of `group` is stored.
  bool Exists(GroupId group);
  // Deletes everything of `group` (a node leaving a group it was alone in).
  Status Erase(GroupId group);

  // The node's own named records (empty string if absent).
  std::string GetNodeRecord(const std::string& name);
  Status PutNodeRecord(const std::string& name, const std::string& value);

 private:
  explicit LogStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace keel::replication
