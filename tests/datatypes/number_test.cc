#include "datatypes/number.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace keel {
namespace {

bool Int(std::string_view s, int64_t* out) { return ParseInt64(s, out); }

TEST(NumberTest, ParseInt64AcceptsCanonicalDecimals) {
  int64_t v = 0;
  ASSERT_TRUE(Int("0", &v));
  EXPECT_EQ(v, 0);
  ASSERT_TRUE(Int("7", &v));
  EXPECT_EQ(v, 7);
  ASSERT_TRUE(Int("-7", &v));
  EXPECT_EQ(v, -7);
  ASSERT_TRUE(Int("1234567890", &v));
  EXPECT_EQ(v, 1234567890);
}

TEST(NumberTest, ParseInt64AcceptsBothInt64Limits) {
  int64_t v = 0;
  ASSERT_TRUE(Int("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(Int("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
}

TEST(NumberTest, ParseInt64RejectsOverflowJustPastTheLimits) {
  int64_t v = 42;
  EXPECT_FALSE(Int("9223372036854775808", &v));
  EXPECT_FALSE(Int("-9223372036854775809", &v));
  EXPECT_FALSE(Int("18446744073709551615", &v));
  EXPECT_FALSE(Int("18446744073709551616", &v));
  EXPECT_FALSE(Int("99999999999999999999", &v));
  EXPECT_EQ(v, 42) << "the output is untouched on failure";
}

TEST(NumberTest, ParseInt64RejectsNonCanonicalForms) {
  int64_t v = 0;
  for (const char* s : {"", "-", "+1", " 1", "1 ", "01", "00", "-0", "-01", "1a", "a1", "1.0",
                        "0x10", "1e3", "--1", "\t1"}) {
    EXPECT_FALSE(Int(s, &v)) << '"' << s << '"';
  }
}

TEST(NumberTest, ParseInt64RejectsEmbeddedNulAndOverlongInput) {
  int64_t v = 0;
  EXPECT_FALSE(Int(std::string_view("1\0", 2), &v));
  // 21 bytes is over Redis's limit even when the value would be small.
  EXPECT_FALSE(Int("000000000000000000001", &v));
  EXPECT_FALSE(Int("-0000000000000000000001", &v));
}

TEST(NumberTest, ParseLongDoubleAcceptsWhatStrtoldAccepts) {
  long double v = 0;
  ASSERT_TRUE(ParseLongDouble("10.5", &v));
  EXPECT_EQ(v, 10.5L);
  ASSERT_TRUE(ParseLongDouble("5.0e3", &v));
  EXPECT_EQ(v, 5000.0L);
  ASSERT_TRUE(ParseLongDouble("+1", &v));
  EXPECT_EQ(v, 1.0L);
  ASSERT_TRUE(ParseLongDouble(".5", &v));
  EXPECT_EQ(v, 0.5L);
  ASSERT_TRUE(ParseLongDouble("5.", &v));
  EXPECT_EQ(v, 5.0L);
  ASSERT_TRUE(ParseLongDouble("0x10", &v));
  EXPECT_EQ(v, 16.0L);
  ASSERT_TRUE(ParseLongDouble("-0", &v));
  EXPECT_EQ(v, 0.0L);
  ASSERT_TRUE(ParseLongDouble("1e+2", &v));
  EXPECT_EQ(v, 100.0L);
}

TEST(NumberTest, ParseLongDoubleAcceptsInfinityForTheCallerToReject) {
  // Redis parses "inf" and then INCRBYFLOAT refuses the NaN-or-Infinity result.
  long double v = 0;
  ASSERT_TRUE(ParseLongDouble("inf", &v));
  EXPECT_TRUE(std::isinf(v));
  ASSERT_TRUE(ParseLongDouble("-infinity", &v));
  EXPECT_TRUE(std::isinf(v) && v < 0);
}

TEST(NumberTest, ParseLongDoubleRejectsGarbageSpacesAndNan) {
  long double v = 7;
  for (const char* s :
       {"", " 1", "\t1", "1 ", "1abc", "abc", ".", "-", "1e", "nan", "NaN", "-nan"}) {
    EXPECT_FALSE(ParseLongDouble(s, &v)) << '"' << s << '"';
  }
  EXPECT_FALSE(ParseLongDouble(std::string_view("1\0abc", 5), &v));
  EXPECT_EQ(v, 7) << "the output is untouched on failure";
}

TEST(NumberTest, ParseLongDoubleRejectsOverflowAndTotalUnderflow) {
  long double v = 0;
  EXPECT_FALSE(ParseLongDouble("1e5000", &v));
  EXPECT_FALSE(ParseLongDouble("-1e5000", &v));
  EXPECT_FALSE(ParseLongDouble("1e-5000", &v));
  // A denormal result is a partial underflow and is accepted, as on Redis.
  EXPECT_TRUE(ParseLongDouble("1e-4940", &v));
  EXPECT_GT(v, 0);
}

TEST(NumberTest, ParseLongDoubleEnforcesRedisLengthLimit) {
  long double v = 0;
  const std::string longest = "1." + std::string(kMaxLongDoubleChars - 2, '0');
  ASSERT_EQ(longest.size(), 5119u);
  ASSERT_TRUE(ParseLongDouble(longest, &v));
  EXPECT_EQ(v, 1.0L);
  EXPECT_FALSE(ParseLongDouble(longest + "0", &v));
}

TEST(NumberTest, FormatLongDoubleMatchesIncrbyfloatReplies) {
  // Replies captured from Redis 7.0.15 INCRBYFLOAT.
  EXPECT_EQ(FormatLongDouble(10.5L), "10.5");
  EXPECT_EQ(FormatLongDouble(10.6L), "10.6");
  EXPECT_EQ(FormatLongDouble(5000.0L), "5000");
  EXPECT_EQ(FormatLongDouble(0.1L + 0.2L), "0.3");
  EXPECT_EQ(FormatLongDouble(1.0L + 3.0e-17L), "1.00000000000000003");
  EXPECT_EQ(FormatLongDouble(101.0L), "101");
  EXPECT_EQ(FormatLongDouble(-2.5L), "-2.5");
}

TEST(NumberTest, FormatLongDoublePrintsNegativeZeroAndTinyNegativesAsZero) {
  EXPECT_EQ(FormatLongDouble(0.0L), "0");
  EXPECT_EQ(FormatLongDouble(-0.0L), "0");
  EXPECT_EQ(FormatLongDouble(-1e-20L), "0");
}

TEST(NumberTest, FormatLongDoubleNeverUsesAnExponent) {
  EXPECT_EQ(FormatLongDouble(1e20L), "100000000000000000000");
  const std::string huge = FormatLongDouble(std::numeric_limits<long double>::max());
  EXPECT_EQ(huge.size(), 4933u);
  EXPECT_EQ(huge.find_first_not_of("0123456789"), std::string::npos);
}

TEST(NumberTest, FormatLongDoubleSpellsInfinities) {
  EXPECT_EQ(FormatLongDouble(std::numeric_limits<long double>::infinity()), "inf");
  EXPECT_EQ(FormatLongDouble(-std::numeric_limits<long double>::infinity()), "-inf");
}

TEST(NumberTest, FormatLongDoubleRoundTripsThroughParse) {
  for (const char* s : {"0", "1", "-1", "3.5", "1234.125", "0.0625", "-99.75"}) {
    long double v = 0;
    ASSERT_TRUE(ParseLongDouble(s, &v)) << s;
    EXPECT_EQ(FormatLongDouble(v), s);
  }
}

TEST(NumberTest, ParseDoubleAcceptsScoresAndInfinities) {
  double v = 0;
  ASSERT_TRUE(ParseDouble("1.5", &v));
  EXPECT_EQ(v, 1.5);
  ASSERT_TRUE(ParseDouble("inf", &v));
  EXPECT_EQ(v, std::numeric_limits<double>::infinity());
  ASSERT_TRUE(ParseDouble("+inf", &v));
  EXPECT_EQ(v, std::numeric_limits<double>::infinity());
  ASSERT_TRUE(ParseDouble("-inf", &v));
  EXPECT_EQ(v, -std::numeric_limits<double>::infinity());
  ASSERT_TRUE(ParseDouble("0x10", &v));
  EXPECT_EQ(v, 16);
  ASSERT_TRUE(ParseDouble("-3e2", &v));
  EXPECT_EQ(v, -300);
  ASSERT_TRUE(ParseDouble("4.9e-324", &v));
  EXPECT_GT(v, 0);
}

TEST(NumberTest, ParseDoubleRejectsNanSpacesGarbageAndOutOfRange) {
  double v = 9;
  for (const char* s :
       {"", " 1", "1 ", "inf ", "nan", "1abc", ".", "-", "1e400", "1e-400", "\n1"}) {
    EXPECT_FALSE(ParseDouble(s, &v)) << '"' << s << '"';
  }
  EXPECT_FALSE(ParseDouble(std::string_view("1\0", 2), &v));
  EXPECT_EQ(v, 9);
}

TEST(NumberTest, FormatDoubleUsesSeventeenSignificantDigits) {
  // ZSCORE replies from Redis 7.0.15.
  EXPECT_EQ(FormatDouble(1.5), "1.5");
  EXPECT_EQ(FormatDouble(0.1), "0.10000000000000001");
  EXPECT_EQ(FormatDouble(3.0), "3");
  EXPECT_EQ(FormatDouble(16), "16");
  EXPECT_EQ(FormatDouble(4.9406564584124654e-324), "4.9406564584124654e-324");
  EXPECT_EQ(FormatDouble(1e-320), "9.9998886718268301e-321");
  EXPECT_EQ(FormatDouble(1e20), "1e+20");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
}

TEST(NumberTest, FormatDoubleSpellsInfinities) {
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-inf");
}

}  // namespace
}  // namespace keel
