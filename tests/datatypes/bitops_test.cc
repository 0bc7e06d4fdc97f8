#include "datatypes/bitops.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace keel {
namespace {

using Args = std::vector<std::string_view>;
using namespace std::string_view_literals;

int64_t Count(std::string_view v, Args args) {
  Result<int64_t> r = BitCount(v, args);
  EXPECT_TRUE(r.ok()) << "detail: " << r.status().detail();
  return r.ok() ? *r : -999;
}

int64_t Pos(std::string_view v, Args args) {
  Result<int64_t> r = BitPos(v, true, args);
  EXPECT_TRUE(r.ok()) << "detail: " << r.status().detail();
  return r.ok() ? *r : -999;
}

BitfieldCommand ParseOk(Args args, bool readonly = false) {
  Result<BitfieldCommand> r = ParseBitfield(args, readonly);
  EXPECT_TRUE(r.ok()) << "detail: " << r.status().detail();
  return r.ok() ? *r : BitfieldCommand{};
}

std::vector<std::optional<int64_t>> RunBitfield(std::string* v, Args args) {
  return ExecuteBitfield(ParseOk(args), v).replies;
}

std::vector<std::optional<int64_t>> Vals(std::initializer_list<std::optional<int64_t>> v) {
  return v;
}

// ---- GETBIT / SETBIT ----

TEST(BitopsTest, ParseBitOffsetAcceptsZeroToTheLastBitOfTheSizeLimit) {
  EXPECT_EQ(*ParseBitOffset("0"), 0u);
  EXPECT_EQ(*ParseBitOffset("4294967295"), 4294967295u);
  EXPECT_EQ(ParseBitOffset("4294967296").code(), Code::kBitOffset);
  EXPECT_EQ(*ParseBitOffset("79", 10), 79u);
  EXPECT_EQ(ParseBitOffset("80", 10).code(), Code::kBitOffset);
}

TEST(BitopsTest, ParseBitOffsetRejectsNegativeNonIntegerAndHashForms) {
  for (const char* s : {"-1", "", "abc", "1.5", " 1", "01", "#1", "99999999999999999999"}) {
    EXPECT_EQ(ParseBitOffset(s).code(), Code::kBitOffset) << s;
  }
}

TEST(BitopsTest, ParseBitValueAcceptsOnlyZeroAndOne) {
  EXPECT_EQ(*ParseBitValue("0"), 0);
  EXPECT_EQ(*ParseBitValue("1"), 1);
  for (const char* s : {"2", "-1", "01", "", "a", " 1"}) {
    EXPECT_EQ(ParseBitValue(s).code(), Code::kBitValue) << s;
  }
}

TEST(BitopsTest, GetBitNumbersBitsFromTheMostSignificantBitOfByteZero) {
  const std::string v = "\x80\x01";
  EXPECT_EQ(GetBit(v, 0), 1);
  EXPECT_EQ(GetBit(v, 1), 0);
  EXPECT_EQ(GetBit(v, 15), 1);
  EXPECT_EQ(GetBit(v, 14), 0);
}

TEST(BitopsTest, GetBitPastTheEndIsZero) {
  EXPECT_EQ(GetBit("", 0), 0);
  EXPECT_EQ(GetBit("\xff", 8), 0);
  EXPECT_EQ(GetBit("\xff", std::numeric_limits<uint64_t>::max()), 0);
}

TEST(BitopsTest, SetBitGrowsWithZeroBytesAndReturnsTheOldBit) {
  std::string v;
  EXPECT_EQ(SetBit(&v, 7, 1), 0);
  EXPECT_EQ(v, std::string("\x01", 1));
  EXPECT_EQ(SetBit(&v, 7, 1), 1);
  EXPECT_EQ(SetBit(&v, 23, 1), 0);
  EXPECT_EQ(v, std::string("\x01\x00\x01", 3));
  EXPECT_EQ(SetBit(&v, 7, 0), 1);
  EXPECT_EQ(v, std::string("\x00\x00\x01", 3));
}

TEST(BitopsTest, SetBitClearingPastTheEndStillGrowsTheString) {
  std::string v = "a";
  EXPECT_EQ(SetBit(&v, 100, 0), 0);
  EXPECT_EQ(v.size(), 13u);
}

// ---- BITCOUNT ----

TEST(BitopsTest, BitcountWithoutRangeCountsTheWholeString) {
  EXPECT_EQ(Count("foobar", {}), 26);
  EXPECT_EQ(Count("", {}), 0);
  EXPECT_EQ(Count(std::string(1000, '\xff'), {}), 8000);
}

TEST(BitopsTest, BitcountWithByteRangeCountsInclusiveBytes) {
  EXPECT_EQ(Count("foobar", {"0", "0"}), 4);
  EXPECT_EQ(Count("foobar", {"1", "1"}), 6);
  EXPECT_EQ(Count("foobar", {"1", "1", "BYTE"}), 6);
  EXPECT_EQ(Count("foobar", {"0", "100"}), 26);
}

TEST(BitopsTest, BitcountWithNegativeRangeCountsFromTheEnd) {
  EXPECT_EQ(Count("foobar", {"-1", "-1"}), 4);  // 'r' = 0x72
  EXPECT_EQ(Count("foobar", {"-2", "-1"}), 7);
  EXPECT_EQ(Count("foobar", {"0", "-1"}), 26);
  EXPECT_EQ(Count("foobar", {"-100", "-1"}), 26);
}

TEST(BitopsTest, BitcountWithBothNegativeAndStartAfterEndIsZero) {
  // Without this rule both would clamp to 0 and count byte 0.
  EXPECT_EQ(Count("foobar", {"-100", "-200"}), 0);
  EXPECT_EQ(Count("foobar", {"-1", "-5"}), 0);
  EXPECT_EQ(Count("foobar", {"-100", "-100"}), 4);
}

TEST(BitopsTest, BitcountShortCircuitsReversedNegativeRangesBeforeCheckingTheUnit) {
  // Redis 7.0.15 replies 0 here without looking at the third argument.
  EXPECT_EQ(Count("foobar", {"-17", "-19", "foo"}), 0);
  EXPECT_EQ(Count("foobar", {"-5", "-10", "13"}), 0);
  EXPECT_EQ(BitCount("foobar", Args{"-10", "-5", "foo"}).code(), Code::kSyntax);
}

TEST(BitopsTest, BitcountWithStartPastEndOrPastTheStringIsZero) {
  EXPECT_EQ(Count("foobar", {"3", "2"}), 0);
  EXPECT_EQ(Count("foobar", {"6", "10"}), 0);
  EXPECT_EQ(Count("", {"0", "-1"}), 0);
}

TEST(BitopsTest, BitcountWithBitRangeCountsInclusiveBits) {
  EXPECT_EQ(Count("foobar", {"5", "30", "BIT"}), 17);
  EXPECT_EQ(Count("foobar", {"0", "-1", "bit"}), 26);
  EXPECT_EQ(Count("\xff", {"1", "1", "BIT"}), 1);
  EXPECT_EQ(Count("\xff\xff", {"3", "12", "BIT"}), 10);
  EXPECT_EQ(Count("\xff\xff", {"-3", "-1", "BIT"}), 3);
  EXPECT_EQ(Count("\xf0", {"4", "7", "BIT"}), 0);
}

TEST(BitopsTest, BitcountRejectsOddArgumentCountsAndUnknownUnits) {
  EXPECT_EQ(BitCount("foobar", Args{"1"}).code(), Code::kSyntax);
  EXPECT_EQ(BitCount("foobar", Args{"1", "2", "3", "4"}).code(), Code::kSyntax);
  EXPECT_EQ(BitCount("foobar", Args{"0", "-1", "foo"}).code(), Code::kSyntax);
}

TEST(BitopsTest, BitcountRejectsNonIntegerIndexesBeforeTheUnit) {
  EXPECT_EQ(BitCount("foobar", Args{"a", "-1", "foo"}).code(), Code::kNotInteger);
  EXPECT_EQ(BitCount("foobar", Args{"0", "1.0"}).code(), Code::kNotInteger);
}

TEST(BitopsTest, BitcountOnAMissingKeyIsZeroWhateverTheArguments) {
  EXPECT_EQ(*BitCount("", Args{"1"}, false), 0);
  EXPECT_EQ(*BitCount("", Args{"1", "2", "3", "4"}, false), 0);
  EXPECT_EQ(BitCount("", Args{"1"}, true).code(), Code::kSyntax);
}

TEST(BitopsTest, BitcountOverLongStringsMatchesABitByBitCount) {
  std::mt19937 rng(7);
  std::string v(1001, '\0');
  for (char& c : v) c = static_cast<char>(rng());
  for (int iter = 0; iter < 300; ++iter) {
    const int64_t a = static_cast<int64_t>(rng() % 8008);
    const int64_t b = static_cast<int64_t>(rng() % 8008);
    int64_t expected = 0;
    for (int64_t i = a; i <= std::min<int64_t>(b, 8007); ++i) expected += GetBit(v, i);
    const std::string sa = std::to_string(a);
    const std::string sb = std::to_string(b);
    ASSERT_EQ(Count(v, {sa, sb, "BIT"}), expected) << a << ".." << b;
  }
}

// ---- BITPOS ----

TEST(BitopsTest, BitposFindsTheFirstSetOrClearBit) {
  EXPECT_EQ(Pos("\xff\xf0\x00"sv, {"0"}), 12);
  EXPECT_EQ(Pos("\x00\xff\xf0"sv, {"1"}), 8);
  EXPECT_EQ(Pos("\x00\x00\x00"sv, {"1"}), -1);
  EXPECT_EQ(Pos("\x80"sv, {"1"}), 0);
}

TEST(BitopsTest, BitposForAClearBitInAllOnesWithoutEndPointsPastTheString) {
  EXPECT_EQ(Pos("\xff\xff\xff"sv, {"0"}), 24);
  EXPECT_EQ(Pos("\xff\xff\xff"sv, {"0", "1"}), 24);
  EXPECT_EQ(Pos("\xff\xff\xff"sv, {"0", "0", "-1"}), -1);
  EXPECT_EQ(Pos("\xff\xff\xff"sv, {"0", "8", "-1", "BIT"}), -1);
  EXPECT_EQ(Pos("\xff\xff\xff"sv, {"0", "8"}), -1) << "no end: the start is in bytes";
}

TEST(BitopsTest, BitposWithBitUnitSearchesInclusiveBitRanges) {
  EXPECT_EQ(Pos("\x00\x00\x01"sv, {"1", "3", "-1", "BIT"}), 23);
  EXPECT_EQ(Pos("\x00\xff\x00"sv, {"1", "7", "15", "BIT"}), 8);
  EXPECT_EQ(Pos("\x00\xff\x00"sv, {"0", "8", "15", "BIT"}), -1);
  EXPECT_EQ(Pos("\x00\xff\x00"sv, {"0", "8", "16", "BIT"}), 16);
  EXPECT_EQ(Pos("\xff\x00"sv, {"0", "2", "4", "BIT"}), -1);
  EXPECT_EQ(Pos("\xf0\x00"sv, {"0", "2", "4", "BIT"}), 4);
}

TEST(BitopsTest, BitposWithByteRangeSearchesOnlyThoseBytes) {
  EXPECT_EQ(Pos("\xff\xf0\x00"sv, {"1", "2"}), -1);
  EXPECT_EQ(Pos("\x00\xff\xf0"sv, {"0", "1", "1"}), -1);
  EXPECT_EQ(Pos("\x00\xff\xf0"sv, {"0", "1", "2"}), 20);
  EXPECT_EQ(Pos("\x00\xff\xf0"sv, {"1", "-1"}), 16);
  EXPECT_EQ(Pos("\x00\xff\xf0"sv, {"1", "-1", "-1", "BYTE"}), 16);
}

TEST(BitopsTest, BitposWithEmptyRangeIsMinusOne) {
  EXPECT_EQ(Pos("\x00\xff"sv, {"0", "5"}), -1);
  EXPECT_EQ(Pos("\x00\xff"sv, {"0", "1", "0"}), -1);
  EXPECT_EQ(Pos("", {"0"}), -1) << "an existing empty string has no bits at all";
  EXPECT_EQ(Pos("", {"1"}), -1);
  EXPECT_EQ(Pos("", {"0", "0"}), -1);
}

TEST(BitopsTest, BitposOnAMissingKeyTreatsItAsInfiniteZeros) {
  EXPECT_EQ(*BitPos("", false, Args{"0"}), 0);
  EXPECT_EQ(*BitPos("", false, Args{"1"}), -1);
  EXPECT_EQ(*BitPos("", false, Args{"0", "garbage", "x", "y", "z"}), 0);
  EXPECT_EQ(BitPos("", false, Args{"2"}).code(), Code::kBitArgument);
}

TEST(BitopsTest, BitposRejectsABitOtherThanZeroOrOne) {
  Result<int64_t> r = BitPos("a", true, Args{"2"});
  EXPECT_EQ(r.code(), Code::kBitArgument);
  EXPECT_EQ(BitPos("a", true, Args{"-1"}).code(), Code::kBitArgument);
  EXPECT_EQ(BitPos("a", true, Args{"x"}).code(), Code::kNotInteger);
}

TEST(BitopsTest, BitposRejectsBadRangesWithRedisErrorOrder) {
  EXPECT_EQ(BitPos("a", true, Args{"1", "x"}).code(), Code::kNotInteger);
  EXPECT_EQ(BitPos("a", true, Args{"1", "0", "x"}).code(), Code::kNotInteger);
  // The unit is checked before the end is parsed.
  EXPECT_EQ(BitPos("a", true, Args{"1", "0", "x", "foo"}).code(), Code::kSyntax);
  EXPECT_EQ(BitPos("a", true, Args{"1", "0", "x", "bit"}).code(), Code::kNotInteger);
  EXPECT_EQ(BitPos("a", true, Args{"1", "0", "1", "bit", "x"}).code(), Code::kSyntax);
}

TEST(BitopsTest, BitposOverLongStringsMatchesALinearScan) {
  std::mt19937 rng(99);
  for (int iter = 0; iter < 300; ++iter) {
    std::string v(1 + rng() % 64, '\0');
    const char fill = (rng() % 2) ? '\xff' : '\0';
    for (char& c : v) c = fill;
    if (rng() % 2) v[rng() % v.size()] = static_cast<char>(rng());
    const int bit = static_cast<int>(rng() % 2);
    const int64_t nbits = static_cast<int64_t>(v.size()) * 8;
    const int64_t a = static_cast<int64_t>(rng() % nbits);
    const int64_t b = static_cast<int64_t>(rng() % nbits);
    int64_t expected = -1;
    for (int64_t i = a; i <= b; ++i) {
      if (GetBit(v, i) == bit) {
        expected = i;
        break;
      }
    }
    const std::string sbit = std::to_string(bit);
    const std::string sa = std::to_string(a);
    const std::string sb = std::to_string(b);
    ASSERT_EQ(Pos(v, {sbit, sa, sb, "BIT"}), expected) << bit << " " << a << ".." << b;
  }
}

// ---- BITOP ----

TEST(BitopsTest, ParseBitOpAcceptsTheFourOperationsInAnyCase) {
  EXPECT_EQ(*ParseBitOp("and", 2), BitOpKind::kAnd);
  EXPECT_EQ(*ParseBitOp("OR", 1), BitOpKind::kOr);
  EXPECT_EQ(*ParseBitOp("Xor", 3), BitOpKind::kXor);
  EXPECT_EQ(*ParseBitOp("not", 1), BitOpKind::kNot);
}

TEST(BitopsTest, ParseBitOpRejectsUnknownOperationsAsSyntaxErrors) {
  EXPECT_EQ(ParseBitOp("diff", 2).code(), Code::kSyntax);
  EXPECT_EQ(ParseBitOp("nand", 2).code(), Code::kSyntax);
  EXPECT_EQ(ParseBitOp("", 2).code(), Code::kSyntax);
}

TEST(BitopsTest, ParseBitOpRequiresASingleSourceForNot) {
  Result<BitOpKind> r = ParseBitOp("NOT", 2);
  EXPECT_EQ(r.code(), Code::kBitopNotArity);
}

TEST(BitopsTest, BitOpPadsShorterSourcesWithZeros) {
  EXPECT_EQ(BitOp(BitOpKind::kAnd, {"\xff\xff", "\x0f"}), std::string("\x0f\x00", 2));
  EXPECT_EQ(BitOp(BitOpKind::kOr, {"\x01", "\x10\x20"}), "\x11\x20");
  EXPECT_EQ(BitOp(BitOpKind::kXor, {"\xff\x0f", "\x0f"}), "\xf0\x0f");
  EXPECT_EQ(BitOp(BitOpKind::kAnd, {"\xff", "\xff\xff", "\xff\xff\xff"}),
            std::string("\xff\x00\x00", 3));
}

TEST(BitopsTest, BitOpNotInvertsEveryByte) {
  EXPECT_EQ(BitOp(BitOpKind::kNot, {std::string_view("\x00\xf0", 2)}), "\xff\x0f");
}

TEST(BitopsTest, BitOpOfOnlyMissingKeysIsEmpty) {
  EXPECT_EQ(BitOp(BitOpKind::kAnd, {"", ""}), "");
  EXPECT_EQ(BitOp(BitOpKind::kNot, {""}), "");
}

TEST(BitopsTest, BitOpAndWithAMissingKeyIsAllZeros) {
  EXPECT_EQ(BitOp(BitOpKind::kAnd, {"", "abc"}), std::string(3, '\0'));
  EXPECT_EQ(BitOp(BitOpKind::kOr, {"", "abc"}), "abc");
  EXPECT_EQ(BitOp(BitOpKind::kXor, {"abc", "abc"}), std::string(3, '\0'));
}

// ---- BITFIELD parsing ----

TEST(BitfieldTest, ParsesGetSetIncrbyWithTypesAndOffsets) {
  BitfieldCommand cmd =
      ParseOk({"GET", "u8", "0", "set", "i5", "#3", "-3", "INCRBY", "i64", "100", "7"});
  ASSERT_EQ(cmd.ops.size(), 3u);
  EXPECT_EQ(cmd.ops[0].kind, BitfieldOp::Kind::kGet);
  EXPECT_FALSE(cmd.ops[0].is_signed);
  EXPECT_EQ(cmd.ops[0].bits, 8);
  EXPECT_EQ(cmd.ops[1].kind, BitfieldOp::Kind::kSet);
  EXPECT_TRUE(cmd.ops[1].is_signed);
  EXPECT_EQ(cmd.ops[1].offset, 15u) << "#3 of an i5 is bit 15";
  EXPECT_EQ(cmd.ops[1].value, -3);
  EXPECT_EQ(cmd.ops[2].kind, BitfieldOp::Kind::kIncrBy);
  EXPECT_EQ(cmd.ops[2].bits, 64);
  EXPECT_EQ(cmd.ops[2].offset, 100u);
  EXPECT_TRUE(cmd.has_writes);
  EXPECT_EQ(cmd.required_bytes, (100u + 63u) / 8 + 1);
}

TEST(BitfieldTest, GetOnlyCommandsHaveNoWrites) {
  BitfieldCommand cmd = ParseOk({"get", "u8", "0", "overflow", "sat", "get", "i3", "7"});
  EXPECT_FALSE(cmd.has_writes);
  EXPECT_EQ(cmd.required_bytes, 0u);
  EXPECT_TRUE(ParseOk({}).ops.empty());
}

TEST(BitfieldTest, OverflowAppliesToTheFollowingOpsOnly) {
  BitfieldCommand cmd = ParseOk(
      {"incrby", "u8",  "0",  "1", "overflow", "SAT",      "incrby", "u8",  "0",  "1", "OVERFLOW",
       "fail",   "set", "u8", "0", "1",        "overflow", "wrap",   "get", "u8", "0"});
  ASSERT_EQ(cmd.ops.size(), 4u);
  EXPECT_EQ(cmd.ops[0].overflow, BitfieldOverflow::kWrap);
  EXPECT_EQ(cmd.ops[1].overflow, BitfieldOverflow::kSat);
  EXPECT_EQ(cmd.ops[2].overflow, BitfieldOverflow::kFail);
  EXPECT_EQ(cmd.ops[3].overflow, BitfieldOverflow::kWrap);
}

TEST(BitfieldTest, RejectsInvalidTypesWithTheRedisMessage) {
  // Redis 7.0 accepts only lower-case 'i' and 'u'.
  for (const char* type :
       {"u64", "i65", "x8", "i0", "u0", "i08", "i", "", "i-1", "8", "u8 ", "I8", "U7"}) {
    Result<BitfieldCommand> r = ParseBitfield(Args{"get", type, "0"}, false);
    EXPECT_EQ(r.code(), Code::kBitfieldType) << type;
  }
  EXPECT_TRUE(ParseBitfield(Args{"get", "i64", "0"}, false).ok());
  EXPECT_TRUE(ParseBitfield(Args{"get", "u63", "0"}, false).ok());
  EXPECT_TRUE(ParseBitfield(Args{"get", "i1", "0"}, false).ok());
}

TEST(BitfieldTest, RejectsBadOffsets) {
  for (const char* off : {"-1", "#-1", "x", "#", "", "4294967296", "#536870912", "1.5"}) {
    EXPECT_EQ(ParseBitfield(Args{"get", "u8", off}, false).code(), Code::kBitOffset) << off;
  }
  EXPECT_EQ(ParseOk({"get", "u8", "4294967295"}).ops[0].offset, 4294967295u);
  EXPECT_EQ(ParseOk({"get", "u8", "#536870911"}).ops[0].offset, 4294967288u);
}

TEST(BitfieldTest, RejectsHashOffsetsWhoseMultiplicationOverflows) {
  // 2^61 + 1 times 8 wraps to 8 in 64 bits; Redis's undefined behaviour would accept it.
  EXPECT_EQ(ParseBitfield(Args{"get", "u8", "#2305843009213693953"}, false).code(),
            Code::kBitOffset);
}

TEST(BitfieldTest, RespectsACustomSizeLimit) {
  EXPECT_TRUE(ParseBitfield(Args{"get", "u8", "79"}, false, 10).ok());
  EXPECT_EQ(ParseBitfield(Args{"get", "u8", "80"}, false, 10).code(), Code::kBitOffset);
}

TEST(BitfieldTest, RejectsUnknownSubcommandsAndMissingArgumentsAsSyntaxErrors) {
  EXPECT_EQ(ParseBitfield(Args{"foo"}, false).code(), Code::kSyntax);
  EXPECT_EQ(ParseBitfield(Args{"get", "u8"}, false).code(), Code::kSyntax);
  EXPECT_EQ(ParseBitfield(Args{"set", "u8", "0"}, false).code(), Code::kSyntax);
  EXPECT_EQ(ParseBitfield(Args{"incrby", "u8", "0"}, false).code(), Code::kSyntax);
  EXPECT_EQ(ParseBitfield(Args{"overflow"}, false).code(), Code::kSyntax);
}

TEST(BitfieldTest, RejectsUnknownOverflowModes) {
  Result<BitfieldCommand> r = ParseBitfield(Args{"overflow", "foo"}, false);
  EXPECT_EQ(r.code(), Code::kBitfieldOverflowType);
}

TEST(BitfieldTest, RejectsNonIntegerValues) {
  EXPECT_EQ(ParseBitfield(Args{"set", "u8", "0", "x"}, false).code(), Code::kNotInteger);
  EXPECT_EQ(ParseBitfield(Args{"incrby", "u8", "0", "1.5"}, false).code(), Code::kNotInteger);
}

TEST(BitfieldTest, ReadonlyVariantRejectsWritesAfterParsingEverything) {
  Result<BitfieldCommand> r = ParseBitfield(Args{"set", "i8", "0", "1"}, true);
  EXPECT_EQ(r.code(), Code::kBitfieldReadOnly);
  // Parse errors anywhere in the command win over the read-only error.
  EXPECT_EQ(ParseBitfield(Args{"set", "u8", "0", "x"}, true).code(), Code::kNotInteger);
  EXPECT_EQ(
      ParseBitfield(Args{"get", "u8", "0", "set", "u8", "0", "1", "get", "foo", "0"}, true).code(),
      Code::kBitfieldType);
  EXPECT_TRUE(
      ParseBitfield(Args{"get", "u8", "0", "overflow", "fail", "get", "u8", "0"}, true).ok());
}

// ---- BITFIELD execution ----

TEST(BitfieldTest, GetReadsUnsignedAndSignedFieldsMostSignificantBitFirst) {
  std::string v = "\xa5\x0f";  // 1010 0101 0000 1111
  EXPECT_EQ(
      RunBitfield(&v, {"get", "u4",  "0",  "get", "i4",  "0",   "get", "u8",  "4",  "get", "i1",
                       "0",   "get", "u1", "0",   "get", "u16", "0",   "get", "i3", "#1"}),
      Vals({10, -6, 0x50, -1, 1, 0xa50f, 1}));
}

TEST(BitfieldTest, GetPastTheEndReadsZeros) {
  std::string v = "\xff";
  EXPECT_EQ(RunBitfield(&v, {"get", "u8", "4", "get", "i64", "1000", "get", "u63", "0"}),
            Vals({0xf0, 0, static_cast<int64_t>(0x7f80000000000000)}));
  EXPECT_EQ(v, "\xff") << "reads never grow the value";
}

TEST(BitfieldTest, SetReturnsTheOldValueAndGrowsTheString) {
  std::string v;
  EXPECT_EQ(RunBitfield(&v, {"set", "i8", "0", "-100", "set", "u8", "8", "255", "get", "i8", "0"}),
            Vals({0, 0, -100}));
  EXPECT_EQ(v, "\x9c\xff");
  EXPECT_EQ(RunBitfield(&v, {"set", "u4", "4", "3"}), Vals({12}));
  EXPECT_EQ(v, "\x93\xff");
}

TEST(BitfieldTest, SetOfAnUnalignedFieldLeavesNeighbouringBitsAlone) {
  std::string v = "\xff\xff";
  EXPECT_EQ(RunBitfield(&v, {"set", "u6", "5", "0"}), Vals({63}));
  EXPECT_EQ(v, "\xf8\x1f");
}

TEST(BitfieldTest, IncrbyWrapsByDefault) {
  std::string v;
  EXPECT_EQ(RunBitfield(&v, {"incrby", "u2", "100", "1", "incrby", "u2", "100", "5"}),
            Vals({1, 2}));
  EXPECT_EQ(RunBitfield(&v, {"set", "i8", "0", "127", "incrby", "i8", "0", "1"}), Vals({0, -128}));
  EXPECT_EQ(RunBitfield(&v, {"incrby", "i8", "0", "-1"}), Vals({127}));
  EXPECT_EQ(RunBitfield(&v, {"set", "u8", "0", "0", "incrby", "u8", "0", "-1"}), Vals({127, 255}));
}

TEST(BitfieldTest, IncrbySaturatesWithOverflowSat) {
  std::string v;
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "incrby", "i8", "0", "200", "incrby", "i8", "0",
                             "-1000", "incrby", "u8", "8", "300", "incrby", "u8", "8", "-1000"}),
            Vals({127, -128, 255, 0}));
}

