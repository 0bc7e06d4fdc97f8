// String commands: the RESP shells of datatypes/string.h and datatypes/bitops.h.
#include <chrono>

#include "datatypes/bitops.h"
#include "datatypes/lcs.h"
#include "datatypes/number.h"
#include "datatypes/string.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/server.h"

namespace keel::server {
namespace {

enum class ExpireUnit { kSeconds, kMillis };

// Parses an expire argument (EX/PX/EXAT/PXAT, SETEX, PSETEX, GETEX) into an absolute ms time
// with Redis's checks. Replies with the error and returns false on failure.
bool ParseExpireArg(CommandContext& c, std::string_view arg, ExpireUnit unit, bool absolute,
                    uint64_t now_ms, uint64_t* at_ms) {
  auto v = ToInt64(arg);
  if (!v) {
    c.Error(Code::kNotInteger);
    return false;
  }
  int64_t t = *v;
  if (t <= 0 || (unit == ExpireUnit::kSeconds && t > INT64_MAX / 1000)) {
    c.Error(Code::kInvalidExpire);
    return false;
  }
  if (unit == ExpireUnit::kSeconds) t *= 1000;
  if (!absolute) {
    if (t > INT64_MAX - static_cast<int64_t>(now_ms)) {
      c.Error(Code::kInvalidExpire);
      return false;
    }
    t += static_cast<int64_t>(now_ms);
  }
  *at_ms = static_cast<uint64_t>(t);
  return true;
}

void ReplyOptionalBulk(CommandContext& c, const std::optional<std::string>& v) {
  if (v) {
    c.reply.Bulk(*v);
  } else {
    c.reply.NullBulk();
  }
}

uint64_t MaxBytes(CommandContext& c) {
  return static_cast<uint64_t>(c.server.proto_max_bulk_len());
}

// Records a string write for WATCH, blocked clients and keyspace notifications.
void Wrote(CommandContext& c, std::string_view key, std::string_view event) {
  c.KeyModified(key);
  c.Notify('$', event, key);
}

void Get(CommandContext& c) {
  auto r = strings::Get(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  ReplyOptionalBulk(c, *r);
}

void Set(CommandContext& c) {
  // As Redis: every option is checked for syntax before the expire value is parsed.
  strings::SetOptions opt;
  bool has_expire = false;
  std::string_view expire_unit, expire_value;
  using Cond = strings::SetOptions::Condition;
  for (size_t i = 3; i < c.argv.size(); ++i) {
    std::string_view a = c.argv[i];
    bool has_next = i + 1 < c.argv.size();
    if (EqualsIgnoreCase(a, "NX") && opt.condition != Cond::kIfPresent) {
      opt.condition = Cond::kIfAbsent;
    } else if (EqualsIgnoreCase(a, "XX") && opt.condition != Cond::kIfAbsent) {
      opt.condition = Cond::kIfPresent;
    } else if (EqualsIgnoreCase(a, "GET")) {
      opt.get = true;
    } else if (EqualsIgnoreCase(a, "KEEPTTL") && !has_expire) {
      opt.keep_ttl = true;
    } else if ((EqualsIgnoreCase(a, "EX") || EqualsIgnoreCase(a, "PX") ||
                EqualsIgnoreCase(a, "EXAT") || EqualsIgnoreCase(a, "PXAT")) &&
               (expire_unit.empty() || EqualsIgnoreCase(expire_unit, a)) && !opt.keep_ttl &&
               has_next) {
      // Redis accepts the same unit twice (the last wins), but not two different units.
      has_expire = true;
      expire_unit = a;
      expire_value = c.argv[++i];
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  if (has_expire) {
    bool secs = EqualsIgnoreCase(expire_unit, "EX") || EqualsIgnoreCase(expire_unit, "EXAT");
    bool abs = expire_unit.size() == 4;
    if (!ParseExpireArg(c, expire_value, secs ? ExpireUnit::kSeconds : ExpireUnit::kMillis, abs,
                        c.txn->now_ms(), &opt.expire_at_ms)) {
      return;
    }
  }
  auto r = strings::Set(*c.txn, c.argv[1], c.argv[2], opt);
  if (!r.ok()) return c.Error(r.status());
  if (opt.get) c.events_after_reply = true;  // Redis replies first, then publishes
  if (r->written) {
    Wrote(c, c.argv[1], "set");
    if (opt.expire_at_ms != 0) c.Notify('g', "expire", c.argv[1]);
  }
  if (opt.get) return ReplyOptionalBulk(c, r->old_value);
  if (r->written) return c.reply.Ok();
  c.reply.NullBulk();
}

void SetNx(CommandContext& c) {
  strings::SetOptions opt;
  opt.condition = strings::SetOptions::Condition::kIfAbsent;
  auto r = strings::Set(*c.txn, c.argv[1], c.argv[2], opt);
  if (!r.ok()) return c.Error(r.status());
  if (r->written) Wrote(c, c.argv[1], "set");
  c.reply.Integer(r->written ? 1 : 0);
}

void SetExGeneric(CommandContext& c, ExpireUnit unit) {
  strings::SetOptions opt;
  if (!ParseExpireArg(c, c.argv[2], unit, false, c.txn->now_ms(), &opt.expire_at_ms)) return;
  auto r = strings::Set(*c.txn, c.argv[1], c.argv[3], opt);
  if (!r.ok()) return c.Error(r.status());
  Wrote(c, c.argv[1], "set");
  c.Notify('g', "expire", c.argv[1]);
  c.reply.Ok();
}
void SetEx(CommandContext& c) { SetExGeneric(c, ExpireUnit::kSeconds); }
void PSetEx(CommandContext& c) { SetExGeneric(c, ExpireUnit::kMillis); }

void GetSet(CommandContext& c) {
  strings::SetOptions opt;
  opt.get = true;
  auto r = strings::Set(*c.txn, c.argv[1], c.argv[2], opt);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes
  Wrote(c, c.argv[1], "set");
  ReplyOptionalBulk(c, r->old_value);
}

void GetDel(CommandContext& c) {
  auto r = strings::GetDel(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes

  if (r->has_value()) {
    c.KeyModified(c.argv[1]);
    c.Notify('g', "del", c.argv[1]);
  }
  ReplyOptionalBulk(c, *r);
}

void GetEx(CommandContext& c) {
  // As Redis: options are checked for syntax first, then the key (nil if absent, WRONGTYPE),
  // and only then the expire value.
  strings::ExpiryChange change;
  using K = strings::ExpiryChange::Kind;
  std::string_view unit;  // the expire option given, repeatable like SET's
  std::string_view value_arg;
  for (size_t i = 2; i < c.argv.size(); ++i) {
    std::string_view a = c.argv[i];
    bool has_next = i + 1 < c.argv.size();
    if (EqualsIgnoreCase(a, "PERSIST") && unit.empty()) {
      change.kind = K::kPersist;
    } else if ((EqualsIgnoreCase(a, "EX") || EqualsIgnoreCase(a, "PX") ||
                EqualsIgnoreCase(a, "EXAT") || EqualsIgnoreCase(a, "PXAT")) &&
               change.kind != K::kPersist && (unit.empty() || EqualsIgnoreCase(unit, a)) &&
               has_next) {
      unit = a;
      value_arg = c.argv[++i];
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  auto current = strings::Get(*c.txn, c.argv[1]);
  if (!current.ok()) return c.Error(current.status());
  if (!current->has_value()) return c.reply.NullBulk();
  if (!unit.empty()) {
    bool secs = EqualsIgnoreCase(unit, "EX") || EqualsIgnoreCase(unit, "EXAT");
    bool abs = unit.size() == 4;
    if (!ParseExpireArg(c, value_arg, secs ? ExpireUnit::kSeconds : ExpireUnit::kMillis, abs,
                        c.txn->now_ms(), &change.at_ms)) {
      return;
    }
    change.kind = K::kSetAt;
  }
  auto r = strings::GetEx(*c.txn, c.argv[1], change);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes

  if (change.kind == K::kSetAt) {
    c.KeyModified(c.argv[1]);
    c.Notify('g', change.at_ms <= c.txn->now_ms() ? "del" : "expire", c.argv[1]);
  } else if (change.kind == K::kPersist) {
    c.KeyModified(c.argv[1]);
    c.Notify('g', "persist", c.argv[1]);
  }
  ReplyOptionalBulk(c, *r);
}

void MGet(CommandContext& c) {
  c.txn->PinSnapshot();
  c.reply.Array(c.argv.size() - 1);
  for (size_t i = 1; i < c.argv.size(); ++i) {
    auto r = strings::Get(*c.txn, c.argv[i]);
    if (r.ok() && r->has_value()) {
      c.reply.Bulk(**r);
    } else {
      c.reply.NullBulk();  // absent, or not a string
    }
  }
}

void MSet(CommandContext& c) {
  if (c.argv.size() % 2 == 0)
    return c.ErrorText("ERR wrong number of arguments for 'mset' command");
  Status st = strings::MSet(*c.txn, c.argv.subspan(1));
  if (!st.ok()) return c.Error(st);
  for (size_t i = 1; i < c.argv.size(); i += 2) Wrote(c, c.argv[i], "set");
  c.reply.Ok();
}

void MSetNx(CommandContext& c) {
  if (c.argv.size() % 2 == 0) {
    return c.ErrorText("ERR wrong number of arguments for 'msetnx' command");
  }
  auto r = strings::MSetNx(*c.txn, c.argv.subspan(1));
  if (!r.ok()) return c.Error(r.status());
  if (*r) {
    for (size_t i = 1; i < c.argv.size(); i += 2) Wrote(c, c.argv[i], "set");
  }
  c.reply.Integer(*r ? 1 : 0);
}

void Append(CommandContext& c) {
  auto r = strings::Append(*c.txn, c.argv[1], c.argv[2], MaxBytes(c));
  if (!r.ok()) return c.Error(r.status());
  Wrote(c, c.argv[1], "append");
  c.reply.Integer(*r);
}

void StrLen(CommandContext& c) {
  auto r = strings::StrLen(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void IncrByGeneric(CommandContext& c, int64_t delta) {
  auto r = strings::IncrBy(*c.txn, c.argv[1], delta);
  if (!r.ok()) return c.Error(r.status());
  Wrote(c, c.argv[1], "incrby");
  c.reply.Integer(*r);
}
void Incr(CommandContext& c) { IncrByGeneric(c, 1); }
void Decr(CommandContext& c) { IncrByGeneric(c, -1); }
void IncrBy(CommandContext& c) {
  auto v = ToInt64(c.argv[2]);
  if (!v) return c.Error(Code::kNotInteger);
  IncrByGeneric(c, *v);
}
void DecrBy(CommandContext& c) {
  auto v = ToInt64(c.argv[2]);
  if (!v) return c.Error(Code::kNotInteger);
  if (*v == INT64_MIN) return c.ErrorText("ERR decrement would overflow");
  IncrByGeneric(c, -*v);
}

void IncrByFloat(CommandContext& c) {
  long double delta;
  if (!ParseLongDouble(c.argv[2], &delta)) return c.Error(Code::kNotFloat);
  auto r = strings::IncrByFloat(*c.txn, c.argv[1], delta);
  if (!r.ok()) return c.Error(r.status());
  Wrote(c, c.argv[1], "incrbyfloat");
  c.reply.Bulk(*r);
}

void GetRange(CommandContext& c) {
  auto v = strings::Get(*c.txn, c.argv[1]);
  if (!v.ok()) return c.Error(v.status());
  std::string empty;
  auto r = keel::GetRange(v->has_value() ? **v : empty, c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  c.reply.Bulk(*r);
}

void SetRange(CommandContext& c) {
  auto off = ParseSetRangeOffset(c.argv[2]);
  if (!off.ok()) return c.Error(off.status());
  if (*off > static_cast<uint64_t>(INT64_MAX)) return c.Error(Code::kStringTooLong);
  auto r = strings::SetRange(*c.txn, c.argv[1], static_cast<int64_t>(*off), c.argv[3], MaxBytes(c));
  if (!r.ok()) return c.Error(r.status());
  if (!c.argv[3].empty()) Wrote(c, c.argv[1], "setrange");
  c.reply.Integer(*r);
}

void Lcs(CommandContext& c) {
  // Redis checks the keys' types before it parses the options.
  auto a = strings::Get(*c.txn, c.argv[1]);
  auto b = strings::Get(*c.txn, c.argv[2]);
  if ((!a.ok() && a.code() == Code::kWrongType) || (!b.ok() && b.code() == Code::kWrongType)) {
    return c.Error(Code::kLcsWrongType);
  }
  if (!a.ok()) return c.Error(a.status());
  if (!b.ok()) return c.Error(b.status());
  auto opts = ParseLcsOptions(c.argv.subspan(3));
  if (!opts.ok()) return c.Error(opts.status());
  std::string sa = a->value_or(""), sb = b->value_or("");
  auto r = ComputeLcs(sa, sb, *opts, MaxBytes(c));
  if (!r.ok()) return c.Error(r.status());
  switch (r->kind) {
    case LcsResult::Kind::kString:
      return c.reply.Bulk(r->lcs);
    case LcsResult::Kind::kLength:
      return c.reply.Integer(static_cast<int64_t>(r->length));
    case LcsResult::Kind::kIdx:
      break;
  }
  c.reply.Map(2);
  c.reply.Bulk("matches");
  c.reply.Array(r->matches.size());
  for (const auto& m : r->matches) {
    c.reply.Array(r->with_match_len ? 3 : 2);
    c.reply.Array(2);
    c.reply.Integer(static_cast<int64_t>(m.a_start));
    c.reply.Integer(static_cast<int64_t>(m.a_end));
    c.reply.Array(2);
    c.reply.Integer(static_cast<int64_t>(m.b_start));
    c.reply.Integer(static_cast<int64_t>(m.b_end));
    if (r->with_match_len) c.reply.Integer(static_cast<int64_t>(m.len));
  }
  c.reply.Bulk("len");
  c.reply.Integer(static_cast<int64_t>(r->length));
}

void SetBitCmd(CommandContext& c) {
  auto off = ParseBitOffset(c.argv[2], MaxBytes(c));
  if (!off.ok()) return c.Error(off.status());
  auto bit = ParseBitValue(c.argv[3]);
  if (!bit.ok()) return c.Error(bit.status());
  KeyRecord rec;
  std::string value;
  Status st = strings::LoadString(*c.txn, c.argv[1], &rec, &value);
  if (!st.ok()) return c.Error(st);
  int old = SetBit(&value, *off, *bit);
  strings::StoreKeepTtl(*c.txn, c.argv[1], &rec, value, StringEncoding::kRaw);
  Wrote(c, c.argv[1], "setbit");
  c.reply.Integer(old);
}

void GetBitCmd(CommandContext& c) {
  auto off = ParseBitOffset(c.argv[2], MaxBytes(c));
  if (!off.ok()) return c.Error(off.status());
  auto v = strings::Get(*c.txn, c.argv[1]);
  if (!v.ok()) return c.Error(v.status());
  c.reply.Integer(v->has_value() ? GetBit(**v, *off) : 0);
}

void BitCountCmd(CommandContext& c) {
  auto v = strings::Get(*c.txn, c.argv[1]);
  if (!v.ok()) return c.Error(v.status());
  auto r = BitCount(v->value_or(""), c.argv.subspan(2), v->has_value());
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void BitPosCmd(CommandContext& c) {
  // Redis checks the bit argument before the key's type.
  auto bit = ToInt64(c.argv[2]);
  if (!bit) return c.Error(Code::kNotInteger);
  if (*bit != 0 && *bit != 1) return c.Error(Code::kBitArgument);
  auto v = strings::Get(*c.txn, c.argv[1]);
  if (!v.ok()) return c.Error(v.status());
  auto r = BitPos(v->value_or(""), v->has_value(), c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void BitOpCmd(CommandContext& c) {
  auto op = ParseBitOp(c.argv[1], c.argv.size() - 3);
  if (!op.ok()) return c.Error(op.status());
  std::vector<std::string> values;
  for (size_t i = 3; i < c.argv.size(); ++i) {
    KeyRecord rec;
    std::string v;
    Status st = strings::LoadString(*c.txn, c.argv[i], &rec, &v);
    if (!st.ok()) return c.Error(st);
    values.push_back(std::move(v));
  }
  std::vector<std::string_view> views(values.begin(), values.end());
  std::string result = BitOp(*op, views);
  KeyRecord dest;
  Status st = c.txn->Load(c.argv[2], &dest);
  if (!st.ok()) return c.Error(st);
  if (result.empty()) {
    if (dest.exists) {
      c.KeyModified(c.argv[2]);
      c.Notify('g', "del", c.argv[2]);
    }
    c.txn->Remove(c.argv[2], &dest);
  } else {
    Wrote(c, c.argv[2], "set");
    Metadata meta;
    meta.type = ValueType::kString;
    meta.encoding = StringEncoding::kRaw;
    c.txn->Store(c.argv[2], &dest, meta, result);
  }
  c.reply.Integer(static_cast<int64_t>(result.size()));
}

void ReplyBitfield(CommandContext& c, const std::vector<std::optional<int64_t>>& replies) {
  c.reply.Array(replies.size());
  for (const auto& r : replies) {
    if (r) {
      c.reply.Integer(*r);
    } else {
      c.reply.NullBulk();
    }
  }
}

void BitFieldCmd(CommandContext& c) {
  auto cmd = ParseBitfield(c.argv.subspan(2), /*readonly=*/false, MaxBytes(c));
  if (!cmd.ok()) return c.Error(cmd.status());
  KeyRecord rec;
  std::string value;
  Status st = strings::LoadString(*c.txn, c.argv[1], &rec, &value);
  if (!st.ok()) return c.Error(st);
  BitfieldResult r = ExecuteBitfield(*cmd, &value);
  if (r.modified) {
    strings::StoreKeepTtl(*c.txn, c.argv[1], &rec, value, StringEncoding::kRaw);
    Wrote(c, c.argv[1], "setbit");
  }
  ReplyBitfield(c, r.replies);
}

void BitFieldRoCmd(CommandContext& c) {
  auto cmd = ParseBitfield(c.argv.subspan(2), /*readonly=*/true, MaxBytes(c));
  if (!cmd.ok()) return c.Error(cmd.status());
  auto v = strings::Get(*c.txn, c.argv[1]);
  if (!v.ok()) return c.Error(v.status());
  ReplyBitfield(c, ExecuteBitfieldReadOnly(*cmd, v->value_or("")));
}

constexpr uint32_t kRead = kCmdReadOnly;
constexpr uint32_t kWrite = kCmdWrite | kCmdDenyOom;

}  // namespace

void RegisterStringCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("string");
  const std::string_view r = "@read @string @fast", w = "@write @string @fast",
                         ws = "@write @string @slow", rs = "@read @string @slow",
                         wb = "@write @bitmap @slow", rb = "@read @bitmap @slow",
                         wbf = "@write @bitmap @fast", rbf = "@read @bitmap @fast";
  auto& o = *out;
  o.push_back(
      Row("get", 2, kRead | kCmdFast, 1, 1, 1, Get, "Get the value of a key", "1.0.0", "O(1)", r));
  o.push_back(
      Row("set", -3, kWrite, 1, 1, 1, Set, "Set the string value of a key", "1.0.0", "O(1)", ws));
  o.push_back(Row("setnx", 3, kWrite | kCmdFast, 1, 1, 1, SetNx,
                  "Set the value of a key, only if the key does not exist", "1.0.0", "O(1)", w));
  o.push_back(Row("setex", 4, kWrite, 1, 1, 1, SetEx, "Set the value and expiration of a key",
                  "2.0.0", "O(1)", ws));
  o.push_back(Row("psetex", 4, kWrite, 1, 1, 1, PSetEx,
                  "Set the value and expiration in milliseconds of a key", "2.6.0", "O(1)", ws));
  o.push_back(Row("getset", 3, kWrite | kCmdFast, 1, 1, 1, GetSet,
                  "Set the string value of a key and return its old value", "1.0.0", "O(1)", w));
  o.push_back(Row("getdel", 2, kCmdWrite | kCmdFast, 1, 1, 1, GetDel,
                  "Get the value of a key and delete the key", "6.2.0", "O(1)", w));
  o.push_back(Row("getex", -2, kCmdWrite | kCmdFast, 1, 1, 1, GetEx,
                  "Get the value of a key and optionally set its expiration", "6.2.0", "O(1)", w));
  o.push_back(Row("mget", -2, kRead | kCmdFast, 1, -1, 1, MGet,
                  "Get the values of all the given keys", "1.0.0",
                  "O(N) where N is the number of keys to retrieve.", r));
  o.push_back(Row("mset", -3, kWrite, 1, -1, 2, MSet, "Set multiple keys to multiple values",
                  "1.0.1", "O(N) where N is the number of keys to set.", ws));
  o.push_back(Row("msetnx", -3, kWrite, 1, -1, 2, MSetNx,
                  "Set multiple keys to multiple values, only if none of the keys exist", "1.0.1",
                  "O(N) where N is the number of keys to set.", ws));
  o.push_back(Row("append", 3, kWrite | kCmdFast, 1, 1, 1, Append, "Append a value to a key",
                  "2.0.0", "O(1)", w));
  o.push_back(Row("strlen", 2, kRead | kCmdFast, 1, 1, 1, StrLen,
                  "Get the length of the value stored in a key", "2.2.0", "O(1)", r));
  o.push_back(Row("incr", 2, kWrite | kCmdFast, 1, 1, 1, Incr,
                  "Increment the integer value of a key by one", "1.0.0", "O(1)", w));
  o.push_back(Row("decr", 2, kWrite | kCmdFast, 1, 1, 1, Decr,
                  "Decrement the integer value of a key by one", "1.0.0", "O(1)", w));
  o.push_back(Row("incrby", 3, kWrite | kCmdFast, 1, 1, 1, IncrBy,
                  "Increment the integer value of a key by the given amount", "1.0.0", "O(1)", w));
  o.push_back(Row("decrby", 3, kWrite | kCmdFast, 1, 1, 1, DecrBy,
                  "Decrement the integer value of a key by the given number", "1.0.0", "O(1)", w));
  o.push_back(Row("incrbyfloat", 3, kWrite | kCmdFast, 1, 1, 1, IncrByFloat,
                  "Increment the float value of a key by the given amount", "2.6.0", "O(1)", w));
  o.push_back(Row("getrange", 4, kRead, 1, 1, 1, GetRange,
                  "Get a substring of the string stored at a key", "2.4.0",
                  "O(N) where N is the length of the returned string.", rs));
  o.push_back(Row("substr", 4, kRead, 1, 1, 1, GetRange,
                  "Get a substring of the string stored at a key", "1.0.0",
                  "O(N) where N is the length of the returned string.", rs));
  o.push_back(Row("setrange", 4, kWrite, 1, 1, 1, SetRange,
                  "Overwrite part of a string at key starting at the specified offset", "2.2.0",
                  "O(1), not counting the time taken to copy the new string in place.", ws));
  o.push_back(Row("lcs", -3, kRead, 1, 2, 1, Lcs, "Find longest common substring", "7.0.0",
                  "O(N*M) where N and M are the lengths of s1 and s2, respectively", rs));
  o.push_back(Row("setbit", 4, kWrite, 1, 1, 1, SetBitCmd,
                  "Sets or clears the bit at offset in the string value stored at key", "2.2.0",
                  "O(1)", wb));
  o.push_back(Row("getbit", 3, kRead | kCmdFast, 1, 1, 1, GetBitCmd,
                  "Returns the bit value at offset in the string value stored at key", "2.2.0",
                  "O(1)", rbf));
  o.push_back(Row("bitcount", -2, kRead, 1, 1, 1, BitCountCmd, "Count set bits in a string",
                  "2.6.0", "O(N)", rb));
  o.push_back(Row("bitpos", -3, kRead, 1, 1, 1, BitPosCmd,
                  "Find first bit set or clear in a string", "2.8.7", "O(N)", rb));
  o.push_back(Row("bitop", -4, kWrite, 2, -1, 1, BitOpCmd,
                  "Perform bitwise operations between strings", "2.6.0", "O(N)", wb));
  o.push_back(Row("bitfield", -2, kWrite, 1, 1, 1, BitFieldCmd,
                  "Perform arbitrary bitfield integer operations on strings", "3.2.0",
                  "O(1) for each subcommand specified", wb));
  o.push_back(
      Row("bitfield_ro", -2, kRead | kCmdFast, 1, 1, 1, BitFieldRoCmd,
          "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
          "6.0.0", "O(1) for each subcommand specified", rbf));
  for (auto& s : o) {
    if (s.group.empty()) s.group = "string";
  }
  for (auto& s : o) {
    if (s.name == "setbit" || s.name == "getbit" || s.name == "bitcount" || s.name == "bitpos" ||
        s.name == "bitop" || s.name == "bitfield" || s.name == "bitfield_ro") {
      s.group = "bitmap";
    }
  }
  (void)wbf;
}

}  // namespace keel::server
