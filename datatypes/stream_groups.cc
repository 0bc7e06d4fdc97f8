// Consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO.
// Every change to a group, a consumer or a pending entry is a sub-key write in the caller's
// transaction (format in datatypes/stream_internal.h).
#include <map>

#include "datatypes/stream.h"
#include "datatypes/stream_internal.h"

namespace keel::streams {

using namespace internal;

namespace internal {

bool RangeHasTombstones(const State& st, StreamId start, std::optional<StreamId> end) {
  const Meta& m = st.meta;
  if (st.length == 0 || m.max_deleted_id.IsZero()) return false;
  if (m.first_id > m.max_deleted_id) return false;  // every tombstone precedes the first entry
  StreamId e = end.value_or(StreamId::Max());
  return start <= m.max_deleted_id && m.max_deleted_id <= e;
}

int64_t EstimateEntriesRead(const State& st, StreamId id) {
  const Meta& m = st.meta;
  auto added = static_cast<int64_t>(m.entries_added);
  if (m.entries_added == 0) return 0;
  if (st.length == 0 && id <= m.last_id) return added;
  if (id == m.last_id) return added;
  if (id > m.last_id) return kEntriesReadUnknown;
  bool no_tombstones_ahead = m.max_deleted_id.IsZero() || m.max_deleted_id < m.first_id;
  if (no_tombstones_ahead) {
    if (id < m.first_id) return added - static_cast<int64_t>(st.length);
    if (id == m.first_id) return added - static_cast<int64_t>(st.length) + 1;
  }
  return kEntriesReadUnknown;
}

std::optional<int64_t> Lag(const State& st, const Group& g) {
  auto added = static_cast<int64_t>(st.meta.entries_added);
  if (st.meta.entries_added == 0) return int64_t{0};
  if (g.entries_read != kEntriesReadUnknown && !RangeHasTombstones(st, g.last_id, std::nullopt)) {
    return added - g.entries_read;
  }
  int64_t read = EstimateEntriesRead(st, g.last_id);
  if (read == kEntriesReadUnknown) return std::nullopt;
  return added - read;
}

}  // namespace internal

namespace {

std::string TagPrefix(Tag t) { return std::string(1, static_cast<char>(t)); }

Status LoadGroup(Txn& txn, std::string_view key, const State& st, std::string_view name, Group* g,
                 bool* found) {
  std::string v;
  Status s = Get(txn, key, st, GroupKey(name), &v, found);
  if (!s.ok() || !*found) return s;
  if (!DecodeGroup(name, v, g)) return Status(Code::kStorage, "corrupt stream group");
  return Status::Ok();
}

void StoreGroup(Txn& txn, std::string_view key, const State& st, const Group& g) {
  txn.PutSub(key, st.version(), GroupKey(g.name), EncodeGroup(g));
}

Status LoadConsumer(Txn& txn, std::string_view key, const State& st, uint64_t gid,
                    std::string_view name, Consumer* c, bool* found) {
  std::string v;
  Status s = Get(txn, key, st, ConsumerKey(gid, name), &v, found);
  if (!s.ok() || !*found) return s;
  if (!DecodeConsumer(name, v, c)) return Status(Code::kStorage, "corrupt stream consumer");
  return Status::Ok();
}

void StoreConsumer(Txn& txn, std::string_view key, const State& st, uint64_t gid,
                   const Consumer& c) {
  txn.PutSub(key, st.version(), ConsumerKey(gid, c.name), EncodeConsumer(c));
}

Status LoadNack(Txn& txn, std::string_view key, const State& st, uint64_t gid, StreamId id, Nack* n,
                bool* found) {
  std::string v;
  Status s = Get(txn, key, st, PelKey(gid, id), &v, found);
  if (!s.ok() || !*found) return s;
  if (!DecodeNack(v, n)) return Status(Code::kStorage, "corrupt pending entry");
  return Status::Ok();
}

// Loads the stream and its group: outcome kNoKey / kNoGroup when either is missing.
Status LoadStreamGroup(Txn& txn, std::string_view key, std::string_view group, State* st, Group* g,
                       GroupOutcome* outcome) {
  Status s = Load(txn, key, st);
  if (!s.ok()) return s;
  if (!st->exists()) {
    *outcome = GroupOutcome::kNoKey;
    return Status::Ok();
  }
  bool found = false;
  s = LoadGroup(txn, key, *st, group, g, &found);
  if (!s.ok()) return s;
  *outcome = found ? GroupOutcome::kOk : GroupOutcome::kNoGroup;
  return Status::Ok();
}

// The consumers of a group touched by one command, written back at the end. Records are
// loaded on first use (creating the consumer if `create`).
class ConsumerCache {
 public:
  ConsumerCache(Txn& txn, std::string_view key, const State& st, Group* g)
      : txn_(txn), key_(key), st_(st), g_(g) {}

