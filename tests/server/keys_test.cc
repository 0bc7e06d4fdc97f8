// Generic key commands over the wire (DEL ... DUMP/RESTORE, SCAN), with Redis 7.0's exact
// replies and errors.
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "datatypes/listpack.h"
#include "datatypes/rdb.h"
#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using KeyCommandsTest = ServerTest;

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

const std::string kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value";

// ------------------------------------------------------------------ DEL UNLINK EXISTS TYPE

TEST_F(KeyCommandsTest, DelCountsOnlyKeysThatExisted) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  EXPECT_EQ(Cmd({"DEL", "a", "missing", "b", "a"}), ":2");
  EXPECT_EQ(Cmd({"EXISTS", "a", "b"}), ":0");
  EXPECT_EQ(Cmd({"DEL"}), "-ERR wrong number of arguments for 'del' command");
}

TEST_F(KeyCommandsTest, UnlinkIsDel) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  MakeList("l");
  EXPECT_EQ(Cmd({"UNLINK", "a", "l", "missing"}), ":2");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
}

TEST_F(KeyCommandsTest, DelRemovesKeysOfAnyType) {
  MakeList("l");
  EXPECT_EQ(Cmd({"DEL", "l"}), ":1");
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+none");
}

TEST_F(KeyCommandsTest, ExistsCountsRepeatedKeysEachTime) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"EXISTS", "a", "a", "missing", "a"}), ":3");
  EXPECT_EQ(Cmd({"EXISTS", "missing"}), ":0");
}

TEST_F(KeyCommandsTest, TypeNamesTheValueType) {
  ASSERT_EQ(Cmd({"SET", "s", "1"}), "+OK");
  MakeList("l");
  EXPECT_EQ(Cmd({"TYPE", "s"}), "+string");
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+list");
  EXPECT_EQ(Cmd({"TYPE", "missing"}), "+none");
}

TEST_F(KeyCommandsTest, TouchCountsExistingKeys) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"TOUCH", "a", "missing", "a"}), ":2");
}

// ------------------------------------------------------------------ EXPIRE family

TEST_F(KeyCommandsTest, ExpireSetsTtlAndReturnsOne) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
  int64_t pttl = IntOf(Cmd({"PTTL", "k"}));
  EXPECT_GT(pttl, 95000);
  EXPECT_LE(pttl, 100000);
  EXPECT_EQ(Cmd({"PEXPIRE", "k", "50000"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":50");
}

TEST_F(KeyCommandsTest, ExpireOfMissingKeyReturnsZero) {
  EXPECT_EQ(Cmd({"EXPIRE", "missing", "100"}), ":0");
  EXPECT_EQ(Cmd({"PEXPIREAT", "missing", "99999999999999"}), ":0");
}

TEST_F(KeyCommandsTest, ExpireWithNonPositiveTimeDeletesTheKey) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2", "c", "3"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "a", "0"}), ":1");
  EXPECT_EQ(Cmd({"PEXPIRE", "b", "-100"}), ":1");
  EXPECT_EQ(Cmd({"EXPIREAT", "c", "1"}), ":1");
  EXPECT_EQ(Cmd({"EXISTS", "a", "b", "c"}), ":0");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
}

TEST_F(KeyCommandsTest, ExpireAtAndPExpireAtSetAbsoluteTimes) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  int64_t at_s = NowMs() / 1000 + 1000;
  EXPECT_EQ(Cmd({"EXPIREAT", "a", std::to_string(at_s)}), ":1");
  EXPECT_EQ(Cmd({"EXPIRETIME", "a"}), ":" + std::to_string(at_s));
  EXPECT_EQ(Cmd({"PEXPIRETIME", "a"}), ":" + std::to_string(at_s * 1000));
  int64_t at_ms = NowMs() + 1000000;
  EXPECT_EQ(Cmd({"PEXPIREAT", "b", std::to_string(at_ms)}), ":1");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "b"}), ":" + std::to_string(at_ms));
  // EXPIRETIME rounds to the nearest second, as TTL does.
  EXPECT_EQ(Cmd({"EXPIRETIME", "b"}), ":" + std::to_string((at_ms + 500) / 1000));
}

TEST_F(KeyCommandsTest, PExpireAtInt64MaxIsAccepted) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"PEXPIREAT", "k", "9223372036854775807"}), ":1");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "k"}), ":9223372036854775807");
}

TEST_F(KeyCommandsTest, ExpireWithOverflowingTimeIsInvalidExpireTime) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "9223372036854775807"}),
            "-ERR invalid expire time in 'expire' command");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "-9223372036854775808"}),
            "-ERR invalid expire time in 'expire' command");
  EXPECT_EQ(Cmd({"PEXPIRE", "k", "9223372036854775807"}),
            "-ERR invalid expire time in 'pexpire' command");
  EXPECT_EQ(Cmd({"EXPIREAT", "k", "9223372036854775807"}),
            "-ERR invalid expire time in 'expireat' command");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
}

TEST_F(KeyCommandsTest, ExpireWithNonIntegerTimeIsNotAnInteger) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "abc"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"PEXPIRE", "k", "1.5"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"EXPIRE", "k"}), "-ERR wrong number of arguments for 'expire' command");
}

