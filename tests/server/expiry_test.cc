// Key expiry end to end: keys whose time has passed are invisible to every read at once (lazy
// expiry) and are deleted without being read (active expiry), so DBSIZE, KEYS and SCAN drop
// them too. Waits poll with deadlines; nothing asserts on elapsed time.
#include <cstdlib>
#include <set>
#include <string>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using ExpiryTest = ServerTest;

// Generous bound for "within about a second" on a loaded machine.
constexpr auto kActiveExpiryDeadline = 5s;

std::set<std::string> ScanKeys(Client& c) {
  std::set<std::string> out;
  std::string cursor = "0";
  do {
    auto r = c.Raw({"SCAN", cursor, "COUNT", "100"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
      ADD_FAILURE() << "bad SCAN reply";
      break;
    }
    cursor = FormatReply(r->element[0]);
    for (size_t i = 0; i < r->element[1]->elements; ++i) {
      out.insert(FormatReply(r->element[1]->element[i]));
    }
  } while (cursor != "0");
  return out;
}

// INFO stats' expired_keys.
int64_t ExpiredKeys(Client& c) {
  std::string stats = c.Cmd({"INFO", "stats"});
  size_t at = stats.find("\r\nexpired_keys:");
  EXPECT_NE(at, std::string::npos) << stats;
  return at == std::string::npos ? -1 : std::atoll(stats.c_str() + at + 15);
}

// Blocks until the wall clock has passed `ms` milliseconds after `start`.
void SleepPast(std::chrono::system_clock::time_point start, int ms) {
  std::this_thread::sleep_until(start + std::chrono::milliseconds(ms));
}

TEST_F(ExpiryTest, ActiveExpiryRemovesAKeyThatIsNeverRead) {
  int64_t expired_before = ExpiredKeys(*client_);
  ASSERT_EQ(Cmd({"SET", "keep", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "k", "v", "PX", "50"}), "+OK");
  // DBSIZE does not look at the key, so it only drops when the key is actually deleted.
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"DBSIZE"}) == ":1"; }, kActiveExpiryDeadline))
      << "DBSIZE is still " << Cmd({"DBSIZE"});
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
  EXPECT_EQ(Cmd({"KEYS", "*"}), "[keep]");
  EXPECT_EQ(ScanKeys(*client_), std::set<std::string>{"keep"});
  std::string info = Cmd({"INFO", "keyspace"});
  EXPECT_NE(info.find("db0:keys=1,expires=0,"), std::string::npos) << info;
  EXPECT_EQ(ExpiredKeys(*client_), expired_before + 1);
}

TEST_F(ExpiryTest, ActiveExpiryRemovesManyKeysInEveryDb) {
  for (int db : {0, 5}) {
    ASSERT_EQ(Cmd({"SELECT", std::to_string(db)}), "+OK");
    for (int i = 0; i < 1000; ++i)
      client_->Append({"SET", "k" + std::to_string(i), "v", "PX", "50"});
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(client_->GetReply(), "+OK");
    ASSERT_EQ(Cmd({"SET", "stays", "1"}), "+OK");
  }
  for (int db : {0, 5}) {
    ASSERT_EQ(Cmd({"SELECT", std::to_string(db)}), "+OK");
    EXPECT_TRUE(WaitUntil([&] { return Cmd({"DBSIZE"}) == ":1"; }, kActiveExpiryDeadline))
        << "db" << db << " DBSIZE is still " << Cmd({"DBSIZE"});
    EXPECT_EQ(Cmd({"KEYS", "*"}), "[stays]");
  }
}

TEST_F(ExpiryTest, ExpiredKeyIsInvisibleToEveryReadAsSoonAsItsTimePasses) {
  auto start = std::chrono::system_clock::now();
  ASSERT_EQ(Cmd({"SET", "k", "value", "PX", "150"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "other", "x"}), "+OK");
  SleepPast(start, 200);
  // Whether or not the active cycle got there first, no read may see the key any more.
  EXPECT_EQ(Cmd({"GET", "k"}), "(nil)");
  EXPECT_EQ(Cmd({"EXISTS", "k"}), ":0");
  EXPECT_EQ(Cmd({"TTL", "k"}), ":-2");
  EXPECT_EQ(Cmd({"PTTL", "k"}), ":-2");
  EXPECT_EQ(Cmd({"TYPE", "k"}), "+none");
  EXPECT_EQ(Cmd({"STRLEN", "k"}), ":0");
  EXPECT_EQ(Cmd({"GETRANGE", "k", "0", "-1"}), "");
  EXPECT_EQ(Cmd({"MGET", "k", "other"}), "[(nil),x]");
  EXPECT_EQ(Cmd({"KEYS", "*"}), "[other]");
  EXPECT_EQ(Cmd({"DUMP", "k"}), "(nil)");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "k"}), "(nil)");
}