TEST(BitfieldTest, OverflowFailRepliesNilAndLeavesTheFieldUnchanged) {
  std::string v;
  EXPECT_EQ(RunBitfield(&v, {"overflow", "fail", "set", "i8", "0", "100", "incrby", "i8", "0",
                             "100", "get", "i8", "0", "incrby", "i8", "0", "-5"}),
            Vals({0, std::nullopt, 100, 95}));
}

TEST(BitfieldTest, WritesThatAllFailStillCreateTheKey) {
  // Redis grows the value to cover every write before running them; the key is created.
  std::string v;
  BitfieldResult r = ExecuteBitfield(ParseOk({"overflow", "fail", "set", "i8", "0", "200"}), &v);
  EXPECT_EQ(r.replies, Vals({std::nullopt}));
  EXPECT_TRUE(r.modified);
  EXPECT_EQ(v, std::string(1, '\0'));
}

TEST(BitfieldTest, UnsignedSetReadsTheValueAsUint64) {
  std::string v;
  // -1 as uint64 is far above 255: WRAP keeps the low bits, SAT clamps to the maximum.
  EXPECT_EQ(RunBitfield(&v, {"set", "u8", "0", "-1", "get", "u8", "0"}), Vals({0, 255}));
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "set", "u8", "0", "-1", "get", "u8", "0"}),
            Vals({255, 255}));
  EXPECT_EQ(RunBitfield(&v, {"overflow", "fail", "set", "u8", "0", "256"}), Vals({std::nullopt}));
}

