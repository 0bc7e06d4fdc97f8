#include "datatypes/bitops.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>

#include "datatypes/number.h"

namespace keel {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

Result<int64_t> ParseIntegerArg(std::string_view arg) {
  int64_t v = 0;
  if (!ParseInt64(arg, &v)) return Code::kNotInteger;
  return v;
}

uint8_t ByteAt(std::string_view v, size_t i) { return static_cast<uint8_t>(v[i]); }

// Parses the optional BYTE|BIT unit of BITCOUNT / BITPOS; true for BIT.
Result<bool> ParseBitUnit(std::string_view arg) {
  if (EqualsIgnoreCase(arg, "bit")) return true;
  if (EqualsIgnoreCase(arg, "byte")) return false;
  return Code::kSyntax;
}

// Set bits in v's bit range [first, last]; requires first <= last < v.size() * 8.
int64_t CountBits(std::string_view v, uint64_t first, uint64_t last) {
  const size_t first_byte = first / 8;
  const size_t last_byte = last / 8;
  int64_t count = 0;
  size_t i = first_byte;
  for (; i + 8 <= last_byte + 1; i += 8) {
    uint64_t word;
    std::memcpy(&word, v.data() + i, sizeof(word));
    count += std::popcount(word);
  }
  for (; i <= last_byte; ++i) count += std::popcount(ByteAt(v, i));
  // Remove the bits of the edge bytes that lie outside the range.
  const unsigned head = first % 8;     // bits of first_byte before `first`
  const unsigned tail = 7 - last % 8;  // bits of last_byte after `last`
  if (head != 0) count -= std::popcount(static_cast<uint8_t>(ByteAt(v, first_byte) >> (8 - head)));
  if (tail != 0) {
    count -= std::popcount(static_cast<uint8_t>(ByteAt(v, last_byte) & ((1u << tail) - 1)));
  }
  return count;
}

// Position of the first bit equal to `bit` in v's bit range [first, last], or -1. Requires
// first <= last < v.size() * 8.
int64_t FindFirstBit(std::string_view v, uint64_t first, uint64_t last, int bit) {
  const size_t first_byte = first / 8;
  const size_t last_byte = last / 8;
  const uint8_t flip = bit ? 0x00 : 0xff;
  const uint64_t skip_word = bit ? 0 : ~uint64_t{0};
  size_t i = first_byte;
  while (i <= last_byte) {
    if (i != first_byte && i + 8 <= last_byte) {
      uint64_t word;
      std::memcpy(&word, v.data() + i, sizeof(word));
      if (word == skip_word) {
        i += 8;
        continue;
      }
    }
    // After the flip, a set bit in `x` is a bit equal to `bit`.
    uint8_t x = static_cast<uint8_t>(ByteAt(v, i) ^ flip);
    if (i == first_byte) x &= static_cast<uint8_t>(0xff >> (first % 8));
    if (i == last_byte) x &= static_cast<uint8_t>(0xff << (7 - last % 8));
    if (x != 0) return static_cast<int64_t>(i * 8 + std::countl_zero(x));
    ++i;
  }
  return -1;
}

// Applies Redis's start/end normalisation for BITCOUNT / BITPOS / GETRANGE: negative values
// count from `total`, then both are clamped to [0, total - 1]. start > end means empty.
void NormalizeRange(int64_t total, int64_t* start, int64_t* end) {
  if (*start < 0) *start += total;
  if (*end < 0) *end += total;
  if (*start < 0) *start = 0;
  if (*end < 0) *end = 0;
  if (*end >= total) *end = total - 1;
}

// ---- BITFIELD helpers ----

Result<std::pair<bool, int>> ParseBitfieldType(std::string_view arg) {
  if (arg.empty()) return Status(Code::kBitfieldType);
  bool is_signed;
  // Redis 7.0 accepts only lower-case prefixes.
  if (arg[0] == 'i') {
    is_signed = true;
  } else if (arg[0] == 'u') {
    is_signed = false;
  } else {
    return Status(Code::kBitfieldType);
  }
  int64_t bits = 0;
  if (!ParseInt64(arg.substr(1), &bits) || bits < 1 || bits > (is_signed ? 64 : 63)) {
    return Status(Code::kBitfieldType);
  }
  return std::make_pair(is_signed, static_cast<int>(bits));
}

// A BITFIELD offset: plain bits, or "#N" meaning N * bits.
Result<uint64_t> ParseBitfieldOffset(std::string_view arg, int bits, uint64_t max_bytes) {
  const bool by_width = !arg.empty() && arg[0] == '#';
  int64_t offset = 0;
  if (!ParseInt64(by_width ? arg.substr(1) : arg, &offset)) return Code::kBitOffset;
  if (by_width) {
    // Redis multiplies without an overflow check (undefined behaviour); we reject overflow.
    // Negative offsets are rejected below whatever their size.
    if (offset > std::numeric_limits<int64_t>::max() / bits) return Code::kBitOffset;
    offset = offset < 0 ? -1 : offset * bits;
  }
  if (offset < 0 || (static_cast<uint64_t>(offset) >> 3) >= max_bytes) return Code::kBitOffset;
  return static_cast<uint64_t>(offset);
}

// Reads `bits` bits at bit `offset`, most significant first; bits past the end read as 0.
uint64_t ReadField(std::string_view v, uint64_t offset, int bits) {
  uint64_t raw = 0;
  for (int i = 0; i < bits; ++i) {
    raw = (raw << 1) | static_cast<uint64_t>(GetBit(v, offset + static_cast<uint64_t>(i)));
  }
  return raw;
}

// Writes the low `bits` bits of `raw` at bit `offset`; *v must already be long enough.
void WriteField(std::string* v, uint64_t offset, int bits, uint64_t raw) {
  for (int i = 0; i < bits; ++i) {
    const int bit = static_cast<int>((raw >> (bits - 1 - i)) & 1);
    const uint64_t pos = offset + static_cast<uint64_t>(i);
    char& byte = (*v)[pos >> 3];
    const auto mask = static_cast<uint8_t>(0x80 >> (pos & 7));
    byte = static_cast<char>(bit ? (static_cast<uint8_t>(byte) | mask)
                                 : (static_cast<uint8_t>(byte) & ~mask));
  }
}

int64_t SignExtend(uint64_t raw, int bits) {
  if (bits < 64 && (raw >> (bits - 1)) & 1) raw |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(raw);
}

uint64_t LowBits(uint64_t raw, int bits) {
  return bits == 64 ? raw : raw & ((uint64_t{1} << bits) - 1);
}

// The outcome of a SET or INCRBY on a field: the raw bits to store and whether the result
// was out of the field's range.
struct FieldStore {
  uint64_t raw;
  bool overflow;
};

// Overflow direction of `value + incr` in a signed field of `bits` bits: +1, -1 or 0. This
// follows Redis 7.0's arithmetic exactly, including its wrapped intermediate: a SET of a value
// at or below max - 2^63 (e.g. INT64_MIN into an i8) counts as a *positive* overflow there,
// so OVERFLOW SAT stores the field's maximum.
int SignedOverflow(int64_t value, int64_t incr, int bits) {
  const int64_t max = bits == 64 ? std::numeric_limits<int64_t>::max()
                                 : static_cast<int64_t>((uint64_t{1} << (bits - 1)) - 1);
  const int64_t min = -max - 1;
  const auto wrapped_diff = [](int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
  };
  const int64_t max_incr = wrapped_diff(max, value);
  const int64_t min_incr = wrapped_diff(min, value);
  if (value > max || (bits != 64 && incr > max_incr) ||
      (value >= 0 && incr > 0 && incr > max_incr)) {
    return 1;
  }
  if (value < min || (bits != 64 && incr < min_incr) ||
      (value < 0 && incr < 0 && incr < min_incr)) {
    return -1;
  }
  return 0;
}

// The same for an unsigned field; `value` is the old field value (INCRBY) or the SET value
// reinterpreted as uint64, so "SET u8 0 -1" overflows upwards.
int UnsignedOverflow(uint64_t value, int64_t incr, int bits) {
  const uint64_t max = (uint64_t{1} << bits) - 1;  // bits <= 63
  const auto max_incr = static_cast<int64_t>(max - value);
  const auto min_incr = static_cast<int64_t>(uint64_t{0} - value);
  if (value > max || (incr > 0 && incr > max_incr)) return 1;
  if (incr < 0 && incr < min_incr) return -1;
  return 0;
}

FieldStore FitField(uint64_t value, int64_t incr, bool is_signed, int bits, BitfieldOverflow mode) {
  const int direction = is_signed ? SignedOverflow(static_cast<int64_t>(value), incr, bits)
                                  : UnsignedOverflow(value, incr, bits);
  // In range, or WRAP: the low bits of the two's complement sum. FAIL stores nothing, so the
  // raw value is unused then.
  const uint64_t sum = LowBits(value + static_cast<uint64_t>(incr), bits);
  if (direction == 0 || mode != BitfieldOverflow::kSat) return {sum, direction != 0};
  uint64_t limit;
  if (is_signed) {
    const uint64_t max = (bits == 64) ? static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                                      : (uint64_t{1} << (bits - 1)) - 1;
    limit = direction > 0 ? max : ~max;  // ~max is the minimum in two's complement
  } else {
    limit = direction > 0 ? (uint64_t{1} << bits) - 1 : 0;
  }
  return {LowBits(limit, bits), true};
}

int64_t FieldValue(uint64_t raw, bool is_signed, int bits) {
  return is_signed ? SignExtend(raw, bits) : static_cast<int64_t>(raw);
}

std::optional<int64_t> RunGet(const BitfieldOp& op, std::string_view v) {
  return FieldValue(ReadField(v, op.offset, op.bits), op.is_signed, op.bits);
}

std::optional<int64_t> RunWrite(const BitfieldOp& op, std::string* v) {
  const uint64_t old_raw = ReadField(*v, op.offset, op.bits);
  const int64_t old_value = FieldValue(old_raw, op.is_signed, op.bits);
  // INCRBY adds to the old value; SET stores its value as is (an increment of zero).
  const FieldStore store =
      op.kind == BitfieldOp::Kind::kIncrBy
          ? FitField(static_cast<uint64_t>(old_value), op.value, op.is_signed, op.bits, op.overflow)
          : FitField(static_cast<uint64_t>(op.value), 0, op.is_signed, op.bits, op.overflow);
  if (store.overflow && op.overflow == BitfieldOverflow::kFail) return std::nullopt;
  WriteField(v, op.offset, op.bits, store.raw);
  if (op.kind == BitfieldOp::Kind::kIncrBy) return FieldValue(store.raw, op.is_signed, op.bits);
  return old_value;
}

}  // namespace