  // The consumer, or nullptr if it does not exist and !create.
  Result<Consumer*> Get(std::string_view name, bool create, bool* created = nullptr) {
    auto it = cache_.find(std::string(name));
    if (it != cache_.end()) return &it->second;
    Consumer c;
    bool found = false;
    Status s = LoadConsumer(txn_, key_, st_, g_->gid, name, &c, &found);
    if (!s.ok()) return s;
    if (!found) {
      if (!create) return static_cast<Consumer*>(nullptr);
      c.name.assign(name);
      c.seen_ms = txn_.now_ms();
      ++g_->consumers;
      if (created != nullptr) *created = true;
    }
    return &cache_.emplace(std::string(name), std::move(c)).first->second;
  }
  void Flush() {
    for (auto& [name, c] : cache_) StoreConsumer(txn_, key_, st_, g_->gid, c);
  }

 private:
  Txn& txn_;
  std::string_view key_;
  const State& st_;
  Group* g_;
  std::map<std::string, Consumer> cache_;
};

// Moves pending entry `id` (currently owned by `owner`, empty if none) to `to`.
Status Reassign(Txn& txn, std::string_view key, const State& st, ConsumerCache& cache, uint64_t gid,
                StreamId id, const std::optional<std::string>& owner, Consumer* to) {
  if (owner && *owner == to->name) return Status::Ok();
  if (owner) {
    auto old = cache.Get(*owner, false);
    if (!old.ok()) return old.status();
    if (*old != nullptr && (*old)->pending > 0) --(*old)->pending;
    txn.DeleteSub(key, st.version(), ConsumerPelKey(gid, *owner, id));
  }
  txn.PutSub(key, st.version(), ConsumerPelKey(gid, to->name, id), "");
  ++to->pending;
  return Status::Ok();
}

// Removes pending entry `id` owned by `owner` from the group.
Status DropNack(Txn& txn, std::string_view key, const State& st, ConsumerCache& cache, Group* g,
                StreamId id, const std::string& owner) {
  auto c = cache.Get(owner, false);
  if (!c.ok()) return c.status();
  if (*c != nullptr && (*c)->pending > 0) --(*c)->pending;
  txn.DeleteSub(key, st.version(), PelKey(g->gid, id));
  txn.DeleteSub(key, st.version(), ConsumerPelKey(g->gid, owner, id));
  if (g->pending > 0) --g->pending;
  return Status::Ok();
}

bool EntryExists(Txn& txn, std::string_view key, const State& st, StreamId id, Status* s) {
  std::string v;
  bool found = false;
  *s = Get(txn, key, st, EntryKey(id), &v, &found);
  return found;
}

GroupInfo ToInfo(const State& st, const Group& g) {
  GroupInfo i;
  i.name = g.name;
  i.last_id = g.last_id;
  i.entries_read = g.entries_read;
  i.pending = g.pending;
  i.consumers = g.consumers;
  i.lag = Lag(st, g);
  return i;
}

// Every sub-key (after the stream prefix) under `prefix`.
Status CollectKeys(Txn& txn, std::string_view key, const State& st, const std::string& prefix,
                   std::vector<std::string>* out) {
  return Walk(txn, key, st, prefix, prefix, false, [&](std::string_view rest, std::string_view) {
    out->push_back(prefix + std::string(rest));
    return true;
  });
}

Status PendingEntries(Txn& txn, std::string_view key, const State& st, uint64_t gid, uint64_t limit,
                      std::vector<PendingEntry>* out) {
  bool corrupt = false;
  Status s = Walk(txn, key, st, PelPrefix(gid), PelPrefix(gid), false,
                  [&](std::string_view rest, std::string_view value) {
                    if (rest.size() != 16) return true;
                    Nack n;
                    if (!DecodeNack(value, &n)) {
                      corrupt = true;
                      return false;
                    }
                    out->push_back({GetId(rest.data()), n.consumer, n.delivery_ms, n.deliveries});
                    return limit == 0 || out->size() < limit;
                  });
  if (!s.ok()) return s;
  if (corrupt) return Status(Code::kStorage, "corrupt pending entry");
  return Status::Ok();
}

// The ids in a consumer's PEL within [start, end], at most `limit` (0 = all).
Status ConsumerPelIds(Txn& txn, std::string_view key, const State& st, uint64_t gid,
                      std::string_view consumer, StreamId start, StreamId end, uint64_t limit,
                      std::vector<StreamId>* out) {
  std::string prefix = ConsumerPelPrefix(gid, consumer);
  std::string from = prefix;
  PutId(&from, start);
  return Walk(txn, key, st, prefix, from, false, [&](std::string_view rest, std::string_view) {
    if (rest.size() != 16) return true;
    StreamId id = GetId(rest.data());
    if (id > end) return false;
    out->push_back(id);
    return limit == 0 || out->size() < limit;
  });
}

Status ListConsumers(Txn& txn, std::string_view key, const State& st, uint64_t gid,
                     std::vector<Consumer>* out) {
  bool corrupt = false;
  Status s = Walk(txn, key, st, ConsumerPrefix(gid), ConsumerPrefix(gid), false,
                  [&](std::string_view rest, std::string_view value) {
                    Consumer c;
                    if (!DecodeConsumer(rest, value, &c)) {
                      corrupt = true;
                      return false;
                    }
                    out->push_back(std::move(c));
                    return true;
                  });
  if (!s.ok()) return s;
  if (corrupt) return Status(Code::kStorage, "corrupt stream consumer");
  return Status::Ok();
}

Status ListGroups(Txn& txn, std::string_view key, const State& st, std::vector<Group>* out) {
  bool corrupt = false;
  Status s = Walk(txn, key, st, TagPrefix(Tag::kGroup), TagPrefix(Tag::kGroup), false,
                  [&](std::string_view rest, std::string_view value) {
                    Group g;
                    if (!DecodeGroup(rest, value, &g)) {
                      corrupt = true;
                      return false;
                    }
                    out->push_back(std::move(g));
                    return true;
                  });
  if (!s.ok()) return s;
  if (corrupt) return Status(Code::kStorage, "corrupt stream group");
  return Status::Ok();
}

}  // namespace

// ------------------------------------------------------------------ XGROUP

Result<GroupOutcome> CreateGroup(Txn& txn, std::string_view key, std::string_view group,
                                 std::optional<StreamId> id, bool mkstream, int64_t entries_read,
                                 bool* created_stream) {
  *created_stream = false;
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) {
    if (!mkstream) return GroupOutcome::kNoKey;
    Init(txn, &st);
    *created_stream = true;
  } else {
    Group existing;
    bool found = false;
    s = LoadGroup(txn, key, st, group, &existing, &found);
    if (!s.ok()) return s;
    if (found) return GroupOutcome::kExists;
  }
  Group g;
  g.name.assign(group);
  g.gid = st.meta.next_group_id++;
  g.last_id = id.value_or(st.meta.last_id);
  g.entries_read = entries_read;
  StoreGroup(txn, key, st, g);
  ++st.meta.groups;
  Store(txn, key, &st);
  return GroupOutcome::kOk;
}

