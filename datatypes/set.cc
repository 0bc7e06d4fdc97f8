#include "datatypes/set.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "datatypes/collection.h"
#include "datatypes/glob.h"
#include "datatypes/number.h"

namespace keel::sets {
namespace {

struct SetKey {
  KeyRecord rec;
  Metadata meta;
  CompoundEncoding variant = CompoundEncoding::kCompact;

  bool compact() const { return variant == CompoundEncoding::kCompact; }
  std::string Tail() const { return std::string(1, static_cast<char>(variant)); }
};

Status Open(Txn& txn, std::string_view key, SetKey* s) {
  Status st = coll::LoadTyped(txn, key, ValueType::kSet, &s->rec);
  if (!st.ok() || !s->rec.exists) return st;
  s->meta = s->rec.meta;
  s->variant = coll::VariantOf(s->rec);
  return Status::Ok();
}

// A fresh, empty set whose variant is what Redis's setTypeCreate picks for `first`.
void CreateFor(Txn& txn, std::string_view first, SetKey* s) {
  s->meta = Metadata();
  s->meta.type = ValueType::kSet;
  s->meta.version = txn.NewVersion();
  s->meta.size = 0;
  s->variant = IsIntsetMember(first) ? CompoundEncoding::kCompact : CompoundEncoding::kLarge;
}

void Save(Txn& txn, std::string_view key, SetKey* s) {
  if (s->meta.size == 0) {
    txn.Remove(key, &s->rec);
    return;
  }
  txn.Store(key, &s->rec, s->meta, s->Tail());
}

Status Contains(Txn& txn, std::string_view key, const SetKey& s, std::string_view member,
                bool* found) {
  std::string ignored;
  return txn.GetSub(key, s.meta.version, member, &ignored, found);
}

// Adds a member known to be absent.
void PutMember(Txn& txn, std::string_view key, SetKey* s, std::string_view member) {
  txn.PutSub(key, s->meta.version, member, "");
  ++s->meta.size;
  if (s->compact() && (!IsIntsetMember(member) || s->meta.size > kMaxIntsetEntries)) {
    s->variant = CompoundEncoding::kLarge;
  }
}

// Sorts integer members numerically (an intset's order).
void SortNumerically(std::vector<std::string>* members) {
  std::vector<std::pair<int64_t, std::string>> keyed;
  keyed.reserve(members->size());
  for (auto& m : *members) {
    int64_t v = 0;
    ParseInt64(m, &v);
    keyed.emplace_back(v, std::move(m));
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  members->clear();
  for (auto& [v, m] : keyed) members->push_back(std::move(m));
}

// Every member, in reply order.
Status LoadAll(Txn& txn, std::string_view key, const SetKey& s, std::vector<std::string>* out) {
  out->clear();
  out->reserve(s.meta.size);
  coll::SubCursor it(txn, key, s.meta.version);
  for (it.SeekToFirst(); it.Valid(); it.Next()) out->emplace_back(it.sub());
  Status st = it.status();
  if (!st.ok()) return st;
  if (s.compact()) SortNumerically(out);
  return Status::Ok();
}

// The variant a set built from `members` gets (Redis adds them to a new intset).
CompoundEncoding NaturalVariant(const std::vector<std::string>& members) {
  if (members.size() > kMaxIntsetEntries) return CompoundEncoding::kLarge;
  for (const auto& m : members) {
    if (!IsIntsetMember(m)) return CompoundEncoding::kLarge;
  }
  return CompoundEncoding::kCompact;
}

// Loads the sets named by `keys` (absent ones as nullopt); kWrongType if any is not a set.
Status OpenAll(Txn& txn, std::span<const std::string_view> keys, std::vector<SetKey>* sets) {
  sets->resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    Status st = Open(txn, keys[i], &(*sets)[i]);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// The result of a set operation, in reply order.
Status Evaluate(Txn& txn, std::span<const std::string_view> keys, SetOp op, uint64_t limit,
                std::vector<std::string>* out, int64_t* card) {
  std::vector<SetKey> sets;
  Status st = OpenAll(txn, keys, &sets);
  if (!st.ok()) return st;
  out->clear();
  if (card != nullptr) *card = 0;
  if (op == SetOp::kInter) {
    for (const auto& s : sets) {
      if (!s.rec.exists) return Status::Ok();
    }
    std::vector<size_t> order(keys.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return sets[a].meta.size < sets[b].meta.size; });
    const SetKey& first = sets[order[0]];
    coll::SubCursor it(txn, keys[order[0]], first.meta.version);
    for (it.SeekToFirst(); it.Valid(); it.Next()) {
      bool in_all = true;
      for (size_t j = 1; j < order.size() && in_all; ++j) {
        if (keys[order[j]] == keys[order[0]]) continue;
        st = Contains(txn, keys[order[j]], sets[order[j]], it.sub(), &in_all);
        if (!st.ok()) return st;
      }
      if (!in_all) continue;
      if (card != nullptr) {
        ++*card;
        if (limit != 0 && static_cast<uint64_t>(*card) >= limit) break;
      } else {
        out->emplace_back(it.sub());
      }
    }
    st = it.status();
    if (!st.ok()) return st;
    if (first.compact()) SortNumerically(out);
    return Status::Ok();
  }
  std::set<std::string> result;
  if (op == SetOp::kUnion) {
    for (size_t i = 0; i < sets.size(); ++i) {
      if (!sets[i].rec.exists) continue;
      coll::SubCursor it(txn, keys[i], sets[i].meta.version);
      for (it.SeekToFirst(); it.Valid(); it.Next()) result.emplace(it.sub());
      st = it.status();
      if (!st.ok()) return st;
    }
  } else {
    if (!sets[0].rec.exists) return Status::Ok();
    coll::SubCursor it(txn, keys[0], sets[0].meta.version);
    for (it.SeekToFirst(); it.Valid(); it.Next()) {
      bool in_other = false;
      for (size_t j = 1; j < sets.size() && !in_other; ++j) {
        if (!sets[j].rec.exists) continue;
        st = Contains(txn, keys[j], sets[j], it.sub(), &in_other);
        if (!st.ok()) return st;
      }
      if (!in_other) result.emplace(it.sub());
    }
    st = it.status();
    if (!st.ok()) return st;
  }
  out->assign(std::make_move_iterator(result.begin()), std::make_move_iterator(result.end()));
  if (NaturalVariant(*out) == CompoundEncoding::kCompact) SortNumerically(out);
  return Status::Ok();
}

}  // namespace

bool IsIntsetMember(std::string_view member) {
  int64_t v;
  return ParseInt64(member, &v);
}

Result<int64_t> Add(Txn& txn, std::string_view key, std::span<const std::string_view> members) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  if (!s.rec.exists) CreateFor(txn, members.front(), &s);
  int64_t added = 0;
  for (std::string_view m : members) {
    bool found = false;
    if (s.meta.size > 0 || s.rec.exists) {
      st = Contains(txn, key, s, m, &found);
      if (!st.ok()) return st;
    }
    if (found) continue;
    PutMember(txn, key, &s, m);
    ++added;
  }
  if (added > 0) Save(txn, key, &s);
  return added;
}

Result<RemOutcome> Rem(Txn& txn, std::string_view key, std::span<const std::string_view> members) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  RemOutcome out;
  if (!s.rec.exists) return out;
  for (std::string_view m : members) {
    bool found = false;
    st = Contains(txn, key, s, m, &found);
    if (!st.ok()) return st;
    if (!found) continue;
    txn.DeleteSub(key, s.meta.version, m);
    --s.meta.size;
    ++out.removed;
  }
  if (out.removed == 0) return out;
  out.key_removed = s.meta.size == 0;
  Save(txn, key, &s);
  return out;
}

