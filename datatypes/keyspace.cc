#include "datatypes/keyspace.h"

#include <cstring>
#include <optional>

#include "cluster/slot.h"
#include "datatypes/glob.h"
#include "datatypes/hash.h"
#include "datatypes/list.h"
#include "datatypes/rdb.h"
#include "datatypes/set.h"
#include "datatypes/stream_rdb.h"
#include "datatypes/zset.h"

namespace keel::keys {
namespace {

// Walks the live keys of one physical db in metadata order (slot, then key), skipping the
// other dbs' keys with seeks rather than reading them.
class DbKeyIterator {
 public:
  explicit DbKeyIterator(Txn& txn)
      : db_(txn.db()), it_(txn.NewMetaIteratorWithPending()), now_(txn.now_ms()) {}

  void SeekSlot(uint16_t slot) {
    it_->Seek(MetaKeyPrefix(slot, db_));
    Normalize();
  }
  // Positions at the first key after `meta_key`.
  void SeekAfter(const std::string& meta_key) {
    it_->Seek(meta_key);
    if (it_->Valid() && it_->key() == rocksdb::Slice(meta_key)) it_->Next();
    Normalize();
  }
  bool Valid() const { return valid_; }
  void Next() {
    it_->Next();
    Normalize();
  }
  uint16_t slot() const { return slot_; }
  std::string_view meta_key() const { return {it_->key().data(), it_->key().size()}; }
  std::string_view user_key() const { return meta_key().substr(kMetaKeyPrefixSize); }
  std::string_view value() const { return {it_->value().data(), it_->value().size()}; }
  // Decodes the current key's metadata; false if it has expired (and queues it).
  bool Live(Metadata* meta) {
    if (!DecodeMetadata(value(), meta, nullptr)) return false;
    if (meta->ExpiredAt(now_)) return false;
    return true;
  }
  rocksdb::Status status() const { return it_->status(); }

 private:
  void Normalize() {
    valid_ = false;
    while (it_->Valid()) {
      auto k = it_->key();
      if (k.size() < kMetaKeyPrefixSize) {
        it_->Next();
        continue;
      }
      uint32_t s = (static_cast<unsigned char>(k[0]) << 8) | static_cast<unsigned char>(k[1]);
      uint8_t d = static_cast<uint8_t>(k[2]);
      if (d == db_) {
        slot_ = static_cast<uint16_t>(s);
        valid_ = true;
        return;
      }
      uint32_t next = d < db_ ? s : s + 1;
      if (next >= cluster::kSlotCount) return;
      it_->Seek(MetaKeyPrefix(static_cast<uint16_t>(next), db_));
    }
  }