// ---- GETBIT / SETBIT ----

Result<uint64_t> ParseBitOffset(std::string_view arg, uint64_t max_bytes) {
  int64_t offset = 0;
  if (!ParseInt64(arg, &offset) || offset < 0 ||
      (static_cast<uint64_t>(offset) >> 3) >= max_bytes) {
    return Code::kBitOffset;
  }
  return static_cast<uint64_t>(offset);
}

Result<int> ParseBitValue(std::string_view arg) {
  if (arg == "0") return 0;
  if (arg == "1") return 1;
  return Code::kBitValue;
}

int GetBit(std::string_view v, uint64_t offset) {
  const uint64_t byte = offset >> 3;
  if (byte >= v.size()) return 0;
  return (ByteAt(v, byte) >> (7 - (offset & 7))) & 1;
}

int SetBit(std::string* v, uint64_t offset, int bit) {
  const uint64_t byte = offset >> 3;
  if (byte >= v->size()) v->resize(byte + 1, '\0');
  const int old = GetBit(*v, offset);
  const auto mask = static_cast<uint8_t>(0x80 >> (offset & 7));
  const uint8_t current = ByteAt(*v, byte);
  (*v)[byte] = static_cast<char>(bit ? (current | mask) : (current & ~mask));
  return old;
}

