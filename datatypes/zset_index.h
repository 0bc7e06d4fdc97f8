// The on-disk indexes of one sorted set: member -> score, the order-preserving (score, member)
// index, and the counted prefix trie over the order index that answers rank queries (ZRANK,
// ZRANGE by index, ZCOUNT, ZLEXCOUNT, offsets) without scanning.
//
// Part of the sorted-set implementation (datatypes/zset.h). A ZSetIndex is a short-lived view
// bound to one Txn and one key incarnation, used by one thread for one command; it keeps the
// element count and the root's flags, which the caller persists in the key's metadata. Every
// change is written through the Txn, so the member map, the order index and the counters
// change in the same atomic RocksDB write.
//
// Persisted format — sub-keys of the key's incarnation (see datatypes/encoding.h):
//   'm' | member                      -> score: u64 BE, the IEEE-754 bits of the exact double
//   's' | OrderedScore(score) | member -> "" , or "-" when the score is -0.0
//   'c' | depth:u32 BE | prefix        -> count:varint | flags:u8
// OrderedScore maps doubles to 8 big-endian bytes whose byte order is numeric order (-0.0 is
// mapped like +0.0: Redis orders them as equal). An order-index entry's "key" below is
// OrderedScore(score) | member, so byte order of keys is Redis's (score, member) order.
//
// Rank trie: node p (a byte string) counts the entries whose key starts with p; its children
// are p|b for each byte b. The root (p = "") is the whole set; its count is the set's size
// and its flags live in the metadata tail. A node is *expanded* once it has held more than
// kExpandThreshold entries: from then on, counter records exist for all its non-empty
// children ('c' records, flag kExpanded set on the node), maintained by every insert and
// erase in O(depth). Unexpanded nodes hold at most kExpandThreshold entries and are resolved
// by scanning the order index. Flag kTerminal says an entry's key equals p itself (a member
// that is a prefix of another with the same score). Nodes are never collapsed; a node whose
// count drops to 0 loses its record.
//   Rank(key): walk from the root; at each expanded node add the counts of the children
//   before the key's next byte (one short range scan over 'c' records, at most 256), then
//   descend; at the first unexpanded node count the (<= threshold) entries before the key.
//   Select(r) is the same walk, choosing the child where r falls.
// Cost: depth = the length of the longest key prefix shared by more than kExpandThreshold
// entries (about log256(N / threshold) + the bytes of the score that are equal across the
// set, so 3-6 for 10M distinct scores). Insert/erase read and write one counter per level;
// rank/select read at most 256 counters per level plus <= threshold index entries. Worst
// case — many members with one score — the walk continues through the members' bytes, so
// the depth grows with the length of the prefix those members share (members "m:0000001"..
// "m:9999999" at one score: ~20 levels, each a point read on insert).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"

namespace keel::zsets {

// Sub-key spaces of a sorted set. Explicit values: they are stored.
inline constexpr char kMemberSpace = 'm';
inline constexpr char kIndexSpace = 's';
inline constexpr char kCountSpace = 'c';

// Counter record flags and the root flag byte in the metadata tail. Stored.
inline constexpr uint8_t kExpanded = 1;
inline constexpr uint8_t kTerminal = 2;

// A node holding more entries than this gets its children counted.
inline constexpr uint64_t kExpandThreshold = 64;

// 8 bytes whose byte order is the numeric order of doubles (NaN excluded; -0 == +0).
std::string OrderedScore(double score);
double ScoreFromOrdered(std::string_view bytes);
// The 8-byte big-endian successor of an OrderedScore (for "score <= max" bounds).
std::string NextOrdered(std::string_view ordered);

// An order-index entry as read back.
struct IndexEntry {
  std::string key;  // OrderedScore | member
  double score = 0;
  std::string_view member() const { return std::string_view(key).substr(8); }
};

class ZSetIndex {
 public:
  ZSetIndex(Txn& txn, std::string_view key, uint64_t version, uint64_t size, uint8_t root_flags);

  uint64_t size() const { return size_; }
  uint8_t root_flags() const { return root_flags_; }

  // The score of `member`, nullopt if absent.
  Result<std::optional<double>> Score(std::string_view member);

  // Adds an absent member (or, with `old_score`, moves a present one to a new score).
  Status Insert(std::string_view member, double score);
  Status Update(std::string_view member, double old_score, double new_score);
  Status Erase(std::string_view member, double score);

  // Number of entries whose key is < `bound` (any byte string).
  Result<uint64_t> Rank(std::string_view bound);
  // The entry at 0-based rank r (r < size()).
  Result<IndexEntry> Select(uint64_t r);
  // `n` consecutive entries from rank `r` (fewer at the end).
  Status Range(uint64_t r, uint64_t n, std::vector<IndexEntry>* out);

  // Writes a whole new incarnation from entries sorted by key, with no duplicate members.
  // Only for an incarnation with nothing written yet (size() == 0).
  Status BulkLoad(const std::vector<std::pair<std::string, double>>& sorted_members);

 private:
  struct Node {
    uint64_t count = 0;
    uint8_t flags = 0;
  };
  std::string NodeKey(std::string_view prefix) const;
  Status ReadNode(std::string_view prefix, Node* node, bool* found);
  void WriteNode(std::string_view prefix, const Node& node);
  void DeleteNode(std::string_view prefix);
  void PutEntry(std::string_view ikey, double score);
  // Counts (and flags) the subtree of `prefix` from its entries' keys (sorted, all starting
  // with `prefix`): writes the records of its children, expanding any above the threshold.
  // Returns the node's own flags (kExpanded, plus kTerminal if an entry equals `prefix`).
  uint8_t BuildChildren(std::string_view prefix, const std::vector<std::string_view>& keys);
  // The keys of all entries under `prefix`, in order.
  Status CollectKeys(std::string_view prefix, std::vector<std::string>* out);
  Status InsertKey(std::string_view ikey);
  Status EraseKey(std::string_view ikey);

  Txn& txn_;
  std::string key_;
  uint64_t version_;
  uint64_t size_;
  uint8_t root_flags_;
};

}  // namespace keel::zsets