Result<GroupOutcome> SetGroupId(Txn& txn, std::string_view key, std::string_view group,
                                std::optional<StreamId> id, int64_t entries_read) {
  State st;
  Group g;
  GroupOutcome outcome;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &outcome);
  if (!s.ok()) return s;
  if (outcome != GroupOutcome::kOk) return outcome;
  g.last_id = id.value_or(st.meta.last_id);
  g.entries_read = entries_read;
  StoreGroup(txn, key, st, g);
  return GroupOutcome::kOk;
}

Result<GroupOutcome> DestroyGroup(Txn& txn, std::string_view key, std::string_view group) {
  State st;
  Group g;
  GroupOutcome outcome;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &outcome);
  if (!s.ok()) return s;
  if (outcome != GroupOutcome::kOk) return outcome;
  std::vector<std::string> subs;
  std::string q = TagPrefix(Tag::kConsumerPel);
  PutFixed64BE(&q, g.gid);
  for (const std::string& prefix : {ConsumerPrefix(g.gid), PelPrefix(g.gid), q}) {
    s = CollectKeys(txn, key, st, prefix, &subs);
    if (!s.ok()) return s;
  }
  for (const auto& sub : subs) txn.DeleteSub(key, st.version(), sub);
  txn.DeleteSub(key, st.version(), GroupKey(group));
  if (st.meta.groups > 0) --st.meta.groups;
  Store(txn, key, &st);
  return GroupOutcome::kOk;
}