// ---- BITCOUNT ----

Result<int64_t> BitCount(std::string_view v, std::span<const std::string_view> args,
                         bool key_exists) {
  if (!key_exists) return int64_t{0};
  const auto total_bytes = static_cast<int64_t>(v.size());
  if (args.empty()) {
    return v.empty() ? int64_t{0} : CountBits(v, 0, v.size() * 8 - 1);
  }
  if (args.size() != 2 && args.size() != 3) return Code::kSyntax;
  Result<int64_t> start = ParseIntegerArg(args[0]);
  if (!start.ok()) return start.status();
  Result<int64_t> end = ParseIntegerArg(args[1]);
  if (!end.ok()) return end.status();
  int64_t s = *start;
  int64_t e = *end;
  // Redis 7.0 answers this case before it even looks at the unit argument.
  if (s < 0 && e < 0 && s > e) return int64_t{0};
  bool is_bit = false;
  if (args.size() == 3) {
    Result<bool> unit = ParseBitUnit(args[2]);
    if (!unit.ok()) return unit.status();
    is_bit = *unit;
  }
  NormalizeRange(is_bit ? total_bytes * 8 : total_bytes, &s, &e);
  if (s > e) return int64_t{0};
  const auto first = static_cast<uint64_t>(s);
  const auto last = static_cast<uint64_t>(e);
  return is_bit ? CountBits(v, first, last) : CountBits(v, first * 8, last * 8 + 7);
}

// ---- BITPOS ----

