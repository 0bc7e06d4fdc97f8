// List commands: the RESP shells of datatypes/list.h, including the blocking pops (BLPOP,
// BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP), which park through CommandContext::Block when every
// key is empty and are re-run when one of them is modified.
#include "datatypes/list.h"
#include "server/blocking.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/commands/errors.h"
#include "server/server.h"

namespace keel::server {
namespace {

using lists::End;

std::string_view PushEvent(End end) { return end == End::kLeft ? "lpush" : "rpush"; }
std::string_view PopEvent(End end) { return end == End::kLeft ? "lpop" : "rpop"; }

std::optional<End> ParseEnd(std::string_view arg) {
  if (EqualsIgnoreCase(arg, "LEFT")) return End::kLeft;
  if (EqualsIgnoreCase(arg, "RIGHT")) return End::kRight;
  return std::nullopt;
}

// Redis's getRangeLongFromObjectOrReply with a custom message: the message is the error for
// both a non-integer and an out-of-range value.
std::optional<int64_t> ParseRange(CommandContext& c, std::string_view arg, int64_t min,
                                  std::string_view message) {
  auto v = ToInt64(arg);
  if (!v || *v < min) {
    c.ErrorText(std::string("ERR ") + std::string(message));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ParseInt(CommandContext& c, std::string_view arg) {
  auto v = ToInt64(arg);
  if (!v) c.Error(Code::kNotInteger);
  return v;
}

// The events of a pop of `key` at `end` that emptied it or not.
void PoppedEvents(CommandContext& c, std::string_view key, End end, bool emptied) {
  c.Notify('l', PopEvent(end), key);
  if (emptied) c.Notify('g', "del", key);
  c.KeyModified(key);
}

// ------------------------------------------------------------------ push

void PushGeneric(CommandContext& c, End end, bool only_if_exists) {
  std::vector<std::string_view> elements(c.argv.begin() + 2, c.argv.end());
  auto r = lists::Push(*c.txn, c.argv[1], elements, end, only_if_exists);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes

  if (*r > 0) {
    c.Notify('l', PushEvent(end), c.argv[1]);
    c.KeyModified(c.argv[1]);
  }
  c.reply.Integer(*r);
}
void LPush(CommandContext& c) { PushGeneric(c, End::kLeft, false); }
void RPush(CommandContext& c) { PushGeneric(c, End::kRight, false); }
void LPushX(CommandContext& c) { PushGeneric(c, End::kLeft, true); }
void RPushX(CommandContext& c) { PushGeneric(c, End::kRight, true); }

// ------------------------------------------------------------------ pop

void PopGeneric(CommandContext& c, End end) {
  if (c.argv.size() > 3) return c.ErrorText(ArityError(c.name()));
  bool has_count = c.argv.size() == 3;
  uint64_t count = 1;
  if (has_count) {
    auto v = ParseRange(c, c.argv[2], 0, "value is out of range, must be positive");
    if (!v) return;
    count = static_cast<uint64_t>(*v);
  }
  auto r = lists::Pop(*c.txn, c.argv[1], end, count);
  if (!r.ok()) return c.Error(r.status());
  if (!r->existed) return has_count ? c.reply.NullArray() : c.reply.NullBulk();
  c.events_after_reply = true;  // Redis replies first, then publishes
  if (!r->elements.empty()) PoppedEvents(c, c.argv[1], end, r->emptied);
  if (!has_count) return c.reply.Bulk(r->elements.front());
  c.reply.BulkArray(r->elements);
}
void LPop(CommandContext& c) { PopGeneric(c, End::kLeft); }
void RPop(CommandContext& c) { PopGeneric(c, End::kRight); }

// ------------------------------------------------------------------ reads

void LLen(CommandContext& c) {
  auto r = lists::Len(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void LRange(CommandContext& c) {
  auto start = ParseInt(c, c.argv[2]);
  if (!start) return;
  auto stop = ParseInt(c, c.argv[3]);
  if (!stop) return;
  auto r = lists::Range(*c.txn, c.argv[1], *start, *stop);
  if (!r.ok()) return c.Error(r.status());
  c.reply.BulkArray(*r);
}

void LIndex(CommandContext& c) {
  // As Redis: the key is looked up before the index is parsed.
  auto exists = lists::IsList(*c.txn, c.argv[1]);
  if (!exists.ok()) return c.Error(exists.status());
  if (!*exists) return c.reply.NullBulk();
  auto index = ParseInt(c, c.argv[2]);
  if (!index) return;
  auto r = lists::Index(*c.txn, c.argv[1], *index);
  if (!r.ok()) return c.Error(r.status());
  if (!r->has_value()) return c.reply.NullBulk();
  c.reply.Bulk(**r);
}

void LPos(CommandContext& c) {
  lists::PosOptions opt;
  bool has_count = false;
  for (size_t i = 3; i < c.argv.size(); ++i) {
    std::string_view a = c.argv[i];
    bool more = i + 1 < c.argv.size();
    if (EqualsIgnoreCase(a, "RANK") && more) {
      auto v = ParseInt(c, c.argv[++i]);
      if (!v) return;
      if (*v == 0) {
        return c.ErrorText(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
      opt.rank = *v;
    } else if (EqualsIgnoreCase(a, "COUNT") && more) {
      auto v = ParseRange(c, c.argv[++i], 0, "COUNT can't be negative");
      if (!v) return;
      opt.count = *v;
      has_count = true;
    } else if (EqualsIgnoreCase(a, "MAXLEN") && more) {
      auto v = ParseRange(c, c.argv[++i], 0, "MAXLEN can't be negative");
      if (!v) return;
      opt.maxlen = *v;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  auto r = lists::Pos(*c.txn, c.argv[1], c.argv[2], opt);
  if (!r.ok()) return c.Error(r.status());
  if (has_count) {
    c.reply.Array(r->size());
    for (int64_t p : *r) c.reply.Integer(p);
    return;
  }
  if (r->empty()) return c.reply.NullBulk();
  c.reply.Integer(r->front());
}

// ------------------------------------------------------------------ edits

void LSet(CommandContext& c) {
  auto exists = lists::IsList(*c.txn, c.argv[1]);
  if (!exists.ok()) return c.Error(exists.status());
  if (!*exists) return c.Error(Code::kNoSuchKey);
  auto index = ParseInt(c, c.argv[2]);
  if (!index) return;
  Status st = lists::Set(*c.txn, c.argv[1], *index, c.argv[3]);
  if (!st.ok()) return c.Error(st);
  c.events_after_reply = true;  // Redis replies first, then publishes
  c.Notify('l', "lset", c.argv[1]);
  c.KeyModified(c.argv[1]);
  c.reply.Ok();
}

void LInsert(CommandContext& c) {
  bool before;
  if (EqualsIgnoreCase(c.argv[2], "AFTER")) {
    before = false;
  } else if (EqualsIgnoreCase(c.argv[2], "BEFORE")) {
    before = true;
  } else {
    return c.Error(Code::kSyntax);
  }
  auto r = lists::Insert(*c.txn, c.argv[1], before, c.argv[3], c.argv[4]);
  if (!r.ok()) return c.Error(r.status());
  if (*r > 0) {
    c.Notify('l', "linsert", c.argv[1]);
    c.KeyModified(c.argv[1]);
  }
  c.reply.Integer(*r);
}

void LRem(CommandContext& c) {
  auto count = ParseInt(c, c.argv[2]);
  if (!count) return;
  auto r = lists::Remove(*c.txn, c.argv[1], *count, c.argv[3]);
  if (!r.ok()) return c.Error(r.status());
  if (r->removed > 0) {
    c.Notify('l', "lrem", c.argv[1]);
    if (r->emptied) c.Notify('g', "del", c.argv[1]);
    c.KeyModified(c.argv[1]);
  }
  c.reply.Integer(r->removed);
}

void LTrim(CommandContext& c) {
  auto start = ParseInt(c, c.argv[2]);
  if (!start) return;
  auto stop = ParseInt(c, c.argv[3]);
  if (!stop) return;
  auto r = lists::Trim(*c.txn, c.argv[1], *start, *stop);
  if (!r.ok()) return c.Error(r.status());
  if (r->existed) {
    c.Notify('l', "ltrim", c.argv[1]);
    if (r->emptied) c.Notify('g', "del", c.argv[1]);
    c.KeyModified(c.argv[1]);
  }
  c.reply.Ok();
}

// ------------------------------------------------------------------ moves

// LMOVE / RPOPLPUSH and their blocking forms. Returns true if the source was empty (nothing
// replied yet), false once a reply (element or error) was written.
bool MoveGeneric(CommandContext& c, End from, End to) {
  std::string_view src = c.argv[1], dst = c.argv[2];
  auto r = lists::Move(*c.txn, src, dst, from, to);
  if (!r.ok()) {
    // A blocked BLMOVE whose source or destination now holds another type stays blocked,
    // as in Redis (only the first run reports WRONGTYPE).
    if (c.retry && r.code() == Code::kWrongType) return true;
    c.Error(r.status());
    return false;
  }
  if (!r->element) return true;
  c.Notify('l', PushEvent(to), dst);
  c.KeyModified(dst);
  c.events_after_reply = true;  // Redis: push event, reply, then the pop events
  PoppedEvents(c, src, from, r->source_emptied);
  c.reply.Bulk(*r->element);
  return false;
}

std::optional<std::pair<End, End>> ParseEnds(CommandContext& c, size_t at) {
  auto from = ParseEnd(c.argv[at]);
  auto to = ParseEnd(c.argv[at + 1]);
  if (!from || !to) {
    c.Error(Code::kSyntax);
    return std::nullopt;
  }
  return std::make_pair(*from, *to);
}

void RPopLPush(CommandContext& c) {
  if (MoveGeneric(c, End::kRight, End::kLeft)) c.reply.NullBulk();
}

void LMove(CommandContext& c) {
  auto ends = ParseEnds(c, 3);
  if (!ends) return;
  if (MoveGeneric(c, ends->first, ends->second)) c.reply.NullBulk();
}

std::optional<uint64_t> ParseTimeout(CommandContext& c, std::string_view arg) {
  auto t = ParseBlockTimeout(arg);
  if (!t.ok()) {
    c.Error(t.status());
    return std::nullopt;
  }
  return *t;
}

void BlockOn(CommandContext& c, std::vector<std::string> keys, uint64_t timeout_ms,
             BlockRequest::TimeoutReply reply) {
  BlockRequest req;
  req.keys = std::move(keys);
  req.timeout_ms = timeout_ms;
  req.timeout_reply = reply;
  c.Block(std::move(req));
}

// Redis 7.0 answers a timed-out BLMOVE / BRPOPLPUSH with a null array like the other list
// pops (only the can't-block case inside MULTI answers a null bulk).
constexpr BlockRequest::TimeoutReply kMoveTimeoutReply = BlockRequest::TimeoutReply::kNullArray;

void BRPopLPush(CommandContext& c) {
  auto timeout = ParseTimeout(c, c.argv[3]);
  if (!timeout) return;
  if (MoveGeneric(c, End::kRight, End::kLeft)) {
    BlockOn(c, {std::string(c.argv[1])}, *timeout, kMoveTimeoutReply);
  }
}

void BLMove(CommandContext& c) {
  auto ends = ParseEnds(c, 3);
  if (!ends) return;
  auto timeout = ParseTimeout(c, c.argv[5]);
  if (!timeout) return;
  if (MoveGeneric(c, ends->first, ends->second)) {
    BlockOn(c, {std::string(c.argv[1])}, *timeout, kMoveTimeoutReply);
  }
}

// ------------------------------------------------------------------ multi-key pops

// Pops up to `count` elements from the first non-empty list of `keys`. Replies and returns
// false when done (served or error); returns true, replying nothing, if every key is empty.
// `with_key_array`: reply [key, [elements]] (LMPOP) rather than [key, element] (BLPOP).
bool PopFirst(CommandContext& c, std::span<const std::string_view> keys, End end, uint64_t count,
              bool lmpop_reply) {
  for (std::string_view key : keys) {
    auto r = lists::Pop(*c.txn, key, end, count);
    if (!r.ok()) {
      if (c.retry && r.code() == Code::kWrongType) continue;  // still blocked, as in Redis
      c.Error(r.status());
      return false;
    }
    if (r->elements.empty()) continue;
    c.reply.Array(2);
    c.reply.Bulk(key);
    if (lmpop_reply) {
      c.reply.BulkArray(r->elements);
    } else {
      c.reply.Bulk(r->elements.front());
    }
    PoppedEvents(c, key, end, r->emptied);
    return false;
  }
  return true;
}

void BPopGeneric(CommandContext& c, End end) {
  auto timeout = ParseTimeout(c, c.argv.back());
  if (!timeout) return;
  auto keys = c.argv.subspan(1, c.argv.size() - 2);
  if (!PopFirst(c, keys, end, 1, false)) return;
  BlockOn(c, std::vector<std::string>(keys.begin(), keys.end()), *timeout,
          BlockRequest::TimeoutReply::kNullArray);
}
void BLPop(CommandContext& c) { BPopGeneric(c, End::kLeft); }
void BRPop(CommandContext& c) { BPopGeneric(c, End::kRight); }

struct MPopArgs {
  std::span<const std::string_view> keys;
  End end = End::kLeft;
  uint64_t count = 1;
};

// Parses "numkeys key... LEFT|RIGHT [COUNT n]" starting at argv[at].
std::optional<MPopArgs> ParseMPop(CommandContext& c, size_t at) {
  auto numkeys = ParseRange(c, c.argv[at], 1, "numkeys should be greater than 0");
  if (!numkeys) return std::nullopt;
  size_t where = at + 1;
  if (static_cast<uint64_t>(*numkeys) >= c.argv.size() - where) {
    c.Error(Code::kSyntax);
    return std::nullopt;
  }
  where += static_cast<size_t>(*numkeys);
  MPopArgs out;
  out.keys = c.argv.subspan(at + 1, static_cast<size_t>(*numkeys));
  auto end = ParseEnd(c.argv[where]);
  if (!end) {
    c.Error(Code::kSyntax);
    return std::nullopt;
  }
  out.end = *end;
  bool has_count = false;
  for (size_t i = where + 1; i < c.argv.size(); ++i) {
    if (!has_count && EqualsIgnoreCase(c.argv[i], "COUNT") && i + 1 < c.argv.size()) {
      auto v = ParseRange(c, c.argv[++i], 1, "count should be greater than 0");
      if (!v) return std::nullopt;
      out.count = static_cast<uint64_t>(*v);
      has_count = true;
    } else {
      c.Error(Code::kSyntax);
      return std::nullopt;
    }
  }
  return out;
}

void LMPop(CommandContext& c) {
  auto args = ParseMPop(c, 1);
  if (!args) return;
  if (PopFirst(c, args->keys, args->end, args->count, true)) c.reply.NullArray();
}

void BLMPop(CommandContext& c) {
  auto timeout = ParseTimeout(c, c.argv[1]);
  if (!timeout) return;
  auto args = ParseMPop(c, 2);
  if (!args) return;
  if (!PopFirst(c, args->keys, args->end, args->count, true)) return;
  BlockOn(c, std::vector<std::string>(args->keys.begin(), args->keys.end()), *timeout,
          BlockRequest::TimeoutReply::kNullArray);
}

// Key positions of "numkeys key..." at argv[at] (none if numkeys is not a valid count).
std::vector<size_t> NumKeysPositions(std::span<const std::string_view> argv, size_t at) {
  std::vector<size_t> out;
  if (argv.size() <= at) return out;
  auto n = ToInt64(argv[at]);
  if (!n || *n < 1 || static_cast<uint64_t>(*n) >= argv.size() - at) return out;
  for (size_t i = 0; i < static_cast<size_t>(*n); ++i) out.push_back(at + 1 + i);
  return out;
}
std::vector<size_t> LMPopKeys(std::span<const std::string_view> argv) {
  return NumKeysPositions(argv, 1);
}
std::vector<size_t> BLMPopKeys(std::span<const std::string_view> argv) {
  return NumKeysPositions(argv, 2);
}

constexpr uint32_t kRead = kCmdReadOnly;
constexpr uint32_t kWrite = kCmdWrite;

}  // namespace

void RegisterListCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("list");
  const std::string_view wf = "@write @list @fast", rf = "@read @list @fast",
                         ws = "@write @list @slow", rs = "@read @list @slow",
                         wb = "@write @list @slow @blocking";
  constexpr uint32_t kDeny = kCmdDenyOom, kFast = kCmdFast, kBlock = kCmdNoScript | kCmdBlocking;
  auto& o = *out;
  o.push_back(Row("lpush", -3, kWrite | kDeny | kFast, 1, 1, 1, LPush,
                  "Prepend one or multiple elements to a list", "1.0.0",
                  "O(1) for each element added, so O(N) to add N elements when the command is "
                  "called with multiple arguments.",
                  wf));
  o.push_back(Row("rpush", -3, kWrite | kDeny | kFast, 1, 1, 1, RPush,
                  "Append one or multiple elements to a list", "1.0.0",
                  "O(1) for each element added, so O(N) to add N elements when the command is "
                  "called with multiple arguments.",
                  wf));
  o.push_back(Row("lpushx", -3, kWrite | kDeny | kFast, 1, 1, 1, LPushX,
                  "Prepend an element to a list, only if the list exists", "2.2.0",
                  "O(1) for each element added, so O(N) to add N elements when the command is "
                  "called with multiple arguments.",
                  wf));
  o.push_back(Row("rpushx", -3, kWrite | kDeny | kFast, 1, 1, 1, RPushX,
                  "Append an element to a list, only if the list exists", "2.2.0",
                  "O(1) for each element added, so O(N) to add N elements when the command is "
                  "called with multiple arguments.",
                  wf));
  o.push_back(Row("lpop", -2, kWrite | kFast, 1, 1, 1, LPop,
                  "Remove and get the first elements in a list", "1.0.0",
                  "O(N) where N is the number of elements returned", wf));
  o.push_back(Row("rpop", -2, kWrite | kFast, 1, 1, 1, RPop,
                  "Remove and get the last elements in a list", "1.0.0",
                  "O(N) where N is the number of elements returned", wf));
  o.push_back(Row("llen", 2, kRead | kFast, 1, 1, 1, LLen, "Get the length of a list", "1.0.0",
                  "O(1)", rf));
  o.push_back(Row(
      "lrange", 4, kRead, 1, 1, 1, LRange, "Get a range of elements from a list", "1.0.0",
      "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end "
      "(HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
      rs));
  o.push_back(Row("lindex", 3, kRead, 1, 1, 1, LIndex, "Get an element from a list by its index",
                  "1.0.0",
                  "O(N) where N is the number of elements to traverse to get to the element at "
                  "index. This makes asking for the first or the last element of the list O(1).",
                  rs));
  o.push_back(Row("lset", 4, kWrite | kDeny, 1, 1, 1, LSet,
                  "Set the value of an element in a list by its index", "1.0.0",
                  "O(N) where N is the length of the list. Setting either the first or the last "
                  "element of the list is O(1).",
                  ws));
  o.push_back(Row("linsert", 5, kWrite | kDeny, 1, 1, 1, LInsert,
                  "Insert an element before or after another element in a list", "2.2.0",
                  "O(N) where N is the number of elements to traverse before seeing the value "
                  "pivot. This means that inserting somewhere on the left end on the list (head) "
                  "can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
                  ws));
  o.push_back(
      Row("lrem", 4, kWrite, 1, 1, 1, LRem, "Remove elements from a list", "1.0.0",
          "O(N+M) where N is the length of the list and M is the number of elements removed.", ws));
  o.push_back(Row("ltrim", 4, kWrite, 1, 1, 1, LTrim, "Trim a list to the specified range", "1.0.0",
                  "O(N) where N is the number of elements to be removed by the operation.", ws));
  o.push_back(Row("lpos", -3, kRead, 1, 1, 1, LPos,
                  "Return the index of matching elements on a list", "6.0.6",
                  "O(N) where N is the number of elements in the list, for the average case. When "
                  "searching for elements near the head or the tail of the list, or when the "
                  "MAXLEN option is provided, the command may run in constant time.",
                  rs));
  o.push_back(Row("rpoplpush", 3, kWrite | kDeny, 1, 2, 1, RPopLPush,
                  "Remove the last element in a list, prepend it to another list and return it",
                  "1.2.0", "O(1)", ws));
  o.push_back(Row("lmove", 5, kWrite | kDeny, 1, 2, 1, LMove,
                  "Pop an element from a list, push it to another list and return it", "6.2.0",
                  "O(1)", ws));
  CommandSpec lmpop =
      Row("lmpop", -4, kWrite, 0, 0, 0, LMPop, "Pop elements from a list", "7.0.0",
          "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
          ws);
  lmpop.keys = LMPopKeys;
  o.push_back(std::move(lmpop));
  o.push_back(Row("blpop", -3, kWrite | kBlock, 1, -2, 1, BLPop,
                  "Remove and get the first element in a list, or block until one is available",
                  "2.0.0", "O(N) where N is the number of provided keys.", wb));
  o.push_back(Row("brpop", -3, kWrite | kBlock, 1, -2, 1, BRPop,
                  "Remove and get the last element in a list, or block until one is available",
                  "2.0.0", "O(N) where N is the number of provided keys.", wb));
  o.push_back(Row("brpoplpush", 4, kWrite | kDeny | kBlock, 1, 2, 1, BRPopLPush,
                  "Pop an element from a list, push it to another list and return it; or block "
                  "until one is available",
                  "2.2.0", "O(1)", wb));
  o.push_back(Row("blmove", 6, kWrite | kDeny | kBlock, 1, 2, 1, BLMove,
                  "Pop an element from a list, push it to another list and return it; or block "
                  "until one is available",
                  "6.2.0", "O(1)", wb));
  CommandSpec blmpop =
      Row("blmpop", -5, kWrite | kCmdBlocking, 0, 0, 0, BLMPop,
          "Pop elements from a list, or block until one is available", "7.0.0",
          "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
          wb);
  blmpop.keys = BLMPopKeys;
  o.push_back(std::move(blmpop));
}

}  // namespace keel::server
