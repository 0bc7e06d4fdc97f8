#include "resp/request_parser.h"

#include <algorithm>
#include <climits>
#include <cstring>

namespace keel::resp {
namespace {

// Redis allocates at most this many argument slots from a multibulk header alone; the rest
// grow as bulks actually arrive.
constexpr int64_t kMaxPreallocatedArgs = 1024;
// Redis's limits for clients that still have to authenticate.
constexpr int64_t kUnauthMaxMultibulk = 10;
constexpr int64_t kUnauthMaxBulk = 16384;
// Scratch storage above these sizes is released at the start of the next request.
constexpr size_t kMaxRetainedArgs = 4096;
constexpr size_t kMaxRetainedOwnedBytes = 64 * 1024;
// string2ll rejects strings of this length or longer (LONG_STR_SIZE).
constexpr size_t kMaxIntegerChars = 21;

constexpr std::string_view kTooBigMultibulk = "Protocol error: too big mbulk count string";
constexpr std::string_view kInvalidMultibulk = "Protocol error: invalid multibulk length";
constexpr std::string_view kUnauthMultibulk = "Protocol error: unauthenticated multibulk length";
constexpr std::string_view kTooBigBulk = "Protocol error: too big bulk count string";
constexpr std::string_view kInvalidBulk = "Protocol error: invalid bulk length";
constexpr std::string_view kUnauthBulk = "Protocol error: unauthenticated bulk length";
constexpr std::string_view kTooBigInline = "Protocol error: too big inline request";
constexpr std::string_view kUnbalancedQuotes = "Protocol error: unbalanced quotes in request";

// Parses a signed decimal with the rules of Redis's string2ll: no sign other than a leading
// '-', no leading zeros, no spaces, no "-0", fewer than 21 characters, fits in int64_t.
bool ParseStrictInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() >= kMaxIntegerChars) return false;
  if (s == "0") {
    *out = 0;
    return true;
  }
  const bool negative = s.front() == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty() || s.front() < '1' || s.front() > '9') return false;
  uint64_t magnitude = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (magnitude > kMaxPositive + 1) return false;
    *out = magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > kMaxPositive) return false;
    *out = static_cast<int64_t>(magnitude);
  }
  return true;
}

// isspace() in the C locale.
bool IsCSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Builds one inline argument. While the argument's bytes are one contiguous run of the line
// it is only a span of the caller's buffer; the first escape or discontinuity copies it into
// the parser-owned storage.
class ArgBuilder {
 public:
  explicit ArgBuilder(std::string_view line, std::string* owned) : line_(line), owned_(owned) {}

  // Appends line[i] itself.
  void AppendFromLine(size_t i) {
    if (!owned_mode_) {
      if (begin_ == end_) {
        begin_ = end_ = i;
      }
      if (end_ == i) {
        ++end_;
        return;
      }
      SwitchToOwned();
    }
    owned_->push_back(line_[i]);
  }

  // Appends a byte that is not in the line as such (an unescaped character).
  void AppendByte(char c) {
    if (!owned_mode_) SwitchToOwned();
    owned_->push_back(c);
  }

  bool owned() const { return owned_mode_; }
  size_t offset() const { return owned_mode_ ? owned_begin_ : begin_; }
  size_t length() const { return owned_mode_ ? owned_->size() - owned_begin_ : end_ - begin_; }

 private:
  void SwitchToOwned() {
    owned_mode_ = true;
    owned_begin_ = owned_->size();
    owned_->append(line_.substr(begin_, end_ - begin_));
  }

  std::string_view line_;
  std::string* owned_;
  bool owned_mode_ = false;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t owned_begin_ = 0;
};

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

size_t RequestParser::bytes_needed_hint() const {
  if (state_ != State::kBulkData) return 0;
  return pos_ + static_cast<size_t>(bulk_len_) + 2;
}

void RequestParser::Reset() {
  StartRequest();
  state_ = State::kIdle;
  error_.clear();
}

void RequestParser::StartRequest() {
  pos_ = 0;
  pending_bulks_ = 0;
  bulk_len_ = -1;
  consumed_ = 0;
  StartLine(0);
  if (spans_.capacity() > kMaxRetainedArgs) {
    std::vector<Span>().swap(spans_);
  } else {
    spans_.clear();
  }
  if (args_.capacity() > kMaxRetainedArgs) {
    std::vector<std::string_view>().swap(args_);
  } else {
    args_.clear();
  }
  if (owned_.capacity() > kMaxRetainedOwnedBytes) {
    std::string().swap(owned_);
  } else {
    owned_.clear();
  }
}

