// RequestParser: an incremental, zero-copy parser for client requests, byte-compatible with
// Redis 7.0 (multibulk "*<n>\r\n$<len>\r\n<bytes>\r\n..." and the inline protocol).
//
// Ownership: the caller owns the input buffer. The parser keeps only offsets into it between
// calls, never pointers, so the buffer may move (grow, be compacted) between calls. After
// kComplete, args() holds views into the `buf` passed to that Parse call, except for inline
// arguments that needed unescaping, which live in storage owned by the parser. All views stay
// valid until the next Parse() or Reset() call (and as long as the caller's buffer does).
//
// Thread-safety: none. A parser belongs to one connection and is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keel::resp {

struct ParserLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  size_t max_inline_len = 64 * 1024;           // PROTO_INLINE_MAX_SIZE
  bool authenticated = true;                   // false => Redis's unauthenticated limits apply
};

enum class ParseStatus { kComplete, kIncomplete, kError };

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});

  // Takes effect from the next check made (e.g. after AUTH succeeds mid-pipeline).
  void set_limits(const ParserLimits& limits) { limits_ = limits; }
  const ParserLimits& limits() const { return limits_; }

  // Parses one request from `buf`, which starts at the first byte not yet consumed by a
  // complete request.
  //
  // kIncomplete: more bytes are needed. Call again with the SAME leading bytes plus more (the
  //   buffer may have moved in memory). Work already done is not redone: lines are scanned
  //   once and bulk payloads are never scanned at all.
  // kComplete: args() holds the arguments; consumed() bytes make up the request. An empty
  //   request (blank inline line, "*0\r\n", "*-1\r\n") completes with args().empty() and must
  //   be skipped by the caller.
  // kError: error() is the Redis error text without "-ERR " and without CRLF, e.g.
  //   "Protocol error: invalid bulk length". Redis replies "-ERR <text>" and closes the
  //   connection; the caller does that. The parser stays in error until Reset().
  //
  // Like Redis (which searches its NUL-terminated query buffer with strchr), a NUL byte before
  // the end of a count line or an inline line hides the line end: the request stays incomplete
  // until the "too big" limit is exceeded.
  ParseStatus Parse(std::string_view buf);

  const std::vector<std::string_view>& args() const { return args_; }
  size_t consumed() const { return consumed_; }
  std::string_view error() const { return error_; }

  // While kIncomplete inside a bulk string: the total number of bytes, from the start of buf,
  // that the current request needs at least (through the current bulk's trailing CRLF), so the
  // caller can reserve its buffer once. 0 when unknown.
  size_t bytes_needed_hint() const;

  // Forgets a partial request and any error (after an error, or a connection reset).
  void Reset();

 private:
  enum class State : uint8_t {
    kIdle,            // waiting for the first byte of a request
    kMultibulkCount,  // reading "*<n>\r\n"
    kBulkLength,      // reading "$<len>\r\n"
    kBulkData,        // waiting for <len> bytes plus 2
    kInline,          // waiting for the end of an inline line
    kDone,            // a request completed; the next Parse starts a new one
    kError,
  };
  enum class LineEnd { kFound, kNeedMore, kTooLong };

  // Where an argument lives: in the caller's buffer or in owned_ (unescaped inline arguments).
  struct Span {
    size_t offset;
    size_t length;
    bool owned;
  };

  void StartRequest();
  void StartLine(size_t line_start);
  // Looks for `terminator` from line_start_ on, resuming where the previous call stopped.
  LineEnd FindLineEnd(std::string_view buf, char terminator, size_t* at);
  ParseStatus ParseMultibulk(std::string_view buf);
  ParseStatus ParseInline(std::string_view buf);
  // Splits an inline line as sdssplitargs does; false on unbalanced quotes.
  bool SplitInline(std::string_view line);
  ParseStatus Complete(std::string_view buf);
  ParseStatus Fail(std::string_view message);

  ParserLimits limits_;
  State state_ = State::kIdle;
  size_t pos_ = 0;             // first byte of the current request not yet parsed
  size_t line_start_ = 0;      // start of the line being looked for
  size_t scan_pos_ = 0;        // the terminator search resumes here
  bool line_blocked_ = false;  // a NUL precedes the terminator (strchr stops there)
  int64_t pending_bulks_ = 0;  // bulks of the multibulk still to read
  int64_t bulk_len_ = -1;      // length of the bulk being read, -1 outside kBulkData
  size_t consumed_ = 0;
  std::vector<Span> spans_;
  std::vector<std::string_view> args_;
  std::string owned_;
  std::string error_;
};

}  // namespace keel::resp