TEST(BitfieldTest, SignedSetOutOfRangeWrapsSaturatesOrFails) {
  std::string v;
  EXPECT_EQ(RunBitfield(&v, {"set", "i8", "0", "200", "get", "i8", "0"}), Vals({0, -56}));
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "set", "i4", "0", "-100", "get", "i4", "0"}),
            Vals({-4, -8}));
}

TEST(BitfieldTest, SignedSetOfAHugeNegativeValueSaturatesToTheMaximumLikeRedis) {
  // Redis 7.0's overflow check wraps for values at or below max - 2^63 and classifies them
  // as positive overflows; verified against redis-server 7.0.15.
  std::string v;
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "set", "i22", "16", "-9223372036854775808", "get",
                             "i22", "16"}),
            Vals({0, (1 << 21) - 1}));
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "set", "i8", "0", "-9223372036854775681", "get",
                             "i8", "0"}),
            Vals({0, 127}))
      << "-2^63 + 127 is exactly max - 2^63";
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "set", "i8", "0", "-9223372036854775680", "get",
                             "i8", "0"}),
            Vals({127, -128}))
      << "one above that is an ordinary negative overflow";
  EXPECT_EQ(RunBitfield(&v, {"set", "i8", "0", "-9223372036854775808", "get", "i8", "0"}),
            Vals({-128, 0}))
      << "WRAP is unaffected: the low bits of INT64_MIN are zero";
}

