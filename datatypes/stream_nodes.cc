// Emulation of Redis's stream layout: a radix tree of listpack nodes. Redis starts a new node
// when the last one holds stream-node-max-entries (100) entries, live or deleted, or when its
// listpack would reach stream-node-max-bytes (4096); approximate trimming removes whole nodes
// only. To trim exactly as Redis does, Keel records each node's entry counts, its listpack's
// size (computed with listpack's encoding rules) and its master fields; see
// datatypes/stream_internal.h for the format.
#include <algorithm>

#include "datatypes/number.h"
#include "datatypes/stream_internal.h"

namespace keel::streams::internal {
namespace {

// Bytes listpack uses for the back-length of an element whose encoding takes `l` bytes.
uint64_t BacklenSize(uint64_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

uint64_t IntElementSize(int64_t v) {
  uint64_t enc;
  if (v >= 0 && v <= 127) {
    enc = 1;
  } else if (v >= -4096 && v <= 4095) {
    enc = 2;
  } else if (v >= -32768 && v <= 32767) {
    enc = 3;
  } else if (v >= -8388608 && v <= 8388607) {
    enc = 4;
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    enc = 5;
  } else {
    enc = 9;
  }
  return enc + BacklenSize(enc);
}

// A string element: stored as an integer when it reads as one.
uint64_t ElementSize(std::string_view s) {
  int64_t v;
  if (ParseInt64(s, &v)) return IntElementSize(v);
  uint64_t n = s.size();
  uint64_t enc = n < 64 ? 1 + n : (n < 4096 ? 2 + n : 5 + n);
  return enc + BacklenSize(enc);
}

bool SameFields(const Node& node, std::span<const std::string_view> fields) {
  if (node.master_fields.size() * 2 != fields.size()) return false;
  for (size_t i = 0; i < node.master_fields.size(); ++i) {
    if (node.master_fields[i] != fields[2 * i]) return false;
  }
  return true;
}

// The bytes an entry adds to a node: flags, ms and seq deltas, [field count, fields],
// values, and the element count.
uint64_t EntrySize(const Node& node, StreamId id, std::span<const std::string_view> fields,
                   bool same) {
  uint64_t pairs = fields.size() / 2;
  uint64_t size = IntElementSize(same ? 2 : 0);
  size += IntElementSize(static_cast<int64_t>(id.ms - node.master.ms));
  size += IntElementSize(static_cast<int64_t>(id.seq - node.master.seq));
  if (!same) {
    size += IntElementSize(static_cast<int64_t>(pairs));
    for (size_t i = 0; i < fields.size(); i += 2) size += ElementSize(fields[i]);
  }
  for (size_t i = 1; i < fields.size(); i += 2) size += ElementSize(fields[i]);
  int64_t lp_count = static_cast<int64_t>(pairs) + 3 + (same ? 0 : static_cast<int64_t>(pairs) + 1);
  size += IntElementSize(lp_count);
  return size;
}

// The tail node's counts are kept in the metadata (see stream_internal.h).
void Overlay(const State& st, Node* node) {
  if (st.meta.has_tail && node->master == st.meta.tail.master) *node = st.meta.tail;
}

void PutNode(Txn& txn, std::string_view key, State* st, const Node& node) {
  if (st->meta.has_tail && node.master == st->meta.tail.master) {
    st->meta.tail = node;  // stored with the metadata
    return;
  }
  txn.PutSub(key, st->version(), NodeKey(node.master), EncodeNode(node));
}

// The node holding `id` (the last node whose master id is <= id).
Status FindNode(Txn& txn, std::string_view key, const State& st, StreamId id, Node* node,
                bool* found) {
  *found = false;
  bool corrupt = false;
  Status s = Walk(txn, key, st, std::string(1, static_cast<char>(Tag::kNode)), NodeKey(id), true,
                  [&](std::string_view rest, std::string_view value) {
                    if (rest.size() != 16) return true;
                    *found = true;
                    corrupt = !DecodeNode(GetId(rest.data()), value, node);
                    return false;
                  });
  if (!s.ok()) return s;
  if (corrupt) return Status(Code::kStorage, "corrupt stream node");
  if (*found) Overlay(st, node);
  return Status::Ok();
}

// Deletes the live entries of `node` (the whole node goes).
Status DeleteNodeEntries(Txn& txn, std::string_view key, const State& st, const Node& node) {
  std::vector<StreamId> ids;
  Status s = Walk(txn, key, st, std::string(1, static_cast<char>(Tag::kEntry)),
                  EntryKey(node.master), false, [&](std::string_view rest, std::string_view) {
                    if (rest.size() != 16) return true;
                    StreamId id = GetId(rest.data());
                    if (id > node.last) return false;
                    ids.push_back(id);
                    return true;
                  });
  if (!s.ok()) return s;
  for (StreamId id : ids) txn.DeleteSub(key, st.version(), EntryKey(id));
  return Status::Ok();
}

}  // namespace

Status NodeAppend(Txn& txn, std::string_view key, State* st, StreamId id,
                  std::span<const std::string_view> fields) {
  uint64_t total = 0;
  for (auto f : fields) total += f.size();
  Meta& m = st->meta;
  if (m.has_tail && m.tail.bytes + total < kNodeMaxBytes &&
      m.tail.live + m.tail.deleted < kNodeMaxEntries) {
    bool same = SameFields(m.tail, fields);
    m.tail.bytes += EntrySize(m.tail, id, fields, same);
    ++m.tail.live;
    m.tail.last = id;
    return Status::Ok();
  }
  // A new last node: the old one's record gets its final counts.
  if (m.has_tail) {
    txn.PutSub(key, st->version(), NodeKey(m.tail.master), EncodeNode(m.tail));
  }
  Node node;
  node.master = id;
  node.last = id;
  node.live = 1;
  for (size_t i = 0; i < fields.size(); i += 2) node.master_fields.emplace_back(fields[i]);
  // Listpack header and end byte, then the master entry: count, deleted, field count, the
  // fields and a 0 terminator.
  node.bytes = 6 + 1 + IntElementSize(1) + IntElementSize(0) +
               IntElementSize(static_cast<int64_t>(fields.size() / 2)) + IntElementSize(0);
  for (size_t i = 0; i < fields.size(); i += 2) node.bytes += ElementSize(fields[i]);
  node.bytes += EntrySize(node, id, fields, true);
  txn.PutSub(key, st->version(), NodeKey(id), EncodeNode(node));  // the key; counts in m.tail
  ++m.nodes;
  m.has_tail = true;
  m.tail = std::move(node);
  return Status::Ok();
}

Status NodeDeleteEntry(Txn& txn, std::string_view key, State* st, StreamId id) {
  Node node;
  bool found = false;
  Status s = FindNode(txn, key, *st, id, &node, &found);
  if (!s.ok()) return s;
  txn.DeleteSub(key, st->version(), EntryKey(id));
  if (!found) return Status::Ok();  // not expected: every entry belongs to a node
  if (node.live > 1) {
    --node.live;
    ++node.deleted;
    PutNode(txn, key, st, node);
    return Status::Ok();
  }
  // The node's last live entry: Redis frees the whole node.
  txn.DeleteSub(key, st->version(), NodeKey(node.master));
  if (st->meta.nodes > 0) --st->meta.nodes;
  if (st->meta.has_tail && st->meta.tail.master == node.master) {
    // The previous node (if any) becomes the last; its record is up to date.
    st->meta.has_tail = false;
    st->meta.tail = Node();
    StreamId before = node.master;
    if (Decrement(&before)) {
      Node prev;
      bool have_prev = false;
      s = FindNode(txn, key, *st, before, &prev, &have_prev);
      if (!s.ok()) return s;
      if (have_prev) {
        st->meta.has_tail = true;
        st->meta.tail = std::move(prev);
      }
    }
  }
  return Status::Ok();
}

Result<int64_t> NodeTrim(Txn& txn, std::string_view key, State* st, const TrimSpec& spec) {
  bool maxlen = spec.strategy == TrimStrategy::kMaxLen;
  if (spec.strategy == TrimStrategy::kNone || st->length == 0) return int64_t{0};
  if (maxlen && st->length <= static_cast<uint64_t>(spec.maxlen)) return int64_t{0};
  auto limit = static_cast<uint64_t>(spec.limit);
  uint64_t length = st->length;
  uint64_t deleted = 0;
  std::vector<Node> whole;
  std::optional<Node> partial;
  bool corrupt = false;
  Status s = Walk(txn, key, *st, std::string(1, static_cast<char>(Tag::kNode)),
                  std::string(1, static_cast<char>(Tag::kNode)), false,
                  [&](std::string_view rest, std::string_view value) {
                    if (rest.size() != 16) return true;
                    if (maxlen && length <= static_cast<uint64_t>(spec.maxlen)) return false;
                    Node node;
                    if (!DecodeNode(GetId(rest.data()), value, &node)) {
                      corrupt = true;
                      return false;
                    }
                    Overlay(*st, &node);
                    if (limit != 0 && deleted + node.live > limit) return false;
                    bool remove = maxlen ? length - node.live >= static_cast<uint64_t>(spec.maxlen)
                                         : node.last < spec.minid;
                    if (remove) {
                      length -= node.live;
                      deleted += node.live;
                      whole.push_back(std::move(node));
                      return true;
                    }
                    if (!spec.approx) partial = std::move(node);
                    return false;
                  });
  if (!s.ok()) return s;
  if (corrupt) return Status(Code::kStorage, "corrupt stream node");
  for (const Node& node : whole) {
    s = DeleteNodeEntries(txn, key, *st, node);
    if (!s.ok()) return s;
    txn.DeleteSub(key, st->version(), NodeKey(node.master));
    if (st->meta.nodes > 0) --st->meta.nodes;
    if (st->meta.has_tail && st->meta.tail.master == node.master) {
      st->meta.has_tail = false;  // trimming from the front reached the last node: all gone
      st->meta.tail = Node();
    }
  }
  if (partial) {
    // Exact trimming: delete entries of the first remaining node one by one.
    std::vector<StreamId> gone;
    s = Walk(txn, key, *st, std::string(1, static_cast<char>(Tag::kEntry)),
             EntryKey(partial->master), false, [&](std::string_view rest, std::string_view) {
               if (rest.size() != 16) return true;
               StreamId id = GetId(rest.data());
               if (id > partial->last) return false;
               if (maxlen ? length <= static_cast<uint64_t>(spec.maxlen) : id >= spec.minid) {
                 return false;
               }
               gone.push_back(id);
               --length;
               ++deleted;
               return true;
             });
    if (!s.ok()) return s;
    for (StreamId id : gone) txn.DeleteSub(key, st->version(), EntryKey(id));
    if (!gone.empty()) {
      partial->live -= gone.size();
      partial->deleted += gone.size();
      PutNode(txn, key, st, *partial);
    }
  }
  st->length = length;
  if (deleted > 0) {
    s = RefreshFirstId(txn, key, st);
    if (!s.ok()) return s;
  }
  return static_cast<int64_t>(deleted);
}

Status NodeIds(Txn& txn, std::string_view key, const State& st, std::vector<StreamId>* out) {
  return Walk(txn, key, st, std::string(1, static_cast<char>(Tag::kNode)),
              std::string(1, static_cast<char>(Tag::kNode)), false,
              [&](std::string_view rest, std::string_view) {
                if (rest.size() == 16) out->push_back(GetId(rest.data()));
                return true;
              });
}

namespace {

using Key16 = std::string;

size_t CommonPrefix(const Key16& a, const Key16& b, size_t from) {
  size_t i = from;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

// Nodes below a significant point at depth `l` (a leaf or a branch) for keys[lo, hi).
uint64_t Significant(const std::vector<Key16>& keys, size_t lo, size_t hi, size_t l);

// A child subtree entered after its first byte (depth d) was consumed by a branch node.
uint64_t Child(const std::vector<Key16>& keys, size_t lo, size_t hi, size_t d) {
  size_t l = hi - lo == 1 ? keys[lo].size() : CommonPrefix(keys[lo], keys[hi - 1], d);
  return (l > d ? 1 : 0) + Significant(keys, lo, hi, l);
}

uint64_t Significant(const std::vector<Key16>& keys, size_t lo, size_t hi, size_t l) {
  if (hi - lo == 1) return 1;  // the key's own (leaf) node
  uint64_t n = 1;              // the branch node
  size_t i = lo;
  while (i < hi) {
    size_t j = i + 1;
    while (j < hi && keys[j][l] == keys[i][l]) ++j;
    n += Child(keys, i, j, l + 1);
    i = j;
  }
  return n;
}

}  // namespace

uint64_t RaxNodeCount(const std::vector<StreamId>& ids) {
  if (ids.empty()) return 1;
  std::vector<Key16> keys;
  keys.reserve(ids.size());
  for (StreamId id : ids) {
    std::string k;
    PutId(&k, id);
    keys.push_back(std::move(k));
  }
  std::sort(keys.begin(), keys.end());
  size_t l = keys.size() == 1 ? keys[0].size() : CommonPrefix(keys.front(), keys.back(), 0);
  return (l > 0 ? 1 : 0) + Significant(keys, 0, keys.size(), l);
}

}  // namespace keel::streams::internal
