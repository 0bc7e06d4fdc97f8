// List operations (LPUSH, RPOP, LRANGE, LINSERT, LMOVE...) on Storage.
//
// Each function works inside the caller's Txn and never commits it (see datatypes/string.h):
// writes need a kWrite Txn whose caller holds the stripe locks of every key touched. Stateless
// functions; thread-safe as Txn allows.
//
// Persisted format (datatypes/encoding.h gives the metadata header and sub-key layout):
//   metadata: type kList, size = number of elements,
//             tail = variant:u8 (CompoundEncoding::kCompact = 0, reported as "quicklist")
//                    | head:u64 LE
//   elements: sub-key = index:u64 BE -> the element's bytes
// The elements occupy the contiguous indices [head, head + size). A new list starts at
// head = 2^63, so LPUSH decrements head and RPUSH appends at head + size: both ends are O(1)
// (one metadata read, one element write, one metadata write) however long the list is.
// A tail without the head field (only the variant byte, or nothing) reads as head = 0.
//
// Costs (N = length, k = elements touched): push/pop O(1) per element; LINDEX, LSET O(1)
// (one point read/write); LRANGE O(S + k) with one seek; LINSERT O(p) to find the pivot at
// position p plus O(min(p, N - p)) element moves to open the gap (the shorter side shifts);
// LREM O(N) scan plus O(min(i, N - j)) moves where i..j span the removed elements; LTRIM
// O(min(removed, kept)): it deletes the trimmed elements or, when fewer are kept, copies the
// kept ones into a fresh incarnation (the old one is reclaimed by compaction); LPOS O(N).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"

namespace keel::lists {

enum class End : uint8_t { kLeft = 0, kRight = 1 };

// The head index of a new list (see the format above).
inline constexpr uint64_t kInitialHead = uint64_t{1} << 63;

// Encodes / decodes the list's metadata tail.
std::string EncodeTail(uint64_t head);
uint64_t DecodeHead(std::string_view tail);
// The sub-key of the element at absolute index `index`.
std::string ElementSubKey(uint64_t index);

// LPUSH / RPUSH / LPUSHX / RPUSHX: pushes `elements` one by one at `end`. With
// `only_if_exists` an absent key is left absent and 0 is returned. Returns the new length.
Result<int64_t> Push(Txn& txn, std::string_view key, std::span<const std::string_view> elements,
                     End end, bool only_if_exists);

struct PopResult {
  bool existed = false;  // the key held a list
  bool emptied = false;  // the pop removed the last element (the key is gone)
  std::vector<std::string> elements;
};
// LPOP / RPOP: pops up to `count` elements from `end`.
Result<PopResult> Pop(Txn& txn, std::string_view key, End end, uint64_t count);

// LLEN (0 if absent).
Result<int64_t> Len(Txn& txn, std::string_view key);

// LRANGE with Redis's index rules (negative counts from the end, out-of-range clamped).
Result<std::vector<std::string>> Range(Txn& txn, std::string_view key, int64_t start, int64_t stop);

// LINDEX: nullopt if the key is absent or the index out of range.
Result<std::optional<std::string>> Index(Txn& txn, std::string_view key, int64_t index);

// LSET: kNoSuchKey if absent, kOutOfRange if the index is.
Status Set(Txn& txn, std::string_view key, int64_t index, std::string_view element);

// LINSERT: the new length, 0 if the key is absent, -1 if `pivot` is not found.
Result<int64_t> Insert(Txn& txn, std::string_view key, bool before, std::string_view pivot,
                       std::string_view element);

struct RemoveResult {
  int64_t removed = 0;
  bool emptied = false;
};
// LREM: count > 0 removes the first `count` matches from the head, count < 0 from the tail,
// 0 every match.
Result<RemoveResult> Remove(Txn& txn, std::string_view key, int64_t count,
                            std::string_view element);

struct TrimResult {
  bool existed = false;
  bool emptied = false;
};
// LTRIM with LRANGE's index rules.
Result<TrimResult> Trim(Txn& txn, std::string_view key, int64_t start, int64_t stop);

struct PosOptions {
  int64_t rank = 1;    // 1 = first match from the head, -1 = first from the tail; never 0
  int64_t count = 1;   // matches wanted; 0 = all
  int64_t maxlen = 0;  // elements compared at most; 0 = all
};
// LPOS: the indexes of the matches (at most `count`), in scan order.
Result<std::vector<int64_t>> Pos(Txn& txn, std::string_view key, std::string_view element,
                                 const PosOptions& options);

struct MoveResult {
  std::optional<std::string> element;  // nullopt: the source was absent
  bool source_emptied = false;
};
// LMOVE / RPOPLPUSH: pops from `src` at `from` and pushes to `dst` at `to`. kWrongType if
// either key holds another type (checked before anything moves).
Result<MoveResult> Move(Txn& txn, std::string_view src, std::string_view dst, End from, End to);

// Whether `key` is absent (false) or a list (true); kWrongType otherwise. Blocking commands
// check every key this way before blocking.
Result<bool> IsList(Txn& txn, std::string_view key);

}  // namespace keel::lists
