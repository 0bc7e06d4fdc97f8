#include "resp/reply_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace keel::resp {
namespace {

using std::string_literals::operator""s;

// Runs `write` against a fresh builder speaking `protocol` and returns what it appended.
template <typename Write>
std::string Reply(int protocol, Write write) {
  std::string out;
  ReplyBuilder builder(&out, protocol);
  write(builder);
  return out;
}

template <typename Write>
std::string Resp2(Write write) {
  return Reply(2, write);
}

template <typename Write>
std::string Resp3(Write write) {
  return Reply(3, write);
}

TEST(ReplyBuilderTest, SimpleStringIsTheSameInBothProtocols) {
  auto write = [](ReplyBuilder& b) { b.SimpleString("PONG"); };
  EXPECT_EQ(Resp2(write), "+PONG\r\n");
  EXPECT_EQ(Resp3(write), "+PONG\r\n");
}

TEST(ReplyBuilderTest, SimpleStringReplacesCrAndLfWithSpaces) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.SimpleString("a\r\nb\nc\r"); }), "+a  b c \r\n");
}

TEST(ReplyBuilderTest, OkIsASimpleString) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Ok(); }), "+OK\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Ok(); }), "+OK\r\n");
}

TEST(ReplyBuilderTest, ErrorIsPrefixedWithAMinusInBothProtocols) {
  auto write = [](ReplyBuilder& b) { b.Error("ERR unknown command 'foo'"); };
  EXPECT_EQ(Resp2(write), "-ERR unknown command 'foo'\r\n");
  EXPECT_EQ(Resp3(write), "-ERR unknown command 'foo'\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Error("WRONGTYPE Operation"); }),
            "-WRONGTYPE Operation\r\n");
}

TEST(ReplyBuilderTest, ErrorReplacesCrAndLfWithSpaces) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Error("ERR bad\r\nthing\n"); }), "-ERR bad  thing \r\n");
}

TEST(ReplyBuilderTest, ErrorDoesNotDoubleALeadingMinus) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Error("-ERR x"); }), "-ERR x\r\n");
}

TEST(ReplyBuilderTest, IntegerCoversTheWholeInt64Range) {
  auto write = [](ReplyBuilder& b) {
    b.Integer(0);
    b.Integer(-1);
    b.Integer(42);
    b.Integer(std::numeric_limits<int64_t>::max());
    b.Integer(std::numeric_limits<int64_t>::min());
  };
  const std::string expected =
      ":0\r\n:-1\r\n:42\r\n:9223372036854775807\r\n:-9223372036854775808\r\n";
  EXPECT_EQ(Resp2(write), expected);
  EXPECT_EQ(Resp3(write), expected);
}

TEST(ReplyBuilderTest, BulkIsLengthPrefixedAndBinarySafe) {
  auto write = [](ReplyBuilder& b) {
    b.Bulk("hello");
    b.Bulk("");
    b.Bulk("a\0b\r\n"s);
  };
  const std::string expected = "$5\r\nhello\r\n$0\r\n\r\n$5\r\na\0b\r\n\r\n"s;
  EXPECT_EQ(Resp2(write), expected);
  EXPECT_EQ(Resp3(write), expected);
}

TEST(ReplyBuilderTest, LargeBulkHeaderHasTheFullLength) {
  const std::string big(1234567, 'x');
  const std::string out = Resp2([&](ReplyBuilder& b) { b.Bulk(big); });
  EXPECT_EQ(out.substr(0, 10), "$1234567\r\n");
  EXPECT_EQ(out.size(), 10 + big.size() + 2);
}

TEST(ReplyBuilderTest, NullBulkIsDollarMinusOneInResp2AndUnderscoreInResp3) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.NullBulk(); }), "$-1\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.NullBulk(); }), "_\r\n");
}

TEST(ReplyBuilderTest, NullArrayIsStarMinusOneInResp2AndUnderscoreInResp3) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.NullArray(); }), "*-1\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.NullArray(); }), "_\r\n");
}

TEST(ReplyBuilderTest, ArrayHeaderIsTheSameInBothProtocols) {
  auto write = [](ReplyBuilder& b) {
    b.Array(0);
    b.Array(3);
  };
  EXPECT_EQ(Resp2(write), "*0\r\n*3\r\n");
  EXPECT_EQ(Resp3(write), "*0\r\n*3\r\n");
}