Result<int64_t> BitPos(std::string_view v, bool key_exists,
                       std::span<const std::string_view> args) {
  if (args.empty()) return Code::kSyntax;
  Result<int64_t> bit_arg = ParseIntegerArg(args[0]);
  if (!bit_arg.ok()) return bit_arg.status();
  if (*bit_arg != 0 && *bit_arg != 1) return Status(Code::kBitArgument);
  const int bit = static_cast<int>(*bit_arg);
  if (!key_exists) return int64_t{bit ? -1 : 0};

  const auto total_bytes = static_cast<int64_t>(v.size());
  int64_t start = 0;
  int64_t end = total_bytes - 1;
  bool is_bit = false;
  bool end_given = false;
  if (args.size() >= 2 && args.size() <= 4) {
    Result<int64_t> start_arg = ParseIntegerArg(args[1]);
    if (!start_arg.ok()) return start_arg.status();
    start = *start_arg;
    if (args.size() == 4) {  // Redis checks the unit before parsing the end.
      Result<bool> unit = ParseBitUnit(args[3]);
      if (!unit.ok()) return unit.status();
      is_bit = *unit;
    }
    if (args.size() >= 3) {
      Result<int64_t> end_arg = ParseIntegerArg(args[2]);
      if (!end_arg.ok()) return end_arg.status();
      end = *end_arg;
      end_given = true;
    } else {
      end = is_bit ? total_bytes * 8 + 7 : total_bytes - 1;
    }
    NormalizeRange(is_bit ? total_bytes * 8 : total_bytes, &start, &end);
  } else if (args.size() != 1) {
    return Code::kSyntax;
  }
  if (start > end) return int64_t{-1};
  uint64_t first = static_cast<uint64_t>(start);
  uint64_t last = static_cast<uint64_t>(end);
  if (!is_bit) {
    first *= 8;
    last = last * 8 + 7;
  }
  const int64_t pos = FindFirstBit(v, first, last, bit);
  if (pos >= 0 || bit == 1 || end_given) return pos;
  // No clear bit and no explicit end: the string is treated as zero-padded on the right.
  return static_cast<int64_t>(last + 1);
}

// ---- BITOP ----

Result<BitOpKind> ParseBitOp(std::string_view op, size_t num_source_keys) {
  BitOpKind kind;
  if (EqualsIgnoreCase(op, "and")) {
    kind = BitOpKind::kAnd;
  } else if (EqualsIgnoreCase(op, "or")) {
    kind = BitOpKind::kOr;
  } else if (EqualsIgnoreCase(op, "xor")) {
    kind = BitOpKind::kXor;
  } else if (EqualsIgnoreCase(op, "not")) {
    kind = BitOpKind::kNot;
  } else {
    return Code::kSyntax;
  }
  if (kind == BitOpKind::kNot && num_source_keys != 1) {
    return Status(Code::kBitopNotArity);
  }
  return kind;
}

std::string BitOp(BitOpKind op, const std::vector<std::string_view>& srcs) {
  size_t max_len = 0;
  for (std::string_view s : srcs) max_len = std::max(max_len, s.size());
  if (max_len == 0) return std::string();
  std::string out(max_len, '\0');
  if (!srcs[0].empty()) std::memcpy(out.data(), srcs[0].data(), srcs[0].size());
  if (op == BitOpKind::kNot) {
    for (char& c : out) c = static_cast<char>(~static_cast<uint8_t>(c));
    return out;
  }
  for (size_t k = 1; k < srcs.size(); ++k) {
    const std::string_view s = srcs[k];
    switch (op) {
      case BitOpKind::kAnd:
        for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<char>(out[i] & s[i]);
        std::fill(out.begin() + static_cast<std::ptrdiff_t>(s.size()), out.end(), '\0');
        break;
      case BitOpKind::kOr:
        for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<char>(out[i] | s[i]);
        break;
      case BitOpKind::kXor:
        for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<char>(out[i] ^ s[i]);
        break;
      case BitOpKind::kNot:
        break;
    }
  }
  return out;
}

// ---- BITFIELD ----