TEST(BitfieldTest, Int64FieldsSaturateAndWrapAtTheInt64Limits) {
  std::string v;
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t min = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "incrby", "i64", "0", "9223372036854775807",
                             "incrby", "i64", "0", "1"}),
            Vals({max, max}));
  EXPECT_EQ(RunBitfield(&v, {"incrby", "i64", "0", "1"}), Vals({min}));
  EXPECT_EQ(RunBitfield(&v, {"overflow", "sat", "incrby", "i64", "0", "-1"}), Vals({min}));
  EXPECT_EQ(RunBitfield(&v, {"overflow", "fail", "incrby", "i64", "0", "-1"}),
            Vals({std::nullopt}));
  EXPECT_EQ(
      RunBitfield(&v, {"set", "i64", "0", "-1", "incrby", "i64", "0", "-9223372036854775808"}),
      Vals({min, max}));
}

TEST(BitfieldTest, U63FieldsHoldTheLargestUnsignedValue) {
  std::string v;
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(RunBitfield(&v, {"set", "u63", "1", "9223372036854775807", "get", "u63", "1", "incrby",
                             "u63", "1", "1"}),
            Vals({0, max, 0}));
}

TEST(BitfieldTest, ReadOnlyExecutionDoesNotModifyAnything) {
  const std::string v = "\x12\x34";
  BitfieldCommand cmd = ParseOk({"get", "u8", "0", "get", "u8", "8", "get", "u8", "16"}, true);
  EXPECT_EQ(ExecuteBitfieldReadOnly(cmd, v), Vals({0x12, 0x34, 0}));
  std::string copy = v;
  BitfieldResult r = ExecuteBitfield(cmd, &copy);
  EXPECT_FALSE(r.modified);
  EXPECT_EQ(copy, v);
}