TEST_F(KeyCommandsTest, ExpireRejectsUnknownAndIncompatibleOptions) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "foo"}), "-ERR Unsupported option foo");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "NX", "XX"}),
            "-ERR NX and XX, GT or LT options at the same time are not compatible");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "NX", "GT"}),
            "-ERR NX and XX, GT or LT options at the same time are not compatible");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "GT", "LT"}),
            "-ERR GT and LT options at the same time are not compatible");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
}

TEST_F(KeyCommandsTest, ExpireChecksOptionsBeforeTheTime) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "abc", "foo"}), "-ERR Unsupported option foo");
}

TEST_F(KeyCommandsTest, ExpireNxOnlySetsWhenThereIsNoTtl) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "NX"}), ":1");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "200", "NX"}), ":0");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "300", "nx", "nx"}), ":0");
}

TEST_F(KeyCommandsTest, ExpireXxOnlySetsWhenThereIsATtl) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "XX"}), ":0");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
  ASSERT_EQ(Cmd({"EXPIRE", "k", "100"}), ":1");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "200", "XX"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":200");
}

TEST_F(KeyCommandsTest, ExpireGtTreatsNoTtlAsInfinite) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "GT"}), ":0");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
  ASSERT_EQ(Cmd({"EXPIRE", "k", "100"}), ":1");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "50", "GT"}), ":0");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "200", "GT"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":200");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "300", "XX", "GT"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":300");
}

TEST_F(KeyCommandsTest, ExpireLtTreatsNoTtlAsInfinite) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "XX", "LT"}), ":0");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "100", "LT"}), ":1");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "200", "LT"}), ":0");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":100");
  EXPECT_EQ(Cmd({"EXPIRE", "k", "50", "XX", "LT"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":50");
}

TEST_F(KeyCommandsTest, TtlOfMissingKeyIsMinusTwoAndOfPersistentKeyMinusOne) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"TTL", "missing"}), ":-2");
  EXPECT_EQ(Cmd({"PTTL", "missing"}), ":-2");
  EXPECT_EQ(Cmd({"EXPIRETIME", "missing"}), ":-2");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "missing"}), ":-2");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
  EXPECT_EQ(Cmd({"PTTL", "k"}), ":-1");
  EXPECT_EQ(Cmd({"EXPIRETIME", "k"}), ":-1");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "k"}), ":-1");
}

TEST_F(KeyCommandsTest, TtlRoundsToTheNearestSecond) {
  ASSERT_EQ(Cmd({"SET", "k", "v", "PX", "1800"}), "+OK");
  std::string ttl = Cmd({"TTL", "k"});
  EXPECT_TRUE(ttl == ":2" || ttl == ":1") << ttl;
}

TEST_F(KeyCommandsTest, PersistRemovesTheTtl) {
  ASSERT_EQ(Cmd({"SET", "k", "v", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"PERSIST", "k"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-1");
  EXPECT_EQ(Cmd({"PERSIST", "k"}), ":0");
  EXPECT_EQ(Cmd({"PERSIST", "missing"}), ":0");
}

TEST_F(KeyCommandsTest, ExpireWorksOnKeysOfAnyType) {
  MakeList("l");
  EXPECT_EQ(Cmd({"EXPIRE", "l", "100"}), ":1");
  EXPECT_EQ(Cmd({"TTL", "l"}), ":100");
  EXPECT_EQ(Cmd({"PERSIST", "l"}), ":1");
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+list");
}

// ------------------------------------------------------------------ RENAME RENAMENX

TEST_F(KeyCommandsTest, RenameMovesValueAndTtl) {
  ASSERT_EQ(Cmd({"SET", "a", "v", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"RENAME", "a", "b"}), "+OK");
  EXPECT_EQ(Cmd({"EXISTS", "a"}), ":0");
  EXPECT_EQ(Cmd({"GET", "b"}), "v");
  EXPECT_EQ(Cmd({"TTL", "b"}), ":100");
}

TEST_F(KeyCommandsTest, RenameOverwritesTheDestinationAndItsTtl) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "b", "2", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"RENAME", "a", "b"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "b"}), "1");
  EXPECT_EQ(Cmd({"TTL", "b"}), ":-1");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
}

TEST_F(KeyCommandsTest, RenameOfMissingKeyIsNoSuchKey) {
  EXPECT_EQ(Cmd({"RENAME", "missing", "x"}), "-ERR no such key");
  EXPECT_EQ(Cmd({"RENAMENX", "missing", "x"}), "-ERR no such key");
}

TEST_F(KeyCommandsTest, RenameToItselfIsOkAndRenameNxToItselfIsZero) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"RENAME", "a", "a"}), "+OK");
  EXPECT_EQ(Cmd({"RENAMENX", "a", "a"}), ":0");
  EXPECT_EQ(Cmd({"GET", "a"}), "1");
}

TEST_F(KeyCommandsTest, RenameNxDoesNotOverwrite) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  EXPECT_EQ(Cmd({"RENAMENX", "a", "b"}), ":0");
  EXPECT_EQ(Cmd({"MGET", "a", "b"}), "[1,2]");
  EXPECT_EQ(Cmd({"RENAMENX", "a", "c"}), ":1");
  EXPECT_EQ(Cmd({"MGET", "a", "c"}), "[(nil),1]");
}

