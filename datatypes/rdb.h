// DUMP / RESTORE payloads in the format of Redis 7.0 (RDB version 10):
//
//   payload = <object type byte> <object> <RDB version: 2 bytes LE> <CRC64: 8 bytes LE>
//
// where the CRC is Redis's CRC-64 (Jones polynomial, reflected, initial value 0) over every
// byte before it. DecodeDump decodes strings, lists, hashes, sets and sorted sets; streams
// have their own codec on these building blocks (datatypes/stream_rdb.h).
//
// Pure functions and a cursor over caller-owned bytes; no state shared between calls, safe
// from any thread (an RdbReader itself is not synchronised). Decoding never trusts the input:
// every length is checked against the bytes present before anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"

namespace keel {

// The RDB version Redis 7.0 writes; RESTORE rejects payloads from newer versions.
inline constexpr uint16_t kRdbVersion = 10;

// RDB object type bytes (the first byte of a DUMP payload).
inline constexpr uint8_t kRdbTypeString = 0;
inline constexpr uint8_t kRdbTypeList = 1;
inline constexpr uint8_t kRdbTypeSet = 2;
inline constexpr uint8_t kRdbTypeZset = 3;
inline constexpr uint8_t kRdbTypeHash = 4;
inline constexpr uint8_t kRdbTypeZset2 = 5;
inline constexpr uint8_t kRdbTypeModule = 6;
inline constexpr uint8_t kRdbTypeModule2 = 7;
inline constexpr uint8_t kRdbTypeHashZipmap = 9;
inline constexpr uint8_t kRdbTypeListZiplist = 10;
inline constexpr uint8_t kRdbTypeSetIntset = 11;
inline constexpr uint8_t kRdbTypeZsetZiplist = 12;
inline constexpr uint8_t kRdbTypeHashZiplist = 13;
inline constexpr uint8_t kRdbTypeListQuicklist = 14;
inline constexpr uint8_t kRdbTypeStreamListpacks = 15;
inline constexpr uint8_t kRdbTypeHashListpack = 16;
inline constexpr uint8_t kRdbTypeZsetListpack = 17;
inline constexpr uint8_t kRdbTypeListQuicklist2 = 18;
inline constexpr uint8_t kRdbTypeStreamListpacks2 = 19;

// True for every object type byte RDB version 10 defines (0-7 and 9-19).
bool IsRdbObjectType(uint8_t type);

// CRC-64/Jones as in Redis crc64.c: Crc64(0, "123456789") == 0xe9c6d914c4b8d9ca. Pass the
// previous result as `crc` to checksum data in pieces.
uint64_t Crc64(uint64_t crc, std::string_view data);

// ---- Encoding ----

// Appends an RDB length: 6-bit (1 byte), 14-bit (2 bytes), 32-bit (0x80 + 4 bytes BE) or
// 64-bit (0x81 + 8 bytes BE), whichever is the shortest that fits.
void AppendRdbLength(std::string* out, uint64_t len);

// Appends an RDB string: the INT8/16/32 encoding when `s` is the canonical decimal form of an
// integer that fits in 32 bits (as Redis does for strings up to 11 bytes), else length + bytes.
// Never compresses.
void AppendRdbString(std::string* out, std::string_view s);

// Turns `body` (type byte + object) into a DUMP payload by appending the version and CRC.
std::string FinishDumpPayload(std::string body);

// The DUMP payload of a string value, restorable by Redis 7.0 and by DecodeDump.
std::string EncodeStringDump(std::string_view value);

// ---- Decoding ----

// Checks a payload's footer like Redis's verifyDumpPayload: at least 10 bytes, RDB version at
// most kRdbVersion, matching CRC64. Returns the body (type byte + object). Errors:
// kBadDumpPayload.
Result<std::string_view> VerifyDumpPayload(std::string_view payload);

// Decompresses LZF data (the RDB_ENC_LZF format) that must expand to exactly `out_len` bytes
// and use every input byte. Fails with kBadDataFormat on any malformed,
// truncated or overlong input; never reads or writes out of bounds.
Result<std::string> LzfDecompress(std::string_view in, size_t out_len);

// A bounds-checked cursor over an RDB object body. Every failure is kBadDataFormat
// and leaves the cursor in an unspecified position.
class RdbReader {
 public:
  explicit RdbReader(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool AtEnd() const { return pos_ == data_.size(); }

  Result<uint8_t> ReadByte();
  // `n` raw bytes.
  Result<std::string_view> ReadBytes(size_t n);
  // A plain RDB length; special (11xxxxxx) encodings are an error here.
  Result<uint64_t> ReadLength();
  // An RDB string in any encoding: raw, INT8/16/32 (decoded to decimal text) or LZF.
  Result<std::string> ReadString();

 private:
  struct LengthOrEncoding {
    uint64_t value;
    bool is_encoding;  // value is an RDB_ENC_* special encoding, not a length
  };
  Result<LengthOrEncoding> ReadLengthOrEncoding();

  std::string_view data_;
  size_t pos_ = 0;
};

struct DumpedObject {
  uint8_t rdb_type = 0;
  std::string value;  // kRdbTypeString: the string's bytes
  // Never empty. Lists: the elements, head to tail. Hashes: field, value, field, value... in
  // the payload's order (distinct fields). Sets: the members (distinct). Sorted sets: the
  // members (distinct), each scored by scores[i].
  std::vector<std::string> elements;
  std::vector<double> scores;  // sorted sets only; never NaN
};

// True for the list object types DecodeDump decodes: kRdbTypeList (what Keel's DUMP writes)
// and kRdbTypeListQuicklist2 (what Redis 7.0's DUMP writes). The ziplist-based ones (10, 14)
// are still kBadDumpPayload.
bool IsDecodedRdbListType(uint8_t type);

// The hash types DecodeDump decodes: kRdbTypeHash (Keel's DUMP, and Redis's for a hashtable
// hash) and kRdbTypeHashListpack.
bool IsDecodedRdbHashType(uint8_t type);
// The set types: kRdbTypeSet and kRdbTypeSetIntset.
bool IsDecodedRdbSetType(uint8_t type);
// The sorted set types: kRdbTypeZset (scores as text), kRdbTypeZset2 (binary doubles) and
// kRdbTypeZsetListpack.
bool IsDecodedRdbZsetType(uint8_t type);

// Decodes a DUMP payload of a string, a list, a hash, a set or a sorted set (streams:
// datatypes/stream_rdb.h). Errors: kBadDumpPayload for a short payload, a newer RDB version
// or a wrong checksum, and (for now) for the ziplist/zipmap-based types (9, 10, 12, 13, 14)
// and modules; kBadDataFormat when the object is malformed (an empty collection, a duplicate
// field or member and a NaN score included, which Redis 7.0 mostly refuses too) or the type
// byte is not an RDB type.
// Bytes after the object are ignored, as Redis does.
Result<DumpedObject> DecodeDump(std::string_view payload);
// The same for a payload already checked by VerifyDumpPayload (`body` = type byte + object).
Result<DumpedObject> DecodeDumpBody(std::string_view body);

}  // namespace keel
