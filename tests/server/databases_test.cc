// The 16 logical databases: isolation, SELECT, SWAPDB (data follows the swap for every
// connection, and across a restart of the server on the same directory).
#include <string>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

using DatabasesTest = ServerTest;

TEST_F(DatabasesTest, SixteenDatabasesAreIndependent) {
  for (int db = 0; db < 16; ++db) {
    ASSERT_EQ(Cmd({"SELECT", std::to_string(db)}), "+OK");
    ASSERT_EQ(Cmd({"SET", "k", "db" + std::to_string(db)}), "+OK");
    for (int i = 0; i < db; ++i) ASSERT_EQ(Cmd({"SET", "extra" + std::to_string(i), "x"}), "+OK");
  }
  for (int db = 0; db < 16; ++db) {
    ASSERT_EQ(Cmd({"SELECT", std::to_string(db)}), "+OK");
    EXPECT_EQ(Cmd({"GET", "k"}), "db" + std::to_string(db));
    EXPECT_EQ(Cmd({"DBSIZE"}), ":" + std::to_string(db + 1));
  }
  std::string info = Cmd({"INFO", "keyspace"});
  for (int db = 0; db < 16; ++db) {
    EXPECT_NE(
        info.find("db" + std::to_string(db) + ":keys=" + std::to_string(db + 1) + ",expires=0,"),
        std::string::npos)
        << info;
  }
}

TEST_F(DatabasesTest, SwapDbExchangesTheContentsForEveryConnection) {
  ASSERT_EQ(Cmd({"SET", "a", "zero"}), "+OK");
  auto in_db1 = NewClient();
  ASSERT_EQ(in_db1->Cmd({"SELECT", "1"}), "+OK");
  ASSERT_EQ(in_db1->Cmd({"MSET", "b", "one", "c", "one"}), "+OK");
  EXPECT_EQ(Cmd({"SWAPDB", "0", "1"}), "+OK");
  // Connections keep their index and see the other data set.
  EXPECT_EQ(Cmd({"MGET", "a", "b", "c"}), "[(nil),one,one]");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":2");
  EXPECT_EQ(in_db1->Cmd({"MGET", "a", "b"}), "[zero,(nil)]");
  EXPECT_EQ(in_db1->Cmd({"DBSIZE"}), ":1");
  // Swapping back restores the original layout.
  EXPECT_EQ(in_db1->Cmd({"SWAPDB", "1", "0"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "a"}), "zero");
}

TEST_F(DatabasesTest, SwapDbMovesTtlsKeyCountsAndWrites) {
  ASSERT_EQ(Cmd({"SET", "t", "v", "EX", "100"}), "+OK");
  ASSERT_EQ(Cmd({"SWAPDB", "0", "5"}), "+OK");
  EXPECT_EQ(Cmd({"EXISTS", "t"}), ":0");
  ASSERT_EQ(Cmd({"SET", "written-after", "1"}), "+OK");  // lands in what is now db0
  ASSERT_EQ(Cmd({"SELECT", "5"}), "+OK");
  EXPECT_EQ(Cmd({"TTL", "t"}), ":100");
  EXPECT_EQ(Cmd({"EXISTS", "written-after"}), ":0");
  std::string info = Cmd({"INFO", "keyspace"});
  EXPECT_NE(info.find("db0:keys=1,expires=0,"), std::string::npos) << info;
  EXPECT_NE(info.find("db5:keys=1,expires=1,"), std::string::npos) << info;
}

TEST_F(DatabasesTest, SwapDbWithItselfIsANoOp) {
  ASSERT_EQ(Cmd({"SET", "a", "1"}), "+OK");
  EXPECT_EQ(Cmd({"SWAPDB", "0", "0"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "a"}), "1");
}

TEST_F(DatabasesTest, FlushDbAndMoveAfterSwapDbActOnTheSwappedData) {
  ASSERT_EQ(Cmd({"SET", "a", "zero"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "b", "one"}), "+OK");
  ASSERT_EQ(Cmd({"SWAPDB", "0", "1"}), "+OK");
  EXPECT_EQ(Cmd({"MOVE", "a", "2"}), ":1");  // db1 now holds a
  EXPECT_EQ(Cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(Cmd({"FLUSHDB"}), "+OK");  // removes b
  EXPECT_EQ(Cmd({"SELECT", "2"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "a"}), "zero");
  EXPECT_EQ(Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
}

TEST_F(DatabasesTest, SwapDbRejectsBadIndexes) {
  EXPECT_EQ(Cmd({"SWAPDB", "0", "16"}), "-ERR DB index is out of range");
  EXPECT_EQ(Cmd({"SWAPDB", "-1", "0"}), "-ERR DB index is out of range");
  EXPECT_EQ(Cmd({"SWAPDB", "a", "1"}), "-ERR invalid first DB index");
  EXPECT_EQ(Cmd({"SWAPDB", "0", "b"}), "-ERR invalid second DB index");
  EXPECT_EQ(Cmd({"SWAPDB", "0"}), "-ERR wrong number of arguments for 'swapdb' command");
}

TEST_F(DatabasesTest, SwapDbSurvivesARestartOnTheSameDirectory) {
  KEEL_ONLY();
  ASSERT_EQ(Cmd({"SET", "a", "zero"}), "+OK");
  ASSERT_EQ(Cmd({"SELECT", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SET", "b", "one", "EX", "1000"}), "+OK");
  ASSERT_EQ(Cmd({"SWAPDB", "0", "1"}), "+OK");
  ASSERT_EQ(Cmd({"SWAPDB", "1", "7"}), "+OK");  // db7 now holds a, db1 is empty
  RestartServer();
  EXPECT_EQ(Cmd({"KEYS", "*"}), "[b]");
  EXPECT_GT(std::atoi(Cmd({"TTL", "b"}).c_str() + 1), 990);
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
  ASSERT_EQ(Cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":0");
  ASSERT_EQ(Cmd({"SELECT", "7"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "a"}), "zero");
  EXPECT_EQ(Cmd({"DBSIZE"}), ":1");
  // And the swapped layout keeps working for writes after the restart.
  ASSERT_EQ(Cmd({"SET", "c", "seven"}), "+OK");
  RestartServer();
  ASSERT_EQ(Cmd({"SELECT", "7"}), "+OK");
  EXPECT_EQ(Cmd({"MGET", "a", "c"}), "[zero,seven]");
}

TEST_F(DatabasesTest, KeysWithTheSameNameInDifferentDbsAreDistinct) {
  ASSERT_EQ(Cmd({"SET", "k", "0"}), "+OK");
  ASSERT_EQ(Cmd({"COPY", "k", "k", "DB", "1"}), ":1");
  ASSERT_EQ(Cmd({"SELECT", "1"}), "+OK");
  ASSERT_EQ(Cmd({"INCR", "k"}), ":1");
  ASSERT_EQ(Cmd({"DEL", "k"}), ":1");
  ASSERT_EQ(Cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(Cmd({"GET", "k"}), "0");
}

}  // namespace
}  // namespace keel::server::test