TEST(BitfieldTest, ReadOnlyExecutionSkipsWriteOps) {
  BitfieldCommand cmd = ParseOk({"set", "u8", "0", "1", "get", "u8", "0"});
  EXPECT_EQ(ExecuteBitfieldReadOnly(cmd, "\x05"), Vals({std::nullopt, 5}));
}

TEST(BitfieldTest, WideFieldsAtTheLastAllowedOffsetGrowPastTheLimitLikeRedis) {
  BitfieldCommand cmd = ParseOk({"set", "u8", "79", "1"}, false);
  // Parsed with the default limit; check the arithmetic with a small one too.
  Result<BitfieldCommand> small = ParseBitfield(Args{"set", "i64", "79", "1"}, false, 10);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->required_bytes, (79u + 63u) / 8 + 1);
  std::string v;
  EXPECT_EQ(ExecuteBitfield(*small, &v).replies, Vals({0}));
  EXPECT_EQ(v.size(), 18u);
  EXPECT_EQ(cmd.required_bytes, 11u);
}

// ---- GETRANGE / SETRANGE ----

TEST(BitopsTest, GetRangeUsesInclusiveIndexesWithNegativesFromTheEnd) {
  const std::string v = "This is a string";
  EXPECT_EQ(GetRange(v, 0, 3), "This");
  EXPECT_EQ(GetRange(v, -3, -1), "ing");
  EXPECT_EQ(GetRange(v, 0, -1), v);
  EXPECT_EQ(GetRange(v, 10, 100), "string");
  EXPECT_EQ(GetRange(v, 5, 3), "");
  EXPECT_EQ(GetRange(v, 100, 200), "");
}

