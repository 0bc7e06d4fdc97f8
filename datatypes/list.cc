#include "datatypes/list.h"

#include <algorithm>

namespace keel::lists {
namespace {

// A list key as loaded in a transaction.
struct ListState {
  KeyRecord rec;
  uint64_t head = 0;
  uint64_t size = 0;
  uint64_t version() const { return rec.meta.version; }
};

// Loads `key`: ok with !rec.exists if absent, kWrongType if not a list.
Status LoadList(Txn& txn, std::string_view key, ListState* st) {
  Status s = txn.Load(key, &st->rec);
  if (!s.ok()) return s;
  if (!st->rec.exists) return Status::Ok();
  if (st->rec.meta.type != ValueType::kList) return Status(Code::kWrongType);
  st->head = DecodeHead(st->rec.body());
  st->size = st->rec.meta.size;
  return Status::Ok();
}

// Writes the metadata of a non-empty list, or removes the key if it became empty.
void StoreList(Txn& txn, std::string_view key, ListState* st) {
  if (st->size == 0) {
    txn.Remove(key, &st->rec);
    return;
  }
  Metadata meta = st->rec.meta;
  meta.size = st->size;
  txn.Store(key, &st->rec, meta, EncodeTail(st->head));
}

// Starts a new, empty incarnation of `key` (which must be absent).
void InitList(Txn& txn, ListState* st) {
  st->rec.meta = Metadata();
  st->rec.meta.type = ValueType::kList;
  st->rec.meta.version = txn.NewVersion();
  st->head = kInitialHead;
  st->size = 0;
}

uint64_t IndexOf(std::string_view sub_key) { return GetFixed64BE(sub_key.data()); }

// Reads the elements at absolute indices [from, from + count) in order.
Status ReadRange(Txn& txn, std::string_view key, uint64_t version, uint64_t from, uint64_t count,
                 std::vector<std::string>* out) {
  out->reserve(out->size() + count);
  if (count == 0) return Status::Ok();
  if (count == 1) {
    std::string v;
    bool found = false;
    Status s = txn.GetSub(key, version, ElementSubKey(from), &v, &found);
    if (!s.ok()) return s;
    if (!found) return Status(Code::kStorage, "list element missing");
    out->push_back(std::move(v));
    return Status::Ok();
  }
  std::string prefix = SubKeyPrefix(txn.db(), key, version);
  std::unique_ptr<rocksdb::Iterator> it = txn.NewSubIteratorWithPending();
  uint64_t expect = from;
  for (it->Seek(prefix + ElementSubKey(from)); it->Valid() && expect < from + count; it->Next()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix) || k.size() != prefix.size() + 8) break;
    if (IndexOf(std::string_view(k.data() + prefix.size(), 8)) != expect) break;
    out->emplace_back(it->value().data(), it->value().size());
    ++expect;
  }
  if (!it->status().ok()) return Status(Code::kStorage, it->status().ToString());
  if (expect != from + count) return Status(Code::kStorage, "list element missing");
  return Status::Ok();
}

// Walks the elements from position `start` (relative) toward the tail (forward) or the head,
// calling fn(position, element) until it returns false.
template <typename Fn>
Status Scan(Txn& txn, std::string_view key, const ListState& st, bool forward, uint64_t start,
            Fn&& fn) {
  if (st.size == 0 || start >= st.size) return Status::Ok();
  std::string prefix = SubKeyPrefix(txn.db(), key, st.version());
  std::unique_ptr<rocksdb::Iterator> it = txn.NewSubIteratorWithPending();
  uint64_t pos = start;
  std::string target = prefix + ElementSubKey(st.head + start);
  if (forward) {
    it->Seek(target);
  } else {
    it->SeekForPrev(target);
  }
  while (it->Valid()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(prefix) || k.size() != prefix.size() + 8) break;
    if (IndexOf(std::string_view(k.data() + prefix.size(), 8)) != st.head + pos) break;
    if (!fn(pos, std::string_view(it->value().data(), it->value().size()))) {
      return Status::Ok();
    }
    if (forward) {
      if (++pos >= st.size) return Status::Ok();
      it->Next();
    } else {
      if (pos == 0) return Status::Ok();
      --pos;
      it->Prev();
    }
  }
  if (!it->status().ok()) return Status(Code::kStorage, it->status().ToString());
  return Status(Code::kStorage, "list element missing");
}