TEST_F(KeyCommandsTest, RenameMovesKeysOfAnyType) {
  MakeList("l");
  EXPECT_EQ(Cmd({"RENAME", "l", "m"}), "+OK");
  EXPECT_EQ(Cmd({"TYPE", "m"}), "+list");
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+none");
}

// ------------------------------------------------------------------ COPY MOVE

TEST_F(KeyCommandsTest, CopyDuplicatesValueAndTtl) {
  ASSERT_EQ(Cmd({"SET", "a", "v", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"COPY", "a", "b"}), ":1");
  EXPECT_EQ(Cmd({"MGET", "a", "b"}), "[v,v]");
  EXPECT_EQ(Cmd({"TTL", "b"}), ":100");
}

TEST_F(KeyCommandsTest, CopyDoesNotOverwriteWithoutReplace) {
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  EXPECT_EQ(Cmd({"COPY", "a", "b"}), ":0");
  EXPECT_EQ(Cmd({"GET", "b"}), "2");
  EXPECT_EQ(Cmd({"COPY", "a", "b", "REPLACE"}), ":1");
  EXPECT_EQ(Cmd({"GET", "b"}), "1");
  EXPECT_EQ(Cmd({"COPY", "missing", "c"}), ":0");
  EXPECT_EQ(Cmd({"EXISTS", "c"}), ":0");
}

TEST_F(KeyCommandsTest, CopyToAnotherDb) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"COPY", "a", "a", "DB", "3"}), ":1");
  EXPECT_EQ(Cmd({"SELECT", "3"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "a"}), "1");
}

TEST_F(KeyCommandsTest, CopyRejectsBadArguments) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"COPY", "a", "a"}), "-ERR source and destination objects are the same");
  EXPECT_EQ(Cmd({"COPY", "a", "b", "DB", "16"}), "-ERR DB index is out of range");
  EXPECT_EQ(Cmd({"COPY", "a", "b", "DB", "-1"}), "-ERR DB index is out of range");
  EXPECT_EQ(Cmd({"COPY", "a", "b", "DB", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"COPY", "a", "b", "foo"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"EXISTS", "b"}), ":0");
}

TEST_F(KeyCommandsTest, CopyDuplicatesKeysOfAnyType) {
  MakeList("l");
  EXPECT_EQ(Cmd({"COPY", "l", "m"}), ":1");
  EXPECT_EQ(Cmd({"TYPE", "m"}), "+list");
  EXPECT_EQ(Cmd({"DEL", "l"}), ":1");
  EXPECT_EQ(Cmd({"TYPE", "m"}), "+list");
}

TEST_F(KeyCommandsTest, MoveTransfersTheKeyWithItsTtl) {
  ASSERT_EQ(Cmd({"SET", "a", "1", "EX", "100"}), "+OK");
  EXPECT_EQ(Cmd({"MOVE", "a", "1"}), ":1");
  EXPECT_EQ(Cmd({"EXISTS", "a"}), ":0");
  EXPECT_EQ(Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "a"}), "1");
  EXPECT_EQ(Cmd({"TTL", "a"}), ":100");
}

TEST_F(KeyCommandsTest, MoveDoesNotOverwriteOrMoveMissingKeys) {
  ASSERT_EQ(Cmd({"SET", "a", "here"}), "+OK");
  auto other = NewClient();
  ASSERT_EQ(other->Cmd({"SELECT", "1"}), "+OK");
  ASSERT_EQ(other->Cmd({"SET", "a", "there"}), "+OK");
  EXPECT_EQ(Cmd({"MOVE", "a", "1"}), ":0");
  EXPECT_EQ(Cmd({"GET", "a"}), "here");
  EXPECT_EQ(other->Cmd({"GET", "a"}), "there");
  EXPECT_EQ(Cmd({"MOVE", "missing", "1"}), ":0");
}

TEST_F(KeyCommandsTest, MoveRejectsBadDbs) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"MOVE", "a", "0"}), "-ERR source and destination objects are the same");
  EXPECT_EQ(Cmd({"MOVE", "a", "16"}), "-ERR DB index is out of range");
  EXPECT_EQ(Cmd({"MOVE", "a", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"GET", "a"}), "1");
}

// ------------------------------------------------------------------ KEYS SCAN RANDOMKEY

TEST_F(KeyCommandsTest, KeysMatchesGlobPatterns) {
  ASSERT_EQ(Cmd({"MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5",
                 "other", "6"}),
            "+OK");
  auto sorted = [&](const std::vector<std::string>& argv) {
    auto r = client_->Raw(argv);
    std::set<std::string> out;
    if (r && r->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < r->elements; ++i) out.insert(FormatReply(r->element[i]));
    }
    return out;
  };
  using S = std::set<std::string>;
  EXPECT_EQ(sorted({"KEYS", "h?llo"}), (S{"hello", "hallo", "hxllo"}));
  EXPECT_EQ(sorted({"KEYS", "h*llo"}), (S{"hello", "hallo", "hxllo", "hllo", "heeeello"}));
  EXPECT_EQ(sorted({"KEYS", "h[ae]llo"}), (S{"hello", "hallo"}));
  EXPECT_EQ(sorted({"KEYS", "h[^e]llo"}), (S{"hallo", "hxllo"}));
  EXPECT_EQ(sorted({"KEYS", "h[a-b]llo"}), (S{"hallo"}));
  EXPECT_EQ(sorted({"KEYS", "*"}).size(), 6u);
  EXPECT_EQ(sorted({"KEYS", "other"}), (S{"other"}));
  EXPECT_EQ(sorted({"KEYS", "nothing*"}), (S{}));
}

