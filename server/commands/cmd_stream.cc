// Stream commands: the RESP shells of datatypes/stream.h — argument parsing in Redis 7.0's
// order (so the same error wins), replies, keyspace events, and XREAD / XREADGROUP BLOCK
// through CommandContext::Block.
#include "datatypes/stream.h"
#include "server/blocking.h"
#include "server/commands/cmd_util.h"
#include "server/commands/command_table.h"
#include "server/commands/errors.h"
#include "server/server.h"

namespace keel::server {
namespace {

using streams::Entry;
using streams::GroupOutcome;
using streams::IdSyntax;
using streams::StreamId;

// ------------------------------------------------------------------ parsing helpers

void InvalidId(CommandContext& c) { c.Error(Code::kInvalidStreamId); }

// A strict id ("-" and "+" rejected), as most commands take.
std::optional<StreamId> StrictId(CommandContext& c, std::string_view arg,
                                 uint64_t missing_seq = 0) {
  auto p = streams::ParseId(arg, IdSyntax{.missing_seq = missing_seq, .strict = true});
  if (!p) {
    InvalidId(c);
    return std::nullopt;
  }
  return p->id;
}

// A range bound: "-", "+", "(id" allowed. `start` selects the missing sequence (0 / max)
// and the direction an exclusive bound moves.
std::optional<StreamId> RangeBound(CommandContext& c, std::string_view arg, bool start) {
  auto p = streams::ParseId(
      arg, IdSyntax{.missing_seq = start ? 0 : UINT64_MAX, .allow_exclusive = true});
  if (p && p->exclusive && (arg == "(-" || arg == "(+")) p.reset();
  if (!p) {
    InvalidId(c);
    return std::nullopt;
  }
  if (p->exclusive) {
    bool ok = start ? streams::Increment(&p->id) : streams::Decrement(&p->id);
    if (!ok) {
      c.ErrorText(start ? "ERR invalid start ID for the interval"
                        : "ERR invalid end ID for the interval");
      return std::nullopt;
    }
  }
  return p->id;
}

std::optional<int64_t> Int(CommandContext& c, std::string_view arg, std::string_view message = {}) {
  auto v = ToInt64(arg);
  if (!v) {
    if (message.empty()) {
      c.Error(Code::kNotInteger);
    } else {
      c.ErrorText(std::string("ERR ") + std::string(message));
    }
  }
  return v;
}

void NoGroupText(CommandContext& c, std::string_view text) { c.ErrorText(text); }

std::string NoSuchKeyOrGroup(std::string_view key, std::string_view group,
                             std::string_view suffix = {}) {
  std::string out = "NOGROUP No such key '";
  out.append(key.substr(0, key.find('\0')));
  out += "' or consumer group '";
  out.append(group.substr(0, group.find('\0')));
  out += "'";
  out.append(suffix);
  return out;
}

std::string NoSuchGroupForKey(std::string_view group, std::string_view key) {
  std::string out = "NOGROUP No such consumer group '";
  out.append(group.substr(0, group.find('\0')));
  out += "' for key name '";
  out.append(key.substr(0, key.find('\0')));
  out += "'";
  return out;
}

// ------------------------------------------------------------------ reply helpers

void ReplyId(CommandContext& c, StreamId id) { c.reply.Bulk(id.ToString()); }

void ReplyEntry(CommandContext& c, const Entry& e) {
  c.reply.Array(2);
  ReplyId(c, e.id);
  if (e.deleted) return c.reply.NullArray();
  c.reply.BulkArray(e.fields);
}

void ReplyEntries(CommandContext& c, const std::vector<Entry>& entries) {
  c.reply.Array(entries.size());
  for (const auto& e : entries) ReplyEntry(c, e);
}

void ReplyOptionalInt(CommandContext& c, std::optional<int64_t> v) {
  if (v) {
    c.reply.Integer(*v);
  } else {
    c.reply.NullBulk();
  }
}

// ------------------------------------------------------------------ XADD / XTRIM

// Parses XADD's / XTRIM's options from argv[2]. For XADD returns the position of the id
// ("*" or explicit); for XTRIM the end of the arguments. nullopt after replying an error.
std::optional<size_t> ParseAddOrTrim(CommandContext& c, bool xadd, streams::AddArgs* args) {
  auto& trim = args->trim;
  bool limit_given = false;
  size_t i = 2;
  for (; i < c.argv.size(); ++i) {
    std::string_view a = c.argv[i];
    size_t more = c.argv.size() - 1 - i;
    if (xadd && a == "*") break;
    bool is_maxlen = EqualsIgnoreCase(a, "MAXLEN"), is_minid = EqualsIgnoreCase(a, "MINID");
    if ((is_maxlen || is_minid) && more > 0) {
      if (trim.strategy != streams::TrimStrategy::kNone) {
        c.ErrorText(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return std::nullopt;
      }
      trim.approx = false;
      std::string_view next = c.argv[i + 1];
      if (more >= 2 && next == "~") {
        trim.approx = true;
        ++i;
      } else if (more >= 2 && next == "=") {
        ++i;
      }
      if (is_maxlen) {
        auto v = Int(c, c.argv[i + 1]);
        if (!v) return std::nullopt;
        if (*v < 0) {
          c.ErrorText("ERR The MAXLEN argument must be >= 0.");
          return std::nullopt;
        }
        trim.maxlen = *v;
        trim.strategy = streams::TrimStrategy::kMaxLen;
      } else {
        auto id = StrictId(c, c.argv[i + 1]);
        if (!id) return std::nullopt;
        trim.minid = *id;
        trim.strategy = streams::TrimStrategy::kMinId;
      }
      ++i;
    } else if (EqualsIgnoreCase(a, "LIMIT") && more > 0) {
      auto v = Int(c, c.argv[i + 1]);
      if (!v) return std::nullopt;
      if (*v < 0) {
        c.ErrorText("ERR The LIMIT argument must be >= 0.");
        return std::nullopt;
      }
      trim.limit = *v;
      limit_given = true;
      ++i;
    } else if (xadd && EqualsIgnoreCase(a, "NOMKSTREAM")) {
      args->no_mkstream = true;
    } else if (xadd) {
      auto p = streams::ParseId(a, IdSyntax{.strict = true, .allow_auto_seq = true});
      if (!p) {
        InvalidId(c);
        return std::nullopt;
      }
      args->id_given = true;
      args->id = p->id;
      args->seq_given = p->seq_given;
      break;
    } else {
      c.Error(Code::kSyntax);
      return std::nullopt;
    }
  }
  if (trim.limit != 0 && trim.strategy == streams::TrimStrategy::kNone) {
    c.ErrorText("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return std::nullopt;
  }
  if (!xadd && trim.strategy == streams::TrimStrategy::kNone) {
    c.ErrorText("ERR syntax error, XTRIM must be called with a trimming strategy");
    return std::nullopt;
  }
  if (limit_given) {
    if (!trim.approx) {
      c.ErrorText("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return std::nullopt;
    }
  } else if (trim.approx) {
    trim.limit = 100 * 100;  // 100 * stream-node-max-entries
  } else {
    trim.limit = 0;
  }
  return i;
}

void XAdd(CommandContext& c) {
  streams::AddArgs args;
  auto id_pos = ParseAddOrTrim(c, true, &args);
  if (!id_pos) return;
  size_t field_pos = *id_pos + 1;
  if (field_pos > c.argv.size() || c.argv.size() - field_pos < 2 ||
      (c.argv.size() - field_pos) % 2 == 1) {
    return c.ErrorText(ArityError(c.name()));
  }
  if (args.id_given && args.seq_given && args.id.IsZero()) {
    return c.ErrorText("ERR The ID specified in XADD must be greater than 0-0");
  }
  auto r = streams::Add(*c.txn, c.argv[1], args, c.argv.subspan(field_pos));
  if (!r.ok()) return c.Error(r.status());
  if (!r->added) return c.reply.NullBulk();
  ReplyId(c, r->id);
  c.KeyModified(c.argv[1]);
  c.Notify('t', "xadd", c.argv[1]);
  if (r->trimmed > 0) c.Notify('t', "xtrim", c.argv[1]);
}

void XTrim(CommandContext& c) {
  streams::AddArgs args;
  if (!ParseAddOrTrim(c, false, &args)) return;
  auto r = streams::Trim(*c.txn, c.argv[1], args.trim);
  if (!r.ok()) return c.Error(r.status());
  if (*r > 0) {
    c.KeyModified(c.argv[1]);
    c.Notify('t', "xtrim", c.argv[1]);
  }
  c.reply.Integer(*r);
}

// ------------------------------------------------------------------ XRANGE / XLEN / XDEL

void RangeGeneric(CommandContext& c, bool reverse) {
  auto start = RangeBound(c, reverse ? c.argv[3] : c.argv[2], true);
  if (!start) return;
  auto end = RangeBound(c, reverse ? c.argv[2] : c.argv[3], false);
  if (!end) return;
  int64_t count = -1;
  for (size_t i = 4; i < c.argv.size(); ++i) {
    if (EqualsIgnoreCase(c.argv[i], "COUNT") && i + 1 < c.argv.size()) {
      auto v = Int(c, c.argv[++i]);
      if (!v) return;
      count = *v < 0 ? 0 : *v;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  auto info = streams::GetInfo(*c.txn, c.argv[1]);
  if (!info.ok()) return c.Error(info.status());
  if (!info->has_value()) return c.reply.Array(0);
  if (count == 0) return c.reply.NullArray();
  auto r = streams::Range(*c.txn, c.argv[1], *start, *end,
                          count < 0 ? 0 : static_cast<uint64_t>(count), reverse);
  if (!r.ok()) return c.Error(r.status());
  ReplyEntries(c, *r);
}
void XRange(CommandContext& c) { RangeGeneric(c, false); }
void XRevRange(CommandContext& c) { RangeGeneric(c, true); }

void XLen(CommandContext& c) {
  auto r = streams::Len(*c.txn, c.argv[1]);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void XDel(CommandContext& c) {
  auto info = streams::GetInfo(*c.txn, c.argv[1]);
  if (!info.ok()) return c.Error(info.status());
  if (!info->has_value()) return c.reply.Integer(0);
  std::vector<StreamId> ids;
  for (size_t i = 2; i < c.argv.size(); ++i) {
    auto id = StrictId(c, c.argv[i]);
    if (!id) return;
    ids.push_back(*id);
  }
  auto r = streams::Delete(*c.txn, c.argv[1], ids);
  if (!r.ok()) return c.Error(r.status());
  if (*r > 0) {
    c.KeyModified(c.argv[1]);
    c.Notify('t', "xdel", c.argv[1]);
  }
  c.reply.Integer(*r);
}

void XSetId(CommandContext& c) {
  auto id = StrictId(c, c.argv[2]);
  if (!id) return;
  int64_t entries_added = -1;
  StreamId max_deleted;
  for (size_t i = 3; i < c.argv.size(); ++i) {
    bool more = i + 1 < c.argv.size();
    if (EqualsIgnoreCase(c.argv[i], "ENTRIESADDED") && more) {
      auto v = Int(c, c.argv[++i]);
      if (!v) return;
      if (*v < 0) return c.ErrorText("ERR entries_added must be positive");
      entries_added = *v;
    } else if (EqualsIgnoreCase(c.argv[i], "MAXDELETEDID") && more) {
      auto v = StrictId(c, c.argv[++i]);
      if (!v) return;
      if (*id < *v) {
        return c.ErrorText(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      }
      max_deleted = *v;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  Status st = streams::SetId(*c.txn, c.argv[1], *id, entries_added, max_deleted);
  if (!st.ok()) return c.Error(st);
  c.KeyModified(c.argv[1]);
  c.events_after_reply = true;  // Redis replies first, then publishes
  c.Notify('t', "xsetid", c.argv[1]);
  c.reply.Ok();
}

// ------------------------------------------------------------------ XREAD / XREADGROUP

struct ReadArgs {
  bool block = false;
  uint64_t timeout_ms = 0;
  uint64_t count = 0;  // 0 = all
  bool noack = false;
  std::string_view group, consumer;
  bool has_group = false;
  size_t streams_at = 0;  // first key
  size_t nstreams = 0;
};

std::optional<ReadArgs> ParseRead(CommandContext& c, bool xreadgroup) {
  ReadArgs a;
  size_t argc = c.argv.size();
  for (size_t i = 1; i < argc; ++i) {
    std::string_view o = c.argv[i];
    size_t more = argc - 1 - i;
    if (EqualsIgnoreCase(o, "BLOCK") && more > 0) {
      auto t = ParseBlockTimeoutMs(c.argv[++i]);
      if (!t.ok()) {
        c.Error(t.status());
        return std::nullopt;
      }
      a.block = true;
      a.timeout_ms = *t;
    } else if (EqualsIgnoreCase(o, "COUNT") && more > 0) {
      auto v = Int(c, c.argv[++i]);
      if (!v) return std::nullopt;
      a.count = *v < 0 ? 0 : static_cast<uint64_t>(*v);
    } else if (EqualsIgnoreCase(o, "STREAMS") && more > 0) {
      a.streams_at = i + 1;
      size_t n = argc - a.streams_at;
      if (n % 2 != 0) {
        c.ErrorText(
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
            "specified.");
        return std::nullopt;
      }
      a.nstreams = n / 2;
      break;
    } else if (EqualsIgnoreCase(o, "GROUP") && more >= 2) {
      if (!xreadgroup) {
        c.ErrorText(
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return std::nullopt;
      }
      a.group = c.argv[i + 1];
      a.consumer = c.argv[i + 2];
      a.has_group = true;
      i += 2;
    } else if (EqualsIgnoreCase(o, "NOACK")) {
      if (!xreadgroup) {
        c.ErrorText(
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return std::nullopt;
      }
      a.noack = true;
    } else {
      c.Error(Code::kSyntax);
      return std::nullopt;
    }
  }
  if (a.streams_at == 0) {
    c.Error(Code::kSyntax);
    return std::nullopt;
  }
  if (xreadgroup && !a.has_group) {
    c.ErrorText("ERR Missing GROUP option for XREADGROUP");
    return std::nullopt;
  }
  return a;
}

// Key positions of XREAD / XREADGROUP: the first half of what follows STREAMS.
std::vector<size_t> ReadKeys(std::span<const std::string_view> argv) {
  std::vector<size_t> out;
  size_t argc = argv.size();
  for (size_t i = 1; i < argc; ++i) {
    std::string_view o = argv[i];
    size_t more = argc - 1 - i;
    if ((EqualsIgnoreCase(o, "BLOCK") || EqualsIgnoreCase(o, "COUNT")) && more > 0) {
      ++i;
    } else if (EqualsIgnoreCase(o, "GROUP") && more >= 2) {
      i += 2;
    } else if (EqualsIgnoreCase(o, "NOACK")) {
    } else if (EqualsIgnoreCase(o, "STREAMS") && more > 0) {
      size_t n = argc - (i + 1);
      if (n % 2 != 0) return out;
      for (size_t k = 0; k < n / 2; ++k) out.push_back(i + 1 + k);
      return out;
    } else {
      return out;
    }
  }
  return out;
}

// Writes the reply of the streams served: [[key, entries]...] (RESP2) or {key: entries}.
void ReplyServed(CommandContext& c,
                 const std::vector<std::pair<std::string_view, std::vector<Entry>>>& served) {
  bool resp3 = c.client.protocol >= 3;
  if (resp3) {
    c.reply.Map(served.size());
  } else {
    c.reply.Array(served.size());
  }
  for (const auto& [key, entries] : served) {
    if (!resp3) c.reply.Array(2);
    c.reply.Bulk(key);
    ReplyEntries(c, entries);
  }
}

void BlockRead(CommandContext& c, const ReadArgs& a, std::vector<std::string> argv, bool wake_all) {
  BlockRequest req;
  for (size_t i = 0; i < a.nstreams; ++i) req.keys.emplace_back(c.argv[a.streams_at + i]);
  req.timeout_ms = a.timeout_ms;
  req.timeout_reply = BlockRequest::TimeoutReply::kNullArray;
  req.rewritten_argv = std::move(argv);
  req.wake_all = wake_all;
  c.Block(std::move(req));
}

void XRead(CommandContext& c) {
  auto a = ParseRead(c, false);
  if (!a) return;
  c.txn->PinSnapshot();
  std::vector<StreamId> after(a->nstreams);
  bool rewritten = false;
  for (size_t i = 0; i < a->nstreams; ++i) {
    std::string_view key = c.argv[a->streams_at + i];
    std::string_view arg = c.argv[a->streams_at + a->nstreams + i];
    auto info = streams::GetInfo(*c.txn, key);
    if (!info.ok()) {
      // A waiter whose key now holds another type stays blocked, as in Redis.
      if (!(c.retry && info.code() == Code::kWrongType)) return c.Error(info.status());
      info = std::optional<streams::StreamInfo>();
    }
    if (arg == "$") {
      after[i] = info->has_value() ? (*info)->last_id : StreamId{};
      rewritten = true;
      continue;
    }
    if (arg == ">") {
      return c.ErrorText(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
          "<consumer> option.");
    }
    auto id = StrictId(c, arg);
    if (!id) return;
    after[i] = *id;
  }
  std::vector<std::pair<std::string_view, std::vector<Entry>>> served;
  for (size_t i = 0; i < a->nstreams; ++i) {
    std::string_view key = c.argv[a->streams_at + i];
    auto r = streams::ReadAfter(*c.txn, key, after[i], a->count);
    if (!r.ok() && c.retry && r.code() == Code::kWrongType) continue;
    if (!r.ok()) return c.Error(r.status());
    if (r->has_value()) served.emplace_back(key, std::move(**r));
  }
  if (!served.empty()) return ReplyServed(c, served);
  if (!a->block) return c.reply.NullArray();
  std::vector<std::string> argv;
  if (rewritten) {
    // Re-run with "$" replaced by the last id now, so entries added meanwhile are served.
    argv.assign(c.argv.begin(), c.argv.end());
    for (size_t i = 0; i < a->nstreams; ++i) {
      std::string& arg = argv[a->streams_at + a->nstreams + i];
      if (arg == "$") arg = after[i].ToString();
    }
  }
  BlockRead(c, *a, std::move(argv), /*wake_all=*/true);
}

void XReadGroup(CommandContext& c) {
  auto a = ParseRead(c, true);
  if (!a) return;
  std::vector<std::optional<StreamId>> after(a->nstreams);
  for (size_t i = 0; i < a->nstreams; ++i) {
    std::string_view key = c.argv[a->streams_at + i];
    std::string_view arg = c.argv[a->streams_at + a->nstreams + i];
    auto g = streams::CheckGroup(*c.txn, key, a->group);
    if (!g.ok() && c.retry && g.code() == Code::kWrongType) g = GroupOutcome::kNoKey;
    if (!g.ok()) return c.Error(g.status());
    if (*g != GroupOutcome::kOk) {
      if (c.retry) {
        // Redis's answers to a client blocked on a stream or group that went away.
        return c.ErrorText(*g == GroupOutcome::kNoKey
                               ? "UNBLOCKED the stream key no longer exists"
                               : "NOGROUP the consumer group this client was blocked on no "
                                 "longer exists");
      }
      return c.ErrorText(NoSuchKeyOrGroup(key, a->group, " in XREADGROUP with GROUP option"));
    }
    if (arg == "$") {
      return c.ErrorText(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
          "history of this consumer by specifying a proper ID, or use the > ID to get new "
          "messages. The $ ID would just return an empty result set.");
    }
    if (arg == ">") continue;
    auto id = StrictId(c, arg);
    if (!id) return;
    after[i] = *id;
  }
  std::vector<std::pair<std::string_view, std::vector<Entry>>> served;
  for (size_t i = 0; i < a->nstreams; ++i) {
    std::string_view key = c.argv[a->streams_at + i];
    auto r = streams::ReadGroup(*c.txn, key, a->group, a->consumer, after[i], a->count, a->noack);
    if (!r.ok()) return c.Error(r.status());
    // Redis 7.0 writes this push inside its reply (after the stream's name); after the
    // reply is where a client can read it.
    c.events_after_reply = true;
    if (r->consumer_created) c.Notify('t', "xgroup-createconsumer", key);
    if (!r->served) continue;
    if (!after[i] && !r->entries.empty()) c.KeyModified(key);
    served.emplace_back(key, std::move(r->entries));
  }
  if (!served.empty()) return ReplyServed(c, served);
  if (!a->block) return c.reply.NullArray();
  BlockRead(c, *a, {}, /*wake_all=*/false);
}

// ------------------------------------------------------------------ XACK / XPENDING

void XAck(CommandContext& c) {
  auto g = streams::CheckGroup(*c.txn, c.argv[1], c.argv[2]);
  if (!g.ok()) return c.Error(g.status());
  if (*g != GroupOutcome::kOk) return c.reply.Integer(0);
  std::vector<StreamId> ids;
  for (size_t i = 3; i < c.argv.size(); ++i) {
    auto id = StrictId(c, c.argv[i]);
    if (!id) return;
    ids.push_back(*id);
  }
  auto r = streams::Ack(*c.txn, c.argv[1], c.argv[2], ids);
  if (!r.ok()) return c.Error(r.status());
  c.reply.Integer(*r);
}

void XPending(CommandContext& c) {
  size_t argc = c.argv.size();
  if (argc != 3 && (argc < 6 || argc > 9)) return c.Error(Code::kSyntax);
  streams::PendingQuery q;
  bool extended = argc >= 6;
  if (extended) {
    size_t at = 3;
    if (EqualsIgnoreCase(c.argv[3], "IDLE")) {
      auto v = Int(c, c.argv[4]);
      if (!v) return;
      q.min_idle_ms = *v;
      if (argc < 8) return c.Error(Code::kSyntax);
      at += 2;
    }
    auto count = Int(c, c.argv[at + 2]);
    if (!count) return;
    q.count = *count < 0 ? 0 : static_cast<uint64_t>(*count);
    auto start = RangeBound(c, c.argv[at], true);
    if (!start) return;
    auto end = RangeBound(c, c.argv[at + 1], false);
    if (!end) return;
    q.start = *start;
    q.end = *end;
    if (at + 3 < argc) q.consumer = std::string(c.argv[at + 3]);
  }
  auto g = streams::CheckGroup(*c.txn, c.argv[1], c.argv[2]);
  if (!g.ok()) return c.Error(g.status());
  if (*g != GroupOutcome::kOk) return NoGroupText(c, NoSuchKeyOrGroup(c.argv[1], c.argv[2]));
  GroupOutcome outcome;
  if (!extended) {
    auto r = streams::Pending(*c.txn, c.argv[1], c.argv[2], &outcome);
    if (!r.ok()) return c.Error(r.status());
    c.reply.Array(4);
    c.reply.Integer(static_cast<int64_t>(r->count));
    if (r->count == 0) {
      c.reply.NullBulk();
      c.reply.NullBulk();
      return c.reply.NullArray();
    }
    ReplyId(c, r->first);
    ReplyId(c, r->last);
    c.reply.Array(r->consumers.size());
    for (const auto& [name, n] : r->consumers) {
      c.reply.Array(2);
      c.reply.Bulk(name);
      c.reply.Bulk(std::to_string(n));
    }
    return;
  }
  auto r = streams::PendingRange(*c.txn, c.argv[1], c.argv[2], q, &outcome);
  if (!r.ok()) return c.Error(r.status());
  auto now = static_cast<int64_t>(c.txn->now_ms());
  c.reply.Array(r->size());
  for (const auto& p : *r) {
    c.reply.Array(4);
    ReplyId(c, p.id);
    c.reply.Bulk(p.consumer);
    int64_t idle = now - static_cast<int64_t>(p.delivery_ms);
    c.reply.Integer(idle < 0 ? 0 : idle);
    c.reply.Integer(static_cast<int64_t>(p.deliveries));
  }
}

// ------------------------------------------------------------------ XCLAIM / XAUTOCLAIM

void ReplyClaimed(CommandContext& c, const std::vector<Entry>& claimed, bool just_id) {
  c.reply.Array(claimed.size());
  for (const auto& e : claimed) {
    if (just_id) {
      ReplyId(c, e.id);
    } else if (e.deleted) {
      c.reply.NullBulk();
    } else {
      ReplyEntry(c, e);
    }
  }
}

void XClaim(CommandContext& c) {
  auto g = streams::CheckGroup(*c.txn, c.argv[1], c.argv[2]);
  if (!g.ok()) return c.Error(g.status());
  if (*g != GroupOutcome::kOk) return NoGroupText(c, NoSuchKeyOrGroup(c.argv[1], c.argv[2]));
  auto min_idle = Int(c, c.argv[4], "Invalid min-idle-time argument for XCLAIM");
  if (!min_idle) return;
  streams::ClaimArgs args;
  args.min_idle_ms = *min_idle < 0 ? 0 : *min_idle;
  std::vector<StreamId> ids;
  size_t j = 5;
  for (; j < c.argv.size(); ++j) {
    auto p = streams::ParseId(c.argv[j], IdSyntax{.strict = true});
    if (!p) break;
    ids.push_back(p->id);
  }
  auto now = static_cast<int64_t>(c.txn->now_ms());
  for (; j < c.argv.size(); ++j) {
    std::string_view o = c.argv[j];
    bool more = j + 1 < c.argv.size();
    if (EqualsIgnoreCase(o, "FORCE")) {
      args.force = true;
    } else if (EqualsIgnoreCase(o, "JUSTID")) {
      args.just_id = true;
    } else if (EqualsIgnoreCase(o, "IDLE") && more) {
      auto v = Int(c, c.argv[++j], "Invalid IDLE option argument for XCLAIM");
      if (!v) return;
      args.delivery_ms = now - *v;
    } else if (EqualsIgnoreCase(o, "TIME") && more) {
      auto v = Int(c, c.argv[++j], "Invalid TIME option argument for XCLAIM");
      if (!v) return;
      args.delivery_ms = *v;
    } else if (EqualsIgnoreCase(o, "RETRYCOUNT") && more) {
      auto v = Int(c, c.argv[++j], "Invalid RETRYCOUNT option argument for XCLAIM");
      if (!v) return;
      args.retry_count = *v;
    } else if (EqualsIgnoreCase(o, "LASTID") && more) {
      auto v = StrictId(c, c.argv[++j]);
      if (!v) return;
      args.last_id = *v;
    } else {
      std::string text = "ERR Unrecognized XCLAIM option '";
      text.append(o.substr(0, o.find('\0')));
      text += "'";
      return c.ErrorText(text);
    }
  }
  auto r = streams::Claim(*c.txn, c.argv[1], c.argv[2], c.argv[3], ids, args);
  if (!r.ok()) return c.Error(r.status());
  if (r->consumer_created) c.Notify('t', "xgroup-createconsumer", c.argv[1]);
  ReplyClaimed(c, r->claimed, args.just_id);
}

void XAutoClaim(CommandContext& c) {
  auto min_idle = Int(c, c.argv[4], "Invalid min-idle-time argument for XAUTOCLAIM");
  if (!min_idle) return;
  auto start = RangeBound(c, c.argv[5], true);
  if (!start) return;
  int64_t count = 100;
  bool just_id = false;
  // COUNT is capped so that count * 10 attempts cannot overflow.
  constexpr int64_t kMaxCount = INT64_MAX / 16;
  for (size_t j = 6; j < c.argv.size(); ++j) {
    std::string_view o = c.argv[j];
    if (EqualsIgnoreCase(o, "COUNT") && j + 1 < c.argv.size()) {
      auto v = ToInt64(c.argv[++j]);
      if (!v || *v < 1 || *v > kMaxCount) return c.ErrorText("ERR COUNT must be > 0");
      count = *v;
    } else if (EqualsIgnoreCase(o, "JUSTID")) {
      just_id = true;
    } else {
      return c.Error(Code::kSyntax);
    }
  }
  auto g = streams::CheckGroup(*c.txn, c.argv[1], c.argv[2]);
  if (!g.ok()) return c.Error(g.status());
  if (*g != GroupOutcome::kOk) return NoGroupText(c, NoSuchKeyOrGroup(c.argv[1], c.argv[2]));
  auto r =
      streams::AutoClaim(*c.txn, c.argv[1], c.argv[2], c.argv[3], *min_idle < 0 ? 0 : *min_idle,
                         *start, static_cast<uint64_t>(count), just_id);
  if (!r.ok()) return c.Error(r.status());
  if (r->consumer_created) c.Notify('t', "xgroup-createconsumer", c.argv[1]);
  c.reply.Array(3);
  ReplyId(c, r->next);
  ReplyClaimed(c, r->claimed, just_id);
  c.reply.Array(r->deleted.size());
  for (StreamId id : r->deleted) ReplyId(c, id);
}

// ------------------------------------------------------------------ XGROUP

// Redis's addReplySubcommandSyntaxError: the subcommand as the client typed it.
void SubcommandSyntax(CommandContext& c, std::string_view parent = "XGROUP") {
  std::string_view sub = c.argv[1];
  std::string text = "ERR unknown subcommand or wrong number of arguments for '";
  text.append(sub.substr(0, std::min<size_t>(128, sub.find('\0'))));
  text += "'. Try ";
  text.append(parent);
  text += " HELP.";
  c.ErrorText(text);
}

// Parses MKSTREAM / ENTRIESREAD after argv[4] and checks the key and group as Redis does
// before any subcommand runs. Returns false after replying an error.
bool XGroupPrelude(CommandContext& c, bool* mkstream, int64_t* entries_read) {
  std::string_view sub = c.argv[1];
  bool create = EqualsIgnoreCase(sub, "CREATE"), setid = EqualsIgnoreCase(sub, "SETID");
  for (size_t i = 5; i < c.argv.size();) {
    if (create && EqualsIgnoreCase(c.argv[i], "MKSTREAM")) {
      *mkstream = true;
      ++i;
    } else if ((create || setid) && EqualsIgnoreCase(c.argv[i], "ENTRIESREAD") &&
               i + 1 < c.argv.size()) {
      auto v = Int(c, c.argv[i + 1]);
      if (!v) return false;
      if (*v < 0 && *v != streams::kEntriesReadUnknown) {
        c.ErrorText("ERR value for ENTRIESREAD must be positive or -1");
        return false;
      }
      *entries_read = *v;
      i += 2;
    } else {
      SubcommandSyntax(c);
      return false;
    }
  }
  auto g = streams::CheckGroup(*c.txn, c.argv[2], c.argv[3]);
  if (!g.ok()) {
    c.Error(g.status());
    return false;
  }
  if (*g == GroupOutcome::kNoKey && !(create && *mkstream)) {
    c.ErrorText(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
        "to use the MKSTREAM option to create an empty stream automatically.");
    return false;
  }
  if (*g != GroupOutcome::kOk && !create && !EqualsIgnoreCase(sub, "DESTROY")) {
    c.ErrorText(NoSuchGroupForKey(c.argv[3], c.argv[2]));
    return false;
  }
  return true;
}

// XGROUP's subcommand id argument: "$" (nullopt) or an id.
bool GroupId(CommandContext& c, std::string_view arg, bool strict, std::optional<StreamId>* out) {
  if (arg == "$") {
    out->reset();
    return true;
  }
  auto p = streams::ParseId(arg, IdSyntax{.strict = strict});
  if (!p) {
    InvalidId(c);
    return false;
  }
  *out = p->id;
  return true;
}

void XGroupCreate(CommandContext& c) {
  bool mkstream = false;
  int64_t entries_read = streams::kEntriesReadUnknown;
  if (!XGroupPrelude(c, &mkstream, &entries_read)) return;
  if (c.argv.size() > 8) return SubcommandSyntax(c);
  std::optional<StreamId> id;
  if (!GroupId(c, c.argv[4], true, &id)) return;
  bool created_stream = false;
  auto r = streams::CreateGroup(*c.txn, c.argv[2], c.argv[3], id, mkstream, entries_read,
                                &created_stream);
  if (!r.ok()) return c.Error(r.status());
  if (*r == GroupOutcome::kExists)
    return c.ErrorText("BUSYGROUP Consumer Group name already exists");
  if (created_stream) c.KeyModified(c.argv[2]);
  c.events_after_reply = true;  // Redis replies first, then publishes
  c.Notify('t', "xgroup-create", c.argv[2]);
  c.reply.Ok();
}

void XGroupSetId(CommandContext& c) {
  bool mkstream = false;
  int64_t entries_read = streams::kEntriesReadUnknown;
  if (!XGroupPrelude(c, &mkstream, &entries_read)) return;
  if (c.argv.size() != 5 && c.argv.size() != 7) return SubcommandSyntax(c);
  std::optional<StreamId> id;
  if (!GroupId(c, c.argv[4], false, &id)) return;
  auto r = streams::SetGroupId(*c.txn, c.argv[2], c.argv[3], id, entries_read);
  if (!r.ok()) return c.Error(r.status());
  c.events_after_reply = true;  // Redis replies first, then publishes
  c.Notify('t', "xgroup-setid", c.argv[2]);
  c.reply.Ok();
}

void XGroupDestroy(CommandContext& c) {
  bool mkstream = false;
  int64_t entries_read = streams::kEntriesReadUnknown;
  if (!XGroupPrelude(c, &mkstream, &entries_read)) return;
  auto r = streams::DestroyGroup(*c.txn, c.argv[2], c.argv[3]);
  if (!r.ok()) return c.Error(r.status());
  if (*r != GroupOutcome::kOk) return c.reply.Integer(0);
  c.events_after_reply = true;  // Redis replies first, then publishes
  c.Notify('t', "xgroup-destroy", c.argv[2]);
  c.KeyModified(c.argv[2]);  // wakes XREADGROUP clients blocked on the group (NOGROUP)
  c.reply.Integer(1);
}

void XGroupCreateConsumer(CommandContext& c) {
  bool mkstream = false;
  int64_t entries_read = streams::kEntriesReadUnknown;
  if (!XGroupPrelude(c, &mkstream, &entries_read)) return;
  auto r = streams::CreateConsumer(*c.txn, c.argv[2], c.argv[3], c.argv[4]);
  if (!r.ok()) return c.Error(r.status());
  if (*r == GroupOutcome::kOk) c.Notify('t', "xgroup-createconsumer", c.argv[2]);
  c.reply.Integer(*r == GroupOutcome::kOk ? 1 : 0);
}

void XGroupDelConsumer(CommandContext& c) {
  bool mkstream = false;
  int64_t entries_read = streams::kEntriesReadUnknown;
  if (!XGroupPrelude(c, &mkstream, &entries_read)) return;
  int64_t pending = 0;
  bool existed = false;
  auto r = streams::DeleteConsumer(*c.txn, c.argv[2], c.argv[3], c.argv[4], &pending, &existed);
  if (!r.ok()) return c.Error(r.status());
  if (existed) c.Notify('t', "xgroup-delconsumer", c.argv[2]);
  c.reply.Integer(pending);
}

void ReplyHelp(CommandContext& c, std::initializer_list<std::string_view> lines) {
  c.reply.Array(lines.size());
  for (auto l : lines) c.reply.SimpleString(l);
}

void XGroupHelp(CommandContext& c) {
  ReplyHelp(c, {
                   "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                   "CREATE <key> <groupname> <id|$> [option]",
                   "    Create a new consumer group. Options are:",
                   "    * MKSTREAM",
                   "      Create the empty stream if it does not exist.",
                   "    * ENTRIESREAD entries_read",
                   "      Set the group's entries_read counter (internal use).",
                   "CREATECONSUMER <key> <groupname> <consumer>",
                   "    Create a new consumer in the specified group.",
                   "DELCONSUMER <key> <groupname> <consumer>",
                   "    Remove the specified consumer.",
                   "DESTROY <key> <groupname>",
                   "    Remove the specified group.",
                   "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                   "    Set the current group ID and entries_read counter.",
                   "HELP",
                   "    Prints this help.",
               });
}

// ------------------------------------------------------------------ XINFO

void ReplyPendingList(CommandContext& c, const std::vector<streams::PendingEntry>& pel,
                      bool with_consumer) {
  c.reply.Array(pel.size());
  for (const auto& p : pel) {
    c.reply.Array(with_consumer ? 4 : 3);
    ReplyId(c, p.id);
    if (with_consumer) c.reply.Bulk(p.consumer);
    c.reply.Integer(static_cast<int64_t>(p.delivery_ms));
    c.reply.Integer(static_cast<int64_t>(p.deliveries));
  }
}

void XInfoStream(CommandContext& c) {
  bool full = false;
  uint64_t count = 10;
  if (c.argv.size() > 3) {
    if (!EqualsIgnoreCase(c.argv[3], "FULL")) return SubcommandSyntax(c, "XINFO");
    full = true;
    if (c.argv.size() > 4) {
      if (c.argv.size() != 6 || !EqualsIgnoreCase(c.argv[4], "COUNT")) {
        return SubcommandSyntax(c, "XINFO");
      }
      auto v = Int(c, c.argv[5]);
      if (!v) return;
      count = *v < 0 ? 10 : static_cast<uint64_t>(*v);
    }
  }
  auto r = streams::Report(*c.txn, c.argv[2], full, count);
  if (!r.ok()) return c.Error(r.status());
  if (!r->has_value()) return c.Error(Code::kNoSuchKey);
  const streams::StreamReport& s = **r;
  c.reply.Map(full ? 9 : 10);
  c.reply.Bulk("length");
  c.reply.Integer(static_cast<int64_t>(s.info.length));
  c.reply.Bulk("radix-tree-keys");
  c.reply.Integer(static_cast<int64_t>(s.radix_keys));
  c.reply.Bulk("radix-tree-nodes");
  c.reply.Integer(static_cast<int64_t>(s.radix_nodes));
  c.reply.Bulk("last-generated-id");
  ReplyId(c, s.info.last_id);
  c.reply.Bulk("max-deleted-entry-id");
  ReplyId(c, s.info.max_deleted_id);
  c.reply.Bulk("entries-added");
  c.reply.Integer(static_cast<int64_t>(s.info.entries_added));
  c.reply.Bulk("recorded-first-entry-id");
  ReplyId(c, s.info.first_id);
  if (!full) {
    c.reply.Bulk("groups");
    c.reply.Integer(static_cast<int64_t>(s.info.groups));
    for (const auto* e : {&s.first, &s.last}) {
      c.reply.Bulk(e == &s.first ? "first-entry" : "last-entry");
      if (e->has_value()) {
        ReplyEntry(c, **e);
      } else {
        c.reply.NullBulk();
      }
    }
    return;
  }
  c.reply.Bulk("entries");
  ReplyEntries(c, s.entries);
  c.reply.Bulk("groups");
  c.reply.Array(s.groups.size());
  for (const auto& g : s.groups) {
    c.reply.Map(7);
    c.reply.Bulk("name");
    c.reply.Bulk(g.info.name);
    c.reply.Bulk("last-delivered-id");
    ReplyId(c, g.info.last_id);
    c.reply.Bulk("entries-read");
    ReplyOptionalInt(c, g.info.entries_read == streams::kEntriesReadUnknown
                            ? std::nullopt
                            : std::optional<int64_t>(g.info.entries_read));
    c.reply.Bulk("lag");
    ReplyOptionalInt(c, g.info.lag);
    c.reply.Bulk("pel-count");
    c.reply.Integer(static_cast<int64_t>(g.info.pending));
    c.reply.Bulk("pending");
    ReplyPendingList(c, g.pel, true);
    c.reply.Bulk("consumers");
    c.reply.Array(g.consumers.size());
    for (const auto& cons : g.consumers) {
      c.reply.Map(4);
      c.reply.Bulk("name");
      c.reply.Bulk(cons.info.name);
      c.reply.Bulk("seen-time");
      c.reply.Integer(static_cast<int64_t>(cons.info.seen_ms));
      c.reply.Bulk("pel-count");
      c.reply.Integer(static_cast<int64_t>(cons.info.pending));
      c.reply.Bulk("pending");
      ReplyPendingList(c, cons.pel, false);
    }
  }
}

void XInfoGroups(CommandContext& c) {
  auto r = streams::Groups(*c.txn, c.argv[2]);
  if (!r.ok()) return c.Error(r.status());
  if (!r->has_value()) return c.Error(Code::kNoSuchKey);
  c.reply.Array((*r)->size());
  for (const auto& g : **r) {
    c.reply.Map(6);
    c.reply.Bulk("name");
    c.reply.Bulk(g.name);
    c.reply.Bulk("consumers");
    c.reply.Integer(static_cast<int64_t>(g.consumers));
    c.reply.Bulk("pending");
    c.reply.Integer(static_cast<int64_t>(g.pending));
    c.reply.Bulk("last-delivered-id");
    ReplyId(c, g.last_id);
    c.reply.Bulk("entries-read");
    ReplyOptionalInt(c, g.entries_read == streams::kEntriesReadUnknown
                            ? std::nullopt
                            : std::optional<int64_t>(g.entries_read));
    c.reply.Bulk("lag");
    ReplyOptionalInt(c, g.lag);
  }
}

void XInfoConsumers(CommandContext& c) {
  auto info = streams::GetInfo(*c.txn, c.argv[2]);
  if (!info.ok()) return c.Error(info.status());
  if (!info->has_value()) return c.Error(Code::kNoSuchKey);
  GroupOutcome outcome;
  auto r = streams::Consumers(*c.txn, c.argv[2], c.argv[3], &outcome);
  if (!r.ok()) return c.Error(r.status());
  if (outcome != GroupOutcome::kOk) return c.ErrorText(NoSuchGroupForKey(c.argv[3], c.argv[2]));
  auto now = static_cast<int64_t>(c.txn->now_ms());
  c.reply.Array(r->size());
  for (const auto& cons : *r) {
    c.reply.Map(3);
    c.reply.Bulk("name");
    c.reply.Bulk(cons.name);
    c.reply.Bulk("pending");
    c.reply.Integer(static_cast<int64_t>(cons.pending));
    c.reply.Bulk("idle");
    int64_t idle = now - static_cast<int64_t>(cons.seen_ms);
    c.reply.Integer(idle < 0 ? 0 : idle);
  }
}

void XInfoHelp(CommandContext& c) {
  ReplyHelp(c, {
                   "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                   "CONSUMERS <key> <groupname>",
                   "    Show consumers of <groupname>.",
                   "GROUPS <key>",
                   "    Show the stream consumer groups.",
                   "STREAM <key> [FULL [COUNT <count>]",
                   "    Show information about the stream.",
                   "HELP",
                   "    Prints this help.",
               });
}

// ------------------------------------------------------------------ registration

constexpr uint32_t kRead = kCmdReadOnly;
constexpr uint32_t kWrite = kCmdWrite;

}  // namespace

void RegisterStreamCommands(std::vector<CommandSpec>* out) {
  const CommandRows Row("stream");
  const std::string_view wf = "@write @stream @fast", rf = "@read @stream @fast",
                         ws = "@write @stream @slow", rs = "@read @stream @slow";
  constexpr uint32_t kDeny = kCmdDenyOom, kFast = kCmdFast;
  auto& o = *out;
  o.push_back(Row("xadd", -5, kWrite | kDeny | kFast, 1, 1, 1, XAdd,
                  "Appends a new entry to a stream", "5.0.0",
                  "O(1) when adding a new entry, O(N) when trimming where N being the number of "
                  "entries evicted.",
                  wf));
  o.push_back(Row("xtrim", -4, kWrite, 1, 1, 1, XTrim,
                  "Trims the stream to (approximately if '~' is passed) a certain size", "5.0.0",
                  "O(N), with N being the number of evicted entries. Constant times are very small "
                  "however, since entries are organized in macro nodes containing multiple entries "
                  "that can be released with a single deallocation.",
                  ws));
  o.push_back(
      Row("xrange", -4, kRead, 1, 1, 1, XRange,
          "Return a range of elements in a stream, with IDs matching the specified IDs interval",
          "5.0.0",
          "O(N) with N being the number of elements being returned. If N is constant (e.g. always "
          "asking for the first 10 elements with COUNT), you can consider it O(1).",
          rs));
  o.push_back(Row("xrevrange", -4, kRead, 1, 1, 1, XRevRange,
                  "Return a range of elements in a stream, with IDs matching the specified IDs "
                  "interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
                  "5.0.0",
                  "O(N) with N being the number of elements returned. If N is constant (e.g. "
                  "always asking for the first 10 elements with COUNT), you can consider it O(1).",
                  rs));
  o.push_back(Row("xlen", 2, kRead | kFast, 1, 1, 1, XLen,
                  "Return the number of entries in a stream", "5.0.0", "O(1)", rf));
  o.push_back(
      Row("xdel", -3, kWrite | kFast, 1, 1, 1, XDel,
          "Removes the specified entries from the stream. Returns the number of items actually "
          "deleted, that may be different from the number of IDs passed in case certain IDs do not "
          "exist.",
          "5.0.0",
          "O(1) for each single item to delete in the stream, regardless of the stream size.", wf));
  o.push_back(Row("xsetid", -3, kWrite | kDeny | kFast, 1, 1, 1, XSetId,
                  "An internal command for replicating stream values", "5.0.0", "O(1)", wf));
  CommandSpec xread = Row("xread", -4, kRead | kCmdBlocking, 0, 0, 0, XRead,
                          "Return never seen elements in multiple streams, with IDs greater than "
                          "the ones reported by the caller for each stream. Can block.",
                          "5.0.0",
                          "For each stream mentioned: O(N) with N being the number of elements "
                          "being returned, it means that XREAD-ing with a fixed COUNT is O(1). "
                          "Note that when the BLOCK option is used, XADD will pay O(M) time in "
                          "order to serve the M clients blocked on the stream getting new data.",
                          "@read @stream @slow @blocking");
  xread.keys = ReadKeys;
  o.push_back(std::move(xread));
  CommandSpec xreadgroup =
      Row("xreadgroup", -7, kWrite | kCmdBlocking, 0, 0, 0, XReadGroup,
          "Return new entries from a stream using a consumer group, or access the history of the "
          "pending entries for a given consumer. Can block.",
          "5.0.0",
          "For each stream mentioned: O(M) with M being the number of elements returned. If M is "
          "constant (e.g. always asking for the first 10 elements with COUNT), you can consider it "
          "O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to "
          "serve the N clients blocked on the stream getting new data.",
          "@write @stream @slow @blocking");
  xreadgroup.keys = ReadKeys;
  o.push_back(std::move(xreadgroup));
  o.push_back(Row(
      "xack", -4, kWrite | kFast, 1, 1, 1, XAck,
      "Marks a pending message as correctly processed, effectively removing it from the pending "
      "entries list of the consumer group. Return value of the command is the number of messages "
      "successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
      "5.0.0", "O(1) for each message ID processed.", wf));
  o.push_back(Row("xpending", -3, kRead, 1, 1, 1, XPending,
                  "Return information and entries from a stream consumer group pending entries "
                  "list, that are messages fetched but never acknowledged.",
                  "5.0.0",
                  "O(N) with N being the number of elements returned, so asking for a small fixed "
                  "number of entries per call is O(1). O(M), where M is the total number of "
                  "entries scanned when used with the IDLE filter. When the command returns just "
                  "the summary and the list of consumers is small, it runs in O(1) time; "
                  "otherwise, an additional O(N) time for iterating every consumer.",
                  rs));
  o.push_back(Row("xclaim", -6, kWrite | kFast, 1, 1, 1, XClaim,
                  "Changes (or acquires) ownership of a message in a consumer group, as if the "
                  "message was delivered to the specified consumer.",
                  "5.0.0",
                  "O(log N) with N being the number of messages in the PEL of the consumer group.",
                  wf));
  o.push_back(Row("xautoclaim", -6, kWrite | kFast, 1, 1, 1, XAutoClaim,
                  "Changes (or acquires) ownership of messages in a consumer group, as if the "
                  "messages were delivered to the specified consumer.",
                  "6.2.0", "O(1) if COUNT is small.", wf));
  CommandSpec xgroup =
      Row("xgroup", -2, kCmdNoStorage, 0, 0, 0, nullptr, "A container for consumer groups commands",
          "5.0.0", "Depends on subcommand.", "@slow");
  xgroup.subcommands = {
      Row("xgroup|create", -5, kWrite | kDeny, 2, 2, 1, XGroupCreate, "Create a consumer group.",
          "5.0.0", "O(1)", ws),
      Row("xgroup|setid", -5, kWrite, 2, 2, 1, XGroupSetId,
          "Set a consumer group to an arbitrary last delivered ID value.", "5.0.0", "O(1)", ws),
      Row("xgroup|destroy", 4, kWrite, 2, 2, 1, XGroupDestroy, "Destroy a consumer group.", "5.0.0",
          "O(N) where N is the number of entries in the group's pending entries list (PEL).", ws),
      Row("xgroup|createconsumer", 5, kWrite | kDeny, 2, 2, 1, XGroupCreateConsumer,
          "Create a consumer in a consumer group.", "6.2.0", "O(1)", ws),
      Row("xgroup|delconsumer", 5, kWrite, 2, 2, 1, XGroupDelConsumer,
          "Delete a consumer from a consumer group.", "5.0.0", "O(1)", ws),
      Row("xgroup|help", 2, kCmdNoStorage | kCmdLoading | kCmdStale, 0, 0, 0, XGroupHelp,
          "Show helpful text about the different subcommands", "5.0.0", "O(1)", "@stream @slow"),
  };
  o.push_back(std::move(xgroup));
  CommandSpec xinfo = Row("xinfo", -2, kCmdNoStorage, 0, 0, 0, nullptr,
                          "A container for stream introspection commands", "5.0.0",
                          "Depends on subcommand.", "@slow");
  xinfo.subcommands = {
      Row("xinfo|stream", -3, kRead, 2, 2, 1, XInfoStream, "Get information about a stream",
          "5.0.0", "O(1)", rs),
      Row("xinfo|groups", 3, kRead, 2, 2, 1, XInfoGroups, "List the consumer groups of a stream",
          "5.0.0", "O(1)", rs),
      Row("xinfo|consumers", 4, kRead, 2, 2, 1, XInfoConsumers,
          "List the consumers in a consumer group", "5.0.0", "O(1)", rs),
      Row("xinfo|help", 2, kCmdNoStorage | kCmdLoading | kCmdStale, 0, 0, 0, XInfoHelp,
          "Show helpful text about the different subcommands", "5.0.0", "O(1)", "@stream @slow"),
  };
  o.push_back(std::move(xinfo));
}

}  // namespace keel::server