Result<GroupOutcome> CreateConsumer(Txn& txn, std::string_view key, std::string_view group,
                                    std::string_view consumer) {
  State st;
  Group g;
  GroupOutcome outcome;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &outcome);
  if (!s.ok()) return s;
  if (outcome != GroupOutcome::kOk) return outcome;
  Consumer c;
  bool found = false;
  s = LoadConsumer(txn, key, st, g.gid, consumer, &c, &found);
  if (!s.ok()) return s;
  if (found) return GroupOutcome::kExists;
  c.name.assign(consumer);
  c.seen_ms = txn.now_ms();
  StoreConsumer(txn, key, st, g.gid, c);
  ++g.consumers;
  StoreGroup(txn, key, st, g);
  return GroupOutcome::kOk;
}

Result<GroupOutcome> DeleteConsumer(Txn& txn, std::string_view key, std::string_view group,
                                    std::string_view consumer, int64_t* pending, bool* existed) {
  *pending = 0;
  *existed = false;
  State st;
  Group g;
  GroupOutcome outcome;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &outcome);
  if (!s.ok()) return s;
  if (outcome != GroupOutcome::kOk) return outcome;
  Consumer c;
  s = LoadConsumer(txn, key, st, g.gid, consumer, &c, existed);
  if (!s.ok() || !*existed) return s.ok() ? Result<GroupOutcome>(GroupOutcome::kOk) : s;
  std::vector<StreamId> ids;
  s = ConsumerPelIds(txn, key, st, g.gid, consumer, StreamId{}, StreamId::Max(), 0, &ids);
  if (!s.ok()) return s;
  for (StreamId id : ids) {
    txn.DeleteSub(key, st.version(), PelKey(g.gid, id));
    txn.DeleteSub(key, st.version(), ConsumerPelKey(g.gid, consumer, id));
  }
  *pending = static_cast<int64_t>(ids.size());
  g.pending = g.pending >= ids.size() ? g.pending - ids.size() : 0;
  if (g.consumers > 0) --g.consumers;
  txn.DeleteSub(key, st.version(), ConsumerKey(g.gid, consumer));
  StoreGroup(txn, key, st, g);
  return GroupOutcome::kOk;
}

// ------------------------------------------------------------------ XREADGROUP / XACK

Result<GroupOutcome> CheckGroup(Txn& txn, std::string_view key, std::string_view group) {
  State st;
  Group g;
  GroupOutcome outcome;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &outcome);
  if (!s.ok()) return s;
  return outcome;
}

