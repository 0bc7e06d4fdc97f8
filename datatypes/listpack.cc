#include "datatypes/listpack.h"

#include "datatypes/number.h"

namespace keel {
namespace {

constexpr uint8_t kLpEof = 0xff;

// listpack's back-length: the size of an element's encoding, written after it so that the
// list can be walked backwards.
std::string EncodeBacklen(uint64_t l) {
  std::string b;
  if (l <= 127) {
    b.push_back(static_cast<char>(l));
  } else if (l < 16383) {
    b.push_back(static_cast<char>(l >> 7));
    b.push_back(static_cast<char>((l & 127) | 128));
  } else if (l < 2097151) {
    b.push_back(static_cast<char>(l >> 14));
    b.push_back(static_cast<char>(((l >> 7) & 127) | 128));
    b.push_back(static_cast<char>((l & 127) | 128));
  } else if (l < 268435455) {
    b.push_back(static_cast<char>(l >> 21));
    b.push_back(static_cast<char>(((l >> 14) & 127) | 128));
    b.push_back(static_cast<char>(((l >> 7) & 127) | 128));
    b.push_back(static_cast<char>((l & 127) | 128));
  } else {
    b.push_back(static_cast<char>(l >> 28));
    b.push_back(static_cast<char>(((l >> 21) & 127) | 128));
    b.push_back(static_cast<char>(((l >> 14) & 127) | 128));
    b.push_back(static_cast<char>(((l >> 7) & 127) | 128));
    b.push_back(static_cast<char>((l & 127) | 128));
  }
  return b;
}

void PutLE(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetLE(std::string_view s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<uint8_t>(s[at + i])} << (8 * i);
  return v;
}

// The encoding of an integer element (without its back-length) in `size` bytes: 1 (7-bit
// unsigned), 2 (13-bit), 3 (16-bit), 4 (24-bit), 5 (32-bit) or 9 (64-bit); `v` must fit.
std::string EncodeLpIntAs(int64_t v, int size) {
  std::string e;
  const auto u = static_cast<uint64_t>(v);
  switch (size) {
    case 1:
      e.push_back(static_cast<char>(v));
      break;
    case 2: {
      uint64_t t = u & ((uint64_t{1} << 13) - 1);  // 13-bit two's complement
      e.push_back(static_cast<char>((t >> 8) | 0xc0));
      e.push_back(static_cast<char>(t & 0xff));
      break;
    }
    case 3:
      e.push_back(static_cast<char>(0xf1));
      PutLE(&e, u, 2);
      break;
    case 4:
      e.push_back(static_cast<char>(0xf2));
      PutLE(&e, u, 3);
      break;
    case 5:
      e.push_back(static_cast<char>(0xf3));
      PutLE(&e, u, 4);
      break;
    default:
      e.push_back(static_cast<char>(0xf4));
      PutLE(&e, u, 8);
      break;
  }
  return e;
}

// The smallest encoding, as lpEncodeIntegerGetType chooses it.
std::string EncodeLpInt(int64_t v) {
  int size = 9;
  if (v >= 0 && v <= 127) {
    size = 1;
  } else if (v >= -4096 && v <= 4095) {
    size = 2;
  } else if (v >= -32768 && v <= 32767) {
    size = 3;
  } else if (v >= -8388608 && v <= 8388607) {
    size = 4;
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    size = 5;
  }
  return EncodeLpIntAs(v, size);
}

}  // namespace

LpWriter::LpWriter() : buf_(kLpHeaderSize, '\0') {}

void LpWriter::Int(int64_t v) { Element(EncodeLpInt(v)); }

void LpWriter::IntAs(int64_t v, int size) { Element(EncodeLpIntAs(v, size)); }

void LpWriter::Str(std::string_view s) {
  int64_t v;
  if (ParseInt64(s, &v)) return Int(v);
  std::string e;
  if (s.size() < 64) {
    e.push_back(static_cast<char>(0x80 | s.size()));
  } else if (s.size() < 4096) {
    e.push_back(static_cast<char>(0xe0 | (s.size() >> 8)));
    e.push_back(static_cast<char>(s.size() & 0xff));
  } else {
    e.push_back(static_cast<char>(0xf0));
    PutLE(&e, s.size(), 4);
  }
  e.append(s);
  Element(e);
}

std::string LpWriter::Finish() {
  buf_.push_back(static_cast<char>(kLpEof));
  std::string head;
  PutLE(&head, buf_.size(), 4);
  PutLE(&head, count_ < kLpCountUnknown ? count_ : kLpCountUnknown, 2);
  buf_.replace(0, kLpHeaderSize, head);
  return std::move(buf_);
}

void LpWriter::Element(const std::string& encoded) {
  buf_.append(encoded);
  buf_.append(EncodeBacklen(encoded.size()));
  ++count_;
}

uint64_t LpStrSize(std::string_view s) {
  LpWriter w;
  w.Str(s);
  return w.size() - kLpHeaderSize - 1;
}

uint64_t LpIntSize(int64_t v) {
  LpWriter w;
  w.Int(v);
  return w.size() - kLpHeaderSize - 1;
}

bool LpReader::Open(std::string_view lp) {
  lp_ = lp;
  if (lp.size() < kLpHeaderSize + 1 || GetLE(lp, 0, 4) != lp.size() ||
      static_cast<uint8_t>(lp.back()) != kLpEof) {
    return false;
  }
  declared_ = GetLE(lp, 4, 2);
  pos_ = kLpHeaderSize;
  return true;
}

bool LpReader::Next(LpElement* e) {
  if (!ok_ || AtEnd()) return false;
  ok_ = Decode(e);
  if (ok_) ++seen_;
  return ok_;
}

bool LpReader::NextInt(int64_t* v) {
  LpElement e;
  if (!Next(&e)) return false;
  if (e.is_int) {
    *v = e.value;
    return true;
  }
  if (!ParseInt64(e.str, v)) return ok_ = false;
  return true;
}

bool LpReader::Done() const {
  return ok_ && AtEnd() && (declared_ == kLpCountUnknown || declared_ == seen_);
}

bool LpReader::Decode(LpElement* e) {
  const size_t avail = lp_.size() - 1 - pos_;  // bytes before the terminator
  const auto b = static_cast<uint8_t>(lp_[pos_]);
  size_t enc = 0;
  uint64_t uval = 0, negstart = UINT64_MAX, negmax = 0;
  e->is_int = true;
  if ((b & 0x80) == 0) {
    enc = 1;
    uval = b & 0x7f;
  } else if ((b & 0xc0) == 0x80) {
    e->is_int = false;
    size_t len = b & 0x3f;
    enc = 1 + len;
    if (enc > avail) return false;
    e->str = lp_.substr(pos_ + 1, len);
  } else if ((b & 0xe0) == 0xc0) {
    enc = 2;
    if (enc > avail) return false;
    uval = (uint64_t{b & 0x1fu} << 8) | static_cast<uint8_t>(lp_[pos_ + 1]);
    negstart = uint64_t{1} << 12;
    negmax = 8191;
  } else if ((b & 0xf0) == 0xe0) {
    e->is_int = false;
    if (avail < 2) return false;
    size_t len = (size_t{b & 0x0fu} << 8) | static_cast<uint8_t>(lp_[pos_ + 1]);
    enc = 2 + len;
    if (enc > avail) return false;
    e->str = lp_.substr(pos_ + 2, len);
  } else if (b == 0xf0) {
    e->is_int = false;
    if (avail < 5) return false;
    uint64_t len = GetLE(lp_, pos_ + 1, 4);
    if (len > avail - 5) return false;
    enc = 5 + len;
    e->str = lp_.substr(pos_ + 5, len);
  } else {
    // 0xf1..0xf4: 16, 24, 32 and 64-bit integers; 0xf5..0xfe are not encodings.
    if (b < 0xf1 || b > 0xf4) return false;
    static constexpr int kWidths[] = {2, 3, 4, 8};
    const int width = kWidths[b - 0xf1];
    if (width < 8) {
      negstart = uint64_t{1} << (8 * width - 1);
      negmax = (uint64_t{1} << (8 * width)) - 1;
    }
    enc = 1 + width;
    if (enc > avail) return false;
    uval = GetLE(lp_, pos_ + 1, width);
  }
  if (e->is_int) {
    if (negstart != UINT64_MAX && uval >= negstart) {
      e->value = -static_cast<int64_t>(negmax - uval) - 1;
    } else {
      e->value = static_cast<int64_t>(uval);
    }
  }
  std::string back = EncodeBacklen(enc);
  if (back.size() > avail - enc || lp_.substr(pos_ + enc, back.size()) != back) return false;
  pos_ += enc + back.size();
  return true;
}

}  // namespace keel
