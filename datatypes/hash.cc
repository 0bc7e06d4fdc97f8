#include "datatypes/hash.h"

#include <algorithm>
#include <cmath>

#include "datatypes/collection.h"
#include "datatypes/glob.h"
#include "datatypes/number.h"

namespace keel::hashes {
namespace {

// A hash's metadata as one command sees and changes it.
struct HashKey {
  KeyRecord rec;
  Metadata meta;
  CompoundEncoding variant = CompoundEncoding::kCompact;
  uint64_t next_seq = 1;

  bool compact() const { return variant == CompoundEncoding::kCompact; }
  std::string Tail() const {
    std::string tail(1, static_cast<char>(variant));
    PutFixed64LE(&tail, next_seq);
    return tail;
  }
};

Status Open(Txn& txn, std::string_view key, HashKey* h) {
  Status st = coll::LoadTyped(txn, key, ValueType::kHash, &h->rec);
  if (!st.ok() || !h->rec.exists) return st;
  h->meta = h->rec.meta;
  h->variant = coll::VariantOf(h->rec);
  std::string_view tail = h->rec.body();
  h->next_seq = tail.size() >= 9 ? GetFixed64LE(tail.data() + 1) : 1;
  return Status::Ok();
}

// Makes `h` a new, empty hash if its key is absent.
void CreateIfAbsent(Txn& txn, HashKey* h) {
  if (h->rec.exists) return;
  h->meta = Metadata();
  h->meta.type = ValueType::kHash;
  h->meta.version = txn.NewVersion();
  h->meta.size = 0;
  h->variant = CompoundEncoding::kCompact;
  h->next_seq = 1;
}

void Save(Txn& txn, std::string_view key, HashKey* h) {
  if (h->meta.size == 0) {
    txn.Remove(key, &h->rec);
    return;
  }
  txn.Store(key, &h->rec, h->meta, h->Tail());
}

// Splits a stored value into its seq and bytes.
std::string_view ValueOf(std::string_view stored, uint64_t* seq = nullptr) {
  uint64_t s = 0;
  if (!coll::GetVarint(&stored, &s)) return {};
  if (seq != nullptr) *seq = s;
  return stored;
}

Status GetField(Txn& txn, std::string_view key, const HashKey& h, std::string_view field,
                std::string* stored, bool* found) {
  return txn.GetSub(key, h.meta.version, field, stored, found);
}

// Writes `field` = `value`; creates it (counting it) if `existing` is null.
void PutField(Txn& txn, std::string_view key, HashKey* h, std::string_view field,
              std::string_view value, const std::string* existing) {
  uint64_t seq = 0;
  if (existing != nullptr) {
    ValueOf(*existing, &seq);
  } else {
    seq = h->compact() ? h->next_seq++ : 0;
    ++h->meta.size;
    if (h->compact() && h->meta.size > kMaxCompactEntries) h->variant = CompoundEncoding::kLarge;
  }
  std::string stored;
  coll::PutVarint(&stored, seq);
  stored.append(value);
  txn.PutSub(key, h->meta.version, field, stored);
}

// Every field as stored, in reply order (insertion order while compact).
Status LoadAll(Txn& txn, std::string_view key, const HashKey& h, std::vector<FieldValue>* out) {
  coll::SubCursor it(txn, key, h.meta.version);
  std::vector<std::pair<uint64_t, FieldValue>> items;
  items.reserve(h.meta.size);
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    uint64_t seq = 0;
    std::string_view v = ValueOf(it.value(), &seq);
    items.push_back({seq, FieldValue{std::string(it.sub()), std::string(v)}});
  }
  Status st = it.status();
  if (!st.ok()) return st;
  if (h.compact()) {
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  out->clear();
  out->reserve(items.size());
  for (auto& [seq, fv] : items) out->push_back(std::move(fv));
  return Status::Ok();
}

}  // namespace

Result<std::optional<std::string>> Get(Txn& txn, std::string_view key, std::string_view field) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  if (!h.rec.exists) return std::optional<std::string>();
  std::string stored;
  bool found = false;
  st = GetField(txn, key, h, field, &stored, &found);
  if (!st.ok()) return st;
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(std::string(ValueOf(stored)));
}

Result<std::vector<std::optional<std::string>>> MGet(Txn& txn, std::string_view key,
                                                     std::span<const std::string_view> fields) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  std::vector<std::optional<std::string>> out(fields.size());
  if (!h.rec.exists) return out;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string stored;
    bool found = false;
    st = GetField(txn, key, h, fields[i], &stored, &found);
    if (!st.ok()) return st;
    if (found) out[i] = std::string(ValueOf(stored));
  }
  return out;
}

