#include "datatypes/lcs.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace keel {
namespace {

using Args = std::vector<std::string_view>;

constexpr uint64_t kBudget = 512ULL * 1024 * 1024;

LcsOptions Options(Args args) {
  Result<LcsOptions> r = ParseLcsOptions(args);
  EXPECT_TRUE(r.ok()) << "detail: " << r.status().detail();
  return r.ok() ? *r : LcsOptions{};
}

LcsResult Lcs(std::string_view a, std::string_view b, Args args) {
  Result<LcsResult> r = ComputeLcs(a, b, Options(args), kBudget);
  EXPECT_TRUE(r.ok()) << "detail: " << r.status().detail();
  return r.ok() ? *r : LcsResult{};
}

// Matches as [a_start, a_end, b_start, b_end, len] rows, for compact expectations.
std::vector<std::vector<uint64_t>> Rows(const LcsResult& r) {
  std::vector<std::vector<uint64_t>> rows;
  for (const LcsMatch& m : r.matches)
    rows.push_back({m.a_start, m.a_end, m.b_start, m.b_end, m.len});
  return rows;
}

using RowList = std::vector<std::vector<uint64_t>>;

TEST(LcsTest, ParsesNoOptionsAsPlainStringReply) {
  LcsOptions o = Options({});
  EXPECT_FALSE(o.len);
  EXPECT_FALSE(o.idx);
  EXPECT_FALSE(o.with_match_len);
  EXPECT_EQ(o.min_match_len, 0);
}

TEST(LcsTest, ParsesOptionsCaseInsensitively) {
  LcsOptions o = Options({"idx", "MinMatchLen", "4", "WITHMATCHLEN"});
  EXPECT_TRUE(o.idx);
  EXPECT_TRUE(o.with_match_len);
  EXPECT_EQ(o.min_match_len, 4);
  EXPECT_TRUE(Options({"LEN"}).len);
}

TEST(LcsTest, NegativeMinMatchLenMeansZero) {
  EXPECT_EQ(Options({"IDX", "MINMATCHLEN", "-5"}).min_match_len, 0);
}

TEST(LcsTest, RejectsLenTogetherWithIdx) {
  Result<LcsOptions> r = ParseLcsOptions(Args{"LEN", "IDX"});
  EXPECT_EQ(r.code(), Code::kLcsLenAndIdx);
}

TEST(LcsTest, RejectsUnknownOptionsAndMissingMinMatchLenValue) {
  EXPECT_EQ(ParseLcsOptions(Args{"foo"}).code(), Code::kSyntax);
  EXPECT_EQ(ParseLcsOptions(Args{"MINMATCHLEN"}).code(), Code::kSyntax);
  EXPECT_EQ(ParseLcsOptions(Args{"MINMATCHLEN", "x"}).code(), Code::kNotInteger);
  // A syntax error is reported before the LEN+IDX conflict, as it comes first.
  EXPECT_EQ(ParseLcsOptions(Args{"LEN", "IDX", "foo"}).code(), Code::kSyntax);
}

TEST(LcsTest, ComputesTheLcsStringFromTheRedisDocs) {
  LcsResult r = Lcs("ohmytext", "mynewtext", {});
  EXPECT_EQ(r.kind, LcsResult::Kind::kString);
  EXPECT_EQ(r.lcs, "mytext");
  EXPECT_EQ(r.length, 6u);
  EXPECT_TRUE(r.matches.empty());
}

TEST(LcsTest, LenRepliesWithTheLengthOnly) {
  LcsResult r = Lcs("ohmytext", "mynewtext", {"LEN"});
  EXPECT_EQ(r.kind, LcsResult::Kind::kLength);
  EXPECT_EQ(r.length, 6u);
  EXPECT_TRUE(r.lcs.empty());
}

TEST(LcsTest, IdxListsMatchesFromTheEndOfTheStrings) {
  // Replies captured from Redis 7.0.15.
  LcsResult r = Lcs("ohmytext", "mynewtext", {"IDX", "WITHMATCHLEN"});
  EXPECT_EQ(r.kind, LcsResult::Kind::kIdx);
  EXPECT_TRUE(r.with_match_len);
  EXPECT_EQ(r.length, 6u);
  EXPECT_EQ(Rows(r), (RowList{{4, 7, 5, 8, 4}, {2, 3, 0, 1, 2}}));
}

TEST(LcsTest, IdxWithMinMatchLenDropsShortMatches) {
  LcsResult r = Lcs("ohmytext", "mynewtext", {"IDX", "MINMATCHLEN", "4"});
  EXPECT_FALSE(r.with_match_len);
  EXPECT_EQ(r.length, 6u) << "the total length still counts every match";
  EXPECT_EQ(Rows(r), (RowList{{4, 7, 5, 8, 4}}));
}

TEST(LcsTest, IdxMatchesRedisOnInterleavedStrings) {
  LcsResult r = Lcs("abcdefgh", "xxabcyydefgzzh", {"IDX", "WITHMATCHLEN"});
  EXPECT_EQ(r.length, 8u);
  EXPECT_EQ(Rows(r), (RowList{{7, 7, 13, 13, 1}, {3, 6, 7, 10, 4}, {0, 2, 2, 4, 3}}));
  EXPECT_EQ(Lcs("abcdefgh", "xxabcyydefgzzh", {}).lcs, "abcdefgh");
  EXPECT_EQ(Rows(Lcs("abcdefgh", "xxabcyydefgzzh", {"IDX", "MINMATCHLEN", "2"})),
            (RowList{{3, 6, 7, 10, 4}, {0, 2, 2, 4, 3}}));
}

TEST(LcsTest, IdxFollowsRedisTieBreakingOnRepeatedBytes) {
  EXPECT_EQ(Rows(Lcs("aaaa", "aa", {"IDX"})), (RowList{{2, 3, 0, 1, 2}}));
  LcsResult r = Lcs("GTTCCTAATA", "CGATAATTGAGA", {"IDX"});
  EXPECT_EQ(r.length, 6u);
  EXPECT_EQ(Rows(r),
            (RowList{{9, 9, 11, 11, 1}, {8, 8, 7, 7, 1}, {5, 7, 3, 5, 3}, {4, 4, 0, 0, 1}}));
  EXPECT_EQ(Lcs("GTTCCTAATA", "CGATAATTGAGA", {}).lcs, "CTAATA");
}

TEST(LcsTest, DisjointOrEmptyStringsHaveAnEmptyLcs) {
  EXPECT_EQ(Lcs("abc", "xyz", {}).lcs, "");
  EXPECT_EQ(Lcs("abc", "xyz", {"LEN"}).length, 0u);
  LcsResult idx = Lcs("abc", "", {"IDX"});
  EXPECT_EQ(idx.length, 0u);
  EXPECT_TRUE(idx.matches.empty());
  EXPECT_EQ(Lcs("", "", {}).lcs, "");
}

TEST(LcsTest, IsBinarySafe) {
  const std::string a("a\0b\xff", 4);
  const std::string b("\0\xff", 2);
  EXPECT_EQ(Lcs(a, b, {}).lcs, b);
}

TEST(LcsTest, RejectsTablesLargerThanTheBudget) {
  // (500+1) * (522+1) * 4 = 1048092 fits in 1 MiB; one more byte of b does not.
  const std::string a(500, 'a');
  Result<LcsResult> ok = ComputeLcs(a, std::string(522, 'a'), LcsOptions{}, 1048576);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->length, 500u);
  Result<LcsResult> r = ComputeLcs(a, std::string(523, 'a'), LcsOptions{}, 1048576);
  EXPECT_EQ(r.code(), Code::kLcsOverBudget);
}

