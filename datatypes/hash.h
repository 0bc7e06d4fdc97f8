// Hash operations (HSET, HGET, HDEL, HINCRBY, HRANDFIELD, HSCAN...) on Storage.
//
// Each function works inside the caller's Txn and never commits it (see datatypes/string.h):
// writes need a kWrite Txn whose caller holds the key's stripe lock. Stateless; thread-safe
// as Txn allows.
//
// Persisted format (see datatypes/encoding.h for the metadata record and sub-key layout):
//   metadata: type kHash, size = number of fields,
//             tail = variant:u8 (CompoundEncoding) | next_seq:u64 LE
//   one sub-key per field: sub = the field's bytes,
//             value = seq:varint | the value's bytes
//   `seq` numbers fields in insertion order while the hash is compact, so replies list them
//   as Redis's listpack does (an updated field keeps its place); fields created once the
//   hash is large get seq 0 and replies follow sub-key (byte) order.
// Variant rules (Redis 7.0, one-way): compact ("listpack") until the hash has more than
// kMaxCompactEntries fields, or HSET/HSETNX/HMSET/HINCRBY/HINCRBYFLOAT write a field or
// value longer than kMaxCompactValue bytes; then large ("hashtable") for good.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"

namespace keel::hashes {

// Redis 7.0.15's compiled-in defaults (CONFIG GET on a server started without a config file;
// the sample redis.conf says 128 entries).
inline constexpr uint64_t kMaxCompactEntries = 512;  // hash-max-listpack-entries
inline constexpr size_t kMaxCompactValue = 64;       // hash-max-listpack-value

struct FieldValue {
  std::string field;
  std::string value;
  bool operator==(const FieldValue&) const = default;
};

// HGET: nullopt if the key or field is absent.
Result<std::optional<std::string>> Get(Txn& txn, std::string_view key, std::string_view field);
// HMGET.
Result<std::vector<std::optional<std::string>>> MGet(Txn& txn, std::string_view key,
                                                     std::span<const std::string_view> fields);
// HSET / HMSET: `pairs` is field, value, field, value... Returns how many fields were created.
Result<int64_t> Set(Txn& txn, std::string_view key, std::span<const std::string_view> pairs);
// RESTORE: writes `pairs` (distinct fields) as a new hash at the absent `key`. It is large if
// it has more than kMaxCompactEntries fields or, unless `from_listpack`, a field or value
// longer than kMaxCompactValue: how Redis 7.0 loads RDB_TYPE_HASH and RDB_TYPE_HASH_LISTPACK.
Status Restore(Txn& txn, std::string_view key, std::span<const std::string_view> pairs,
               bool from_listpack);
// HSETNX: false (and nothing written) if the field exists.
Result<bool> SetNx(Txn& txn, std::string_view key, std::string_view field, std::string_view value);

struct DelOutcome {
  int64_t deleted = 0;
  bool key_removed = false;  // the last field went, so the key did
};
// HDEL.
Result<DelOutcome> Del(Txn& txn, std::string_view key, std::span<const std::string_view> fields);

Result<int64_t> Len(Txn& txn, std::string_view key);
Result<int64_t> StrLen(Txn& txn, std::string_view key, std::string_view field);
Result<bool> Exists(Txn& txn, std::string_view key, std::string_view field);
// HGETALL / HKEYS / HVALS: every field, in insertion order while compact.
Result<std::vector<FieldValue>> GetAll(Txn& txn, std::string_view key);

// HINCRBY: kHashNotInteger (the stored value is not an integer), kOverflow.
Result<int64_t> IncrBy(Txn& txn, std::string_view key, std::string_view field, int64_t delta);
// HINCRBYFLOAT: returns the new value as stored; kHashNotFloat (the stored value is not a
// float), kNanOrInfinity.
Result<std::string> IncrByFloat(Txn& txn, std::string_view key, std::string_view field,
                                long double delta);

// HRANDFIELD without a count: nullopt if the key is absent.
Result<std::optional<FieldValue>> RandomField(Txn& txn, std::string_view key, std::mt19937_64& rng);
// HRANDFIELD with a count: count > 0 distinct fields (all of them if count >= HLEN), count < 0
// |count| fields that may repeat.
Result<std::vector<FieldValue>> RandomFields(Txn& txn, std::string_view key, int64_t count,
                                             std::mt19937_64& rng);

struct ScanOutcome {
  uint64_t cursor = 0;
  std::vector<FieldValue> items;
};
// HSCAN: a compact hash is returned whole with cursor 0 (like a listpack); a large one by
// pages of about `count` fields. `pattern` (none = all) filters field names.
Result<ScanOutcome> Scan(Txn& txn, std::string_view key, uint64_t cursor,
                         std::optional<std::string_view> pattern, size_t count);

}  // namespace keel::hashes
