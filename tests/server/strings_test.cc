// String and bitmap commands over the wire, with Redis 7.0's exact replies and errors.
#include <cstdlib>
#include <string>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using StringCommandsTest = ServerTest;

// ":123" -> 123; anything else fails the calling test's expectation.
int64_t IntOf(const std::string& reply) {
  EXPECT_TRUE(!reply.empty() && reply[0] == ':') << reply;
  if (reply.empty() || reply[0] != ':') return INT64_MIN;
  return std::strtoll(reply.c_str() + 1, nullptr, 10);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ------------------------------------------------------------------ SET / GET

TEST_F(StringCommandsTest, SetThenGetReturnsTheValue) {
  EXPECT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "v");
}

TEST_F(StringCommandsTest, GetOfMissingKeyIsNil) { EXPECT_EQ(Cmd({"GET", "nope"}), "(nil)"); }

TEST_F(StringCommandsTest, SetOverwritesAndClearsTheTtl) {
  EXPECT_EQ(Cmd({"SET", "k", "v1", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v2"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "v2");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
}

TEST_F(StringCommandsTest, SetReplacesAKeyOfAnotherType) {
  ASSERT_EQ(Cmd({"SETBIT", "b", "1", "1"}), ":0");
  EXPECT_EQ(Cmd({"SET", "b", "plain"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "b"}), "plain");
}

TEST_F(StringCommandsTest, SetNxOnlyWritesAbsentKeys) {
  EXPECT_EQ(Cmd({"SET", "k", "1", "NX"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "2", "nx"}), "(nil)");
  EXPECT_EQ(Cmd({"GET", "k"}), "1");
}

TEST_F(StringCommandsTest, SetXxOnlyWritesExistingKeys) {
  EXPECT_EQ(Cmd({"SET", "k", "1", "XX"}), "(nil)");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
  EXPECT_EQ(Cmd({"SET", "k", "1"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "2", "XX"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "2");
}

TEST_F(StringCommandsTest, SetNxWithXxIsASyntaxError) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "NX", "XX"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SET", "k", "v", "XX", "NX"}), "-ERR syntax error");
}

TEST_F(StringCommandsTest, SetAcceptsARepeatedOptionOfTheSameKind) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "NX", "NX"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "w", "GET", "GET"}), "v");
  EXPECT_EQ(Cmd({"SET", "k", "v", "KEEPTTL", "KEEPTTL"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "10", "EX", "1000"}), "+OK");
  EXPECT_GT(IntOf(Cmd({"TTL", "k"})), 10);  // the last EX wins
}

TEST_F(StringCommandsTest, SetWithExSetsTheTtlInSeconds) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
}

TEST_F(StringCommandsTest, SetWithPxSetsTheTtlInMilliseconds) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "px", "100000"}), "+OK");
  int64_t pttl = IntOf(Cmd({"PTTL", "k"}));
  EXPECT_GT(pttl, 90000);
  EXPECT_LE(pttl, 100000);
}

TEST_F(StringCommandsTest, SetWithExatAndPxatSetsTheAbsoluteExpiry) {
  int64_t at_s = NowMs() / 1000 + 1000;
  EXPECT_EQ(Cmd({"SET", "a", "v", "EXAT", std::to_string(at_s)}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRETIME", "a"}), ":" + std::to_string(at_s));
  int64_t at_ms = NowMs() + 1000000;
  EXPECT_EQ(Cmd({"SET", "b", "v", "PXAT", std::to_string(at_ms)}), "+OK");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "b"}), ":" + std::to_string(at_ms));
}

TEST_F(StringCommandsTest, SetWithExatInThePastStoresNothing) {
  EXPECT_EQ(Cmd({"SET", "k", "old"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "v", "EXAT", "1"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PXAT", "1"}), "+OK");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

TEST_F(StringCommandsTest, SetWithNonPositiveExpireIsInvalidExpireTime) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "-1"}), "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(Cmd({"SET", "k", "v", "EXAT", "0"}), "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

TEST_F(StringCommandsTest, SetWithOverflowingExpireIsInvalidExpireTime) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "9223372036854775807"}),
            "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "9223372036854775"}),
            "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "9223372036854775807"}),
            "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(Cmd({"SET", "k", "v", "EXAT", "9223372036854775807"}),
            "-ERR invalid expire time in 'set' command");
}

TEST_F(StringCommandsTest, SetWithPxatAtInt64MaxIsAccepted) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "PXAT", "9223372036854775807"}), "+OK");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "k"}), ":9223372036854775807");
}

TEST_F(StringCommandsTest, SetWithNonNumericExpireIsNotAnInteger) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "ten"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "1.5"}), "-ERR value is not an integer or out of range");
}

TEST_F(StringCommandsTest, SetReportsSyntaxErrorsBeforeABadExpireValue) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "abc", "XX", "NX"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "0", "NX", "XX"}), "-ERR syntax error");
}

