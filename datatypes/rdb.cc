#include "datatypes/rdb.h"

#include "datatypes/listpack.h"

#include <array>
#include <cstring>
#include <limits>
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
  // TODO(keel): sets, hashes and zsets; until then Redis's "bad payload" reply.
  if (*type != kRdbTypeString) return Code::kBadDumpPayload;
  Result<std::string> value = reader.ReadString();
  if (!value.ok()) return value.status();
  return DumpedObject{*type, std::move(*value)};
}

}  // namespace keel
