#include "datatypes/collection.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "datatypes/number.h"

namespace keel::coll {

Status LoadTyped(Txn& txn, std::string_view key, ValueType type, KeyRecord* rec) {
  Status st = txn.Load(key, rec);
  if (!st.ok()) return st;
  if (rec->exists && rec->meta.type != type) return Status(Code::kWrongType);
  return Status::Ok();
}

CompoundEncoding VariantOf(const KeyRecord& rec) {
  std::string_view tail = rec.body();
  return !tail.empty() && tail[0] == static_cast<char>(CompoundEncoding::kLarge)
             ? CompoundEncoding::kLarge
             : CompoundEncoding::kCompact;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < in->size() && i < 10; ++i) {
    auto byte = static_cast<uint8_t>((*in)[i]);
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

SubCursor::SubCursor(Txn& txn, std::string_view key, uint64_t version)
    : prefix_(SubKeyPrefix(txn.db(), key, version)), it_(txn.NewSubIteratorWithPending()) {}

void SubCursor::Seek(std::string_view sub) {
  std::string target = prefix_;
  target.append(sub);
  it_->Seek(target);
}

void SubCursor::SeekBefore(std::string_view sub) {
  std::string target = prefix_;
  if (sub.empty()) {
    // The first key after the incarnation: the same prefix with version + 1 (versions are
    // the prefix's last 8 bytes, big-endian, never the maximum).
    uint64_t version = GetFixed64BE(prefix_.data() + prefix_.size() - 8);
    target.resize(prefix_.size() - 8);
    PutFixed64BE(&target, version + 1);
  } else {
    target.append(sub);
  }
  it_->SeekForPrev(target);
  if (it_->Valid() && it_->key() == rocksdb::Slice(target)) it_->Prev();
}

bool SubCursor::Valid() const {
  return it_->Valid() && it_->key().starts_with(rocksdb::Slice(prefix_));
}

std::string_view SubCursor::sub() const {
  auto k = it_->key();
  return std::string_view(k.data() + prefix_.size(), k.size() - prefix_.size());
}

std::string_view SubCursor::value() const {
  auto v = it_->value();
  return std::string_view(v.data(), v.size());
}

Status SubCursor::status() const {
  rocksdb::Status s = it_->status();
  if (s.ok()) return Status::Ok();
  return Status(Code::kStorage, s.ToString());
}

keys::ScanCursors& ElementCursors() {
  static keys::ScanCursors cursors(1 << 16);
  return cursors;
}

std::string RandomKeyBetween(std::string_view first, std::string_view last, std::mt19937_64& rng) {
  size_t common = 0;
  while (common < first.size() && common < last.size() && first[common] == last[common]) {
    ++common;
  }
  std::string out(first.substr(0, common));
  unsigned lo = common < first.size() ? static_cast<uint8_t>(first[common]) : 0;
  unsigned hi = common < last.size() ? static_cast<uint8_t>(last[common]) : 255;
  if (hi < lo) hi = lo;
  std::uniform_int_distribution<unsigned> at(lo, hi);
  std::uniform_int_distribution<unsigned> any(0, 255);
  out.push_back(static_cast<char>(at(rng)));
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(any(rng)));
  return out;
}

RandomSeeker::RandomSeeker(Txn& txn, std::string_view key, uint64_t version, std::string_view space)
    : cursor_(txn, key, version), space_(space) {}

bool RandomSeeker::InSpace() const { return cursor_.Valid() && cursor_.sub().starts_with(space_); }

bool RandomSeeker::Init() {
  cursor_.Seek(space_);
  if (!InSpace()) return false;
  first_ = std::string(cursor_.sub());
  std::string end = space_;
  // The last sub-key of the space: before the first key past it.
  bool bumped = false;
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) != 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      bumped = true;
      break;
    }
    end.pop_back();
  }
  cursor_.SeekBefore(bumped ? std::string_view(end) : std::string_view());
  if (!InSpace()) return false;
  last_ = std::string(cursor_.sub());
  return true;
}

