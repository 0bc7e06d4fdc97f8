// Hash commands over the wire: pipelines and MULTI that read their own pending writes, HSCAN
// cursors over a hashtable-encoded hash, RESP3 shapes, keyspace events and WATCH. Everything
// but the restart test holds against real Redis too (KEEL_TEST_REDIS_PORT).
#include <set>
#include <string>
#include <vector>

#include "tests/server/harness.h"

namespace keel::server::test {
namespace {

class HashCommandsTest : public ServerTest {
 protected:
  // Subscribes a new client to every keyevent of db 0 with classes `classes` enabled.
  std::unique_ptr<Client> ListenEvents(const std::string& classes) {
    EXPECT_EQ(Cmd({"CONFIG", "SET", "notify-keyspace-events", classes}), "+OK");
    auto sub = NewClient();
    EXPECT_EQ(sub->Cmd({"PSUBSCRIBE", "__keyevent@0__:*"}), "[psubscribe,__keyevent@0__:*,:1]");
    return sub;
  }
  // The "<event> <key>" messages `sub` received so far.
  static std::vector<std::string> Events(Client& sub) {
    sub.Append({"PING", "end"});
    std::vector<std::string> out;
    for (;;) {
      std::string r = sub.GetReply();
      if (r == "[pong,end]" || r.rfind("(io error", 0) == 0) break;
      const std::string prefix = "[pmessage,__keyevent@0__:*,__keyevent@0__:";
      if (r.rfind(prefix, 0) != 0) {
        out.push_back("unexpected " + r);
        continue;
      }
      std::string rest = r.substr(prefix.size(), r.size() - prefix.size() - 1);
      out.push_back(rest.substr(0, rest.find(',')) + " " + rest.substr(rest.find(',') + 1));
    }
    return out;
  }
  void TearDown() override {
    if (external()) NewClient()->Cmd({"CONFIG", "SET", "notify-keyspace-events", ""});
    ServerTest::TearDown();
  }
};

TEST_F(HashCommandsTest, APipelineReadsTheFieldsItsEarlierCommandsWrote) {
  client_->Append({"HSET", "h", "a", "1", "b", "2"});
  client_->Append({"HGETALL", "h"});
  client_->Append({"HDEL", "h", "a"});
  client_->Append({"HKEYS", "h"});
  client_->Append({"HSCAN", "h", "0"});
  EXPECT_EQ(client_->GetReply(), ":2");
  EXPECT_EQ(client_->GetReply(), "[a,1,b,2]");
  EXPECT_EQ(client_->GetReply(), ":1");
  EXPECT_EQ(client_->GetReply(), "[b]");
  EXPECT_EQ(client_->GetReply(), "[0,[b,2]]");
}

TEST_F(HashCommandsTest, MultiExecSeesItsOwnWritesAndDeletesEmptyHashes) {
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"HSET", "h", "f", "v"}), "+QUEUED");
  EXPECT_EQ(Cmd({"HGETALL", "h"}), "+QUEUED");
  EXPECT_EQ(Cmd({"HDEL", "h", "f"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXISTS", "h"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "[:1,[f,v],:1,:0]");
}

TEST_F(HashCommandsTest, HscanCursorsWalkAHashtableWithoutMissingAField) {
  std::vector<std::string> argv = {"HSET", "h"};
  for (int i = 0; i < 1200; ++i) {
    argv.push_back("field:" + std::to_string(i));
    argv.push_back(std::to_string(i));
  }
  EXPECT_EQ(Cmd(argv), ":1200");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "h"}), "hashtable");
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    auto reply = client_->Raw({"HSCAN", "h", cursor, "COUNT", "100"});
    ASSERT_TRUE(reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2);
    cursor = std::string(reply->element[0]->str, reply->element[0]->len);
    const redisReply* items = reply->element[1];
    ASSERT_EQ(items->elements % 2, 0u);
    for (size_t i = 0; i < items->elements; i += 2) {
      seen.insert(std::string(items->element[i]->str, items->element[i]->len));
    }
    ++calls;
  } while (cursor != "0" && calls < 10000);
  EXPECT_EQ(seen.size(), 1200u);
  EXPECT_GT(calls, 1);
}