void RequestParser::StartLine(size_t line_start) {
  line_start_ = line_start;
  scan_pos_ = line_start;
  line_blocked_ = false;
}

RequestParser::LineEnd RequestParser::FindLineEnd(std::string_view buf, char terminator,
                                                  size_t* at) {
  if (!line_blocked_ && scan_pos_ < buf.size()) {
    const char* from = buf.data() + scan_pos_;
    const size_t available = buf.size() - scan_pos_;
    const void* hit = std::memchr(from, terminator, available);
    const size_t before =
        hit != nullptr ? static_cast<size_t>(static_cast<const char*>(hit) - from) : available;
    if (std::memchr(from, '\0', before) != nullptr) {
      // Redis's strchr stops at the NUL: this line's end can never be seen.
      line_blocked_ = true;
    } else if (hit != nullptr) {
      scan_pos_ += before;  // a later call finds the terminator again at once
      *at = scan_pos_;
      return LineEnd::kFound;
    } else {
      scan_pos_ = buf.size();
    }
  }
  // Redis compares everything buffered after the line start with the limit.
  if (buf.size() - line_start_ > limits_.max_inline_len) return LineEnd::kTooLong;
  return LineEnd::kNeedMore;
}

ParseStatus RequestParser::Parse(std::string_view buf) {
  switch (state_) {
    case State::kError:
      return ParseStatus::kError;
    case State::kDone:
      StartRequest();
      state_ = State::kIdle;
      [[fallthrough]];
    case State::kIdle:
      if (buf.empty()) return ParseStatus::kIncomplete;
      state_ = buf.front() == '*' ? State::kMultibulkCount : State::kInline;
      StartLine(0);
      break;
    default:
      break;
  }
  // The caller broke the contract (fewer bytes than before); there is nothing safe to do.
  if (buf.size() < scan_pos_ || buf.size() < pos_) return ParseStatus::kIncomplete;
  return state_ == State::kInline ? ParseInline(buf) : ParseMultibulk(buf);
}

ParseStatus RequestParser::ParseMultibulk(std::string_view buf) {
  if (state_ == State::kMultibulkCount) {
    size_t cr = 0;
    switch (FindLineEnd(buf, '\r', &cr)) {
      case LineEnd::kTooLong:
        return Fail(kTooBigMultibulk);
      case LineEnd::kNeedMore:
        return ParseStatus::kIncomplete;
      case LineEnd::kFound:
        break;
    }
    // Redis needs one byte after '\r' (it does not check that it is '\n').
    if (cr + 1 >= buf.size()) return ParseStatus::kIncomplete;
    int64_t count = 0;
    if (!ParseStrictInt64(buf.substr(1, cr - 1), &count) || count > INT_MAX) {
      return Fail(kInvalidMultibulk);
    }
    if (count > kUnauthMaxMultibulk && !limits_.authenticated) return Fail(kUnauthMultibulk);
    pos_ = cr + 2;
    if (count <= 0) return Complete(buf);
    pending_bulks_ = count;
    spans_.reserve(static_cast<size_t>(std::min(count, kMaxPreallocatedArgs)));
    state_ = State::kBulkLength;
    StartLine(pos_);
  }

  while (pending_bulks_ > 0) {
    if (state_ == State::kBulkLength) {
      size_t cr = 0;
      switch (FindLineEnd(buf, '\r', &cr)) {
        case LineEnd::kTooLong:
          return Fail(kTooBigBulk);
        case LineEnd::kNeedMore:
          return ParseStatus::kIncomplete;
        case LineEnd::kFound:
          break;
      }
      if (cr + 1 >= buf.size()) return ParseStatus::kIncomplete;
      const char type = buf[pos_];
      if (type != '$') {
        // Redis formats the byte with %c and then turns CR and LF into spaces.
        std::string message = "Protocol error: expected '$', got ' '";
        if (type != '\r' && type != '\n') message[message.size() - 2] = type;
        return Fail(message);
      }
      int64_t len = 0;
      if (!ParseStrictInt64(buf.substr(pos_ + 1, cr - pos_ - 1), &len) || len < 0 ||
          len > limits_.max_bulk_len) {
        return Fail(kInvalidBulk);
      }
      if (len > kUnauthMaxBulk && !limits_.authenticated) return Fail(kUnauthBulk);
      pos_ = cr + 2;
      bulk_len_ = len;
      state_ = State::kBulkData;
    }

    // kBulkData: the payload is never scanned, only counted. Redis skips the two bytes after
    // it without checking that they are CRLF.
    const size_t needed = static_cast<size_t>(bulk_len_) + 2;
    if (buf.size() - pos_ < needed) return ParseStatus::kIncomplete;
    spans_.push_back(Span{pos_, static_cast<size_t>(bulk_len_), false});
    pos_ += needed;
    bulk_len_ = -1;
    --pending_bulks_;
    state_ = State::kBulkLength;
    StartLine(pos_);
  }
  return Complete(buf);
}