Result<ReadGroupResult> ReadGroup(Txn& txn, std::string_view key, std::string_view group,
                                  std::string_view consumer, std::optional<StreamId> after,
                                  uint64_t count, bool noack) {
  ReadGroupResult out;
  State st;
  Group g;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &out.outcome);
  if (!s.ok()) return s;
  if (out.outcome != GroupOutcome::kOk) return out;
  ConsumerCache cache(txn, key, st, &g);
  uint64_t now = txn.now_ms();
  // Like Redis, the consumer is looked up (created, its seen time refreshed) only when the
  // read is served: always for history, for ">" only when there are new entries.
  auto lookup = [&]() -> Result<Consumer*> {
    auto me = cache.Get(consumer, true, &out.consumer_created);
    if (!me.ok()) return me.status();
    (*me)->seen_ms = now;
    return *me;
  };

  if (after) {
    // History: the consumer's own pending entries after `after`.
    out.served = true;
    auto me = lookup();
    if (!me.ok()) return me.status();
    StreamId start = *after;
    std::vector<StreamId> ids;
    if (Increment(&start)) {
      s = ConsumerPelIds(txn, key, st, g.gid, consumer, start, StreamId::Max(), count, &ids);
      if (!s.ok()) return s;
    }
    for (StreamId id : ids) {
      std::optional<Entry> e;
      s = ReadEntry(txn, key, st, id, &e);
      if (!s.ok()) return s;
      if (!e) {
        Entry gone;
        gone.id = id;
        gone.deleted = true;
        out.entries.push_back(std::move(gone));
        continue;
      }
      Nack n;
      bool found = false;
      s = LoadNack(txn, key, st, g.gid, id, &n, &found);
      if (!s.ok()) return s;
      if (found) {
        n.delivery_ms = now;
        ++n.deliveries;
        txn.PutSub(key, st.version(), PelKey(g.gid, id), EncodeNack(n));
      }
      out.entries.push_back(std::move(*e));
    }
    cache.Flush();
    if (out.consumer_created) StoreGroup(txn, key, st, g);
    return out;
  }

  // ">": entries never delivered to the group (served only if there is at least one).
  StreamId start = g.last_id;
  if (st.length > 0 && st.meta.last_id > g.last_id && Increment(&start)) {
    s = ReadEntries(txn, key, st, start, StreamId::Max(), count, false, &out.entries);
    if (!s.ok()) return s;
    out.served = !out.entries.empty();
  }
  if (!out.served) return out;
  auto me = lookup();
  if (!me.ok()) return me.status();
  Consumer* c = *me;
  for (const Entry& e : out.entries) {
    g.last_id = e.id;
    if (g.entries_read != kEntriesReadUnknown && !RangeHasTombstones(st, e.id, std::nullopt)) {
      ++g.entries_read;
    } else if (st.meta.entries_added != 0) {
      g.entries_read = EstimateEntriesRead(st, e.id);
    }
    if (noack) continue;
    Nack n;
    bool found = false;
    if (e.id <= g.max_delivered) {  // above it nothing can be pending yet
      s = LoadNack(txn, key, st, g.gid, e.id, &n, &found);
      if (!s.ok()) return s;
    }
    if (found) {
      s = Reassign(txn, key, st, cache, g.gid, e.id, n.consumer, c);
      if (!s.ok()) return s;
    } else {
      ++g.pending;
      txn.PutSub(key, st.version(), ConsumerPelKey(g.gid, c->name, e.id), "");
      ++c->pending;
    }
    n.consumer = c->name;
    n.delivery_ms = now;
    n.deliveries = 1;
    txn.PutSub(key, st.version(), PelKey(g.gid, e.id), EncodeNack(n));
  }
  if (!out.entries.empty() && out.entries.back().id > g.max_delivered) {
    g.max_delivered = out.entries.back().id;
  }
  cache.Flush();
  StoreGroup(txn, key, st, g);
  return out;
}

Result<int64_t> Ack(Txn& txn, std::string_view key, std::string_view group,
                    std::span<const StreamId> ids) {
  State st;
  Group g;
  GroupOutcome outcome;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &outcome);
  if (!s.ok()) return s;
  if (outcome != GroupOutcome::kOk) return int64_t{0};
  ConsumerCache cache(txn, key, st, &g);
  int64_t acked = 0;
  for (StreamId id : ids) {
    Nack n;
    bool found = false;
    s = LoadNack(txn, key, st, g.gid, id, &n, &found);
    if (!s.ok()) return s;
    if (!found) continue;
    s = DropNack(txn, key, st, cache, &g, id, n.consumer);
    if (!s.ok()) return s;
    ++acked;
  }
  if (acked > 0) {
    cache.Flush();
    StoreGroup(txn, key, st, g);
  }
  return acked;
}

// ------------------------------------------------------------------ XPENDING

Result<PendingSummary> Pending(Txn& txn, std::string_view key, std::string_view group,
                               GroupOutcome* outcome) {
  txn.PinSnapshot();
  State st;
  Group g;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, outcome);
  if (!s.ok()) return s;
  PendingSummary out;
  if (*outcome != GroupOutcome::kOk || g.pending == 0) return out;
  out.count = g.pending;
  for (bool reverse : {false, true}) {
    std::string from = PelPrefix(g.gid);
    if (reverse) PutId(&from, StreamId::Max());
    s = Walk(txn, key, st, PelPrefix(g.gid), from, reverse,
             [&](std::string_view rest, std::string_view) {
               if (rest.size() != 16) return true;
               (reverse ? out.last : out.first) = GetId(rest.data());
               return false;
             });
    if (!s.ok()) return s;
  }
  std::vector<Consumer> consumers;
  s = ListConsumers(txn, key, st, g.gid, &consumers);
  if (!s.ok()) return s;
  for (const auto& c : consumers) {
    if (c.pending > 0) out.consumers.emplace_back(c.name, c.pending);
  }
  return out;
}

