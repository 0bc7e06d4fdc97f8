// Sorted-set commands: the RESP shells of datatypes/zset.h, including the blocking pops
// (BZPOPMIN, BZPOPMAX, BZMPOP) on the server's CommandContext::Block.
#include <cmath>

#include "datatypes/collection.h"
#include "datatypes/number.h"
#include "datatypes/zset.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/server.h"

namespace keel::server {
namespace {

using zsets::ScoredMember;

void Changed(CommandContext& c, std::string_view key, std::string_view event) {
  c.KeyModified(key);
  c.Notify('z', event, key);
}

// Member (and score) pairs: RESP3 nests each pair (unless `flat`), RESP2 is flat.
void ReplyMembers(CommandContext& c, const std::vector<ScoredMember>& items, bool with_scores,
                  bool flat = false) {
  bool nested = with_scores && c.reply.protocol() >= 3 && !flat;
  c.reply.Array(with_scores && !nested ? items.size() * 2 : items.size());
  for (const auto& m : items) {
    if (nested) c.reply.Array(2);
    c.reply.Bulk(m.member);
    if (with_scores) c.reply.Double(m.score);
  }
}

// ---- ZADD / ZINCRBY

void ZAddGeneric(CommandContext& c, bool incr_command) {
  zsets::AddOptions opt;
  opt.incr = incr_command;
  bool ch = false;
  size_t idx = 2;
  for (; idx < c.argv.size(); ++idx) {
    std::string_view a = c.argv[idx];
    if (EqualsIgnoreCase(a, "nx")) {
      opt.nx = true;
    } else if (EqualsIgnoreCase(a, "xx")) {
      opt.xx = true;
    } else if (EqualsIgnoreCase(a, "ch")) {
      ch = true;
    } else if (EqualsIgnoreCase(a, "incr")) {
      opt.incr = true;
    } else if (EqualsIgnoreCase(a, "gt")) {
      opt.gt = true;
    } else if (EqualsIgnoreCase(a, "lt")) {
      opt.lt = true;
    } else {
      break;
    }
  }
  size_t elements = c.argv.size() - idx;
  if (elements == 0 || elements % 2 != 0) return c.Error(Code::kSyntax);
  elements /= 2;
  if (opt.nx && opt.xx) {
    return c.ErrorText("ERR XX and NX options at the same time are not compatible");
  }
  if ((opt.gt && opt.nx) || (opt.lt && opt.nx) || (opt.gt && opt.lt)) {
    return c.ErrorText("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (opt.incr && elements > 1) {
    return c.ErrorText("ERR INCR option supports a single increment-element pair");
  }
  std::vector<zsets::ScoreMemberArg> items(elements);
  for (size_t j = 0; j < elements; ++j) {
    if (!ParseDouble(c.argv[idx + 2 * j], &items[j].score)) return c.Error(Code::kNotFloat);
    items[j].member = c.argv[idx + 2 * j + 1];
  }
  auto r = zsets::Add(*c.txn, c.argv[1], items, opt);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes
  if (r->added > 0 || r->updated > 0) Changed(c, c.argv[1], opt.incr ? "zincr" : "zadd");
  if (opt.incr) {
    if (r->processed == 0) return c.reply.NullBulk();
    return c.reply.Double(r->score);
  }
  c.reply.Integer(ch ? r->added + r->updated : r->added);
}
void ZAdd(CommandContext& c) { ZAddGeneric(c, false); }
void ZIncrBy(CommandContext& c) { ZAddGeneric(c, true); }

void ZRem(CommandContext& c) {
  auto r = zsets::Rem(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  if (r->removed > 0) {
    Changed(c, c.argv[1], "zrem");
    if (r->key_removed) c.Notify('g', "del", c.argv[1]);
  }
  c.reply.Integer(r->removed);
}

void ZCard(CommandContext& c) {
  auto r = zsets::Card(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void ZScore(CommandContext& c) {
  auto r = zsets::Score(*c.txn, c.argv[1], c.argv[2]);
  if (!r.ok()) return c.Error(r.status());
  if (!r->has_value()) return c.reply.NullBulk();
  c.reply.Double(**r);
}

void ZMScore(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  auto r = zsets::MScore(*c.txn, c.argv[1], c.argv.subspan(2));
  if (!r.ok()) return c.Error(r.status());
  c.reply.Array(r->size());
  for (const auto& v : *r) {
    if (v) {
      c.reply.Double(*v);
    } else {
      c.reply.NullBulk();
    }
  }
}

void ZRankGeneric(CommandContext& c, bool reverse) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  auto r = zsets::Rank(*c.txn, c.argv[1], c.argv[2], reverse);
  if (!r.ok()) return c.Error(r.status());
  if (!r->has_value()) return c.reply.NullBulk();
  c.reply.Integer(**r);
}
void ZRank(CommandContext& c) { ZRankGeneric(c, false); }
void ZRevRank(CommandContext& c) { ZRankGeneric(c, true); }

const char kNotFloatRange[] = "ERR min or max is not a float";
const char kNotLexRange[] = "ERR min or max not valid string range item";

void ZCount(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  zsets::ScoreRange range;
  if (!zsets::ParseScoreRange(c.argv[2], c.argv[3], &range)) return c.ErrorText(kNotFloatRange);
  auto r = zsets::Count(*c.txn, c.argv[1], range);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void ZLexCount(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  zsets::LexRange range;
  if (!zsets::ParseLexRange(c.argv[2], c.argv[3], &range)) return c.ErrorText(kNotLexRange);
  auto r = zsets::LexCount(*c.txn, c.argv[1], range);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

// ---- ZRANGE and its forms

enum class Preset { kAuto, kRank, kScore, kLex };

// Parses ZRANGE-style arguments from argv[first] = <src> <min> <max> [options] the way Redis's
// zrangeGenericCommand does. Replies with the error and returns false on failure.
bool ParseRange(CommandContext& c, size_t first, bool store, Preset preset, bool preset_rev,
                zsets::RangeSpec* spec, bool* with_scores) {
  bool rev = preset_rev;
  bool rev_given = preset != Preset::kAuto;  // only ZRANGE takes REV
  Preset type = preset;
  bool limit_given = false;
  int64_t offset = 0, limit = -1;
  *with_scores = false;
  for (size_t j = first + 3; j < c.argv.size(); ++j) {
    std::string_view a = c.argv[j];
    size_t left = c.argv.size() - j - 1;
    if (!store && EqualsIgnoreCase(a, "withscores")) {
      *with_scores = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      auto o = ToInt64(c.argv[j + 1]);
      auto l = o ? ToInt64(c.argv[j + 2]) : std::nullopt;
      if (!o || !l) {
        c.Error(Code::kNotInteger);
        return false;
      }
      offset = *o;
      limit = *l;
      limit_given = true;
      j += 2;
    } else if (!rev_given && EqualsIgnoreCase(a, "rev")) {
      rev = true;
      rev_given = true;
    } else if (type == Preset::kAuto && EqualsIgnoreCase(a, "bylex")) {
      type = Preset::kLex;
    } else if (type == Preset::kAuto && EqualsIgnoreCase(a, "byscore")) {
      type = Preset::kScore;
    } else {
      c.Error(Code::kSyntax);
      return false;
    }
  }
  if (type == Preset::kAuto) type = Preset::kRank;
  // Redis's "LIMIT given" test is "count != -1".
  if (limit_given && limit != -1 && type == Preset::kRank) {
    c.ErrorText(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return false;
  }
  if (*with_scores && type == Preset::kLex) {
    c.ErrorText("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return false;
  }
  std::string_view min = c.argv[first + 1], max = c.argv[first + 2];
  if (rev && type != Preset::kRank) std::swap(min, max);
  spec->reverse = rev;
  spec->offset = offset;
  spec->limit = limit;
  switch (type) {
    case Preset::kAuto:
    case Preset::kRank: {
      spec->kind = zsets::RangeKind::kRank;
      auto s = ToInt64(min);
      auto e = s ? ToInt64(max) : std::nullopt;
      if (!s || !e) {
        c.Error(Code::kNotInteger);
        return false;
      }
      spec->start = *s;
      spec->stop = *e;
      spec->offset = 0;
      spec->limit = -1;
      break;
    }
    case Preset::kScore:
      spec->kind = zsets::RangeKind::kScore;
      if (!zsets::ParseScoreRange(min, max, &spec->score)) {
        c.ErrorText(kNotFloatRange);
        return false;
      }
      break;
    case Preset::kLex:
      spec->kind = zsets::RangeKind::kLex;
      if (!zsets::ParseLexRange(min, max, &spec->lex)) {
        c.ErrorText(kNotLexRange);
        return false;
      }
      break;
  }
  return true;
}

void ZRangeGeneric(CommandContext& c, Preset preset, bool rev) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  zsets::RangeSpec spec;
  bool with_scores = false;
  if (!ParseRange(c, 1, false, preset, rev, &spec, &with_scores)) return;
  auto r = zsets::Range(*c.txn, c.argv[1], spec);
  if (!r.ok()) return c.Error(r.status());
  ReplyMembers(c, *r, with_scores);
}
void ZRange(CommandContext& c) { ZRangeGeneric(c, Preset::kAuto, false); }
void ZRevRange(CommandContext& c) { ZRangeGeneric(c, Preset::kRank, true); }
void ZRangeByScore(CommandContext& c) { ZRangeGeneric(c, Preset::kScore, false); }
void ZRevRangeByScore(CommandContext& c) { ZRangeGeneric(c, Preset::kScore, true); }
void ZRangeByLex(CommandContext& c) { ZRangeGeneric(c, Preset::kLex, false); }
void ZRevRangeByLex(CommandContext& c) { ZRangeGeneric(c, Preset::kLex, true); }

void StoreEvents(CommandContext& c, std::string_view dst, const zsets::StoreOutcome& r,
                 std::string_view event) {
  if (r.size > 0) {
    c.events_after_reply = true;  // Redis replies first, then publishes
    Changed(c, dst, event);
  } else if (r.dst_deleted) {
    c.KeyModified(dst);
    c.Notify('g', "del", dst);
  }
}

void ZRangeStore(CommandContext& c) {
  zsets::RangeSpec spec;
  bool with_scores = false;
  if (!ParseRange(c, 2, true, Preset::kAuto, false, &spec, &with_scores)) return;
  auto r = zsets::RangeStore(*c.txn, c.argv[1], c.argv[2], spec);
  if (!r.ok()) return c.Error(r.status());
  StoreEvents(c, c.argv[1], *r, "zrangestore");
  c.reply.Integer(r->size);
}

void ZRemRangeGeneric(CommandContext& c, zsets::RangeKind kind, std::string_view event) {
  zsets::RangeSpec spec;
  spec.kind = kind;
  if (kind == zsets::RangeKind::kRank) {
    auto s = ToInt64(c.argv[2]);
    auto e = s ? ToInt64(c.argv[3]) : std::nullopt;
    if (!s || !e) return c.Error(Code::kNotInteger);
    spec.start = *s;
    spec.stop = *e;
  } else if (kind == zsets::RangeKind::kScore) {
    if (!zsets::ParseScoreRange(c.argv[2], c.argv[3], &spec.score)) {
      return c.ErrorText(kNotFloatRange);
    }
  } else if (!zsets::ParseLexRange(c.argv[2], c.argv[3], &spec.lex)) {
    return c.ErrorText(kNotLexRange);
  }
  auto r = zsets::RemRange(*c.txn, c.argv[1], spec);
  if (!r.ok()) return c.Error(r.status());
  if (r->removed > 0) {
    Changed(c, c.argv[1], event);
    if (r->key_removed) c.Notify('g', "del", c.argv[1]);
  }
  c.reply.Integer(r->removed);
}
void ZRemRangeByRank(CommandContext& c) {
  ZRemRangeGeneric(c, zsets::RangeKind::kRank, "zremrangebyrank");
}
void ZRemRangeByScore(CommandContext& c) {
  ZRemRangeGeneric(c, zsets::RangeKind::kScore, "zremrangebyscore");
}
void ZRemRangeByLex(CommandContext& c) {
  ZRemRangeGeneric(c, zsets::RangeKind::kLex, "zremrangebylex");
}

// ---- pops

// How a pop replies (Redis's genericZpopCommand shapes).
enum class PopShape {
  kFlat,       // ZPOPMIN/ZPOPMAX in RESP2 or without a count: [m, s, m, s...]
  kNested,     // ZPOPMIN/ZPOPMAX with a count in RESP3: [[m, s]...]
  kKeyFlat,    // BZPOPMIN/BZPOPMAX: [key, m, s]
  kKeyNested,  // ZMPOP/BZMPOP: [key, [[m, s]...]]
};

// Pops from the first of `keys` that exists (kWrongType if that one is not a sorted set, or
// if `skip_wrong_type` is false and a key of another type comes first). Returns false if no
// key had anything to pop (nothing replied); replies otherwise.
bool PopFirst(CommandContext& c, std::span<const std::string_view> keys, uint64_t count, bool max,
              PopShape shape, bool skip_wrong_type) {
  for (std::string_view key : keys) {
    auto r = zsets::Pop(*c.txn, key, count, max);
    if (!r.ok()) {
      if (r.code() == Code::kWrongType && skip_wrong_type) continue;
      c.Error(r.status());
      return true;
    }
    if (r->items.empty()) continue;
    c.events_after_reply = true;  // Redis replies first, then publishes
    Changed(c, key, max ? "zpopmax" : "zpopmin");
    if (r->key_removed) c.Notify('g', "del", key);
    switch (shape) {
      case PopShape::kFlat:
      case PopShape::kNested:
        ReplyMembers(c, r->items, true, shape == PopShape::kFlat);
        break;
      case PopShape::kKeyFlat:
        c.reply.Array(1 + 2 * r->items.size());
        c.reply.Bulk(key);
        for (const auto& m : r->items) {
          c.reply.Bulk(m.member);
          c.reply.Double(m.score);
        }
        break;
      case PopShape::kKeyNested:
        c.reply.Array(2);
        c.reply.Bulk(key);
        c.reply.Array(r->items.size());
        for (const auto& m : r->items) {
          c.reply.Array(2);
          c.reply.Bulk(m.member);
          c.reply.Double(m.score);
        }
        break;
    }
    return true;
  }
  return false;
}

void ZPopGeneric(CommandContext& c, bool max) {
  if (c.argv.size() > 3) return c.Error(Code::kSyntax);
  int64_t count = -1;
  if (c.argv.size() == 3) {
    Status st = coll::ParseRangedInt(c.argv[2], 0, INT64_MAX, Code::kValueNotPositive, &count);
    if (!st.ok()) return c.Error(st);
  }
  // ZPOPMIN with count 0 still checks the key's type.
  if (count == 0) {
    auto card = zsets::Card(*c.txn, c.argv[1]);
    if (!card.ok()) return c.Error(card.status());
    return c.reply.Array(0);
  }
  bool nested = c.reply.protocol() >= 3 && count != -1;
  uint64_t n = count == -1 ? 1 : static_cast<uint64_t>(count);
  if (!PopFirst(c, c.argv.subspan(1, 1), n, max, nested ? PopShape::kNested : PopShape::kFlat,
                false)) {
    c.reply.Array(0);
  }
}
void ZPopMin(CommandContext& c) { ZPopGeneric(c, false); }
void ZPopMax(CommandContext& c) { ZPopGeneric(c, true); }

// The timeout of a blocking pop, as Redis 7.0 parses it: seconds as a long double, times 1000,
// rounded up, converted as x86 does (out of range becomes INT64_MIN, hence "negative").
Status ParseTimeout(std::string_view arg, uint64_t* ms) {
  long double secs;
  if (!ParseLongDouble(arg, &secs)) {
    return Status(Code::kInvalidArgument, "timeout is not a float or out of range");
  }
  long double v = std::ceil(secs * 1000.0L);
  constexpr long double kLimit = 9223372036854775808.0L;
  int64_t t = (v >= -kLimit && v < kLimit) ? static_cast<int64_t>(v) : INT64_MIN;
  if (t < 0) return Status(Code::kInvalidArgument, "timeout is negative");
  *ms = static_cast<uint64_t>(t);
  return Status::Ok();
}

void BlockOn(CommandContext& c, std::span<const std::string_view> keys, uint64_t timeout_ms) {
  BlockRequest req;
  for (std::string_view k : keys) req.keys.emplace_back(k);
  req.timeout_ms = timeout_ms;
  req.timeout_reply = BlockRequest::TimeoutReply::kNullArray;
  c.Block(std::move(req));
}

void BZPopGeneric(CommandContext& c, bool max) {
  uint64_t timeout = 0;
  Status st = ParseTimeout(c.argv.back(), &timeout);
  if (!st.ok()) return c.Error(st);
  auto keys = c.argv.subspan(1, c.argv.size() - 2);
  // A retry (after a write to one of the keys) ignores keys of other types, as Redis 7.0
  // serves blocked clients only from sorted sets.
  if (PopFirst(c, keys, 1, max, PopShape::kKeyFlat, c.retry)) return;
  BlockOn(c, keys, timeout);
}
void BZPopMin(CommandContext& c) { BZPopGeneric(c, false); }
void BZPopMax(CommandContext& c) { BZPopGeneric(c, true); }

// Parses ZMPOP/BZMPOP's numkeys..., MIN|MAX [COUNT n] from argv[numkeys_idx].
bool ParseMPop(CommandContext& c, size_t numkeys_idx, std::span<const std::string_view>* keys,
               bool* max, uint64_t* count) {
  int64_t numkeys = 0;
  Status st =
      coll::ParseRangedInt(c.argv[numkeys_idx], 1, INT64_MAX, Code::kNumkeysNotPositive, &numkeys);
  if (!st.ok()) {
    c.Error(st);
    return false;
  }
  size_t where = numkeys_idx + 1 + static_cast<size_t>(numkeys);
  if (static_cast<uint64_t>(numkeys) >= c.argv.size() || where >= c.argv.size()) {
    c.Error(Code::kSyntax);
    return false;
  }
  if (EqualsIgnoreCase(c.argv[where], "min")) {
    *max = false;
  } else if (EqualsIgnoreCase(c.argv[where], "max")) {
    *max = true;
  } else {
    c.Error(Code::kSyntax);
    return false;
  }
  int64_t n = -1;
  for (size_t j = where + 1; j < c.argv.size(); ++j) {
    if (n == -1 && EqualsIgnoreCase(c.argv[j], "count") && j + 1 < c.argv.size()) {
      st = coll::ParseRangedInt(c.argv[++j], 1, INT64_MAX, Code::kCountNotPositive, &n);
      if (!st.ok()) {
        c.Error(st);
        return false;
      }
    } else {
      c.Error(Code::kSyntax);
      return false;
    }
  }
  *count = n == -1 ? 1 : static_cast<uint64_t>(n);
  *keys = c.argv.subspan(numkeys_idx + 1, static_cast<size_t>(numkeys));
  return true;
}

// Key positions of numkeys-style commands: `numkeys_idx` names the count, keys follow it.
template <size_t kNumkeysIdx>
std::vector<size_t> NumkeysKeys(std::span<const std::string_view> argv) {
  std::vector<size_t> out;
  int64_t n = 0;
  if (argv.size() <= kNumkeysIdx || !ParseInt64(argv[kNumkeysIdx], &n) || n < 1) return out;
  for (size_t i = kNumkeysIdx + 1; i < argv.size() && i <= kNumkeysIdx + static_cast<uint64_t>(n);
       ++i) {
    out.push_back(i);
  }
  return out;
}

// ZUNIONSTORE-style: the destination, then the numkeys keys after argv[2].
std::vector<size_t> StoreKeys(std::span<const std::string_view> argv) {
  std::vector<size_t> out{1};
  for (size_t k : NumkeysKeys<2>(argv)) out.push_back(k);
  return out;
}

void ZMPop(CommandContext& c) {
  std::span<const std::string_view> keys;
  bool max = false;
  uint64_t count = 1;
  if (!ParseMPop(c, 1, &keys, &max, &count)) return;
  if (!PopFirst(c, keys, count, max, PopShape::kKeyNested, false)) c.reply.NullArray();
}

void BZMPop(CommandContext& c) {
  uint64_t timeout = 0;
  Status st = ParseTimeout(c.argv[1], &timeout);
  if (!st.ok()) return c.Error(st);
  std::span<const std::string_view> keys;
  bool max = false;
  uint64_t count = 1;
  if (!ParseMPop(c, 2, &keys, &max, &count)) return;
  if (PopFirst(c, keys, count, max, PopShape::kKeyNested, c.retry)) return;
  BlockOn(c, keys, timeout);
}

// ---- random, set algebra, scan

void ZRandMember(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  if (c.argv.size() == 2) {
    auto r = zsets::RandomMembers(*c.txn, c.argv[1], 1, c.server.rng());
    if (!r.ok()) return c.Error(r.status());
    if (r->empty()) return c.reply.NullBulk();
    return c.reply.Bulk(r->front().member);
  }
  int64_t count = 0;
  Status st = coll::ParseRangedInt(c.argv[2], -INT64_MAX, INT64_MAX, std::nullopt, &count);
  if (!st.ok()) return c.Error(st);
  if (c.argv.size() > 4 || (c.argv.size() == 4 && !EqualsIgnoreCase(c.argv[3], "withscores"))) {
    return c.Error(Code::kSyntax);
  }
  bool with_scores = c.argv.size() == 4;
  if (with_scores && (count < -INT64_MAX / 2 || count > INT64_MAX / 2)) {
    return c.ErrorText("ERR value is out of range");
  }
  if (count < -coll::kMaxRandomReply) {
    return c.ErrorText("ERR count is too large: Keel returns at most 100000000 random members");
  }
  auto r = zsets::RandomMembers(*c.txn, c.argv[1], count, c.server.rng());
  if (!r.ok()) return c.Error(r.status());
  ReplyMembers(c, *r, with_scores);
}

enum class CombineMode { kReply, kStore, kCard };

// ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD, parsed as Redis's zunionInterDiffGenericCommand.
void CombineGeneric(CommandContext& c, zsets::SetOp op, CombineMode mode) {
  size_t numkeys_idx = mode == CombineMode::kStore ? 2 : 1;
  auto numkeys = ToInt64(c.argv[numkeys_idx]);
  if (!numkeys) return c.Error(Code::kNotInteger);
  if (*numkeys < 1) {
    return c.ErrorText("ERR at least 1 input key is needed for '" + std::string(c.name()) +
                       "' command");
  }
  if (*numkeys > static_cast<int64_t>(c.argv.size() - numkeys_idx - 1)) {
    return c.Error(Code::kSyntax);
  }
  auto n = static_cast<size_t>(*numkeys);
  auto keys = c.argv.subspan(numkeys_idx + 1, n);
  if (mode != CombineMode::kStore) c.txn->PinSnapshot();
  // Redis looks the keys up (WRONGTYPE) before it parses the options.
  for (std::string_view k : keys) {
    KeyRecord rec;
    Status st = c.txn->Load(k, &rec);
    if (!st.ok()) return c.Error(st);
    if (rec.exists && rec.meta.type != ValueType::kZSet && rec.meta.type != ValueType::kSet) {
      return c.Error(Code::kWrongType);
    }
  }
  zsets::CombineSpec spec;
  spec.op = op;
  bool with_scores = false;
  int64_t limit = 0;
  for (size_t j = numkeys_idx + 1 + n; j < c.argv.size();) {
    size_t remaining = c.argv.size() - j;
    std::string_view a = c.argv[j];
    if (op != zsets::SetOp::kDiff && mode != CombineMode::kCard && remaining >= n + 1 &&
        EqualsIgnoreCase(a, "weights")) {
      ++j;
      spec.weights.assign(n, 1);
      for (size_t i = 0; i < n; ++i, ++j) {
        if (!ParseDouble(c.argv[j], &spec.weights[i])) {
          return c.ErrorText("ERR weight value is not a float");
        }
      }
    } else if (op != zsets::SetOp::kDiff && mode != CombineMode::kCard && remaining >= 2 &&
               EqualsIgnoreCase(a, "aggregate")) {
      std::string_view v = c.argv[j + 1];
      if (EqualsIgnoreCase(v, "sum")) {
        spec.aggregate = zsets::Aggregate::kSum;
      } else if (EqualsIgnoreCase(v, "min")) {
        spec.aggregate = zsets::Aggregate::kMin;
      } else if (EqualsIgnoreCase(v, "max")) {
        spec.aggregate = zsets::Aggregate::kMax;
      } else {
        return c.Error(Code::kSyntax);
      }
      j += 2;
    } else if (mode == CombineMode::kReply && EqualsIgnoreCase(a, "withscores")) {
      with_scores = true;
      ++j;
    } else if (mode == CombineMode::kCard && remaining >= 2 && EqualsIgnoreCase(a, "limit")) {
      Status st = coll::ParseRangedInt(c.argv[j + 1], 0, INT64_MAX, Code::kLimitNegative, &limit);
      if (!st.ok()) return c.Error(st);
      j += 2;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  if (mode == CombineMode::kCard) {
    auto r = zsets::InterCard(*c.txn, keys, static_cast<uint64_t>(limit));
    if (!r.ok()) return c.Error(r.status());
    return c.reply.Integer(*r);
  }
  if (mode == CombineMode::kStore) {
    auto r = zsets::CombineStore(*c.txn, c.argv[1], keys, spec);
    if (!r.ok()) return c.Error(r.status());
    const char* event = op == zsets::SetOp::kUnion   ? "zunionstore"
                        : op == zsets::SetOp::kInter ? "zinterstore"
                                                     : "zdiffstore";
    StoreEvents(c, c.argv[1], *r, event);
    return c.reply.Integer(r->size);
  }
  auto r = zsets::Combine(*c.txn, keys, spec);
  if (!r.ok()) return c.Error(r.status());
  ReplyMembers(c, *r, with_scores);
}
void ZUnion(CommandContext& c) { CombineGeneric(c, zsets::SetOp::kUnion, CombineMode::kReply); }
void ZInter(CommandContext& c) { CombineGeneric(c, zsets::SetOp::kInter, CombineMode::kReply); }
void ZDiff(CommandContext& c) { CombineGeneric(c, zsets::SetOp::kDiff, CombineMode::kReply); }
void ZUnionStore(CommandContext& c) {
  CombineGeneric(c, zsets::SetOp::kUnion, CombineMode::kStore);
}
void ZInterStore(CommandContext& c) {
  CombineGeneric(c, zsets::SetOp::kInter, CombineMode::kStore);
}
void ZDiffStore(CommandContext& c) { CombineGeneric(c, zsets::SetOp::kDiff, CombineMode::kStore); }
void ZInterCard(CommandContext& c) { CombineGeneric(c, zsets::SetOp::kInter, CombineMode::kCard); }

void ZScan(CommandContext& c) {
  c.txn->PinSnapshot();  // one consistent view for several reads
  uint64_t cursor = 0;
  Status st = coll::ParseScanCursor(c.argv[2], &cursor);
  if (!st.ok()) return c.Error(st);
  auto card = zsets::Card(*c.txn, c.argv[1]);
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
  auto r = zsets::Scan(*c.txn, c.argv[1], cursor, pattern, opt.count);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Array(2);
  c.reply.Bulk(std::to_string(r->cursor));
  c.reply.Array(r->items.size() * 2);
  for (const auto& m : r->items) {
    c.reply.Bulk(m.member);
    c.reply.Bulk(r->compact ? zsets::FormatScanScore(m.score) : FormatDouble(m.score));
  }
}

}  // namespace

void RegisterZSetCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("sorted_set");
  auto& o = *out;
  constexpr uint32_t kW = kCmdWrite, kR = kCmdReadOnly, kD = kCmdDenyOom, kF = kCmdFast;
  const std::string_view wf = "@write @sortedset @fast", ws = "@write @sortedset @slow",
                         rf = "@read @sortedset @fast", rs = "@read @sortedset @slow";
  const std::string_view range_cost =
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
      "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
      "with LIMIT), you can consider it O(log(N)).";
  const std::string_view rem_cost =
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
      "elements removed by the operation.";
  const std::string_view pop_cost =
      "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number "
      "of elements popped.";
  const std::string_view mpop_cost =
      "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
      "in the sorted set, and M being the number of elements popped.";
  const std::string_view union_cost =
      "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
      "the number of elements in the resulting sorted set.";
  const std::string_view inter_cost =
      "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
      "number of input sorted sets and M being the number of elements in the resulting sorted set.";
  const std::string_view diff_cost =
      "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is "
      "the size of the first set, and K is the size of the result set.";
  // Rows as Redis 7.0's COMMAND INFO / COMMAND DOCS describe them.
  o.push_back(Row(
      "zadd", -4, kW | kD | kF, 1, 1, 1, ZAdd,
      "Add one or more members to a sorted set, or update its score if it already exists", "1.2.0",
      "O(log(N)) for each item added, where N is the number of elements in the sorted set.", wf));
  o.push_back(Row("zincrby", 4, kW | kD | kF, 1, 1, 1, ZIncrBy,
                  "Increment the score of a member in a sorted set", "1.2.0",
                  "O(log(N)) where N is the number of elements in the sorted set.", wf));
  o.push_back(Row("zrem", -3, kW | kF, 1, 1, 1, ZRem,
                  "Remove one or more members from a sorted set", "1.2.0",
                  "O(M*log(N)) with N being the number of elements in the sorted set and M the "
                  "number of elements to be removed.",
                  wf));
  o.push_back(Row("zcard", 2, kR | kF, 1, 1, 1, ZCard, "Get the number of members in a sorted set",
                  "1.2.0", "O(1)", rf));
  o.push_back(Row("zscore", 3, kR | kF, 1, 1, 1, ZScore,
                  "Get the score associated with the given member in a sorted set", "1.2.0", "O(1)",
                  rf));
  o.push_back(Row("zmscore", -3, kR | kF, 1, 1, 1, ZMScore,
                  "Get the score associated with the given members in a sorted set", "6.2.0",
                  "O(N) where N is the number of members being requested.", rf));
  o.push_back(Row("zrank", 3, kR | kF, 1, 1, 1, ZRank,
                  "Determine the index of a member in a sorted set", "2.0.0", "O(log(N))", rf));
  o.push_back(
      Row("zrevrank", 3, kR | kF, 1, 1, 1, ZRevRank,
          "Determine the index of a member in a sorted set, with scores ordered from high to low",
          "2.0.0", "O(log(N))", rf));
  o.push_back(Row("zcount", 4, kR | kF, 1, 1, 1, ZCount,
                  "Count the members in a sorted set with scores within the given values", "2.0.0",
                  "O(log(N)) with N being the number of elements in the sorted set.", rf));
  o.push_back(
      Row("zlexcount", 4, kR | kF, 1, 1, 1, ZLexCount,
          "Count the number of members in a sorted set between a given lexicographical range",
          "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", rf));
  o.push_back(Row("zrange", -4, kR, 1, 1, 1, ZRange, "Return a range of members in a sorted set",
                  "1.2.0",
                  "O(log(N)+M) with N being the number of elements in the sorted set and M the "
                  "number of elements returned.",
                  rs));
  o.push_back(Row("zrangestore", -5, kW | kD, 1, 2, 1, ZRangeStore,
                  "Store a range of members from sorted set into another key", "6.2.0",
                  "O(log(N)+M) with N being the number of elements in the sorted set and M the "
                  "number of elements stored into the destination key.",
                  ws));
  o.push_back(Row(
      "zrevrange", -4, kR, 1, 1, 1, ZRevRange,
      "Return a range of members in a sorted set, by index, with scores ordered from high to low",
      "1.2.0",
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
      "elements returned.",
      rs));
  o.push_back(Row("zrangebyscore", -4, kR, 1, 1, 1, ZRangeByScore,
                  "Return a range of members in a sorted set, by score", "1.0.5", range_cost, rs));
  o.push_back(Row(
      "zrevrangebyscore", -4, kR, 1, 1, 1, ZRevRangeByScore,
      "Return a range of members in a sorted set, by score, with scores ordered from high to low",
      "2.2.0", range_cost, rs));
  o.push_back(Row("zrangebylex", -4, kR, 1, 1, 1, ZRangeByLex,
                  "Return a range of members in a sorted set, by lexicographical range", "2.8.9",
                  range_cost, rs));
  o.push_back(Row("zrevrangebylex", -4, kR, 1, 1, 1, ZRevRangeByLex,
                  "Return a range of members in a sorted set, by lexicographical range, ordered "
                  "from higher to lower strings.",
                  "2.8.9", range_cost, rs));
  o.push_back(Row("zremrangebyrank", 4, kW, 1, 1, 1, ZRemRangeByRank,
                  "Remove all members in a sorted set within the given indexes", "2.0.0", rem_cost,
                  ws));
  o.push_back(Row("zremrangebyscore", 4, kW, 1, 1, 1, ZRemRangeByScore,
                  "Remove all members in a sorted set within the given scores", "1.2.0", rem_cost,
                  ws));
  o.push_back(Row("zremrangebylex", 4, kW, 1, 1, 1, ZRemRangeByLex,
                  "Remove all members in a sorted set between the given lexicographical range",
                  "2.8.9", rem_cost, ws));
  o.push_back(Row("zpopmin", -2, kW | kF, 1, 1, 1, ZPopMin,
                  "Remove and return members with the lowest scores in a sorted set", "5.0.0",
                  pop_cost, wf));
  o.push_back(Row("zpopmax", -2, kW | kF, 1, 1, 1, ZPopMax,
                  "Remove and return members with the highest scores in a sorted set", "5.0.0",
                  pop_cost, wf));
  o.push_back(Row("zmpop", -4, kW, 0, 0, 0, ZMPop,
                  "Remove and return members with scores in a sorted set", "7.0.0", mpop_cost, ws,
                  NumkeysKeys<1>));
  o.push_back(Row("bzpopmin", -3, kW | kCmdNoScript | kCmdBlocking | kF, 1, -2, 1, BZPopMin,
                  "Remove and return the member with the lowest score from one or more sorted "
                  "sets, or block until one is available",
                  "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.",
                  "@write @sortedset @fast @blocking"));
  o.push_back(Row("bzpopmax", -3, kW | kCmdNoScript | kCmdBlocking | kF, 1, -2, 1, BZPopMax,
                  "Remove and return the member with the highest score from one or more sorted "
                  "sets, or block until one is available",
                  "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.",
                  "@write @sortedset @fast @blocking"));
  o.push_back(
      Row("bzmpop", -5, kW | kCmdBlocking, 0, 0, 0, BZMPop,
          "Remove and return members with scores in a sorted set or block until one is available",
          "7.0.0", mpop_cost, "@write @sortedset @slow @blocking", NumkeysKeys<2>));
  o.push_back(Row("zrandmember", -2, kR, 1, 1, 1, ZRandMember,
                  "Get one or multiple random elements from a sorted set", "6.2.0",
                  "O(N) where N is the number of elements returned", rs));
  o.push_back(Row("zunion", -3, kR, 0, 0, 0, ZUnion, "Add multiple sorted sets", "6.2.0",
                  union_cost, rs, NumkeysKeys<1>));
  o.push_back(Row("zunionstore", -4, kW | kD, 1, 1, 1, ZUnionStore,
                  "Add multiple sorted sets and store the resulting sorted set in a new key",
                  "2.0.0",
                  "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, "
                  "and M being the number of elements in the resulting sorted set.",
                  ws, StoreKeys));
  o.push_back(Row("zinter", -3, kR, 0, 0, 0, ZInter, "Intersect multiple sorted sets", "6.2.0",
                  inter_cost, rs, NumkeysKeys<1>));
  o.push_back(Row("zinterstore", -4, kW | kD, 1, 1, 1, ZInterStore,
                  "Intersect multiple sorted sets and store the resulting sorted set in a new key",
                  "2.0.0", inter_cost, ws, StoreKeys));
  o.push_back(Row("zintercard", -3, kR, 0, 0, 0, ZInterCard,
                  "Intersect multiple sorted sets and return the cardinality of the result",
                  "7.0.0",
                  "O(N*K) worst case with N being the smallest input sorted set, K being the "
                  "number of input sorted sets.",
                  rs, NumkeysKeys<1>));
  o.push_back(Row("zdiff", -3, kR, 0, 0, 0, ZDiff, "Subtract multiple sorted sets", "6.2.0",
                  diff_cost, rs, NumkeysKeys<1>));
  o.push_back(Row("zdiffstore", -4, kW | kD, 1, 1, 1, ZDiffStore,
                  "Subtract multiple sorted sets and store the resulting sorted set in a new key",
                  "6.2.0", diff_cost, ws, StoreKeys));
  o.push_back(
      Row("zscan", -3, kR, 1, 1, 1, ZScan,
          "Incrementally iterate sorted sets elements and associated scores", "2.8.0",
          "O(1) for every call. O(N) for a complete iteration, including enough command calls for "
          "the cursor to return back to 0. N is the number of elements inside the collection..",
          rs));
}

}  // namespace keel::server
