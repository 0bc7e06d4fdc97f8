// Internals shared by datatypes/stream.cc, stream_groups.cc and stream_nodes.cc: the
// persisted format of streams, their record codecs and helpers to load and store them.
// Not part of the public API (include datatypes/stream.h). Stateless; thread-safe as Txn.
//
// Persisted format (see datatypes/encoding.h for the metadata header and sub-key layout):
//   metadata: type kStream, size = number of entries (XLEN),
//     tail = variant:u8 (CompoundEncoding::kCompact = 0, reported as "stream")
//            | last_id:16 | first_id:16 | max_deleted_id:16     (ids are ms:u64 LE, seq:u64 LE)
//            | entries_added:u64 | groups:u64 | nodes:u64 | next_group_id:u64
//            | has_tail:u8 [ | tail master id:16 | tail node record (as 'n' below) ]
//            (all integers LE; the last node's counts are kept here so XADD need not read
//            and rewrite its 'n' record, which is stale while the node is the last)
//   sub-keys of the stream's version, by a leading tag byte (explicit values, below):
//     'e' ms:u64 BE seq:u64 BE -> entry: pairs:u32 | (len:u32 | bytes) * 2 * pairs
//     'n' ms:u64 BE seq:u64 BE -> node: the emulated listpack node whose first (master) entry
//        has that id: live:u64 | deleted:u64 | bytes:u64 | last:16 | fields:u32
//        | (len:u32 | bytes) * fields        (the master entry's field names)
//     'g' group name -> group: id:u64 | last_id:16 | entries_read:i64 | pending:u64
//        | consumers:u64 | max_delivered:16 (greatest id ever delivered: a new entry above
//        it cannot be pending already)
//     'c' group_id:u64 BE | consumer name -> consumer: seen_ms:u64 | pending:u64
//     'p' group_id:u64 BE | ms BE | seq BE -> pending entry (the group's PEL):
//        delivery_ms:u64 | deliveries:u64 | consumer name
//     'q' group_id:u64 BE | name_len:u32 BE | consumer name | ms BE | seq BE -> "" (the
//        consumer's own PEL, an index of 'p')
// Big-endian ids in keys make RocksDB's order the id order; groups and consumers sort by name
// as Redis's radix trees do. A group's records are keyed by its numeric id so a group
// re-created under the same name never sees the old one's consumers or PEL.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/stream.h"