  uint8_t db_;
  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t now_;
  bool valid_ = false;
  uint16_t slot_ = 0;
};

bool IsGlobPattern(std::string_view p) {
  return p.find_first_of("*?[\\") != std::string_view::npos;
}

// Writes `rec` (loaded from src_db/src) as a new key dst in dst_db, with elements copied
// under a fresh version for compound types.
Status CopyRecord(Txn& txn, uint8_t src_db, std::string_view src, const KeyRecord& rec,
                  uint8_t dst_db, std::string_view dst, KeyRecord* dst_rec) {
  Metadata meta = rec.meta;
  if (meta.is_compound()) {
    meta.version = txn.NewVersion();
    Status st = txn.CopyElements(src_db, src, rec.meta.version, dst_db, dst, meta.version);
    if (!st.ok()) return st;
  }
  txn.StoreIn(dst_db, dst, dst_rec, meta, rec.body());
  return Status::Ok();
}

// Writes a decoded list, hash, set or sorted set under `key` (absent), with the encoding
// Redis 7.0's RESTORE gives it: lists and sets as their element operations would build them
// (the same limits), hashes and sorted sets by the RESTORE rules of hash.h and zset.h.
Status StoreCollection(Txn& txn, std::string_view key, const DumpedObject& object) {
  std::vector<std::string_view> elements(object.elements.begin(), object.elements.end());
  const uint8_t type = object.rdb_type;
  if (IsDecodedRdbListType(type)) {
    return lists::Push(txn, key, elements, lists::End::kRight, false).status();
  }
  if (IsDecodedRdbHashType(type)) {
    return hashes::Restore(txn, key, elements, type == kRdbTypeHashListpack);
  }
  if (IsDecodedRdbSetType(type)) return sets::Add(txn, key, elements).status();
  if (IsDecodedRdbZsetType(type)) {
    std::vector<zsets::ScoreMemberArg> items;
    items.reserve(elements.size());
    for (size_t i = 0; i < elements.size(); ++i) items.push_back({object.scores[i], elements[i]});
    return zsets::Restore(txn, key, items, type == kRdbTypeZsetListpack);
  }
  return Status(Code::kBadDataFormat);
}

}  // namespace

Result<bool> Exists(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  return rec.exists;
}

Result<std::optional<ValueType>> Type(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return std::optional<ValueType>();
  return std::optional<ValueType>(rec.meta.type);
}

Result<bool> Delete(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return false;
  txn.Remove(key, &rec);
  return true;
}

Result<bool> ExpireAt(Txn& txn, std::string_view key, int64_t at_ms, ExpireCondition cond) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return false;
  // A key without expiry counts as an infinite TTL for GT and LT.
  uint64_t current = rec.meta.expire_at_ms;
  switch (cond) {
    case ExpireCondition::kAlways:
      break;
    case ExpireCondition::kNX:
      if (current != 0) return false;
      break;
    case ExpireCondition::kXX:
      if (current == 0) return false;
      break;
    case ExpireCondition::kGT:
      if (current == 0 || at_ms <= static_cast<int64_t>(current)) return false;
      break;
    case ExpireCondition::kLT:
      if (current != 0 && at_ms >= static_cast<int64_t>(current)) return false;
      break;
  }
  if (at_ms <= static_cast<int64_t>(txn.now_ms())) {
    txn.Remove(key, &rec);
    return true;
  }
  Metadata meta = rec.meta;
  meta.expire_at_ms = static_cast<uint64_t>(at_ms);
  std::string body(rec.body());
  txn.Store(key, &rec, meta, body);
  return true;
}

Result<int64_t> TtlMs(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return int64_t{-2};
  if (rec.meta.expire_at_ms == 0) return int64_t{-1};
  return static_cast<int64_t>(rec.meta.expire_at_ms - txn.now_ms());
}

Result<int64_t> ExpireTimeMs(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return int64_t{-2};
  if (rec.meta.expire_at_ms == 0) return int64_t{-1};
  return static_cast<int64_t>(rec.meta.expire_at_ms);
}

Result<bool> Persist(Txn& txn, std::string_view key) {
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists || rec.meta.expire_at_ms == 0) return false;
  Metadata meta = rec.meta;
  meta.expire_at_ms = 0;
  std::string body(rec.body());
  txn.Store(key, &rec, meta, body);
  return true;
}

Result<bool> Rename(Txn& txn, std::string_view src, std::string_view dst, bool nx) {
  KeyRecord from;
  Status st = txn.Load(src, &from);
  if (!st.ok()) return st;
  if (!from.exists) return Code::kNoSuchKey;
  if (src == dst) return !nx;  // Redis: RENAME k k is OK, RENAMENX k k is 0
  KeyRecord to;
  st = txn.Load(dst, &to);
  if (!st.ok()) return st;
  if (to.exists && nx) return false;
  txn.Remove(dst, &to);
  st = CopyRecord(txn, txn.db(), src, from, txn.db(), dst, &to);
  if (!st.ok()) return st;
  txn.Remove(src, &from);
  return true;
}

Result<bool> Copy(Txn& txn, std::string_view src, std::string_view dst, int dst_db, bool replace) {
  uint8_t target = txn.storage()->PhysicalDb(dst_db);
  if (src == dst && target == txn.db()) return Code::kSameObject;
  KeyRecord from;
  Status st = txn.Load(src, &from);
  if (!st.ok()) return st;
  if (!from.exists) return false;
  KeyRecord to;
  st = txn.LoadIn(target, dst, &to);
  if (!st.ok()) return st;
  if (to.exists && !replace) return false;
  txn.RemoveIn(target, dst, &to);
  st = CopyRecord(txn, txn.db(), src, from, target, dst, &to);
  if (!st.ok()) return st;
  return true;
}

Result<bool> Move(Txn& txn, std::string_view key, int dst_db) {
  uint8_t target = txn.storage()->PhysicalDb(dst_db);
  if (target == txn.db()) return Code::kSameObject;
  KeyRecord from;
  Status st = txn.Load(key, &from);
  if (!st.ok()) return st;
  if (!from.exists) return false;
  KeyRecord to;
  st = txn.LoadIn(target, key, &to);
  if (!st.ok()) return st;
  if (to.exists) return false;
  st = CopyRecord(txn, txn.db(), key, from, target, key, &to);
  if (!st.ok()) return st;
  txn.Remove(key, &from);
  return true;
}

