// Generic key commands: the RESP shells of datatypes/keyspace.h.
#include "datatypes/keyspace.h"
#include "datatypes/string.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/server.h"

namespace keel::server {
namespace {

void Del(CommandContext& c) {
  int64_t n = 0;
  for (size_t i = 1; i < c.argv.size(); ++i) {
    auto r = keys::Delete(*c.txn, c.argv[i]);
    if (!r.ok()) return c.Error(r.status());
    if (*r) {
      ++n;
      c.KeyModified(c.argv[i]);
      c.Notify('g', "del", c.argv[i]);
    }
  }
  c.reply.Integer(n);
}

void Exists(CommandContext& c) {
  c.txn->PinSnapshot();
  int64_t n = 0;
  for (size_t i = 1; i < c.argv.size(); ++i) {
    auto r = keys::Exists(*c.txn, c.argv[i]);
    if (!r.ok()) return c.Error(r.status());
    n += *r ? 1 : 0;
  }
  c.reply.Integer(n);
}

void Touch(CommandContext& c) { Exists(c); }

void Type(CommandContext& c) {
  c.txn->set_touch(false);
  auto r = keys::Type(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.SimpleString(r->has_value() ? TypeName(**r) : std::string_view("none"));
}

enum class Unit { kSeconds, kMillis };

void ExpireGeneric(CommandContext& c, Unit unit, bool absolute) {
  // As Redis: the options are checked before the time argument.
  keys::ExpireCondition cond = keys::ExpireCondition::kAlways;
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t i = 3; i < c.argv.size(); ++i) {
    std::string_view a = c.argv[i];
    if (EqualsIgnoreCase(a, "NX")) {
      nx = true;
    } else if (EqualsIgnoreCase(a, "XX")) {
      xx = true;
    } else if (EqualsIgnoreCase(a, "GT")) {
      gt = true;
    } else if (EqualsIgnoreCase(a, "LT")) {
      lt = true;
    } else {
      return c.ErrorText("ERR Unsupported option " + std::string(a));
    }
  }
  if (nx && (xx || gt || lt)) {
    return c.ErrorText("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (gt && lt) return c.ErrorText("ERR GT and LT options at the same time are not compatible");
  if (nx) cond = keys::ExpireCondition::kNX;
  if (xx) cond = keys::ExpireCondition::kXX;
  if (gt) cond = keys::ExpireCondition::kGT;
  if (lt) cond = keys::ExpireCondition::kLT;
  if (xx && gt) cond = keys::ExpireCondition::kGT;  // GT already implies an existing TTL
  if (xx && lt) cond = keys::ExpireCondition::kLT;
  auto v = ToInt64(c.argv[2]);
  if (!v) return c.Error(Code::kNotInteger);
  int64_t when = *v;
  if (unit == Unit::kSeconds) {
    if (__builtin_mul_overflow(when, int64_t{1000}, &when)) return c.Error(Code::kInvalidExpire);
  }
  if (!absolute) {
    if (__builtin_add_overflow(when, static_cast<int64_t>(c.txn->now_ms()), &when)) {
      return c.Error(Code::kInvalidExpire);
    }
  }
  bool xx_lt = xx && lt;
  if (xx_lt) {
    // XX LT: an existing TTL is required as well as a smaller one.
    auto ttl = keys::TtlMs(*c.txn, c.argv[1]);
    if (!ttl.ok()) return c.Error(ttl.status());
    if (*ttl == -1) return c.reply.Integer(0);
  }
  auto r = keys::ExpireAt(*c.txn, c.argv[1], when, cond);
  if (!r.ok()) return c.Error(r.status());
  if (*r) {
    c.KeyModified(c.argv[1]);
    // Redis publishes "del" (a time in the past) before replying, "expire" after.
    bool deleted = when <= static_cast<int64_t>(c.txn->now_ms());
    c.events_after_reply = !deleted;
    c.Notify('g', deleted ? "del" : "expire", c.argv[1]);
  }
  c.reply.Integer(*r ? 1 : 0);
}
void Expire(CommandContext& c) { ExpireGeneric(c, Unit::kSeconds, false); }
void PExpire(CommandContext& c) { ExpireGeneric(c, Unit::kMillis, false); }
void ExpireAt(CommandContext& c) { ExpireGeneric(c, Unit::kSeconds, true); }
void PExpireAt(CommandContext& c) { ExpireGeneric(c, Unit::kMillis, true); }

void TtlGeneric(CommandContext& c, bool ms, bool absolute) {
  c.txn->set_touch(false);
  auto r = absolute ? keys::ExpireTimeMs(*c.txn, c.argv[1]) : keys::TtlMs(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  int64_t v = *r;
  if (v < 0) return c.reply.Integer(v);
  c.reply.Integer(ms ? v : (v + 500) / 1000);
}
void Ttl(CommandContext& c) { TtlGeneric(c, false, false); }
void PTtl(CommandContext& c) { TtlGeneric(c, true, false); }
void ExpireTime(CommandContext& c) { TtlGeneric(c, false, true); }
void PExpireTime(CommandContext& c) { TtlGeneric(c, true, true); }

void Persist(CommandContext& c) {
  auto r = keys::Persist(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  if (*r) {
    c.KeyModified(c.argv[1]);
    c.Notify('g', "persist", c.argv[1]);
  }
  c.reply.Integer(*r ? 1 : 0);
}

void Renamed(CommandContext& c) {
  c.KeyModified(c.argv[1]);
  c.KeyModified(c.argv[2]);
  c.Notify('g', "rename_from", c.argv[1]);
  c.Notify('g', "rename_to", c.argv[2]);
}

void Rename(CommandContext& c) {
  auto r = keys::Rename(*c.txn, c.argv[1], c.argv[2], false);
  if (!r.ok()) return c.Error(r.status());
  if (*r && c.argv[1] != c.argv[2]) Renamed(c);
  c.reply.Ok();
}

void RenameNx(CommandContext& c) {
  auto r = keys::Rename(*c.txn, c.argv[1], c.argv[2], true);
  if (!r.ok()) return c.Error(r.status());
  if (*r) Renamed(c);
  c.reply.Integer(*r ? 1 : 0);
}

// Parses a db index argument; replies with the error and returns -1 if invalid.
int ParseDb(CommandContext& c, std::string_view arg) {
  auto v = ToInt64(arg);
  if (!v) {
    c.Error(Code::kNotInteger);
    return -1;
  }
  if (*v < 0 || *v >= c.storage().databases()) {
    c.Error(Code::kInvalidDbIndex);
    return -1;
  }
  return static_cast<int>(*v);
}

// Best-effort parse of COPY's DB option / MOVE's db for locking (errors are reported later).
int PeekDb(CommandContext& c, std::string_view arg) {
  auto v = ToInt64(arg);
  if (!v || *v < 0 || *v >= c.storage().databases()) return c.client.db;
  return static_cast<int>(*v);
}

void CopyLocks(CommandContext& c, std::vector<std::pair<int, std::string_view>>* out) {
  for (size_t i = 3; i + 1 < c.argv.size(); ++i) {
    if (EqualsIgnoreCase(c.argv[i], "DB")) out->emplace_back(PeekDb(c, c.argv[i + 1]), c.argv[2]);
  }
}

void MoveLocks(CommandContext& c, std::vector<std::pair<int, std::string_view>>* out) {
  out->emplace_back(PeekDb(c, c.argv[2]), c.argv[1]);
}

void Copy(CommandContext& c) {
  int db = c.client.db;
  bool replace = false;
  for (size_t i = 3; i < c.argv.size(); ++i) {
    if (EqualsIgnoreCase(c.argv[i], "REPLACE")) {
      replace = true;
    } else if (EqualsIgnoreCase(c.argv[i], "DB") && i + 1 < c.argv.size()) {
      db = ParseDb(c, c.argv[++i]);
      if (db < 0) return;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  auto r = keys::Copy(*c.txn, c.argv[1], c.argv[2], db, replace);
  if (!r.ok()) return c.Error(r.status());
  if (*r) {
    c.KeyModified(c.argv[2], db);
    c.Notify('g', "copy_to", c.argv[2], db);
  }
  c.reply.Integer(*r ? 1 : 0);
}

void Move(CommandContext& c) {
  int db = ParseDb(c, c.argv[2]);
  if (db < 0) return;
  auto r = keys::Move(*c.txn, c.argv[1], db);
  if (!r.ok()) return c.Error(r.status());
  if (*r) {
    c.KeyModified(c.argv[1]);
    c.KeyModified(c.argv[1], db);
    c.Notify('g', "move_from", c.argv[1]);
    c.Notify('g', "move_to", c.argv[1], db);
  }
  c.reply.Integer(*r ? 1 : 0);
}

void Keys(CommandContext& c) {
  auto r = keys::Keys(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.BulkArray(*r);
}

void Scan(CommandContext& c) {
  // Parsed as Redis does with strtoul: an optional sign ("-1" wraps to 2^64-1), digits, and
  // nothing else; a leading space or overflow is an invalid cursor.
  uint64_t cursor = 0;
  {
    std::string_view a = c.argv[1];
    bool negative = false;
    if (!a.empty() && (a[0] == '-' || a[0] == '+')) {
      negative = a[0] == '-';
      a.remove_prefix(1);
    }
    if (a.empty()) return c.ErrorText("ERR invalid cursor");
    for (char ch : a) {
      if (ch < '0' || ch > '9') return c.ErrorText("ERR invalid cursor");
      uint64_t digit = static_cast<uint64_t>(ch - '0');
      if (cursor > (UINT64_MAX - digit) / 10) return c.ErrorText("ERR invalid cursor");
      cursor = cursor * 10 + digit;
    }
    if (negative) cursor = 0 - cursor;
  }
  std::optional<std::string_view> pattern;  // no MATCH: every key
  int64_t count = 10;
  std::optional<ValueType> type;
  bool unknown_type = false;
  for (size_t i = 2; i < c.argv.size(); i += 2) {
    if (i + 1 >= c.argv.size()) return c.Error(Code::kSyntax);
    std::string_view opt = c.argv[i], val = c.argv[i + 1];
    if (EqualsIgnoreCase(opt, "MATCH")) {
      pattern = val;
    } else if (EqualsIgnoreCase(opt, "COUNT")) {
      auto v = ToInt64(val);
      if (!v) return c.Error(Code::kNotInteger);
      if (*v < 1) return c.Error(Code::kSyntax);
      count = *v;
    } else if (EqualsIgnoreCase(opt, "TYPE")) {
      type = TypeFromName(val);
      unknown_type = !type.has_value();
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  auto r = keys::Scan(*c.txn, c.server.scan_cursors(), cursor, pattern,
                      static_cast<size_t>(std::min<int64_t>(count, 1 << 20)), type);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Array(2);
  c.reply.Bulk(std::to_string(r->cursor));
  if (unknown_type) return c.reply.Array(0);
  c.reply.BulkArray(r->keys);
}

void RandomKey(CommandContext& c) {
  auto r = keys::RandomKey(*c.txn, c.server.rng());
  if (!r.ok()) return c.Error(r.status());
  if (!r->has_value()) return c.reply.NullBulk();
  c.reply.Bulk(**r);
}

void Dump(CommandContext& c) {
  auto r = keys::Dump(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  if (!r->has_value()) return c.reply.NullBulk();
  c.reply.Bulk(**r);
}

void Restore(CommandContext& c) {
  keys::RestoreOptions opt;
  bool idle_given = false, freq_given = false;
  uint64_t idle_seconds = 0;
  for (size_t i = 4; i < c.argv.size(); ++i) {
    std::string_view a = c.argv[i];
    bool more = i + 1 < c.argv.size();
    if (EqualsIgnoreCase(a, "REPLACE")) {
      opt.replace = true;
    } else if (EqualsIgnoreCase(a, "ABSTTL")) {
      opt.absolute_ttl = true;
    } else if (EqualsIgnoreCase(a, "IDLETIME") && more && !freq_given) {
      auto v = ToInt64(c.argv[++i]);
      if (!v) return c.Error(Code::kNotInteger);
      if (*v < 0) return c.ErrorText("ERR Invalid IDLETIME value, must be >= 0");
      idle_given = true;
      idle_seconds = static_cast<uint64_t>(*v);
    } else if (EqualsIgnoreCase(a, "FREQ") && more && !idle_given) {
      auto v = ToInt64(c.argv[++i]);
      if (!v) return c.Error(Code::kNotInteger);
      if (*v < 0 || *v > 255) return c.ErrorText("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq_given = true;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  // Redis checks, in this order: the options, BUSYKEY, the TTL, then the payload.
  if (!opt.replace) {
    auto exists = keys::Exists(*c.txn, c.argv[1]);
    if (!exists.ok()) return c.Error(exists.status());
    if (*exists) return c.Error(Code::kBusyKey);
  }
  auto ttl = ToInt64(c.argv[2]);
  if (!ttl) return c.Error(Code::kNotInteger);
  if (*ttl < 0) return c.ErrorText("ERR Invalid TTL value, must be >= 0");
  opt.ttl_ms = *ttl;
  Status st = keys::Restore(*c.txn, c.argv[1], c.argv[3], opt);
  if (!st.ok()) return c.Error(st);
  c.KeyModified(c.argv[1]);
  c.Notify('g', "restore", c.argv[1]);
  if (idle_given) c.storage().SetIdleSeconds(c.txn->db(), c.argv[1], idle_seconds);
  c.reply.Ok();
}

void ObjectGeneric(CommandContext& c, std::string_view what) {
  c.txn->set_touch(false);
  KeyRecord rec;
  Status st = c.txn->Load(c.argv[2], &rec);
  if (!st.ok()) return c.Error(st);
  if (!rec.exists) return c.reply.NullBulk();
  if (what == "encoding") {
    if (rec.meta.type == ValueType::kString) {
      return c.reply.Bulk(strings::EncodingOf(rec.body(), rec.meta.encoding));
    }
    std::string_view tail = rec.body();
    auto variant =
        !tail.empty() && tail[0] == 1 ? CompoundEncoding::kLarge : CompoundEncoding::kCompact;
    return c.reply.Bulk(EncodingName(rec.meta.type, variant));
  }
  if (what == "freq") {
    return c.ErrorText(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time "
        "to adjust.");
  }
  if (what == "idletime") {
    return c.reply.Integer(static_cast<int64_t>(c.storage().IdleSeconds(c.txn->db(), c.argv[2])));
  }
  // refcount: Redis shares the integers 0..9999 (reported as INT_MAX); everything else is 1.
  int64_t n;
  if (rec.meta.type == ValueType::kString &&
      strings::EncodingOf(rec.body(), rec.meta.encoding) == "int" && ParseInt64(rec.body(), &n) &&
      n >= 0 && n < 10000) {
    return c.reply.Integer(2147483647);
  }
  c.reply.Integer(1);
}
void ObjectEncoding(CommandContext& c) { ObjectGeneric(c, "encoding"); }
void ObjectFreq(CommandContext& c) { ObjectGeneric(c, "freq"); }
void ObjectIdleTime(CommandContext& c) { ObjectGeneric(c, "idletime"); }
void ObjectRefCount(CommandContext& c) { ObjectGeneric(c, "refcount"); }
void ObjectHelp(CommandContext& c) {
  static const char* kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.Array(std::size(kLines));
  for (const char* l : kLines) c.reply.SimpleString(l);
}

constexpr uint32_t kRead = kCmdReadOnly;
constexpr uint32_t kWrite = kCmdWrite;

}  // namespace

void RegisterKeyCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("generic");
  const std::string_view rf = "@keyspace @read @fast", wf = "@keyspace @write @fast",
                         ws = "@keyspace @write @slow", rs = "@keyspace @read @slow";
  auto& o = *out;
  o.push_back(Row("del", -2, kWrite, 1, -1, 1, Del, "Delete a key", "1.0.0",
                  "O(N) where N is the number of keys that will be removed.", ws));
  o.push_back(Row("unlink", -2, kWrite | kCmdFast, 1, -1, 1, Del,
                  "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but "
                  "non blocking.",
                  "4.0.0", "O(1) for each key removed regardless of its size.", wf));
  o.push_back(Row("exists", -2, kRead | kCmdFast, 1, -1, 1, Exists, "Determine if a key exists",
                  "1.0.0", "O(N) where N is the number of keys to check.", rf));
  o.push_back(
      Row("touch", -2, kRead | kCmdFast, 1, -1, 1, Touch,
          "Alters the last access time of a key(s). Returns the number of existing keys specified.",
          "3.2.1", "O(N) where N is the number of keys that will be touched.", rf));
  o.push_back(Row("type", 2, kRead | kCmdFast, 1, 1, 1, Type, "Determine the type stored at key",
                  "1.0.0", "O(1)", rf));
  o.push_back(Row("expire", -3, kWrite | kCmdFast, 1, 1, 1, Expire,
                  "Set a key's time to live in seconds", "1.0.0", "O(1)", wf));
  o.push_back(Row("pexpire", -3, kWrite | kCmdFast, 1, 1, 1, PExpire,
                  "Set a key's time to live in milliseconds", "2.6.0", "O(1)", wf));
  o.push_back(Row("expireat", -3, kWrite | kCmdFast, 1, 1, 1, ExpireAt,
                  "Set the expiration for a key as a UNIX timestamp", "1.2.0", "O(1)", wf));
  o.push_back(Row("pexpireat", -3, kWrite | kCmdFast, 1, 1, 1, PExpireAt,
                  "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
                  "2.6.0", "O(1)", wf));
  o.push_back(Row("ttl", 2, kRead | kCmdFast, 1, 1, 1, Ttl,
                  "Get the time to live for a key in seconds", "1.0.0", "O(1)", rf));
  o.push_back(Row("pttl", 2, kRead | kCmdFast, 1, 1, 1, PTtl,
                  "Get the time to live for a key in milliseconds", "2.6.0", "O(1)", rf));
  o.push_back(Row("expiretime", 2, kRead | kCmdFast, 1, 1, 1, ExpireTime,
                  "Get the expiration Unix timestamp for a key", "7.0.0", "O(1)", rf));
  o.push_back(Row("pexpiretime", 2, kRead | kCmdFast, 1, 1, 1, PExpireTime,
                  "Get the expiration Unix timestamp for a key in milliseconds", "7.0.0", "O(1)",
                  rf));
  o.push_back(Row("persist", 2, kWrite | kCmdFast, 1, 1, 1, Persist,
                  "Remove the expiration from a key", "2.2.0", "O(1)", wf));
  o.push_back(Row("rename", 3, kWrite, 1, 2, 1, Rename, "Rename a key", "1.0.0",
                  "O(1) for strings, O(N) for compound types", ws));
  o.push_back(Row("renamenx", 3, kWrite | kCmdFast, 1, 2, 1, RenameNx,
                  "Rename a key, only if the new key does not exist", "1.0.0",
                  "O(1) for strings, O(N) for compound types", wf));
  CommandSpec copy = Row("copy", -3, kWrite | kCmdDenyOom, 1, 2, 1, Copy, "Copy a key", "6.2.0",
                         "O(N) worst case for collections, where N is the number of nested items. "
                         "O(1) for string values.",
                         ws);
  copy.extra_locks = CopyLocks;
  o.push_back(std::move(copy));
  CommandSpec move =
      Row("move", 3, kWrite | kCmdFast, 1, 1, 1, Move, "Move a key to another database", "1.0.0",
          "O(1) for strings, O(N) for compound types", wf);
  move.extra_locks = MoveLocks;
  o.push_back(std::move(move));
  o.push_back(Row("keys", 2, kRead, 0, 0, 0, Keys, "Find all keys matching the given pattern",
                  "1.0.0", "O(N) with N being the number of keys in the database",
                  "@keyspace @read @slow @dangerous"));
  o.push_back(Row("scan", -2, kRead, 0, 0, 0, Scan, "Incrementally iterate the keys space", "2.8.0",
                  "O(1) for every call. O(N) for a complete iteration.", rs));
  o.push_back(Row("randomkey", 1, kRead, 0, 0, 0, RandomKey,
                  "Return a random key from the keyspace", "1.0.0", "O(1)", rs));
  o.push_back(Row("dump", 2, kRead, 1, 1, 1, Dump,
                  "Return a serialized version of the value stored at the specified key.", "2.6.0",
                  "O(1) to access the key and additional O(N*M) to serialize it.", rs));
  o.push_back(Row(
      "restore", -4, kWrite | kCmdDenyOom, 1, 1, 1, Restore,
      "Create a key using the provided serialized value, previously obtained using DUMP.", "2.6.0",
      "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value.",
      "@keyspace @write @slow @dangerous"));
  CommandSpec object = Row("object", -2, kCmdNoStorage, 0, 0, 0, nullptr,
                           "A container for object introspection commands", "2.2.3",
                           "Depends on subcommand.", "@slow");
  object.subcommands = {
      Row("object|encoding", 3, kRead, 2, 2, 1, ObjectEncoding,
          "Inspect the internal encoding of a Redis object", "2.2.3", "O(1)", rs),
      Row("object|freq", 3, kRead, 2, 2, 1, ObjectFreq,
          "Get the logarithmic access frequency counter of a Redis object", "4.0.0", "O(1)", rs),
      Row("object|idletime", 3, kRead, 2, 2, 1, ObjectIdleTime,
          "Get the time since a Redis object was last accessed", "2.2.3", "O(1)", rs),
      Row("object|refcount", 3, kRead, 2, 2, 1, ObjectRefCount,
          "Get the number of references to the value of the key", "2.2.3", "O(1)", rs),
      Row("object|help", 2, kCmdNoStorage | kCmdLoading | kCmdStale, 0, 0, 0, ObjectHelp,
          "Show helpful text about the different subcommands", "6.2.0", "O(1)", "@keyspace @slow"),
  };
  o.push_back(std::move(object));
}

}  // namespace keel::server