// Writes `values` at absolute indices starting at `to`.
void WriteAt(Txn& txn, std::string_view key, uint64_t version, uint64_t to,
             const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    txn.PutSub(key, version, ElementSubKey(to + i), values[i]);
  }
}

// Redis's LRANGE/LTRIM normalisation: the kept range [*from, *from + *count).
void Normalize(int64_t start, int64_t stop, uint64_t size, uint64_t* from, uint64_t* count) {
  auto n = static_cast<int64_t>(size);
  if (start < 0) start = n + start;
  if (stop < 0) stop = n + stop;
  if (start < 0) start = 0;
  if (start > stop || start >= n) {
    *from = 0;
    *count = 0;
    return;
  }
  if (stop >= n) stop = n - 1;
  *from = static_cast<uint64_t>(start);
  *count = static_cast<uint64_t>(stop - start + 1);
}

// Relative position of a (possibly negative) index, or nullopt if out of range.
std::optional<uint64_t> Position(int64_t index, uint64_t size) {
  auto n = static_cast<int64_t>(size);
  if (index < 0) index = n + index;
  if (index < 0 || index >= n) return std::nullopt;
  return static_cast<uint64_t>(index);
}

// Pushes one element onto a loaded (possibly new) list.
void PushOne(Txn& txn, std::string_view key, ListState* st, std::string_view element, End end) {
  uint64_t index;
  if (end == End::kLeft) {
    index = --st->head;
  } else {
    index = st->head + st->size;
  }
  txn.PutSub(key, st->version(), ElementSubKey(index), element);
  ++st->size;
}

}  // namespace

std::string EncodeTail(uint64_t head) {
  std::string out(1, static_cast<char>(CompoundEncoding::kCompact));
  PutFixed64LE(&out, head);
  return out;
}

uint64_t DecodeHead(std::string_view tail) {
  if (tail.size() < 9) return 0;
  return GetFixed64LE(tail.data() + 1);
}

std::string ElementSubKey(uint64_t index) {
  std::string out;
  PutFixed64BE(&out, index);
  return out;
}

Result<bool> IsList(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status s = txn.Load(key, &rec);
  if (!s.ok()) return s;
  if (!rec.exists) return false;
  if (rec.meta.type != ValueType::kList) return Code::kWrongType;
  return true;
}

Result<int64_t> Push(Txn& txn, std::string_view key, std::span<const std::string_view> elements,
                     End end, bool only_if_exists) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.rec.exists) {
    if (only_if_exists) return int64_t{0};
    InitList(txn, &st);
  }
  for (std::string_view e : elements) PushOne(txn, key, &st, e, end);
  StoreList(txn, key, &st);
  return static_cast<int64_t>(st.size);
}

Result<PopResult> Pop(Txn& txn, std::string_view key, End end, uint64_t count) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  PopResult out;
  if (!st.rec.exists) return out;
  out.existed = true;
  uint64_t n = std::min(count, st.size);
  if (n == 0) return out;
  uint64_t first = end == End::kLeft ? st.head : st.head + st.size - n;
  s = ReadRange(txn, key, st.version(), first, n, &out.elements);
  if (!s.ok()) return s;
  if (end == End::kRight) std::reverse(out.elements.begin(), out.elements.end());
  st.size -= n;
  if (st.size == 0) {
    out.emptied = true;  // the whole incarnation goes; compaction reclaims the elements
  } else {
    for (uint64_t i = 0; i < n; ++i) txn.DeleteSub(key, st.version(), ElementSubKey(first + i));
    if (end == End::kLeft) st.head += n;
  }
  StoreList(txn, key, &st);
  return out;
}

Result<int64_t> Len(Txn& txn, std::string_view key) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  return static_cast<int64_t>(st.size);
}