Result<BitfieldCommand> ParseBitfield(std::span<const std::string_view> args, bool readonly,
                                      uint64_t max_bytes) {
  BitfieldCommand cmd;
  BitfieldOverflow overflow = BitfieldOverflow::kWrap;
  uint64_t highest_write_bit = 0;
  for (size_t j = 0; j < args.size(); ++j) {
    const std::string_view sub = args[j];
    const size_t remaining = args.size() - j - 1;
    BitfieldOp op;
    if (EqualsIgnoreCase(sub, "get") && remaining >= 2) {
      op.kind = BitfieldOp::Kind::kGet;
    } else if (EqualsIgnoreCase(sub, "set") && remaining >= 3) {
      op.kind = BitfieldOp::Kind::kSet;
    } else if (EqualsIgnoreCase(sub, "incrby") && remaining >= 3) {
      op.kind = BitfieldOp::Kind::kIncrBy;
    } else if (EqualsIgnoreCase(sub, "overflow") && remaining >= 1) {
      const std::string_view mode = args[++j];
      if (EqualsIgnoreCase(mode, "wrap")) {
        overflow = BitfieldOverflow::kWrap;
      } else if (EqualsIgnoreCase(mode, "sat")) {
        overflow = BitfieldOverflow::kSat;
      } else if (EqualsIgnoreCase(mode, "fail")) {
        overflow = BitfieldOverflow::kFail;
      } else {
        return Status(Code::kBitfieldOverflowType);
      }
      continue;
    } else {
      return Code::kSyntax;
    }

    Result<std::pair<bool, int>> type = ParseBitfieldType(args[j + 1]);
    if (!type.ok()) return type.status();
    op.is_signed = type->first;
    op.bits = static_cast<uint8_t>(type->second);
    Result<uint64_t> offset = ParseBitfieldOffset(args[j + 2], op.bits, max_bytes);
    if (!offset.ok()) return offset.status();
    op.offset = *offset;
    if (op.kind != BitfieldOp::Kind::kGet) {
      cmd.has_writes = true;
      highest_write_bit = std::max(highest_write_bit, op.offset + op.bits - 1);
      Result<int64_t> value = ParseIntegerArg(args[j + 3]);
      if (!value.ok()) return value.status();
      op.value = *value;
    }
    op.overflow = overflow;
    cmd.ops.push_back(op);
    j += op.kind == BitfieldOp::Kind::kGet ? 2 : 3;
  }
  if (cmd.has_writes) {
    if (readonly) return Status(Code::kBitfieldReadOnly);
    cmd.required_bytes = (highest_write_bit >> 3) + 1;
  }
  return cmd;
}

BitfieldResult ExecuteBitfield(const BitfieldCommand& cmd, std::string* value) {
  BitfieldResult result;
  result.replies.reserve(cmd.ops.size());
  if (cmd.has_writes) {
    // Like Redis, grow to cover every write before running any op, even ones that will fail.
    if (value->size() < cmd.required_bytes) value->resize(cmd.required_bytes, '\0');
    result.modified = true;
  }
  for (const BitfieldOp& op : cmd.ops) {
    result.replies.push_back(op.kind == BitfieldOp::Kind::kGet ? RunGet(op, *value)
                                                               : RunWrite(op, value));
  }
  return result;
}

std::vector<std::optional<int64_t>> ExecuteBitfieldReadOnly(const BitfieldCommand& cmd,
                                                            std::string_view value) {
  std::vector<std::optional<int64_t>> replies;
  replies.reserve(cmd.ops.size());
  for (const BitfieldOp& op : cmd.ops) {
    replies.push_back(op.kind == BitfieldOp::Kind::kGet ? RunGet(op, value) : std::nullopt);
  }
  return replies;
}

// ---- GETRANGE / SETRANGE ----

std::string_view GetRange(std::string_view v, int64_t start, int64_t end) {
  if (start < 0 && end < 0 && start > end) return {};
  NormalizeRange(static_cast<int64_t>(v.size()), &start, &end);
  if (start > end || v.empty()) return {};
  return v.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1));
}

Result<std::string_view> GetRange(std::string_view v, std::span<const std::string_view> args) {
  if (args.size() != 2) return Code::kSyntax;
  Result<int64_t> start = ParseIntegerArg(args[0]);
  if (!start.ok()) return start.status();
  Result<int64_t> end = ParseIntegerArg(args[1]);
  if (!end.ok()) return end.status();
  return GetRange(v, *start, *end);
}

Result<uint64_t> ParseSetRangeOffset(std::string_view arg) {
  Result<int64_t> offset = ParseIntegerArg(arg);
  if (!offset.ok()) return offset.status();
  if (*offset < 0) return Status(Code::kOffsetOutOfRange);
  return static_cast<uint64_t>(*offset);
}

Result<uint64_t> SetRange(std::string* v, uint64_t offset, std::string_view value,
                          uint64_t max_bytes) {
  if (value.empty()) return static_cast<uint64_t>(v->size());
  if (offset > max_bytes || value.size() > max_bytes - offset) return Code::kStringTooLong;
  const uint64_t needed = offset + value.size();
  if (v->size() < needed) v->resize(needed, '\0');
  std::memcpy(v->data() + offset, value.data(), value.size());
  return static_cast<uint64_t>(v->size());
}

}  // namespace keel
