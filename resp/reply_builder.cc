#include "resp/reply_builder.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace keel::resp {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// Large enough for a type byte, "-9223372036854775808" or 2^64-1, and CRLF.
constexpr size_t kHeaderBufferSize = 32;

// Writes <type><n>\r\n into buf and returns its length.
size_t FormatHeader(char* buf, char type, uint64_t n) {
  buf[0] = type;
  char* end = std::to_chars(buf + 1, buf + kHeaderBufferSize - 2, n).ptr;
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<size_t>(end + 2 - buf);
}

// Formats d as Redis 7.0 does: "inf" / "-inf", otherwise printf's %.17g (C locale).
// Returns the length written to buf.
size_t FormatDouble(char* buf, size_t size, double d) {
  if (std::isinf(d)) {
    const std::string_view text = d > 0 ? "inf" : "-inf";
    text.copy(buf, text.size());
    return text.size();
  }
  if (std::isnan(d)) {
    const std::string_view text = "nan";
    text.copy(buf, text.size());
    return text.size();
  }
  const auto result = std::to_chars(buf, buf + size, d, std::chars_format::general, 17);
  return static_cast<size_t>(result.ptr - buf);
}

}  // namespace

void ReplyBuilder::AppendHeader(char type, uint64_t n) {
  char buf[kHeaderBufferSize];
  out_->append(buf, FormatHeader(buf, type, n));
}

void ReplyBuilder::InsertHeader(size_t pos, char type, uint64_t n) {
  char buf[kHeaderBufferSize];
  out_->insert(pos, buf, FormatHeader(buf, type, n));
}

void ReplyBuilder::AppendLine(char type, std::string_view s) {
  const size_t start = out_->size();
  out_->push_back(type);
  out_->append(s);
  if (s.find_first_of(kCrlf) != std::string_view::npos) {
    for (size_t i = start + 1; i < out_->size(); ++i) {
      char& c = (*out_)[i];
      if (c == '\r' || c == '\n') c = ' ';
    }
  }
  out_->append(kCrlf);
}

void ReplyBuilder::SimpleString(std::string_view s) { AppendLine('+', s); }

void ReplyBuilder::Ok() { out_->append("+OK\r\n"); }

void ReplyBuilder::Error(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  AppendLine('-', text);
}

void ReplyBuilder::Integer(int64_t v) {
  char buf[kHeaderBufferSize];
  buf[0] = ':';
  char* end = std::to_chars(buf + 1, buf + kHeaderBufferSize - 2, v).ptr;
  end[0] = '\r';
  end[1] = '\n';
  out_->append(buf, static_cast<size_t>(end + 2 - buf));
}

void ReplyBuilder::Bulk(std::string_view s) {
  AppendHeader('$', s.size());
  out_->append(s);
  out_->append(kCrlf);
}

void ReplyBuilder::NullBulk() { out_->append(resp3() ? "_\r\n" : "$-1\r\n"); }

void ReplyBuilder::NullArray() { out_->append(resp3() ? "_\r\n" : "*-1\r\n"); }

void ReplyBuilder::Array(size_t n) { AppendHeader('*', n); }

void ReplyBuilder::Map(size_t pairs) {
  if (resp3()) {
    AppendHeader('%', pairs);
  } else {
    AppendHeader('*', static_cast<uint64_t>(pairs) * 2);
  }
}

void ReplyBuilder::Set(size_t n) { AppendHeader(resp3() ? '~' : '*', n); }

void ReplyBuilder::Push(size_t n) { AppendHeader(resp3() ? '>' : '*', n); }

void ReplyBuilder::Double(double d) {
  char buf[64];
  const size_t len = FormatDouble(buf, sizeof(buf), d);
  const std::string_view text(buf, len);
  if (resp3()) {
    out_->push_back(',');
    out_->append(text);
    out_->append(kCrlf);
  } else {
    Bulk(text);
  }
}

void ReplyBuilder::Bool(bool b) {
  if (resp3()) {
    out_->append(b ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(b ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyBuilder::BigNumber(std::string_view digits) {
  if (resp3()) {
    out_->push_back('(');
    out_->append(digits);
    out_->append(kCrlf);
  } else {
    Bulk(digits);
  }
}

void ReplyBuilder::Verbatim(std::string_view s, std::string_view fmt) {
  if (!resp3()) {
    Bulk(s);
    return;
  }
  AppendHeader('=', static_cast<uint64_t>(s.size()) + 4);
  for (size_t i = 0; i < 3; ++i) out_->push_back(i < fmt.size() ? fmt[i] : ' ');
  out_->push_back(':');
  out_->append(s);
  out_->append(kCrlf);
}

void ReplyBuilder::BulkArray(const std::vector<std::string>& items) {
  Array(items.size());
  for (const std::string& item : items) Bulk(item);
}

void ReplyBuilder::BulkArray(std::span<const std::string_view> items) {
  Array(items.size());
  for (std::string_view item : items) Bulk(item);
}

void ReplyBuilder::EndDeferredArray(size_t handle, size_t n) { InsertHeader(handle, '*', n); }

void ReplyBuilder::EndDeferredMap(size_t handle, size_t pairs) {
  if (resp3()) {
    InsertHeader(handle, '%', pairs);
  } else {
    InsertHeader(handle, '*', static_cast<uint64_t>(pairs) * 2);
  }
}

void ReplyBuilder::EndDeferredSet(size_t handle, size_t n) {
  InsertHeader(handle, resp3() ? '~' : '*', n);
}

}  // namespace keel::resp