namespace keel::streams::internal {

// Sub-key tags. Explicit values: they are stored.
enum class Tag : char {
  kEntry = 'e',
  kNode = 'n',
  kGroup = 'g',
  kConsumer = 'c',
  kPel = 'p',
  kConsumerPel = 'q',
};

// Redis's defaults for stream-node-max-entries / stream-node-max-bytes.
inline constexpr uint64_t kNodeMaxEntries = 100;
inline constexpr uint64_t kNodeMaxBytes = 4096;

struct Node {
  StreamId master;
  uint64_t live = 0, deleted = 0, bytes = 0;
  StreamId last;
  std::vector<std::string> master_fields;
};
struct Meta {
  StreamId last_id, first_id, max_deleted_id;
  uint64_t entries_added = 0;
  uint64_t groups = 0;
  uint64_t nodes = 0;
  uint64_t next_group_id = 1;
  // The last node (the one XADD appends to). Its counts live here, not in its 'n' record,
  // which is only brought up to date when another node becomes the last.
  bool has_tail = false;
  Node tail;
};
std::string EncodeMeta(const Meta& m);
Meta DecodeMeta(std::string_view tail);

// A stream key loaded in a transaction.
struct State {
  KeyRecord rec;
  Meta meta;
  uint64_t length = 0;
  uint64_t version() const { return rec.meta.version; }
  bool exists() const { return rec.exists; }
  StreamInfo Info() const;
};
// Loads `key`: ok with !exists() if absent, kWrongType if not a stream.
Status Load(Txn& txn, std::string_view key, State* st);
// Creates a new, empty stream incarnation in `st` (not yet stored).
void Init(Txn& txn, State* st);
// Writes the metadata record (streams stay even when empty).
void Store(Txn& txn, std::string_view key, State* st);

// --- sub-keys ---
void PutId(std::string* out, StreamId id);  // BE
StreamId GetId(const char* p);              // BE
std::string EntryKey(StreamId id);
std::string NodeKey(StreamId id);
std::string GroupKey(std::string_view name);
std::string ConsumerPrefix(uint64_t gid);
std::string ConsumerKey(uint64_t gid, std::string_view name);
std::string PelPrefix(uint64_t gid);
std::string PelKey(uint64_t gid, StreamId id);
std::string ConsumerPelPrefix(uint64_t gid, std::string_view consumer);
std::string ConsumerPelKey(uint64_t gid, std::string_view consumer, StreamId id);

// --- records ---
std::string EncodeFields(std::span<const std::string_view> fields);
bool DecodeFields(std::string_view raw, std::vector<std::string>* fields);

std::string EncodeNode(const Node& n);
bool DecodeNode(StreamId master, std::string_view raw, Node* n);

struct Group {
  std::string name;
  uint64_t gid = 0;
  StreamId last_id;
  int64_t entries_read = kEntriesReadUnknown;
  uint64_t pending = 0;
  uint64_t consumers = 0;
  StreamId max_delivered;
};
std::string EncodeGroup(const Group& g);
bool DecodeGroup(std::string_view name, std::string_view raw, Group* g);

struct Consumer {
  std::string name;
  uint64_t seen_ms = 0;
  uint64_t pending = 0;
};
std::string EncodeConsumer(const Consumer& c);
bool DecodeConsumer(std::string_view name, std::string_view raw, Consumer* c);

struct Nack {
  uint64_t delivery_ms = 0;
  uint64_t deliveries = 0;
  std::string consumer;
};
std::string EncodeNack(const Nack& n);
bool DecodeNack(std::string_view raw, Nack* n);

// --- reading sub-keys ---
Status Get(Txn& txn, std::string_view key, const State& st, std::string_view sub,
           std::string* value, bool* found);

// Walks the sub-keys of `st` that start with `prefix`, from `from` (a full sub-key, >= prefix)
// forward, or backward from `from` when reverse; fn(sub_key_after_prefix, value) returns
// false to stop. Sees the transaction's pending writes. Do not write to the transaction from
// fn (collect first).
Status Walk(Txn& txn, std::string_view key, const State& st, std::string_view prefix,
            std::string_view from, bool reverse,
            const std::function<bool(std::string_view, std::string_view)>& fn);

// Entries with ids in [start, end], ascending (or descending), at most `count` (0 = all).
Status ReadEntries(Txn& txn, std::string_view key, const State& st, StreamId start, StreamId end,
                   uint64_t count, bool reverse, std::vector<Entry>* out);
// One entry, if present.
Status ReadEntry(Txn& txn, std::string_view key, const State& st, StreamId id,
                 std::optional<Entry>* out);

// --- emulated listpack nodes (stream_nodes.cc) ---
// Accounts for a new entry appended to the stream (before st->meta.last_id is updated).
Status NodeAppend(Txn& txn, std::string_view key, State* st, StreamId id,
                  std::span<const std::string_view> fields);
// Accounts for the deletion of entry `id` (XDEL) and deletes it.
Status NodeDeleteEntry(Txn& txn, std::string_view key, State* st, StreamId id);
// XTRIM / XADD trimming: deletes entries as Redis would; returns how many.
Result<int64_t> NodeTrim(Txn& txn, std::string_view key, State* st, const TrimSpec& spec);
// The ids of every node (radix tree keys), ascending.
Status NodeIds(Txn& txn, std::string_view key, const State& st, std::vector<StreamId>* out);
// The number of radix tree nodes Redis would use for these keys.
uint64_t RaxNodeCount(const std::vector<StreamId>& keys);

// Re-reads the first entry id after deletions (0-0 if empty).
Status RefreshFirstId(Txn& txn, std::string_view key, State* st);

// --- groups (stream_groups.cc uses these; defined there) ---
bool RangeHasTombstones(const State& st, StreamId start, std::optional<StreamId> end);
int64_t EstimateEntriesRead(const State& st, StreamId id);
std::optional<int64_t> Lag(const State& st, const Group& g);

}  // namespace keel::streams::internal
