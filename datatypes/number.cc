#include "datatypes/number.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace keel {
namespace {

// The longest decimal int64, "-9223372036854775808", is 20 bytes.
constexpr size_t kMaxInt64Chars = 20;

bool IsCSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// True if a strto* result flagged ERANGE must be rejected: overflow to +-HUGE_VAL or an
// underflow that lost every digit. Underflow to a (non-zero) denormal is accepted.
template <typename T>
bool IsRejectedRangeError(T value, T huge) {
  return value == huge || value == -huge || std::fpclassify(value) == FP_ZERO;
}

}  // namespace

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > kMaxInt64Chars) return false;
  if (s == "0") {
    *out = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
  }
  // The first digit must be 1-9: this rejects "", "-", "-0", "00", "+1" and " 1".
  if (i == s.size() || s[i] < '1' || s[i] > '9') return false;
  uint64_t magnitude = 0;
  constexpr uint64_t kMaxMagnitude = std::numeric_limits<uint64_t>::max();
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (magnitude > kMaxMagnitude / 10) return false;
    magnitude *= 10;
    if (magnitude > kMaxMagnitude - digit) return false;
    magnitude += digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (magnitude > kMaxPositive + 1) return false;
    // Two's complement negation of the magnitude, done in unsigned arithmetic.
    *out = static_cast<int64_t>(~magnitude + 1);
  } else {
    if (magnitude > kMaxPositive) return false;
    *out = static_cast<int64_t>(magnitude);
  }
  return true;
}

bool ParseLongDouble(std::string_view s, long double* out) {
  if (s.empty() || s.size() > kMaxLongDoubleChars || IsCSpace(s[0])) return false;
  if (s.find('\0') != std::string_view::npos) return false;
  char buf[kMaxLongDoubleChars + 1];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const long double value = std::strtold(buf, &end);
  const int err = errno;
  if (end != buf + s.size() || err == EINVAL || std::isnan(value)) return false;
  if (err == ERANGE && IsRejectedRangeError(value, HUGE_VALL)) return false;
  *out = value;
  return true;
}

std::string FormatLongDouble(long double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // The widest finite long double needs 4933 integer digits, '.', 17 decimals and a sign.
  char buf[kMaxLongDoubleChars + 1];
  const int n = std::snprintf(buf, sizeof(buf), "%.17Lf", value);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(buf)) return std::string();
  std::string_view text(buf, static_cast<size_t>(n));
  if (text.find('.') != std::string_view::npos) {
    while (text.back() == '0') text.remove_suffix(1);
    if (text.back() == '.') text.remove_suffix(1);
  }
  if (text == "-0") return "0";
  return std::string(text);
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || IsCSpace(s[0])) return false;
  if (s.find('\0') != std::string_view::npos) return false;
  const std::string copy(s);  // strtod needs a NUL-terminated buffer.
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  const int err = errno;
  if (end != copy.c_str() + copy.size() || std::isnan(value)) return false;
  if (err == ERANGE && IsRejectedRangeError(value, HUGE_VAL)) return false;
  *out = value;
  return true;
}

std::string FormatDouble(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", value);
  if (n <= 0) return std::string();
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace keel