TEST_F(KeyCommandsTest, KeysMatchesKeysWithSpecialCharacters) {
  ASSERT_EQ(Cmd({"MSET", "a*b", "1", "a?b", "2", "axb", "3"}), "+OK");
  EXPECT_EQ(Cmd({"KEYS", "a\\*b"}), "[a*b]");
  EXPECT_EQ(Cmd({"KEYS", "a\\?b"}), "[a?b]");
}

TEST_F(KeyCommandsTest, KeysOnlyListsTheSelectedDb) {
  ASSERT_EQ(Cmd({"SET", "zero", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "2"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "two", "1"}), "+OK");
  EXPECT_EQ(Cmd({"KEYS", "*"}), "[two]");
}

// Collects every key a full SCAN iteration returns (with extra arguments), checking the
// cursor protocol on the way.
std::multiset<std::string> ScanAll(Client& c, const std::vector<std::string>& extra,
                                   int* calls = nullptr) {
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int n = 0;
  do {
    std::vector<std::string> argv = {"SCAN", cursor};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = c.Raw(argv);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      ADD_FAILURE() << "bad SCAN reply: " << FormatReply(r.get());
      break;
    }
    cursor = FormatReply(r->element[0]);
    for (size_t i = 0; i < r->element[1]->elements; ++i) {
      seen.insert(FormatReply(r->element[1]->element[i]));
    }
    if (++n > 100000) {
      ADD_FAILURE() << "SCAN does not terminate";
      break;
    }
  } while (cursor != "0");
  if (calls != nullptr) *calls = n;
  return seen;
}

TEST_F(KeyCommandsTest, ScanFullIterationReturnsEveryKeyAndEndsAtCursorZero) {
  constexpr int kKeys = 5000;
  for (int i = 0; i < kKeys; i += 500) {
    std::vector<std::string> argv = {"MSET"};
    for (int j = i; j < i + 500; ++j) {
      argv.push_back("key:" + std::to_string(j));
      argv.push_back(std::to_string(j));
    }
    ASSERT_EQ(Cmd(argv), "+OK");
  }
  int calls = 0;
  auto seen = ScanAll(*client_, {}, &calls);
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(unique.count("key:" + std::to_string(i))) << "missing key:" << i;
  }
  EXPECT_GT(calls, 1);  // the default COUNT of 10 needs many calls
  auto counted = ScanAll(*client_, {"COUNT", "1000"});
  EXPECT_EQ(std::set<std::string>(counted.begin(), counted.end()).size(),
            static_cast<size_t>(kKeys));
}

TEST_F(KeyCommandsTest, ScanReturnsKeysPresentThroughoutDespiteConcurrentChanges) {
  std::vector<std::string> argv = {"MSET"};
  for (int i = 0; i < 2000; ++i) {
    argv.push_back("stable:" + std::to_string(i));
    argv.push_back("v");
    argv.push_back("doomed:" + std::to_string(i));
    argv.push_back("v");
  }
  ASSERT_EQ(Cmd(argv), "+OK");
  auto writer = NewClient();
  std::set<std::string> seen;
  std::string cursor = "0";
  int step = 0;
  do {
    auto r = client_->Raw({"SCAN", cursor, "COUNT", "50"});
    ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    cursor = FormatReply(r->element[0]);
    for (size_t i = 0; i < r->element[1]->elements; ++i) {
      seen.insert(FormatReply(r->element[1]->element[i]));
    }
    // Between calls: delete some keys, add new ones.
    for (int j = 0; j < 20; ++j, ++step) {
      writer->Append({"DEL", "doomed:" + std::to_string(step % 2000)});
      writer->Append({"SET", "new:" + std::to_string(step), "v"});
    }
    for (int j = 0; j < 40; ++j) ASSERT_NE(writer->GetReply().substr(0, 3), "(io");
  } while (cursor != "0");
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(seen.count("stable:" + std::to_string(i))) << "SCAN missed stable:" << i;
  }
}

TEST_F(KeyCommandsTest, ScanWithMatchReturnsOnlyMatchingKeys) {
  std::vector<std::string> argv = {"MSET"};
  for (int i = 0; i < 200; ++i) {
    argv.push_back((i % 2 ? "odd:" : "even:") + std::to_string(i));
    argv.push_back("v");
  }
  ASSERT_EQ(Cmd(argv), "+OK");
  auto seen = ScanAll(*client_, {"MATCH", "odd:*", "COUNT", "7"});
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), 100u);
  for (const auto& k : unique) EXPECT_EQ(k.rfind("odd:", 0), 0u) << k;
}

