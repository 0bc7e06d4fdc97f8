#include "datatypes/zset.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "datatypes/collection.h"
#include "datatypes/glob.h"
#include "datatypes/number.h"
#include "datatypes/zset_index.h"

namespace keel::zsets {
namespace {

// Entries removed per batch of a large range removal (bounds the memory of one step).
constexpr uint64_t kRemoveChunk = 10000;

struct ZKey {
  KeyRecord rec;
  Metadata meta;
  CompoundEncoding variant = CompoundEncoding::kCompact;
  std::string root;  // the rank trie's root record (datatypes/zset_index.h)

  bool compact() const { return variant == CompoundEncoding::kCompact; }
  std::string Tail() const { return std::string(1, static_cast<char>(variant)) + root; }
};

Status Open(Txn& txn, std::string_view key, ZKey* z) {
  Status st = coll::LoadTyped(txn, key, ValueType::kZSet, &z->rec);
  if (!st.ok() || !z->rec.exists) return st;
  z->meta = z->rec.meta;
  z->variant = coll::VariantOf(z->rec);
  std::string_view tail = z->rec.body();
  z->root = std::string(tail.substr(std::min<size_t>(1, tail.size())));
  return Status::Ok();
}

void Create(Txn& txn, ZKey* z) {
  z->meta = Metadata();
  z->meta.type = ValueType::kZSet;
  z->meta.version = txn.NewVersion();
  z->meta.size = 0;
  z->variant = CompoundEncoding::kCompact;
  z->root.clear();
}

ZSetIndex IndexOf(Txn& txn, std::string_view key, const ZKey& z) {
  return ZSetIndex(txn, key, z.meta.version, z.meta.size, z.root);
}

// Persists the size and root flags `idx` ends with (removing the key if it is empty).
void Save(Txn& txn, std::string_view key, ZKey* z, ZSetIndex& idx) {
  idx.Flush();
  z->meta.size = idx.size();
  z->root = idx.root();
  if (z->meta.size == 0) {
    txn.Remove(key, &z->rec);
    return;
  }
  txn.Store(key, &z->rec, z->meta, z->Tail());
}

// What a compact set stores for `score` (a listpack has no -0).
double Stored(const ZKey& z, double score) { return z.compact() && score == 0 ? 0.0 : score; }

// strtod over the bytes up to the first NUL, as Redis's zslParseRange: leading spaces and
// hex are accepted, trailing bytes are not, NaN is rejected, overflow gives +-inf.
bool ParseRangeDouble(std::string_view s, double* out) {
  std::string c(s.substr(0, s.find('\0')));
  char* end = nullptr;
  double v = std::strtod(c.c_str(), &end);
  if (*end != '\0' || std::isnan(v)) return false;
  *out = v;
  return true;
}

bool ParseScoreBound(std::string_view s, ScoreBound* out) {
  out->exclusive = !s.empty() && s[0] == '(';
  return ParseRangeDouble(out->exclusive ? s.substr(1) : s, &out->value);
}

bool ParseLexBound(std::string_view s, LexBound* out) {
  if (s.empty()) return false;
  switch (s[0]) {
    case '+':
    case '-':
      if (s.size() > 1 && s[1] != '\0') return false;
      out->kind = s[0] == '+' ? LexBound::Kind::kPlusInf : LexBound::Kind::kMinusInf;
      return true;
    case '(':
    case '[':
      out->kind = s[0] == '(' ? LexBound::Kind::kExclusive : LexBound::Kind::kInclusive;
      out->value = std::string(s.substr(1));
      return true;
    default:
      return false;
  }
}

bool GteMin(std::string_view member, const LexBound& min) {
  switch (min.kind) {
    case LexBound::Kind::kMinusInf:
      return true;
    case LexBound::Kind::kPlusInf:
      return false;
    case LexBound::Kind::kInclusive:
      return member >= min.value;
    case LexBound::Kind::kExclusive:
      return member > min.value;
  }
  return false;
}

bool LteMax(std::string_view member, const LexBound& max) {
  switch (max.kind) {
    case LexBound::Kind::kMinusInf:
      return false;
    case LexBound::Kind::kPlusInf:
      return true;
    case LexBound::Kind::kInclusive:
      return member <= max.value;
    case LexBound::Kind::kExclusive:
      return member < max.value;
  }
  return false;
}

// Redis's "always empty" test of a lex range (min > max, or equal with an open end).
bool EmptyLexRange(const LexRange& r) {
  auto rank = [](const LexBound& b) {
    return b.kind == LexBound::Kind::kMinusInf ? 0 : b.kind == LexBound::Kind::kPlusInf ? 2 : 1;
  };
  int cmp = rank(r.min) - rank(r.max);
  if (cmp == 0 && rank(r.min) == 1) cmp = r.min.value.compare(r.max.value);
  bool min_ex = r.min.kind != LexBound::Kind::kInclusive;
  bool max_ex = r.max.kind != LexBound::Kind::kInclusive;
  return cmp > 0 || (cmp == 0 && (min_ex || max_ex));
}

// A half-open interval [lo, hi) of order-index keys.
struct KeyInterval {
  std::string lo, hi;
  bool empty = false;
};

KeyInterval ScoreInterval(const ScoreRange& r) {
  KeyInterval out;
  out.lo = r.min.exclusive ? NextOrdered(OrderedScore(r.min.value)) : OrderedScore(r.min.value);
  out.hi = r.max.exclusive ? OrderedScore(r.max.value) : NextOrdered(OrderedScore(r.max.value));
  out.empty = out.lo >= out.hi;
  return out;
}

// The interval of a lex range when every member has the score whose OrderedScore is `p`.
KeyInterval LexInterval(const LexRange& r, const std::string& p) {
  KeyInterval out;
  if (EmptyLexRange(r) || r.min.kind == LexBound::Kind::kPlusInf ||
      r.max.kind == LexBound::Kind::kMinusInf) {
    out.empty = true;
    return out;
  }
  out.lo = p;
  if (r.min.kind != LexBound::Kind::kMinusInf) out.lo += r.min.value;
  if (r.min.kind == LexBound::Kind::kExclusive) out.lo.push_back('\0');
  if (r.max.kind == LexBound::Kind::kPlusInf) {
    out.hi = NextOrdered(p);
  } else {
    out.hi = p + r.max.value;
    if (r.max.kind == LexBound::Kind::kInclusive) out.hi.push_back('\0');
  }
  out.empty = out.lo >= out.hi;
  return out;
}

Status EntryAt(const coll::SubCursor& it, IndexEntry* e) {
  std::string_view sub = it.sub();
  if (sub.size() < 9) return Status(Code::kStorage, "corrupt sorted set entry");
  e->key = std::string(sub.substr(1));
  e->score = it.value() == "-" ? -0.0 : ScoreFromOrdered(e->key);
  return Status::Ok();
}

bool InIndex(const coll::SubCursor& it) {
  return it.Valid() && !it.sub().empty() && it.sub()[0] == kIndexSpace;
}

const std::string kIndexStart(1, kIndexSpace);
const std::string kIndexEnd(1, static_cast<char>(kIndexSpace + 1));

// Entries of [lo, hi) in order (or reverse order), after skipping `offset`, at most `limit`
// (negative: all).
Status CollectInterval(Txn& txn, std::string_view key, const ZKey& z, ZSetIndex& idx,
                       const KeyInterval& iv, bool reverse, int64_t offset, int64_t limit,
                       std::vector<IndexEntry>* out) {
  if (iv.empty || offset < 0 || limit == 0) return Status::Ok();
  bool expanded = idx.expanded();
  coll::SubCursor it(txn, key, z.meta.version);
  uint64_t skip = static_cast<uint64_t>(offset);
  if (!reverse) {
    std::string start = iv.lo;
    if (skip > 0 && expanded) {
      auto r = idx.Rank(iv.lo);
      if (!r.ok()) return r.status();
      if (*r + skip >= idx.size()) return Status::Ok();
      auto e = idx.Select(*r + skip);
      if (!e.ok()) return e.status();
      start = e->key;
      skip = 0;
    }
    for (it.Seek(kIndexStart + start); InIndex(it); it.Next()) {
      if (it.sub().substr(1) >= iv.hi) break;
      if (skip > 0) {
        --skip;
        continue;
      }
      IndexEntry e;
      Status st = EntryAt(it, &e);
      if (!st.ok()) return st;
      out->push_back(std::move(e));
      if (limit > 0 && out->size() >= static_cast<uint64_t>(limit)) break;
    }
    return it.status();
  }
  if (skip > 0 && expanded) {
    auto r = idx.Rank(iv.hi);
    if (!r.ok()) return r.status();
    if (*r <= skip) return Status::Ok();
    auto e = idx.Select(*r - 1 - skip);
    if (!e.ok()) return e.status();
    it.Seek(kIndexStart + e->key);
    skip = 0;
  } else {
    it.SeekBefore(kIndexStart + iv.hi);
  }
  for (; InIndex(it); it.Prev()) {
    if (it.sub().substr(1) < iv.lo) break;
    if (skip > 0) {
      --skip;
      continue;
    }
    IndexEntry e;
    Status st = EntryAt(it, &e);
    if (!st.ok()) return st;
    out->push_back(std::move(e));
    if (limit > 0 && out->size() >= static_cast<uint64_t>(limit)) break;
  }
  return it.status();
}

// The first and last entries (the set must not be empty).
Status Ends(Txn& txn, std::string_view key, const ZKey& z, IndexEntry* first, IndexEntry* last) {
  coll::SubCursor it(txn, key, z.meta.version);
  it.Seek(kIndexStart);
  if (!InIndex(it)) return Status(Code::kStorage, "corrupt sorted set: no entries");
  Status st = EntryAt(it, first);
  if (!st.ok()) return st;
  it.SeekBefore(kIndexEnd);
  if (!InIndex(it)) return Status(Code::kStorage, "corrupt sorted set: no entries");
  return EntryAt(it, last);
}

// A lex range over a set whose members do not all share one score: Redis's listpack walk
// (the first member >= min from the head, then on while <= max; or from the tail), with
// LIMIT's offset skipping members without looking at them.
Status CollectLexLinear(Txn& txn, std::string_view key, const ZKey& z, const LexRange& r,
                        bool reverse, int64_t offset, int64_t limit, const IndexEntry& first,
                        const IndexEntry& last, std::vector<IndexEntry>* out) {
  if (EmptyLexRange(r) || offset < 0 || limit == 0) return Status::Ok();
  if (!GteMin(last.member(), r.min) || !LteMax(first.member(), r.max)) return Status::Ok();
  coll::SubCursor it(txn, key, z.meta.version);
  IndexEntry e;
  if (!reverse) {
    for (it.Seek(kIndexStart); InIndex(it); it.Next()) {
      Status st = EntryAt(it, &e);
      if (!st.ok()) return st;
      if (GteMin(e.member(), r.min)) break;
    }
    if (!InIndex(it) || !LteMax(e.member(), r.max)) return it.status();
  } else {
    for (it.SeekBefore(kIndexEnd); InIndex(it); it.Prev()) {
      Status st = EntryAt(it, &e);
      if (!st.ok()) return st;
      if (LteMax(e.member(), r.max)) break;
    }
    if (!InIndex(it) || !GteMin(e.member(), r.min)) return it.status();
  }
  auto step = [&] { reverse ? it.Prev() : it.Next(); };
  for (int64_t i = 0; i < offset && InIndex(it); ++i) step();
  for (; InIndex(it); step()) {
    Status st = EntryAt(it, &e);
    if (!st.ok()) return st;
    if (reverse ? !GteMin(e.member(), r.min) : !LteMax(e.member(), r.max)) break;
    out->push_back(std::move(e));
    if (limit > 0 && out->size() >= static_cast<uint64_t>(limit)) break;
  }
  return it.status();
}

// Normalizes rank indexes as Redis does; false if the range is empty.
bool NormalizeRanks(int64_t start, int64_t stop, uint64_t size, uint64_t* first, uint64_t* count) {
  auto len = static_cast<int64_t>(size);
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return false;
  if (stop >= len) stop = len - 1;
  *first = static_cast<uint64_t>(start);
  *count = static_cast<uint64_t>(stop - start + 1);
  return true;
}

// The entries a spec selects, in reply order.
Status Select(Txn& txn, std::string_view key, const ZKey& z, ZSetIndex& idx, const RangeSpec& spec,
              std::vector<IndexEntry>* out) {
  out->clear();
  if (idx.size() == 0) return Status::Ok();
  switch (spec.kind) {
    case RangeKind::kRank: {
      int64_t start = spec.start, stop = spec.stop;
      uint64_t first = 0, count = 0;
      if (!NormalizeRanks(start, stop, idx.size(), &first, &count)) return Status::Ok();
      if (spec.reverse) first = idx.size() - first - count;
      Status st = idx.Range(first, count, out);
      if (!st.ok()) return st;
      if (spec.reverse) std::reverse(out->begin(), out->end());
      return Status::Ok();
    }
    case RangeKind::kScore:
      return CollectInterval(txn, key, z, idx, ScoreInterval(spec.score), spec.reverse, spec.offset,
                             spec.limit, out);
    case RangeKind::kLex: {
      IndexEntry first, last;
      Status st = Ends(txn, key, z, &first, &last);
      if (!st.ok()) return st;
      std::string_view p = std::string_view(first.key).substr(0, 8);
      if (p == std::string_view(last.key).substr(0, 8)) {
        return CollectInterval(txn, key, z, idx, LexInterval(spec.lex, std::string(p)),
                               spec.reverse, spec.offset, spec.limit, out);
      }
      return CollectLexLinear(txn, key, z, spec.lex, spec.reverse, spec.offset, spec.limit, first,
                              last, out);
    }
  }
  return Status::Ok();
}

std::vector<ScoredMember> ToMembers(std::vector<IndexEntry>&& entries) {
  std::vector<ScoredMember> out;
  out.reserve(entries.size());
  for (auto& e : entries) out.push_back({std::string(e.member()), e.score});
  return out;
}

bool ScoreOrder(const ScoredMember& a, const ScoredMember& b) {
  if (a.score < b.score) return true;
  if (b.score < a.score) return false;
  return a.member < b.member;
}

// Writes `sorted` (in (score, member) order, distinct members) as a new incarnation of
// `dst`, or deletes dst if it is empty. With `count_only` only the member count can make it
// large.
Status StoreResult(Txn& txn, std::string_view dst, std::vector<ScoredMember>& sorted,
                   StoreOutcome* out, bool count_only = false) {
  ZKey z;
  Status st = txn.Load(dst, &z.rec);
  if (!st.ok()) return st;
  if (sorted.empty()) {
    if (z.rec.exists) {
      txn.Remove(dst, &z.rec);
      out->dst_deleted = true;
    }
    return Status::Ok();
  }
  Create(txn, &z);
  size_t longest = 0;
  for (const auto& m : sorted) longest = std::max(longest, m.member.size());
  if (sorted.size() > kMaxCompactEntries || (!count_only && longest > kMaxCompactValue)) {
    z.variant = CompoundEncoding::kLarge;
  }
  std::vector<std::pair<std::string, double>> items;
  items.reserve(sorted.size());
  for (auto& m : sorted) items.emplace_back(std::move(m.member), Stored(z, m.score));
  ZSetIndex idx = IndexOf(txn, dst, z);
  st = idx.BulkLoad(items);
  if (!st.ok()) return st;
  Save(txn, dst, &z, idx);
  out->size = static_cast<int64_t>(items.size());
  return Status::Ok();
}

// An input of ZUNION/ZINTER/ZDIFF: a sorted set, a set (scores 1) or nothing.
struct Source {
  std::string_view key;
  KeyRecord rec;
  double weight = 1;
  uint64_t size() const { return rec.exists ? rec.meta.size : 0; }
  bool is_set() const { return rec.exists && rec.meta.type == ValueType::kSet; }
};

Status OpenSources(Txn& txn, std::span<const std::string_view> keys,
                   const std::vector<double>& weights, std::vector<Source>* out) {
  out->resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    Source& s = (*out)[i];
    s.key = keys[i];
    s.weight = i < weights.size() ? weights[i] : 1;
    Status st = txn.Load(keys[i], &s.rec);
    if (!st.ok()) return st;
    if (s.rec.exists && s.rec.meta.type != ValueType::kZSet && s.rec.meta.type != ValueType::kSet) {
      return Status(Code::kWrongType);
    }
  }
  return Status::Ok();
}

// Calls fn(member, score) for every element of a source.
Status ForEach(Txn& txn, const Source& s, const std::function<void(std::string_view, double)>& fn) {
  if (!s.rec.exists) return Status::Ok();
  coll::SubCursor it(txn, s.key, s.rec.meta.version);
  if (s.is_set()) {
    for (it.SeekToFirst(); it.Valid(); it.Next()) fn(it.sub(), 1.0);
    return it.status();
  }
  std::string space(1, kMemberSpace);
  for (it.Seek(space); it.Valid() && it.sub().starts_with(space); it.Next()) {
    std::string_view v = it.value();
    double score = v.size() == 8 ? std::bit_cast<double>(GetFixed64BE(v.data())) : 0;
    fn(it.sub().substr(1), score);
  }
  return it.status();
}

// The score of `member` in a source.
Status Find(Txn& txn, const Source& s, std::string_view member, std::optional<double>* out) {
  out->reset();
  if (!s.rec.exists) return Status::Ok();
  if (s.is_set()) {
    std::string ignored;
    bool found = false;
    Status st = txn.GetSub(s.key, s.rec.meta.version, member, &ignored, &found);
    if (st.ok() && found) *out = 1.0;
    return st;
  }
  ZSetIndex idx(txn, s.key, s.rec.meta.version, s.rec.meta.size, "");
  auto r = idx.Score(member);
  if (!r.ok()) return r.status();
  *out = *r;
  return Status::Ok();
}

double Weighted(double score, double weight) {
  double v = score * weight;
  return std::isnan(v) ? 0 : v;
}

void AggregateInto(double* target, double value, Aggregate agg) {
  switch (agg) {
    case Aggregate::kSum:
      *target += value;
      if (std::isnan(*target)) *target = 0;
      break;
    case Aggregate::kMin:
      *target = value < *target ? value : *target;
      break;
    case Aggregate::kMax:
      *target = value > *target ? value : *target;
      break;
  }
}

// ZUNION/ZINTER/ZDIFF (unsorted result), or just the intersection's size with `card`.
Status Evaluate(Txn& txn, std::span<const std::string_view> keys, const CombineSpec& spec,
                std::vector<ScoredMember>* out, uint64_t limit, int64_t* card) {
  std::vector<Source> src;
  Status st = OpenSources(txn, keys, spec.weights, &src);
  if (!st.ok()) return st;
  out->clear();
  if (spec.op == SetOp::kDiff) {
    if (!src[0].rec.exists) return Status::Ok();
    Status inner = Status::Ok();
    st = ForEach(txn, src[0], [&](std::string_view m, double score) {
      if (!inner.ok()) return;
      for (size_t j = 1; j < src.size(); ++j) {
        std::optional<double> v;
        inner = Find(txn, src[j], m, &v);
        if (!inner.ok() || v) return;
      }
      out->push_back({std::string(m), score});
    });
    return st.ok() ? inner : st;
  }
  // Smallest first, as Redis sorts its inputs (the order scores are aggregated in).
  std::stable_sort(src.begin(), src.end(),
                   [](const Source& a, const Source& b) { return a.size() < b.size(); });
  if (spec.op == SetOp::kInter) {
    if (src[0].size() == 0) return Status::Ok();
    Status inner = Status::Ok();
    bool done = false;
    st = ForEach(txn, src[0], [&](std::string_view m, double s0) {
      if (!inner.ok() || done) return;
      double score = Weighted(s0, src[0].weight);
      for (size_t j = 1; j < src.size(); ++j) {
        std::optional<double> v;
        if (src[j].key == src[0].key) {
          v = s0;
        } else {
          inner = Find(txn, src[j], m, &v);
          if (!inner.ok()) return;
        }
        if (!v) return;
        AggregateInto(&score, *v * src[j].weight, spec.aggregate);
      }
      if (card != nullptr) {
        ++*card;
        if (limit != 0 && static_cast<uint64_t>(*card) >= limit) done = true;
        return;
      }
      out->push_back({std::string(m), score});
    });
    return st.ok() ? inner : st;
  }
  std::unordered_map<std::string, double> acc;
  std::vector<std::string> order;
  for (const auto& s : src) {
    if (s.size() == 0) continue;
    st = ForEach(txn, s, [&](std::string_view m, double v) {
      double score = Weighted(v, s.weight);
      auto [pos, inserted] = acc.try_emplace(std::string(m), score);
      if (!inserted) AggregateInto(&pos->second, score, spec.aggregate);
    });
    if (!st.ok()) return st;
  }
  out->reserve(acc.size());
  for (auto& [m, score] : acc) out->push_back({m, score});
  return Status::Ok();
}

}  // namespace

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* out) {
  return ParseScoreBound(min, &out->min) && ParseScoreBound(max, &out->max);
}

