// Set commands: the RESP shells of datatypes/set.h.
#include "datatypes/collection.h"
#include "datatypes/set.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/server.h"

namespace keel::server {
namespace {

void Changed(CommandContext& c, std::string_view key, std::string_view event) {
  c.KeyModified(key);
  c.Notify('s', event, key);
}

void SAdd(CommandContext& c) {
  auto r = sets::Add(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  if (*r > 0) Changed(c, c.argv[1], "sadd");
  c.reply.Integer(*r);
}

void SRem(CommandContext& c) {
  auto r = sets::Rem(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  if (r->removed > 0) {
    Changed(c, c.argv[1], "srem");
    if (r->key_removed) c.Notify('g', "del", c.argv[1]);
  }
  c.reply.Integer(r->removed);
}

void SCard(CommandContext& c) {
  auto r = sets::Card(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void SIsMember(CommandContext& c) {
  auto r = sets::IsMember(*c.txn, c.argv[1], c.argv[2]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r ? 1 : 0);
}

void SMIsMember(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  auto r = sets::MIsMember(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  c.reply.Array(r->size());
  for (bool b : *r) c.reply.Integer(b ? 1 : 0);
}

void ReplySet(CommandContext& c, const std::vector<std::string>& members) {
  c.reply.Set(members.size());
  for (const auto& m : members) c.reply.Bulk(m);
}

void SMembers(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  auto r = sets::Members(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  ReplySet(c, *r);
}

void SRandMember(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  if (c.argv.size() > 3) return c.Error(Code::kSyntax);
  if (c.argv.size() == 2) {
    auto r = sets::RandomMember(*c.txn, c.argv[1], c.server.rng());
    if (!r.ok()) return c.Error(r.status());
    if (!r->has_value()) return c.reply.NullBulk();
    return c.reply.Bulk(**r);
  }
  int64_t count = 0;
  Status st = coll::ParseRangedInt(c.argv[2], -INT64_MAX, INT64_MAX, std::nullopt, &count);
  if (!st.ok()) return c.Error(st);
  if (count < -coll::kMaxRandomReply) {
    return c.ErrorText("ERR count is too large: Keel returns at most 100000000 random members");
  }
  auto r = sets::RandomMembers(*c.txn, c.argv[1], count, c.server.rng());
  if (!r.ok()) return c.Error(r.status());
  c.reply.BulkArray(*r);
}

void SPop(CommandContext& c) {
  if (c.argv.size() > 3) return c.Error(Code::kSyntax);
  std::optional<uint64_t> count;
  if (c.argv.size() == 3) {
    int64_t n = 0;
    Status st = coll::ParseRangedInt(c.argv[2], 0, INT64_MAX, Code::kValueNotPositive, &n);
    if (!st.ok()) return c.Error(st);
    count = static_cast<uint64_t>(n);
  }
  auto r = sets::Pop(*c.txn, c.argv[1], count, c.server.rng());
  if (!r.ok()) return c.Error(r.status());
  if (!r->members.empty()) {
    Changed(c, c.argv[1], "spop");
    // Redis: "spop" before the reply, a "del" of the emptied key after it.
    c.events_after_reply = true;
    if (r->key_removed) c.Notify('g', "del", c.argv[1]);
  }
  if (count) return ReplySet(c, r->members);
  if (r->members.empty()) return c.reply.NullBulk();
  c.reply.Bulk(r->members.front());
}

void SMove(CommandContext& c) {
  auto r = sets::Move(*c.txn, c.argv[1], c.argv[2], c.argv[3]);
  if (!r.ok()) return c.Error(r.status());
  if (r->src_changed) {
    c.Notify('s', "srem", c.argv[1]);
    if (r->src_removed) c.Notify('g', "del", c.argv[1]);
    c.KeyModified(c.argv[1]);
  }
  if (r->dst_changed) Changed(c, c.argv[2], "sadd");
  c.reply.Integer(r->moved ? 1 : 0);
}

void SetOpGeneric(CommandContext& c, sets::SetOp op) {
  c.txn->PinSnapshot();
  auto r = sets::Compute(*c.txn, c.argv.subspan(1), op);
  if (!r.ok()) return c.Error(r.status());
  ReplySet(c, *r);
}
void SInter(CommandContext& c) { SetOpGeneric(c, sets::SetOp::kInter); }
void SUnion(CommandContext& c) { SetOpGeneric(c, sets::SetOp::kUnion); }
void SDiff(CommandContext& c) { SetOpGeneric(c, sets::SetOp::kDiff); }

void SetOpStoreGeneric(CommandContext& c, sets::SetOp op, std::string_view event) {
  auto r = sets::Store(*c.txn, c.argv[1], c.argv.subspan(2), op);
  if (!r.ok()) return c.Error(r.status());
  if (r->size > 0) {
    c.events_after_reply = true;  // Redis replies first, then publishes
    Changed(c, c.argv[1], event);
  } else if (r->dst_deleted) {
    c.KeyModified(c.argv[1]);
    c.Notify('g', "del", c.argv[1]);
  }
  c.reply.Integer(r->size);
}
void SInterStore(CommandContext& c) { SetOpStoreGeneric(c, sets::SetOp::kInter, "sinterstore"); }
void SUnionStore(CommandContext& c) { SetOpStoreGeneric(c, sets::SetOp::kUnion, "sunionstore"); }
void SDiffStore(CommandContext& c) { SetOpStoreGeneric(c, sets::SetOp::kDiff, "sdiffstore"); }

// SINTERCARD numkeys key [key ...] [LIMIT limit]: the keys (clamped to the arguments).
std::vector<size_t> SInterCardKeys(std::span<const std::string_view> argv) {
  std::vector<size_t> out;
  int64_t n = 0;
  if (argv.size() < 2 || !ParseInt64(argv[1], &n) || n < 1) return out;
  for (size_t i = 2; i < argv.size() && i < 2 + static_cast<uint64_t>(n); ++i) out.push_back(i);
  return out;
}

void SInterCard(CommandContext& c) {
  int64_t numkeys = 0;
  Status st = coll::ParseRangedInt(c.argv[1], 1, INT64_MAX, Code::kNumkeysNotPositive, &numkeys);
  if (!st.ok()) return c.Error(st);
  if (numkeys > static_cast<int64_t>(c.argv.size()) - 2) {
    return c.ErrorText("ERR Number of keys can't be greater than number of args");
  }
  int64_t limit = 0;
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < c.argv.size(); ++j) {
    if (EqualsIgnoreCase(c.argv[j], "limit") && j + 1 < c.argv.size()) {
      st = coll::ParseRangedInt(c.argv[++j], 0, INT64_MAX, Code::kLimitNegative, &limit);
      if (!st.ok()) return c.Error(st);
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  c.txn->PinSnapshot();
  auto r = sets::InterCard(*c.txn, c.argv.subspan(2, static_cast<size_t>(numkeys)),
                           static_cast<uint64_t>(limit));
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void SScan(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  uint64_t cursor = 0;
  Status st = coll::ParseScanCursor(c.argv[2], &cursor);
  if (!st.ok()) return c.Error(st);
  auto card = sets::Card(*c.txn, c.argv[1]);
  if (!card.ok()) return c.Error(card.status());
  if (*card == 0) {
    c.reply.Array(2);
    c.reply.Bulk("0");
    return c.reply.Array(0);
  }
  coll::ScanOptions opt;
  st = coll::ParseScanOptions(c.argv.subspan(3), &opt);
  if (!st.ok()) return c.Error(st);
  std::optional<std::string_view> pattern;
  if (opt.pattern) pattern = *opt.pattern;
  auto r = sets::Scan(*c.txn, c.argv[1], cursor, pattern, opt.count);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Array(2);
  c.reply.Bulk(std::to_string(r->cursor));
  c.reply.BulkArray(r->members);
}

}  // namespace

void RegisterSetCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("set");
  auto& o = *out;
  // Rows as Redis 7.0's COMMAND INFO / COMMAND DOCS describe them.
  o.push_back(Row("sadd", -3, kCmdWrite | kCmdDenyOom | kCmdFast, 1, 1, 1, SAdd,
                  "Add one or more members to a set", "1.0.0",
                  "O(1) for each element added, so O(N) to add N elements when the command is "
                  "called with multiple arguments.",
                  "@write @set @fast"));
  o.push_back(Row("srem", -3, kCmdWrite | kCmdFast, 1, 1, 1, SRem,
                  "Remove one or more members from a set", "1.0.0",
                  "O(N) where N is the number of members to be removed.", "@write @set @fast"));
  o.push_back(Row("scard", 2, kCmdReadOnly | kCmdFast, 1, 1, 1, SCard,
                  "Get the number of members in a set", "1.0.0", "O(1)", "@read @set @fast"));
  o.push_back(Row("sismember", 3, kCmdReadOnly | kCmdFast, 1, 1, 1, SIsMember,
                  "Determine if a given value is a member of a set", "1.0.0", "O(1)",
                  "@read @set @fast"));
  o.push_back(Row("smismember", -3, kCmdReadOnly | kCmdFast, 1, 1, 1, SMIsMember,
                  "Returns the membership associated with the given elements for a set", "6.2.0",
                  "O(N) where N is the number of elements being checked for membership",
                  "@read @set @fast"));
  o.push_back(Row("smembers", 2, kCmdReadOnly, 1, 1, 1, SMembers, "Get all the members in a set",
                  "1.0.0", "O(N) where N is the set cardinality.", "@read @set @slow"));
  o.push_back(Row("srandmember", -2, kCmdReadOnly, 1, 1, 1, SRandMember,
                  "Get one or multiple random members from a set", "1.0.0",
                  "Without the count argument O(1), otherwise O(N) where N is the absolute value "
                  "of the passed count.",
                  "@read @set @slow"));
  o.push_back(Row(
      "spop", -2, kCmdWrite | kCmdFast, 1, 1, 1, SPop,
      "Remove and return one or multiple random members from a set", "1.0.0",
      "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
      "@write @set @fast"));
  o.push_back(Row("smove", 4, kCmdWrite | kCmdFast, 1, 2, 1, SMove,
                  "Move a member from one set to another", "1.0.0", "O(1)", "@write @set @fast"));
  o.push_back(Row("sinter", -2, kCmdReadOnly, 1, -1, 1, SInter, "Intersect multiple sets", "1.0.0",
                  "O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                  "number of sets.",
                  "@read @set @slow"));
  o.push_back(Row("sintercard", -3, kCmdReadOnly, 0, 0, 0, SInterCard,
                  "Intersect multiple sets and return the cardinality of the result", "7.0.0",
                  "O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                  "number of sets.",
                  "@read @set @slow", SInterCardKeys));
  o.push_back(Row("sinterstore", -3, kCmdWrite | kCmdDenyOom, 1, -1, 1, SInterStore,
                  "Intersect multiple sets and store the resulting set in a key", "1.0.0",
                  "O(N*M) worst case where N is the cardinality of the smallest set and M is the "
                  "number of sets.",
                  "@write @set @slow"));
  o.push_back(Row("sunion", -2, kCmdReadOnly, 1, -1, 1, SUnion, "Add multiple sets", "1.0.0",
                  "O(N) where N is the total number of elements in all given sets.",
                  "@read @set @slow"));
  o.push_back(Row("sunionstore", -3, kCmdWrite | kCmdDenyOom, 1, -1, 1, SUnionStore,
                  "Add multiple sets and store the resulting set in a key", "1.0.0",
                  "O(N) where N is the total number of elements in all given sets.",
                  "@write @set @slow"));
  o.push_back(Row("sdiff", -2, kCmdReadOnly, 1, -1, 1, SDiff, "Subtract multiple sets", "1.0.0",
                  "O(N) where N is the total number of elements in all given sets.",
                  "@read @set @slow"));
  o.push_back(Row("sdiffstore", -3, kCmdWrite | kCmdDenyOom, 1, -1, 1, SDiffStore,
                  "Subtract multiple sets and store the resulting set in a key", "1.0.0",
                  "O(N) where N is the total number of elements in all given sets.",
                  "@write @set @slow"));
  o.push_back(
      Row("sscan", -3, kCmdReadOnly, 1, 1, 1, SScan, "Incrementally iterate Set elements", "2.8.0",
          "O(1) for every call. O(N) for a complete iteration, including enough command calls for "
          "the cursor to return back to 0. N is the number of elements inside the collection..",
          "@read @set @slow"));
}

}  // namespace keel::server
