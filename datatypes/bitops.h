// Semantics of Redis 7.0's string bit and range commands: GETBIT, SETBIT, BITCOUNT, BITPOS,
// BITOP, BITFIELD, BITFIELD_RO, GETRANGE and SETRANGE, including their argument parsing and
// exact error replies, over plain std::string values.
//
// Pure functions: they never touch storage. The caller looks the key up (a missing key is an
// empty string unless a function says otherwise), passes the command's arguments after the
// key as `args`, and writes the value back if it changed. Values and results are owned by the
// caller; string_view results point into the caller's `v`. No state; safe from any thread.
//
// Bit numbering follows Redis: bit 0 is the most significant bit of byte 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"

namespace keel {

// Redis's default proto-max-bulk-len (512 MB): the longest string a command may create.
inline constexpr uint64_t kDefaultProtoMaxBulkLen = 512ULL * 1024 * 1024;

// ---- GETBIT / SETBIT ----

// Parses a GETBIT/SETBIT offset: a strict non-negative int64 whose byte (offset / 8) is below
// `max_bytes`. Errors: kBitOffset.
Result<uint64_t> ParseBitOffset(std::string_view arg, uint64_t max_bytes = kDefaultProtoMaxBulkLen);

// Parses the SETBIT value: exactly "0" or "1". Errors: kBitValue.
Result<int> ParseBitValue(std::string_view arg);

// The bit at `offset` (0 or 1); bits past the end of `v` are 0.
int GetBit(std::string_view v, uint64_t offset);

// Sets the bit at `offset` to `bit` (any non-zero value means 1), growing *v with zero bytes
// as needed, and returns the previous bit. The caller must have bounded `offset` (see
// ParseBitOffset).
int SetBit(std::string* v, uint64_t offset, int bit);

// ---- BITCOUNT key [start end [BYTE|BIT]] ----

// The number of set bits in `v`, or in the range given by `args` (after the key). Negative
// indexes count from the end; the range is clamped to the string. Errors: kSyntax for any
// argument count other than 0, 2 or 3 or an unknown unit, kNotInteger for a bad index.
// Quirks kept from Redis 7.0: a missing key (key_exists = false) is 0 before any argument is
// looked at, and a range with both ends negative and start > end is 0 before the unit is
// checked.
Result<int64_t> BitCount(std::string_view v, std::span<const std::string_view> args,
                         bool key_exists = true);

// ---- BITPOS key bit [start [end [BYTE|BIT]]] ----

// The position of the first bit equal to `bit` (args[0]) in `v` or in the given range, or -1.
// A missing key (key_exists = false) is an infinite run of zeros: 0 for bit 0, -1 for bit 1,
// whatever the other arguments are. Looking for a 0 in an all-ones range finds the first bit
// past the range when no end was given, and -1 when an end was given. Errors: kNotInteger,
// kBitArgument (a bit other than 0 or 1), kSyntax.
Result<int64_t> BitPos(std::string_view v, bool key_exists, std::span<const std::string_view> args);

// ---- BITOP AND|OR|XOR|NOT destkey key [key ...] ----

enum class BitOpKind : uint8_t { kAnd, kOr, kXor, kNot };

// Parses the operation name (case-insensitive) given the number of source keys. Errors:
// kSyntax for an unknown operation, kBitopNotArity for NOT with other than one key.
Result<BitOpKind> ParseBitOp(std::string_view op, size_t num_source_keys);

// Combines the sources (missing keys passed as empty strings). The result is as long as the
// longest source, shorter sources reading as zero bytes; an empty result means Redis deletes
// the destination key.
std::string BitOp(BitOpKind op, const std::vector<std::string_view>& srcs);

// ---- BITFIELD / BITFIELD_RO ----

enum class BitfieldOverflow : uint8_t { kWrap, kSat, kFail };

struct BitfieldOp {
  enum class Kind : uint8_t { kGet, kSet, kIncrBy };
  Kind kind = Kind::kGet;
  bool is_signed = false;  // type "i<bits>" or "u<bits>", lower case only as in Redis 7.0
  uint8_t bits = 0;        // 1..64 signed, 1..63 unsigned
  uint64_t offset = 0;     // in bits; "#N" offsets are already multiplied by `bits`
  int64_t value = 0;       // SET value or INCRBY increment
  BitfieldOverflow overflow = BitfieldOverflow::kWrap;  // the OVERFLOW mode in force
};

struct BitfieldCommand {
  std::vector<BitfieldOp> ops;
  bool has_writes = false;      // any SET or INCRBY: the server must take the write path
  uint64_t required_bytes = 0;  // a write grows the value to at least this many bytes
};

// Parses the BITFIELD subcommands (args after the key). With `readonly` (BITFIELD_RO), a SET
// or INCRBY is rejected after the whole command has parsed. Errors, first bad argument wins:
// kSyntax; kBitfieldOverflowType; kBitfieldType; kBitOffset; kNotInteger (SET/INCRBY value);
// kBitfieldReadOnly (a SET or INCRBY in BITFIELD_RO).
Result<BitfieldCommand> ParseBitfield(std::span<const std::string_view> args, bool readonly,
                                      uint64_t max_bytes = kDefaultProtoMaxBulkLen);

struct BitfieldResult {
  // One entry per op, in order; nullopt is an OVERFLOW FAIL (a nil reply).
  std::vector<std::optional<int64_t>> replies;
  // True if the command wrote: as in Redis, a command with any SET/INCRBY grows (or creates)
  // the key even when every write failed on OVERFLOW FAIL, so it must be stored back.
  bool modified = false;
};

// Runs the ops in order on *value (empty for a missing key). Overflow handling reproduces
// Redis 7.0 bit for bit, including its quirks: an unsigned SET reads its value as uint64 (so
// "SET u8 0 -1" overflows upwards), and a signed SET of a value at or below max - 2^63
// (e.g. INT64_MIN into an i8) saturates to the maximum under OVERFLOW SAT.
BitfieldResult ExecuteBitfield(const BitfieldCommand& cmd, std::string* value);

// Runs a command without writes (has_writes == false) against a read-only value; any SET or
// INCRBY op is skipped and reported as nullopt.
std::vector<std::optional<int64_t>> ExecuteBitfieldReadOnly(const BitfieldCommand& cmd,
                                                            std::string_view value);

// ---- GETRANGE key start end ----

// The substring from `start` to `end` inclusive; negative indexes count from the end and the
// range is clamped. Empty when the range is empty.
std::string_view GetRange(std::string_view v, int64_t start, int64_t end);

// GETRANGE with its two arguments. Errors: kNotInteger; kSyntax unless exactly 2 arguments.
Result<std::string_view> GetRange(std::string_view v, std::span<const std::string_view> args);

// ---- SETRANGE key offset value ----

// Parses the SETRANGE offset. Errors: kNotInteger; kOffsetOutOfRange for a negative offset.
Result<uint64_t> ParseSetRangeOffset(std::string_view arg);

// Overwrites *v at `offset` with `value`, zero-padding as needed, and returns the new length.
// An empty `value` changes nothing and returns the current length: the caller must not create
// a missing key then. Errors: kStringTooLong if offset + value.size() > max_bytes (checked
// only for a non-empty value, like Redis).
Result<uint64_t> SetRange(std::string* v, uint64_t offset, std::string_view value,
                          uint64_t max_bytes = kDefaultProtoMaxBulkLen);

}  // namespace keel