bool ParseLexRange(std::string_view min, std::string_view max, LexRange* out) {
  return ParseLexBound(min, &out->min) && ParseLexBound(max, &out->max);
}

std::string FormatScanScore(double score) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  constexpr double kLimit = static_cast<double>(INT64_MAX / 2);
  if (score >= -kLimit && score <= kLimit) {
    auto v = static_cast<int64_t>(score);
    if (static_cast<double>(v) == score && !(score == 0 && std::signbit(score))) {
      return std::to_string(v);
    }
  }
  return FormatDouble(score);
}

Result<AddOutcome> Add(Txn& txn, std::string_view key, std::span<const ScoreMemberArg> items,
                       const AddOptions& options) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  AddOutcome out;
  if (!z.rec.exists) {
    if (options.xx) return out;
    Create(txn, &z);
  }
  ZSetIndex idx = IndexOf(txn, key, z);
  for (const auto& item : items) {
    auto cur = idx.Score(item.member);
    if (!cur.ok()) return cur.status();
    if (cur->has_value()) {
      if (options.nx) continue;
      double current = **cur;
      double score = item.score;
      if (options.incr) {
        score += current;
        if (std::isnan(score)) return Status(Code::kScoreNaN);
      }
      if ((options.lt && score >= current) || (options.gt && score <= current)) continue;
      ++out.processed;
      out.score = score;
      if (score != current) {
        st = idx.Update(item.member, current, Stored(z, score));
        if (!st.ok()) return st;
        ++out.updated;
      }
    } else if (!options.xx) {
      if (z.compact() &&
          (idx.size() + 1 > kMaxCompactEntries || item.member.size() > kMaxCompactValue)) {
        z.variant = CompoundEncoding::kLarge;
      }
      st = idx.Insert(item.member, Stored(z, item.score));
      if (!st.ok()) return st;
      ++out.added;
      ++out.processed;
      out.score = item.score;
    }
  }
  if (out.added > 0 || out.updated > 0) Save(txn, key, &z, idx);
  return out;
}

