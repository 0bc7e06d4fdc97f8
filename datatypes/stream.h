// Stream operations (XADD, XRANGE, XTRIM, XREAD...) and consumer groups (XGROUP, XREADGROUP,
// XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO) on Storage, with Redis 7.0's semantics.
//
// Each function works inside the caller's Txn and never commits it (see datatypes/string.h):
// writes need a kWrite Txn whose caller holds the stream key's stripe lock. Stateless
// functions; thread-safe as Txn allows. Groups, consumers and pending entries are sub-keys of
// the stream's incarnation, written in the same batch as the command that changes them, so
// they are exactly as durable as the entries (a committed XACK is never undone, a committed
// XREADGROUP delivery is never lost). The persisted format is documented in
// datatypes/stream_internal.h.
//
// Redis stores a stream as a radix tree of listpack "nodes" of up to 100 entries / 4096
// bytes; approximate trimming (~) removes whole nodes only, and XINFO reports the tree's
// size. Keel keeps a small record per emulated node (same boundaries as Redis would choose)
// so that XADD/XTRIM with ~ and XINFO STREAM answer exactly as Redis does.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"
#include "datatypes/storage.h"

namespace keel::streams {

// ------------------------------------------------------------------ ids

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto operator<=>(const StreamId&) const = default;
  bool IsZero() const { return ms == 0 && seq == 0; }
  std::string ToString() const;  // "ms-seq"
  static constexpr StreamId Max() { return {UINT64_MAX, UINT64_MAX}; }
};
// The next / previous id; false on overflow (Max / 0-0).
bool Increment(StreamId* id);
bool Decrement(StreamId* id);

struct ParsedId {
  StreamId id;
  bool seq_given = true;   // false for "ms-*" (XADD only)
  bool exclusive = false;  // "(" prefix (ranges only)
};
struct IdSyntax {
  uint64_t missing_seq = 0;      // the sequence of a bare "ms"
  bool strict = false;           // reject "-" and "+"
  bool allow_exclusive = false;  // accept "(id"
  bool allow_auto_seq = false;   // accept "ms-*"
};
// Parses a stream id as Redis does (ms and seq as unsigned 64-bit numbers, "-" = 0-0,
// "+" = max). nullopt = an invalid id (the server replies Code::kInvalidStreamId).
std::optional<ParsedId> ParseId(std::string_view text, const IdSyntax& syntax);

// ------------------------------------------------------------------ entries

struct Entry {
  StreamId id;
  std::vector<std::string> fields;  // field, value, field, value...
  bool deleted = false;             // a pending entry no longer in the stream (XREADGROUP history)
};

// Stream-level bookkeeping (the metadata record's tail).
struct StreamInfo {
  uint64_t length = 0;
  StreamId last_id;         // last generated id
  StreamId first_id;        // first entry (0-0 if empty)
  StreamId max_deleted_id;  // greatest id removed by XDEL (or set by XSETID)
  uint64_t entries_added = 0;
  uint64_t groups = 0;
};

// Loads the stream's bookkeeping: nullopt if absent, kWrongType if not a stream.
Result<std::optional<StreamInfo>> GetInfo(Txn& txn, std::string_view key);
// The id of the last entry present (0-0 if empty); kWrongType; nullopt if absent.
Result<std::optional<StreamId>> LastValidId(Txn& txn, std::string_view key);

enum class TrimStrategy : uint8_t { kNone = 0, kMaxLen = 1, kMinId = 2 };
struct TrimSpec {
  TrimStrategy strategy = TrimStrategy::kNone;
  bool approx = false;
  int64_t maxlen = 0;
  StreamId minid;
  int64_t limit = 0;  // 0 = none; approximate trims default to 100 * node entries
};

