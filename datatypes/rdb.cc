#include "datatypes/rdb.h"

#include "datatypes/listpack.h"

#include <array>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "datatypes/number.h"

namespace keel {
namespace {

// Length prefixes (the top two bits of the first byte) and the special string encodings.
constexpr uint8_t kLen6Bit = 0;
constexpr uint8_t kLen14Bit = 1;
constexpr uint8_t kLenEncoded = 3;
constexpr uint8_t kLen32Bit = 0x80;
constexpr uint8_t kLen64Bit = 0x81;
constexpr uint8_t kEncInt8 = 0;
constexpr uint8_t kEncInt16 = 1;
constexpr uint8_t kEncInt32 = 2;
constexpr uint8_t kEncLzf = 3;

// Redis tries the integer encodings only for strings this short.
constexpr size_t kMaxIntEncodedLen = 11;

// The footer: 2 bytes of RDB version, then 8 bytes of CRC64.
constexpr size_t kFooterLen = 10;

// The most an LZF stream can expand: a 3-byte back reference copies up to 264 bytes.
constexpr uint64_t kLzfMaxExpansion = 88;

// The Jones polynomial 0xad93d23594c935a9, bit-reversed for the reflected CRC.
constexpr uint64_t kCrc64ReflectedPoly = 0x95ac9329ac4bc9b5ULL;

constexpr std::array<uint64_t, 256> MakeCrc64Table() {
  std::array<uint64_t, 256> table{};
  for (uint64_t i = 0; i < 256; ++i) {
    uint64_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? (crc >> 1) ^ kCrc64ReflectedPoly : crc >> 1;
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint64_t, 256> kCrc64Table = MakeCrc64Table();

Status BadFormat() { return Status(Code::kBadDataFormat); }

void AppendLittleEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void AppendBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t LoadLittleEndian(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = b.size(); i > 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i - 1]);
  return v;
}

uint64_t LoadBigEndian(std::string_view b) {
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

}  // namespace

bool IsRdbObjectType(uint8_t type) { return type <= 7 || (type >= 9 && type <= 19); }

uint64_t Crc64(uint64_t crc, std::string_view data) {
  for (char c : data) {
    crc = kCrc64Table[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  }
  return crc;
}

// ---- Encoding ----

void AppendRdbLength(std::string* out, uint64_t len) {
  if (len < (1u << 6)) {
    out->push_back(static_cast<char>((kLen6Bit << 6) | len));
  } else if (len < (1u << 14)) {
    out->push_back(static_cast<char>((kLen14Bit << 6) | (len >> 8)));
    out->push_back(static_cast<char>(len & 0xff));
  } else if (len <= std::numeric_limits<uint32_t>::max()) {
    out->push_back(static_cast<char>(kLen32Bit));
    AppendBigEndian(out, len, 4);
  } else {
    out->push_back(static_cast<char>(kLen64Bit));
    AppendBigEndian(out, len, 8);
  }
}

void AppendRdbString(std::string* out, std::string_view s) {
  int64_t v = 0;
  // ParseInt64 accepts exactly the canonical decimal forms, which is the round-trip test
  // Redis applies before choosing an integer encoding.
  if (s.size() <= kMaxIntEncodedLen && ParseInt64(s, &v)) {
    const auto encoded = [&](uint8_t enc, int bytes) {
      out->push_back(static_cast<char>((kLenEncoded << 6) | enc));
      AppendLittleEndian(out, static_cast<uint64_t>(v), bytes);
    };
    if (v >= std::numeric_limits<int8_t>::min() && v <= std::numeric_limits<int8_t>::max()) {
      encoded(kEncInt8, 1);
      return;
    }
    if (v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max()) {
      encoded(kEncInt16, 2);
      return;
    }
    if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
      encoded(kEncInt32, 4);
      return;
    }
  }
  AppendRdbLength(out, s.size());
  out->append(s);
}

std::string FinishDumpPayload(std::string body) {
  AppendLittleEndian(&body, kRdbVersion, 2);
  const uint64_t crc = Crc64(0, body);
  AppendLittleEndian(&body, crc, 8);
  return body;
}

std::string EncodeStringDump(std::string_view value) {
  std::string body;
  body.reserve(value.size() + 1 + 9 + kFooterLen);
  body.push_back(static_cast<char>(kRdbTypeString));
  AppendRdbString(&body, value);
  return FinishDumpPayload(std::move(body));
}

// ---- Decoding ----

Result<std::string_view> VerifyDumpPayload(std::string_view payload) {
  if (payload.size() < kFooterLen) return Code::kBadDumpPayload;
  const std::string_view footer = payload.substr(payload.size() - kFooterLen);
  const uint64_t version = LoadLittleEndian(footer.substr(0, 2));
  if (version > kRdbVersion) return Code::kBadDumpPayload;
  const uint64_t crc = LoadLittleEndian(footer.substr(2, 8));
  if (Crc64(0, payload.substr(0, payload.size() - 8)) != crc) return Code::kBadDumpPayload;
  return payload.substr(0, payload.size() - kFooterLen);
}

Result<std::string> LzfDecompress(std::string_view in, size_t out_len) {
  // Checked first so that a hostile length cannot make us allocate.
  if (out_len / kLzfMaxExpansion > in.size()) return BadFormat();
  std::string out(out_len, '\0');
  size_t ip = 0;
  size_t op = 0;
  const size_t in_len = in.size();
  while (ip < in_len) {
    const unsigned ctrl = static_cast<uint8_t>(in[ip++]);
    if (ctrl < 32) {
      // A literal run of ctrl + 1 bytes.
      const size_t run = ctrl + 1;
      if (run > in_len - ip || run > out_len - op) return BadFormat();
      std::memcpy(out.data() + op, in.data() + ip, run);
      ip += run;
      op += run;
      continue;
    }
    // A back reference: length in the top 3 bits (7 = extended by the next byte), distance in
    // the low 5 bits plus the following byte.
    size_t len = ctrl >> 5;
    if (len == 7) {
      if (ip >= in_len) return BadFormat();
      len += static_cast<uint8_t>(in[ip++]);
    }
    if (ip >= in_len) return BadFormat();
    const size_t distance = ((ctrl & 0x1fu) << 8) + static_cast<uint8_t>(in[ip++]) + 1;
    len += 2;
    if (distance > op || len > out_len - op) return BadFormat();
    // Byte by byte: the source may overlap the bytes being written.
    for (size_t k = 0; k < len; ++k, ++op) out[op] = out[op - distance];
  }
  if (op != out_len) return BadFormat();
  return out;
}

Result<uint8_t> RdbReader::ReadByte() {
  if (pos_ >= data_.size()) return BadFormat();
  return static_cast<uint8_t>(data_[pos_++]);
}

Result<std::string_view> RdbReader::ReadBytes(size_t n) {
  if (n > remaining()) return BadFormat();
  const std::string_view bytes = data_.substr(pos_, n);
  pos_ += n;
  return bytes;
}

Result<RdbReader::LengthOrEncoding> RdbReader::ReadLengthOrEncoding() {
  Result<uint8_t> first = ReadByte();
  if (!first.ok()) return first.status();
  const uint8_t b = *first;
  switch (b >> 6) {
    case kLen6Bit:
      return LengthOrEncoding{static_cast<uint64_t>(b & 0x3f), false};
    case kLen14Bit: {
      Result<uint8_t> second = ReadByte();
      if (!second.ok()) return second.status();
      return LengthOrEncoding{(static_cast<uint64_t>(b & 0x3f) << 8) | *second, false};
    }
    case kLenEncoded:
      return LengthOrEncoding{static_cast<uint64_t>(b & 0x3f), true};
    default:
      break;
  }
  const size_t width = b == kLen32Bit ? 4 : b == kLen64Bit ? 8 : 0;
  if (width == 0) return BadFormat();
  Result<std::string_view> bytes = ReadBytes(width);
  if (!bytes.ok()) return bytes.status();
  return LengthOrEncoding{LoadBigEndian(*bytes), false};
}

Result<uint64_t> RdbReader::ReadLength() {
  Result<LengthOrEncoding> len = ReadLengthOrEncoding();
  if (!len.ok()) return len.status();
  if (len->is_encoding) return BadFormat();
  return len->value;
}

Result<std::string> RdbReader::ReadString() {
  Result<LengthOrEncoding> len = ReadLengthOrEncoding();
  if (!len.ok()) return len.status();
  if (!len->is_encoding) {
    if (len->value > remaining()) return BadFormat();
    Result<std::string_view> bytes = ReadBytes(static_cast<size_t>(len->value));
    if (!bytes.ok()) return bytes.status();
    return std::string(*bytes);
  }
  switch (len->value) {
    case kEncInt8:
    case kEncInt16:
    case kEncInt32: {
      const size_t width = len->value == kEncInt8 ? 1 : len->value == kEncInt16 ? 2 : 4;
      Result<std::string_view> bytes = ReadBytes(width);
      if (!bytes.ok()) return bytes.status();
      const uint64_t raw = LoadLittleEndian(*bytes);
      int64_t v;
      if (width == 1) {
        v = static_cast<int8_t>(raw);
      } else if (width == 2) {
        v = static_cast<int16_t>(raw);
      } else {
        v = static_cast<int32_t>(raw);
      }
      return std::to_string(v);
    }
    case kEncLzf: {
      Result<uint64_t> compressed_len = ReadLength();
      if (!compressed_len.ok()) return compressed_len.status();
      Result<uint64_t> plain_len = ReadLength();
      if (!plain_len.ok()) return plain_len.status();
      if (*compressed_len > remaining()) return BadFormat();
      Result<std::string_view> compressed = ReadBytes(*compressed_len);
      if (!compressed.ok()) return compressed.status();
      // Redis 7.0 accepts a zero decompressed length whatever the compressed bytes hold.
      if (*plain_len == 0) return std::string();
      if (*plain_len / kLzfMaxExpansion > compressed->size()) return BadFormat();
      return LzfDecompress(*compressed, static_cast<size_t>(*plain_len));
    }
    default:
      return BadFormat();
  }
}

bool IsDecodedRdbListType(uint8_t type) {
  return type == kRdbTypeList || type == kRdbTypeListQuicklist2;
}

bool IsDecodedRdbHashType(uint8_t type) {
  return type == kRdbTypeHash || type == kRdbTypeHashListpack;
}

bool IsDecodedRdbSetType(uint8_t type) { return type == kRdbTypeSet || type == kRdbTypeSetIntset; }

bool IsDecodedRdbZsetType(uint8_t type) {
  return type == kRdbTypeZset || type == kRdbTypeZset2 || type == kRdbTypeZsetListpack;
}

namespace {

// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
constexpr uint64_t kQuicklistPlain = 1;   // one element, stored as is
constexpr uint64_t kQuicklistPacked = 2;  // a listpack of elements

// RDB_TYPE_LIST: count, then each element as an RDB string. RDB_TYPE_LIST_QUICKLIST_2: node
// count, then per node its container and an RDB string (one element or a listpack).
Result<DumpedObject> DecodeList(uint8_t type, RdbReader& reader) {
  DumpedObject out;
  out.rdb_type = type;
  Result<uint64_t> count = reader.ReadLength();
  if (!count.ok()) return count.status();
  if (*count == 0 || *count > reader.remaining()) return BadFormat();  // empty keys: as Redis
  for (uint64_t i = 0; i < *count; ++i) {
    uint64_t container = kQuicklistPlain;
    if (type == kRdbTypeListQuicklist2) {
      Result<uint64_t> c = reader.ReadLength();
      if (!c.ok()) return c.status();
      container = *c;
      if (container != kQuicklistPlain && container != kQuicklistPacked) return BadFormat();
    }
    Result<std::string> data = reader.ReadString();
    if (!data.ok()) return data.status();
    if (container == kQuicklistPlain) {
      if (type == kRdbTypeListQuicklist2 && data->empty()) return BadFormat();
      out.elements.push_back(std::move(*data));
      continue;
    }
    LpReader lp;
    if (!lp.Open(*data)) return BadFormat();
    LpElement e;
    while (lp.Next(&e)) out.elements.push_back(e.Text());
    if (!lp.Done()) return BadFormat();
  }
  if (out.elements.empty()) return BadFormat();  // only empty listpacks
  return out;
}

// True if elements[first], elements[first + step], ... are all distinct.
bool Distinct(const std::vector<std::string>& elements, size_t step) {
  std::unordered_set<std::string_view> seen;
  seen.reserve(elements.size() / step);
  for (size_t i = 0; i < elements.size(); i += step) {
    if (!seen.insert(elements[i]).second) return false;
  }
  return true;
}

// Reads an RDB length counting elements of at least `min_bytes` bytes each; a count the
// remaining bytes cannot hold, or zero (Redis refuses empty keys), is malformed.
Result<uint64_t> ReadCount(RdbReader& reader, uint64_t min_bytes) {
  Result<uint64_t> count = reader.ReadLength();
  if (!count.ok()) return count.status();
  if (*count == 0 || *count > reader.remaining() / min_bytes) return BadFormat();
  return *count;
}

// Every element of a listpack held in an RDB string; false if malformed or empty.
bool ReadListpack(RdbReader& reader, std::vector<std::string>* out) {
  Result<std::string> data = reader.ReadString();
  if (!data.ok()) return false;
  LpReader lp;
  if (!lp.Open(*data)) return false;
  LpElement e;
  while (lp.Next(&e)) out->push_back(e.Text());
  return lp.Done() && !out->empty();
}

// RDB_TYPE_HASH: count, then field and value strings. RDB_TYPE_HASH_LISTPACK: one listpack of
// field, value, field, value...
Result<DumpedObject> DecodeHash(uint8_t type, RdbReader& reader) {
  DumpedObject out;
  out.rdb_type = type;
  if (type == kRdbTypeHashListpack) {
    if (!ReadListpack(reader, &out.elements) || out.elements.size() % 2 != 0) return BadFormat();
  } else {
    Result<uint64_t> count = ReadCount(reader, 2);
    if (!count.ok()) return count.status();
    for (uint64_t i = 0; i < 2 * *count; ++i) {
      Result<std::string> s = reader.ReadString();
      if (!s.ok()) return s.status();
      out.elements.push_back(std::move(*s));
    }
  }
  if (!Distinct(out.elements, 2)) return BadFormat();  // "Duplicate hash fields detected"
  return out;
}

// RDB_TYPE_SET_INTSET: one string holding encoding:u32 LE (2, 4 or 8 bytes per value),
// length:u32 LE, then the values little-endian in ascending order.
bool DecodeIntset(std::string_view is, std::vector<std::string>* out) {
  if (is.size() < 8) return false;
  const uint64_t width = LoadLittleEndian(is.substr(0, 4));
  const uint64_t len = LoadLittleEndian(is.substr(4, 4));
  if (width != 2 && width != 4 && width != 8) return false;
  if (len == 0 || (is.size() - 8) / width != len || (is.size() - 8) % width != 0) return false;
  int64_t prev = 0;
  for (uint64_t i = 0; i < len; ++i) {
    const uint64_t raw = LoadLittleEndian(is.substr(8 + i * width, width));
    int64_t v;
    if (width == 2) {
      v = static_cast<int16_t>(raw);
    } else if (width == 4) {
      v = static_cast<int32_t>(raw);
    } else {
      v = static_cast<int64_t>(raw);
    }
    if (i > 0 && v <= prev) return false;  // unsorted or duplicated
    prev = v;
    out->push_back(std::to_string(v));
  }
  return true;
}

// RDB_TYPE_SET: count, then member strings. RDB_TYPE_SET_INTSET: see DecodeIntset.
Result<DumpedObject> DecodeSet(uint8_t type, RdbReader& reader) {
  DumpedObject out;
  out.rdb_type = type;
  if (type == kRdbTypeSetIntset) {
    Result<std::string> is = reader.ReadString();
    if (!is.ok()) return is.status();
    if (!DecodeIntset(*is, &out.elements)) return BadFormat();
    return out;
  }
  Result<uint64_t> count = ReadCount(reader, 1);
  if (!count.ok()) return count.status();
  for (uint64_t i = 0; i < *count; ++i) {
    Result<std::string> s = reader.ReadString();
    if (!s.ok()) return s.status();
    out.elements.push_back(std::move(*s));
  }
  if (!Distinct(out.elements, 1)) return BadFormat();  // "Duplicate set members detected"
  return out;
}

// A score as RDB_TYPE_ZSET stores it: a length byte then that much text, or 253/254/255 for
// NaN/+inf/-inf.
Result<double> ReadTextScore(RdbReader& reader) {
  Result<uint8_t> len = reader.ReadByte();
  if (!len.ok()) return len.status();
  if (*len == 254) return std::numeric_limits<double>::infinity();
  if (*len == 255) return -std::numeric_limits<double>::infinity();
  if (*len == 253) return BadFormat();  // NaN
  Result<std::string_view> text = reader.ReadBytes(*len);
  if (!text.ok()) return text.status();
  double score;
  if (!ParseDouble(*text, &score)) return BadFormat();
  return score;
}

// RDB_TYPE_ZSET / RDB_TYPE_ZSET_2: count, then member string and score (text / binary double
// LE). RDB_TYPE_ZSET_LISTPACK: one listpack of member, score, member, score...
Result<DumpedObject> DecodeZset(uint8_t type, RdbReader& reader) {
  DumpedObject out;
  out.rdb_type = type;
  if (type == kRdbTypeZsetListpack) {
    std::vector<std::string> flat;
    if (!ReadListpack(reader, &flat) || flat.size() % 2 != 0) return BadFormat();
    for (size_t i = 0; i < flat.size(); i += 2) {
      double score;
      if (!ParseDouble(flat[i + 1], &score)) return BadFormat();
      out.elements.push_back(std::move(flat[i]));
      out.scores.push_back(score);
    }
  } else {
    Result<uint64_t> count = ReadCount(reader, 2);
    if (!count.ok()) return count.status();
    for (uint64_t i = 0; i < *count; ++i) {
      Result<std::string> member = reader.ReadString();
      if (!member.ok()) return member.status();
      double score;
      if (type == kRdbTypeZset2) {
        Result<std::string_view> raw = reader.ReadBytes(8);
        if (!raw.ok()) return raw.status();
        const uint64_t bits = LoadLittleEndian(*raw);
        std::memcpy(&score, &bits, sizeof(score));
        if (score != score) return BadFormat();  // "Zset with NAN score detected"
      } else {
        Result<double> text = ReadTextScore(reader);
        if (!text.ok()) return text.status();
        score = *text;
      }
      out.elements.push_back(std::move(*member));
      out.scores.push_back(score);
    }
  }
  if (!Distinct(out.elements, 1)) return BadFormat();  // "Duplicate zset fields detected"
  return out;
}

}  // namespace

Result<DumpedObject> DecodeDump(std::string_view payload) {
  Result<std::string_view> body = VerifyDumpPayload(payload);
  if (!body.ok()) return body.status();
  return DecodeDumpBody(*body);
}

Result<DumpedObject> DecodeDumpBody(std::string_view body) {
  RdbReader reader(body);
  Result<uint8_t> type = reader.ReadByte();
  if (!type.ok()) return type.status();
  if (!IsRdbObjectType(*type)) return BadFormat();
  if (IsDecodedRdbListType(*type)) return DecodeList(*type, reader);
  if (IsDecodedRdbHashType(*type)) return DecodeHash(*type, reader);
  if (IsDecodedRdbSetType(*type)) return DecodeSet(*type, reader);
  if (IsDecodedRdbZsetType(*type)) return DecodeZset(*type, reader);
  // TODO(keel): the ziplist/zipmap-based types and modules; Redis's "bad payload" reply.
  if (*type != kRdbTypeString) return Code::kBadDumpPayload;
  Result<std::string> value = reader.ReadString();
  if (!value.ok()) return value.status();
  return DumpedObject{*type, std::move(*value)};
}

}  // namespace keel