Status Restore(Txn& txn, std::string_view key, std::span<const ScoreMemberArg> items,
               bool from_listpack) {
  std::vector<ScoredMember> sorted;
  sorted.reserve(items.size());
  for (const auto& item : items) sorted.push_back({std::string(item.member), item.score});
  std::sort(sorted.begin(), sorted.end(), ScoreOrder);
  StoreOutcome out;
  return StoreResult(txn, key, sorted, &out, from_listpack);
}

Result<RemOutcome> Rem(Txn& txn, std::string_view key, std::span<const std::string_view> members) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  RemOutcome out;
  if (!z.rec.exists) return out;
  ZSetIndex idx = IndexOf(txn, key, z);
  for (std::string_view m : members) {
    auto cur = idx.Score(m);
    if (!cur.ok()) return cur.status();
    if (!cur->has_value()) continue;
    st = idx.Erase(m, **cur);
    if (!st.ok()) return st;
    ++out.removed;
  }
  if (out.removed == 0) return out;
  out.key_removed = idx.size() == 0;
  Save(txn, key, &z, idx);
  return out;
}

Result<int64_t> Card(Txn& txn, std::string_view key) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  return z.rec.exists ? static_cast<int64_t>(z.meta.size) : 0;
}

Result<std::optional<double>> Score(Txn& txn, std::string_view key, std::string_view member) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  if (!z.rec.exists) return std::optional<double>();
  return IndexOf(txn, key, z).Score(member);
}