Result<std::vector<PendingEntry>> PendingRange(Txn& txn, std::string_view key,
                                               std::string_view group, const PendingQuery& q,
                                               GroupOutcome* outcome) {
  txn.PinSnapshot();
  State st;
  Group g;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, outcome);
  if (!s.ok()) return s;
  std::vector<PendingEntry> out;
  if (*outcome != GroupOutcome::kOk || q.count == 0 || q.start > q.end) return out;
  auto now = static_cast<int64_t>(txn.now_ms());
  auto take = [&](StreamId id, const Nack& n) {
    int64_t idle = now - static_cast<int64_t>(n.delivery_ms);
    if (q.min_idle_ms != 0 && idle < q.min_idle_ms) return true;
    out.push_back({id, n.consumer, n.delivery_ms, n.deliveries});
    return out.size() < q.count;
  };
  if (q.consumer) {
    Consumer c;
    bool found = false;
    s = LoadConsumer(txn, key, st, g.gid, *q.consumer, &c, &found);
    if (!s.ok() || !found) return s.ok() ? Result<std::vector<PendingEntry>>(out) : s;
    std::string prefix = ConsumerPelPrefix(g.gid, *q.consumer);
    std::string from = prefix;
    PutId(&from, q.start);
    Status inner = Status::Ok();
    s = Walk(txn, key, st, prefix, from, false, [&](std::string_view rest, std::string_view) {
      if (rest.size() != 16) return true;
      StreamId id = GetId(rest.data());
      if (id > q.end) return false;
      Nack n;
      bool have = false;
      inner = LoadNack(txn, key, st, g.gid, id, &n, &have);
      if (!inner.ok()) return false;
      return !have || take(id, n);
    });
    if (!s.ok()) return s;
    if (!inner.ok()) return inner;
    return out;
  }
  std::string from = PelPrefix(g.gid);
  PutId(&from, q.start);
  bool corrupt = false;
  s = Walk(txn, key, st, PelPrefix(g.gid), from, false,
           [&](std::string_view rest, std::string_view value) {
             if (rest.size() != 16) return true;
             StreamId id = GetId(rest.data());
             if (id > q.end) return false;
             Nack n;
             if (!DecodeNack(value, &n)) {
               corrupt = true;
               return false;
             }
             return take(id, n);
           });
  if (!s.ok()) return s;
  if (corrupt) return Status(Code::kStorage, "corrupt pending entry");
  return out;
}

// ------------------------------------------------------------------ XCLAIM / XAUTOCLAIM

