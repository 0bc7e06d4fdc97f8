// ErrorText: the codes that datatypes/ used to return as kInvalidArgument plus Redis's text
// must still produce exactly that text.
#include "server/commands/errors.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace keel::server {
namespace {

TEST(ErrorTextTest, CommandSpecificCodesGiveRedisTexts) {
  const std::vector<std::pair<Code, std::string>> cases = {
      {Code::kBitArgument, "ERR The bit argument must be 1 or 0."},
      {Code::kBitopNotArity, "ERR BITOP NOT must be called with a single source key."},
      {Code::kBitfieldOverflowType, "ERR Invalid OVERFLOW type specified"},
      {Code::kBitfieldType,
       "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
       "i64 is."},
      {Code::kBitfieldReadOnly, "ERR BITFIELD_RO only supports the GET subcommand"},
      {Code::kOffsetOutOfRange, "ERR offset is out of range"},
      {Code::kLcsWrongType, "ERR The specified keys must contain string values"},
      {Code::kLcsLenAndIdx, "ERR If you want both the length and indexes, please just use IDX."},
      {Code::kLcsTooLong, "ERR String too long for LCS"},
      {Code::kLcsOverBudget,
       "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"},
      {Code::kLcsAllocFailed,
       "ERR Insufficient memory, failed allocating transient memory for LCS"},
      {Code::kHashNotInteger, "ERR hash value is not an integer"},
      {Code::kHashNotFloat, "ERR hash value is not a float"},
      {Code::kScoreNaN, "ERR resulting score is not a number (NaN)"},
      {Code::kInvalidCursor, "ERR invalid cursor"},
      {Code::kValueNotPositive, "ERR value is out of range, must be positive"},
      {Code::kNumkeysNotPositive, "ERR numkeys should be greater than 0"},
      {Code::kCountNotPositive, "ERR count should be greater than 0"},
      {Code::kLimitNegative, "ERR LIMIT can't be negative"},
      {Code::kInvalidStreamId, "ERR Invalid stream ID specified as stream command argument"},
      {Code::kStreamIdTooSmall,
       "ERR The ID specified in XADD is equal or smaller than the target stream top item"},
      {Code::kStreamExhausted,
       "ERR The stream has exhausted the last possible ID, unable to add more items"},
      {Code::kSetIdTooSmall,
       "ERR The ID specified in XSETID is smaller than the target stream top item"},
      {Code::kSetIdEntriesTooSmall,
       "ERR The entries_added specified in XSETID is smaller than the target stream length"},
      {Code::kNotLeader, "CLUSTERDOWN The cluster is down"},
      {Code::kUnknownOutcome,
       "TIMEOUT the write may or may not have been applied: leadership changed while it was "
       "replicated"},
  };
  for (const auto& [code, text] : cases) {
    EXPECT_EQ(ErrorText(Status(code), "cmd"), text) << static_cast<int>(code);
  }
}

TEST(ErrorTextTest, ValueNotBetweenBuildsTheSentenceFromItsBounds) {
  EXPECT_EQ(ErrorText(Status(Code::kValueNotBetween, "-9223372036854775807 9223372036854775807"),
                      "hrandfield"),
            "ERR value is out of range, value must between -9223372036854775807 and "
            "9223372036854775807");
  EXPECT_EQ(ErrorText(Status(Code::kValueNotBetween, "1 10"), "x"),
            "ERR value is out of range, value must between 1 and 10");
}

TEST(ErrorTextTest, ExistingCodesKeepTheirValues) {
  // Codes were appended: the earlier values keep their numbers.
  EXPECT_EQ(static_cast<int>(Code::kInvalidArgument), 19);
  EXPECT_EQ(static_cast<int>(Code::kStorage), 20);
  EXPECT_EQ(static_cast<int>(Code::kBitArgument), 21);
}

}  // namespace
}  // namespace keel::server