Result<int64_t> Card(Txn& txn, std::string_view key) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  return s.rec.exists ? static_cast<int64_t>(s.meta.size) : 0;
}

Result<bool> IsMember(Txn& txn, std::string_view key, std::string_view member) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  if (!s.rec.exists) return false;
  bool found = false;
  st = Contains(txn, key, s, member, &found);
  if (!st.ok()) return st;
  return found;
}

Result<std::vector<bool>> MIsMember(Txn& txn, std::string_view key,
                                    std::span<const std::string_view> members) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  std::vector<bool> out(members.size(), false);
  if (!s.rec.exists) return out;
  for (size_t i = 0; i < members.size(); ++i) {
    bool found = false;
    st = Contains(txn, key, s, members[i], &found);
    if (!st.ok()) return st;
    out[i] = found;
  }
  return out;
}

Result<std::vector<std::string>> Members(Txn& txn, std::string_view key) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  std::vector<std::string> out;
  if (!s.rec.exists) return out;
  st = LoadAll(txn, key, s, &out);
  if (!st.ok()) return st;
  return out;
}

Result<std::optional<std::string>> RandomMember(Txn& txn, std::string_view key,
                                                std::mt19937_64& rng) {
  auto r = RandomMembers(txn, key, -1, rng);
  if (!r.ok()) return r.status();
  if (r->empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(r->front()));
}

