// Sorted-set operations (ZADD, ZREM, ZRANK, ZRANGE in all its forms, ZCOUNT, ZPOP*, ZMPOP,
// ZRANDMEMBER, ZUNION/ZINTER/ZDIFF and their STORE forms, ZINTERCARD, ZSCAN...) on Storage,
// plus the pure parsers of score and lex ranges.
//
// Each function works inside the caller's Txn and never commits it (see datatypes/string.h):
// writes need a kWrite Txn whose caller holds the stripe locks of every key it names.
// Stateless; thread-safe as Txn allows.
//
// Persisted format: metadata type kZSet, size = number of members,
//   tail = variant:u8 (CompoundEncoding) | the rank trie's root record (flags:u8, then if
//          expanded 16 x count:varint; see datatypes/zset_index.h);
// the member map, the order index and the rank trie are sub-keys described in
// datatypes/zset_index.h, all changed in the command's one atomic write.
// Variant rules (Redis 7.0, one-way): compact ("listpack") until a new member makes the set
// exceed kMaxCompactEntries members or is longer than kMaxCompactValue bytes; then large
// ("skiplist"). Like a listpack, a compact set stores -0 as 0; a large one keeps -0.
// Results Redis builds afresh (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE) get the
// variant their size and longest member call for.
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

namespace keel::zsets {

inline constexpr uint64_t kMaxCompactEntries = 128;  // zset-max-listpack-entries
inline constexpr size_t kMaxCompactValue = 64;       // zset-max-listpack-value

struct ScoredMember {
  std::string member;
  double score = 0;
};

// ---- range arguments (pure) ----

struct ScoreBound {
  double value = 0;
  bool exclusive = false;
};
struct ScoreRange {
  ScoreBound min, max;
};
// Parses ZRANGEBYSCORE-style bounds ("1.5", "(1.5", "-inf", "+inf"); false if either is not
// a float (or is NaN), as Redis's zslParseRange.
bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* out);

struct LexBound {
  enum class Kind : uint8_t { kMinusInf, kPlusInf, kInclusive, kExclusive };
  Kind kind = Kind::kMinusInf;
  std::string value;
};
struct LexRange {
  LexBound min, max;
};
// Parses ZRANGEBYLEX-style bounds ("[a", "(a", "-", "+"); false if either is invalid.
bool ParseLexRange(std::string_view min, std::string_view max, LexRange* out);

// Formats a score as ZSCAN and the listpack do (Redis's d2string): integral values in
// (-2^62, 2^62) as integers, others as "%.17g", infinities as "inf"/"-inf".
std::string FormatScanScore(double score);

// ---- single-key operations ----

struct AddOptions {
  bool nx = false, xx = false, gt = false, lt = false, incr = false;
};
struct ScoreMemberArg {
  double score = 0;
  std::string_view member;
};
struct AddOutcome {
  int64_t added = 0;
  int64_t updated = 0;    // existing members whose score changed
  int64_t processed = 0;  // members not skipped by NX/XX/GT/LT
  double score = 0;       // the last processed member's new score (the INCR reply)
};
// ZADD / ZINCRBY. A NaN result of INCR is kScoreNaN. With `xx` and an absent key nothing is
// created.
Result<AddOutcome> Add(Txn& txn, std::string_view key, std::span<const ScoreMemberArg> items,
                       const AddOptions& options);

struct RemOutcome {
  int64_t removed = 0;
  bool key_removed = false;
};
// ZREM.
Result<RemOutcome> Rem(Txn& txn, std::string_view key, std::span<const std::string_view> members);

Result<int64_t> Card(Txn& txn, std::string_view key);
Result<std::optional<double>> Score(Txn& txn, std::string_view key, std::string_view member);
Result<std::vector<std::optional<double>>> MScore(Txn& txn, std::string_view key,
                                                  std::span<const std::string_view> members);
// ZRANK / ZREVRANK: nullopt if the key or member is absent.
Result<std::optional<int64_t>> Rank(Txn& txn, std::string_view key, std::string_view member,
                                    bool reverse);