TEST_F(StringCommandsTest, SetWithTwoKindsOfExpireIsASyntaxError) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "10", "PX", "10"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "10", "EXAT", "10"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SET", "k", "v", "KEEPTTL", "PX", "100"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SET", "k", "v", "PX", "100", "KEEPTTL"}), "-ERR syntax error");
}

TEST_F(StringCommandsTest, SetWithExpireKeywordAtTheEndIsASyntaxError) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SET", "k", "v", "bogus"}), "-ERR syntax error");
}

TEST_F(StringCommandsTest, SetKeepTtlKeepsTheTtl) {
  EXPECT_EQ(Cmd({"SET", "k", "v", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "w", "KEEPTTL"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "w");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
}

TEST_F(StringCommandsTest, SetGetReturnsTheOldValue) {
  EXPECT_EQ(Cmd({"SET", "k", "v1", "GET"}), "(nil)");
  EXPECT_EQ(Cmd({"SET", "k", "v2", "GET"}), "v1");
  EXPECT_EQ(Cmd({"GET", "k"}), "v2");
}

TEST_F(StringCommandsTest, SetGetOnAnotherTypeIsWrongTypeAndWritesNothing) {
  MakeList("l");
  EXPECT_EQ(Cmd({"SET", "l", "v", "GET"}),
            "-WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+list");
  EXPECT_EQ(Cmd({"SET", "l", "v"}), "+OK");  // without GET the list is simply replaced
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+string");
}

TEST_F(StringCommandsTest, SetNxGetReturnsTheOldValueWithoutWriting) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"SET", "k", "w", "NX", "GET"}), "v");
  EXPECT_EQ(Cmd({"GET", "k"}), "v");
  EXPECT_EQ(Cmd({"SET", "absent", "w", "NX", "GET"}), "(nil)");
  EXPECT_EQ(Cmd({"GET", "absent"}), "w");
  EXPECT_EQ(Cmd({"SET", "absent2", "w", "XX", "GET"}), "(nil)");
  EXPECT_EQ(Cmd({"EXISTS", "absent2"}), ":0");
}

TEST_F(StringCommandsTest, SetWithTooFewArgumentsIsAnArityError) {
  EXPECT_EQ(Cmd({"SET", "k"}), "-ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(Cmd({"GET"}), "-ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(Cmd({"GET", "a", "b"}), "-ERR wrong number of arguments for 'get' command");
}

TEST_F(StringCommandsTest, EmptyKeyAndEmptyValueAreValid) {
  EXPECT_EQ(Cmd({"SET", "", ""}), "+OK");
  EXPECT_EQ(Cmd({"GET", ""}), "");
  EXPECT_EQ(Cmd({"EXISTS", ""}), ":1");
  EXPECT_EQ(Cmd({"STRLEN", ""}), ":0");
}

TEST_F(StringCommandsTest, BinaryKeysAndValuesRoundTrip) {
  std::string key("k\0\r\n\xff", 5), value("\0\r\n\x01\x80 x", 7);
  EXPECT_EQ(Cmd({"SET", key, value}), "+OK");
  EXPECT_EQ(Cmd({"GET", key}), value);
  EXPECT_EQ(Cmd({"GET", std::string("k\0\r\n", 4)}), "(nil)");
  EXPECT_EQ(Cmd({"STRLEN", key}), ":7");
}

TEST_F(StringCommandsTest, LargeValueRoundTrips) {
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(Cmd({"SET", "big", big}), "+OK");
  EXPECT_EQ(Cmd({"GET", "big"}), big);
  EXPECT_EQ(Cmd({"STRLEN", "big"}), ":" + std::to_string(big.size()));
}

// ------------------------------------------------------------------ GETEX GETDEL GETSET

TEST_F(StringCommandsTest, GetExWithoutOptionsIsGet) {
  ASSERT_EQ(Cmd({"SET", "k", "v", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"GETEX", "k"}), "v");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
  EXPECT_EQ(Cmd({"GETEX", "missing"}), "(nil)");
}

TEST_F(StringCommandsTest, GetExSetsAndRemovesTheTtl) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"GETEX", "k", "EX", "100"}), "v");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
  EXPECT_EQ(Cmd({"GETEX", "k", "PX", "50000"}), "v");
  EXPECT_LE(IntOf(Cmd({"PTTL", "k"})), 50000);
  EXPECT_EQ(Cmd({"GETEX", "k", "PERSIST"}), "v");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
  int64_t at = NowMs() / 1000 + 500;
  EXPECT_EQ(Cmd({"GETEX", "k", "EXAT", std::to_string(at)}), "v");
  EXPECT_EQ(Cmd({"EXPIRETIME", "k"}), ":" + std::to_string(at));
}

TEST_F(StringCommandsTest, GetExWithPastAbsoluteTimeReturnsTheValueAndDeletesTheKey) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"GETEX", "k", "PXAT", "1"}), "v");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