TEST_F(KeyCommandsTest, ScanWithTypeFiltersByType) {
  ASSERT_EQ(Cmd({"MSET", "s1", "1", "s2", "2"}), "+OK");
  MakeList("l1");
  auto strings = ScanAll(*client_, {"TYPE", "string"});
  EXPECT_EQ(std::set<std::string>(strings.begin(), strings.end()),
            (std::set<std::string>{"s1", "s2"}));
  auto lists = ScanAll(*client_, {"TYPE", "list"});
  EXPECT_EQ(std::set<std::string>(lists.begin(), lists.end()), (std::set<std::string>{"l1"}));
  EXPECT_TRUE(ScanAll(*client_, {"TYPE", "hash"}).empty());
  EXPECT_TRUE(ScanAll(*client_, {"TYPE", "nosuchtype"}).empty());
}

TEST_F(KeyCommandsTest, ScanOfEmptyDbReturnsCursorZeroAndNoKeys) {
  EXPECT_EQ(Cmd({"SCAN", "0"}), "[0,[]]");
}

TEST_F(KeyCommandsTest, ScanRejectsBadArguments) {
  EXPECT_EQ(Cmd({"SCAN", "abc"}), "-ERR invalid cursor");
  EXPECT_EQ(Cmd({"SCAN", "18446744073709551616"}), "-ERR invalid cursor");
  EXPECT_EQ(Cmd({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SCAN", "0", "COUNT", "-1"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SCAN", "0", "COUNT", "x"}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"SCAN", "0", "MATCH"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SCAN", "0", "FOO", "bar"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"SCAN"}), "-ERR wrong number of arguments for 'scan' command");
}

TEST_F(KeyCommandsTest, RandomKeyReturnsAnExistingKeyOrNil) {
  EXPECT_EQ(Cmd({"RANDOMKEY"}), "(nil)");
  ASSERT_EQ(Cmd({"MSET", "a", "1", "b", "2", "c", "3"}), "+OK");
  std::set<std::string> seen;
  for (int i = 0; i < 200 && seen.size() < 3; ++i) seen.insert(Cmd({"RANDOMKEY"}));
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "c"}));
}

// ------------------------------------------------------------------ OBJECT

TEST_F(KeyCommandsTest, ObjectEncodingFollowsRedisRules) {
  ASSERT_EQ(Cmd({"MSET", "int", "12345", "neg", "-5", "big", "12345678901234567890", "short",
                 "hello", "long", std::string(45, 'x'), "edge", std::string(44, 'x')}),
            "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "int"}), "int");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "neg"}), "int");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "big"}), "embstr");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "short"}), "embstr");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "edge"}), "embstr");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "long"}), "raw");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "missing"}), "(nil)");
}

TEST_F(KeyCommandsTest, ObjectEncodingAfterInPlaceEditsIsRaw) {
  ASSERT_EQ(Cmd({"MSET", "s", "hello", "n", "100"}), "+OK");
  ASSERT_EQ(Cmd({"APPEND", "s", "x"}), ":6");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "s"}), "raw");
  ASSERT_EQ(Cmd({"SETRANGE", "n", "0", "5"}), ":3");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "n"}), "raw");
  ASSERT_EQ(Cmd({"SET", "i", "100"}), "+OK");
  ASSERT_EQ(Cmd({"INCR", "i"}), ":101");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "i"}), "int");
  ASSERT_EQ(Cmd({"SET", "f", "10"}), "+OK");
  ASSERT_EQ(Cmd({"INCRBYFLOAT", "f", "1"}), "11");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "f"}), "embstr");
}

TEST_F(KeyCommandsTest, ObjectRefcountReportsSharedIntegers) {
  ASSERT_EQ(Cmd({"MSET", "z", "9999", "big", "10000", "neg", "-1", "s", "x"}), "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "REFCOUNT", "z"}), ":2147483647");
  EXPECT_EQ(Cmd({"OBJECT", "REFCOUNT", "big"}), ":1");
  EXPECT_EQ(Cmd({"OBJECT", "REFCOUNT", "neg"}), ":1");
  EXPECT_EQ(Cmd({"OBJECT", "REFCOUNT", "s"}), ":1");
  EXPECT_EQ(Cmd({"OBJECT", "REFCOUNT", "missing"}), "(nil)");
}

TEST_F(KeyCommandsTest, ObjectIdleTimeIsZeroRightAfterAccess) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "IDLETIME", "k"}), ":0");
  EXPECT_EQ(Cmd({"OBJECT", "IDLETIME", "missing"}), "(nil)");
}

TEST_F(KeyCommandsTest, ObjectFreqNeedsAnLfuPolicy) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "FREQ", "k"}),
            "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
            "note that when switching between policies at runtime LRU and LFU data will take "
            "some time to adjust.");
}

TEST_F(KeyCommandsTest, ObjectRejectsUnknownSubcommandsAndArity) {
  EXPECT_EQ(Cmd({"OBJECT", "foo", "k"}), "-ERR unknown subcommand 'foo'. Try OBJECT HELP.");
  EXPECT_EQ(Cmd({"OBJECT"}), "-ERR wrong number of arguments for 'object' command");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING"}),
            "-ERR wrong number of arguments for 'object|encoding' command");
}

TEST_F(KeyCommandsTest, ObjectHelpHasRedisFirstAndLastLines) {
  auto r = client_->Raw({"OBJECT", "HELP"});
  ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements > 4) << FormatReply(r.get());
  EXPECT_EQ(FormatReply(r->element[0]),
            "+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  EXPECT_EQ(FormatReply(r->element[1]), "+ENCODING <key>");
  EXPECT_EQ(FormatReply(r->element[r->elements - 2]), "+HELP");
  EXPECT_EQ(FormatReply(r->element[r->elements - 1]), "+    Prints this help.");
}

