// Set operations (SADD, SREM, SPOP, SMOVE, SINTER/SUNION/SDIFF and their STORE forms,
// SINTERCARD, SRANDMEMBER, SSCAN...) on Storage.
//
// Each function works inside the caller's Txn and never commits it (see datatypes/string.h):
// writes need a kWrite Txn whose caller holds the stripe locks of every key it names.
// Stateless; thread-safe as Txn allows.
//
// Persisted format (see datatypes/encoding.h for the metadata record and sub-key layout):
//   metadata: type kSet, size = number of members, tail = variant:u8 (CompoundEncoding)
//   one sub-key per member: sub = the member's bytes, value = empty
// Variant rules (Redis 7.0, one-way except where Redis rebuilds a set): compact ("intset")
// while every member is an integer in Redis's strict sense (ParseInt64) and there are at
// most kMaxIntsetEntries members; large ("hashtable") otherwise. A compact set replies in
// ascending numeric order, as an intset does. Sets Redis builds afresh (the STORE commands,
// SMOVE's new destination, what SPOP leaves when it pops most of a set) get the variant
// their members call for.
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

namespace keel::sets {

inline constexpr uint64_t kMaxIntsetEntries = 512;  // set-max-intset-entries

// True if `member` can live in an intset.
bool IsIntsetMember(std::string_view member);

// SADD: returns how many members were added.
Result<int64_t> Add(Txn& txn, std::string_view key, std::span<const std::string_view> members);

struct RemOutcome {
  int64_t removed = 0;
  bool key_removed = false;
};
// SREM.
Result<RemOutcome> Rem(Txn& txn, std::string_view key, std::span<const std::string_view> members);

Result<int64_t> Card(Txn& txn, std::string_view key);
Result<bool> IsMember(Txn& txn, std::string_view key, std::string_view member);
Result<std::vector<bool>> MIsMember(Txn& txn, std::string_view key,
                                    std::span<const std::string_view> members);
// SMEMBERS: every member in reply order.
Result<std::vector<std::string>> Members(Txn& txn, std::string_view key);

// SRANDMEMBER without a count: nullopt if the key is absent.
Result<std::optional<std::string>> RandomMember(Txn& txn, std::string_view key,
                                                std::mt19937_64& rng);
// SRANDMEMBER with a count (count > 0: distinct, all if count >= SCARD; count < 0: |count|
// members that may repeat).
Result<std::vector<std::string>> RandomMembers(Txn& txn, std::string_view key, int64_t count,
                                               std::mt19937_64& rng);

struct PopOutcome {
  std::vector<std::string> members;  // in reply order
  bool key_removed = false;
};
// SPOP (count >= 0 for the count form; nullopt for the single-member form).
Result<PopOutcome> Pop(Txn& txn, std::string_view key, std::optional<uint64_t> count,
                       std::mt19937_64& rng);

struct MoveOutcome {
  bool moved = false;        // the reply (1/0)
  bool src_changed = false;  // srem on src
  bool src_removed = false;  // src became empty
  bool dst_changed = false;  // sadd on dst
};
// SMOVE.
Result<MoveOutcome> Move(Txn& txn, std::string_view src, std::string_view dst,
                         std::string_view member);

enum class SetOp : uint8_t { kUnion, kInter, kDiff };
// SUNION / SINTER / SDIFF: the result in reply order.
Result<std::vector<std::string>> Compute(Txn& txn, std::span<const std::string_view> keys,
                                         SetOp op);
// SINTERCARD: the intersection's size, stopping at `limit` (0 = no limit).
Result<int64_t> InterCard(Txn& txn, std::span<const std::string_view> keys, uint64_t limit);

struct StoreOutcome {
  int64_t size = 0;
  bool dst_deleted = false;  // the result was empty and dst existed before
};
// SUNIONSTORE / SINTERSTORE / SDIFFSTORE.
Result<StoreOutcome> Store(Txn& txn, std::string_view dst, std::span<const std::string_view> keys,
                           SetOp op);

struct ScanOutcome {
  uint64_t cursor = 0;
  std::vector<std::string> members;
};
// SSCAN: a compact set whole with cursor 0, a large one by pages of about `count`.
Result<ScanOutcome> Scan(Txn& txn, std::string_view key, uint64_t cursor,
                         std::optional<std::string_view> pattern, size_t count);

}  // namespace keel::sets
