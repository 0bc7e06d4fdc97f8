#include "datatypes/stream.h"

#include <cerrno>
#include <cstdlib>

#include "datatypes/number.h"
#include "datatypes/stream_internal.h"

namespace keel::streams {

using namespace internal;

// ------------------------------------------------------------------ ids

std::string StreamId::ToString() const { return std::to_string(ms) + "-" + std::to_string(seq); }

bool Increment(StreamId* id) {
  if (id->seq == UINT64_MAX) {
    if (id->ms == UINT64_MAX) return false;
    ++id->ms;
    id->seq = 0;
    return true;
  }
  ++id->seq;
  return true;
}

bool Decrement(StreamId* id) {
  if (id->seq == 0) {
    if (id->ms == 0) return false;
    --id->ms;
    id->seq = UINT64_MAX;
    return true;
  }
  --id->seq;
  return true;
}

namespace {

// Redis's string2ull: a strict int64 that is not negative, else whatever strtoull accepts in
// full (leading spaces and a sign included).
bool ParseU64(const std::string& s, uint64_t* out) {
  int64_t v;
  if (ParseInt64(s, &v)) {
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long r = std::strtoull(s.c_str(), &end, 10);
  if (errno == EINVAL || errno == ERANGE || end == nullptr || *end != '\0') return false;
  *out = r;
  return true;
}

}  // namespace

std::optional<ParsedId> ParseId(std::string_view text, const IdSyntax& syntax) {
  // Redis parses the argument as a C string: it ends at the first NUL byte.
  text = text.substr(0, text.find('\0'));
  if (text.size() > 127) return std::nullopt;
  ParsedId out;
  if (syntax.allow_exclusive && text.size() > 1 && text[0] == '(') {
    out.exclusive = true;
    text.remove_prefix(1);
  }
  if (text == "-" || text == "+") {
    if (syntax.strict) return std::nullopt;
    out.id = text == "-" ? StreamId{} : StreamId::Max();
    return out;
  }
  size_t dash = text.find('-');
  std::string ms_part(text.substr(0, dash));
  if (!ParseU64(ms_part, &out.id.ms)) return std::nullopt;
  if (dash == std::string_view::npos) {
    out.id.seq = syntax.missing_seq;
    return out;
  }
  std::string seq_part(text.substr(dash + 1));
  if (syntax.allow_auto_seq && seq_part == "*") {
    out.seq_given = false;
    out.id.seq = 0;
    return out;
  }
  if (!ParseU64(seq_part, &out.id.seq)) return std::nullopt;
  return out;
}

// ------------------------------------------------------------------ internal codecs

namespace internal {
namespace {

void PutIdLE(std::string* out, StreamId id) {
  PutFixed64LE(out, id.ms);
  PutFixed64LE(out, id.seq);
}
StreamId GetIdLE(const char* p) { return {GetFixed64LE(p), GetFixed64LE(p + 8)}; }

void PutU32LE(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
bool GetU32LE(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) {
    *v |= static_cast<uint32_t>(static_cast<unsigned char>((*in)[i])) << (8 * i);
  }
  in->remove_prefix(4);
  return true;
}
bool GetU64LE(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = GetFixed64LE(in->data());
  in->remove_prefix(8);
  return true;
}
bool GetIdLE(std::string_view* in, StreamId* id) {
  return GetU64LE(in, &id->ms) && GetU64LE(in, &id->seq);
}
void PutString(std::string* out, std::string_view s) {
  PutU32LE(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}
bool GetString(std::string_view* in, std::string* s) {
  uint32_t n;
  if (!GetU32LE(in, &n) || in->size() < n) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

constexpr size_t kMetaFixedSize = 1 + 16 * 3 + 8 * 4 + 1;

}  // namespace

std::string EncodeMeta(const Meta& m) {
  std::string out(1, static_cast<char>(CompoundEncoding::kCompact));
  out.reserve(kMetaFixedSize + (m.has_tail ? 64 : 0));
  PutIdLE(&out, m.last_id);
  PutIdLE(&out, m.first_id);
  PutIdLE(&out, m.max_deleted_id);
  PutFixed64LE(&out, m.entries_added);
  PutFixed64LE(&out, m.groups);
  PutFixed64LE(&out, m.nodes);
  PutFixed64LE(&out, m.next_group_id);
  out.push_back(m.has_tail ? 1 : 0);
  if (m.has_tail) {
    PutIdLE(&out, m.tail.master);
    out.append(EncodeNode(m.tail));
  }
  return out;
}

Meta DecodeMeta(std::string_view tail) {
  Meta m;
  if (tail.size() < kMetaFixedSize) return m;
  const char* p = tail.data() + 1;
  m.last_id = GetIdLE(p);
  m.first_id = GetIdLE(p + 16);
  m.max_deleted_id = GetIdLE(p + 32);
  m.entries_added = GetFixed64LE(p + 48);
  m.groups = GetFixed64LE(p + 56);
  m.nodes = GetFixed64LE(p + 64);
  m.next_group_id = GetFixed64LE(p + 72);
  m.has_tail = p[80] != 0;
  if (m.has_tail) {
    std::string_view rest = tail.substr(kMetaFixedSize);
    StreamId master;
    m.has_tail = GetIdLE(&rest, &master) && DecodeNode(master, rest, &m.tail);
  }
  return m;
}

StreamInfo State::Info() const {
  StreamInfo i;
  i.length = length;
  i.last_id = meta.last_id;
  i.first_id = meta.first_id;
  i.max_deleted_id = meta.max_deleted_id;
  i.entries_added = meta.entries_added;
  i.groups = meta.groups;
  return i;
}

Status Load(Txn& txn, std::string_view key, State* st) {
  Status s = txn.Load(key, &st->rec);
  if (!s.ok()) return s;
  if (!st->rec.exists) return Status::Ok();
  if (st->rec.meta.type != ValueType::kStream) return Status(Code::kWrongType);
  st->meta = DecodeMeta(st->rec.body());
  st->length = st->rec.meta.size;
  return Status::Ok();
}

void Init(Txn& txn, State* st) {
  st->rec.meta = Metadata();
  st->rec.meta.type = ValueType::kStream;
  st->rec.meta.version = txn.NewVersion();
  st->meta = Meta();
  st->length = 0;
}

void Store(Txn& txn, std::string_view key, State* st) {
  Metadata meta = st->rec.meta;
  meta.size = st->length;
  txn.Store(key, &st->rec, meta, EncodeMeta(st->meta));
}

void PutId(std::string* out, StreamId id) {
  PutFixed64BE(out, id.ms);
  PutFixed64BE(out, id.seq);
}
StreamId GetId(const char* p) { return {GetFixed64BE(p), GetFixed64BE(p + 8)}; }

namespace {
std::string Tagged(Tag tag) { return std::string(1, static_cast<char>(tag)); }
}  // namespace

std::string EntryKey(StreamId id) {
  std::string k = Tagged(Tag::kEntry);
  PutId(&k, id);
  return k;
}
std::string NodeKey(StreamId id) {
  std::string k = Tagged(Tag::kNode);
  PutId(&k, id);
  return k;
}
std::string GroupKey(std::string_view name) {
  std::string k = Tagged(Tag::kGroup);
  k.append(name);
  return k;
}
std::string ConsumerPrefix(uint64_t gid) {
  std::string k = Tagged(Tag::kConsumer);
  PutFixed64BE(&k, gid);
  return k;
}
std::string ConsumerKey(uint64_t gid, std::string_view name) {
  std::string k = ConsumerPrefix(gid);
  k.append(name);
  return k;
}
std::string PelPrefix(uint64_t gid) {
  std::string k = Tagged(Tag::kPel);
  PutFixed64BE(&k, gid);
  return k;
}
std::string PelKey(uint64_t gid, StreamId id) {
  std::string k = PelPrefix(gid);
  PutId(&k, id);
  return k;
}
std::string ConsumerPelPrefix(uint64_t gid, std::string_view consumer) {
  std::string k = Tagged(Tag::kConsumerPel);
  PutFixed64BE(&k, gid);
  PutFixed32BE(&k, static_cast<uint32_t>(consumer.size()));
  k.append(consumer);
  return k;
}
std::string ConsumerPelKey(uint64_t gid, std::string_view consumer, StreamId id) {
  std::string k = ConsumerPelPrefix(gid, consumer);
  PutId(&k, id);
  return k;
}

std::string EncodeFields(std::span<const std::string_view> fields) {
  std::string out;
  size_t total = 4;
  for (auto f : fields) total += 4 + f.size();
  out.reserve(total);
  PutU32LE(&out, static_cast<uint32_t>(fields.size() / 2));
  for (auto f : fields) PutString(&out, f);
  return out;
}

bool DecodeFields(std::string_view raw, std::vector<std::string>* fields) {
  uint32_t pairs;
  if (!GetU32LE(&raw, &pairs)) return false;
  fields->resize(size_t{pairs} * 2);
  for (auto& f : *fields) {
    if (!GetString(&raw, &f)) return false;
  }
  return raw.empty();
}

std::string EncodeNode(const Node& n) {
  std::string out;
  PutFixed64LE(&out, n.live);
  PutFixed64LE(&out, n.deleted);
  PutFixed64LE(&out, n.bytes);
  PutIdLE(&out, n.last);
  PutU32LE(&out, static_cast<uint32_t>(n.master_fields.size()));
  for (const auto& f : n.master_fields) PutString(&out, f);
  return out;
}

bool DecodeNode(StreamId master, std::string_view raw, Node* n) {
  n->master = master;
  uint32_t count;
  if (!GetU64LE(&raw, &n->live) || !GetU64LE(&raw, &n->deleted) || !GetU64LE(&raw, &n->bytes) ||
      !GetIdLE(&raw, &n->last) || !GetU32LE(&raw, &count)) {
    return false;
  }
  n->master_fields.resize(count);
  for (auto& f : n->master_fields) {
    if (!GetString(&raw, &f)) return false;
  }
  return raw.empty();
}

std::string EncodeGroup(const Group& g) {
  std::string out;
  PutFixed64LE(&out, g.gid);
  PutIdLE(&out, g.last_id);
  PutFixed64LE(&out, static_cast<uint64_t>(g.entries_read));
  PutFixed64LE(&out, g.pending);
  PutFixed64LE(&out, g.consumers);
  PutIdLE(&out, g.max_delivered);
  return out;
}

bool DecodeGroup(std::string_view name, std::string_view raw, Group* g) {
  g->name.assign(name);
  uint64_t er;
  if (!GetU64LE(&raw, &g->gid) || !GetIdLE(&raw, &g->last_id) || !GetU64LE(&raw, &er) ||
      !GetU64LE(&raw, &g->pending) || !GetU64LE(&raw, &g->consumers) ||
      !GetIdLE(&raw, &g->max_delivered)) {
    return false;
  }
  g->entries_read = static_cast<int64_t>(er);
  return raw.empty();
}

std::string EncodeConsumer(const Consumer& c) {
  std::string out;
  PutFixed64LE(&out, c.seen_ms);
  PutFixed64LE(&out, c.pending);
  return out;
}

bool DecodeConsumer(std::string_view name, std::string_view raw, Consumer* c) {
  c->name.assign(name);
  return GetU64LE(&raw, &c->seen_ms) && GetU64LE(&raw, &c->pending) && raw.empty();
}

std::string EncodeNack(const Nack& n) {
  std::string out;
  PutFixed64LE(&out, n.delivery_ms);
  PutFixed64LE(&out, n.deliveries);
  out.append(n.consumer);
  return out;
}

bool DecodeNack(std::string_view raw, Nack* n) {
  if (!GetU64LE(&raw, &n->delivery_ms) || !GetU64LE(&raw, &n->deliveries)) return false;
  n->consumer.assign(raw);
  return true;
}

Status Get(Txn& txn, std::string_view key, const State& st, std::string_view sub,
           std::string* value, bool* found) {
  return txn.GetSub(key, st.version(), sub, value, found);
}

Status Walk(Txn& txn, std::string_view key, const State& st, std::string_view prefix,
            std::string_view from, bool reverse,
            const std::function<bool(std::string_view, std::string_view)>& fn) {
  std::string base = SubKeyPrefix(txn.db(), key, st.version());
  std::string full_prefix = base;
  full_prefix.append(prefix);
  std::string target = base;
  target.append(from);
  std::unique_ptr<rocksdb::Iterator> it = txn.NewSubIteratorWithPending();
  if (reverse) {
    it->SeekForPrev(target);
  } else {
    it->Seek(target);
  }
  for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(full_prefix)) break;
    std::string_view rest(k.data() + full_prefix.size(), k.size() - full_prefix.size());
    if (!fn(rest, std::string_view(it->value().data(), it->value().size()))) break;
  }
  if (!it->status().ok()) return Status(Code::kStorage, it->status().ToString());
  return Status::Ok();
}

Status ReadEntries(Txn& txn, std::string_view key, const State& st, StreamId start, StreamId end,
                   uint64_t count, bool reverse, std::vector<Entry>* out) {
  if (start > end) return Status::Ok();
  bool corrupt = false;
  uint64_t taken = 0;
  Status s = Walk(txn, key, st, Tagged(Tag::kEntry), EntryKey(reverse ? end : start), reverse,
                  [&](std::string_view rest, std::string_view value) {
                    if (rest.size() != 16) return true;
                    StreamId id = GetId(rest.data());
                    if (reverse ? id < start : id > end) return false;
                    Entry e;
                    e.id = id;
                    if (!DecodeFields(value, &e.fields)) {
                      corrupt = true;
                      return false;
                    }
                    out->push_back(std::move(e));
                    return count == 0 || ++taken < count;
                  });
  if (!s.ok()) return s;
  if (corrupt) return Status(Code::kStorage, "corrupt stream entry");
  return Status::Ok();
}

Status ReadEntry(Txn& txn, std::string_view key, const State& st, StreamId id,
                 std::optional<Entry>* out) {
  std::string v;
  bool found = false;
  Status s = Get(txn, key, st, EntryKey(id), &v, &found);
  if (!s.ok()) return s;
  if (!found) {
    out->reset();
    return Status::Ok();
  }
  Entry e;
  e.id = id;
  if (!DecodeFields(v, &e.fields)) return Status(Code::kStorage, "corrupt stream entry");
  *out = std::move(e);
  return Status::Ok();
}

Status RefreshFirstId(Txn& txn, std::string_view key, State* st) {
  st->meta.first_id = StreamId{};
  if (st->length == 0) return Status::Ok();
  std::vector<Entry> first;
  Status s = ReadEntries(txn, key, *st, StreamId{}, StreamId::Max(), 1, false, &first);
  if (!s.ok()) return s;
  if (!first.empty()) st->meta.first_id = first.front().id;
  return Status::Ok();
}

}  // namespace internal

// ------------------------------------------------------------------ public operations

namespace {

Status LastValid(Txn& txn, std::string_view key, const State& st, StreamId* out) {
  *out = StreamId{};
  if (st.length == 0) return Status::Ok();
  std::vector<Entry> last;
  Status s = ReadEntries(txn, key, st, StreamId{}, StreamId::Max(), 1, true, &last);
  if (!s.ok()) return s;
  if (!last.empty()) *out = last.front().id;
  return Status::Ok();
}

}  // namespace

Result<std::optional<StreamInfo>> GetInfo(Txn& txn, std::string_view key) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return std::optional<StreamInfo>();
  return std::optional<StreamInfo>(st.Info());
}

Result<std::optional<StreamId>> LastValidId(Txn& txn, std::string_view key) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return std::optional<StreamId>();
  StreamId id;
  s = LastValid(txn, key, st, &id);
  if (!s.ok()) return s;
  return std::optional<StreamId>(id);
}

