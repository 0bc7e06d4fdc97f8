// Redis's listpack encoding (listpack.c), as it appears inside DUMP payloads: stream nodes
// (datatypes/stream_rdb.h) and quicklist nodes of lists (RDB_TYPE_LIST_QUICKLIST_2).
//
//   listpack = total_bytes:u32 LE | element_count:u16 LE (65535 = unknown) | element* | 0xFF
//   element  = encoding + data | back-length (the size of encoding + data, 1 to 5 bytes)
//
// Encodings: 0xxxxxxx 7-bit unsigned; 10xxxxxx 6-bit string length; 110xxxxx 13-bit signed;
// 1110xxxx 12-bit string length; 0xF0 32-bit string length; 0xF1/0xF2/0xF3/0xF4 16/24/32/64-bit
// signed integers (little-endian). Strings that are the canonical text of an integer are
// stored as integers, as lpAppend does.
//
// Value types over caller-owned or self-owned bytes; no shared state; not synchronised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel {

inline constexpr size_t kLpHeaderSize = 6;
inline constexpr uint64_t kLpCountUnknown = 65535;

// Builds a listpack element by element.
class LpWriter {
 public:
  LpWriter();
  void Int(int64_t v);
  // An integer in `size` encoding bytes (1, 2, 3, 4, 5 or 9) where the smallest would do: any
  // reader decodes it the same (stream DUMP pads tombstones with it). `v` must fit.
  void IntAs(int64_t v, int size);
  // A string element, stored as an integer when it is one's canonical text.
  void Str(std::string_view s);
  // The size of the listpack if it were finished now.
  size_t size() const { return buf_.size() + 1; }
  // Appends the terminator and fills in the header.
  std::string Finish();

 private:
  void Element(const std::string& encoded);
  std::string buf_;
  uint64_t count_ = 0;
};

// The bytes one element takes (encoding, data and back-length).
uint64_t LpStrSize(std::string_view s);
uint64_t LpIntSize(int64_t v);

struct LpElement {
  bool is_int = false;
  int64_t value = 0;     // is_int
  std::string_view str;  // !is_int: points into the listpack
  std::string Text() const { return is_int ? std::to_string(value) : std::string(str); }
};

// Walks a listpack, checking the header, every element's encoding and back-length, and the
// element count (like lpValidateIntegrity with deep checks). Never reads out of bounds.
class LpReader {
 public:
  // Checks the header (total size, terminator). False if malformed.
  bool Open(std::string_view lp);
  bool AtEnd() const { return pos_ + 1 == lp_.size(); }
  // The next element; false at the end or if it is malformed.
  bool Next(LpElement* e);
  // The next element as an integer (a string holding one's text counts too).
  bool NextInt(int64_t* v);
  // At the end, every element well formed, as many as the header declares (unless unknown).
  bool Done() const;

 private:
  bool Decode(LpElement* e);
  std::string_view lp_;
  size_t pos_ = 0;
  uint64_t declared_ = 0, seen_ = 0;
  bool ok_ = true;
};

}  // namespace keel