Result<ClaimResult> Claim(Txn& txn, std::string_view key, std::string_view group,
                          std::string_view consumer, std::span<const StreamId> ids,
                          const ClaimArgs& args) {
  ClaimResult out;
  State st;
  Group g;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &out.outcome);
  if (!s.ok()) return s;
  if (out.outcome != GroupOutcome::kOk) return out;
  bool group_dirty = false;
  if (args.last_id > g.last_id) {
    g.last_id = args.last_id;
    group_dirty = true;
  }
  auto now = static_cast<int64_t>(txn.now_ms());
  int64_t delivery = now;
  if (args.delivery_ms && *args.delivery_ms >= 0 && *args.delivery_ms <= now) {
    delivery = *args.delivery_ms;
  }
  ConsumerCache cache(txn, key, st, &g);
  Consumer* me = nullptr;
  for (StreamId id : ids) {
    Nack n;
    bool pending = false;
    s = LoadNack(txn, key, st, g.gid, id, &n, &pending);
    if (!s.ok()) return s;
    bool exists = EntryExists(txn, key, st, id, &s);
    if (!s.ok()) return s;
    if (!exists) {
      if (pending) {
        s = DropNack(txn, key, st, cache, &g, id, n.consumer);
        if (!s.ok()) return s;
        group_dirty = true;
      }
      continue;
    }
    std::optional<std::string> owner;
    if (pending) {
      owner = n.consumer;
    } else if (args.force) {
      n = Nack{static_cast<uint64_t>(now), 1, ""};
      ++g.pending;
      if (id > g.max_delivered) g.max_delivered = id;
      group_dirty = true;
    } else {
      continue;
    }
    if (owner && args.min_idle_ms > 0 &&
        now - static_cast<int64_t>(n.delivery_ms) < args.min_idle_ms) {
      continue;
    }
    if (me == nullptr) {
      auto c = cache.Get(consumer, true, &out.consumer_created);
      if (!c.ok()) return c.status();
      me = *c;
      me->seen_ms = static_cast<uint64_t>(now);
      if (out.consumer_created) group_dirty = true;
    }
    s = Reassign(txn, key, st, cache, g.gid, id, owner, me);
    if (!s.ok()) return s;
    n.consumer = me->name;
    n.delivery_ms = static_cast<uint64_t>(delivery);
    if (args.retry_count >= 0) {
      n.deliveries = static_cast<uint64_t>(args.retry_count);
    } else if (!args.just_id) {
      ++n.deliveries;
    }
    txn.PutSub(key, st.version(), PelKey(g.gid, id), EncodeNack(n));
    Entry e;
    e.id = id;
    if (!args.just_id) {
      std::optional<Entry> full;
      s = ReadEntry(txn, key, st, id, &full);
      if (!s.ok()) return s;
      if (full) {
        e = std::move(*full);
      } else {
        e.deleted = true;
      }
    }
    out.claimed.push_back(std::move(e));
  }
  cache.Flush();
  if (group_dirty) StoreGroup(txn, key, st, g);
  return out;
}

Result<AutoClaimResult> AutoClaim(Txn& txn, std::string_view key, std::string_view group,
                                  std::string_view consumer, int64_t min_idle_ms, StreamId start,
                                  uint64_t count, bool just_id) {
  AutoClaimResult out;
  State st;
  Group g;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, &out.outcome);
  if (!s.ok()) return s;
  if (out.outcome != GroupOutcome::kOk) return out;
  auto now = static_cast<int64_t>(txn.now_ms());
  uint64_t attempts = count * 10;
  uint64_t remaining = count;
  // First pass (reads only): decide what happens to each examined pending entry.
  struct Step {
    StreamId id;
    Nack nack;
    bool gone;
  };
  std::vector<Step> steps;
  Status inner = Status::Ok();
  bool corrupt = false;
  std::string from = PelPrefix(g.gid);
  PutId(&from, start);
  s = Walk(txn, key, st, PelPrefix(g.gid), from, false,
           [&](std::string_view rest, std::string_view value) {
             if (rest.size() != 16) return true;
             StreamId id = GetId(rest.data());
             if (attempts == 0 || remaining == 0) {
               out.next = id;  // where the next call resumes
               return false;
             }
             --attempts;
             Nack n;
             if (!DecodeNack(value, &n)) {
               corrupt = true;
               return false;
             }
             bool exists = EntryExists(txn, key, st, id, &inner);
             if (!inner.ok()) return false;
             if (!exists) {
               steps.push_back({id, std::move(n), true});
               --remaining;
               return true;
             }
             if (min_idle_ms > 0 && now - static_cast<int64_t>(n.delivery_ms) < min_idle_ms) {
               return true;
             }
             steps.push_back({id, std::move(n), false});
             --remaining;
             return true;
           });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  if (corrupt) return Status(Code::kStorage, "corrupt pending entry");
  ConsumerCache cache(txn, key, st, &g);
  Consumer* me = nullptr;
  bool group_dirty = false;
  for (Step& step : steps) {
    if (step.gone) {
      s = DropNack(txn, key, st, cache, &g, step.id, step.nack.consumer);
      if (!s.ok()) return s;
      out.deleted.push_back(step.id);
      group_dirty = true;
      continue;
    }
    if (me == nullptr) {
      auto c = cache.Get(consumer, true, &out.consumer_created);
      if (!c.ok()) return c.status();
      me = *c;
      me->seen_ms = static_cast<uint64_t>(now);
      if (out.consumer_created) group_dirty = true;
    }
    s = Reassign(txn, key, st, cache, g.gid, step.id, step.nack.consumer, me);
    if (!s.ok()) return s;
    step.nack.consumer = me->name;
    step.nack.delivery_ms = static_cast<uint64_t>(now);
    if (!just_id) ++step.nack.deliveries;
    txn.PutSub(key, st.version(), PelKey(g.gid, step.id), EncodeNack(step.nack));
    Entry e;
    e.id = step.id;
    if (!just_id) {
      std::optional<Entry> full;
      s = ReadEntry(txn, key, st, step.id, &full);
      if (!s.ok()) return s;
      if (full) e = std::move(*full);
    }
    out.claimed.push_back(std::move(e));
  }
  cache.Flush();
  if (group_dirty) StoreGroup(txn, key, st, g);
  return out;
}