Result<AddResult> Add(Txn& txn, std::string_view key, const AddArgs& args,
                      std::span<const std::string_view> fields) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  AddResult out;
  if (!st.exists()) {
    if (args.no_mkstream) return out;
    Init(txn, &st);
  }
  StreamId last = st.meta.last_id;
  if (last == StreamId::Max()) {
    return Status(Code::kStreamExhausted);
  }
  StreamId id;
  if (!args.id_given) {
    uint64_t now = txn.now_ms();
    if (now > last.ms) {
      id = {now, 0};
    } else {
      id = last;
      Increment(&id);
    }
  } else if (!args.seq_given) {
    if (args.id.ms > last.ms) {
      id = {args.id.ms, 0};
    } else if (args.id.ms == last.ms && last.seq != UINT64_MAX) {
      id = {last.ms, last.seq + 1};
    } else {
      return Status(Code::kStreamIdTooSmall);
    }
  } else {
    if (args.id <= last) return Status(Code::kStreamIdTooSmall);
    id = args.id;
  }
  s = NodeAppend(txn, key, &st, id, fields);
  if (!s.ok()) return s;
  txn.PutSub(key, st.version(), EntryKey(id), EncodeFields(fields));
  ++st.length;
  ++st.meta.entries_added;
  st.meta.last_id = id;
  if (st.length == 1) st.meta.first_id = id;
  out.added = true;
  out.id = id;
  if (args.trim.strategy != TrimStrategy::kNone) {
    auto trimmed = NodeTrim(txn, key, &st, args.trim);
    if (!trimmed.ok()) return trimmed.status();
    out.trimmed = *trimmed;
  }
  Store(txn, key, &st);
  return out;
}