Result<std::vector<std::optional<double>>> MScore(Txn& txn, std::string_view key,
                                                  std::span<const std::string_view> members) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  std::vector<std::optional<double>> out(members.size());
  if (!z.rec.exists) return out;
  ZSetIndex idx = IndexOf(txn, key, z);
  for (size_t i = 0; i < members.size(); ++i) {
    auto r = idx.Score(members[i]);
    if (!r.ok()) return r.status();
    out[i] = *r;
  }
  return out;
}

Result<std::optional<int64_t>> Rank(Txn& txn, std::string_view key, std::string_view member,
                                    bool reverse) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  if (!z.rec.exists) return std::optional<int64_t>();
  ZSetIndex idx = IndexOf(txn, key, z);
  auto score = idx.Score(member);
  if (!score.ok()) return score.status();
  if (!score->has_value()) return std::optional<int64_t>();
  std::string ikey = OrderedScore(**score);
  ikey.append(member);
  auto r = idx.Rank(ikey);
  if (!r.ok()) return r.status();
  uint64_t rank = reverse ? idx.size() - 1 - *r : *r;
  return std::optional<int64_t>(static_cast<int64_t>(rank));
}

Result<int64_t> Count(Txn& txn, std::string_view key, const ScoreRange& range) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  if (!z.rec.exists) return 0;
  KeyInterval iv = ScoreInterval(range);
  if (iv.empty) return 0;
  ZSetIndex idx = IndexOf(txn, key, z);
  auto lo = idx.Rank(iv.lo);
  if (!lo.ok()) return lo.status();
  auto hi = idx.Rank(iv.hi);
  if (!hi.ok()) return hi.status();
  return *hi > *lo ? static_cast<int64_t>(*hi - *lo) : 0;
}