struct AddArgs {
  bool no_mkstream = false;
  bool id_given = false;  // false: "*"
  StreamId id;
  bool seq_given = true;  // false: "ms-*"
  TrimSpec trim;
};
struct AddResult {
  bool added = false;  // false: NOMKSTREAM and the key is absent (reply nil)
  StreamId id;
  int64_t trimmed = 0;
};
// XADD. `fields` is field, value, ... (even, non-empty). Errors: kWrongType,
// kStreamIdTooSmall (an id not above the top item), kStreamExhausted (the last id is max).
Result<AddResult> Add(Txn& txn, std::string_view key, const AddArgs& args,
                      std::span<const std::string_view> fields);

// XTRIM: the number of entries removed (0 if the key is absent).
Result<int64_t> Trim(Txn& txn, std::string_view key, const TrimSpec& spec);

// XLEN (0 if absent).
Result<int64_t> Len(Txn& txn, std::string_view key);

// XRANGE / XREVRANGE over [start, end] (inclusive), at most `count` entries (0 = all).
Result<std::vector<Entry>> Range(Txn& txn, std::string_view key, StreamId start, StreamId end,
                                 uint64_t count, bool reverse);

// XDEL: how many of `ids` were present and deleted.
Result<int64_t> Delete(Txn& txn, std::string_view key, std::span<const StreamId> ids);

// XSETID. entries_added < 0 and a zero max_deleted mean "not given". Errors: kNoSuchKey,
// kWrongType, kSetIdTooSmall (last_id below the top item), kSetIdEntriesTooSmall
// (entries_added below the length).
Status SetId(Txn& txn, std::string_view key, StreamId last_id, int64_t entries_added,
             StreamId max_deleted);

// ------------------------------------------------------------------ consumer groups

inline constexpr int64_t kEntriesReadUnknown = -1;

struct GroupInfo {
  std::string name;
  StreamId last_id;
  int64_t entries_read = kEntriesReadUnknown;
  uint64_t pending = 0;
  uint64_t consumers = 0;
  std::optional<int64_t> lag;  // nullopt when it cannot be computed
};
struct ConsumerInfo {
  std::string name;
  uint64_t pending = 0;
  uint64_t seen_ms = 0;
};
struct PendingEntry {
  StreamId id;
  std::string consumer;
  uint64_t delivery_ms = 0;
  uint64_t deliveries = 0;
};

enum class GroupOutcome : uint8_t { kOk, kNoKey, kNoGroup, kExists };

// XGROUP CREATE: `id` nullopt = "$". kNoKey if absent without mkstream, kExists (BUSYGROUP).
// *created_stream tells whether MKSTREAM created the key.
Result<GroupOutcome> CreateGroup(Txn& txn, std::string_view key, std::string_view group,
                                 std::optional<StreamId> id, bool mkstream, int64_t entries_read,
                                 bool* created_stream);
// XGROUP SETID: kNoKey / kNoGroup.
Result<GroupOutcome> SetGroupId(Txn& txn, std::string_view key, std::string_view group,
                                std::optional<StreamId> id, int64_t entries_read);
// XGROUP DESTROY: kOk if destroyed, kNoGroup if there was no such group, kNoKey.
Result<GroupOutcome> DestroyGroup(Txn& txn, std::string_view key, std::string_view group);
// XGROUP CREATECONSUMER: kOk if created, kExists if it already existed; kNoKey / kNoGroup.
Result<GroupOutcome> CreateConsumer(Txn& txn, std::string_view key, std::string_view group,
                                    std::string_view consumer);
// XGROUP DELCONSUMER: its pending count (0 if absent); *existed whether it existed.
Result<GroupOutcome> DeleteConsumer(Txn& txn, std::string_view key, std::string_view group,
                                    std::string_view consumer, int64_t* pending, bool* existed);

// Whether `key` holds a stream with `group`: kOk, kNoKey, kNoGroup (kWrongType as error).
Result<GroupOutcome> CheckGroup(Txn& txn, std::string_view key, std::string_view group);