Result<int64_t> Trim(Txn& txn, std::string_view key, const TrimSpec& spec) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return int64_t{0};
  auto trimmed = NodeTrim(txn, key, &st, spec);
  if (!trimmed.ok()) return trimmed.status();
  if (*trimmed > 0) Store(txn, key, &st);
  return *trimmed;
}

Result<int64_t> Len(Txn& txn, std::string_view key) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  return static_cast<int64_t>(st.length);
}

Result<std::vector<Entry>> Range(Txn& txn, std::string_view key, StreamId start, StreamId end,
                                 uint64_t count, bool reverse) {
  txn.PinSnapshot();
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  std::vector<Entry> out;
  if (!st.exists() || st.length == 0) return out;
  s = ReadEntries(txn, key, st, start, end, count, reverse, &out);
  if (!s.ok()) return s;
  return out;
}

Result<int64_t> Delete(Txn& txn, std::string_view key, std::span<const StreamId> ids) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return int64_t{0};
  int64_t deleted = 0;
  bool first_entry = false;
  for (StreamId id : ids) {
    std::string v;
    bool found = false;
    s = Get(txn, key, st, EntryKey(id), &v, &found);
    if (!s.ok()) return s;
    if (!found) continue;
    s = NodeDeleteEntry(txn, key, &st, id);
    if (!s.ok()) return s;
    --st.length;
    ++deleted;
    if (id == st.meta.first_id) first_entry = true;
    if (id > st.meta.max_deleted_id) st.meta.max_deleted_id = id;
  }
  if (deleted == 0) return deleted;
  if (st.length == 0) {
    st.meta.first_id = StreamId{};
  } else if (first_entry) {
    s = RefreshFirstId(txn, key, &st);
    if (!s.ok()) return s;
  }
  Store(txn, key, &st);
  return deleted;
}