Result<int64_t> Set(Txn& txn, std::string_view key, std::span<const std::string_view> pairs) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  CreateIfAbsent(txn, &h);
  if (h.compact()) {
    for (std::string_view a : pairs) {
      if (a.size() > kMaxCompactValue) h.variant = CompoundEncoding::kLarge;
    }
  }
  int64_t created = 0;
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    std::string stored;
    bool found = false;
    st = GetField(txn, key, h, pairs[i], &stored, &found);
    if (!st.ok()) return st;
    PutField(txn, key, &h, pairs[i], pairs[i + 1], found ? &stored : nullptr);
    if (!found) ++created;
  }
  Save(txn, key, &h);
  return created;
}

Status Restore(Txn& txn, std::string_view key, std::span<const std::string_view> pairs,
               bool from_listpack) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  // The caller removed the key first: finding it here means the storage is inconsistent.
  if (h.rec.exists) return Status(Code::kStorage, "RESTORE onto an existing hash");
  CreateIfAbsent(txn, &h);
  for (size_t i = 0; !from_listpack && i < pairs.size(); ++i) {
    if (pairs[i].size() > kMaxCompactValue) h.variant = CompoundEncoding::kLarge;
  }
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    PutField(txn, key, &h, pairs[i], pairs[i + 1], nullptr);
  }
  Save(txn, key, &h);
  return Status::Ok();
}

Result<bool> SetNx(Txn& txn, std::string_view key, std::string_view field, std::string_view value) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  CreateIfAbsent(txn, &h);
  if (h.rec.exists) {
    std::string stored;
    bool found = false;
    st = GetField(txn, key, h, field, &stored, &found);
    if (!st.ok()) return st;
    if (found) return false;
  }
  if (field.size() > kMaxCompactValue || value.size() > kMaxCompactValue) {
    h.variant = CompoundEncoding::kLarge;
  }
  PutField(txn, key, &h, field, value, nullptr);
  Save(txn, key, &h);
  return true;
}

Result<DelOutcome> Del(Txn& txn, std::string_view key, std::span<const std::string_view> fields) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  DelOutcome out;
  if (!h.rec.exists) return out;
  for (std::string_view f : fields) {
    std::string stored;
    bool found = false;
    st = GetField(txn, key, h, f, &stored, &found);
    if (!st.ok()) return st;
    if (!found) continue;
    txn.DeleteSub(key, h.meta.version, f);
    --h.meta.size;
    ++out.deleted;
  }
  if (out.deleted == 0) return out;
  out.key_removed = h.meta.size == 0;
  Save(txn, key, &h);
  return out;
}

Result<int64_t> Len(Txn& txn, std::string_view key) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  return h.rec.exists ? static_cast<int64_t>(h.meta.size) : 0;
}

Result<int64_t> StrLen(Txn& txn, std::string_view key, std::string_view field) {
  auto v = Get(txn, key, field);
  if (!v.ok()) return v.status();
  return v->has_value() ? static_cast<int64_t>((*v)->size()) : 0;
}

Result<bool> Exists(Txn& txn, std::string_view key, std::string_view field) {
  auto v = Get(txn, key, field);
  if (!v.ok()) return v.status();
  return v->has_value();
}

Result<std::vector<FieldValue>> GetAll(Txn& txn, std::string_view key) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  std::vector<FieldValue> out;
  if (!h.rec.exists) return out;
  st = LoadAll(txn, key, h, &out);
  if (!st.ok()) return st;
  return out;
}

Result<int64_t> IncrBy(Txn& txn, std::string_view key, std::string_view field, int64_t delta) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  CreateIfAbsent(txn, &h);
  std::string stored;
  bool found = false;
  if (h.rec.exists) {
    st = GetField(txn, key, h, field, &stored, &found);
    if (!st.ok()) return st;
  }
  int64_t value = 0;
  if (found && !ParseInt64(ValueOf(stored), &value)) return Status(Code::kHashNotInteger);
  if ((delta < 0 && value < 0 && delta < INT64_MIN - value) ||
      (delta > 0 && value > 0 && delta > INT64_MAX - value)) {
    return Status(Code::kOverflow);
  }
  value += delta;
  std::string text = std::to_string(value);
  if (h.compact() && field.size() > kMaxCompactValue) h.variant = CompoundEncoding::kLarge;
  PutField(txn, key, &h, field, text, found ? &stored : nullptr);
  Save(txn, key, &h);
  return value;
}

