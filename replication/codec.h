// Byte encodings of the Paxos core's persisted state and wire messages.
//
// Pure functions; no state; safe from any thread. The core itself never encodes anything:
// hosts call these to write Ready::hard_state / entries / snapshot meta to disk and to put
// Messages on the wire. Decoders validate every length and enum value and return
// Status::kCorrupt instead of reading past the input or accepting unknown values.
//
// All integers are little-endian fixed width (u8, u32, u64). Strings and lists are a u32
// count followed by the bytes or elements. Every top-level record starts with a format
// version byte (currently 1); a decoder refuses versions it does not know.
//
//   Ballot       := u64 round, u64 replica
//   HardState    := u8 version=1, Ballot promised, u64 commit
//   Entry        := u8 version=1, u64 index, Ballot ballot, u8 type, u64 client_id,
//                   u64 client_seq, u32 len, payload[len]
//   IdList       := u32 n, u64 id[n]
//   Membership   := IdList voters, IdList learners, IdList removed
//   SnapshotMeta := u8 version=1, u64 index, Membership
//   ConfChange   := u8 version=1, u8 type, u64 replica, IdList voters
//   Message      := u8 version=1, u8 type, u64 from, u64 to, Ballot ballot, u8 reject,
//                   u64 index, u64 commit, u64 hint, u64 round, u32 n, Entry[n],
//                   u8 has_snapshot, [SnapshotMeta, u32 len, data[len]], u32 len, context[len]
//
// Suggested RocksDB layout for a host (one column family per group, or a group prefix):
// key "h" -> HardState, key "s" -> SnapshotMeta, key "e" + big-endian u64 index -> Entry.
// Each Ready's hard state and entries go into one WriteBatch written with sync=true.
#pragma once

#include <string>
#include <string_view>

#include "replication/types.h"

namespace keel::replication {

std::string EncodeHardState(const HardState& hs);
Status DecodeHardState(std::string_view in, HardState* out);

std::string EncodeEntry(const Entry& e);
Status DecodeEntry(std::string_view in, Entry* out);

std::string EncodeSnapshotMeta(const SnapshotMeta& meta);
Status DecodeSnapshotMeta(std::string_view in, SnapshotMeta* out);

std::string EncodeConfChange(const ConfChange& cc);
Status DecodeConfChange(std::string_view in, ConfChange* out);

std::string EncodeMessage(const Message& m);
Status DecodeMessage(std::string_view in, Message* out);

}  // namespace keel::replication