Result<int64_t> LexCount(Txn& txn, std::string_view key, const LexRange& range) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  if (!z.rec.exists) return 0;
  IndexEntry first, last;
  st = Ends(txn, key, z, &first, &last);
  if (!st.ok()) return st;
  ZSetIndex idx = IndexOf(txn, key, z);
  std::string_view p = std::string_view(first.key).substr(0, 8);
  if (p == std::string_view(last.key).substr(0, 8)) {
    KeyInterval iv = LexInterval(range, std::string(p));
    if (iv.empty) return 0;
    auto lo = idx.Rank(iv.lo);
    if (!lo.ok()) return lo.status();
    auto hi = idx.Rank(iv.hi);
    if (!hi.ok()) return hi.status();
    return *hi > *lo ? static_cast<int64_t>(*hi - *lo) : 0;
  }
  std::vector<IndexEntry> entries;
  st = CollectLexLinear(txn, key, z, range, false, 0, -1, first, last, &entries);
  if (!st.ok()) return st;
  return static_cast<int64_t>(entries.size());
}

Result<std::vector<ScoredMember>> Range(Txn& txn, std::string_view key, const RangeSpec& spec) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  if (!z.rec.exists) return std::vector<ScoredMember>();
  ZSetIndex idx = IndexOf(txn, key, z);
  std::vector<IndexEntry> entries;
  st = Select(txn, key, z, idx, spec, &entries);
  if (!st.ok()) return st;
  return ToMembers(std::move(entries));
}

