#include "datatypes/glob.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

namespace keel {
namespace {

// A direct backtracking matcher over the plain glob subset (*, ?, literals), used as an oracle
// for randomised comparison. Exponential in the worst case, so only run on short inputs.
bool NaiveMatch(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') {
    for (size_t i = 0; i <= s.size(); ++i) {
      if (NaiveMatch(p.substr(1), s.substr(i))) return true;
    }
    return false;
  }
  if (s.empty()) return false;
  if (p[0] != '?' && p[0] != s[0]) return false;
  return NaiveMatch(p.substr(1), s.substr(1));
}

TEST(GlobTest, LiteralPatternMatchesOnlyItself) {
  EXPECT_TRUE(GlobMatch("hello", "hello"));
  EXPECT_FALSE(GlobMatch("hello", "hell"));
  EXPECT_FALSE(GlobMatch("hello", "hello!"));
  EXPECT_FALSE(GlobMatch("hello", "Hello"));
}

TEST(GlobTest, StarMatchesAnySequenceIncludingNone) {
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("h*llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("*llo", "hello"));
  EXPECT_TRUE(GlobMatch("he*", "hello"));
  EXPECT_TRUE(GlobMatch("a*b*c", "a-b-c"));
  EXPECT_TRUE(GlobMatch("a**b", "ab"));
  EXPECT_FALSE(GlobMatch("a*b", "a-c"));
  EXPECT_FALSE(GlobMatch("*x", "hello"));
}

TEST(GlobTest, QuestionMarkMatchesExactlyOneByte) {
  EXPECT_TRUE(GlobMatch("h?llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_FALSE(GlobMatch("h?llo", "haallo"));
  EXPECT_TRUE(GlobMatch("???", std::string_view("\0\xff\n", 3)));
}

TEST(GlobTest, BracketClassMatchesListedBytes) {
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hllo"));
}

TEST(GlobTest, CaretNegatesAClass) {
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_FALSE(GlobMatch("h[^a-c]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("h[^a-c]llo", "hdllo"));
}

TEST(GlobTest, RangesMatchInclusiveBoundsInEitherOrder) {
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("[a-c]", "a"));
  EXPECT_TRUE(GlobMatch("[a-c]", "c"));
  EXPECT_FALSE(GlobMatch("[a-c]", "d"));
  EXPECT_TRUE(GlobMatch("[c-a]", "b"));
  EXPECT_TRUE(GlobMatch("[0-9a-f]", "e"));
}

TEST(GlobTest, DashAtTheEndOfAClassIsARangeUpToTheClosingBracket) {
  // As in Redis, "[a-]" is the unterminated range 'a'..']' and does not match '-'.
  for (const char* s : {"]", "^", "_", "`", "a"}) EXPECT_TRUE(GlobMatch("[a-]", s)) << s;
  EXPECT_FALSE(GlobMatch("[a-]", "-"));
  EXPECT_FALSE(GlobMatch("[a-]", "b"));
  EXPECT_TRUE(GlobMatch("[a-]x", "a")) << "the range swallowed ']' so 'x' is still in the class";
}

TEST(GlobTest, UnterminatedClassRunsToTheEndOfThePattern) {
  EXPECT_TRUE(GlobMatch("[abc", "a"));
  EXPECT_TRUE(GlobMatch("[abc", "b"));
  EXPECT_FALSE(GlobMatch("[abc", "d"));
  EXPECT_FALSE(GlobMatch("[", "["));
  EXPECT_FALSE(GlobMatch("[", "a"));
  EXPECT_TRUE(GlobMatch("[^", "a")) << "an empty negated class matches any byte";
  EXPECT_FALSE(GlobMatch("[^", "ab"));
}

TEST(GlobTest, EmptyClassNeverMatches) {
  EXPECT_FALSE(GlobMatch("[]", "]"));
  EXPECT_FALSE(GlobMatch("[]a", "a"));
  EXPECT_TRUE(GlobMatch("[^]a", "xa"));
}

TEST(GlobTest, BackslashEscapesSpecialCharacters) {
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("\\?", "?"));
  EXPECT_FALSE(GlobMatch("\\?", "x"));
  EXPECT_TRUE(GlobMatch("\\[x]", "[x]"));
  EXPECT_TRUE(GlobMatch("\\\\", "\\"));
  EXPECT_TRUE(GlobMatch("\\a", "a"));
}

TEST(GlobTest, TrailingBackslashMatchesABackslash) {
  EXPECT_TRUE(GlobMatch("\\", "\\"));
  EXPECT_TRUE(GlobMatch("ab\\", "ab\\"));
  EXPECT_FALSE(GlobMatch("ab\\", "ab"));
}

TEST(GlobTest, BackslashInsideAClassEscapesTheNextByte) {
  EXPECT_TRUE(GlobMatch("[\\]]", "]"));
  EXPECT_TRUE(GlobMatch("[\\-a]", "-"));
  EXPECT_TRUE(GlobMatch("[a\\]b]", "b"));
  EXPECT_FALSE(GlobMatch("[\\]]", "\\"));
}

TEST(GlobTest, StarAfterEscapedStarStillWorks) {
  EXPECT_TRUE(GlobMatch("\\**", "*abc"));
  EXPECT_FALSE(GlobMatch("\\**", "abc"));
}

TEST(GlobTest, NocaseFoldsAsciiLettersEverywhere) {
  EXPECT_TRUE(GlobMatch("HeLLo", "hello", true));
  EXPECT_TRUE(GlobMatch("h[A-C]llo", "hbllo", true));
  EXPECT_TRUE(GlobMatch("h[a-c]llo", "hBllo", true));
  EXPECT_TRUE(GlobMatch("h[E]llo", "hello", true));
  EXPECT_TRUE(GlobMatch("\\H*", "hey", true));
  EXPECT_FALSE(GlobMatch("HeLLo", "hello", false));
}

TEST(GlobTest, NocaseDoesNotFoldEscapedBytesInsideAClass) {
  EXPECT_FALSE(GlobMatch("[\\A]", "a", true));
  EXPECT_TRUE(GlobMatch("[\\A]", "A", true));
}

TEST(GlobTest, NocaseLowersRangeBoundsAfterOrderingThem) {
  // Redis swaps "Z-a" into 'Z'..'a' first and lowercases after, leaving 'z'..'a': empty.
  EXPECT_TRUE(GlobMatch("[Z-a]", "_"));
  EXPECT_FALSE(GlobMatch("[Z-a]", "_", true));
}

TEST(GlobTest, RangeBoundsCompareAsSignedBytes) {
  // Verified against Redis 7.0: bytes >= 0x80 sort below 0x00 in ranges.
  EXPECT_TRUE(GlobMatch("[a-\xff]", "A"));
  EXPECT_TRUE(GlobMatch("[a-\xff]", "-"));
  EXPECT_TRUE(GlobMatch("[a-\xff]", "\xff"));
  EXPECT_FALSE(GlobMatch("[a-\xff]", "b"));
  EXPECT_FALSE(GlobMatch("[a-\xff]", "\x90"));
  EXPECT_TRUE(GlobMatch("[\x80-\xff]", "\x90"));
  EXPECT_FALSE(GlobMatch("[\x80-\xff]", "a"));
}

TEST(GlobTest, EmptyStringMatchesOnlyTheEmptyPattern) {
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("*", ""));
  EXPECT_FALSE(GlobMatch("**", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
}

TEST(GlobTest, TrailingStarsMatchAnExhaustedString) {
  EXPECT_TRUE(GlobMatch("abc*", "abc"));
  EXPECT_TRUE(GlobMatch("abc***", "abc"));
  EXPECT_FALSE(GlobMatch("abc*?", "abc"));
}

TEST(GlobTest, BinarySafeIncludingNulBytes) {
  const std::string_view key("a\0b", 3);
  EXPECT_TRUE(GlobMatch(std::string_view("a\0b", 3), key));
  EXPECT_TRUE(GlobMatch("a?b", key));
  EXPECT_FALSE(GlobMatch("a", key));
}

TEST(GlobTest, PathologicalStarPatternRunsInPolynomialTime) {
  const std::string subject(10000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(GlobMatch("a*a*a*a*a*a*a*a*a*b", subject));
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", subject));
  EXPECT_TRUE(GlobMatch("a*a*a*a*a*a*a*a*a*a", subject));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(GlobTest, HugePatternsDoNotExhaustTheStack) {
  std::string pattern;
  for (int i = 0; i < 200000; ++i) pattern += "?";
  EXPECT_TRUE(GlobMatch(pattern, std::string(200000, 'x')));
  EXPECT_FALSE(GlobMatch(pattern, std::string(199999, 'x')));
}

TEST(GlobTest, MoreThanAThousandNestedStarsMatchNothingAsInRedis) {
  // Redis 7.0.15 gives up past 1000 levels of '*' recursion: "a*" x 1001 still matches a long
  // run of 'a's (the last '*' is trailing), "a*" x 1002 does not.
  const std::string subject(2000, 'a');
  std::string pattern;
  for (int i = 0; i < 1001; ++i) pattern += "a*";
  EXPECT_TRUE(GlobMatch(pattern, subject));
  pattern += "a*";
  EXPECT_FALSE(GlobMatch(pattern, subject));
}

TEST(GlobTest, AgreesWithNaiveBacktrackingOnRandomInputs) {
  std::mt19937 rng(12345);
  const char pattern_alphabet[] = {'a', 'b', '*', '?'};
  const char subject_alphabet[] = {'a', 'b'};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string p;
    std::string s;
    const int plen = static_cast<int>(rng() % 8);
    const int slen = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < plen; ++i) p += pattern_alphabet[rng() % 4];
    for (int i = 0; i < slen; ++i) s += subject_alphabet[rng() % 2];
    ASSERT_EQ(GlobMatch(p, s), NaiveMatch(p, s)) << "pattern " << p << " subject " << s;
  }
}

}  // namespace
}  // namespace keel