namespace {

// Random members of an open set (see RandomMembers). `reply_order` puts a distinct sample
// in the set's order.
Status Sample(Txn& txn, std::string_view key, const SetKey& s, int64_t count, std::mt19937_64& rng,
              std::vector<std::string>* out) {
  uint64_t size = s.meta.size;
  bool unique = count > 0;
  uint64_t n = unique ? static_cast<uint64_t>(count) : static_cast<uint64_t>(-(count + 1)) + 1;
  if (size <= coll::kUniformSampleLimit || (unique && n >= size)) {
    std::vector<std::string> all;
    Status st = LoadAll(txn, key, s, &all);
    if (!st.ok()) return st;
    if (all.empty()) return Status::Ok();
    if (unique && n >= all.size()) {
      *out = std::move(all);
      return Status::Ok();
    }
    if (unique) {
      std::vector<size_t> idx(all.size());
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      std::shuffle(idx.begin(), idx.end(), rng);
      idx.resize(n);
      for (size_t i : idx) out->push_back(std::move(all[i]));
      return Status::Ok();
    }
    std::uniform_int_distribution<size_t> pick(0, all.size() - 1);
    out->reserve(n);
    for (uint64_t i = 0; i < n; ++i) out->push_back(all[pick(rng)]);
    return Status::Ok();
  }
  coll::RandomSeeker seeker(txn, key, s.meta.version, "");
  if (!seeker.Init()) return seeker.status();
  if (unique) {
    std::vector<std::pair<std::string, std::string>> picked;
    Status st = coll::SampleDistinct(seeker, n, rng, &picked);
    if (!st.ok()) return st;
    for (auto& [m, v] : picked) out->push_back(std::move(m));
    return Status::Ok();
  }
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    seeker.Pick(rng);
    out->emplace_back(seeker.element());
  }
  return seeker.status();
}

}  // namespace

Result<std::vector<std::string>> RandomMembers(Txn& txn, std::string_view key, int64_t count,
                                               std::mt19937_64& rng) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  std::vector<std::string> out;
  if (!s.rec.exists || count == 0) return out;
  st = Sample(txn, key, s, count, rng, &out);
  if (!st.ok()) return st;
  return out;
}

Result<PopOutcome> Pop(Txn& txn, std::string_view key, std::optional<uint64_t> count,
                       std::mt19937_64& rng) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  PopOutcome out;
  if (!s.rec.exists) return out;
  uint64_t size = s.meta.size;
  uint64_t n = count.value_or(1);
  if (n == 0) return out;
  if (n >= size) {
    // The whole set, in its order; the key goes.
    st = LoadAll(txn, key, s, &out.members);
    if (!st.ok()) return st;
    txn.Remove(key, &s.rec);
    out.key_removed = true;
    return out;
  }
  // Redis pops one by one while the pops are few (count * 5 < size); otherwise it keeps a
  // random remainder, rebuilt as a new set whose variant its members call for.
  bool rebuild = count.has_value() && n * 5 > size;
  if (rebuild && size <= coll::kUniformSampleLimit) {
    std::vector<std::string> all;
    st = LoadAll(txn, key, s, &all);
    if (!st.ok()) return st;
    std::vector<size_t> idx(all.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::shuffle(idx.begin(), idx.end(), rng);
    std::vector<bool> popped(all.size(), false);
    for (uint64_t i = 0; i < n; ++i) popped[idx[i]] = true;
    std::vector<std::string> remaining;
    for (size_t i = 0; i < all.size(); ++i) {
      if (popped[i]) {
        txn.DeleteSub(key, s.meta.version, all[i]);
        out.members.push_back(std::move(all[i]));
      } else {
        remaining.push_back(std::move(all[i]));
      }
    }
    s.meta.size -= n;
    s.variant = NaturalVariant(remaining);
    Save(txn, key, &s);
    return out;
  }
  st = Sample(txn, key, s, static_cast<int64_t>(n), rng, &out.members);
  if (!st.ok()) return st;
  for (const auto& m : out.members) txn.DeleteSub(key, s.meta.version, m);
  s.meta.size -= out.members.size();
  if (rebuild && s.meta.size <= kMaxIntsetEntries) {
    std::vector<std::string> remaining;
    coll::SubCursor it(txn, key, s.meta.version);
    for (it.SeekToFirst(); it.Valid(); it.Next()) remaining.emplace_back(it.sub());
    st = it.status();
    if (!st.ok()) return st;
    s.variant = NaturalVariant(remaining);
  }
  Save(txn, key, &s);
  return out;
}

