#include "datatypes/string.h"

#include <cmath>

#include "datatypes/number.h"

namespace keel::strings {

Status LoadString(Txn& txn, std::string_view key, KeyRecord* rec, std::string* value) {
  Status st = txn.Load(key, rec);
  if (!st.ok()) return st;
  if (!rec->exists) {
    value->clear();
    return Status::Ok();
  }
  if (rec->meta.type != ValueType::kString) return Status(Code::kWrongType);
  value->assign(rec->body());
  return Status::Ok();
}

void StoreKeepTtl(Txn& txn, std::string_view key, KeyRecord* rec, std::string_view value,
                  StringEncoding encoding) {
  Metadata meta;
  meta.type = ValueType::kString;
  meta.encoding = encoding;
  meta.expire_at_ms = rec->exists ? rec->meta.expire_at_ms : 0;
  txn.Store(key, rec, meta, value);
}

Result<std::optional<std::string>> Get(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return std::optional<std::string>();
  if (rec.meta.type != ValueType::kString) return Code::kWrongType;
  return std::optional<std::string>(std::string(rec.body()));
}

Result<SetOutcome> Set(Txn& txn, std::string_view key, std::string_view value,
                       const SetOptions& options) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  SetOutcome out;
  if (options.get && rec.exists) {
    if (rec.meta.type != ValueType::kString) return Code::kWrongType;
    out.old_value = std::string(rec.body());
  }
  using C = SetOptions::Condition;
  if ((options.condition == C::kIfAbsent && rec.exists) ||
      (options.condition == C::kIfPresent && !rec.exists)) {
    return out;
  }
  Metadata meta;
  meta.type = ValueType::kString;
  meta.expire_at_ms = options.expire_at_ms;
  if (options.keep_ttl && rec.exists) meta.expire_at_ms = rec.meta.expire_at_ms;
  if (meta.expire_at_ms != 0 && meta.expire_at_ms <= txn.now_ms()) {
    // Redis accepts a time in the past for EXAT/PXAT and the key is gone at once.
    txn.Remove(key, &rec);
  } else {
    txn.Store(key, &rec, meta, value);
  }
  out.written = true;
  return out;
}

Result<std::optional<std::string>> GetDel(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return std::optional<std::string>();
  if (rec.meta.type != ValueType::kString) return Code::kWrongType;
  std::optional<std::string> value(std::string(rec.body()));
  txn.Remove(key, &rec);
  return value;
}

Result<std::optional<std::string>> GetEx(Txn& txn, std::string_view key, ExpiryChange change) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return std::optional<std::string>();
  if (rec.meta.type != ValueType::kString) return Code::kWrongType;
  std::optional<std::string> value(std::string(rec.body()));
  using K = ExpiryChange::Kind;
  if (change.kind == K::kSetAt && change.at_ms <= txn.now_ms()) {
    txn.Remove(key, &rec);
  } else if (change.kind != K::kNone) {
    Metadata meta = rec.meta;
    meta.expire_at_ms = change.kind == K::kPersist ? 0 : change.at_ms;
    if (meta.expire_at_ms != rec.meta.expire_at_ms) txn.Store(key, &rec, meta, *value);
  }
  return value;
}

Status MSet(Txn& txn, std::span<const std::string_view> pairs) {
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    KeyRecord rec;
    Status st = txn.Load(pairs[i], &rec);
    if (!st.ok()) return st;
    Metadata meta;
    meta.type = ValueType::kString;
    txn.Store(pairs[i], &rec, meta, pairs[i + 1]);
  }
  return Status::Ok();
}

Result<bool> MSetNx(Txn& txn, std::span<const std::string_view> pairs) {
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    KeyRecord rec;
    Status st = txn.Load(pairs[i], &rec);
    if (!st.ok()) return st;
    if (rec.exists) return false;
  }
  Status st = MSet(txn, pairs);
  if (!st.ok()) return st;
  return true;
}

Result<int64_t> Append(Txn& txn, std::string_view key, std::string_view suffix,
                       uint64_t max_bytes) {
  KeyRecord rec;
  std::string value;
  Status st = LoadString(txn, key, &rec, &value);
  if (!st.ok()) return st;
  if (value.size() + suffix.size() > max_bytes) return Code::kStringTooLong;
  // Redis appends in place (a raw string), but a new key is encoded from its content.
  bool existed = rec.exists;
  value.append(suffix);
  StoreKeepTtl(txn, key, &rec, value, existed ? StringEncoding::kRaw : StringEncoding::kAuto);
  return static_cast<int64_t>(value.size());
}

Result<int64_t> SetRange(Txn& txn, std::string_view key, int64_t offset, std::string_view value,
                         uint64_t max_bytes) {
  if (offset < 0) return Status(Code::kOffsetOutOfRange);
  KeyRecord rec;
  std::string current;
  Status st = LoadString(txn, key, &rec, &current);
  if (!st.ok()) return st;
  if (value.empty()) return static_cast<int64_t>(current.size());  // no-op, nothing created
  if (static_cast<uint64_t>(offset) + value.size() > max_bytes) return Code::kStringTooLong;
  size_t end = static_cast<size_t>(offset) + value.size();
  if (current.size() < end) current.resize(end, '\0');
  current.replace(static_cast<size_t>(offset), value.size(), value);
  StoreKeepTtl(txn, key, &rec, current, StringEncoding::kRaw);
  return static_cast<int64_t>(current.size());
}

Result<int64_t> StrLen(Txn& txn, std::string_view key) {
  auto v = Get(txn, key);
  if (!v.ok()) return v.status();
  return static_cast<int64_t>(v->has_value() ? (*v)->size() : 0);
}

Result<int64_t> IncrBy(Txn& txn, std::string_view key, int64_t delta) {
  KeyRecord rec;
  std::string value;
  Status st = LoadString(txn, key, &rec, &value);
  if (!st.ok()) return st;
  int64_t current = 0;
  if (rec.exists && !ParseInt64(value, &current)) return Code::kNotInteger;
  int64_t result;
  if (__builtin_add_overflow(current, delta, &result)) return Code::kOverflow;
  StoreKeepTtl(txn, key, &rec, std::to_string(result));
  return result;
}

Result<std::string> IncrByFloat(Txn& txn, std::string_view key, long double delta) {
  KeyRecord rec;
  std::string value;
  Status st = LoadString(txn, key, &rec, &value);
  if (!st.ok()) return st;
  long double current = 0;
  if (rec.exists && !ParseLongDouble(value, &current)) return Code::kNotFloat;
  long double result = current + delta;
  if (std::isnan(result) || std::isinf(result)) return Code::kNanOrInfinity;
  std::string text = FormatLongDouble(result);
  StoreKeepTtl(txn, key, &rec, text, StringEncoding::kNoInt);
  return text;
}

std::string_view EncodingOf(std::string_view value, StringEncoding encoding) {
  if (encoding == StringEncoding::kRaw) return "raw";
  int64_t n;
  if (encoding == StringEncoding::kAuto && value.size() <= 20 && ParseInt64(value, &n))
    return "int";
  return value.size() <= 44 ? "embstr" : "raw";
}

}  // namespace keel::strings