TEST_F(StringCommandsTest, GetExRejectsBadOptions) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"GETEX", "k", "EX", "0"}), "-ERR invalid expire time in 'getex' command");
  EXPECT_EQ(Cmd({"GETEX", "k", "EX", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"GETEX", "k", "EX", "10", "PX", "10"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"GETEX", "k", "PERSIST", "EX", "10"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"GETEX", "k", "EX"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"GETEX", "k", "KEEPTTL"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"GETEX", "k", "NX"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
}

TEST_F(StringCommandsTest, GetExAcceptsARepeatedOptionOfTheSameKind) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"GETEX", "k", "PERSIST", "PERSIST"}), "v");
  EXPECT_EQ(Cmd({"GETEX", "k", "EX", "10", "EX", "1000"}), "v");
  EXPECT_GT(IntOf(Cmd({"TTL", "k"})), 10);
}

TEST_F(StringCommandsTest, GetDelReturnsTheValueAndDeletes) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"GETDEL", "k"}), "v");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
  EXPECT_EQ(Cmd({"GETDEL", "k"}), "(nil)");
}

TEST_F(StringCommandsTest, GetSetReturnsTheOldValueAndClearsTheTtl) {
  EXPECT_EQ(Cmd({"GETSET", "k", "1"}), "(nil)");
  ASSERT_EQ(Cmd({"EXPIRE", "k", "100"}), ":1");
  EXPECT_EQ(Cmd({"GETSET", "k", "2"}), "1");
  EXPECT_EQ(Cmd({"GET", "k"}), "2");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
}

// ------------------------------------------------------------------ MGET MSET MSETNX SETNX

TEST_F(StringCommandsTest, MGetReturnsNilForMissingKeys) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  EXPECT_EQ(Cmd({"MGET", "a", "missing", "b", "a"}), "[1,(nil),2,1]");
}

