// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: option parsing and the longest
// common subsequence computation of Redis 7.0, returned as a plain struct the server turns
// into a reply.
//
// Pure functions over caller-owned strings; the only memory they use is the transient
// dynamic-programming table, bounded by the caller's byte budget. No state; safe from any
// thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datatypes/status.h"

namespace keel {

struct LcsOptions {
  bool len = false;             // LEN: reply with the length only
  bool idx = false;             // IDX: reply with the match ranges
  bool with_match_len = false;  // WITHMATCHLEN: add each range's length
  int64_t min_match_len = 0;    // MINMATCHLEN: omit shorter ranges (negative given = 0)
};

// Parses the options after the two keys. Errors: kSyntax (unknown option, MINMATCHLEN without
// a value), kNotInteger (MINMATCHLEN value), kLcsLenAndIdx (both LEN and IDX given).
Result<LcsOptions> ParseLcsOptions(std::span<const std::string_view> args);

// One common run of bytes: a[a_start..a_end] == b[b_start..b_end], bounds inclusive.
struct LcsMatch {
  uint64_t a_start = 0;
  uint64_t a_end = 0;
  uint64_t b_start = 0;
  uint64_t b_end = 0;
  uint64_t len = 0;  // a_end - a_start + 1; part of the reply only with WITHMATCHLEN
};

struct LcsResult {
  enum class Kind : uint8_t {
    kString,  // bulk string: `lcs`
    kLength,  // integer: `length`
    kIdx,     // map {"matches": [[[a_start, a_end], [b_start, b_end]] (+ len)...], "len": length}
  };
  Kind kind = Kind::kString;
  bool with_match_len = false;    // kIdx: append LcsMatch::len to each match entry
  std::string lcs;                // kString only
  uint64_t length = 0;            // length of the LCS (all kinds)
  std::vector<LcsMatch> matches;  // kIdx only, in Redis order: from the end of the strings
};

// Computes the LCS of `a` and `b` (missing keys passed as empty strings). Errors:
// kLcsTooLong (either string of 2^32 - 2 bytes or more); kLcsOverBudget when the
// (|a|+1) * (|b|+1) * 4-byte table would exceed `max_bytes` (pass proto-max-bulk-len);
// kLcsAllocFailed if allocation fails. (Redis checks the key types before anything else and
// replies kLcsWrongType, not WRONGTYPE, when either key holds a non-string: the server's job.)
Result<LcsResult> ComputeLcs(std::string_view a, std::string_view b, const LcsOptions& options,
                             uint64_t max_bytes);

}  // namespace keel