// ------------------------------------------------------------------ XINFO

Result<std::optional<std::vector<GroupInfo>>> Groups(Txn& txn, std::string_view key) {
  txn.PinSnapshot();
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return std::optional<std::vector<GroupInfo>>();
  std::vector<Group> groups;
  s = ListGroups(txn, key, st, &groups);
  if (!s.ok()) return s;
  std::vector<GroupInfo> out;
  for (const auto& g : groups) out.push_back(ToInfo(st, g));
  return std::optional<std::vector<GroupInfo>>(std::move(out));
}

Result<std::vector<ConsumerInfo>> Consumers(Txn& txn, std::string_view key, std::string_view group,
                                            GroupOutcome* outcome) {
  txn.PinSnapshot();
  State st;
  Group g;
  Status s = LoadStreamGroup(txn, key, group, &st, &g, outcome);
  if (!s.ok()) return s;
  std::vector<ConsumerInfo> out;
  if (*outcome != GroupOutcome::kOk) return out;
  std::vector<Consumer> consumers;
  s = ListConsumers(txn, key, st, g.gid, &consumers);
  if (!s.ok()) return s;
  for (auto& c : consumers) out.push_back({std::move(c.name), c.pending, c.seen_ms});
  return out;
}

Result<std::optional<StreamReport>> Report(Txn& txn, std::string_view key, bool full,
                                           uint64_t count) {
  txn.PinSnapshot();
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return std::optional<StreamReport>();
  StreamReport r;
  r.info = st.Info();
  std::vector<StreamId> nodes;
  s = NodeIds(txn, key, st, &nodes);
  if (!s.ok()) return s;
  r.radix_keys = nodes.size();
  r.radix_nodes = RaxNodeCount(nodes);
  if (!full) {
    for (bool reverse : {false, true}) {
      std::vector<Entry> one;
      s = ReadEntries(txn, key, st, StreamId{}, StreamId::Max(), 1, reverse, &one);
      if (!s.ok()) return s;
      if (!one.empty()) (reverse ? r.last : r.first) = std::move(one.front());
    }
    return std::optional<StreamReport>(std::move(r));
  }
  s = ReadEntries(txn, key, st, StreamId{}, StreamId::Max(), count, false, &r.entries);
  if (!s.ok()) return s;
  std::vector<Group> groups;
  s = ListGroups(txn, key, st, &groups);
  if (!s.ok()) return s;
  for (const auto& g : groups) {
    StreamReport::Group rg;
    rg.info = ToInfo(st, g);
    s = PendingEntries(txn, key, st, g.gid, count, &rg.pel);
    if (!s.ok()) return s;
    std::vector<Consumer> consumers;
    s = ListConsumers(txn, key, st, g.gid, &consumers);
    if (!s.ok()) return s;
    for (auto& c : consumers) {
      StreamReport::Group::Consumer rc;
      std::vector<StreamId> ids;
      s = ConsumerPelIds(txn, key, st, g.gid, c.name, StreamId{}, StreamId::Max(), count, &ids);
      if (!s.ok()) return s;
      for (StreamId id : ids) {
        Nack n;
        bool found = false;
        s = LoadNack(txn, key, st, g.gid, id, &n, &found);
        if (!s.ok()) return s;
        rc.pel.push_back({id, c.name, n.delivery_ms, n.deliveries});
      }
      rc.info = {std::move(c.name), c.pending, c.seen_ms};
      rg.consumers.push_back(std::move(rc));
    }
    r.groups.push_back(std::move(rg));
  }
  return std::optional<StreamReport>(std::move(r));
}

}  // namespace keel::streams