TEST(LcsTest, BudgetAppliesEvenWhenOnlyTheLengthIsRequested) {
  LcsOptions len;
  len.len = true;
  // 4 * 4 cells of 4 bytes.
  EXPECT_EQ(ComputeLcs("abc", "abc", len, 63).code(), Code::kLcsOverBudget);
  EXPECT_EQ(ComputeLcs("abc", "abc", len, 64)->length, 3u);
}

TEST(LcsTest, LengthOnlyAgreesWithTheFullTable) {
  std::mt19937 rng(5);
  for (int iter = 0; iter < 200; ++iter) {
    std::string a(rng() % 40, 'a');
    std::string b(rng() % 40, 'a');
    for (char& c : a) c = static_cast<char>('a' + rng() % 3);
    for (char& c : b) c = static_cast<char>('a' + rng() % 3);
    const LcsResult full = Lcs(a, b, {});
    const LcsResult len = Lcs(a, b, {"LEN"});
    const LcsResult idx = Lcs(a, b, {"IDX"});
    ASSERT_EQ(full.lcs.size(), len.length) << a << " / " << b;
    ASSERT_EQ(idx.length, len.length);
    // Every reported range really is common, and the ranges add up to the LCS.
    uint64_t total = 0;
    for (const LcsMatch& m : idx.matches) {
      ASSERT_EQ(a.substr(m.a_start, m.len), b.substr(m.b_start, m.len));
      ASSERT_EQ(m.a_end - m.a_start, m.b_end - m.b_start);
      total += m.len;
    }
    ASSERT_EQ(total, len.length);
  }
}

}  // namespace
}  // namespace keel