Result<MoveOutcome> Move(Txn& txn, std::string_view src, std::string_view dst,
                         std::string_view member) {
  MoveOutcome out;
  SetKey from;
  Status st = Open(txn, src, &from);
  if (!st.ok()) return st;
  if (!from.rec.exists) return out;
  SetKey to;
  st = Open(txn, dst, &to);
  if (!st.ok()) return st;
  bool found = false;
  st = Contains(txn, src, from, member, &found);
  if (!st.ok()) return st;
  if (src == dst) {
    out.moved = found;
    return out;
  }
  if (!found) return out;
  txn.DeleteSub(src, from.meta.version, member);
  --from.meta.size;
  out.src_changed = true;
  out.src_removed = from.meta.size == 0;
  Save(txn, src, &from);
  out.moved = true;
  bool in_dst = false;
  if (to.rec.exists) {
    st = Contains(txn, dst, to, member, &in_dst);
    if (!st.ok()) return st;
  } else {
    CreateFor(txn, member, &to);
  }
  if (!in_dst) {
    PutMember(txn, dst, &to, member);
    Save(txn, dst, &to);
    out.dst_changed = true;
  }
  return out;
}

Result<std::vector<std::string>> Compute(Txn& txn, std::span<const std::string_view> keys,
                                         SetOp op) {
  std::vector<std::string> out;
  Status st = Evaluate(txn, keys, op, 0, &out, nullptr);
  if (!st.ok()) return st;
  return out;
}

Result<int64_t> InterCard(Txn& txn, std::span<const std::string_view> keys, uint64_t limit) {
  std::vector<std::string> ignored;
  int64_t card = 0;
  Status st = Evaluate(txn, keys, SetOp::kInter, limit, &ignored, &card);
  if (!st.ok()) return st;
  return card;
}

Result<StoreOutcome> Store(Txn& txn, std::string_view dst, std::span<const std::string_view> keys,
                           SetOp op) {
  std::vector<std::string> members;
  Status st = Evaluate(txn, keys, op, 0, &members, nullptr);
  if (!st.ok()) return st;
  StoreOutcome out;
  KeyRecord rec;
  st = txn.Load(dst, &rec);
  if (!st.ok()) return st;
  if (members.empty()) {
    if (rec.exists) {
      txn.Remove(dst, &rec);
      out.dst_deleted = true;
    }
    return out;
  }
  SetKey s;
  s.rec = rec;
  s.meta = Metadata();
  s.meta.type = ValueType::kSet;
  s.meta.version = txn.NewVersion();
  s.meta.size = members.size();
  s.variant = NaturalVariant(members);
  for (const auto& m : members) txn.PutSub(dst, s.meta.version, m, "");
  txn.Store(dst, &s.rec, s.meta, s.Tail());
  out.size = static_cast<int64_t>(members.size());
  return out;
}

Result<ScanOutcome> Scan(Txn& txn, std::string_view key, uint64_t cursor,
                         std::optional<std::string_view> pattern, size_t count) {
  SetKey s;
  Status st = Open(txn, key, &s);
  if (!st.ok()) return st;
  ScanOutcome out;
  if (!s.rec.exists) return out;
  bool match_all = !pattern || *pattern == "*";
  if (s.compact()) {
    std::vector<std::string> all;
    st = LoadAll(txn, key, s, &all);
    if (!st.ok()) return st;
    for (auto& m : all) {
      if (match_all || GlobMatch(*pattern, m)) out.members.push_back(std::move(m));
    }
    return out;
  }
  auto next = coll::ScanPage(txn, key, s.meta.version, "", cursor, count,
                             [&](std::string_view m, std::string_view) {
                               if (match_all || GlobMatch(*pattern, m)) out.members.emplace_back(m);
                             });
  if (!next.ok()) return next.status();
  out.cursor = *next;
  return out;
}

}  // namespace keel::sets
