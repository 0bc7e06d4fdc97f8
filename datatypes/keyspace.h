// Generic key operations (DEL, EXISTS, TYPE, EXPIRE family, RENAME, COPY, MOVE, KEYS, SCAN,
// RANDOMKEY, DUMP/RESTORE) that work on a key of any type.
//
// Functions taking a Txn follow datatypes/string.h: they never commit, writes need a kWrite
// Txn with the keys' stripes locked. Functions taking Storage iterate committed data without
// locks. ScanCursors is thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"

namespace keel::keys {

Result<bool> Exists(Txn& txn, std::string_view key);
Result<std::optional<ValueType>> Type(Txn& txn, std::string_view key);
Result<bool> Delete(Txn& txn, std::string_view key);

enum class ExpireCondition : uint8_t { kAlways, kNX, kXX, kGT, kLT };
// Sets the key's expiry to `at_ms` (absolute). A time not in the future deletes the key.
// Returns false if the key is absent or the condition is not met.
Result<bool> ExpireAt(Txn& txn, std::string_view key, int64_t at_ms, ExpireCondition cond);
// TTL in ms: -2 if absent, -1 if no expiry.
Result<int64_t> TtlMs(Txn& txn, std::string_view key);
// EXPIRETIME in ms: -2 if absent, -1 if no expiry.
Result<int64_t> ExpireTimeMs(Txn& txn, std::string_view key);
Result<bool> Persist(Txn& txn, std::string_view key);

// RENAME / RENAMENX: kNoSuchKey if `src` is absent; false if nx and `dst` exists.
Result<bool> Rename(Txn& txn, std::string_view src, std::string_view dst, bool nx);
// COPY into logical db `dst_db`: false if `dst` exists and !replace, kNoSuchKey never
// (absent src returns false).
Result<bool> Copy(Txn& txn, std::string_view src, std::string_view dst, int dst_db, bool replace);
// MOVE: false if the key is absent here or exists in `dst_db`.
Result<bool> Move(Txn& txn, std::string_view key, int dst_db);

// DUMP payload (nullopt if absent) and RESTORE. RESTORE takes Redis 7.0's payloads of every
// type but the ziplist-based ones Redis 7.0 no longer writes, with the OBJECT ENCODING
// Redis 7.0 gives the restored value.
Result<std::optional<std::string>> Dump(Txn& txn, std::string_view key);
struct RestoreOptions {
  int64_t ttl_ms = 0;  // 0 = none; relative unless absolute
  bool absolute_ttl = false;
  bool replace = false;
};
Status Restore(Txn& txn, std::string_view key, std::string_view payload,
               const RestoreOptions& options);

// KEYS, SCAN and RANDOMKEY read the transaction's db, including the keys its pending writes
// created or deleted (earlier commands of the same MULTI/EXEC or pipeline).

// Every live key of the transaction's db matching a glob pattern.
Result<std::vector<std::string>> Keys(Txn& txn, std::string_view pattern);

// Remembers where SCAN cursors stopped. A cursor is (slot << 40 | token); token 0 means
// "from the start of the slot". Tokens are forgotten oldest-first past `capacity`; a
// forgotten token restarts its slot (SCAN may then repeat keys, as Redis's may, but never
// misses one).
class ScanCursors {
 public:
  explicit ScanCursors(size_t capacity = 65536) : capacity_(capacity) {}
  uint64_t Save(uint16_t slot, std::string meta_key);
  std::optional<std::string> Find(uint64_t cursor);

 private:
  std::mutex mu_;
  size_t capacity_;
  uint64_t next_token_ = 1;
  std::unordered_map<uint64_t, std::string> keys_;
  std::deque<uint64_t> order_;
};

struct ScanResult {
  uint64_t cursor = 0;
  std::vector<std::string> keys;
};
// SCAN: examines about `count` keys from `cursor`, returning those matching `pattern`
// (nullopt = all; "" matches only the empty key, as in Redis) and `type` (if given).
Result<ScanResult> Scan(Txn& txn, ScanCursors& cursors, uint64_t cursor,
                        std::optional<std::string_view> pattern, size_t count,
                        std::optional<ValueType> type);

// A random live key, nullopt if the db is empty.
Result<std::optional<std::string>> RandomKey(Txn& txn, std::mt19937_64& rng);

}  // namespace keel::keys