Result<int64_t> Count(Txn& txn, std::string_view key, const ScoreRange& range);
Result<int64_t> LexCount(Txn& txn, std::string_view key, const LexRange& range);

enum class RangeKind : uint8_t { kRank, kScore, kLex };
struct RangeSpec {
  RangeKind kind = RangeKind::kRank;
  bool reverse = false;
  int64_t start = 0, stop = -1;  // kRank: indexes as given (negative from the end)
  ScoreRange score;              // kScore: min and max (already swapped for REV)
  LexRange lex;                  // kLex: min and max (already swapped for REV)
  int64_t offset = 0;            // LIMIT offset (kScore, kLex); negative = empty result
  int64_t limit = -1;            // LIMIT count; negative = no limit
};
// ZRANGE and its older forms: the members in reply order.
Result<std::vector<ScoredMember>> Range(Txn& txn, std::string_view key, const RangeSpec& spec);
// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX (forward specs without LIMIT).
Result<RemOutcome> RemRange(Txn& txn, std::string_view key, const RangeSpec& spec);

struct StoreOutcome {
  int64_t size = 0;
  bool dst_deleted = false;  // the result was empty and dst existed
};
// ZRANGESTORE.
Result<StoreOutcome> RangeStore(Txn& txn, std::string_view dst, std::string_view src,
                                const RangeSpec& spec);

// RESTORE: writes `items` (distinct members, no NaN) as a new sorted set at the absent `key`.
// It is large if it has more than kMaxCompactEntries members or, unless `from_listpack`, a
// member longer than kMaxCompactValue: how Redis 7.0 loads RDB_TYPE_ZSET_2 and
// RDB_TYPE_ZSET_LISTPACK.
Status Restore(Txn& txn, std::string_view key, std::span<const ScoreMemberArg> items,
               bool from_listpack);

struct PopOutcome {
  std::vector<ScoredMember> items;  // lowest first for ZPOPMIN, highest first for ZPOPMAX
  bool key_removed = false;
};
// ZPOPMIN / ZPOPMAX / ZMPOP: up to `count` members. An absent key pops nothing; kWrongType if
// the key is not a sorted set.
Result<PopOutcome> Pop(Txn& txn, std::string_view key, uint64_t count, bool max);

// ZRANDMEMBER with a count (count > 0: distinct, all in order if count >= ZCARD; count < 0:
// |count| members that may repeat); `count` 1 serves the form without a count.
Result<std::vector<ScoredMember>> RandomMembers(Txn& txn, std::string_view key, int64_t count,
                                                std::mt19937_64& rng);

// ---- multi-key operations (sorted sets and sets; a set's members score 1) ----

enum class SetOp : uint8_t { kUnion, kInter, kDiff };
enum class Aggregate : uint8_t { kSum, kMin, kMax };
struct CombineSpec {
  SetOp op = SetOp::kUnion;
  std::vector<double> weights;  // one per key, or empty for all 1
  Aggregate aggregate = Aggregate::kSum;
};
// ZUNION / ZINTER / ZDIFF: the result in (score, member) order.
Result<std::vector<ScoredMember>> Combine(Txn& txn, std::span<const std::string_view> keys,
                                          const CombineSpec& spec);
// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE.
Result<StoreOutcome> CombineStore(Txn& txn, std::string_view dst,
                                  std::span<const std::string_view> keys, const CombineSpec& spec);
// ZINTERCARD: the intersection's size, stopping at `limit` (0 = no limit).
Result<int64_t> InterCard(Txn& txn, std::span<const std::string_view> keys, uint64_t limit);

struct ScanOutcome {
  uint64_t cursor = 0;
  std::vector<ScoredMember> items;
  bool compact = false;  // scores print as a listpack stores them (FormatScanScore)
};
// ZSCAN: a compact set whole in score order with cursor 0; a large one by pages of about
// `count` members in member order.
Result<ScanOutcome> Scan(Txn& txn, std::string_view key, uint64_t cursor,
                         std::optional<std::string_view> pattern, size_t count);

}  // namespace keel::zsets