TEST_F(StringCommandsTest, MSetWithOddArgumentsIsAnArityError) {
  EXPECT_EQ(Cmd({"MSET", "a"}), "-ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(Cmd({"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(Cmd({"MSETNX", "a", "1", "b"}), "-ERR wrong number of arguments for 'msetnx' command");
  EXPECT_EQ(Cmd({"EXISTS", "a"}), ":0");
}

TEST_F(StringCommandsTest, MSetWithARepeatedKeyKeepsTheLastValue) {
  EXPECT_EQ(Cmd({"MSET", "a", "1", "a", "2"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "a"}), "2");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
}

TEST_F(StringCommandsTest, MSetClearsTtls) {
  ASSERT_EQ(Cmd({"SET", "a", "1", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"MSET", "a", "2"}), "+OK");
  EXPECT_EQ(Cmd({"TTL", "a"}), ":-1");
}

TEST_F(StringCommandsTest, MSetNxWritesAllOrNothing) {
  EXPECT_EQ(Cmd({"MSETNX", "a", "1", "b", "2"}), ":1");
  EXPECT_EQ(Cmd({"MSETNX", "c", "3", "b", "x"}), ":0");
  EXPECT_EQ(Cmd({"MGET", "a", "b", "c"}), "[1,2,(nil)]");
}

TEST_F(StringCommandsTest, SetNxReturnsWhetherItWrote) {
  EXPECT_EQ(Cmd({"SETNX", "k", "1"}), ":1");
  EXPECT_EQ(Cmd({"SETNX", "k", "2"}), ":0");
  EXPECT_EQ(Cmd({"GET", "k"}), "1");
}

// ------------------------------------------------------------------ SETEX PSETEX

TEST_F(StringCommandsTest, SetExSetsValueAndTtl) {
  EXPECT_EQ(Cmd({"SETEX", "k", "100", "v"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "v");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
  EXPECT_EQ(Cmd({"PSETEX", "p", "100000", "v"}), "+OK");
  EXPECT_EQ(Cmd({"TTL", "p"}), ":100");
}

TEST_F(StringCommandsTest, SetExRejectsNonPositiveAndNonNumericTimes) {
  EXPECT_EQ(Cmd({"SETEX", "k", "0", "v"}), "-ERR invalid expire time in 'setex' command");
  EXPECT_EQ(Cmd({"SETEX", "k", "-3", "v"}), "-ERR invalid expire time in 'setex' command");
  EXPECT_EQ(Cmd({"PSETEX", "k", "0", "v"}), "-ERR invalid expire time in 'psetex' command");
  EXPECT_EQ(Cmd({"SETEX", "k", "abc", "v"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"SETEX", "k", "10"}), "-ERR wrong number of arguments for 'setex' command");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

// ------------------------------------------------------------------ APPEND STRLEN

TEST_F(StringCommandsTest, AppendCreatesAndExtends) {
  EXPECT_EQ(Cmd({"APPEND", "k", "Hello"}), ":5");
  EXPECT_EQ(Cmd({"APPEND", "k", " World"}), ":11");
  EXPECT_EQ(Cmd({"GET", "k"}), "Hello World");
  EXPECT_EQ(Cmd({"APPEND", "k", ""}), ":11");
}

TEST_F(StringCommandsTest, AppendKeepsTheTtl) {
  ASSERT_EQ(Cmd({"SET", "k", "a", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"APPEND", "k", "b"}), ":2");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
}

TEST_F(StringCommandsTest, AppendToAnIntegerValueWorks) {
  ASSERT_EQ(Cmd({"SET", "k", "12"}), "+OK");
  EXPECT_EQ(Cmd({"APPEND", "k", "34"}), ":4");
  EXPECT_EQ(Cmd({"INCR", "k"}), ":1235");
}

TEST_F(StringCommandsTest, StrLenCountsBytes) {
  EXPECT_EQ(Cmd({"STRLEN", "missing"}), ":0");
  ASSERT_EQ(Cmd({"SET", "k", "h\xc3\xa9llo"}), "+OK");
  EXPECT_EQ(Cmd({"STRLEN", "k"}), ":6");
  ASSERT_EQ(Cmd({"SET", "n", "12345"}), "+OK");
  EXPECT_EQ(Cmd({"STRLEN", "n"}), ":5");
}

// ------------------------------------------------------------------ INCR family

TEST_F(StringCommandsTest, IncrOfMissingKeyStartsAtZero) {
  EXPECT_EQ(Cmd({"INCR", "n"}), ":1");
  EXPECT_EQ(Cmd({"INCR", "n"}), ":2");
  EXPECT_EQ(Cmd({"DECR", "m"}), ":-1");
  EXPECT_EQ(Cmd({"GET", "n"}), "2");
}

TEST_F(StringCommandsTest, IncrByAndDecrByAddTheAmount) {
  EXPECT_EQ(Cmd({"INCRBY", "n", "10"}), ":10");
  EXPECT_EQ(Cmd({"INCRBY", "n", "-15"}), ":-5");
  EXPECT_EQ(Cmd({"DECRBY", "n", "5"}), ":-10");
  EXPECT_EQ(Cmd({"DECRBY", "n", "-20"}), ":10");
}

TEST_F(StringCommandsTest, IncrPastInt64MaxReturnsOverflowError) {
  ASSERT_EQ(Cmd({"SET", "n", "9223372036854775807"}), "+OK");
  EXPECT_EQ(Cmd({"INCR", "n"}), "-ERR increment or decrement would overflow");
  EXPECT_EQ(Cmd({"GET", "n"}), "9223372036854775807");
  ASSERT_EQ(Cmd({"SET", "m", "-9223372036854775808"}), "+OK");
  EXPECT_EQ(Cmd({"DECR", "m"}), "-ERR increment or decrement would overflow");
  EXPECT_EQ(Cmd({"INCRBY", "n", "1"}), "-ERR increment or decrement would overflow");
}

TEST_F(StringCommandsTest, DecrByInt64MinIsDecrementOverflow) {
  EXPECT_EQ(Cmd({"DECRBY", "n", "-9223372036854775808"}), "-ERR decrement would overflow");
  EXPECT_EQ(Cmd({"EXISTS", "n"}), ":0");
}

TEST_F(StringCommandsTest, IncrOfNonIntegerValueIsNotAnInteger) {
  const std::string err = "-ERR value is not an integer or out of range";
  for (const char* v : {"abc", " 1", "1 ", "1.0", "+1", "01", "9223372036854775808", ""}) {
    ASSERT_EQ(Cmd({"SET", "n", v}), "+OK");
    EXPECT_EQ(Cmd({"INCR", "n"}), err) << "value '" << v << "'";
  }
  EXPECT_EQ(Cmd({"GET", "n"}), "");
}

TEST_F(StringCommandsTest, IncrByWithNonIntegerIncrementIsNotAnInteger) {
  EXPECT_EQ(Cmd({"INCRBY", "n", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"INCRBY", "n", "1.5"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"DECRBY", "n", ""}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"INCRBY", "n", "9223372036854775808"}),
            "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"EXISTS", "n"}), ":0");
}

TEST_F(StringCommandsTest, IncrKeepsTheTtl) {
  ASSERT_EQ(Cmd({"SET", "n", "1", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"INCR", "n"}), ":2");
  EXPECT_EQ(Cmd({"TTL", "n"}), ":100");
}

TEST_F(StringCommandsTest, IncrAcceptsNegativeAndLargeValues) {
  ASSERT_EQ(Cmd({"SET", "n", "-9223372036854775807"}), "+OK");
  EXPECT_EQ(Cmd({"DECR", "n"}), ":-9223372036854775808");
  ASSERT_EQ(Cmd({"SET", "n", "9223372036854775806"}), "+OK");
  EXPECT_EQ(Cmd({"INCR", "n"}), ":9223372036854775807");
}

TEST_F(StringCommandsTest, IncrByFloatAddsAndFormatsLikeRedis) {
  ASSERT_EQ(Cmd({"SET", "f", "10.50"}), "+OK");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "f", "0.1"}), "10.6");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "f", "-5"}), "5.6");
  EXPECT_EQ(Cmd({"GET", "f"}), "5.6");
  ASSERT_EQ(Cmd({"SET", "e", "5.0e3"}), "+OK");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "e", "2.0e2"}), "5200");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "new", "3"}), "3");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "new", "-3"}), "0");
}