// ------------------------------------------------------------------ DUMP RESTORE

// DUMP "v" as Redis 7.0 writes it: type 0, length 1, "v", RDB version 10, CRC-64.
const std::string kDumpOfV("\x00\x01v\x0a\x00\x91\x08\xce\xb2\x19\x38\x8a\xce", 13);

TEST_F(KeyCommandsTest, DumpMatchesRedisBytes) {
  ASSERT_EQ(Cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(Cmd({"DUMP", "k"}), kDumpOfV);
  EXPECT_EQ(Cmd({"DUMP", "missing"}), "(nil)");
}

TEST_F(KeyCommandsTest, RestoreRecreatesADumpedValue) {
  std::string value("bin\0ary\r\n", 9);
  ASSERT_EQ(Cmd({"SET", "k", value}), "+OK");
  std::string payload = Cmd({"DUMP", "k"});
  EXPECT_EQ(Cmd({"RESTORE", "copy", "0", payload}), "+OK");
  EXPECT_EQ(Cmd({"GET", "copy"}), value);
  EXPECT_EQ(Cmd({"TTL", "copy"}), ":-1");
  ASSERT_EQ(Cmd({"SET", "n", "12345"}), "+OK");
  EXPECT_EQ(Cmd({"RESTORE", "n2", "0", Cmd({"DUMP", "n"})}), "+OK");
  EXPECT_EQ(Cmd({"GET", "n2"}), "12345");
}

TEST_F(KeyCommandsTest, RestoreRefusesAnExistingKeyWithoutReplace) {
  ASSERT_EQ(Cmd({"SET", "k", "old"}), "+OK");
  EXPECT_EQ(Cmd({"RESTORE", "k", "0", kDumpOfV}), "-BUSYKEY Target key name already exists.");
  EXPECT_EQ(Cmd({"GET", "k"}), "old");
  EXPECT_EQ(Cmd({"RESTORE", "k", "0", kDumpOfV, "REPLACE"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "v");
}

TEST_F(KeyCommandsTest, RestoreWithTtlAndAbsTtl) {
  EXPECT_EQ(Cmd({"RESTORE", "a", "100000", kDumpOfV}), "+OK");
  int64_t pttl = IntOf(Cmd({"PTTL", "a"}));
  EXPECT_GT(pttl, 90000);
  EXPECT_LE(pttl, 100000);
  int64_t at = NowMs() + 1000000;
  EXPECT_EQ(Cmd({"RESTORE", "b", std::to_string(at), kDumpOfV, "ABSTTL"}), "+OK");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "b"}), ":" + std::to_string(at));
  EXPECT_EQ(Cmd({"RESTORE", "c", "1", kDumpOfV, "ABSTTL"}), "+OK");
  EXPECT_EQ(Cmd({"EXISTS", "c"}), ":0");
}

TEST_F(KeyCommandsTest, RestoreAcceptsIdleTimeOrFreq) {
  EXPECT_EQ(Cmd({"RESTORE", "a", "0", kDumpOfV, "IDLETIME", "1000"}), "+OK");
  EXPECT_GE(IntOf(Cmd({"OBJECT", "IDLETIME", "a"})), 1000);
  EXPECT_EQ(Cmd({"RESTORE", "b", "0", kDumpOfV, "FREQ", "100"}), "+OK");
  EXPECT_EQ(Cmd({"RESTORE", "c", "0", kDumpOfV, "IDLETIME", "1", "FREQ", "1"}),
            "-ERR syntax error");
  EXPECT_EQ(Cmd({"RESTORE", "c", "0", kDumpOfV, "FREQ", "256"}),
            "-ERR Invalid FREQ value, must be >= 0 and <= 255");
  EXPECT_EQ(Cmd({"RESTORE", "c", "0", kDumpOfV, "IDLETIME", "-1"}),
            "-ERR Invalid IDLETIME value, must be >= 0");
}

TEST_F(KeyCommandsTest, RestoreRejectsBadPayloadsAndTtls) {
  EXPECT_EQ(Cmd({"RESTORE", "x", "0", "garbage"}),
            "-ERR DUMP payload version or checksum are wrong");
  std::string corrupt = kDumpOfV;
  corrupt[2] = 'w';
  EXPECT_EQ(Cmd({"RESTORE", "x", "0", corrupt}), "-ERR DUMP payload version or checksum are wrong");
  EXPECT_EQ(Cmd({"RESTORE", "x", "-1", kDumpOfV}), "-ERR Invalid TTL value, must be >= 0");
  EXPECT_EQ(Cmd({"RESTORE", "x", "abc", kDumpOfV}), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Cmd({"RESTORE", "x", "0", kDumpOfV, "FOO"}), "-ERR syntax error");
  EXPECT_EQ(Cmd({"EXISTS", "x"}), ":0");
}

// Bytes from hex digits.
std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// DUMP payloads from redis-server 7.0.15 (see tests/datatypes/rdb_test.cc for what they hold).
const std::string kRedisHashListpack =
    Unhex("101616000000040081610201018162028568656c6c6f06ff0a00e8c5fe99ee07955d");
