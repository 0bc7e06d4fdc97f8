#include "datatypes/lcs.h"

#include <algorithm>
#include <memory>
#include <new>

#include "datatypes/number.h"

namespace keel {
namespace {

// Redis keeps LCS lengths in uint32 and refuses strings that could overflow them.
constexpr uint64_t kMaxLcsInput = 0xFFFFFFFFull - 1;

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

// Length of the LCS using two rows; for LEN, where no traceback is needed.
uint64_t LcsLengthOnly(std::string_view a, std::string_view b) {
  std::vector<uint32_t> prev(b.size() + 1, 0);
  std::vector<uint32_t> cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

Result<LcsOptions> ParseLcsOptions(std::span<const std::string_view> args) {
  LcsOptions options;
  for (size_t j = 0; j < args.size(); ++j) {
    const std::string_view opt = args[j];
    const bool has_value = j + 1 < args.size();
    if (EqualsIgnoreCase(opt, "idx")) {
      options.idx = true;
    } else if (EqualsIgnoreCase(opt, "len")) {
      options.len = true;
    } else if (EqualsIgnoreCase(opt, "withmatchlen")) {
      options.with_match_len = true;
    } else if (EqualsIgnoreCase(opt, "minmatchlen") && has_value) {
      int64_t min_len = 0;
      if (!ParseInt64(args[j + 1], &min_len)) return Code::kNotInteger;
      options.min_match_len = std::max<int64_t>(min_len, 0);
      ++j;
    } else {
      return Code::kSyntax;
    }
  }
  if (options.idx && options.len) return Code::kLcsLenAndIdx;
  return options;
}

Result<LcsResult> ComputeLcs(std::string_view a, std::string_view b, const LcsOptions& options,
                             uint64_t max_bytes) {
  if (a.size() >= kMaxLcsInput || b.size() >= kMaxLcsInput) {
    return Code::kLcsTooLong;
  }
  const uint64_t alen = a.size();
  const uint64_t blen = b.size();
  // (alen+1) * (blen+1) < 2^64 given the checks above; the table holds 4-byte cells.
  const uint64_t cells = (alen + 1) * (blen + 1);
  if (cells > max_bytes / sizeof(uint32_t)) return Code::kLcsOverBudget;

  LcsResult result;
  result.with_match_len = options.with_match_len;
  if (options.len && !options.idx) {
    result.kind = LcsResult::Kind::kLength;
    result.length = LcsLengthOnly(a, b);
    return result;
  }
  result.kind = options.idx ? LcsResult::Kind::kIdx : LcsResult::Kind::kString;

  // table[i * (blen + 1) + j] = LCS length of a[0, i) and b[0, j).
  std::unique_ptr<uint32_t[]> table(new (std::nothrow) uint32_t[cells]);
  if (!table) return Code::kLcsAllocFailed;
  const uint64_t row = blen + 1;
  auto at = [&](uint64_t i, uint64_t j) -> uint32_t& { return table[i * row + j]; };
  for (uint64_t j = 0; j <= blen; ++j) at(0, j) = 0;
  for (uint64_t i = 1; i <= alen; ++i) {
    at(i, 0) = 0;
    for (uint64_t j = 1; j <= blen; ++j) {
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
    }
  }
  result.length = at(alen, blen);

  // Walk back from the end. Consecutive diagonal matches form one range; a range is closed
  // when the walk leaves the diagonal or reaches the start of either string, so ranges come
  // out from the end of the strings towards their start, as Redis emits them.
  std::string lcs(result.length, '\0');
  uint64_t remaining = result.length;
  bool in_range = false;
  LcsMatch range;
  uint64_t i = alen;
  uint64_t j = blen;
  while (i > 0 && j > 0) {
    bool close_range = false;
    if (a[i - 1] == b[j - 1]) {
      lcs[--remaining] = a[i - 1];
      if (!in_range) {
        in_range = true;
        range.a_end = i - 1;
        range.b_end = j - 1;
      }
      range.a_start = i - 1;
      range.b_start = j - 1;
      close_range = range.a_start == 0 || range.b_start == 0;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      close_range = in_range;
    }
    if (close_range) {
      range.len = range.a_end - range.a_start + 1;
      if (options.min_match_len == 0 || range.len >= static_cast<uint64_t>(options.min_match_len)) {
        result.matches.push_back(range);
      }
      in_range = false;
    }
  }
  if (result.kind == LcsResult::Kind::kString) {
    result.lcs = std::move(lcs);
    result.matches.clear();
  }
  return result;
}

}  // namespace keel
