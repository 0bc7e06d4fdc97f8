// Status and Result<T>: errors as values for every Keel operation below the RESP layer.
//
// A Status is a code from the closed enum Code plus, for the few codes that need it, a
// detail string. The exact Redis error text for each code is produced in one place,
// server/commands/errors.cc; code below the server never formats Redis error replies itself.
// Value types; no shared state; safe to copy between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace keel {

enum class Code : uint8_t {
  kOk = 0,
  kNotFound,         // internal: the key or element does not exist (mostly not an error reply)
  kWrongType,        // WRONGTYPE Operation against a key holding the wrong kind of value
  kNotInteger,       // value is not an integer or out of range
  kNotFloat,         // value is not a valid float
  kOverflow,         // increment or decrement would overflow
  kNanOrInfinity,    // increment would produce NaN or Infinity
  kSyntax,           // syntax error
  kOutOfRange,       // index out of range
  kNoSuchKey,        // no such key
  kBitOffset,        // bit offset is not an integer or out of range
  kBitValue,         // bit is not an integer or out of range
  kStringTooLong,    // string exceeds maximum allowed size (proto-max-bulk-len)
  kInvalidExpire,    // invalid expire time in '<command>' command
  kBusyKey,          // BUSYKEY Target key name already exists.
  kBadDumpPayload,   // DUMP payload version or checksum are wrong
  kBadDataFormat,    // Bad data format (a DUMP payload whose object is malformed)
  kInvalidDbIndex,   // DB index is out of range
  kSameObject,       // source and destination objects are the same
  kInvalidArgument,  // other bad arguments (server-built errors); detail: the text after "ERR "
  kStorage,          // the storage engine failed; detail holds its message
  // Command-specific errors (texts after "ERR "), appended so the values above keep their numbers.
  kBitArgument,           // The bit argument must be 1 or 0.
  kBitopNotArity,         // BITOP NOT must be called with a single source key.
  kBitfieldOverflowType,  // Invalid OVERFLOW type specified
  kBitfieldType,          // Invalid bitfield type. Use something like i16 u8. Note that u64 ...
  kBitfieldReadOnly,      // BITFIELD_RO only supports the GET subcommand
  kOffsetOutOfRange,      // offset is out of range (SETRANGE)
  kLcsWrongType,          // The specified keys must contain string values
  kLcsLenAndIdx,          // If you want both the length and indexes, please just use IDX.
  kLcsTooLong,            // String too long for LCS
  kLcsOverBudget,         // Insufficient memory, transient memory for LCS exceeds proto-max-...
  kLcsAllocFailed,        // Insufficient memory, failed allocating transient memory for LCS
  kHashNotInteger,        // hash value is not an integer
  kHashNotFloat,          // hash value is not a float
  kScoreNaN,              // resulting score is not a number (NaN)
  kInvalidCursor,         // invalid cursor
  kValueNotBetween,       // value is out of range, value must between A and B; detail "A B"
  kValueNotPositive,      // value is out of range, must be positive
  kNumkeysNotPositive,    // numkeys should be greater than 0
  kCountNotPositive,      // count should be greater than 0
  kLimitNegative,         // LIMIT can't be negative
  kInvalidStreamId,       // Invalid stream ID specified as stream command argument
  kStreamIdTooSmall,      // The ID specified in XADD is equal or smaller than the target ...
  kStreamExhausted,       // The stream has exhausted the last possible ID, unable to add ...
  kSetIdTooSmall,         // The ID specified in XSETID is smaller than the target stream top item
  kSetIdEntriesTooSmall,  // The entries_added specified in XSETID is smaller than the target ...
  // Replication outcomes (replication/host/group_host.h).
  kNotLeader,       // certainly not in the log: this replica does not lead; detail: leader id hint
  kUnknownOutcome,  // leadership was lost while the write was in flight: it may or may not apply
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  explicit Status(Code code, std::string detail = {}) : code_(code), detail_(std::move(detail)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& detail() const { return detail_; }

 private:
  Code code_ = Code::kOk;
  std::string detail_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  Result(Code code) : v_(Status(code)) {}           // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  Code code() const { return ok() ? Code::kOk : std::get<Status>(v_).code(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace keel