TEST(BitopsTest, GetRangeWithBothNegativeAndReversedIsEmpty) {
  EXPECT_EQ(GetRange("foobar", -1, -5), "");
  EXPECT_EQ(GetRange("foobar", -100, -200), "");
  EXPECT_EQ(GetRange("foobar", -100, -100), "f");
  EXPECT_EQ(GetRange("", 0, -1), "");
  EXPECT_EQ(
      GetRange("foobar", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()),
      "foobar");
}

TEST(BitopsTest, GetRangeArgumentsMustBeIntegers) {
  EXPECT_EQ(*GetRange("foobar", Args{"1", "2"}), "oo");
  EXPECT_EQ(GetRange("foobar", Args{"1", "x"}).code(), Code::kNotInteger);
  EXPECT_EQ(GetRange("foobar", Args{"x", "1"}).code(), Code::kNotInteger);
  EXPECT_EQ(GetRange("foobar", Args{"1"}).code(), Code::kSyntax);
}

TEST(BitopsTest, ParseSetRangeOffsetRejectsNegativeAndNonIntegerOffsets) {
  EXPECT_EQ(*ParseSetRangeOffset("5"), 5u);
  Result<uint64_t> r = ParseSetRangeOffset("-1");
  EXPECT_EQ(r.code(), Code::kOffsetOutOfRange);
  EXPECT_EQ(ParseSetRangeOffset("x").code(), Code::kNotInteger);
}

