// Snapshot transfer between the hosts of one replica group: what a leader sends a replica
// whose missing log entries were compacted away, and how that replica stages it.
//
// A snapshot is the whole data store (every column family of datatypes/storage.h) as of one
// RocksDB snapshot, hence as of one applied index: the store's applied-index record
// (GroupHost::AppliedKey) is part of the data and names it. The leader's host reads it with
// a SnapshotSource and streams it in chunks over the cluster bus (Transport::Call), one
// chunk per request, each sent once the previous one is acknowledged. The receiving host's
// SnapshotStager writes the chunks into sorted SST files in a staging directory. Only once
// the last chunk is in and every file is synced does the leader give its Paxos core a small
// handle as the snapshot's data (MakeHandle), which the core delivers as kInstallSnapshot.
// The receiving host lets that message into its core only if it holds the named transfer
// complete, then installs it (GroupHost, behind a crash-safe marker in the LogStore).
//
// Chunk (the body of a bus request; integers little-endian):
//   "SNAP1" | u64 group | u64 leader | u64 transfer | u64 index | u32 seq | u8 last
//           | u64 crc64(records) | records
//   records := { u8 column family | u32 key length | key | u32 value length | value }*
// seq counts from 0 within a transfer; `last` is 1 on the final chunk. Column families are
// numbered as Storage::column_families() numbers them (0 default, 1 metadata, 2 subkeys,
// 3 expiry), come in that order, and keys ascend within each. crc64 is datatypes/rdb.h's.
// Reply: "OK", or "ERR <reason>" (the leader abandons the transfer; its core asks again).
//
// Staging layout, per group: <dir>/<leader>-<transfer>/cf<i>-<n>.sst, then MANIFEST, written
// and synced last: "index <index>\n" followed by one "<cf> <file name>\n" line per file.
// A directory without a MANIFEST is an unfinished transfer.
//
// Limits: a chunk carries about kChunkBytes of records (at least one record, so a single
// value larger than the bus frame limit cannot be sent); one transfer is staged at a time
// (a new one replaces an unfinished one) plus the latest complete one.
//
// Thread-safety: a SnapshotSource belongs to one thread. SnapshotStager is thread-safe
// (chunks arrive on the bus thread; the host thread checks and claims transfers).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>

#include "replication/host/transport.h"

namespace keel {
class Storage;
}

namespace keel::replication {

inline constexpr size_t kChunkBytes = 1u << 20;

struct ChunkHeader {
  GroupId group = 0;
  ReplicaId leader = kNoReplica;
  uint64_t transfer = 0;
  uint64_t index = 0;
  uint32_t seq = 0;
  bool last = false;
};

std::string EncodeChunk(const ChunkHeader& h, std::string_view records);
// Whether `body` is a snapshot chunk at all (its first five bytes).
bool IsChunk(std::string_view body);
// Fails (false) on a truncated chunk or a checksum mismatch.
bool DecodeChunk(std::string_view body, ChunkHeader* h, std::string_view* records);

// The handle a leader gives its core as Snapshot::data, and its parts.
std::string MakeHandle(ReplicaId leader, uint64_t transfer, uint64_t index);
bool ParseHandle(std::string_view handle, ReplicaId* leader, uint64_t* transfer, uint64_t* index);

// Reads the whole store as of one RocksDB snapshot, record by record, into chunks.
class SnapshotSource {
 public:
  SnapshotSource(Storage* storage, GroupId group);
  ~SnapshotSource();
  SnapshotSource(const SnapshotSource&) = delete;
  SnapshotSource& operator=(const SnapshotSource&) = delete;

  // The applied index recorded in the snapshot.
  uint64_t index() const { return index_; }
  // Appends records to *records until about `max_bytes` (at least one record unless the
  // store is exhausted). Returns false once nothing is left (then *records is unchanged).
  bool Next(size_t max_bytes, std::string* records);
  // An iterator error, if any (the transfer must be abandoned).
  rocksdb::Status status() const { return status_; }

 private:
  bool Advance();
  Storage* storage_;
  const rocksdb::Snapshot* snapshot_;
  uint64_t index_ = 0;
  size_t cf_ = 0;
  std::unique_ptr<rocksdb::Iterator> it_;
  rocksdb::Status status_;
};

// A complete staged transfer.
struct StagedSnapshot {
  std::string dir;  // its directory
  ReplicaId leader = kNoReplica;
  uint64_t transfer = 0;
  uint64_t index = 0;
  std::vector<std::vector<std::string>> files;  // per column family, full paths
};

class SnapshotStager {
 public:
  // `dir` holds this group's staging directories (created if missing); whatever an earlier
  // run left there is deleted (the host redoes an interrupted install before this).
  SnapshotStager(std::string dir, GroupId group);
  ~SnapshotStager();

  // Handles one chunk that arrived from replica `from`; returns the reply ("OK" / "ERR ...").
  std::string OnChunk(ReplicaId from, std::string_view body);
  // Whether the transfer named by `handle` is staged complete.
  bool HasComplete(std::string_view handle);
  // Hands the complete transfer named by `handle` to the caller (false if there is none);
  // the stager no longer touches its directory.
  bool Claim(std::string_view handle, StagedSnapshot* out);
  // Reads a complete staging directory's MANIFEST (a restart redoing an install).
  static bool Load(const std::string& dir, StagedSnapshot* out);
  // Deletes a staging directory.
  static void Remove(const std::string& dir);

  uint64_t chunks_received() const;

 private:
  struct Receiving;
  std::string Fail(std::string why);
  // Whether the complete transfer is the one `handle` names (mu_ held).
  bool CompleteIsLocked(std::string_view handle) const;
  std::string FinishLocked();

  std::string dir_;
  GroupId group_;
  mutable std::mutex mu_;
  std::unique_ptr<Receiving> receiving_;
  std::optional<StagedSnapshot> complete_;
  uint64_t chunks_ = 0;
};

}  // namespace keel::replication