Result<std::optional<std::string>> Dump(Txn& txn, std::string_view key) {
  txn.PinSnapshot();  // compound values take several reads: one consistent view (kRead)
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (!rec.exists) return std::optional<std::string>();
  // Compound values use Redis's plain RDB encodings (no listpack/intset packing), which
  // Redis 7.0's RESTORE accepts.
  std::string body;
  switch (rec.meta.type) {
    case ValueType::kString:
      return std::optional<std::string>(EncodeStringDump(rec.body()));
    case ValueType::kHash: {
      auto all = hashes::GetAll(txn, key);
      if (!all.ok()) return all.status();
      body.push_back(static_cast<char>(kRdbTypeHash));
      AppendRdbLength(&body, all->size());
      for (const auto& fv : *all) {
        AppendRdbString(&body, fv.field);
        AppendRdbString(&body, fv.value);
      }
      break;
    }
    case ValueType::kSet: {
      auto members = sets::Members(txn, key);
      if (!members.ok()) return members.status();
      body.push_back(static_cast<char>(kRdbTypeSet));
      AppendRdbLength(&body, members->size());
      for (const auto& m : *members) AppendRdbString(&body, m);
      break;
    }
    case ValueType::kZSet: {
      zsets::RangeSpec all;  // rank 0..-1
      auto members = zsets::Range(txn, key, all);
      if (!members.ok()) return members.status();
      body.push_back(static_cast<char>(kRdbTypeZset2));
      AppendRdbLength(&body, members->size());
      for (const auto& sm : *members) {
        AppendRdbString(&body, sm.member);
        uint64_t bits;
        std::memcpy(&bits, &sm.score, sizeof(bits));
        PutFixed64LE(&body, bits);  // RDB stores binary doubles little-endian
      }
      break;
    }
    case ValueType::kList: {
      auto items = lists::Range(txn, key, 0, -1);
      if (!items.ok()) return items.status();
      body.push_back(static_cast<char>(kRdbTypeList));
      AppendRdbLength(&body, items->size());
      for (const auto& item : *items) AppendRdbString(&body, item);
      break;
    }
    case ValueType::kStream: {
      auto stream = streams::EncodeRdbStream(txn, key);
      if (!stream.ok()) return stream.status();
      body = std::move(*stream);
      break;
    }
  }
  return std::optional<std::string>(FinishDumpPayload(std::move(body)));
}

Status Restore(Txn& txn, std::string_view key, std::string_view payload,
               const RestoreOptions& options) {
  // Redis's order: BUSYKEY before the payload is looked at.
  KeyRecord rec;
  Status st = txn.Load(key, &rec);
  if (!st.ok()) return st;
  if (rec.exists && !options.replace) return Status(Code::kBusyKey);
  auto body = VerifyDumpPayload(payload);
  if (!body.ok()) return body.status();
  const auto type = body->empty() ? uint8_t{0} : static_cast<uint8_t>((*body)[0]);
  const bool is_stream = streams::IsRdbStreamType(type);
  std::optional<streams::RdbStream> stream;
  std::optional<DumpedObject> object;
  if (is_stream) {
    auto decoded = streams::DecodeRdbStream(type, body->substr(1));
    if (!decoded.ok()) return decoded.status();
    stream = std::move(*decoded);
  } else {
    auto decoded = DecodeDumpBody(*body);
    if (!decoded.ok()) return decoded.status();
    object = std::move(*decoded);
  }
  Metadata meta;
  meta.type = ValueType::kString;
  if (options.ttl_ms > 0) {
    meta.expire_at_ms = options.absolute_ttl ? static_cast<uint64_t>(options.ttl_ms)
                                             : txn.now_ms() + static_cast<uint64_t>(options.ttl_ms);
  }
  if (meta.expire_at_ms != 0 && meta.expire_at_ms <= txn.now_ms()) {
    txn.Remove(key, &rec);  // already expired: Redis replies OK and stores nothing
    return Status::Ok();
  }
  if (stream) return streams::StoreRdbStream(txn, key, &rec, *stream, meta.expire_at_ms);
  if (object->rdb_type != kRdbTypeString) {
    txn.Remove(key, &rec);  // a new incarnation; the old one's elements are reclaimed
    Status stored = StoreCollection(txn, key, *object);
    if (!stored.ok()) return stored;
    if (meta.expire_at_ms != 0) {
      auto set =
          ExpireAt(txn, key, static_cast<int64_t>(meta.expire_at_ms), ExpireCondition::kAlways);
      if (!set.ok()) return set.status();
    }
    return Status::Ok();
  }
  txn.Store(key, &rec, meta, object->value);
  return Status::Ok();
}

