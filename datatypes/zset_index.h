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
//   'm' | member                       -> score: u64 BE, the IEEE-754 bits of the exact double
//   's' | OrderedScore(score) | member  -> "" , or "-" when the score is -0.0
//   'c' | depth:u32 BE | prefix         -> node record:  flags:u8 | 16 x count:varint
//   'g' | depth:u32 BE | prefix | hi:u8 -> group record: 16 x count:varint
// OrderedScore maps doubles to 8 big-endian bytes whose byte order is numeric order (-0.0 is
// mapped like +0.0: Redis orders them as equal). An order-index entry's "key" below is
// OrderedScore(score) | member, so byte order of keys is Redis's (score, member) order.
//
// Rank trie: node p (a byte string) stands for the entries whose key starts with p; its
// children are p|b for each byte b, grouped by the high nibble of b. A node is *expanded* once
// it has held more than kExpandThreshold entries: from then on it has a node record (flag
// kExpanded; kTerminal if an entry's key equals p, i.e. a member that is a prefix of another
// with the same score) with the entry counts of its 16 child groups, and a group record per
// non-empty group with the entry counts of the group's 16 children. Both are kept exact by
// every insert and erase. The root (p = "") is always a node; its record lives in the metadata
// tail and its count is the set's size. Unexpanded nodes hold at most kExpandThreshold entries
// and are resolved by scanning the order index. Nodes never collapse; records of nodes and
// groups whose count falls to 0 are deleted.
//   Rank(key): walk from the root; at each expanded node add the counts of the groups before
//   the key's next byte's high nibble (node record) and of the children before it in its group
//   (group record), then descend; at the first unexpanded node count its (<= threshold)
//   entries before the key. Select(r) is the same walk, choosing the group and child where r
//   falls. Only point reads: an iterator is opened for the final scan alone. (Point reads find
//   the newest version of a counter at once; scanning counters would step over every version
//   of them the memtable still holds, and the upper ones change on every insert.)
// Cost: depth = the length of the longest key prefix shared by more than kExpandThreshold
// entries (about log256(N / threshold) + the bytes of the score that are equal across the
// set, so 4-6 for 10M distinct scores). Rank/select: 2 point reads per level plus <= threshold
// index entries; insert/erase: 2 point reads and 2 writes per level. Worst case — many members
// with one score — the walk continues through the members' bytes, so the depth grows with the
// length of the prefix those members share (members "m:0000001".."m:9999999" at one score:
// ~20 levels).
#pragma once

#include <cstdint>
#include <map>
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
inline constexpr char kNodeSpace = 'c';
inline constexpr char kGroupSpace = 'g';

// Node record flags (the first byte of a node record and of the root record). Stored.
inline constexpr uint8_t kExpanded = 1;
inline constexpr uint8_t kTerminal = 2;

// A node holding more entries than this gets its children counted.
inline constexpr uint64_t kExpandThreshold = 16;

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
  // `root` is the root record as persisted in the metadata tail ("" for a new set).
  ZSetIndex(Txn& txn, std::string_view key, uint64_t version, uint64_t size, std::string_view root);
  ~ZSetIndex();  // Flush()
  ZSetIndex(const ZSetIndex&) = delete;
  ZSetIndex& operator=(const ZSetIndex&) = delete;
  ZSetIndex(ZSetIndex&&) = default;

  // Counter records are written back to the Txn once, here (or on destruction), not on every
  // change: one ZADD of 1,000 members would otherwise put ~10,000 versions of the upper
  // records into the write batch and the memtable.
  void Flush();

  uint64_t size() const { return size_; }
  bool expanded() const { return root_.flags & kExpanded; }
  // The root record to persist in the metadata tail.
  std::string root() const;

  // The score of `member`, nullopt if absent.
  Result<std::optional<double>> Score(std::string_view member);

  // Adds an absent member; moves a present one to a new score; removes one.
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
    uint8_t flags = 0;
    uint64_t groups[16] = {};
    uint64_t count() const;  // entries under the node, the terminal one included
  };
  struct Group {
    uint64_t children[16] = {};
    bool empty() const;
  };
  // Counter records (node and group records) through the write-back cache.
  Status CounterGet(const std::string& sub, std::string* value, bool* found);
  void CounterPut(std::string sub, std::string value);
  void CounterDelete(std::string sub);
  std::string NodeKey(std::string_view prefix) const;
  std::string GroupKey(std::string_view prefix, unsigned hi) const;
  Status ReadNode(std::string_view prefix, Node* node, bool* found);
  void WriteNode(std::string_view prefix, const Node& node);
  Status ReadGroup(std::string_view prefix, unsigned hi, Group* group);
  void WriteGroup(std::string_view prefix, unsigned hi, const Group& group);
  void PutEntry(std::string_view ikey, double score);
  // Builds the records of the subtree of `prefix` from its entries' keys (sorted, all
  // starting with `prefix`), expanding every node above the threshold; writes them all but
  // the node record of `prefix` itself, which it returns.
  Node BuildNode(std::string_view prefix, const std::vector<std::string_view>& keys);
  // The keys of all entries under `prefix`, in order.
  Status CollectKeys(std::string_view prefix, std::vector<std::string>* out);
  // Walks to the unexpanded node holding rank r: its prefix and r within it (or the prefix of
  // a terminal entry with r = 0).
  Status Locate(uint64_t r, std::string* prefix, uint64_t* rest);
  Status InsertKey(std::string_view ikey);
  Status EraseKey(std::string_view ikey);

  Txn& txn_;
  std::string key_;
  uint64_t version_;
  uint64_t size_;
  Node root_;
  std::map<std::string, std::optional<std::string>> counters_;  // nullopt: deleted
};

}  // namespace keel::zsets