Result<RemOutcome> RemRange(Txn& txn, std::string_view key, const RangeSpec& spec) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  RemOutcome out;
  if (!z.rec.exists) return out;
  ZSetIndex idx = IndexOf(txn, key, z);
  // How many entries go, when it is cheap to know: all of them means an O(1) delete.
  std::optional<uint64_t> total;
  std::optional<KeyInterval> interval;
  if (spec.kind == RangeKind::kRank) {
    uint64_t first = 0, count = 0;
    if (!NormalizeRanks(spec.start, spec.stop, idx.size(), &first, &count)) return out;
    total = count;
  } else {
    if (spec.kind == RangeKind::kScore) {
      interval = ScoreInterval(spec.score);
    } else {
      IndexEntry first, last;
      st = Ends(txn, key, z, &first, &last);
      if (!st.ok()) return st;
      std::string p = first.key.substr(0, 8);
      if (p == last.key.substr(0, 8)) interval = LexInterval(spec.lex, p);
    }
    if (interval) {
      if (interval->empty) return out;
      auto lo = idx.Rank(interval->lo);
      if (!lo.ok()) return lo.status();
      auto hi = idx.Rank(interval->hi);
      if (!hi.ok()) return hi.status();
      total = *hi > *lo ? *hi - *lo : 0;
    }
  }
  if (total && *total == 0) return out;
  if (total && *total == idx.size()) {
    out.removed = static_cast<int64_t>(*total);
    out.key_removed = true;
    txn.Remove(key, &z.rec);
    return out;
  }
  while (true) {
    std::vector<IndexEntry> entries;
    if (spec.kind == RangeKind::kRank) {
      uint64_t first = 0, count = 0;
      NormalizeRanks(spec.start, spec.stop, z.meta.size, &first, &count);
      uint64_t left = count - static_cast<uint64_t>(out.removed);
      st = idx.Range(first, std::min(left, kRemoveChunk), &entries);
    } else if (interval) {
      st = CollectInterval(txn, key, z, idx, *interval, false, 0,
                           static_cast<int64_t>(kRemoveChunk), &entries);
    } else {
      RangeSpec all = spec;
      all.offset = 0;
      all.limit = -1;
      st = Select(txn, key, z, idx, all, &entries);
    }
    if (!st.ok()) return st;
    for (const auto& e : entries) {
      st = idx.Erase(e.member(), e.score);
      if (!st.ok()) return st;
    }
    out.removed += static_cast<int64_t>(entries.size());
    bool more = interval ? entries.size() == kRemoveChunk
                         : (spec.kind == RangeKind::kRank && total &&
                            static_cast<uint64_t>(out.removed) < *total && !entries.empty());
    if (!more) break;
  }
  if (out.removed == 0) return out;
  out.key_removed = idx.size() == 0;
  Save(txn, key, &z, idx);
  return out;
}