const std::string kRedisHashTable =
    Unhex("04020161c0010162c3094046017878e039000178780a0083486afa619959f4");
const std::string kRedisIntset = Unhex("0b0e02000000030000000100020003000a00a5025ce26d6e4d1b");
const std::string kRedisSet = Unhex("020301610162c0010a0023ff73bdb0f93526");
const std::string kRedisZsetListpack =
    Unhex("111919000000060081610283312e350481620202018163020301ff0a00ade4d027c0d89f66");
const std::string kRedisZsetSkiplist = Unhex(
    "0503c3094046017979e039000179790000000000000840016200000000000000400161000000000000f83f0a00"
    "d2435b62161659ca");

TEST_F(KeyCommandsTest, RestoreAcceptsHashesDumpedByRedis) {
  EXPECT_EQ(Cmd({"RESTORE", "h", "0", kRedisHashListpack}), "+OK");
  EXPECT_EQ(Cmd({"HGETALL", "h"}), "[a,1,b,hello]");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "h"}), "listpack");
  EXPECT_EQ(Cmd({"RESTORE", "hb", "0", kRedisHashTable}), "+OK");
  EXPECT_EQ(Cmd({"HGET", "hb", "b"}), std::string(70, 'x'));
  EXPECT_EQ(Cmd({"HLEN", "hb"}), ":2");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "hb"}), "hashtable");
}

TEST_F(KeyCommandsTest, RestoreAcceptsSetsDumpedByRedis) {
  EXPECT_EQ(Cmd({"RESTORE", "si", "0", kRedisIntset}), "+OK");
  EXPECT_EQ(Cmd({"SMEMBERS", "si"}), "[1,2,3]");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "si"}), "intset");
  EXPECT_EQ(Cmd({"RESTORE", "ss", "0", kRedisSet}), "+OK");
  EXPECT_EQ(Cmd({"SCARD", "ss"}), ":3");
  EXPECT_EQ(Cmd({"SMISMEMBER", "ss", "a", "b", "1", "c"}), "[:1,:1,:1,:0]");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "ss"}), "hashtable");
}

TEST_F(KeyCommandsTest, RestoreAcceptsSortedSetsDumpedByRedis) {
  EXPECT_EQ(Cmd({"RESTORE", "zl", "0", kRedisZsetListpack}), "+OK");
  EXPECT_EQ(Cmd({"ZRANGE", "zl", "0", "-1", "WITHSCORES"}), "[a,1.5,b,2,c,3]");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "zl"}), "listpack");
  EXPECT_EQ(Cmd({"RESTORE", "zs", "0", kRedisZsetSkiplist}), "+OK");
  EXPECT_EQ(Cmd({"ZRANGE", "zs", "0", "1", "WITHSCORES"}), "[a,1.5,b,2]");
  EXPECT_EQ(Cmd({"ZSCORE", "zs", std::string(70, 'y')}), "3");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "zs"}), "skiplist");
}

TEST_F(KeyCommandsTest, HashesSetsAndSortedSetsRoundTripThroughDumpAndRestore) {
  EXPECT_EQ(Cmd({"HSET", "h", "z", "1", "a", "2"}), ":2");
  EXPECT_EQ(Cmd({"SADD", "s", "5", "-3", "x"}), ":3");
  EXPECT_EQ(Cmd({"SADD", "i", "5", "-3"}), ":2");
  EXPECT_EQ(Cmd({"ZADD", "z", "2", "b", "-1.25", "a"}), ":2");
  for (const char* key : {"h", "s", "i", "z"}) {
    std::string copy = std::string(key) + "2";
    EXPECT_EQ(Cmd({"RESTORE", copy, "0", Cmd({"DUMP", key})}), "+OK") << key;
    EXPECT_EQ(Cmd({"OBJECT", "ENCODING", copy}), Cmd({"OBJECT", "ENCODING", key})) << key;
  }
  EXPECT_EQ(Cmd({"HGETALL", "h2"}), "[z,1,a,2]");
  EXPECT_EQ(Cmd({"SINTERCARD", "2", "s", "s2"}), ":3");
  EXPECT_EQ(Cmd({"SCARD", "s2"}), ":3");
  EXPECT_EQ(Cmd({"SMEMBERS", "i2"}), "[-3,5]");
  EXPECT_EQ(Cmd({"ZRANGE", "z2", "0", "-1", "WITHSCORES"}), "[a,-1.25,b,2]");
}