TEST(BitopsTest, SetRangeOverwritesAndPadsWithZeros) {
  std::string v = "Hello World";
  EXPECT_EQ(*SetRange(&v, 6, "Redis"), 11u);
  EXPECT_EQ(v, "Hello Redis");
  std::string empty;
  EXPECT_EQ(*SetRange(&empty, 3, "ab"), 5u);
  EXPECT_EQ(empty, std::string("\0\0\0ab", 5));
}

TEST(BitopsTest, SetRangeWithEmptyValueChangesNothingAndSkipsTheSizeCheck) {
  std::string v = "abc";
  EXPECT_EQ(*SetRange(&v, 1000, ""), 3u);
  EXPECT_EQ(v, "abc");
  EXPECT_EQ(*SetRange(&v, kDefaultProtoMaxBulkLen * 4, ""), 3u);
}

TEST(BitopsTest, SetRangeRejectsResultsLongerThanTheLimit) {
  std::string v;
  EXPECT_EQ(SetRange(&v, 9, "x", 10).code(), Code::kOk);
  EXPECT_EQ(v.size(), 10u);
  EXPECT_EQ(SetRange(&v, 10, "x", 10).code(), Code::kStringTooLong);
  EXPECT_EQ(SetRange(&v, std::numeric_limits<uint64_t>::max(), "x").code(), Code::kStringTooLong);
  EXPECT_EQ(v.size(), 10u);
}

}  // namespace
}  // namespace keel