TEST_F(HashCommandsTest, Resp3RepliesHgetallAsAMapAndHrandfieldPairsAsArrays) {
  EXPECT_EQ(Cmd({"HSET", "h", "a", "1"}), ":1");
  RawConnection raw(port());
  ASSERT_TRUE(raw.connected());
  ASSERT_FALSE(raw.Roundtrip(EncodeCommand({"HELLO", "3"})).empty());
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"HGETALL", "h"})), "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"HRANDFIELD", "h", "1", "WITHVALUES"})),
            "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
  EXPECT_EQ(raw.Roundtrip(EncodeCommand({"HGETALL", "nokey"})), "%0\r\n");
}

TEST_F(HashCommandsTest, WritesPublishRedisKeyspaceEvents) {
  auto sub = ListenEvents("Ehg");
  EXPECT_EQ(Cmd({"HSET", "h", "a", "1", "b", "2"}), ":2");
  EXPECT_EQ(Cmd({"HSETNX", "h", "a", "x"}), ":0");
  EXPECT_EQ(Cmd({"HINCRBY", "h", "n", "1"}), ":1");
  EXPECT_EQ(Cmd({"HINCRBYFLOAT", "h", "f", "1.5"}), "1.5");
  EXPECT_EQ(Cmd({"HDEL", "h", "nope"}), ":0");
  EXPECT_EQ(Cmd({"HDEL", "h", "a", "b", "n", "f"}), ":4");
  std::vector<std::string> want = {"hset h", "hincrby h", "hincrbyfloat h", "hdel h", "del h"};
  std::vector<std::string> got;
  WaitUntil([&] {
    auto more = Events(*sub);
    got.insert(got.end(), more.begin(), more.end());
    return got.size() >= want.size();
  });
  EXPECT_EQ(got, want);
}

TEST_F(HashCommandsTest, AFieldWriteInvalidatesAWatch) {
  EXPECT_EQ(Cmd({"HSET", "h", "a", "1"}), ":1");
  EXPECT_EQ(Cmd({"WATCH", "h"}), "+OK");
  auto other = NewClient();
  EXPECT_EQ(other->Cmd({"HSET", "h", "a", "2"}), ":0");
  EXPECT_EQ(Cmd({"MULTI"}), "+OK");
  EXPECT_EQ(Cmd({"HGET", "h", "a"}), "+QUEUED");
  EXPECT_EQ(Cmd({"EXEC"}), "(nil)");
}

TEST_F(HashCommandsTest, HashesSurviveARestartWithTheirOrderAndEncoding) {
  KEEL_ONLY();
  EXPECT_EQ(Cmd({"HSET", "small", "z", "1", "a", "2"}), ":2");
  EXPECT_EQ(Cmd({"HSET", "large", "f", std::string(100, 'x')}), ":1");
  RestartServer();
  EXPECT_EQ(Cmd({"HGETALL", "small"}), "[z,1,a,2]");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "small"}), "listpack");
  EXPECT_EQ(Cmd({"OBJECT", "ENCODING", "large"}), "hashtable");
  EXPECT_EQ(Cmd({"HSTRLEN", "large", "f"}), ":100");
}

TEST_F(HashCommandsTest, CopyAndRenameCarryEveryField) {
  EXPECT_EQ(Cmd({"HSET", "h", "a", "1", "b", "2"}), ":2");
  EXPECT_EQ(Cmd({"COPY", "h", "h2"}), ":1");
  EXPECT_EQ(Cmd({"RENAME", "h", "h3"}), "+OK");
  EXPECT_EQ(Cmd({"HGETALL", "h2"}), "[a,1,b,2]");
  EXPECT_EQ(Cmd({"HGETALL", "h3"}), "[a,1,b,2]");
  EXPECT_EQ(Cmd({"HLEN", "h"}), ":0");
}

}  // namespace
}  // namespace keel::server::test
