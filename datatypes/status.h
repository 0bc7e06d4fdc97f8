// Status and Result<T>: errors as values for every Keel operation below the RESP layer.
//
// A Status is a code from the closed enum Code plus, for the few codes that need it, a
// detail string. The exact Redis error text for each code is produced in one place,
// server/errors.cc; code below the server never formats Redis error replies itself.
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
  kNotFound,          // internal: the key or element does not exist (mostly not an error reply)
  kWrongType,         // WRONGTYPE Operation against a key holding the wrong kind of value
  kNotInteger,        // value is not an integer or out of range
  kNotFloat,          // value is not a valid float
  kOverflow,          // increment or decrement would overflow
  kNanOrInfinity,     // increment would produce NaN or Infinity
  kSyntax,            // syntax error
  kOutOfRange,        // index out of range
  kNoSuchKey,         // no such key
  kBitOffset,         // bit offset is not an integer or out of range
  kBitValue,          // bit is not an integer or out of range
  kStringTooLong,     // string exceeds maximum allowed size (proto-max-bulk-len)
  kInvalidExpire,     // invalid expire time in '<command>' command
  kBusyKey,           // BUSYKEY Target key name already exists.
  kBadDumpPayload,    // DUMP payload version or checksum are wrong
  kBadDataFormat,     // Bad data format (a DUMP payload whose object is malformed)
  kInvalidDbIndex,    // DB index is out of range
  kSameObject,        // source and destination objects are the same
  kInvalidArgument,   // a command-specific error; detail holds the text after "ERR "
  kStorage,           // the storage engine failed; detail holds its message
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
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  Result(Code code) : v_(Status(code)) {}  // NOLINT(google-explicit-constructor)

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
