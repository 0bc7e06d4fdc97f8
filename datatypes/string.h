// String operations (SET, GET, INCR, APPEND, SETRANGE, the bit commands...) on Storage.
//
// Each function works inside the caller's Txn and never commits it: the server commits after
// the command (or after EXEC). Writes need a kWrite Txn whose caller holds the key's stripe
// lock (see datatypes/storage.h). Pure functions of their arguments otherwise; thread-safe as
// Txn allows. Strings are stored inline in the key's metadata record (datatypes/encoding.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"

namespace keel::strings {

// Reads a string key: nullopt if absent, kWrongType if another type.
Result<std::optional<std::string>> Get(Txn& txn, std::string_view key);

struct SetOptions {
  enum class Condition : uint8_t { kAlways, kIfAbsent /*NX*/, kIfPresent /*XX*/ };
  Condition condition = Condition::kAlways;
  uint64_t expire_at_ms = 0;  // absolute; 0 = none (unless keep_ttl)
  bool keep_ttl = false;
  bool get = false;  // return the old value (GET option); the old value must be a string
};
struct SetOutcome {
  bool written = false;
  std::optional<std::string> old_value;  // only when options.get
};
Result<SetOutcome> Set(Txn& txn, std::string_view key, std::string_view value,
                       const SetOptions& options);

// GETDEL.
Result<std::optional<std::string>> GetDel(Txn& txn, std::string_view key);

// GETEX: `change` decides what happens to the TTL.
struct ExpiryChange {
  enum class Kind : uint8_t { kNone, kPersist, kSetAt } kind = Kind::kNone;
  uint64_t at_ms = 0;  // kSetAt; a time not in the future deletes the key
};
Result<std::optional<std::string>> GetEx(Txn& txn, std::string_view key, ExpiryChange change);

// MSET / MSETNX (pairs: key, value, key, value...). MSetNx returns false and writes nothing
// if any key exists.
Status MSet(Txn& txn, std::span<const std::string_view> pairs);
Result<bool> MSetNx(Txn& txn, std::span<const std::string_view> pairs);

// APPEND and SETRANGE return the new length; STRLEN the length (0 if absent).
Result<int64_t> Append(Txn& txn, std::string_view key, std::string_view suffix, uint64_t max_bytes);
Result<int64_t> SetRange(Txn& txn, std::string_view key, int64_t offset, std::string_view value,
                         uint64_t max_bytes);
Result<int64_t> StrLen(Txn& txn, std::string_view key);

// INCRBY / INCRBYFLOAT (the reply text of INCRBYFLOAT is returned).
Result<int64_t> IncrBy(Txn& txn, std::string_view key, int64_t delta);
Result<std::string> IncrByFloat(Txn& txn, std::string_view key, long double delta);

// Replaces a string key's value keeping its TTL (the read-modify-write of the bit commands).
// `rec` is the record Load returned; it must be absent or a string.
void StoreKeepTtl(Txn& txn, std::string_view key, KeyRecord* rec, std::string_view value,
                  StringEncoding encoding = StringEncoding::kAuto);
// Loads a key that must be absent or a string; *value gets its bytes ("" if absent).
Status LoadString(Txn& txn, std::string_view key, KeyRecord* rec, std::string* value);

// OBJECT ENCODING of a string value, as Redis 7.0 reports it (int, embstr, raw).
std::string_view EncodingOf(std::string_view value,
                            StringEncoding encoding = StringEncoding::kAuto);

}  // namespace keel::strings