Result<StoreOutcome> RangeStore(Txn& txn, std::string_view dst, std::string_view src,
                                const RangeSpec& spec) {
  auto r = Range(txn, src, spec);
  if (!r.ok()) return r.status();
  std::vector<ScoredMember> items = std::move(*r);
  std::sort(items.begin(), items.end(), ScoreOrder);
  StoreOutcome out;
  Status st = StoreResult(txn, dst, items, &out);
  if (!st.ok()) return st;
  return out;
}

Result<PopOutcome> Pop(Txn& txn, std::string_view key, uint64_t count, bool max) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  PopOutcome out;
  if (!z.rec.exists || count == 0) return out;
  ZSetIndex idx = IndexOf(txn, key, z);
  uint64_t n = std::min<uint64_t>(count, idx.size());
  std::vector<IndexEntry> entries;
  {
    coll::SubCursor it(txn, key, z.meta.version);
    if (max) {
      it.SeekBefore(kIndexEnd);
    } else {
      it.Seek(kIndexStart);
    }
    for (; InIndex(it) && entries.size() < n; max ? it.Prev() : it.Next()) {
      IndexEntry e;
      st = EntryAt(it, &e);
      if (!st.ok()) return st;
      entries.push_back(std::move(e));
    }
    st = it.status();
    if (!st.ok()) return st;
  }
  if (entries.size() == idx.size()) {
    txn.Remove(key, &z.rec);
    out.key_removed = true;
  } else {
    for (const auto& e : entries) {
      st = idx.Erase(e.member(), e.score);
      if (!st.ok()) return st;
    }
    Save(txn, key, &z, idx);
  }
  out.items = ToMembers(std::move(entries));
  return out;
}