Result<std::vector<std::string>> Range(Txn& txn, std::string_view key, int64_t start,
                                       int64_t stop) {
  txn.PinSnapshot();
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  std::vector<std::string> out;
  if (!st.rec.exists) return out;
  uint64_t from, count;
  Normalize(start, stop, st.size, &from, &count);
  s = ReadRange(txn, key, st.version(), st.head + from, count, &out);
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<std::string>> Index(Txn& txn, std::string_view key, int64_t index) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.rec.exists) return std::optional<std::string>();
  auto pos = Position(index, st.size);
  if (!pos) return std::optional<std::string>();
  std::string v;
  bool found = false;
  s = txn.GetSub(key, st.version(), ElementSubKey(st.head + *pos), &v, &found);
  if (!s.ok()) return s;
  if (!found) return Status(Code::kStorage, "list element missing");
  return std::optional<std::string>(std::move(v));
}

Status Set(Txn& txn, std::string_view key, int64_t index, std::string_view element) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.rec.exists) return Status(Code::kNoSuchKey);
  auto pos = Position(index, st.size);
  if (!pos) return Status(Code::kOutOfRange);
  txn.PutSub(key, st.version(), ElementSubKey(st.head + *pos), element);
  // The metadata is unchanged; it is not rewritten.
  return Status::Ok();
}

Result<int64_t> Insert(Txn& txn, std::string_view key, bool before, std::string_view pivot,
                       std::string_view element) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  if (!st.rec.exists) return int64_t{0};
  std::optional<uint64_t> found;
  s = Scan(txn, key, st, /*forward=*/true, 0, [&](uint64_t pos, std::string_view v) {
    if (v != pivot) return true;
    found = pos;
    return false;
  });
  if (!s.ok()) return s;
  if (!found) return int64_t{-1};
  // The new element goes after `gap` elements; shift whichever side is shorter.
  uint64_t gap = before ? *found : *found + 1;
  std::vector<std::string> moved;
  if (gap < st.size - gap) {
    s = ReadRange(txn, key, st.version(), st.head, gap, &moved);
    if (!s.ok()) return s;
    WriteAt(txn, key, st.version(), st.head - 1, moved);
    --st.head;
  } else {
    s = ReadRange(txn, key, st.version(), st.head + gap, st.size - gap, &moved);
    if (!s.ok()) return s;
    WriteAt(txn, key, st.version(), st.head + gap + 1, moved);
  }
  txn.PutSub(key, st.version(), ElementSubKey(st.head + gap), element);
  ++st.size;
  StoreList(txn, key, &st);
  return static_cast<int64_t>(st.size);
}

Result<RemoveResult> Remove(Txn& txn, std::string_view key, int64_t count,
                            std::string_view element) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  RemoveResult out;
  if (!st.rec.exists) return out;
  bool forward = count >= 0;
  uint64_t limit = count == 0 ? UINT64_MAX
                              : (count < 0 ? static_cast<uint64_t>(-(count + 1)) + 1
                                           : static_cast<uint64_t>(count));
  std::vector<uint64_t> hits;  // relative positions
  s = Scan(txn, key, st, forward, forward ? 0 : st.size - 1, [&](uint64_t pos, std::string_view v) {
    if (v == element) hits.push_back(pos);
    return hits.size() < limit;
  });
  if (!s.ok()) return s;
  if (hits.empty()) return out;
  std::sort(hits.begin(), hits.end());
  out.removed = static_cast<int64_t>(hits.size());
  uint64_t k = hits.size();
  if (k == st.size) {
    st.size = 0;
    out.emptied = true;
    StoreList(txn, key, &st);
    return out;
  }
  uint64_t first = hits.front(), last = hits.back();
  std::vector<std::string> span;
  std::vector<std::string> kept;
  if (st.size - first <= last + 1) {
    // Close the gaps toward the head: everything after `first` moves left.
    s = ReadRange(txn, key, st.version(), st.head + first, st.size - first, &span);
    if (!s.ok()) return s;
    size_t h = 0;
    for (uint64_t i = 0; i < span.size(); ++i) {
      if (h < hits.size() && hits[h] == first + i) {
        ++h;
        continue;
      }
      kept.push_back(std::move(span[i]));
    }
    WriteAt(txn, key, st.version(), st.head + first, kept);
    for (uint64_t i = st.size - k; i < st.size; ++i) {
      txn.DeleteSub(key, st.version(), ElementSubKey(st.head + i));
    }
  } else {
    // Close the gaps toward the tail: everything up to `last` moves right.
    s = ReadRange(txn, key, st.version(), st.head, last + 1, &span);
    if (!s.ok()) return s;
    size_t h = 0;
    for (uint64_t i = 0; i < span.size(); ++i) {
      if (h < hits.size() && hits[h] == i) {
        ++h;
        continue;
      }
      kept.push_back(std::move(span[i]));
    }
    WriteAt(txn, key, st.version(), st.head + k, kept);
    for (uint64_t i = 0; i < k; ++i) txn.DeleteSub(key, st.version(), ElementSubKey(st.head + i));
    st.head += k;
  }
  st.size -= k;
  StoreList(txn, key, &st);
  return out;
}