TEST_F(ExpiryTest, WritesTreatAnExpiredKeyAsAbsent) {
  auto start = std::chrono::system_clock::now();
  ASSERT_EQ(Cmd({"MSET", "a", "5", "b", "5", "c", "5", "d", "5", "e", "5"}), "+OK");
  for (const char* k : {"a", "b", "c", "d", "e"}) {
    ASSERT_EQ(Cmd({"PEXPIRE", k, "100"}), ":1");
  }
  SleepPast(start, 200);
  EXPECT_EQ(Cmd({"INCR", "a"}), ":1");
  EXPECT_EQ(Cmd({"SETNX", "b", "new"}), ":1");
  EXPECT_EQ(Cmd({"APPEND", "c", "x"}), ":1");
  EXPECT_EQ(Cmd({"EXPIRE", "d", "100"}), ":0");
  EXPECT_EQ(Cmd({"RENAME", "e", "f"}), "-ERR no such key");
  EXPECT_EQ(Cmd({"TTL", "a"}), ":-1");
  EXPECT_EQ(Cmd({"MGET", "a", "b", "c", "d"}), "[1,new,x,(nil)]");
}

TEST_F(ExpiryTest, PersistAndOverwriteCancelTheExpiry) {
  auto start = std::chrono::system_clock::now();
  ASSERT_EQ(Cmd({"SET", "p", "1", "PX", "100"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "o", "1", "PX", "100"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "g", "1", "PX", "100"}), "+OK");
  ASSERT_EQ(Cmd({"PERSIST", "p"}), ":1");
  ASSERT_EQ(Cmd({"SET", "o", "2"}), "+OK");
  ASSERT_EQ(Cmd({"GETEX", "g", "PERSIST"}), "1");
  SleepPast(start, 400);
  EXPECT_EQ(Cmd({"MGET", "p", "o", "g"}), "[1,2,1]");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":3");
}

TEST_F(ExpiryTest, ExtendingTheExpiryKeepsTheKey) {
  auto start = std::chrono::system_clock::now();
  ASSERT_EQ(Cmd({"SET", "k", "v", "PX", "100"}), "+OK");
  ASSERT_EQ(Cmd({"PEXPIRE", "k", "100000"}), ":1");
  SleepPast(start, 400);
  EXPECT_EQ(Cmd({"GET", "k"}), "v");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
}

TEST_F(ExpiryTest, ShorteningTheExpiryRemovesTheKeyEarlier) {
  ASSERT_EQ(Cmd({"SET", "k", "v", "EX", "1000"}), "+OK");
  ASSERT_EQ(Cmd({"PEXPIRE", "k", "50"}), ":1");
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"DBSIZE"}) == ":0"; }, kActiveExpiryDeadline));
}

TEST_F(ExpiryTest, RenamedAndCopiedKeysExpireAtTheOriginalTime) {
  ASSERT_EQ(Cmd({"SET", "a", "v", "PX", "200"}), "+OK");
  ASSERT_EQ(Cmd({"COPY", "a", "b"}), ":1");
  ASSERT_EQ(Cmd({"RENAME", "a", "c"}), "+OK");
  ASSERT_EQ(Cmd({"MOVE", "b", "1"}), ":1");
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"DBSIZE"}) == ":0"; }, kActiveExpiryDeadline));
  ASSERT_EQ(Cmd({"SELECT", "1"}), "+OK");
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"DBSIZE"}) == ":0"; }, kActiveExpiryDeadline));
}

TEST_F(ExpiryTest, ExpiryTimesSurviveARestart) {
  KEEL_ONLY();
  ASSERT_EQ(Cmd({"SET", "short", "v", "PX", "300"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "long", "v", "EX", "1000"}), "+OK");
  std::string at = Cmd({"PEXPIRETIME", "long"});
  RestartServer();
  EXPECT_EQ(Cmd({"PEXPIRETIME", "long"}), at);
  EXPECT_TRUE(WaitUntil([&] { return Cmd({"DBSIZE"}) == ":1"; }, kActiveExpiryDeadline));
  EXPECT_EQ(Cmd({"EXISTS", "short"}), ":0");
  EXPECT_EQ(Cmd({"GET", "long"}), "v");
}

}  // namespace
}  // namespace keel::server::test
