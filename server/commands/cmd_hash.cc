// Hash commands: the RESP shells of datatypes/hash.h.
#include <cmath>

#include "datatypes/collection.h"
#include "datatypes/hash.h"
#include "datatypes/number.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/server.h"

namespace keel::server {
namespace {

void ReplyOptionalBulk(CommandContext& c, const std::optional<std::string>& v) {
  if (v) {
    c.reply.Bulk(*v);
  } else {
    c.reply.NullBulk();
  }
}

void Changed(CommandContext& c, std::string_view event) {
  c.KeyModified(c.argv[1]);
  c.Notify('h', event, c.argv[1]);
}

void HSetGeneric(CommandContext& c, bool hmset) {
  if (c.argv.size() % 2 == 1) {
    return c.ErrorText("ERR wrong number of arguments for '" + std::string(c.name()) + "' command");
  }
  auto r = hashes::Set(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes
  Changed(c, "hset");
  if (hmset) return c.reply.Ok();
  c.reply.Integer(*r);
}
void HSet(CommandContext& c) { HSetGeneric(c, false); }
void HMSet(CommandContext& c) { HSetGeneric(c, true); }

void HSetNx(CommandContext& c) {
  auto r = hashes::SetNx(*c.txn, c.argv[1], c.argv[2], c.argv[3]);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes
  if (*r) Changed(c, "hset");
  c.reply.Integer(*r ? 1 : 0);
}

void HGet(CommandContext& c) {
  auto r = hashes::Get(*c.txn, c.argv[1], c.argv[2]);
  if (!r.ok()) return c.Error(r.status());
  ReplyOptionalBulk(c, *r);
}

void HMGet(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  auto r = hashes::MGet(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  c.reply.Array(r->size());
  for (const auto& v : *r) ReplyOptionalBulk(c, v);
}

void HDel(CommandContext& c) {
  auto r = hashes::Del(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  if (r->deleted > 0) {
    Changed(c, "hdel");
    if (r->key_removed) c.Notify('g', "del", c.argv[1]);
  }
  c.reply.Integer(r->deleted);
}

void HLen(CommandContext& c) {
  auto r = hashes::Len(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void HStrLen(CommandContext& c) {
  auto r = hashes::StrLen(*c.txn, c.argv[1], c.argv[2]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void HExists(CommandContext& c) {
  auto r = hashes::Exists(*c.txn, c.argv[1], c.argv[2]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r ? 1 : 0);
}

enum class Part { kAll, kKeys, kValues };

void HGetAllGeneric(CommandContext& c, Part part) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  auto r = hashes::GetAll(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  if (part == Part::kAll) {
    c.reply.Map(r->size());
  } else {
    c.reply.Array(r->size());
  }
  for (const auto& fv : *r) {
    if (part != Part::kValues) c.reply.Bulk(fv.field);
    if (part != Part::kKeys) c.reply.Bulk(fv.value);
  }
}
void HGetAll(CommandContext& c) { HGetAllGeneric(c, Part::kAll); }
void HKeys(CommandContext& c) { HGetAllGeneric(c, Part::kKeys); }
void HVals(CommandContext& c) { HGetAllGeneric(c, Part::kValues); }

void HIncrBy(CommandContext& c) {
  auto delta = ToInt64(c.argv[3]);
  if (!delta) return c.Error(Code::kNotInteger);
  auto r = hashes::IncrBy(*c.txn, c.argv[1], c.argv[2], *delta);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes
  Changed(c, "hincrby");
  c.reply.Integer(*r);
}

void HIncrByFloat(CommandContext& c) {
  long double delta;
  if (!ParseLongDouble(c.argv[3], &delta)) return c.Error(Code::kNotFloat);
  if (std::isnan(delta) || std::isinf(delta)) return c.ErrorText("ERR value is NaN or Infinity");
  auto r = hashes::IncrByFloat(*c.txn, c.argv[1], c.argv[2], delta);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes
  Changed(c, "hincrbyfloat");
  c.reply.Bulk(*r);
}

void HRandField(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  if (c.argv.size() == 2) {
    auto r = hashes::RandomField(*c.txn, c.argv[1], c.server.rng());
    if (!r.ok()) return c.Error(r.status());
    if (!r->has_value()) return c.reply.NullBulk();
    return c.reply.Bulk((*r)->field);
  }
  int64_t count = 0;
  Status st = coll::ParseRangedInt(c.argv[2], -INT64_MAX, INT64_MAX, std::nullopt, &count);
  if (!st.ok()) return c.Error(st);
  bool with_values = false;
  if (c.argv.size() > 4 || (c.argv.size() == 4 && !EqualsIgnoreCase(c.argv[3], "withvalues"))) {
    return c.Error(Code::kSyntax);
  }
  if (c.argv.size() == 4) {
    with_values = true;
    if (count < -INT64_MAX / 2 || count > INT64_MAX / 2) {
      return c.ErrorText("ERR value is out of range");
    }
  }
  if (count < -coll::kMaxRandomReply) {
    return c.ErrorText("ERR count is too large: Keel returns at most 100000000 random fields");
  }
  auto r = hashes::RandomFields(*c.txn, c.argv[1], count, c.server.rng());
  if (!r.ok()) return c.Error(r.status());
  bool nested = with_values && c.reply.protocol() >= 3;
  c.reply.Array(with_values && !nested ? r->size() * 2 : r->size());
  for (const auto& fv : *r) {
    if (nested) c.reply.Array(2);
    c.reply.Bulk(fv.field);
    if (with_values) c.reply.Bulk(fv.value);
  }
}

void HScan(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  uint64_t cursor = 0;
  Status st = coll::ParseScanCursor(c.argv[2], &cursor);
  if (!st.ok()) return c.Error(st);
  auto len = hashes::Len(*c.txn, c.argv[1]);  // absent key: empty scan before any option check
  if (!len.ok()) return c.Error(len.status());
  if (*len == 0) {
    c.reply.Array(2);
    c.reply.Bulk("0");
    return c.reply.Array(0);
  }
  coll::ScanOptions opt;
  st = coll::ParseScanOptions(c.argv.subspan(3), &opt);
  if (!st.ok()) return c.Error(st);
  std::optional<std::string_view> pattern;
  if (opt.pattern) pattern = *opt.pattern;
  auto r = hashes::Scan(*c.txn, c.argv[1], cursor, pattern, opt.count);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Array(2);
  c.reply.Bulk(std::to_string(r->cursor));
  c.reply.Array(r->items.size() * 2);
  for (const auto& fv : r->items) {
    c.reply.Bulk(fv.field);
    c.reply.Bulk(fv.value);
  }
}

}  // namespace

void RegisterHashCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("hash");
  auto& o = *out;
  // Rows as Redis 7.0's COMMAND INFO / COMMAND DOCS describe them.
  o.push_back(Row("hset", -4, kCmdWrite | kCmdDenyOom | kCmdFast, 1, 1, 1, HSet,
                  "Set the string value of a hash field", "2.0.0",
                  "O(1) for each field/value pair added, so O(N) to add N field/value pairs when "
                  "the command is called with multiple field/value pairs.",
                  "@write @hash @fast"));
  o.push_back(Row("hsetnx", 4, kCmdWrite | kCmdDenyOom | kCmdFast, 1, 1, 1, HSetNx,
                  "Set the value of a hash field, only if the field does not exist", "2.0.0",
                  "O(1)", "@write @hash @fast"));
  o.push_back(Row("hget", 3, kCmdReadOnly | kCmdFast, 1, 1, 1, HGet,
                  "Get the value of a hash field", "2.0.0", "O(1)", "@read @hash @fast"));
  o.push_back(Row("hmget", -3, kCmdReadOnly | kCmdFast, 1, 1, 1, HMGet,
                  "Get the values of all the given hash fields", "2.0.0",
                  "O(N) where N is the number of fields being requested.", "@read @hash @fast"));
  o.push_back(Row("hmset", -4, kCmdWrite | kCmdDenyOom | kCmdFast, 1, 1, 1, HMSet,
                  "Set multiple hash fields to multiple values", "2.0.0",
                  "O(N) where N is the number of fields being set.", "@write @hash @fast"));
  o.push_back(Row("hdel", -3, kCmdWrite | kCmdFast, 1, 1, 1, HDel, "Delete one or more hash fields",
                  "2.0.0", "O(N) where N is the number of fields to be removed.",
                  "@write @hash @fast"));
  o.push_back(Row("hlen", 2, kCmdReadOnly | kCmdFast, 1, 1, 1, HLen,
                  "Get the number of fields in a hash", "2.0.0", "O(1)", "@read @hash @fast"));
  o.push_back(Row("hstrlen", 3, kCmdReadOnly | kCmdFast, 1, 1, 1, HStrLen,
                  "Get the length of the value of a hash field", "3.2.0", "O(1)",
                  "@read @hash @fast"));
  o.push_back(Row("hexists", 3, kCmdReadOnly | kCmdFast, 1, 1, 1, HExists,
                  "Determine if a hash field exists", "2.0.0", "O(1)", "@read @hash @fast"));
  o.push_back(Row("hgetall", 2, kCmdReadOnly, 1, 1, 1, HGetAll,
                  "Get all the fields and values in a hash", "2.0.0",
                  "O(N) where N is the size of the hash.", "@read @hash @slow"));
  o.push_back(Row("hkeys", 2, kCmdReadOnly, 1, 1, 1, HKeys, "Get all the fields in a hash", "2.0.0",
                  "O(N) where N is the size of the hash.", "@read @hash @slow"));
  o.push_back(Row("hvals", 2, kCmdReadOnly, 1, 1, 1, HVals, "Get all the values in a hash", "2.0.0",
                  "O(N) where N is the size of the hash.", "@read @hash @slow"));
  o.push_back(Row("hincrby", 4, kCmdWrite | kCmdDenyOom | kCmdFast, 1, 1, 1, HIncrBy,
                  "Increment the integer value of a hash field by the given number", "2.0.0",
                  "O(1)", "@write @hash @fast"));
  o.push_back(Row("hincrbyfloat", 4, kCmdWrite | kCmdDenyOom | kCmdFast, 1, 1, 1, HIncrByFloat,
                  "Increment the float value of a hash field by the given amount", "2.6.0", "O(1)",
                  "@write @hash @fast"));
  o.push_back(Row("hrandfield", -2, kCmdReadOnly, 1, 1, 1, HRandField,
                  "Get one or multiple random fields from a hash", "6.2.0",
                  "O(N) where N is the number of fields returned", "@read @hash @slow"));
  o.push_back(
      Row("hscan", -3, kCmdReadOnly, 1, 1, 1, HScan,
          "Incrementally iterate hash fields and associated values", "2.8.0",
          "O(1) for every call. O(N) for a complete iteration, including enough command calls for "
          "the cursor to return back to 0. N is the number of elements inside the collection..",
          "@read @hash @slow"));
}

}  // namespace keel::server