TEST(ReplyBuilderTest, MapIsPercentInResp3AndAFlatArrayOfTwiceTheSizeInResp2) {
  auto write = [](ReplyBuilder& b) {
    b.Map(2);
    b.Bulk("a");
    b.Integer(1);
    b.Bulk("b");
    b.Integer(2);
  };
  EXPECT_EQ(Resp3(write), "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
  EXPECT_EQ(Resp2(write), "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
}

TEST(ReplyBuilderTest, SetIsTildeInResp3AndAnArrayInResp2) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Set(2); }), "~2\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Set(2); }), "*2\r\n");
}

TEST(ReplyBuilderTest, PushIsGreaterThanInResp3AndAnArrayInResp2) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Push(3); }), ">3\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Push(3); }), "*3\r\n");
}

TEST(ReplyBuilderTest, DoubleIsACommaLineInResp3AndABulkInResp2) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(1.5); }), ",1.5\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(1.5); }), "$3\r\n1.5\r\n");
}

TEST(ReplyBuilderTest, DoubleUsesSeventeenSignificantDigits) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(0.1); }), ",0.10000000000000001\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(0.1); }), "$19\r\n0.10000000000000001\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(3.0); }), ",3\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(-0.0); }), ",-0\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(1.0 / 3); }), ",0.33333333333333331\r\n");
}

TEST(ReplyBuilderTest, LargeAndTinyDoublesUseExponentNotation) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(1e300); }), ",1.0000000000000001e+300\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(1e300); }), "$23\r\n1.0000000000000001e+300\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(1e17); }), ",1e+17\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(1e16); }), ",10000000000000000\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(2.5e-308); }), ",2.4999999999999998e-308\r\n");
}

TEST(ReplyBuilderTest, InfinitiesAndNanAreSpelledOut) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Resp3([&](ReplyBuilder& b) { b.Double(inf); }), ",inf\r\n");
  EXPECT_EQ(Resp3([&](ReplyBuilder& b) { b.Double(-inf); }), ",-inf\r\n");
  EXPECT_EQ(Resp2([&](ReplyBuilder& b) { b.Double(inf); }), "$3\r\ninf\r\n");
  EXPECT_EQ(Resp2([&](ReplyBuilder& b) { b.Double(-inf); }), "$4\r\n-inf\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(std::nan("")); }), ",nan\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(std::nan("")); }), "$3\r\nnan\r\n");
}

TEST(ReplyBuilderTest, DoubleFormattingMatchesPrintfPercentPoint17g) {
  for (double d : {1.5, 0.1, 1e300, -1e-300, 123456789.125, 1e21, 5e-324, 1.7976931348623157e308,
                   -2.0 / 3, 42.0, 1e-5, 0.0001}) {
    char text[64];
    std::snprintf(text, sizeof(text), "%.17g", d);
    EXPECT_EQ(Resp3([&](ReplyBuilder& b) { b.Double(d); }), "," + std::string(text) + "\r\n");
  }
}

TEST(ReplyBuilderTest, BoolIsHashInResp3AndAnIntegerInResp2) {
  auto write = [](ReplyBuilder& b) {
    b.Bool(true);
    b.Bool(false);
  };
  EXPECT_EQ(Resp3(write), "#t\r\n#f\r\n");
  EXPECT_EQ(Resp2(write), ":1\r\n:0\r\n");
}

TEST(ReplyBuilderTest, BigNumberIsAParenthesisLineInResp3AndABulkInResp2) {
  auto write = [](ReplyBuilder& b) { b.BigNumber("3492890328409238509324850943850943825024385"); };
  EXPECT_EQ(Resp3(write), "(3492890328409238509324850943850943825024385\r\n");
  EXPECT_EQ(Resp2(write), "$43\r\n3492890328409238509324850943850943825024385\r\n");
}

TEST(ReplyBuilderTest, VerbatimCarriesItsFormatInResp3AndIsABulkInResp2) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim("Some string"); }),
            "=15\r\ntxt:Some string\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim("# Title", "mkd"); }), "=11\r\nmkd:# Title\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Verbatim("Some string"); }), "$11\r\nSome string\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim(""); }), "=4\r\ntxt:\r\n");
}

TEST(ReplyBuilderTest, VerbatimFormatIsPaddedOrCutToThreeBytes) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim("x", "md"); }), "=5\r\nmd :x\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim("x", "markdown"); }), "=5\r\nmar:x\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim("x", ""); }), "=5\r\n   :x\r\n");
}

