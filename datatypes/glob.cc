#include "datatypes/glob.h"

#include <cstddef>
#include <utility>

namespace keel {
namespace {

// Redis stops recursing (and fails the match) past this many nested '*' groups.
constexpr size_t kMaxStarNesting = 1000;

enum class TokenKind : unsigned char { kStar, kAny, kLiteral, kClass };

// One unit of the pattern, parsed on demand (nothing is allocated). Every kind but kStar
// consumes exactly one byte of the subject, which is what makes the single-backtrack-point
// matcher below exact.
struct Token {
  TokenKind kind = TokenKind::kAny;
  size_t next = 0;      // pattern index just past this token
  bool negate = false;  // kClass: [^...]
  char literal = 0;     // kLiteral
  size_t begin = 0;     // kClass: the body starts at pattern[begin], after any '^'
};

int AsciiLower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// Redis reads pattern bytes through plain (signed) char; range bounds keep that sign.
int SignedByte(char c) { return static_cast<int>(static_cast<signed char>(c)); }

bool LiteralEquals(char p, char c, bool nocase) {
  if (!nocase) return p == c;
  return AsciiLower(SignedByte(p)) == AsciiLower(SignedByte(c));
}

// Walks one class body, calling the right handler per element, and returns the index just
// past the class (past its ']' if it has one). Elements are parsed in Redis's order: an
// escape, the closing ']', the end of the pattern, a range "x-y", then a literal byte.
template <typename OnEscaped, typename OnRange, typename OnLiteral>
size_t WalkClass(std::string_view pat, size_t p, OnEscaped on_escaped, OnRange on_range,
                 OnLiteral on_literal) {
  const size_t n = pat.size();
  while (true) {
    const size_t remaining = n - p;
    if (remaining >= 2 && pat[p] == '\\') {
      on_escaped(pat[p + 1]);
      p += 2;
    } else if (remaining == 0) {
      return p;
    } else if (pat[p] == ']') {
      return p + 1;
    } else if (remaining >= 3 && pat[p + 1] == '-') {
      on_range(pat[p], pat[p + 2]);
      p += 3;
    } else {
      on_literal(pat[p]);
      p += 1;
    }
  }
}

// Parses the token starting at pat[p]; requires p < pat.size().
Token ParseToken(std::string_view pat, size_t p) {
  const size_t n = pat.size();
  Token t;
  const char c = pat[p];
  if (c == '*') {
    t.kind = TokenKind::kStar;
    while (p < n && pat[p] == '*') ++p;  // a run of stars is one token
    t.next = p;
  } else if (c == '?') {
    t.kind = TokenKind::kAny;
    t.next = p + 1;
  } else if (c == '[') {
    t.kind = TokenKind::kClass;
    ++p;
    if (p < n && pat[p] == '^') {
      t.negate = true;
      ++p;
    }
    t.begin = p;
    const auto ignore = [](auto...) {};
    t.next = WalkClass(pat, p, ignore, ignore, ignore);
  } else if (c == '\\' && p + 1 < n) {
    t.kind = TokenKind::kLiteral;
    t.literal = pat[p + 1];
    t.next = p + 2;
  } else {
    t.kind = TokenKind::kLiteral;
    t.literal = c;
    t.next = p + 1;
  }
  return t;
}

bool ClassMatches(std::string_view pat, const Token& t, char c, bool nocase) {
  bool matched = false;
  WalkClass(
      pat, t.begin, [&](char escaped) { matched |= escaped == c; },
      [&](char lo, char hi) {
        int start = SignedByte(lo);
        int stop = SignedByte(hi);
        int subject = SignedByte(c);
        if (start > stop) std::swap(start, stop);
        if (nocase) {
          start = AsciiLower(start);
          stop = AsciiLower(stop);
          subject = AsciiLower(subject);
        }
        matched |= subject >= start && subject <= stop;
      },
      [&](char literal) { matched |= LiteralEquals(literal, c, nocase); });
  return matched != t.negate;
}

bool TokenMatches(std::string_view pat, const Token& t, char c, bool nocase) {
  switch (t.kind) {
    case TokenKind::kAny:
      return true;
    case TokenKind::kLiteral:
      return LiteralEquals(t.literal, c, nocase);
    case TokenKind::kClass:
      return ClassMatches(pat, t, c, nocase);
    case TokenKind::kStar:
      break;
  }
  return false;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase) {
  if (str.empty()) return pattern.empty();
  const size_t plen = pattern.size();

  // Every '*' group followed by a byte-consuming token costs Redis one level of recursion on
  // any successful path; past its limit it reports no match.
  size_t nested_stars = 0;
  for (size_t p = 0; p < plen;) {
    const Token t = ParseToken(pattern, p);
    if (t.kind == TokenKind::kStar && t.next < plen) ++nested_stars;
    p = t.next;
  }
  if (nested_stars > kMaxStarNesting) return false;

  // Classic wildcard matching with one backtrack point: on a mismatch, let the most recent
  // '*' absorb one more byte. Earlier stars never need revisiting because every other token
  // consumes exactly one byte. O(pattern * string) time, O(1) space.
  size_t pi = 0;
  size_t si = 0;
  size_t after_star = plen + 1;  // pattern index after the last '*' seen; plen + 1 = none
  size_t star_si = 0;
  while (si < str.size()) {
    if (pi < plen) {
      const Token t = ParseToken(pattern, pi);
      if (t.kind == TokenKind::kStar) {
        if (t.next == plen) return true;  // a trailing '*' absorbs the rest
        pi = after_star = t.next;
        star_si = si;
        continue;
      }
      if (TokenMatches(pattern, t, str[si], nocase)) {
        pi = t.next;
        ++si;
        continue;
      }
    }
    if (after_star > plen) return false;
    pi = after_star;
    si = ++star_si;
  }
  // The subject is used up: only '*'s may remain. At a token boundary a '*' byte is a star.
  while (pi < plen && pattern[pi] == '*') ++pi;
  return pi == plen;
}

}  // namespace keel
