// Persisted key and value formats of Keel's storage layer (see datatypes/README.md).
//
// Pure encode/decode functions and the Metadata value type; no state, thread-safe.
// Every byte layout here reaches disk: change it only with a format version bump.
//
// Column family "metadata" — one record per user key:
//   key   = slot:u16 BE | db:u8 | user_key            (MetaKey)
//   value = type:u8 | expire_at_ms:u64 LE | body       (Metadata)
//     the type byte holds the ValueType in bits 0-3 and a StringEncoding in bits 4-5
//     type kString:   body = the string's bytes
//     compound types: body = version:u64 LE | size:u64 LE | variant:u8 | type-specific rest
//       `variant` is the CompoundEncoding Redis would use for the value (OBJECT ENCODING)
// Column family "subkeys" — elements of compound types (hash fields, set members...):
//   key   = slot:u16 BE | db:u8 | key_len:u32 BE | user_key | version:u64 BE | sub_key
//   The version ties a sub-key to one incarnation of its key, so DEL or overwrite is O(1):
//   sub-keys whose version no longer matches the metadata are dropped by the compaction
//   filter (datatypes/storage.cc, SubkeyFilter).
// Column family "expiry" — an index of keys with a TTL, in expiry order:
//   key   = expire_at_ms:u64 BE | slot:u16 BE | db:u8 | user_key; value empty.
// Column family "default" — server records (db map for SWAPDB, key counters, see storage.h).
//
// Slot first means a hash-slot range is one contiguous range in every keyed family but
// "expiry", which is derived from "metadata" and can be rebuilt from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

// Value types. Explicit values: they are stored in every metadata record.
enum class ValueType : uint8_t {
  kString = 1,
  kHash = 2,
  kSet = 3,
  kZSet = 4,
  kList = 5,
  kStream = 6,
};

// The name TYPE and SCAN TYPE use ("string", "hash", ...).
std::string_view TypeName(ValueType type);
// Parses a TYPE name; nullopt if unknown.
std::optional<ValueType> TypeFromName(std::string_view name);

// How Redis would have encoded a string value, kept so OBJECT ENCODING answers as Redis does.
// Explicit values: stored in the type byte.
enum class StringEncoding : uint8_t {
  kAuto = 0,   // chosen from the content: int, embstr (<= 44 bytes) or raw (SET, MSET, INCR...)
  kRaw = 1,    // modified in place (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP): always raw
  kNoInt = 2,  // built as a plain string (INCRBYFLOAT): embstr or raw by length, never int
};

// Which of Redis's two encodings a compound value would have (OBJECT ENCODING): compact
// (listpack / intset) while small, large (hashtable / skiplist) once any limit was passed;
// like Redis, a value never converts back. Explicit values: stored as the tail's first byte.
enum class CompoundEncoding : uint8_t { kCompact = 0, kLarge = 1 };
// OBJECT ENCODING's name for a value of `type` in variant `variant` (Redis 7.0 names: hash
// listpack/hashtable, set intset/hashtable, zset listpack/skiplist, list quicklist, stream).
std::string_view EncodingName(ValueType type, CompoundEncoding variant);

struct Metadata {
  ValueType type = ValueType::kString;
  StringEncoding encoding = StringEncoding::kAuto;  // strings only
  uint64_t expire_at_ms = 0;                        // absolute Unix time in ms; 0 = no expiry
  uint64_t version = 0;                             // compound types only
  uint64_t size = 0;                                // compound types only: element count

  bool is_compound() const { return type != ValueType::kString; }
  bool ExpiredAt(uint64_t now_ms) const { return expire_at_ms != 0 && expire_at_ms <= now_ms; }
};

inline constexpr size_t kMetaHeaderSize = 1 + 8;
inline constexpr size_t kCompoundHeaderSize = kMetaHeaderSize + 16;
inline constexpr size_t kMetaKeyPrefixSize = 3;  // slot + db

// --- metadata keys ---
std::string MetaKey(uint8_t db, std::string_view user_key);
// The smallest metadata key of (slot, db): the start of that db's part of the slot.
std::string MetaKeyPrefix(uint16_t slot, uint8_t db);
struct DecodedMetaKey {
  uint16_t slot;
  uint8_t db;
  std::string_view user_key;
};
std::optional<DecodedMetaKey> DecodeMetaKey(std::string_view raw);

// --- metadata values ---
// Encodes type/expiry (and version/size for compound types) followed by `tail`.
std::string EncodeMetadata(const Metadata& meta, std::string_view tail = {});
// Decodes the header; `tail` receives what follows it (the string value for kString).
bool DecodeMetadata(std::string_view raw, Metadata* meta, std::string_view* tail);

// --- sub-keys ---
std::string SubKeyPrefix(uint8_t db, std::string_view user_key, uint64_t version);
std::string SubKey(uint8_t db, std::string_view user_key, uint64_t version, std::string_view sub);
struct DecodedSubKey {
  uint16_t slot;
  uint8_t db;
  std::string_view user_key;
  uint64_t version;
  std::string_view sub_key;
};
std::optional<DecodedSubKey> DecodeSubKey(std::string_view raw);

// --- expiry index ---
std::string ExpiryKey(uint64_t expire_at_ms, uint8_t db, std::string_view user_key);
struct DecodedExpiryKey {
  uint64_t expire_at_ms;
  uint8_t db;
  std::string_view user_key;
};
std::optional<DecodedExpiryKey> DecodeExpiryKey(std::string_view raw);

// --- fixed-width helpers ---
void PutFixed64LE(std::string* out, uint64_t v);
uint64_t GetFixed64LE(const char* p);
void PutFixed64BE(std::string* out, uint64_t v);
uint64_t GetFixed64BE(const char* p);
void PutFixed32BE(std::string* out, uint32_t v);
uint32_t GetFixed32BE(const char* p);
void PutFixed32LE(std::string* out, uint32_t v);
uint32_t GetFixed32LE(const char* p);

}  // namespace keel
