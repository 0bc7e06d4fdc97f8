#include "datatypes/encoding.h"

#include "cluster/slot.h"

namespace keel {

std::string_view TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kHash:
      return "hash";
    case ValueType::kSet:
      return "set";
    case ValueType::kZSet:
      return "zset";
    case ValueType::kList:
      return "list";
    case ValueType::kStream:
      return "stream";
  }
  return "none";
}

std::string_view EncodingName(ValueType type, CompoundEncoding variant) {
  bool large = variant == CompoundEncoding::kLarge;
  switch (type) {
    case ValueType::kString:
      return "raw";
    case ValueType::kHash:
      return large ? "hashtable" : "listpack";
    case ValueType::kSet:
      return large ? "hashtable" : "intset";
    case ValueType::kZSet:
      return large ? "skiplist" : "listpack";
    case ValueType::kList:
      return "quicklist";
    case ValueType::kStream:
      return "stream";
  }
  return "unknown";
}

std::optional<ValueType> TypeFromName(std::string_view name) {
  for (auto t : {ValueType::kString, ValueType::kHash, ValueType::kSet, ValueType::kZSet,
                 ValueType::kList, ValueType::kStream}) {
    if (name.size() == TypeName(t).size()) {
      bool eq = true;
      for (size_t i = 0; i < name.size(); ++i) {
        if ((name[i] | 0x20) != TypeName(t)[i]) eq = false;
      }
      if (eq) return t;
    }
  }
  return std::nullopt;
}

void PutFixed64LE(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 8);
}

uint64_t GetFixed64LE(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutFixed64BE(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  out->append(buf, 8);
}

uint64_t GetFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutFixed32BE(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
  out->append(buf, 4);
}

uint32_t GetFixed32BE(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutFixed32LE(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(buf, 4);
}

uint32_t GetFixed32LE(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

namespace {

void PutSlotDb(std::string* out, uint16_t slot, uint8_t db) {
  out->push_back(static_cast<char>(slot >> 8));
  out->push_back(static_cast<char>(slot & 0xff));
  out->push_back(static_cast<char>(db));
}

uint16_t GetSlot(const char* p) {
  return static_cast<uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                               static_cast<unsigned char>(p[1]));
}

}  // namespace

std::string MetaKey(uint8_t db, std::string_view user_key) {
  std::string out;
  out.reserve(kMetaKeyPrefixSize + user_key.size());
  PutSlotDb(&out, cluster::KeySlot(user_key), db);
  out.append(user_key);
  return out;
}

std::string MetaKeyPrefix(uint16_t slot, uint8_t db) {
  std::string out;
  PutSlotDb(&out, slot, db);
  return out;
}

std::optional<DecodedMetaKey> DecodeMetaKey(std::string_view raw) {
  if (raw.size() < kMetaKeyPrefixSize) return std::nullopt;
  return DecodedMetaKey{GetSlot(raw.data()), static_cast<uint8_t>(raw[2]),
                        raw.substr(kMetaKeyPrefixSize)};
}

std::string EncodeMetadata(const Metadata& meta, std::string_view tail) {
  std::string out;
  out.reserve((meta.is_compound() ? kCompoundHeaderSize : kMetaHeaderSize) + tail.size());
  out.push_back(static_cast<char>(static_cast<uint8_t>(meta.type) |
                                  (static_cast<uint8_t>(meta.encoding) << 4)));
  PutFixed64LE(&out, meta.expire_at_ms);
  if (meta.is_compound()) {
    PutFixed64LE(&out, meta.version);
    PutFixed64LE(&out, meta.size);
  }
  out.append(tail);
  return out;
}

bool DecodeMetadata(std::string_view raw, Metadata* meta, std::string_view* tail) {
  if (raw.size() < kMetaHeaderSize) return false;
  uint8_t t = static_cast<uint8_t>(raw[0]) & 0x0f;
  uint8_t enc = static_cast<uint8_t>(raw[0]) >> 4;
  if (t < static_cast<uint8_t>(ValueType::kString) ||
      t > static_cast<uint8_t>(ValueType::kStream) ||
      enc > static_cast<uint8_t>(StringEncoding::kNoInt)) {
    return false;
  }
  meta->type = static_cast<ValueType>(t);
  meta->encoding = static_cast<StringEncoding>(enc);
  meta->expire_at_ms = GetFixed64LE(raw.data() + 1);
  size_t header = kMetaHeaderSize;
  if (meta->is_compound()) {
    if (raw.size() < kCompoundHeaderSize) return false;
    meta->version = GetFixed64LE(raw.data() + 9);
    meta->size = GetFixed64LE(raw.data() + 17);
    header = kCompoundHeaderSize;
  } else {
    meta->version = 0;
    meta->size = 0;
  }
  if (tail != nullptr) *tail = raw.substr(header);
  return true;
}

std::string SubKeyPrefix(uint8_t db, std::string_view user_key, uint64_t version) {
  std::string out;
  out.reserve(kMetaKeyPrefixSize + 4 + user_key.size() + 8);
  PutSlotDb(&out, cluster::KeySlot(user_key), db);
  PutFixed32BE(&out, static_cast<uint32_t>(user_key.size()));
  out.append(user_key);
  PutFixed64BE(&out, version);
  return out;
}

std::string SubKey(uint8_t db, std::string_view user_key, uint64_t version, std::string_view sub) {
  std::string out = SubKeyPrefix(db, user_key, version);
  out.append(sub);
  return out;
}

std::optional<DecodedSubKey> DecodeSubKey(std::string_view raw) {
  if (raw.size() < kMetaKeyPrefixSize + 4) return std::nullopt;
  uint32_t len = GetFixed32BE(raw.data() + 3);
  size_t need = kMetaKeyPrefixSize + 4 + static_cast<size_t>(len) + 8;
  if (raw.size() < need) return std::nullopt;
  DecodedSubKey out;
  out.slot = GetSlot(raw.data());
  out.db = static_cast<uint8_t>(raw[2]);
  out.user_key = raw.substr(7, len);
  out.version = GetFixed64BE(raw.data() + 7 + len);
  out.sub_key = raw.substr(need);
  return out;
}

std::string ExpiryKey(uint64_t expire_at_ms, uint8_t db, std::string_view user_key) {
  std::string out;
  out.reserve(8 + kMetaKeyPrefixSize + user_key.size());
  PutFixed64BE(&out, expire_at_ms);
  PutSlotDb(&out, cluster::KeySlot(user_key), db);
  out.append(user_key);
  return out;
}

std::optional<DecodedExpiryKey> DecodeExpiryKey(std::string_view raw) {
  if (raw.size() < 8 + kMetaKeyPrefixSize) return std::nullopt;
  return DecodedExpiryKey{GetFixed64BE(raw.data()), static_cast<uint8_t>(raw[10]),
                          raw.substr(8 + kMetaKeyPrefixSize)};
}

}  // namespace keel