TEST_F(StringCommandsTest, IncrByFloatRejectsNonFloatsAndInfinity) {
  ASSERT_EQ(Cmd({"SET", "s", "abc"}), "+OK");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "s", "1"}), "-ERR value is not a valid float");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "f", "x"}), "-ERR value is not a valid float");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "f", "inf"}), "-ERR increment would produce NaN or Infinity");
  EXPECT_EQ(Cmd({"EXISTS", "f"}), ":0");
}

TEST_F(StringCommandsTest, IncrByFloatKeepsTheTtl) {
  ASSERT_EQ(Cmd({"SET", "f", "1.5", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "f", "1"}), "2.5");
  EXPECT_EQ(Cmd({"TTL", "f"}), ":100");
}

// ------------------------------------------------------------------ GETRANGE SETRANGE SUBSTR

TEST_F(StringCommandsTest, GetRangeHandlesNegativeAndOutOfRangeIndexes) {
  ASSERT_EQ(Cmd({"SET", "k", "This is a string"}), "+OK");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "0", "3"}), "This");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "-3", "-1"}), "ing");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "0", "-1"}), "This is a string");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "10", "100"}), "string");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "5", "3"}), "");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "-100", "1"}), "Th");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "100", "200"}), "");
  EXPECT_EQ(Cmd({"GETRANGE", "missing", "0", "-1"}), "");
  EXPECT_EQ(Cmd({"SUBSTR", "k", "0", "3"}), "This");
}

TEST_F(StringCommandsTest, GetRangeWithNonIntegerIndexIsNotAnInteger) {
  ASSERT_EQ(Cmd({"SET", "k", "abc"}), "+OK");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "a", "1"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "0"}), "-ERR wrong number of arguments for 'getrange' command");
}

TEST_F(StringCommandsTest, SetRangeOverwritesAndPadsWithZeros) {
  ASSERT_EQ(Cmd({"SET", "k", "Hello World"}), "+OK");
  EXPECT_EQ(Cmd({"SETRANGE", "k", "6", "Redis"}), ":11");
  EXPECT_EQ(Cmd({"GET", "k"}), "Hello Redis");
  EXPECT_EQ(Cmd({"SETRANGE", "p", "3", "x"}), ":4");
  EXPECT_EQ(Cmd({"GET", "p"}), std::string("\0\0\0x", 4));
}

TEST_F(StringCommandsTest, SetRangeWithEmptyValueCreatesNothing) {
  EXPECT_EQ(Cmd({"SETRANGE", "k", "5", ""}), ":0");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
  ASSERT_EQ(Cmd({"SET", "k", "abc"}), "+OK");
  EXPECT_EQ(Cmd({"SETRANGE", "k", "10", ""}), ":3");
}

