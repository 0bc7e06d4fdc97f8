// Number parsing and formatting with the exact rules Redis 7.0 applies to command arguments
// and stored string values (INCRBY, INCRBYFLOAT, scores, bit offsets, ...).
//
// Pure functions over caller-owned buffers; no state, safe to call from any thread. The
// floating-point parsers use strtod/strtold, which honour the C locale; Keel never calls
// setlocale, so '.' is always the decimal separator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel {

// Longest string Redis accepts as a long double (MAX_LONG_DOUBLE_CHARS - 1).
inline constexpr size_t kMaxLongDoubleChars = 5 * 1024 - 1;

// Parses a strict decimal int64 like Redis's string2ll: optional '-', then either "0" or a
// digit 1-9 followed by digits. Rejects the empty string, '+', spaces, leading zeros, "-0",
// anything longer than 20 bytes and values outside int64. On failure *out is unchanged.
bool ParseInt64(std::string_view s, int64_t* out);

// Parses a long double like Redis's string2ld (INCRBYFLOAT): strtold syntax (so "0x10", ".5",
// "5.", "1e3" and "inf" are accepted), but rejects the empty string, more than
// kMaxLongDoubleChars bytes, a leading space, trailing bytes (including NUL), NaN, and values
// that overflow to infinity or underflow to zero. On failure *out is unchanged.
bool ParseLongDouble(std::string_view s, long double* out);

// Formats a long double the way INCRBYFLOAT replies (Redis ld2string, human-friendly mode):
// fixed notation with 17 decimals, trailing zeros and a trailing '.' removed, "-0" printed as
// "0", infinities as "inf" / "-inf". E.g. 10.5 -> "10.5", 5e3 -> "5000".
std::string FormatLongDouble(long double value);

// Parses a double like Redis's string2d (ZADD scores, INCRBYFLOAT on hashes, ...): strtod
// syntax including "inf", "+inf", "-inf", "infinity"; rejects the empty string, a leading
// space, trailing bytes, NaN, and values that overflow to infinity or underflow to zero. On
// failure *out is unchanged.
bool ParseDouble(std::string_view s, double* out);

// Formats a double as Redis 7.0 replies with it: "%.17g" ("0.10000000000000001", "1.5",
// "1e+20"), and "inf" / "-inf" for infinities.
std::string FormatDouble(double value);

}  // namespace keel