TEST_F(KeyCommandsTest, RestoringACollectionHonoursReplaceTtlAndIdleTime) {
  ASSERT_EQ(Cmd({"SET", "k", "old"}), "+OK");
  EXPECT_EQ(Cmd({"RESTORE", "k", "0", kRedisZsetListpack}),
            "-BUSYKEY Target key name already exists.");
  EXPECT_EQ(Cmd({"RESTORE", "k", "100000", kRedisZsetListpack, "REPLACE", "IDLETIME", "1000"}),
            "+OK");
  EXPECT_GE(IntOf(Cmd({"OBJECT", "IDLETIME", "k"})), 1000);  // before a read touches it
  EXPECT_EQ(Cmd({"TYPE", "k"}), "+zset");
  EXPECT_EQ(Cmd({"ZCARD", "k"}), ":3");
  int64_t pttl = IntOf(Cmd({"PTTL", "k"}));
  EXPECT_GT(pttl, 90000);
  EXPECT_LE(pttl, 100000);
  // REPLACE of a larger hash by a smaller one leaves none of the old fields.
  EXPECT_EQ(Cmd({"HSET", "h", "a", "old", "c", "3", "d", "4"}), ":3");
  EXPECT_EQ(Cmd({"RESTORE", "h", "0", kRedisHashListpack, "REPLACE", "FREQ", "5"}), "+OK");
  EXPECT_EQ(Cmd({"HGETALL", "h"}), "[a,1,b,hello]");
  int64_t at = NowMs() + 1000000;
  EXPECT_EQ(Cmd({"RESTORE", "s", std::to_string(at), kRedisIntset, "ABSTTL"}), "+OK");
  EXPECT_EQ(Cmd({"PEXPIRETIME", "s"}), ":" + std::to_string(at));
  EXPECT_EQ(Cmd({"RESTORE", "gone", "1", kRedisSet, "ABSTTL"}), "+OK");
  EXPECT_EQ(Cmd({"EXISTS", "gone"}), ":0");
}

// A payload of `type` holding one listpack of `items`, as RDB_TYPE_*_LISTPACK.
std::string ListpackPayload(uint8_t type, const std::vector<std::string>& items) {
  LpWriter lp;
  for (const auto& item : items) lp.Str(item);
  std::string body(1, static_cast<char>(type));
  AppendRdbString(&body, lp.Finish());
  return FinishDumpPayload(std::move(body));
}

TEST_F(KeyCommandsTest, RestoredListpacksChangeEncodingOnlyByCountLikeRedis) {
  // Redis 7.0.15 keeps a restored listpack with long elements a listpack, and converts one
  // with too many.
  const std::string long_value(70, 'x');
  EXPECT_EQ(Cmd({"RESTORE", "h", "0", ListpackPayload(kRdbTypeHashListpack, {"a", long_value})}),
            "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "h"}), "listpack");
  EXPECT_EQ(Cmd({"HGET", "h", "a"}), long_value);
  EXPECT_EQ(Cmd({"RESTORE", "z", "0", ListpackPayload(kRdbTypeZsetListpack, {long_value, "1"})}),
            "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "z"}), "listpack");
  EXPECT_EQ(Cmd({"ZSCORE", "z", long_value}), "1");
  std::vector<std::string> fields, members;
  for (int i = 0; i < 513; ++i) {
    fields.push_back("f" + std::to_string(i));
    fields.push_back("v");
    if (i < 129) {
      members.push_back("m" + std::to_string(i));
      members.push_back(std::to_string(i));
    }
  }
  EXPECT_EQ(Cmd({"RESTORE", "hm", "0", ListpackPayload(kRdbTypeHashListpack, fields)}), "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "hm"}), "hashtable");
  EXPECT_EQ(Cmd({"HLEN", "hm"}), ":513");
  EXPECT_EQ(Cmd({"RESTORE", "zm", "0", ListpackPayload(kRdbTypeZsetListpack, members)}), "+OK");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "zm"}), "skiplist");
  EXPECT_EQ(Cmd({"ZRANGE", "zm", "-1", "-1", "WITHSCORES"}), "[m128,128]");
}

TEST_F(KeyCommandsTest, MalformedCollectionPayloadsAreBadDataFormat) {
  const std::string bad = "-ERR Bad data format";
  EXPECT_EQ(Cmd({"RESTORE", "x", "0", FinishDumpPayload(Unhex("020201610161"))}), bad);  // dup
  EXPECT_EQ(Cmd({"RESTORE", "x", "0", FinishDumpPayload(Unhex("0400"))}), bad);        // empty hash
  EXPECT_EQ(Cmd({"RESTORE", "x", "0", FinishDumpPayload(Unhex("0501016100"))}), bad);  // cut
  // Every truncation of Redis's payloads, behind a correct footer.
  for (const std::string* payload : {&kRedisHashListpack, &kRedisIntset, &kRedisZsetSkiplist}) {
    const std::string body = payload->substr(0, payload->size() - 10);
    for (size_t len = 1; len < body.size(); ++len) {
      EXPECT_EQ(Cmd({"RESTORE", "x", "0", FinishDumpPayload(body.substr(0, len))}), bad) << len;
    }
  }
  EXPECT_EQ(Cmd({"EXISTS", "x"}), ":0");
  EXPECT_EQ(Cmd({"PING"}), "+PONG");
}

// ------------------------------------------------------------------ key commands and types

TEST_F(KeyCommandsTest, TypeAgnosticCommandsWorkOnAList) {
  MakeList("l");
  EXPECT_EQ(Cmd({"EXISTS", "l"}), ":1");
  EXPECT_EQ(Cmd({"TOUCH", "l"}), ":1");
  EXPECT_EQ(Cmd({"KEYS", "l"}), "[l]");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
  EXPECT_EQ(Cmd({"MOVE", "l", "1"}), ":1");
  EXPECT_EQ(Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(Cmd({"TYPE", "l"}), "+list");
}

}  // namespace
}  // namespace keel::server::test