void RandomSeeker::Pick(std::mt19937_64& rng) {
  std::string_view f = std::string_view(first_).substr(space_.size());
  std::string_view l = std::string_view(last_).substr(space_.size());
  std::string target = space_ + RandomKeyBetween(f, l, rng);
  cursor_.Seek(target);
  if (!InSpace()) cursor_.Seek(first_);
}

void RandomSeeker::Advance() {
  cursor_.Next();
  if (!InSpace()) cursor_.Seek(first_);
}

Status SampleDistinct(RandomSeeker& seeker, uint64_t count, std::mt19937_64& rng,
                      std::vector<std::pair<std::string, std::string>>* out) {
  std::unordered_set<std::string> seen;
  for (uint64_t attempt = 0; attempt < 3 * count && seen.size() < count; ++attempt) {
    seeker.Pick(rng);
    std::string e(seeker.element());
    if (seen.insert(e).second) out->emplace_back(std::move(e), std::string(seeker.value()));
  }
  if (seen.size() < count) {
    seeker.Pick(rng);
    while (seen.size() < count) {
      std::string e(seeker.element());
      if (seen.insert(e).second) out->emplace_back(std::move(e), std::string(seeker.value()));
      seeker.Advance();
    }
  }
  return seeker.status();
}

Result<uint64_t> ScanPage(Txn& txn, std::string_view key, uint64_t version, std::string_view space,
                          uint64_t cursor, size_t count,
                          const std::function<void(std::string_view, std::string_view)>& fn) {
  SubCursor it(txn, key, version);
  std::optional<std::string> resume;
  if (cursor != 0) resume = ElementCursors().Find(cursor);
  if (resume) {
    std::string from = std::string(space) + *resume;
    it.Seek(from);
    if (it.Valid() && it.sub() == from) it.Next();
  } else {
    it.Seek(space);
  }
  if (count == 0) count = 10;
  size_t examined = 0;
  std::string last;
  for (; it.Valid() && it.sub().starts_with(space); it.Next()) {
    if (examined == count) {
      // More remain: remember the last element returned.
      return ElementCursors().Save(0, std::string(last));
    }
    std::string_view element = it.sub().substr(space.size());
    fn(element, it.value());
    last.assign(element);
    ++examined;
  }
  Status st = it.status();
  if (!st.ok()) return st;
  return uint64_t{0};
}

Status ParseScanCursor(std::string_view arg, uint64_t* cursor) {
  const Status invalid(Code::kInvalidCursor);
  bool negative = false;
  if (!arg.empty() && (arg[0] == '-' || arg[0] == '+')) {
    negative = arg[0] == '-';
    arg.remove_prefix(1);
  }
  if (arg.empty()) return invalid;
  uint64_t v = 0;
  for (char ch : arg) {
    if (ch < '0' || ch > '9') return invalid;
    auto digit = static_cast<uint64_t>(ch - '0');
    if (v > (UINT64_MAX - digit) / 10) return invalid;
    v = v * 10 + digit;
  }
  *cursor = negative ? 0 - v : v;
  return Status::Ok();
}

namespace {
bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

Status ParseScanOptions(std::span<const std::string_view> args, ScanOptions* out) {
  for (size_t i = 0; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return Status(Code::kSyntax);
    if (IEquals(args[i], "count")) {
      int64_t v = 0;
      if (!ParseInt64(args[i + 1], &v)) return Status(Code::kNotInteger);
      if (v < 1) return Status(Code::kSyntax);
      out->count = static_cast<size_t>(std::min<int64_t>(v, 1 << 20));
    } else if (IEquals(args[i], "match")) {
      if (args[i + 1] == "*") {
        out->pattern.reset();
      } else {
        out->pattern = std::string(args[i + 1]);
      }
    } else {
      return Status(Code::kSyntax);
    }
  }
  return Status::Ok();
}

Status ParseRangedInt(std::string_view arg, int64_t min, int64_t max,
                      std::optional<Code> range_error, int64_t* out) {
  int64_t v = 0;
  if (!ParseInt64(arg, &v)) return Status(range_error.value_or(Code::kNotInteger));
  if (v < min || v > max) {
    if (range_error) return Status(*range_error);
    return Status(Code::kValueNotBetween, std::to_string(min) + " " + std::to_string(max));
  }
  *out = v;
  return Status::Ok();
}

}  // namespace keel::coll