Result<std::string> IncrByFloat(Txn& txn, std::string_view key, std::string_view field,
                                long double delta) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  CreateIfAbsent(txn, &h);
  std::string stored;
  bool found = false;
  if (h.rec.exists) {
    st = GetField(txn, key, h, field, &stored, &found);
    if (!st.ok()) return st;
  }
  long double value = 0;
  if (found && !ParseLongDouble(ValueOf(stored), &value)) return Status(Code::kHashNotFloat);
  value += delta;
  if (std::isnan(value) || std::isinf(value)) return Status(Code::kNanOrInfinity);
  std::string text = FormatLongDouble(value);
  if (h.compact() && (field.size() > kMaxCompactValue || text.size() > kMaxCompactValue)) {
    h.variant = CompoundEncoding::kLarge;
  }
  PutField(txn, key, &h, field, text, found ? &stored : nullptr);
  Save(txn, key, &h);
  return text;
}

Result<std::optional<FieldValue>> RandomField(Txn& txn, std::string_view key,
                                              std::mt19937_64& rng) {
  auto r = RandomFields(txn, key, -1, rng);
  if (!r.ok()) return r.status();
  if (r->empty()) return std::optional<FieldValue>();
  return std::optional<FieldValue>(std::move(r->front()));
}

Result<std::vector<FieldValue>> RandomFields(Txn& txn, std::string_view key, int64_t count,
                                             std::mt19937_64& rng) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  std::vector<FieldValue> out;
  if (!h.rec.exists || count == 0) return out;
  uint64_t size = h.meta.size;
  bool unique = count > 0;
  uint64_t n = unique ? static_cast<uint64_t>(count) : static_cast<uint64_t>(-(count + 1)) + 1;
  if (size <= coll::kUniformSampleLimit || (unique && n >= size)) {
    std::vector<FieldValue> all;
    st = LoadAll(txn, key, h, &all);
    if (!st.ok()) return st;
    if (all.empty()) return out;
    if (unique && n >= all.size()) return all;
    if (unique) {
      // A uniform choice of n positions, returned in the hash's order.
      std::vector<size_t> idx(all.size());
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      std::shuffle(idx.begin(), idx.end(), rng);
      idx.resize(n);
      std::sort(idx.begin(), idx.end());
      for (size_t i : idx) out.push_back(std::move(all[i]));
      return out;
    }
    std::uniform_int_distribution<size_t> pick(0, all.size() - 1);
    out.reserve(n);
    for (uint64_t i = 0; i < n; ++i) out.push_back(all[pick(rng)]);
    return out;
  }
  coll::RandomSeeker seeker(txn, key, h.meta.version, "");
  if (!seeker.Init())
    return seeker.status().ok() ? Result<std::vector<FieldValue>>(out)
                                : Result<std::vector<FieldValue>>(seeker.status());
  if (unique) {
    std::vector<std::pair<std::string, std::string>> picked;
    st = coll::SampleDistinct(seeker, n, rng, &picked);
    if (!st.ok()) return st;
    for (auto& [f, v] : picked) out.push_back({std::move(f), std::string(ValueOf(v))});
    return out;
  }
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    seeker.Pick(rng);
    out.push_back({std::string(seeker.element()), std::string(ValueOf(seeker.value()))});
  }
  st = seeker.status();
  if (!st.ok()) return st;
  return out;
}

Result<ScanOutcome> Scan(Txn& txn, std::string_view key, uint64_t cursor,
                         std::optional<std::string_view> pattern, size_t count) {
  HashKey h;
  Status st = Open(txn, key, &h);
  if (!st.ok()) return st;
  ScanOutcome out;
  if (!h.rec.exists) return out;
  bool match_all = !pattern || *pattern == "*";
  if (h.compact()) {
    std::vector<FieldValue> all;
    st = LoadAll(txn, key, h, &all);
    if (!st.ok()) return st;
    for (auto& fv : all) {
      if (match_all || GlobMatch(*pattern, fv.field)) out.items.push_back(std::move(fv));
    }
    return out;
  }
  auto next =
      coll::ScanPage(txn, key, h.meta.version, "", cursor, count,
                     [&](std::string_view field, std::string_view stored) {
                       if (match_all || GlobMatch(*pattern, field)) {
                         out.items.push_back({std::string(field), std::string(ValueOf(stored))});
                       }
                     });
  if (!next.ok()) return next.status();
  out.cursor = *next;
  return out;
}

}  // namespace keel::hashes