Result<std::vector<std::string>> Keys(Txn& txn, std::string_view pattern) {
  std::vector<std::string> out;
  if (!IsGlobPattern(pattern)) {
    auto exists = Exists(txn, pattern);
    if (!exists.ok()) return exists.status();
    if (*exists) out.emplace_back(pattern);
    return out;
  }
  bool all = pattern == "*";
  DbKeyIterator it(txn);
  Metadata meta;
  for (it.SeekSlot(0); it.Valid(); it.Next()) {
    if (!it.Live(&meta)) continue;
    if (all || GlobMatch(pattern, it.user_key())) out.emplace_back(it.user_key());
  }
  if (!it.status().ok()) return Status(Code::kStorage, it.status().ToString());
  return out;
}

uint64_t ScanCursors::Save(uint16_t slot, std::string meta_key) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t token = next_token_++;
  if (next_token_ >= (uint64_t{1} << 40)) next_token_ = 1;
  uint64_t cursor = (static_cast<uint64_t>(slot) << 40) | token;
  keys_[cursor] = std::move(meta_key);
  order_.push_back(cursor);
  while (order_.size() > capacity_) {
    keys_.erase(order_.front());
    order_.pop_front();
  }
  return cursor;
}

std::optional<std::string> ScanCursors::Find(uint64_t cursor) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = keys_.find(cursor);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

Result<ScanResult> Scan(Txn& txn, ScanCursors& cursors, uint64_t cursor,
                        std::optional<std::string_view> pattern, size_t count,
                        std::optional<ValueType> type) {
  ScanResult out;
  uint64_t slot = cursor >> 40;
  if (slot >= cluster::kSlotCount) return out;  // a cursor we never handed out: done
  DbKeyIterator it(txn);
  std::optional<std::string> resume;
  if ((cursor & ((uint64_t{1} << 40) - 1)) != 0) resume = cursors.Find(cursor);
  if (resume) {
    it.SeekAfter(*resume);
  } else {
    it.SeekSlot(static_cast<uint16_t>(slot));
  }
  if (count == 0) count = 10;
  size_t examined = 0;
  Metadata meta;
  bool match_all = !pattern || *pattern == "*";
  while (it.Valid()) {
    ++examined;
    if (it.Live(&meta) && (!type || meta.type == *type) &&
        (match_all || GlobMatch(*pattern, it.user_key()))) {
      out.keys.emplace_back(it.user_key());
    }
    if (examined >= count) {
      uint16_t last_slot = it.slot();
      std::string last_key(it.meta_key());
      it.Next();
      // Resume after the last key examined (cursor 0 if nothing is left).
      if (it.Valid()) out.cursor = cursors.Save(last_slot, std::move(last_key));
      break;
    }
    it.Next();
  }
  if (!it.status().ok()) return Status(Code::kStorage, it.status().ToString());
  return out;
}

Result<std::optional<std::string>> RandomKey(Txn& txn, std::mt19937_64& rng) {
  Storage& storage = *txn.storage();
  if (storage.KeyCount(txn.logical_db()) + txn.PendingKeyDelta(txn.db()) <= 0) {
    return std::optional<std::string>();
  }
  DbKeyIterator it(txn);
  Metadata meta;
  for (int attempt = 0; attempt < 100; ++attempt) {
    uint16_t slot = static_cast<uint16_t>(rng() % cluster::kSlotCount);
    it.SeekSlot(slot);
    if (!it.Valid()) it.SeekSlot(0);  // wrap around
    // Skip a run of expired keys; give up on this attempt after a few.
    for (int step = 0; step < 16 && it.Valid(); ++step, it.Next()) {
      if (it.Live(&meta)) return std::optional<std::string>(std::string(it.user_key()));
    }
  }
  if (!it.status().ok()) return Status(Code::kStorage, it.status().ToString());
  return std::optional<std::string>();
}

}  // namespace keel::keys