Result<TrimResult> Trim(Txn& txn, std::string_view key, int64_t start, int64_t stop) {
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  TrimResult out;
  if (!st.rec.exists) return out;
  out.existed = true;
  uint64_t from, count;
  Normalize(start, stop, st.size, &from, &count);
  uint64_t removed = st.size - count;
  if (removed == 0) return out;
  if (count == 0) {
    st.size = 0;
    out.emptied = true;
    StoreList(txn, key, &st);
    return out;
  }
  if (count < removed) {
    // Cheaper to copy what stays into a fresh incarnation than to delete what goes.
    std::vector<std::string> kept;
    s = ReadRange(txn, key, st.version(), st.head + from, count, &kept);
    if (!s.ok()) return s;
    st.rec.meta.version = txn.NewVersion();
    st.head = kInitialHead;
    WriteAt(txn, key, st.version(), st.head, kept);
  } else {
    for (uint64_t i = 0; i < from; ++i)
      txn.DeleteSub(key, st.version(), ElementSubKey(st.head + i));
    for (uint64_t i = from + count; i < st.size; ++i) {
      txn.DeleteSub(key, st.version(), ElementSubKey(st.head + i));
    }
    st.head += from;
  }
  st.size = count;
  StoreList(txn, key, &st);
  return out;
}

Result<std::vector<int64_t>> Pos(Txn& txn, std::string_view key, std::string_view element,
                                 const PosOptions& options) {
  txn.PinSnapshot();
  ListState st;
  Status s = LoadList(txn, key, &st);
  if (!s.ok()) return s;
  std::vector<int64_t> out;
  if (!st.rec.exists || st.size == 0) return out;
  bool forward = options.rank > 0;
  // Matches to skip before reporting (Redis treats RANK INT64_MIN like -1).
  uint64_t skip = 0;
  if (options.rank > 0) skip = static_cast<uint64_t>(options.rank - 1);
  if (options.rank < 0 && options.rank != INT64_MIN)
    skip = static_cast<uint64_t>(-options.rank - 1);
  auto want = options.count == 0 ? UINT64_MAX : static_cast<uint64_t>(options.count);
  auto maxlen = options.maxlen == 0 ? UINT64_MAX : static_cast<uint64_t>(options.maxlen);
  uint64_t compared = 0;
  s = Scan(txn, key, st, forward, forward ? 0 : st.size - 1, [&](uint64_t pos, std::string_view v) {
    if (compared++ >= maxlen) return false;
    if (v == element) {
      if (skip > 0) {
        --skip;
      } else {
        out.push_back(static_cast<int64_t>(pos));
        if (out.size() >= want) return false;
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<MoveResult> Move(Txn& txn, std::string_view src, std::string_view dst, End from, End to) {
  ListState s_st;
  Status s = LoadList(txn, src, &s_st);
  if (!s.ok()) return s;
  MoveResult out;
  if (!s_st.rec.exists) return out;
  if (src != dst) {
    auto is_list = IsList(txn, dst);
    if (!is_list.ok()) return is_list.status();
  }
  auto popped = Pop(txn, src, from, 1);
  if (!popped.ok()) return popped.status();
  out.element = std::move(popped->elements.front());
  out.source_emptied = popped->emptied;
  std::string_view e = *out.element;
  auto pushed = Push(txn, dst, std::span<const std::string_view>(&e, 1), to, false);
  if (!pushed.ok()) return pushed.status();
  if (src == dst) out.source_emptied = false;
  return out;
}

}  // namespace keel::lists
