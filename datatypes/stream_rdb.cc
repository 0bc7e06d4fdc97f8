// Stream DUMP / RESTORE: the RDB stream object and Redis's listpack encoding (listpack.c),
// as described in datatypes/stream_rdb.h.
#include "datatypes/stream_rdb.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "datatypes/listpack.h"
#include "datatypes/rdb.h"
#include "datatypes/stream_internal.h"

namespace keel::streams {

using namespace internal;

namespace {

constexpr uint8_t kTypeV1 = kRdbTypeStreamListpacks;   // 15
constexpr uint8_t kTypeV2 = kRdbTypeStreamListpacks2;  // 19

// Stream entry flags (t_stream.c).
constexpr int64_t kFlagDeleted = 1;
constexpr int64_t kFlagSameFields = 2;

Status BadFormat() { return Status(Code::kBadDataFormat); }

uint64_t GetLE(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(s[at + i])} << (8 * i);
  return v;
}

void PutLE(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// ------------------------------------------------------------------ decoding

StreamId Offset(StreamId master, int64_t ms_diff, int64_t seq_diff) {
  return {master.ms + static_cast<uint64_t>(ms_diff), master.seq + static_cast<uint64_t>(seq_diff)};
}

// Parses one node's listpack into `node` (whose master id is set).
bool DecodeNodeListpack(std::string_view lp, RdbStream::Node* node) {
  LpReader r;
  if (!r.Open(lp)) return false;
  node->bytes = lp.size();
  int64_t count, deleted, nfields, zero;
  if (!r.NextInt(&count) || !r.NextInt(&deleted) || !r.NextInt(&nfields)) return false;
  if (count < 0 || deleted < 0 || nfields < 0) return false;
  for (int64_t i = 0; i < nfields; ++i) {
    LpElement f;
    if (!r.Next(&f)) return false;
    node->master_fields.push_back(f.Text());
  }
  if (!r.NextInt(&zero) || zero != 0) return false;
  uint64_t live = 0, dead = 0;
  while (!r.AtEnd()) {
    int64_t flags, ms_diff, seq_diff, fields = nfields;
    if (!r.NextInt(&flags) || !r.NextInt(&ms_diff) || !r.NextInt(&seq_diff)) return false;
    StreamId id = Offset(node->master, ms_diff, seq_diff);
    bool same = (flags & kFlagSameFields) != 0;
    bool gone = (flags & kFlagDeleted) != 0;
    if (!same && (!r.NextInt(&fields) || fields < 0)) return false;
    // Same fields: the values only; otherwise field, value, field, value...
    Entry e;
    e.id = id;
    for (int64_t i = 0; i < fields; ++i) {
      LpElement f, v;
      if (!same && !r.Next(&f)) return false;
      if (!r.Next(&v)) return false;
      if (gone) continue;
      e.fields.push_back(same ? node->master_fields[i] : f.Text());
      e.fields.push_back(v.Text());
    }
    int64_t lp_count;
    if (!r.NextInt(&lp_count) || lp_count != fields + 3 + (same ? 0 : fields + 1)) return false;
    node->last = id;
    if (gone) {
      ++dead;
      continue;
    }
    if (!node->entries.empty() && node->entries.back().id >= id) return false;
    if (id < node->master) return false;
    ++live;
    node->entries.push_back(std::move(e));
  }
  if (!r.Done()) return false;
  if (live != static_cast<uint64_t>(count) || dead != static_cast<uint64_t>(deleted)) return false;
  if (live + dead == 0) return false;  // Redis never keeps an empty node
  node->deleted = dead;
  return true;
}

bool ReadId(RdbReader& r, StreamId* id) {
  auto ms = r.ReadLength();
  if (!ms.ok()) return false;
  auto seq = r.ReadLength();
  if (!seq.ok()) return false;
  *id = {*ms, *seq};
  return true;
}

bool ReadRawId(RdbReader& r, StreamId* id) {
  auto raw = r.ReadBytes(16);
  if (!raw.ok()) return false;
  *id = GetId(raw->data());
  return true;
}

bool ReadMillis(RdbReader& r, uint64_t* ms) {
  auto raw = r.ReadBytes(8);
  if (!raw.ok()) return false;
  *ms = GetLE(*raw, 0, 8);
  return true;
}

bool DecodeGroups(RdbReader& r, bool v2, RdbStream* out) {
  auto ngroups = r.ReadLength();
  if (!ngroups.ok()) return false;
  std::set<std::string> names;
  for (uint64_t gi = 0; gi < *ngroups; ++gi) {
    RdbStream::Group g;
    auto name = r.ReadString();
    if (!name.ok() || !ReadId(r, &g.last_id)) return false;
    g.name = std::move(*name);
    if (!names.insert(g.name).second) return false;  // "Duplicated consumer group name"
    if (v2) {
      auto er = r.ReadLength();
      if (!er.ok()) return false;
      g.entries_read = static_cast<int64_t>(*er);
    }
    auto npel = r.ReadLength();
    if (!npel.ok() || *npel > r.remaining() / 17) return false;
    std::map<StreamId, size_t> pel;  // id -> index in g.pel
    for (uint64_t i = 0; i < *npel; ++i) {
      RdbStream::Nack n;
      if (!ReadRawId(r, &n.id) || !ReadMillis(r, &n.delivery_ms)) return false;
      auto deliveries = r.ReadLength();
      if (!deliveries.ok()) return false;
      n.deliveries = *deliveries;
      if (!pel.emplace(n.id, 0).second) return false;  // "Duplicated global PEL entry"
      g.pel.push_back(std::move(n));
    }
    std::sort(g.pel.begin(), g.pel.end(),
              [](const RdbStream::Nack& a, const RdbStream::Nack& b) { return a.id < b.id; });
    for (size_t i = 0; i < g.pel.size(); ++i) pel[g.pel[i].id] = i;
    auto nconsumers = r.ReadLength();
    if (!nconsumers.ok()) return false;
    std::set<std::string> consumer_names;
    for (uint64_t ci = 0; ci < *nconsumers; ++ci) {
      RdbStream::Consumer c;
      auto cname = r.ReadString();
      if (!cname.ok() || !ReadMillis(r, &c.seen_ms)) return false;
      c.name = std::move(*cname);
      if (!consumer_names.insert(c.name).second) return false;  // "Duplicate stream consumer"
      auto nids = r.ReadLength();
      if (!nids.ok() || *nids > r.remaining() / 16) return false;
      for (uint64_t i = 0; i < *nids; ++i) {
        StreamId id;
        if (!ReadRawId(r, &id)) return false;
        auto it = pel.find(id);
        // Not in the group's PEL, or already owned (by this consumer or another one).
        if (it == pel.end() || !g.pel[it->second].consumer.empty()) return false;
        g.pel[it->second].consumer = c.name;
        ++c.pending;
      }
      g.consumers.push_back(std::move(c));
    }
    std::sort(g.consumers.begin(), g.consumers.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& n : g.pel) {
      if (n.consumer.empty()) return false;  // "Stream CG PEL entry without consumer"
    }
    out->groups.push_back(std::move(g));
  }
  std::sort(out->groups.begin(), out->groups.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return true;
}

bool Decode(uint8_t type, std::string_view object, RdbStream* out) {
  const bool v2 = type == kTypeV2;
  RdbReader r(object);
  auto nnodes = r.ReadLength();
  if (!nnodes.ok()) return false;
  uint64_t live = 0;
  std::optional<StreamId> prev_live;  // the last live entry so far
  for (uint64_t i = 0; i < *nnodes; ++i) {
    auto key = r.ReadString();
    if (!key.ok() || key->size() != 16) return false;  // "Stream node key entry is not..."
    auto lp = r.ReadString();
    if (!lp.ok()) return false;
    RdbStream::Node node;
    node.master = GetId(key->data());
    if (!out->nodes.empty() && out->nodes.back().master >= node.master) return false;
    // Every live entry of a node precedes the next node (Keel finds an entry's node by id).
    if (prev_live && *prev_live >= node.master) return false;
    if (!DecodeNodeListpack(*lp, &node)) return false;
    if (!node.entries.empty()) prev_live = node.entries.back().id;
    live += node.entries.size();
    out->nodes.push_back(std::move(node));
  }
  auto length = r.ReadLength();
  if (!length.ok() || !ReadId(r, &out->last_id)) return false;
  out->length = *length;
  if (out->length != live) return false;  // "Stream length inconsistent with rax entries"
  if (prev_live && out->last_id < *prev_live) return false;  // XADD would go backwards
  if (v2) {
    if (!ReadId(r, &out->first_id) || !ReadId(r, &out->max_deleted_id)) return false;
    auto added = r.ReadLength();
    if (!added.ok()) return false;
    out->entries_added = *added;
  } else {
    // As Redis loads the old format: first_id from the entries, no tombstones known, every
    // entry ever added still there.
    for (const auto& n : out->nodes) {
      if (!n.entries.empty()) {
        out->first_id = n.entries.front().id;
        break;
      }
    }
    out->entries_added = out->length;
  }
  return DecodeGroups(r, v2, out);
}

// ------------------------------------------------------------------ encoding

void AppendRawString(std::string* out, std::string_view s) {
  AppendRdbLength(out, s.size());
  out->append(s);
}

void AppendId(std::string* out, StreamId id) {
  AppendRdbLength(out, id.ms);
  AppendRdbLength(out, id.seq);
}

bool SameFields(const Node& node, const Entry& e) {
  if (node.master_fields.size() * 2 != e.fields.size()) return false;
  for (size_t i = 0; i < node.master_fields.size(); ++i) {
    if (node.master_fields[i] != e.fields[2 * i]) return false;
  }
  return true;
}

// `flags_size`: the encoding size of the flags element (1 = the canonical one).
void AppendEntry(LpWriter* w, const Node& node, StreamId id, int64_t flags,
                 const std::vector<std::string>& fields, int flags_size = 1) {
  const bool same = (flags & kFlagSameFields) != 0;
  const auto pairs = static_cast<int64_t>(fields.size() / 2);
  w->IntAs(flags, flags_size);
  w->Int(static_cast<int64_t>(id.ms - node.master.ms));
  w->Int(static_cast<int64_t>(id.seq - node.master.seq));
  if (!same) w->Int(pairs);
  for (size_t i = 0; i < fields.size(); i += 2) {
    if (!same) w->Str(fields[i]);
    w->Str(fields[i + 1]);
  }
  w->Int(pairs + 3 + (same ? 0 : pairs + 1));
}

// The bytes of a field-less deleted entry with this id.
uint64_t PlaceholderSize(const Node& node, StreamId id) {
  return LpIntSize(kFlagDeleted) + LpIntSize(static_cast<int64_t>(id.ms - node.master.ms)) +
         LpIntSize(static_cast<int64_t>(id.seq - node.master.seq)) + LpIntSize(0) + LpIntSize(4);
}

// A (field, value) pair of exactly `bytes` listpack bytes, if there is one: "" or "f" and
// a run of 'x' (string sizes skip a few values where the length prefix grows).
bool PaddingPair(uint64_t bytes, std::vector<std::string>* pair) {
  for (const char* field : {"", "f"}) {
    uint64_t fsize = LpStrSize(field);
    if (bytes < fsize + 2) continue;
    uint64_t want = bytes - fsize;
    // A string of n bytes takes n + 2 .. n + 10 bytes: try the lengths that could fit.
    for (uint64_t n = want >= 10 ? want - 10 : 0; n + 2 <= want; ++n) {
      std::string value(n, 'x');
      if (LpStrSize(value) == want) {
        *pair = {std::string(field), std::move(value)};
        return true;
      }
    }
  }
  return false;
}

// One node's listpack: its live entries as Redis would have written them, and its deleted
// ones as field-less tombstones (see stream_rdb.h): at the master id before the live entries,
// and, when the node's last entry was deleted, one with that id after them (Redis reads a
// node's last id from its last entry). Ids stay in order, the first entry has the master id
// as in any Redis node, and the tombstones are padded to the node's recorded size.
std::string EncodeNodeListpack(const Node& node, const std::vector<Entry>& entries) {
  LpWriter w;
  w.Int(static_cast<int64_t>(entries.size()));
  w.Int(static_cast<int64_t>(node.deleted));
  w.Int(static_cast<int64_t>(node.master_fields.size()));
  for (const auto& f : node.master_fields) w.Str(f);
  w.Int(0);
  const bool trailing = node.deleted > 0 && (entries.empty() || node.last > entries.back().id);
  const uint64_t leading = node.deleted - (trailing ? 1 : 0);
  uint64_t size = w.size() + leading * PlaceholderSize(node, node.master);
  if (trailing) size += PlaceholderSize(node, node.last);
  for (const Entry& e : entries) {
    LpWriter one;
    AppendEntry(&one, node, e.id, SameFields(node, e) ? kFlagSameFields : 0, e.fields);
    size += one.size() - kLpHeaderSize - 1;
  }
  // Padding up to the recorded size, carried by one tombstone: a wider encoding of its flags
  // (1 to 8 more bytes) and/or a (field, value) pair (4 bytes or more).
  const uint64_t budget = node.deleted > 0 && node.bytes > size ? node.bytes - size : 0;
  std::vector<std::string> pad;
  int flags_size = 1;
  for (int width : {1, 2, 3, 4, 5, 9}) {
    const auto widen = static_cast<uint64_t>(width - 1);
    if (budget < widen) break;
    if (budget == widen || PaddingPair(budget - widen, &pad)) {
      flags_size = width;
      break;
    }
  }
  for (uint64_t i = 0; i < leading; ++i) {
    const bool padded = !trailing && i == 0;
    AppendEntry(&w, node, node.master, kFlagDeleted, padded ? pad : std::vector<std::string>(),
                padded ? flags_size : 1);
  }
  for (const Entry& e : entries) {
    AppendEntry(&w, node, e.id, SameFields(node, e) ? kFlagSameFields : 0, e.fields);
  }
  if (trailing) AppendEntry(&w, node, node.last, kFlagDeleted, pad, flags_size);
  return w.Finish();
}

Status Corrupt(const char* what) { return Status(Code::kStorage, what); }

}  // namespace

bool IsRdbStreamType(uint8_t rdb_type) { return rdb_type == kTypeV1 || rdb_type == kTypeV2; }

Result<RdbStream> DecodeRdbStream(uint8_t rdb_type, std::string_view object) {
  if (!IsRdbStreamType(rdb_type)) return BadFormat();
  RdbStream out;
  out.rdb_type = rdb_type;
  if (!Decode(rdb_type, object, &out)) return BadFormat();
  return out;
}

Status StoreRdbStream(Txn& txn, std::string_view key, KeyRecord* rec, const RdbStream& stream,
                      uint64_t expire_at_ms) {
  txn.Remove(key, rec);
  State st;
  st.rec = *rec;
  Init(txn, &st);
  st.rec.meta.expire_at_ms = expire_at_ms;
  st.length = stream.length;
  Meta& m = st.meta;
  m.last_id = stream.last_id;
  m.first_id = stream.first_id;
  m.max_deleted_id = stream.max_deleted_id;
  m.entries_added = stream.entries_added;
  const uint64_t v = st.version();
  for (const auto& n : stream.nodes) {
    Node node;
    node.master = n.master;
    node.live = n.entries.size();
    node.deleted = n.deleted;
    node.bytes = n.bytes;
    node.last = n.last;
    node.master_fields = n.master_fields;
    for (const Entry& e : n.entries) {
      std::vector<std::string_view> views(e.fields.begin(), e.fields.end());
      txn.PutSub(key, v, EntryKey(e.id), EncodeFields(views));
    }
    txn.PutSub(key, v, NodeKey(node.master), EncodeNode(node));
    ++m.nodes;
    m.has_tail = true;
    m.tail = std::move(node);
  }
  for (const auto& rg : stream.groups) {
    Group g;
    g.name = rg.name;
    g.gid = m.next_group_id++;
    g.last_id = rg.last_id;
    g.entries_read =
        stream.rdb_type == kTypeV2 ? rg.entries_read : EstimateEntriesRead(st, rg.last_id);
    g.pending = rg.pel.size();
    g.consumers = rg.consumers.size();
    if (!rg.pel.empty()) g.max_delivered = rg.pel.back().id;
    for (const auto& n : rg.pel) {
      txn.PutSub(key, v, PelKey(g.gid, n.id),
                 EncodeNack({n.delivery_ms, n.deliveries, n.consumer}));
      txn.PutSub(key, v, ConsumerPelKey(g.gid, n.consumer, n.id), "");
    }
    for (const auto& c : rg.consumers) {
      txn.PutSub(key, v, ConsumerKey(g.gid, c.name),
                 EncodeConsumer({c.name, c.seen_ms, c.pending}));
    }
    txn.PutSub(key, v, GroupKey(g.name), EncodeGroup(g));
    ++m.groups;
  }
  Store(txn, key, &st);
  *rec = st.rec;
  return Status::Ok();
}

Result<std::string> EncodeRdbStream(Txn& txn, std::string_view key) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return Status(Code::kNoSuchKey);
  const std::string node_tag(1, static_cast<char>(Tag::kNode));
  std::vector<Node> nodes;
  bool corrupt = false;
  s = Walk(txn, key, st, node_tag, node_tag, false,
           [&](std::string_view rest, std::string_view value) {
             if (rest.size() != 16) return true;
             Node n;
             if (!DecodeNode(GetId(rest.data()), value, &n)) {
               corrupt = true;
               return false;
             }
             if (st.meta.has_tail && n.master == st.meta.tail.master) n = st.meta.tail;
             nodes.push_back(std::move(n));
             return true;
           });
  if (!s.ok()) return s;
  if (corrupt) return Corrupt("corrupt stream node");

  std::string out(1, static_cast<char>(kTypeV2));
  AppendRdbLength(&out, nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    // A node's entries are those below the next node's master id.
    StreamId end = StreamId::Max();
    if (i + 1 < nodes.size()) {
      end = nodes[i + 1].master;
      Decrement(&end);
    }
    std::vector<Entry> entries;
    s = ReadEntries(txn, key, st, nodes[i].master, end, 0, false, &entries);
    if (!s.ok()) return s;
    std::string master;
    PutId(&master, nodes[i].master);
    AppendRawString(&out, master);
    AppendRawString(&out, EncodeNodeListpack(nodes[i], entries));
  }
  AppendRdbLength(&out, st.length);
  AppendId(&out, st.meta.last_id);
  AppendId(&out, st.meta.first_id);
  AppendId(&out, st.meta.max_deleted_id);
  AppendRdbLength(&out, st.meta.entries_added);

  const std::string group_tag(1, static_cast<char>(Tag::kGroup));
  std::vector<Group> groups;
  s = Walk(txn, key, st, group_tag, group_tag, false,
           [&](std::string_view rest, std::string_view value) {
             Group g;
             if (!DecodeGroup(rest, value, &g)) {
               corrupt = true;
               return false;
             }
             groups.push_back(std::move(g));
             return true;
           });
  if (!s.ok()) return s;
  if (corrupt) return Corrupt("corrupt stream group");
  AppendRdbLength(&out, groups.size());
  for (const Group& g : groups) {
    AppendRdbString(&out, g.name);
    AppendId(&out, g.last_id);
    AppendRdbLength(&out, static_cast<uint64_t>(g.entries_read));
    std::string pel;
    uint64_t npel = 0;
    s = Walk(txn, key, st, PelPrefix(g.gid), PelPrefix(g.gid), false,
             [&](std::string_view rest, std::string_view value) {
               if (rest.size() != 16) return true;
               Nack n;
               if (!DecodeNack(value, &n)) {
                 corrupt = true;
                 return false;
               }
               pel.append(rest);
               PutLE(&pel, n.delivery_ms, 8);
               AppendRdbLength(&pel, n.deliveries);
               ++npel;
               return true;
             });
    if (!s.ok()) return s;
    if (corrupt) return Corrupt("corrupt pending entry");
    AppendRdbLength(&out, npel);
    out.append(pel);
    std::vector<Consumer> consumers;
    s = Walk(txn, key, st, ConsumerPrefix(g.gid), ConsumerPrefix(g.gid), false,
             [&](std::string_view rest, std::string_view value) {
               Consumer c;
               if (!DecodeConsumer(rest, value, &c)) {
                 corrupt = true;
                 return false;
               }
               consumers.push_back(std::move(c));
               return true;
             });
    if (!s.ok()) return s;
    if (corrupt) return Corrupt("corrupt stream consumer");
    AppendRdbLength(&out, consumers.size());
    for (const Consumer& c : consumers) {
      AppendRdbString(&out, c.name);
      PutLE(&out, c.seen_ms, 8);
      std::string ids;
      uint64_t nids = 0;
      const std::string prefix = ConsumerPelPrefix(g.gid, c.name);
      s = Walk(txn, key, st, prefix, prefix, false, [&](std::string_view rest, std::string_view) {
        if (rest.size() != 16) return true;
        ids.append(rest);
        ++nids;
        return true;
      });
      if (!s.ok()) return s;
      AppendRdbLength(&out, nids);
      out.append(ids);
    }
  }
  return out;
}

}  // namespace keel::streams