ParseStatus RequestParser::ParseInline(std::string_view buf) {
  size_t newline = 0;
  switch (FindLineEnd(buf, '\n', &newline)) {
    case LineEnd::kTooLong:
      return Fail(kTooBigInline);
    case LineEnd::kNeedMore:
      return ParseStatus::kIncomplete;
    case LineEnd::kFound:
      break;
  }
  size_t line_end = newline;
  if (line_end > 0 && buf[line_end - 1] == '\r') --line_end;
  if (!SplitInline(buf.substr(0, line_end))) return Fail(kUnbalancedQuotes);
  pos_ = newline + 1;
  return Complete(buf);
}

// The rules of sdssplitargs, on a line that holds no NUL (FindLineEnd guarantees that):
// - blanks (C isspace) separate arguments; outside quotes only space, tab, CR and LF end one;
// - "..." understands \n \r \t \b \a, \xHH and \<any> (that character itself);
// - '...' understands only \' ;
// - quotes may start mid-argument (a"b c" is one argument), but a closing quote must be
//   followed by a blank or the end of the line, and a quote must be closed.
bool RequestParser::SplitInline(std::string_view line) {
  const size_t n = line.size();
  auto at = [&](size_t i) { return i < n ? line[i] : '\0'; };
  size_t i = 0;
  while (true) {
    while (i < n && IsCSpace(line[i])) ++i;
    if (i == n) return true;

    ArgBuilder arg(line, &owned_);
    enum class Quote { kNone, kDouble, kSingle } quote = Quote::kNone;
    bool done = false;
    while (!done) {
      const char c = at(i);
      if (quote == Quote::kDouble) {
        if (c == '\\' && at(i + 1) == 'x' && IsHexDigit(at(i + 2)) && IsHexDigit(at(i + 3))) {
          arg.AppendByte(static_cast<char>(HexValue(at(i + 2)) * 16 + HexValue(at(i + 3))));
          i += 4;
        } else if (c == '\\' && i + 1 < n) {
          char unescaped = line[i + 1];
          switch (unescaped) {
            case 'n':
              unescaped = '\n';
              break;
            case 'r':
              unescaped = '\r';
              break;
            case 't':
              unescaped = '\t';
              break;
            case 'b':
              unescaped = '\b';
              break;
            case 'a':
              unescaped = '\a';
              break;
            default:
              break;
          }
          arg.AppendByte(unescaped);
          i += 2;
        } else if (c == '"') {
          if (i + 1 < n && !IsCSpace(line[i + 1])) return false;
          ++i;
          done = true;
        } else if (i >= n) {
          return false;  // unterminated
        } else {
          arg.AppendFromLine(i);
          ++i;
        }
      } else if (quote == Quote::kSingle) {
        if (c == '\\' && at(i + 1) == '\'') {
          arg.AppendByte('\'');
          i += 2;
        } else if (c == '\'') {
          if (i + 1 < n && !IsCSpace(line[i + 1])) return false;
          ++i;
          done = true;
        } else if (i >= n) {
          return false;  // unterminated
        } else {
          arg.AppendFromLine(i);
          ++i;
        }
      } else if (i >= n) {
        done = true;
      } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        ++i;
        done = true;
      } else if (c == '"') {
        quote = Quote::kDouble;
        ++i;
      } else if (c == '\'') {
        quote = Quote::kSingle;
        ++i;
      } else {
        arg.AppendFromLine(i);
        ++i;
      }
    }
    spans_.push_back(Span{arg.offset(), arg.length(), arg.owned()});
  }
}

ParseStatus RequestParser::Complete(std::string_view buf) {
  args_.resize(spans_.size());
  for (size_t i = 0; i < spans_.size(); ++i) {
    const Span& span = spans_[i];
    const char* base = span.owned ? owned_.data() : buf.data();
    args_[i] = std::string_view(base + span.offset, span.length);
  }
  consumed_ = pos_;
  state_ = State::kDone;
  return ParseStatus::kComplete;
}

ParseStatus RequestParser::Fail(std::string_view message) {
  error_.assign(message);
  args_.clear();
  state_ = State::kError;
  return ParseStatus::kError;
}

}  // namespace keel::resp