TEST_F(StringCommandsTest, SetRangeRejectsBadOffsets) {
  EXPECT_EQ(Cmd({"SETRANGE", "k", "-1", "x"}), "-ERR offset is out of range");
  EXPECT_EQ(Cmd({"SETRANGE", "k", "536870912", "x"}),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  EXPECT_EQ(Cmd({"SETRANGE", "k", "abc", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

TEST_F(StringCommandsTest, SetRangeKeepsTheTtl) {
  ASSERT_EQ(Cmd({"SET", "k", "abc", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"SETRANGE", "k", "1", "X"}), ":3");
  EXPECT_EQ(Cmd({"GET", "k"}), "aXc");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
}

// ------------------------------------------------------------------ LCS

TEST_F(StringCommandsTest, LcsReturnsTheLongestCommonSubsequence) {
  ASSERT_EQ(Cmd({"MSET", "key1", "ohmytext", "key2", "mynewtext"}), "+OK");
  EXPECT_EQ(Cmd({"LCS", "key1", "key2"}), "mytext");
  EXPECT_EQ(Cmd({"LCS", "key1", "key2", "LEN"}), ":6");
  EXPECT_EQ(Cmd({"LCS", "key1", "missing"}), "");
  EXPECT_EQ(Cmd({"LCS", "missing", "other", "LEN"}), ":0");
}

TEST_F(StringCommandsTest, LcsIdxReportsMatches) {
  ASSERT_EQ(Cmd({"MSET", "key1", "ohmytext", "key2", "mynewtext"}), "+OK");
  EXPECT_EQ(Cmd({"LCS", "key1", "key2", "IDX"}),
            "[matches,[[[:4,:7],[:5,:8]],[[:2,:3],[:0,:1]]],len,:6]");
  EXPECT_EQ(Cmd({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"}),
            "[matches,[[[:4,:7],[:5,:8]]],len,:6]");
  EXPECT_EQ(Cmd({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}),
            "[matches,[[[:4,:7],[:5,:8],:4]],len,:6]");
}

TEST_F(StringCommandsTest, LcsRejectsBadOptions) {
  ASSERT_EQ(Cmd({"MSET", "a", "x", "b", "y"}), "+OK");
  EXPECT_EQ(Cmd({"LCS", "a", "b", "IDX", "LEN"}),
            "-ERR If you want both the length and indexes, please just use IDX.");
  EXPECT_EQ(Cmd({"LCS", "a", "b", "foo"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"LCS", "a"}), "-ERR wrong number of arguments for 'lcs' command");
}

// ------------------------------------------------------------------ SETBIT GETBIT

TEST_F(StringCommandsTest, SetBitReturnsTheOldBitAndGrowsTheString) {
  EXPECT_EQ(Cmd({"SETBIT", "b", "7", "1"}), ":0");
  EXPECT_EQ(Cmd({"GET", "b"}), "\x01");
  EXPECT_EQ(Cmd({"SETBIT", "b", "7", "0"}), ":1");
  EXPECT_EQ(Cmd({"SETBIT", "b", "0", "1"}), ":0");
  EXPECT_EQ(Cmd({"GET", "b"}), "\x80");
  EXPECT_EQ(Cmd({"SETBIT", "b", "23", "1"}), ":0");
  EXPECT_EQ(Cmd({"STRLEN", "b"}), ":3");
}

TEST_F(StringCommandsTest, GetBitReadsBitsAndZeroBeyondTheEnd) {
  ASSERT_EQ(Cmd({"SET", "b", "\x40"}), "+OK");
  EXPECT_EQ(Cmd({"GETBIT", "b", "0"}), ":0");
  EXPECT_EQ(Cmd({"GETBIT", "b", "1"}), ":1");
  EXPECT_EQ(Cmd({"GETBIT", "b", "1000"}), ":0");
  EXPECT_EQ(Cmd({"GETBIT", "missing", "3"}), ":0");
}

TEST_F(StringCommandsTest, SetBitRejectsBadOffsetsAndValues) {
  EXPECT_EQ(Cmd({"SETBIT", "b", "7", "2"}), "-ERR bit is not an integer or out of range");
  EXPECT_EQ(Cmd({"SETBIT", "b", "7", "x"}), "-ERR bit is not an integer or out of range");
  EXPECT_EQ(Cmd({"SETBIT", "b", "-1", "1"}), "-ERR bit offset is not an integer or out of range");
  EXPECT_EQ(Cmd({"SETBIT", "b", "4294967296", "1"}),
            "-ERR bit offset is not an integer or out of range");
  EXPECT_EQ(Cmd({"GETBIT", "b", "4294967296"}),
            "-ERR bit offset is not an integer or out of range");
  EXPECT_EQ(Cmd({"GETBIT", "b", "x"}), "-ERR bit offset is not an integer or out of range");
  EXPECT_EQ(Cmd({"EXISTS", "b"}), ":0");
}

TEST_F(StringCommandsTest, SetBitKeepsTheTtl) {
  ASSERT_EQ(Cmd({"SET", "b", "a", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"SETBIT", "b", "7", "0"}), ":1");
  EXPECT_EQ(Cmd({"GET", "b"}), "`");
  EXPECT_EQ(Cmd({"TTL", "b"}), ":100");
}

// ------------------------------------------------------------------ BITCOUNT BITPOS

TEST_F(StringCommandsTest, BitCountCountsSetBitsInByteAndBitRanges) {
  ASSERT_EQ(Cmd({"SET", "k", "foobar"}), "+OK");
  EXPECT_EQ(Cmd({"BITCOUNT", "k"}), ":26");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "0", "0"}), ":4");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "1", "1"}), ":6");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "1", "1", "BYTE"}), ":6");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "5", "30", "BIT"}), ":17");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "-2", "-1"}), ":7");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "4", "2"}), ":0");
  EXPECT_EQ(Cmd({"BITCOUNT", "missing"}), ":0");
}

TEST_F(StringCommandsTest, BitCountRejectsBadRanges) {
  ASSERT_EQ(Cmd({"SET", "k", "foobar"}), "+OK");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "0"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "0", "1", "foo"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"BITCOUNT", "k", "a", "b"}), "-ERR value is not an integer or out of range");
  // Redis checks the key before the arguments' syntax.
  EXPECT_EQ(Cmd({"BITCOUNT", "missing", "0"}), ":0");
}