struct ReadGroupResult {
  GroupOutcome outcome = GroupOutcome::kOk;  // kNoKey / kNoGroup: nothing done
  bool consumer_created = false;
  bool served = false;  // entries (possibly none, for history reads) are to be replied
  std::vector<Entry> entries;
};
// XREADGROUP on one stream. `after` nullopt = ">" (new entries past the group's last id);
// otherwise the consumer's pending entries after that id (history, always served).
Result<ReadGroupResult> ReadGroup(Txn& txn, std::string_view key, std::string_view group,
                                  std::string_view consumer, std::optional<StreamId> after,
                                  uint64_t count, bool noack);

// XREAD on one stream: entries after `after`; nullopt if the key is absent or holds nothing
// past `after` (not served).
Result<std::optional<std::vector<Entry>>> ReadAfter(Txn& txn, std::string_view key, StreamId after,
                                                    uint64_t count);

// XACK: how many ids were pending (0 if no key or group).
Result<int64_t> Ack(Txn& txn, std::string_view key, std::string_view group,
                    std::span<const StreamId> ids);

struct PendingSummary {
  uint64_t count = 0;
  StreamId first, last;
  std::vector<std::pair<std::string, uint64_t>> consumers;  // with pending > 0, by name
};
// XPENDING key group: kNoKey/kNoGroup via *outcome.
Result<PendingSummary> Pending(Txn& txn, std::string_view key, std::string_view group,
                               GroupOutcome* outcome);
struct PendingQuery {
  StreamId start, end;
  uint64_t count = 0;
  int64_t min_idle_ms = 0;
  std::optional<std::string> consumer;
};
Result<std::vector<PendingEntry>> PendingRange(Txn& txn, std::string_view key,
                                               std::string_view group, const PendingQuery& q,
                                               GroupOutcome* outcome);

struct ClaimArgs {
  int64_t min_idle_ms = 0;
  std::optional<int64_t> delivery_ms;  // IDLE / TIME, already absolute
  int64_t retry_count = -1;
  bool force = false;
  bool just_id = false;
  StreamId last_id;  // LASTID (0-0 = not given)
};
struct ClaimResult {
  GroupOutcome outcome = GroupOutcome::kOk;
  bool consumer_created = false;
  std::vector<Entry> claimed;  // deleted = true: claimed but gone from the stream (nil)
};
// XCLAIM.
Result<ClaimResult> Claim(Txn& txn, std::string_view key, std::string_view group,
                          std::string_view consumer, std::span<const StreamId> ids,
                          const ClaimArgs& args);
struct AutoClaimResult {
  GroupOutcome outcome = GroupOutcome::kOk;
  bool consumer_created = false;
  StreamId next;
  std::vector<Entry> claimed;
  std::vector<StreamId> deleted;
};
// XAUTOCLAIM.
Result<AutoClaimResult> AutoClaim(Txn& txn, std::string_view key, std::string_view group,
                                  std::string_view consumer, int64_t min_idle_ms, StreamId start,
                                  uint64_t count, bool just_id);

// XINFO GROUPS / CONSUMERS (nullopt: no key; CONSUMERS: kNoGroup via *outcome).
Result<std::optional<std::vector<GroupInfo>>> Groups(Txn& txn, std::string_view key);
Result<std::vector<ConsumerInfo>> Consumers(Txn& txn, std::string_view key, std::string_view group,
                                            GroupOutcome* outcome);

// XINFO STREAM [FULL].
struct StreamReport {
  StreamInfo info;
  uint64_t radix_keys = 0;
  uint64_t radix_nodes = 0;
  std::optional<Entry> first, last;  // non-FULL
  std::vector<Entry> entries;        // FULL (at most `count`, 0 = all)
  struct Group {
    GroupInfo info;
    std::vector<PendingEntry> pel;  // FULL: at most `count`
    struct Consumer {
      ConsumerInfo info;
      std::vector<PendingEntry> pel;
    };
    std::vector<Consumer> consumers;
  };
  std::vector<Group> groups;  // FULL
};
Result<std::optional<StreamReport>> Report(Txn& txn, std::string_view key, bool full,
                                           uint64_t count);

}  // namespace keel::streams