TEST(ReplyBuilderTest, BulkArrayWritesAHeaderAndOneBulkPerElement) {
  const std::vector<std::string> strings = {"a", "bc", ""};
  const std::vector<std::string_view> views = {"a", "bc", ""};
  const std::string expected = "*3\r\n$1\r\na\r\n$2\r\nbc\r\n$0\r\n\r\n";
  EXPECT_EQ(Resp2([&](ReplyBuilder& b) { b.BulkArray(strings); }), expected);
  EXPECT_EQ(Resp3([&](ReplyBuilder& b) { b.BulkArray(views); }), expected);
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.BulkArray(std::vector<std::string>{}); }), "*0\r\n");
}

TEST(ReplyBuilderTest, DeferredArrayGetsItsHeaderWhereItBegan) {
  auto write = [](ReplyBuilder& b) {
    b.Integer(7);
    const size_t handle = b.BeginDeferredArray();
    b.Bulk("a");
    b.Bulk("b");
    b.EndDeferredArray(handle, 2);
    b.Ok();
  };
  const std::string expected = ":7\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n+OK\r\n";
  EXPECT_EQ(Resp2(write), expected);
  EXPECT_EQ(Resp3(write), expected);
}

TEST(ReplyBuilderTest, EmptyDeferredArrayIsStarZero) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.EndDeferredArray(b.BeginDeferredArray(), 0); }),
            "*0\r\n");
}

TEST(ReplyBuilderTest, NestedDeferredArraysEndInnermostFirst) {
  // SCAN's reply: [cursor, [keys...]] with both lengths deferred.
  auto write = [](ReplyBuilder& b) {
    const size_t outer = b.BeginDeferredArray();
    b.Bulk("0");
    const size_t inner = b.BeginDeferredArray();
    for (const char* key : {"k1", "k2", "k3"}) b.Bulk(key);
    b.EndDeferredArray(inner, 3);
    b.EndDeferredArray(outer, 2);
  };
  EXPECT_EQ(Resp2(write), "*2\r\n$1\r\n0\r\n*3\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\nk3\r\n");
}

TEST(ReplyBuilderTest, DeferredAggregatesBegunAtTheSamePlaceNestInOrder) {
  auto write = [](ReplyBuilder& b) {
    const size_t outer = b.BeginDeferredArray();
    const size_t inner = b.BeginDeferredArray();
    b.Integer(1);
    b.EndDeferredArray(inner, 1);
    b.EndDeferredArray(outer, 1);
  };
  EXPECT_EQ(Resp2(write), "*1\r\n*1\r\n:1\r\n");
}

TEST(ReplyBuilderTest, DeferredMapCountsPairs) {
  auto write = [](ReplyBuilder& b) {
    const size_t handle = b.BeginDeferredMap();
    b.Bulk("f");
    b.Bulk("v");
    b.EndDeferredMap(handle, 1);
  };
  EXPECT_EQ(Resp3(write), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(Resp2(write), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
}

TEST(ReplyBuilderTest, DeferredSetIsTildeInResp3AndAnArrayInResp2) {
  auto write = [](ReplyBuilder& b) {
    const size_t handle = b.BeginDeferredSet();
    b.Bulk("m");
    b.EndDeferredSet(handle, 1);
  };
  EXPECT_EQ(Resp3(write), "~1\r\n$1\r\nm\r\n");
  EXPECT_EQ(Resp2(write), "*1\r\n$1\r\nm\r\n");
}

TEST(ReplyBuilderTest, ProtocolCanBeSwitchedBetweenReplies) {
  std::string out;
  ReplyBuilder builder(&out);
  EXPECT_EQ(builder.protocol(), 2);
  builder.NullBulk();
  builder.set_protocol(3);
  EXPECT_EQ(builder.protocol(), 3);
  builder.NullBulk();
  builder.set_protocol(2);
  builder.Bool(true);
  EXPECT_EQ(out, "$-1\r\n_\r\n:1\r\n");
}

TEST(ReplyBuilderTest, OutputCanBeRedirectedToAnotherString) {
  std::string first = "existing";
  std::string second;
  ReplyBuilder builder(&first);
  EXPECT_EQ(builder.output(), &first);
  builder.Integer(1);
  builder.set_output(&second);
  EXPECT_EQ(builder.output(), &second);
  builder.Integer(2);
  EXPECT_EQ(first, "existing:1\r\n");
  EXPECT_EQ(second, ":2\r\n");
}

TEST(ReplyBuilderTest, RepliesAppendWithoutTouchingEarlierBytes) {
  std::string out = "prefix";
  ReplyBuilder builder(&out, 3);
  builder.Map(1);
  builder.SimpleString("k");
  builder.Double(2.5);
  EXPECT_EQ(out, "prefix%1\r\n+k\r\n,2.5\r\n");
}

}  // namespace
}  // namespace keel::resp