Status SetId(Txn& txn, std::string_view key, StreamId last_id, int64_t entries_added,
             StreamId max_deleted) {
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.exists()) return Status(Code::kNoSuchKey);
  if (st.length > 0) {
    StreamId top;
    s = LastValid(txn, key, st, &top);
    if (!s.ok()) return s;
    if (last_id < top) return Status(Code::kSetIdTooSmall);
    if (entries_added >= 0 && st.length > static_cast<uint64_t>(entries_added)) {
      return Status(Code::kSetIdEntriesTooSmall);
    }
  }
  st.meta.last_id = last_id;
  if (entries_added >= 0) st.meta.entries_added = static_cast<uint64_t>(entries_added);
  if (!max_deleted.IsZero()) st.meta.max_deleted_id = max_deleted;
  Store(txn, key, &st);
  return Status::Ok();
}

Result<std::optional<std::vector<Entry>>> ReadAfter(Txn& txn, std::string_view key, StreamId after,
                                                    uint64_t count) {
  txn.PinSnapshot();
  State st;
  Status s = Load(txn, key, &st);
  if (!s.ok()) return s;
  std::optional<std::vector<Entry>> out;
  StreamId start = after;
  if (!st.exists() || st.length == 0 || st.meta.last_id <= after || !Increment(&start)) {
    return out;
  }
  std::vector<Entry> entries;
  s = ReadEntries(txn, key, st, start, StreamId::Max(), count, false, &entries);
  if (!s.ok()) return s;
  if (!entries.empty()) out = std::move(entries);  // served only if something is there
  return out;
}

}  // namespace keel::streams