Result<std::vector<ScoredMember>> RandomMembers(Txn& txn, std::string_view key, int64_t count,
                                                std::mt19937_64& rng) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  std::vector<ScoredMember> out;
  if (!z.rec.exists || count == 0) return out;
  ZSetIndex idx = IndexOf(txn, key, z);
  uint64_t size = idx.size();
  bool unique = count > 0;
  uint64_t n = unique ? static_cast<uint64_t>(count) : static_cast<uint64_t>(-(count + 1)) + 1;
  std::vector<IndexEntry> entries;
  if (unique && n >= size) {
    // The whole set; Redis walks a listpack from its tail.
    st = idx.Range(0, size, &entries);
    if (!st.ok()) return st;
    std::reverse(entries.begin(), entries.end());
    return ToMembers(std::move(entries));
  }
  std::uniform_int_distribution<uint64_t> pick(0, size - 1);
  if (size <= coll::kUniformSampleLimit || (unique && n * 3 > size)) {
    std::vector<IndexEntry> all;
    st = idx.Range(0, size, &all);
    if (!st.ok()) return st;
    if (unique) {
      std::shuffle(all.begin(), all.end(), rng);
      all.resize(n);
      return ToMembers(std::move(all));
    }
    for (uint64_t i = 0; i < n; ++i) entries.push_back(all[pick(rng)]);
    return ToMembers(std::move(entries));
  }
  std::unordered_set<uint64_t> seen;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t r = pick(rng);
    if (unique && !seen.insert(r).second) {
      --i;
      continue;
    }
    auto e = idx.Select(r);
    if (!e.ok()) return e.status();
    entries.push_back(std::move(*e));
  }
  return ToMembers(std::move(entries));
}

Result<std::vector<ScoredMember>> Combine(Txn& txn, std::span<const std::string_view> keys,
                                          const CombineSpec& spec) {
  std::vector<ScoredMember> out;
  Status st = Evaluate(txn, keys, spec, &out, 0, nullptr);
  if (!st.ok()) return st;
  std::sort(out.begin(), out.end(), ScoreOrder);
  return out;
}

Result<StoreOutcome> CombineStore(Txn& txn, std::string_view dst,
                                  std::span<const std::string_view> keys, const CombineSpec& spec) {
  auto r = Combine(txn, keys, spec);
  if (!r.ok()) return r.status();
  StoreOutcome out;
  Status st = StoreResult(txn, dst, *r, &out);
  if (!st.ok()) return st;
  return out;
}

Result<int64_t> InterCard(Txn& txn, std::span<const std::string_view> keys, uint64_t limit) {
  std::vector<ScoredMember> ignored;
  CombineSpec spec;
  spec.op = SetOp::kInter;
  int64_t card = 0;
  Status st = Evaluate(txn, keys, spec, &ignored, limit, &card);
  if (!st.ok()) return st;
  return card;
}

Result<ScanOutcome> Scan(Txn& txn, std::string_view key, uint64_t cursor,
                         std::optional<std::string_view> pattern, size_t count) {
  ZKey z;
  Status st = Open(txn, key, &z);
  if (!st.ok()) return st;
  ScanOutcome out;
  if (!z.rec.exists) return out;
  bool match_all = !pattern || *pattern == "*";
  if (z.compact()) {
    out.compact = true;
    ZSetIndex idx = IndexOf(txn, key, z);
    std::vector<IndexEntry> all;
    st = idx.Range(0, idx.size(), &all);
    if (!st.ok()) return st;
    for (auto& e : all) {
      if (match_all || GlobMatch(*pattern, e.member())) {
        out.items.push_back({std::string(e.member()), e.score});
      }
    }
    return out;
  }
  auto next = coll::ScanPage(
      txn, key, z.meta.version, std::string(1, kMemberSpace), cursor, count,
      [&](std::string_view m, std::string_view v) {
        if (match_all || GlobMatch(*pattern, m)) {
          double score = v.size() == 8 ? std::bit_cast<double>(GetFixed64BE(v.data())) : 0;
          out.items.push_back({std::string(m), score});
        }
      });
  if (!next.ok()) return next.status();
  out.cursor = *next;
  return out;
}

}  // namespace keel::zsets