TEST_F(StringCommandsTest, BitPosFindsTheFirstSetOrClearBit) {
  ASSERT_EQ(Cmd({"SET", "k", "\xff\xf0\x00"}), "+OK");
  EXPECT_EQ(Cmd({"BITPOS", "k", "0"}), ":12");
  ASSERT_EQ(Cmd({"SET", "k", std::string("\x00\xff\xf0", 3)}), "+OK");
  EXPECT_EQ(Cmd({"BITPOS", "k", "1", "0"}), ":8");
  EXPECT_EQ(Cmd({"BITPOS", "k", "1", "2"}), ":16");
  EXPECT_EQ(Cmd({"BITPOS", "k", "1", "2", "-1", "BYTE"}), ":16");
  EXPECT_EQ(Cmd({"BITPOS", "k", "1", "7", "15", "BIT"}), ":8");
  ASSERT_EQ(Cmd({"SET", "z", std::string("\x00\x00\x00", 3)}), "+OK");
  EXPECT_EQ(Cmd({"BITPOS", "z", "1"}), ":-1");
  EXPECT_EQ(Cmd({"BITPOS", "z", "1", "7", "-3", "BIT"}), ":-1");
}

TEST_F(StringCommandsTest, BitPosOfClearBitPastAnAllOnesStringIsItsLength) {
  ASSERT_EQ(Cmd({"SET", "k", "\xff\xff\xff"}), "+OK");
  EXPECT_EQ(Cmd({"BITPOS", "k", "0"}), ":24");
  EXPECT_EQ(Cmd({"BITPOS", "k", "0", "0"}), ":24");
  EXPECT_EQ(Cmd({"BITPOS", "k", "0", "0", "-1"}), ":-1");
}

TEST_F(StringCommandsTest, BitPosOnMissingKey) {
  EXPECT_EQ(Cmd({"BITPOS", "missing", "0"}), ":0");
  EXPECT_EQ(Cmd({"BITPOS", "missing", "1"}), ":-1");
}

TEST_F(StringCommandsTest, BitPosRejectsBadArguments) {
  ASSERT_EQ(Cmd({"SET", "k", "a"}), "+OK");
  EXPECT_EQ(Cmd({"BITPOS", "k", "2"}), "-ERR The bit argument must be 1 or 0.");
  EXPECT_EQ(Cmd({"BITPOS", "k", "1", "0", "-1", "foo"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"BITPOS", "k", "1", "x"}), "-ERR value is not an integer or out of range");
}

// ------------------------------------------------------------------ BITOP

TEST_F(StringCommandsTest, BitOpCombinesStrings) {
  ASSERT_EQ(Cmd({"MSET", "a", "foobar", "b", "abcdef"}), "+OK");
  EXPECT_EQ(Cmd({"BITOP", "AND", "dest", "a", "b"}), ":6");
  EXPECT_EQ(Cmd({"GET", "dest"}), "`bc`ab");
  EXPECT_EQ(Cmd({"BITOP", "OR", "dest", "a", "b"}), ":6");
  EXPECT_EQ(Cmd({"GET", "dest"}), "goofev");
  EXPECT_EQ(Cmd({"BITOP", "XOR", "dest", "a", "b"}), ":6");
  EXPECT_EQ(Cmd({"GET", "dest"}), std::string("\x07\x0d\x0c\x06\x04\x14", 6));
  EXPECT_EQ(Cmd({"BITOP", "NOT", "dest", "a"}), ":6");
  EXPECT_EQ(Cmd({"GET", "dest"}), "\x99\x90\x90\x9d\x9e\x8d");
}

TEST_F(StringCommandsTest, BitOpPadsShorterStringsWithZeros) {
  ASSERT_EQ(Cmd({"MSET", "a", "\xff\xff", "b", "\x0f"}), "+OK");
  EXPECT_EQ(Cmd({"BITOP", "AND", "d", "a", "b", "missing"}), ":2");
  EXPECT_EQ(Cmd({"GET", "d"}), std::string("\x00\x00", 2));
  EXPECT_EQ(Cmd({"BITOP", "OR", "d", "a", "b"}), ":2");
  EXPECT_EQ(Cmd({"GET", "d"}), "\xff\xff");
}

TEST_F(StringCommandsTest, BitOpWithOnlyMissingSourcesDeletesTheDestination) {
  ASSERT_EQ(Cmd({"SET", "d", "x"}), "+OK");
  EXPECT_EQ(Cmd({"BITOP", "OR", "d", "missing1", "missing2"}), ":0");
  EXPECT_EQ(Cmd({"EXISTS", "d"}), ":0");
}

