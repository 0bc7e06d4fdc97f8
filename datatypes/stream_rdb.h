// Streams in DUMP / RESTORE payloads, interchangeable with Redis 7.0.
//
// Redis 7.0 (RDB version 10) writes a stream as RDB_TYPE_STREAM_LISTPACKS_2 (type byte 19):
//
//   nodes:len  ( master_id:string(16 bytes, ms BE | seq BE)  listpack:string ) * nodes
//   length:len  last_id(ms:len seq:len)  first_id(ms seq)  max_deleted_id(ms seq)
//   entries_added:len
//   groups:len  ( name:string  last_id(ms seq)  entries_read:len (-1 as a 64-bit length)
//                 pel:len ( id:16 raw BE  delivery_ms:8 LE  deliveries:len ) * pel
//                 consumers:len ( name:string  seen_ms:8 LE  pel:len ( id:16 raw ) * pel )
//                 * consumers ) * groups
//
// and it still loads the older RDB_TYPE_STREAM_LISTPACKS (15), which lacks first_id,
// max_deleted_id, entries_added and the groups' entries_read (they are derived on load).
// (RDB_TYPE_STREAM_LISTPACKS_3 = 21, with consumers' active time, is Redis 7.2's: RDB version
// 11, which Redis 7.0, and therefore Keel, rejects as "DUMP payload version or checksum are
// wrong".)
//
// Each node's listpack is Redis's stream node layout (t_stream.c):
//   master entry:  count | deleted | num-fields | field_1 ... field_N | 0
//   each entry:    flags | ms-diff | seq-diff | num-fields | field_1 | value_1 ... field_N
//                  | value_N | lp-count
//   or, when the entry has the master entry's fields (flag 2):
//                  flags | ms-diff | seq-diff | value_1 ... value_N | lp-count
// flags: 1 = deleted, 2 = same fields as the master entry (field names omitted); the id is
// the node's master id plus the diffs; lp-count is the number of elements before it.
//
// Keel keeps the boundaries, counts and byte size of each node Redis would have built, but not
// the contents of deleted entries. DUMP therefore writes each node's deleted entries as
// field-less tombstones: at the node's master id, before the live entries, and, when the
// node's last entry was deleted, one with that id after them (Redis reads a node's last id from
// its last entry to trim by MINID). One tombstone carries padding (a wider integer encoding of
// its flags and/or a filler field) so that the listpack has the size Keel recorded, which
// Redis uses to decide when to start a new node. Redis skips tombstones wherever it iterates,
// so it treats these exactly like the ones they stand for. RESTORE takes the node layout
// (counts, size, last id) from the listpacks as they are.
//
// Stateless functions; thread-safe as Txn allows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"
#include "datatypes/stream.h"

namespace keel::streams {

// A stream object decoded from a payload and validated, not yet stored.
struct RdbStream {
  struct Node {
    StreamId master;
    uint64_t deleted = 0;  // tombstones in the listpack
    uint64_t bytes = 0;    // the listpack's size
    StreamId last;         // the id of its last entry, deleted or not
    std::vector<std::string> master_fields;
    std::vector<Entry> entries;  // the live ones
  };
  struct Nack {
    StreamId id;
    uint64_t delivery_ms = 0;
    uint64_t deliveries = 0;
    std::string consumer;
  };
  struct Consumer {
    std::string name;
    uint64_t seen_ms = 0;
    uint64_t pending = 0;
  };
  struct Group {
    std::string name;
    StreamId last_id;
    int64_t entries_read = kEntriesReadUnknown;
    std::vector<Nack> pel;  // ascending ids
    std::vector<Consumer> consumers;
  };
  uint8_t rdb_type = 0;
  std::vector<Node> nodes;
  uint64_t length = 0;
  StreamId last_id, first_id, max_deleted_id;
  uint64_t entries_added = 0;
  std::vector<Group> groups;
};

// True for the stream object types RESTORE accepts (15 and 19).
bool IsRdbStreamType(uint8_t rdb_type);

// Decodes the object that follows a stream type byte. Errors: kBadDataFormat for anything
// malformed or inconsistent (a listpack that does not parse, counts that do not add up, ids
// out of order, a pending entry without an owner or with two...).
Result<RdbStream> DecodeRdbStream(uint8_t rdb_type, std::string_view object);

// Writes `stream` as a new incarnation of `key`, replacing whatever `rec` (Load's result for
// `key` in this transaction) holds; expire_at_ms 0 = no TTL.
Status StoreRdbStream(Txn& txn, std::string_view key, KeyRecord* rec, const RdbStream& stream,
                      uint64_t expire_at_ms);

// The DUMP body (type byte 19 + object, without the footer) of the stream at `key`.
// kWrongType if `key` is not a stream, kNoSuchKey if absent.
Result<std::string> EncodeRdbStream(Txn& txn, std::string_view key);

}  // namespace keel::streams