TEST_F(StringCommandsTest, BitOpRejectsBadOperations) {
  EXPECT_EQ(Cmd({"BITOP", "NOT", "d", "a", "b"}),
            "-ERR BITOP NOT must be called with a single source key.");
  EXPECT_EQ(Cmd({"BITOP", "NAND", "d", "a"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"BITOP", "AND", "d"}), "-ERR wrong number of arguments for 'bitop' command");
}

// ------------------------------------------------------------------ BITFIELD

TEST_F(StringCommandsTest, BitFieldSetGetAndIncrBy) {
  EXPECT_EQ(Cmd({"BITFIELD", "k", "INCRBY", "i5", "100", "1", "GET", "u4", "0"}), "[:1,:0]");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "SET", "u8", "0", "255", "GET", "u8", "0"}), "[:0,:255]");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "SET", "i8", "#1", "-1", "GET", "i8", "8"}), "[:0,:-1]");
  EXPECT_EQ(Cmd({"BITFIELD", "k"}), "[]");
}

TEST_F(StringCommandsTest, BitFieldOverflowModes) {
  EXPECT_EQ(Cmd({"BITFIELD", "k", "SET", "u2", "0", "3"}), "[:0]");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "INCRBY", "u2", "0", "1"}), "[:0]");  // WRAP is the default
  EXPECT_EQ(Cmd({"BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u2", "0", "10"}), "[:3]");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"}), "[(nil)]");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "GET", "u2", "0"}), "[:3]");
  EXPECT_EQ(Cmd({"BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-200"}), "[:-128]");
}

TEST_F(StringCommandsTest, BitFieldRejectsBadArguments) {
  EXPECT_EQ(Cmd({"BITFIELD", "k", "GET", "x8", "0"}),
            "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
            "supported but i64 is.");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "GET", "u64", "0"}),
            "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
            "supported but i64 is.");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "GET", "u8", "-1"}),
            "-ERR bit offset is not an integer or out of range");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "OVERFLOW", "FOO"}), "-ERR Invalid OVERFLOW type specified");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "FOO"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "SET", "u8", "0"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"BITFIELD", "k", "SET", "u8", "0", "x"}),
            "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
}

TEST_F(StringCommandsTest, BitFieldRoOnlyReads) {
  ASSERT_EQ(Cmd({"SET", "k", "\x12\x34"}), "+OK");
  EXPECT_EQ(Cmd({"BITFIELD_RO", "k", "GET", "u8", "0", "GET", "u4", "8"}), "[:18,:3]");
  EXPECT_EQ(Cmd({"BITFIELD_RO", "missing", "GET", "i16", "0"}), "[:0]");
  EXPECT_EQ(Cmd({"BITFIELD_RO", "k", "SET", "u8", "0", "1"}),
            "-ERR BITFIELD_RO only supports the GET subcommand");
  EXPECT_EQ(Cmd({"BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"}),
            "-ERR BITFIELD_RO only supports the GET subcommand");
  EXPECT_EQ(Cmd({"GET", "k"}), "\x12\x34");
}

// ------------------------------------------------------------------ wrong types

TEST_F(StringCommandsTest, StringCommandsOnAListAreWrongType) {
  MakeList("l");
  const std::string wt = "-WRONGTYPE Operation against a key holding the wrong kind of value";
  EXPECT_EQ(Cmd({"GET", "l"}), wt);
  EXPECT_EQ(Cmd({"SET", "l", "v", "GET"}), wt);
  EXPECT_EQ(Cmd({"GETEX", "l"}), wt);
  EXPECT_EQ(Cmd({"GETDEL", "l"}), wt);
  EXPECT_EQ(Cmd({"GETSET", "l", "v"}), wt);
  EXPECT_EQ(Cmd({"APPEND", "l", "v"}), wt);
  EXPECT_EQ(Cmd({"STRLEN", "l"}), wt);
  EXPECT_EQ(Cmd({"INCR", "l"}), wt);
  EXPECT_EQ(Cmd({"INCRBYFLOAT", "l", "1"}), wt);
  EXPECT_EQ(Cmd({"GETRANGE", "l", "0", "1"}), wt);
  EXPECT_EQ(Cmd({"SETRANGE", "l", "0", "x"}), wt);
  EXPECT_EQ(Cmd({"SETBIT", "l", "0", "1"}), wt);
  EXPECT_EQ(Cmd({"GETBIT", "l", "0"}), wt);
  EXPECT_EQ(Cmd({"BITCOUNT", "l"}), wt);
  EXPECT_EQ(Cmd({"BITPOS", "l", "1"}), wt);
  EXPECT_EQ(Cmd({"BITOP", "AND", "d", "l"}), wt);
  EXPECT_EQ(Cmd({"BITFIELD", "l", "GET", "u8", "0"}), wt);
  EXPECT_EQ(Cmd({"LCS", "l", "x"}), "-ERR The specified keys must contain string values");
  EXPECT_EQ(Cmd({"MGET", "l"}), "[(nil)]");
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+list");
}

}  // namespace
}  // namespace keel::server::test
